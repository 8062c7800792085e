"""How each event changes the read-model rows: pure functions over a `Batch` of rows.

The same code runs for the live read models (catch-up, rebuild) and for time
travel (a scratch store fed only the events up to a date), so `status --as-of`
and a store that only ever held those events cannot disagree. Handlers are
tolerant of a missing row (an event whose earlier context was filtered out by
date): they skip what they cannot apply rather than fail, identically on both
paths.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from domain.model import events as ev
from domain.model.contracts import contract_total
from domain.model.late_fees import governing_terms
from domain.model.money import minor_units
from domain.model.public_ids import public_id
from projections.schema import TABLES, TIMELINE
from projections.sentences import said
from projections.store import Batch

TIMELINE_COLUMNS = ("stream", "version", "occurred_on", "recorded_at", "kind", "actor", "ref", "said")
assert TIMELINE.columns == TIMELINE_COLUMNS, "project() writes timeline rows as tuples in this order"

Handler = Callable[[Any, Batch, str, dict[str, Any] | None], None]
HANDLERS: dict[type, Handler] = {}



def handles(event_class: type) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        HANDLERS[event_class] = function
        return function

    return register


# Existing rows an event needs besides its relationship and contracts: (table, event fields that,
# after the stream, make the row's key).
_LOOKUPS: dict[type, tuple[str, tuple[str, ...]]] = {
    ev.PaymentReceived: ("invoices", ("invoice_number",)),
    ev.InvoiceCorrected: ("invoices", ("corrects",)),
    ev.PaymentLate: ("invoices", ("invoice_number",)),
    ev.InvoiceCancelled: ("invoices", ("invoice_number",)),
    ev.ReminderSent: ("invoices", ("invoice_number",)),
    ev.ChangeQuoted: ("changes", ("change_id",)),
    ev.ChangeApproved: ("changes", ("change_id",)),
    ev.ChangeRejected: ("changes", ("change_id",)),
    ev.ChangeWithdrawn: ("changes", ("change_id",)),
    **{cls: ("mistakes", ("mistake_id",)) for cls in (
        ev.MistakeAcknowledged, ev.MistakeDiagnosed, ev.RemedyProposed, ev.RemedyChosen,
        ev.MistakeResolved, ev.LessonRecorded)},
}
_INSTALLMENT = ("installments", ("contract_id", "installment"))
# Events whose handlers read or change their relationship's contracts (the others need none loaded).
_WITH_CONTRACTS = frozenset({ev.ContractDrafted, ev.ContractSigned, ev.ContractCompleted, ev.HoursLogged,
                             ev.ChangeApproved, ev.InvoiceIssued})


def prefetch(batch: Batch, page: Sequence[tuple[Any, str]]) -> None:
    """Load, in a handful of queries, every existing row the page's (event, stream) pairs will touch.

    A stream whose first event is in the page has no rows yet (only its own events make them):
    nothing is read for it, which spares a query per new client and table.
    """
    streams: set[str] = set()
    new: set[str] = set()
    with_contracts: set[str] = set()
    needs: dict[str, set[tuple[Any, ...]]] = {}
    for event, stream in page:
        cls = type(event)
        streams.add(stream)
        if event.originator_version == 1:
            new.add(stream)
        if cls in _WITH_CONTRACTS:
            with_contracts.add(stream)
        lookup = _LOOKUPS.get(cls)
        if lookup is None and cls is ev.InvoiceIssued and event.installment is not None:
            lookup = _INSTALLMENT
        if lookup is not None:
            table, fields = lookup
            needs.setdefault(table, set()).add((stream, *(getattr(event, f) for f in fields)))
    if new:
        batch.known_empty(new)
    batch.load("relationships", streams)
    batch.load("contracts", with_contracts)  # all of them: a client has a few, and changes need theirs
    for table, keys in needs.items():
        batch.load_keys(table, TABLES[table].key, keys)


def project_page(batch: Batch, events: Iterable[Any]) -> None:
    """One page of events into `batch`: its rows loaded in a few queries, then each event applied
    (events of other aggregates, the invoice series, are ignored)."""
    page = [(event, event.originator_id.hex) for event in events if isinstance(event, ev.RelationshipEvent)]
    prefetch(batch, page)
    for event, stream in page:
        project(event, stream, batch)


def project(event: Any, stream: str, batch: Batch) -> None:
    """Apply one event of the relationship `stream` (hex) to the rows in `batch`."""
    relationship = batch.edit("relationships", stream)
    handler = HANDLERS.get(type(event))
    if handler is not None:
        handler(event, batch, stream, relationship)
        relationship = relationship or batch.get("relationships", stream)
    on = event.occurred_on.isoformat()
    if relationship is not None:
        relationship["version"] = event.originator_version
        # The latest business date of its events (not the last one's: a later event may be dated
        # earlier), so a read for today finds out cheaply whether anything is dated after it.
        relationship["last_on"] = max(relationship.get("last_on") or on, on)
    batch.timeline.append((  # the order of TIMELINE_COLUMNS
        stream, event.originator_version, on, event.timestamp.isoformat(),
        type(event).__name__, event.actor, public_id(event),
        json.dumps(said(event), ensure_ascii=False, separators=(",", ":")),
    ))


# ------------------------------------------------------------------ helpers


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _plus(total: str | None, amount: Decimal) -> str:
    return str(amount if total is None else Decimal(total) + amount)


def _zero(currency: str) -> str:
    return str(Decimal(0).scaleb(-minor_units(currency)))


def _add_balance(relationship: dict[str, Any], currency: str, field: str, amount: Decimal) -> None:
    """Invoiced or paid, in the relationship's currency; other currencies kept aside in JSON."""
    if relationship["currency"] is None:
        relationship["currency"] = currency
    if currency == relationship["currency"]:
        relationship[field] = _plus(relationship[field] or _zero(currency), amount)
        return
    others = json.loads(relationship["other_balances"] or "{}")
    entry = others.setdefault(currency, {"invoiced": _zero(currency), "paid": _zero(currency)})
    entry[field] = _plus(entry[field], amount)
    relationship["other_balances"] = json.dumps(others, sort_keys=True)


