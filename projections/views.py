"""What the read models answer, as JSON-ready dicts: status, portfolio, timeline, lessons, actions.

Conventions (the `--json` contract, SPEC §6): money is always
`{"amount": "8000.00", "currency": "EUR"}` (a decimal string in the
currency's minor units), dates are ISO strings, counts are ints, hours are
decimal strings. Anything that depends on the day (overdue, late, late fees,
what needs action) is computed here for the `today` given, never stored.

Every rule (overdue, balance, late fee, contract total, end date, hours budget) is the
model's function applied to row values (domain/model/balance.py, contracts.py, late_fees.py);
where SQL selects by a rule for speed (`portfolio`, `unmarked_late`, `actions`), the property
test tests/projections/test_rules_agree.py holds it to the model's function.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from domain.model.balance import balance, is_overdue
from domain.model.choices import DEFAULT_RESPONSE_DAYS
from domain.model.contracts import contract_total, current_end, hours_available, over_budget
from domain.model.currencies import minor_units
from domain.model.deadlines import answer_by
from domain.model.late_fees import days_late, published_fee, uses_rate_table
from domain.model.wording import counted
from projections.store import Reader

DEFAULT_CURRENCY = "EUR"
LIVE = ("in_force", "completed")


_QUANTUM: dict[str, Decimal] = {}


def money(amount: Decimal | str | int | None, currency: str | None) -> dict[str, str] | None:
    """The one JSON shape of money: {"amount": "8000.00", "currency": "EUR"}."""
    if amount is None or currency is None:
        return None
    return {"amount": str(Decimal(amount).quantize(_quantum(currency))), "currency": currency}


def _quantum(currency: str) -> Decimal:
    quantum = _QUANTUM.get(currency)
    if quantum is None:
        quantum = _QUANTUM[currency] = Decimal(1).scaleb(-minor_units(currency))
    return quantum


def _number(text: str | None) -> int:
    """K12 -> 12, so ids sort as people count."""
    digits = "".join(ch for ch in text or "" if ch.isdigit())
    return int(digits) if digits else 0


def _days_between(later: date, earlier: str | None) -> int | None:
    return None if earlier is None else (later - date.fromisoformat(earlier)).days


class PublishedTerms:
    """One version of a client's terms, read from the JSON the terms read model keeps.

    Plain JSON, not the domain's `Terms` model: `status` reads the late-fee rule and the
    response time without building pydantic models (the rule itself is domain/model/late_fees.py).
    """

    def __init__(self, data: str) -> None:
        self.data = json.loads(data)

    @property
    def response_days(self) -> int:
        return self.data.get("response_days", DEFAULT_RESPONSE_DAYS)

    def late_fee(self, outstanding: Decimal, currency: str, due: date, today: date) -> Decimal | None:
        return published_fee(self.data, outstanding, currency, due, today)


class TermsBook:
    """The terms of one stream by version (each parsed once per read)."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = {row["version"]: row for row in rows}
        self.parsed: dict[int, PublishedTerms] = {}

    def get(self, version: int | None) -> PublishedTerms | None:
        if version is None or version not in self.rows:
            return None
        if version not in self.parsed:
            self.parsed[version] = PublishedTerms(self.rows[version]["data"])
        return self.parsed[version]

    @property
    def latest_version(self) -> int | None:
        return max(self.rows) if self.rows else None

    def response_days(self) -> int:
        """The latest terms' response time."""
        terms = self.get(self.latest_version)
        return terms.response_days if terms is not None else DEFAULT_RESPONSE_DAYS


def invoice_view(row: dict[str, Any], terms: PublishedTerms | Callable[[], PublishedTerms | None] | None,
                 today: date) -> dict[str, Any]:
    """One invoice as of `today`; `terms` may be a callable, called only if a late fee is due."""
    currency = row["currency"]
    amount, paid = Decimal(row["amount"]), Decimal(row["paid"])
    outstanding = amount - paid
    due = date.fromisoformat(row["due"])
    overdue = is_overdue(due, outstanding, today)
    fee = None
    if overdue and callable(terms):
        terms = terms()
    if overdue and terms is not None:
        fee = money(terms.late_fee(outstanding, currency, due, today), currency)
    return {
        "number": row["number"], "contract": row["contract"], "installment": row["installment"],
        "change": row["change_id"], "concept": row["concept"] or "",
        "amount": money(amount, currency), "paid": money(paid, currency),
        "outstanding": money(outstanding, currency), "issued_on": row["issued_on"], "due": row["due"],
        "late": overdue, "days_late": days_late(due, today) if overdue else 0,
        "marked_late_on": row["late_since"], "reminders": row["reminders"],
        "last_reminder_on": row["last_reminder_on"],
        "late_fee": fee, "terms_version": row["terms_version"],
        **_taxes(row.get("billing"), amount, currency),
        "cancelled_on": json.loads(row["billing"]).get("cancelled_on") if row.get("billing") else None,
    }


