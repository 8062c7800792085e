"""One sentence per event, for `tratos timeline` and the dossier alike.

An event's sentence is the catalog text `event.<Kind>` (documents/locale, ADR-23) filled with
what the event says. `said(event)` picks that from the event as JSON-ready values when it is
projected: the timeline read model stores them, in no language. `describe` words them at
read time with a `documents.i18n.Formatter` (passed in: projections import nothing from
documents, and reading builds no pydantic model). Sides are stored as `us`/`client` and named
by the reader: the freelancer's name may change after the event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

from markupsafe import Markup

from domain.model.texts import visible


def N_(key: str) -> str:
    """Marks a key for extraction (`make messages`): it is chosen by the event's type."""
    return key


SENTENCES = (
    N_("event.RelationshipOpened"), N_("event.TermsPublished"), N_("event.ContractDrafted"),
    N_("event.ContractSigned"), N_("event.ContractCompleted"), N_("event.ChangeRequested"),
    N_("event.ChangeQuoted"), N_("event.ChangeApproved"), N_("event.ChangeRejected"),
    N_("event.ChangeWithdrawn"), N_("event.MistakeReported"), N_("event.MistakeAcknowledged"),
    N_("event.MistakeDiagnosed"), N_("event.RemedyProposed"), N_("event.RemedyChosen"),
    N_("event.MistakeResolved"), N_("event.LessonRecorded"), N_("event.InvoiceIssued"),
    N_("event.PaymentReceived"), N_("event.PaymentLate"), N_("event.ReminderSent"), N_("event.InvoiceCancelled"),
    N_("event.HoursLogged"), N_("event.NoteRecorded"), N_("event.DocumentIssued"),
    N_("event.RelationshipEnded"), N_("event.InvoiceCorrected"), N_("event.ClientDetailsChanged"),
    N_("event.AnchorTimestamped"),
    N_("event.DocumentSent"), N_("event.MessageReceived"), N_("event.MessageSent"),
    N_("tone.friendly"), N_("tone.firm"), N_("tone.final"), N_("tone.chase"),
    N_("event.FollowUpScheduled"), N_("event.FollowUpClaimed"), N_("event.FollowUpSent"), N_("event.FollowUpFailed"),
)

# ---------------------------------------------------------------- what an event says (projection)

_SIDES = ("requested_by", "reported_by", "ended_by", "party")
_IDS = {"contract": "contract_id", "change": "change_id", "mistake": "mistake_id",
        "option": "option_id", "invoice": "invoice_number", "description": "description"}


def _money(value: Any) -> dict[str, str] | None:
    return None if value is None else {"amount": str(value.amount), "currency": value.currency}


def _decimal(value: Decimal | None) -> str | None:
    return str(value) if value else None


def _terms(e: Any) -> dict[str, Any]:
    fee = e.terms.late_fee
    return {"version": e.terms_version, "payment_days": e.terms.payment_days,
            "late_fee": {"kind": fee.kind, "fixed": _money(fee.fixed),
                         "percent": None if fee.percent is None else str(fee.percent)},
            "reference_rate": None if e.terms.reference_rate is None else str(e.terms.reference_rate)}


def _filed(e: Any) -> dict[str, Any]:
    return {"from": e.sender, "to": list(e.to), "subject": e.subject, "message_id": e.message_id,
            "sent_at": e.sent_at.isoformat() if e.sent_at else None, "attachments": len(e.evidence) - 1,
            "sha": e.evidence[0].sha256}