def _contract_total(contract: dict[str, Any]) -> str:
    changes = contract["changes_total"]
    return str(contract_total(Decimal(contract["price"]), Decimal(changes) if changes else None))


def _days(later: date, earlier: str | None) -> int | None:
    return None if earlier is None else (later - date.fromisoformat(earlier)).days


# ------------------------------------------------------------------ relationship


@handles(ev.RelationshipOpened)
def _opened(e: ev.RelationshipOpened, b: Batch, s: str, r: dict | None) -> None:
    b.add("relationships", {
        "stream": s, "handle": e.handle, "name": e.client.name, "email": e.client.email,
        "tax_id": e.client.tax_id, "address": e.client.address, "country": e.client.country, "state": "prospect",
        "opened_on": e.occurred_on.isoformat(), "open_changes": 0, "open_mistakes": 0,
    })


@handles(ev.ClientDetailsChanged)
def _client_changed(e: ev.ClientDetailsChanged, b: Batch, s: str, r: dict | None) -> None:
    if r is not None:
        r.update(name=e.client.name, email=e.client.email, tax_id=e.client.tax_id, address=e.client.address,
                 country=e.client.country)


@handles(ev.TermsPublished)
def _terms(e: ev.TermsPublished, b: Batch, s: str, r: dict | None) -> None:
    b.add("terms", {"stream": s, "version": e.terms_version, "published_on": e.occurred_on.isoformat(),
                    "data": e.terms.model_dump_json()})
    if r is not None:
        r["terms_version"] = max(r["terms_version"] or 0, e.terms_version)


@handles(ev.RelationshipEnded)
def _ended(e: ev.RelationshipEnded, b: Batch, s: str, r: dict | None) -> None:
    if r is None:
        return
    r.update(state="ended", ended_on=e.occurred_on.isoformat(), ended_by=e.ended_by, end_reason=e.reason,
             end_outstanding=json.dumps([m.model_dump(mode="json") for m in e.outstanding]),
             confidentiality=e.confidentiality)


# ------------------------------------------------------------------ contracts