def _taxes(billing_json: str | None, payable: Decimal, currency: str) -> dict[str, Any]:
    """An invoice's base, VAT, withholding, total and lines, corrective invoices included."""
    billing = json.loads(billing_json) if billing_json else {}
    issued = [billing, *billing.get("corrections", [])]
    base = sum((Decimal(rate["base"]) for b in issued for rate in b.get("taxes", [])), Decimal(0))
    vat = sum((Decimal(rate["vat"]) for b in issued for rate in b.get("taxes", [])), Decimal(0))
    withholding = sum((Decimal(b.get("withholding", "0")) for b in issued), Decimal(0))
    total = sum((Decimal(b["total"]) for b in issued if "total" in b), Decimal(0))
    return {
        "base": money(base, currency), "vat": money(vat, currency), "withholding": money(withholding, currency),
        "total": money(total, currency), "payable": money(payable, currency),
        "taxation": billing.get("taxation", "untaxed"), "lines": billing.get("lines", []),
        "corrections": [{"number": c["number"], "on": c["on"], "reason": c["reason"], "void": c["void"],
                         "payable": money(c["payable"], currency)} for c in billing.get("corrections", [])],
    }


def contract_view(row: dict[str, Any]) -> dict[str, Any]:
    currency = row["currency"]
    changes = Decimal(row["changes_total"]) if row["changes_total"] else None
    budget = row["hours_budget"]
    available = hours_available(None if budget is None else Decimal(budget), Decimal(row["extra_hours"]))
    end = current_end(date.fromisoformat(row["end_on"]), row["extra_days"] or 0)
    signatures = [
        {"party": party, "signer": row[f"signed_{party}_by"], "on": row[f"signed_{party}_on"],
         "method": row[f"signed_{party}_method"]}
        for party in ("us", "client") if row[f"signed_{party}_on"]
    ]
    return {
        "id": row["id"], "title": row["title"], "state": row["state"],
        "price": money(row["price"], currency), "approved_changes_total": money(changes or 0, currency),
        "total": money(contract_total(Decimal(row["price"]), changes), currency),
        "hours_budget": budget, "hours_available": None if available is None else str(available),
        "hours_logged": row["hours_logged"],
        "hours_over_budget": over_budget(Decimal(row["hours_logged"]), available),
        "start": row["start_on"], "end": end.isoformat(), "original_end": row["end_on"],
        "signed_by": [s["party"] for s in signatures], "signatures": signatures,
        "terms_version": row["terms_version"], "drafted_on": row["drafted_on"],
        "completed_on": row["completed_on"], "superseded_by": row["superseded_by"],
    }


def _balance(invoices: list[dict[str, Any]], currency: str) -> dict[str, Any]:
    owed = balance((Decimal(i["amount"]["amount"]), Decimal(i["paid"]["amount"]), i["late"])
                   for i in invoices if i["amount"]["currency"] == currency)
    return {"invoiced": money(owed.invoiced, currency), "paid": money(owed.paid, currency),
            "outstanding": money(owed.outstanding, currency), "overdue": money(owed.overdue, currency)}


def dated_after(reader: Reader, today: date, stream: str | None = None) -> bool:
    """Whether an event (of one relationship, or of any) is dated after `today` (ADR-26)."""
    if stream is None:
        sql, params = "SELECT stream FROM {t}relationships WHERE last_on > ? LIMIT 1", (today.isoformat(),)
    else:
        sql, params = "SELECT stream FROM {t}relationships WHERE stream = ? AND last_on > ?", (stream, today.isoformat())
    return reader.one(sql, params) is not None