_FACTS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "RelationshipOpened": lambda e: {"client": e.client.name},
    "TermsPublished": _terms,
    "ContractDrafted": lambda e: {"title": e.title, "price": _money(e.price),
                                  "start": e.start.isoformat(), "end": e.end.isoformat()},
    "ContractSigned": lambda e: {"signer": e.signer, "method": e.method},
    "ChangeQuoted": lambda e: {"price": _money(e.price), "hours": _decimal(e.hours), "days": e.days or None},
    "MistakeDiagnosed": lambda e: {"fault": e.fault, "cause": e.cause},
    "RemedyProposed": lambda e: {"cost": _money(e.cost) if e.cost and e.cost.is_positive else None,
                                 "hours": _decimal(e.hours)},
    "RemedyChosen": lambda e: {"agreed": bool(e.agreed)},
    "LessonRecorded": lambda e: {"lesson": e.lesson},
    "InvoiceIssued": lambda e: {"amount": _money(e.amount), "due": e.due.isoformat()},
    "PaymentReceived": lambda e: {"amount": _money(e.amount)},
    "InvoiceCorrected": lambda e: {"amount": _money(e.amount), "corrects": e.corrects, "reason": e.reason},
    "ClientDetailsChanged": lambda e: {"client": e.client.name, "tax_id": e.client.tax_id,
                                       "country": e.client.country},
    "PaymentLate": lambda e: {"outstanding": _money(e.outstanding), "due": e.due.isoformat()},
    "ReminderSent": lambda e: {"days": e.days_late, "late_fee": _money(e.late_fee)},
    "HoursLogged": lambda e: {"hours": str(e.hours), "note": e.note or ""},
    "NoteRecorded": lambda e: {"text": e.text},
    "DocumentIssued": lambda e: {"kind": e.kind, "document": e.document_id, "sha": e.sha256[:16],
                                 "version": e.chain_version},
    "DocumentSent": lambda e: {"kind": e.kind, "document": e.document_id, "to": list(e.to), "cc": list(e.cc),
                               "subject": e.subject, "message_id": e.message_id,
                               "sent_at": e.sent_at.isoformat(), "reply": e.server_reply,
                               "sha": e.evidence[0].sha256 if e.evidence else ""},
    "MessageReceived": lambda e: _filed(e),
    "MessageSent": lambda e: _filed(e),
    "FollowUpScheduled": lambda e: {"version": e.terms_version, "before": list(e.remind_before),
                                    "after": list(e.remind_after), "chase": e.chase_after},
    "FollowUpClaimed": lambda e: {"about": e.about, "step": e.step, "scheduled_on": e.scheduled_on.isoformat()},
    "FollowUpSent": lambda e: {"about": e.about, "step": e.step, "scheduled_on": e.scheduled_on.isoformat(),
                               "tone": e.tone, "to": list(e.to), "reply": e.server_reply,
                               "message_id": e.message_id, "sha": e.evidence[0].sha256},
    "FollowUpFailed": lambda e: {"about": e.about, "step": e.step, "reason": e.reason},
    "RelationshipEnded": lambda e: {"reason": e.reason},
    "AnchorTimestamped": lambda e: {"version": e.chain_version, "sha": e.chain_digest[:16],
                                    "authority": e.authority, "time": e.timestamped_at.isoformat()},
}


def said(event: Any) -> dict[str, Any]:
    """What `event`'s sentence says, as JSON-ready values in no language (money as amount and
    currency, dates ISO, sides as `us`/`client`)."""
    values: dict[str, Any] = {}
    sides, ids, facts = _shape(type(event))
    side = next((value for value in map(event.__getattribute__, sides) if value), None)
    if side:
        values["side"] = side
    for name, field in ids:
        value = getattr(event, field)
        if value:
            values[name] = value
    return values | facts(event) if facts else values


@cache
def _shape(cls: type) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...], Callable[[Any], dict] | None]:
    """The fields of `cls` that `said` reads, found once per class: a rebuild projects a million
    events, and asking a pydantic event for a field it lacks raises and catches each time."""
    fields = cls.model_fields
    return (tuple(f for f in _SIDES if f in fields),
            tuple((name, f) for name, f in _IDS.items() if f in fields),
            _FACTS.get(cls.__name__))


# ---------------------------------------------------------------- its words (read time)


class _Amount(NamedTuple):
    amount: Decimal
    currency: str


class _Fee(NamedTuple):
    kind: str
    fixed: _Amount | None
    percent: Decimal | None


def _amount(value: dict[str, str] | None) -> _Amount | None:
    return None if value is None else _Amount(Decimal(value["amount"]), value["currency"])