@handles(ev.ContractDrafted)
def _drafted(e: ev.ContractDrafted, b: Batch, s: str, r: dict | None) -> None:
    if e.supersedes:
        old = b.edit("contracts", s, e.supersedes)
        if old is not None:
            old.update(state="superseded", superseded_by=e.contract_id)
    b.add("contracts", {
        "stream": s, "id": e.contract_id, "title": e.title, "state": "drafted",
        "price": str(e.price.amount), "currency": e.price.currency, "hours_budget": _text(e.hours_budget),
        "extra_hours": "0", "hours_logged": "0", "start_on": e.start.isoformat(),
        "end_on": e.end.isoformat(), "extra_days": 0, "terms_version": e.terms_version,
        "drafted_on": e.occurred_on.isoformat(),
    })
    for installment in e.installments:
        b.add("installments", {
            "stream": s, "contract": e.contract_id, "n": installment.n,
            "amount": str(installment.amount.amount), "currency": installment.amount.currency,
            "due": installment.due.isoformat(), "percent": _text(installment.percent),
        })
    if r is not None:
        r.update(current_contract=e.contract_id, contract_total=str(e.price.amount))
        if r["currency"] is None:
            r["currency"] = e.price.currency
        if r["state"] == "prospect":
            r["state"] = "drafted"


@handles(ev.ContractSigned)
def _signed(e: ev.ContractSigned, b: Batch, s: str, r: dict | None) -> None:
    contract = b.edit("contracts", s, e.contract_id)
    if contract is None:
        return
    contract.update({f"signed_{e.party}_by": e.signer, f"signed_{e.party}_on": e.occurred_on.isoformat(),
                     f"signed_{e.party}_method": e.method})
    if contract["signed_us_on"] and contract["signed_client_on"]:
        contract["state"] = "in_force"
        if r is not None and r["state"] != "ended":
            r["state"] = "active"
    else:
        contract["state"] = f"signed_by_{e.party}"


@handles(ev.ContractCompleted)
def _completed(e: ev.ContractCompleted, b: Batch, s: str, r: dict | None) -> None:
    contract = b.edit("contracts", s, e.contract_id)
    if contract is not None:
        contract.update(state="completed", completed_on=e.occurred_on.isoformat())


@handles(ev.HoursLogged)
def _hours(e: ev.HoursLogged, b: Batch, s: str, r: dict | None) -> None:
    contract = b.edit("contracts", s, e.contract_id)
    if contract is not None:
        contract["hours_logged"] = _plus(contract["hours_logged"], e.hours)


# ------------------------------------------------------------------ changes


@handles(ev.ChangeRequested)
def _requested(e: ev.ChangeRequested, b: Batch, s: str, r: dict | None) -> None:
    b.add("changes", {
        "stream": s, "id": e.change_id, "contract": e.contract_id, "description": e.description,
        "requested_by": e.requested_by, "requested_on": e.occurred_on.isoformat(), "state": "requested",
    })
    if r is not None:
        r["open_changes"] += 1


@handles(ev.ChangeQuoted)
def _quoted(e: ev.ChangeQuoted, b: Batch, s: str, r: dict | None) -> None:
    change = b.edit("changes", s, e.change_id)
    if change is not None:
        change.update(state="quoted", price=str(e.price.amount), currency=e.price.currency,
                      hours=_text(e.hours), days=e.days, quoted_on=e.occurred_on.isoformat())


def _decide(state: str, e: Any, b: Batch, s: str, r: dict | None) -> dict | None:
    change = b.edit("changes", s, e.change_id)
    if change is None:
        return None
    if change["state"] in ("requested", "quoted") and r is not None:
        r["open_changes"] -= 1
    change.update(state=state, decided_on=e.occurred_on.isoformat())
    return change


@handles(ev.ChangeApproved)
def _approved(e: ev.ChangeApproved, b: Batch, s: str, r: dict | None) -> None:
    change = _decide("approved", e, b, s, r)
    if change is None or change["price"] is None:
        return
    contract = b.edit("contracts", s, change["contract"])
    if contract is None:
        return
    contract["changes_total"] = _plus(contract["changes_total"], Decimal(change["price"]))
    contract["extra_hours"] = _plus(contract["extra_hours"], Decimal(change["hours"] or 0))
    contract["extra_days"] += change["days"] or 0
    if r is not None and r["current_contract"] == contract["id"]:
        r["contract_total"] = _contract_total(contract)


@handles(ev.ChangeRejected)
def _rejected(e: ev.ChangeRejected, b: Batch, s: str, r: dict | None) -> None:
    _decide("rejected", e, b, s, r)