def status(reader: Reader, stream: str, today: date) -> dict[str, Any] | None:
    r = reader.one("SELECT * FROM {t}relationships WHERE stream = ?", (stream,))
    if r is None:
        return None
    by_stream = (stream,)
    terms = TermsBook(reader.rows("SELECT * FROM {t}terms WHERE stream = ?", by_stream))
    contracts = sorted(reader.rows("SELECT * FROM {t}contracts WHERE stream = ?", by_stream),
                       key=lambda c: _number(c["id"]))
    states = {c["id"]: c["state"] for c in contracts}
    invoice_rows = sorted(reader.rows("SELECT * FROM {t}invoices WHERE stream = ?", by_stream),
                          key=lambda i: (i["issued_on"], i["number"]))
    invoices = [invoice_view(row, lambda v=row["terms_version"]: terms.get(v), today) for row in invoice_rows]
    by_number = {i["number"]: i for i in invoices}
    ended = r["state"] == "ended"
    installments = []
    for row in sorted(reader.rows("SELECT * FROM {t}installments WHERE stream = ?", by_stream),
                      key=lambda i: (_number(i["contract"]), i["n"])):
        if states.get(row["contract"]) == "superseded":
            continue
        invoice = by_number.get(row["invoice"]) if row["invoice"] else None
        if invoice is not None and (any(c["void"] for c in invoice["corrections"]) or invoice["cancelled_on"]):
            invoice = None  # its invoice was voided or cancelled: the installment is billable again
        if invoice is None:
            billable = states.get(row["contract"]) in LIVE and not ended
            state = "to_invoice" if billable and row["due"] <= today.isoformat() else "scheduled"
        else:  # paid in full, or more (a correction after the payment leaves a credit)
            state = "late" if invoice["late"] else "paid" if Decimal(invoice["outstanding"]["amount"]) <= 0 \
                else "invoiced"
        installments.append({
            "contract": row["contract"], "n": row["n"], "amount": money(row["amount"], row["currency"]),
            "percent": row["percent"], "due": row["due"], "invoice": row["invoice"],
            "paid": invoice["paid"] if invoice else money(0, row["currency"]),
            "late": bool(invoice and invoice["late"]), "state": state,
        })
    response_days = terms.response_days()
    changes = [{
        "id": c["id"], "contract": c["contract"], "description": c["description"], "state": c["state"],
        "requested_by": c["requested_by"], "requested_on": c["requested_on"],
        "price": money(c["price"], c["currency"]), "hours": c["hours"], "days": c["days"],
        "quoted_on": c["quoted_on"], "decided_on": c["decided_on"],
    } for c in sorted(reader.rows("SELECT * FROM {t}changes WHERE stream = ?", by_stream),
                      key=lambda c: _number(c["id"]))]
    mistakes = [mistake_view(m, response_days, today) for m in sorted(
        reader.rows("SELECT * FROM {t}mistakes WHERE stream = ?", by_stream), key=lambda m: _number(m["id"]))]
    currency = r["currency"] or DEFAULT_CURRENCY
    others = sorted({i["amount"]["currency"] for i in invoices} - {currency})
    current = next((c for c in contracts if c["id"] == r["current_contract"]), None)
    return {
        "handle": r["handle"], "name": r["name"], "email": r["email"], "tax_id": r["tax_id"],
        "address": r["address"], "country": r.get("country") or "", "state": r["state"], "opened_on": r["opened_on"], "as_of": today.isoformat(),
        "version": r["version"], "currency": currency,
        "terms_version": terms.latest_version,
        "contract": contract_view(current) if current else None,
        "contracts": [contract_view(c) for c in contracts],
        "balance": _balance(invoices, currency),
        "other_balances": [{"currency": c, **_balance(invoices, c)} for c in others],
        "installments": installments, "invoices": invoices, "changes": changes, "mistakes": mistakes,
        "open_changes": r["open_changes"], "open_mistakes": r["open_mistakes"],
        "sent": sent_documents(reader, stream),
        "follow_up": follow_up_view(reader, stream, terms.latest_version),
        "ended": None if not ended else {
            "on": r["ended_on"], "by": r["ended_by"], "reason": r["end_reason"],
            "outstanding": json.loads(r["end_outstanding"] or "[]"), "confidentiality": r["confidentiality"],
        },
    }