def _number(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def prose(text: Any) -> Any:
    """A multi-line text (a note, a description, a cause, a lesson, a reason) as a document or a
    sentence lays it out (ADR-73): escaped as HTML, its line breaks and tabs kept (HTML makes
    each a space), every control, bidirectional control and invisible character written as its
    escape (\\u202e). The templates' `prose` filter; any other value is shown on one line
    (`documents.i18n.shown`)."""
    if not isinstance(text, str) or hasattr(text, "__html__"):
        return text
    return Markup.escape(visible(text, laid_out=True))


# The words of a sentence that hold prose (a multi-line text, ADR-26), by the event's kind.
_PROSE = {"ChangeRequested": ("description",), "MistakeReported": ("description",),
          "RemedyProposed": ("description",), "MistakeDiagnosed": ("cause",),
          "LessonRecorded": ("lesson",), "NoteRecorded": ("text",), "RelationshipEnded": ("reason",)}


def describe(kind: str, values: dict[str, Any], fmt: Any, names: dict[str, str]) -> Markup:
    """The sentence of an event of type `kind` that said `values`, in `fmt`'s language, every
    value escaped; `names` names the sides `us` and `client`."""
    side = names.get(values.get("side", ""), "")
    words: dict[str, Any] = {"side": side, "party": side} | {
        name: values.get(name, "") for name in _IDS}
    v = values
    if kind == "RelationshipOpened":
        words["client"] = v["client"]
    elif kind == "TermsPublished":
        fee = v["late_fee"]
        rule = _Fee(fee["kind"], _amount(fee["fixed"]),
                    None if fee["percent"] is None else Decimal(fee["percent"]))
        words |= {"version": v["version"], "payment_days": v["payment_days"],
                  "late_fee": fmt.late_fee_rule(rule, _number(v.get("reference_rate")))}
    elif kind == "ContractDrafted":
        words |= {"title": v["title"], "price": fmt.money(_amount(v["price"])),
                  "start": fmt.date(_date(v["start"])), "end": fmt.date(_date(v["end"]))}
    elif kind == "ContractSigned":
        words |= {"signer": v["signer"], "method": fmt.t(f"method.{v['method']}")}
    elif kind == "ChangeQuoted":
        extra = [fmt.hours(Decimal(v["hours"]))] if v["hours"] else []
        extra += [f"+{fmt.days(v['days'])}"] if v["days"] else []
        words |= {"price": fmt.money(_amount(v["price"])), "extra": "".join(f", {e}" for e in extra)}
    elif kind == "MistakeDiagnosed":
        words |= {"fault": fmt.t(f"fault.{v['fault']}"), "cause": v["cause"]}
    elif kind == "RemedyProposed":
        cost = fmt.money(_amount(v["cost"])) if v["cost"] else fmt.t("event.no_cost")
        words["cost"] = cost + (f", {fmt.hours(Decimal(v['hours']))}" if v["hours"] else "")
    elif kind == "RemedyChosen":
        words["agreed"] = fmt.t("event.agreed") if v["agreed"] else fmt.t("event.not_agreed")
    elif kind == "LessonRecorded":
        words["lesson"] = v["lesson"]
    elif kind in ("InvoiceIssued", "PaymentReceived"):
        words |= {"amount": fmt.money(_amount(v["amount"])), "due": fmt.date(_date(v.get("due")))}
    elif kind == "InvoiceCorrected":
        words |= {"amount": fmt.money(_amount(v["amount"])), "corrects": v["corrects"], "reason": v["reason"]}
    elif kind == "ClientDetailsChanged":
        words |= {"client": v["client"], "tax_id": v["tax_id"] or fmt.t("dash"), "country": v["country"] or "ES"}
    elif kind == "PaymentLate":
        words |= {"outstanding": fmt.money(_amount(v["outstanding"])), "due": fmt.date(_date(v["due"]))}
    elif kind == "ReminderSent":
        fee = fmt.t("event.fee", fee=fmt.money(_amount(v["late_fee"]))) if v["late_fee"] else ""
        words |= {"days": v["days"], "fee": fee}
    elif kind == "HoursLogged":
        words |= {"hours": fmt.hours(Decimal(v["hours"])), "note": Markup(": ") + prose(v["note"]) if v["note"] else ""}
    elif kind == "NoteRecorded":
        words["text"] = v["text"]
    elif kind == "DocumentIssued":
        words |= {"kind": fmt.labels.get(f"kind.{v['kind']}", v["kind"]), "document": v["document"],
                  "sha": v["sha"], "version": v["version"]}
    elif kind == "DocumentSent":
        words |= {"kind": fmt.labels.get(f"kind.{v['kind']}", v["kind"]), "document": v["document"],
                  "to": ", ".join(v["to"] + v["cc"]), "reply": v["reply"]}
    elif kind in ("MessageReceived", "MessageSent"):
        words |= {"sender": v["from"], "to": ", ".join(v["to"]), "subject": v["subject"],
                  "attachments": v["attachments"]}
    elif kind == "FollowUpScheduled":
        words |= {"version": v["version"], "before": ", ".join(map(str, v["before"])) or fmt.t("dash"),
                  "after": ", ".join(map(str, v["after"])) or fmt.t("dash"), "chase": v["chase"] or fmt.t("dash")}
    elif kind in ("FollowUpClaimed", "FollowUpSent", "FollowUpFailed"):
        words |= {"about": v["about"], "step": v["step"], "to": ", ".join(v.get("to", [])),
                  "reply": v.get("reply", ""), "reason": v.get("reason", ""),
                  "tone": fmt.t(f"tone.{v['tone']}") if "tone" in v else "",
                  "scheduled": fmt.date(_date(v.get("scheduled_on")))}
    elif kind == "RelationshipEnded":
        words["reason"] = v["reason"]
    elif kind == "AnchorTimestamped":
        words |= {"version": v["version"], "sha": v["sha"], "authority": v["authority"],
                  "time": fmt.moment(datetime.fromisoformat(v["time"]))}
    for name in _PROSE.get(kind, ()):
        words[name] = prose(words[name])
    return fmt.t(f"event.{kind}", **words)


def describe_event(event: Any, fmt: Any, names: dict[str, str]) -> Markup:
    """The sentence of `event` itself (the dossier reads events, not the read model)."""
    return describe(type(event).__name__, said(event), fmt, names)


def with_sentences(rows: Iterable[dict[str, Any]], fmt: Any, us: str) -> list[dict[str, Any]]:
    """The timeline read model's rows with each event's sentence as plain text, for the terminal:
    `us` is the freelancer's name, the client's is the one the relationship was opened with."""
    rows = list(rows)
    client = next((r["said"]["client"] for r in rows if r["kind"] == "RelationshipOpened"), "")
    names = {"us": us, "client": client}
    return [{key: value for key, value in row.items() if key != "said"}
            | {"sentence": describe(row["kind"], row["said"], fmt, names).unescape()} for row in rows]