@handles(ev.ChangeWithdrawn)
def _withdrawn(e: ev.ChangeWithdrawn, b: Batch, s: str, r: dict | None) -> None:
    _decide("withdrawn", e, b, s, r)


# ------------------------------------------------------------------ mistakes


@handles(ev.MistakeReported)
def _reported(e: ev.MistakeReported, b: Batch, s: str, r: dict | None) -> None:
    b.add("mistakes", {
        "stream": s, "id": e.mistake_id, "contract": e.contract_id, "description": e.description,
        "reported_by": e.reported_by, "reported_on": e.occurred_on.isoformat(), "state": "reported",
        "options": "{}",
    })
    if r is not None:
        r["open_mistakes"] += 1


@handles(ev.MistakeAcknowledged)
def _acknowledged(e: ev.MistakeAcknowledged, b: Batch, s: str, r: dict | None) -> None:
    mistake = b.edit("mistakes", s, e.mistake_id)
    if mistake is not None:
        mistake.update(state="acknowledged", acknowledged_on=e.occurred_on.isoformat(), apology=e.apology,
                       days_to_acknowledge=_days(e.occurred_on, mistake["reported_on"]))


@handles(ev.MistakeDiagnosed)
def _diagnosed(e: ev.MistakeDiagnosed, b: Batch, s: str, r: dict | None) -> None:
    mistake = b.edit("mistakes", s, e.mistake_id)
    if mistake is not None:
        mistake.update(state="diagnosed", fault=e.fault, cause=e.cause, category=e.category,
                       diagnosed_on=e.occurred_on.isoformat())


@handles(ev.RemedyProposed)
def _proposed(e: ev.RemedyProposed, b: Batch, s: str, r: dict | None) -> None:
    mistake = b.edit("mistakes", s, e.mistake_id)
    if mistake is None:
        return
    options = json.loads(mistake["options"] or "{}")
    options[e.option_id] = {
        "description": e.description, "proposed_on": e.occurred_on.isoformat(), "hours": _text(e.hours),
        "cost": e.cost.model_dump(mode="json") if e.cost is not None else None,
    }
    mistake.update(state="remedy_proposed", options=json.dumps(options, sort_keys=True))


@handles(ev.RemedyChosen)
def _chosen(e: ev.RemedyChosen, b: Batch, s: str, r: dict | None) -> None:
    mistake = b.edit("mistakes", s, e.mistake_id)
    if mistake is not None:
        mistake.update(state="remedy_chosen", chosen=e.option_id, agreed=int(e.agreed))


@handles(ev.MistakeResolved)
def _resolved(e: ev.MistakeResolved, b: Batch, s: str, r: dict | None) -> None:
    mistake = b.edit("mistakes", s, e.mistake_id)
    if mistake is None:
        return
    if mistake["state"] != "resolved" and r is not None:
        r["open_mistakes"] -= 1
    mistake.update(state="resolved", resolved_on=e.occurred_on.isoformat(),
                   days_to_resolve=_days(e.occurred_on, mistake["reported_on"]))


@handles(ev.LessonRecorded)
def _lesson(e: ev.LessonRecorded, b: Batch, s: str, r: dict | None) -> None:
    mistake = b.edit("mistakes", s, e.mistake_id)
    if mistake is not None:
        mistake["lesson"] = e.lesson
    mistake = mistake or {}
    b.add("lessons", {
        "stream": s, "mistake": e.mistake_id, "handle": r["handle"] if r else None,
        "category": mistake.get("category") or "", "fault": mistake.get("fault"), "lesson": e.lesson,
        "recorded_on": e.occurred_on.isoformat(), "description": mistake.get("description"),
    })


# ------------------------------------------------------------------ money