def follow_up_view(reader: Reader, stream: str, terms_version: int | None) -> dict[str, Any] | None:
    """The latest terms' follow-up schedule (None without one), and the steps sent so far."""
    schedule = None
    for row in reader.rows("SELECT * FROM {t}timeline WHERE stream = ? AND kind = ? ORDER BY version",
                           (stream, "FollowUpScheduled")):
        said = json.loads(row["said"])
        if said["version"] == terms_version:
            schedule = {"remind_before": said["before"], "remind_after": said["after"],
                        "chase_after": said["chase"], "since": row["occurred_on"]}
    if schedule is None:
        return None
    sent = [json.loads(row["said"]) for row in reader.rows(
        "SELECT * FROM {t}timeline WHERE stream = ? AND kind = ? ORDER BY version", (stream, "FollowUpSent"))]
    return schedule | {"sent": [{"about": s["about"], "step": s["step"], "tone": s["tone"],
                                 "scheduled_on": s["scheduled_on"], "to": s["to"], "server_reply": s["reply"]}
                                for s in sent]}


def sent_documents(reader: Reader, stream: str) -> list[dict[str, Any]]:
    """The documents emailed from tratos, oldest first: what, when, to whom, the server's acceptance."""
    rows = reader.rows("SELECT * FROM {t}timeline WHERE stream = ? AND kind = ? ORDER BY version",
                       (stream, "DocumentSent"))
    sent = []
    for row in rows:
        said = json.loads(row["said"])
        sent.append({"on": row["occurred_on"], "kind": said["kind"], "id": said["document"],
                     "to": said["to"], "cc": said["cc"], "subject": said["subject"],
                     "message_id": said["message_id"], "sent_at": said["sent_at"],
                     "server_reply": said["reply"], "eml_sha256": said["sha"]})
    return sent


def mistake_view(m: dict[str, Any], response_days: int, today: date) -> dict[str, Any]:
    options = json.loads(m["options"] or "{}")
    waited = m["days_to_acknowledge"] if m["acknowledged_on"] else _days_between(today, m["reported_on"])
    return {
        "id": m["id"], "contract": m["contract"], "description": m["description"], "state": m["state"],
        "reported_by": m["reported_by"], "reported_on": m["reported_on"],
        "acknowledged_on": m["acknowledged_on"], "acknowledged_after_days": m["days_to_acknowledge"],
        "acknowledged_late": waited is not None and waited > response_days,
        "apology": m["apology"], "fault": m["fault"], "cause": m["cause"], "category": m["category"],
        "diagnosed_on": m["diagnosed_on"],
        "options": [{"id": key, **value} for key, value in sorted(options.items(), key=lambda o: _number(o[0]))],
        "chosen": m["chosen"], "agreed": None if m["agreed"] is None else bool(m["agreed"]),
        "resolved_on": m["resolved_on"], "resolved_after_days": m["days_to_resolve"], "lesson": m["lesson"],
        "answer_by": answer_by(date.fromisoformat(m["reported_on"]), response_days).isoformat(),
    }


def portfolio(reader: Reader, today: date) -> list[dict[str, Any]]:
    """Every client on one line, from the `relationships` rows plus the open invoices not yet due.

    Overdue = outstanding - what is owed on invoices not due yet, never negative: the arrears less
    what the client paid above an invoice (`domain.model.balance.balance`), so the second query
    only reads the few recent invoices, not the arrears.
    """
    not_due: dict[tuple[str, str], Decimal] = {}
    for stream, currency, amount, paid in reader.tuples(
            "SELECT stream, currency, amount, paid FROM {t}invoices WHERE open = 1 AND due >= ?",
            (today.isoformat(),)):
        not_due[stream, currency] = not_due.get((stream, currency), 0) + Decimal(amount) - Decimal(paid)
    result = []
    zero = Decimal(0)
    quanta: dict[str, Decimal] = {}
    for (handle, name, state, stream, contract, stored_currency, total_text, invoiced_text, paid_text,
         other_balances, open_changes, open_mistakes, ended_on) in reader.tuples(
            "SELECT handle, name, state, stream, current_contract, currency, contract_total, invoiced, paid,"
            " other_balances, open_changes, open_mistakes, ended_on FROM {t}relationships ORDER BY handle"):
        currency = stored_currency or DEFAULT_CURRENCY
        quantum = quanta.get(currency) or quanta.setdefault(currency, _quantum(currency))
        invoiced = Decimal(invoiced_text) if invoiced_text else zero
        paid = Decimal(paid_text) if paid_text else zero
        outstanding = invoiced - paid
        overdue = max(outstanding - not_due.get((stream, currency), zero), zero)
        result.append({
            "handle": handle, "name": name, "state": state, "contract": contract,
            "contract_total": None if total_text is None or stored_currency is None else
            {"amount": str(Decimal(total_text).quantize(quantum)), "currency": currency},
            "invoiced": {"amount": str(invoiced.quantize(quantum)), "currency": currency},
            "paid": {"amount": str(paid.quantize(quantum)), "currency": currency},
            "outstanding": {"amount": str(outstanding.quantize(quantum)), "currency": currency},
            "overdue": {"amount": str(overdue.quantize(quantum)), "currency": currency},
            "other_outstanding": _other_outstanding(other_balances) if other_balances else [],
            "open_changes": open_changes, "open_mistakes": open_mistakes, "ended_on": ended_on,
        })
    return result


def _other_outstanding(balances: str) -> list[dict[str, str] | None]:
    """What is owed in currencies other than the contract's, from the row's JSON balances."""
    return [money(Decimal(v["invoiced"]) - Decimal(v["paid"]), c) for c, v in sorted(json.loads(balances).items())
            if Decimal(v["invoiced"]) != Decimal(v["paid"])]


def timeline(reader: Reader, stream: str) -> list[dict[str, Any]]:
    """The relationship's events, oldest first, each with what it said (`projections.sentences`
    words it in a language)."""
    return [
        {"version": row["version"], "occurred_on": row["occurred_on"], "recorded_at": row["recorded_at"],
         "kind": row["kind"], "actor": row["actor"], "ref": row["ref"], "said": json.loads(row["said"])}
        for row in reader.rows("SELECT * FROM {t}timeline WHERE stream = ? ORDER BY version", (stream,))
    ]


def lessons(reader: Reader) -> list[dict[str, Any]]:
    """Lessons by mistake category; a category seen in two or more mistakes is flagged recurring."""
    counts = {row["category"]: row["n"] for row in reader.rows(
        "SELECT category, COUNT(*) AS n FROM {t}mistakes WHERE category IS NOT NULL AND category <> ''"
        " GROUP BY category")}
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in reader.rows("SELECT * FROM {t}lessons ORDER BY recorded_on, handle, mistake"):
        groups.setdefault(row["category"] or "", []).append({
            "handle": row["handle"], "mistake": row["mistake"], "fault": row["fault"],
            "description": row["description"], "lesson": row["lesson"], "recorded_on": row["recorded_on"],
        })
    for category, count in counts.items():
        if count >= 2:
            groups.setdefault(category, [])
    result = [{
        "category": category or "uncategorised", "mistakes": counts.get(category, 0),
        "recurring": counts.get(category, 0) >= 2, "lessons": items,
    } for category, items in groups.items()]
    result.sort(key=lambda g: (not g["recurring"], -g["mistakes"], g["category"]))
    return result


def unmarked_late(reader: Reader, today: date) -> list[dict[str, Any]]:
    """Invoices past due, not fully paid, not yet marked late."""
    return [{"handle": row["handle"], "invoice": row["number"]} for row in reader.rows(
        "SELECT r.handle, i.number FROM {t}invoices i JOIN {t}relationships r ON r.stream = i.stream"
        " WHERE i.open = 1 AND i.due < ? AND i.late_since IS NULL ORDER BY r.handle, i.number",
        (today.isoformat(),))]


def rate_table_clients(reader: Reader) -> list[str]:
    """The clients some of whose terms claim statutory interest at the half-year table's rate
    (`late_fees.uses_rate_table`), if the relationship goes on or still has an invoice open."""
    rows = reader.rows(
        "SELECT DISTINCT r.handle, t.data FROM {t}terms t JOIN {t}relationships r ON r.stream = t.stream"
        " WHERE r.state != 'ended' OR EXISTS (SELECT 1 FROM {t}invoices i WHERE i.stream = r.stream AND i.open = 1)"
        " ORDER BY r.handle")
    return sorted({row["handle"] for row in rows if uses_rate_table(json.loads(row["data"]))})