@handles(ev.InvoiceIssued)
def _invoiced(e: ev.InvoiceIssued, b: Batch, s: str, r: dict | None) -> None:
    contract = b.get("contracts", s, e.contract_id)
    terms_version = governing_terms(contract["terms_version"] if contract else None,
                                    r["terms_version"] if r is not None else None)
    b.add("invoices", {
        "stream": s, "number": e.invoice_number, "contract": e.contract_id,
        "amount": str(e.amount.amount), "currency": e.amount.currency, "paid": _zero(e.amount.currency),
        "open": 1 if e.amount.is_positive else 0, "issued_on": e.occurred_on.isoformat(),
        "due": e.due.isoformat(), "installment": e.installment, "change_id": e.change_id,
        "concept": e.concept, "terms_version": terms_version, "reminders": 0, "billing": _billing(e),
    })
    if e.installment is not None:
        installment = b.edit("installments", s, e.contract_id, e.installment)
        if installment is not None:
            installment["invoice"] = e.invoice_number
    if r is not None:
        _add_balance(r, e.amount.currency, "invoiced", e.amount.amount)


@handles(ev.InvoiceCorrected)
def _corrected(e: ev.InvoiceCorrected, b: Batch, s: str, r: dict | None) -> None:
    invoice = b.edit("invoices", s, e.corrects)
    if invoice is None:
        return
    billing = json.loads(invoice["billing"])
    billing.setdefault("corrections", []).append({**json.loads(_billing(e)), "number": e.invoice_number,
                                                  "on": e.occurred_on.isoformat(), "reason": e.reason,
                                                  "void": e.void, "payable": str(e.amount.amount)})
    invoice["amount"] = _plus(invoice["amount"], e.amount.amount)
    invoice["billing"] = json.dumps(billing, sort_keys=True)
    invoice["open"] = 1 if Decimal(invoice["paid"]) < Decimal(invoice["amount"]) else 0
    if r is not None:
        _add_balance(r, e.amount.currency, "invoiced", e.amount.amount)


def _billing(e: ev.Billed) -> str:
    """What status shows of an invoice's taxes: lines, base and VAT per rate, withholding, total."""
    return json.dumps({
        "taxation": e.taxation, "exemption": e.exemption, "withholding_rate": str(e.withholding_rate),
        "withholding": str(e.withholding.amount), "total": str(e.total.amount),
        "taxes": [{"rate": str(t.rate), "base": str(t.base.amount), "vat": str(t.vat.amount)} for t in e.taxes],
        "lines": [{"description": x.description, "quantity": str(x.quantity), "unit_price": str(x.unit_price.amount),
                   "vat_rate": str(x.vat_rate)} for x in e.lines],
    }, sort_keys=True)


@handles(ev.PaymentReceived)
def _paid(e: ev.PaymentReceived, b: Batch, s: str, r: dict | None) -> None:
    invoice = b.edit("invoices", s, e.invoice_number)
    if invoice is None:
        return
    invoice["paid"] = _plus(invoice["paid"], e.amount.amount)
    invoice["open"] = 1 if Decimal(invoice["paid"]) < Decimal(invoice["amount"]) else 0
    if r is not None:
        _add_balance(r, e.amount.currency, "paid", e.amount.amount)


@handles(ev.InvoiceCancelled)
def _cancelled(e: ev.InvoiceCancelled, b: Batch, s: str, r: dict | None) -> None:
    """Issued in error, its billing record cancelled: void, it owes nothing and counts in no balance (ADR-66)."""
    invoice = b.edit("invoices", s, e.invoice_number)
    if invoice is None:
        return
    billing = json.loads(invoice["billing"])
    billing["cancelled_on"] = e.occurred_on.isoformat()
    if r is not None:
        _add_balance(r, invoice["currency"], "invoiced", -Decimal(invoice["amount"]))
    invoice.update(amount=_zero(invoice["currency"]), open=0, billing=json.dumps(billing, sort_keys=True))


@handles(ev.PaymentLate)
def _late(e: ev.PaymentLate, b: Batch, s: str, r: dict | None) -> None:
    invoice = b.edit("invoices", s, e.invoice_number)
    if invoice is not None:
        invoice.update(late_since=e.occurred_on.isoformat(), late_outstanding=str(e.outstanding.amount))


@handles(ev.ReminderSent)
def _reminded(e: ev.ReminderSent, b: Batch, s: str, r: dict | None) -> None:
    invoice = b.edit("invoices", s, e.invoice_number)
    if invoice is not None:
        invoice.update(reminders=invoice["reminders"] + 1, last_reminder_on=e.occurred_on.isoformat(),
                       last_reminder_fee=e.late_fee.model_dump_json() if e.late_fee else None)