def actions(reader: Reader, today: date) -> list[dict[str, Any]]:
    """What needs the freelancer's action on `today`, across all clients."""
    day = today.isoformat()
    result: list[dict[str, Any]] = []
    terms_cache: dict[tuple[str, int], PublishedTerms] = {}

    def terms_of(stream: str, version: int | None) -> PublishedTerms | None:
        if version is None:
            return None
        if (stream, version) not in terms_cache:
            row = reader.one("SELECT data FROM {t}terms WHERE stream = ? AND version = ?", (stream, version))
            if row is None:
                return None
            terms_cache[stream, version] = PublishedTerms(row["data"])
        return terms_cache[stream, version]

    for row in reader.rows(
        "SELECT i.*, r.handle FROM {t}invoices i JOIN {t}relationships r ON r.stream = i.stream"
        " WHERE i.open = 1 AND i.due < ? ORDER BY r.handle, i.due, i.number", (day,)
    ):
        invoice = invoice_view(row, terms_of(row["stream"], row["terms_version"]), today)
        fee = invoice["late_fee"]
        result.append({
            "handle": row["handle"], "kind": "late_payment", "ref": row["number"], "date": row["due"],
            "amount": invoice["outstanding"], "late_fee": fee, "days": invoice["days_late"],
            "detail": f"{invoice['outstanding']['amount']} {row['currency']} unpaid,"
                      f" {counted(invoice['days_late'], 'day')} late" + (f", late fee {fee['amount']} {fee['currency']}"
                                                              if fee else ""),
        })
    for row in reader.rows(
        "SELECT s.*, r.handle FROM {t}installments s JOIN {t}relationships r ON r.stream = s.stream"
        " JOIN {t}contracts c ON c.stream = s.stream AND c.id = s.contract"
        " WHERE s.invoice IS NULL AND s.due <= ? AND c.state IN ('in_force', 'completed')"
        " AND r.state <> 'ended' ORDER BY r.handle, s.due, s.contract, s.n", (day,)
    ):
        result.append({
            "handle": row["handle"], "kind": "to_invoice", "ref": f"{row['contract']}/{row['n']}",
            "date": row["due"], "amount": money(row["amount"], row["currency"]), "late_fee": None,
            "days": _days_between(today, row["due"]),
            "detail": f"installment {row['n']} of {row['contract']} billable since {row['due']}:"
                      f" tratos invoice issue {row['handle']} --installment {row['n']}",
        })
    for row in reader.rows(
        "SELECT c.*, r.handle FROM {t}changes c JOIN {t}relationships r ON r.stream = c.stream"
        " WHERE c.state IN ('requested', 'quoted') AND r.state <> 'ended' ORDER BY r.handle, c.requested_on, c.id"
    ):
        quoted = row["state"] == "quoted"
        result.append({
            "handle": row["handle"], "kind": "change_awaiting_approval" if quoted else "change_to_quote",
            "ref": row["id"], "date": row["quoted_on"] if quoted else row["requested_on"],
            "amount": money(row["price"], row["currency"]), "late_fee": None,
            "days": _days_between(today, row["quoted_on"] if quoted else row["requested_on"]),
            "detail": (f"quoted at {row['price']} {row['currency']}, waiting for the client's approval"
                       if quoted else f"requested on {row['requested_on']}, not quoted yet")
                      + f": {row['description']}",
        })
    for row in reader.rows(
        "SELECT m.*, r.handle, r.terms_version AS latest_terms FROM {t}mistakes m"
        " JOIN {t}relationships r ON r.stream = m.stream"
        " WHERE m.state = 'reported' AND r.state <> 'ended' ORDER BY r.handle, m.reported_on, m.id"
    ):
        terms = terms_of(row["stream"], row["latest_terms"])
        response_days = terms.response_days if terms is not None else DEFAULT_RESPONSE_DAYS
        waited = _days_between(today, row["reported_on"]) or 0
        if waited > response_days:
            result.append({
                "handle": row["handle"], "kind": "mistake_not_acknowledged", "ref": row["id"],
                "date": row["reported_on"], "amount": None, "late_fee": None, "days": waited,
                "detail": f"reported {counted(waited, 'day')} ago, the terms promise an answer within"
                          f" {response_days}: {row['description']}",
            })
    for row in reader.rows(
        "SELECT c.*, r.handle FROM {t}contracts c JOIN {t}relationships r ON r.stream = c.stream"
        " WHERE c.state = 'in_force' AND r.state <> 'ended' ORDER BY r.handle, c.id"
    ):
        end = current_end(date.fromisoformat(row["end_on"]), row["extra_days"] or 0)
        if end < today:
            result.append({
                "handle": row["handle"], "kind": "contract_past_end", "ref": row["id"], "date": end.isoformat(),
                "amount": None, "late_fee": None, "days": (today - end).days,
                "detail": f"{row['title']} ended on {end}: complete it or agree an extension as a change",
            })
    return result
