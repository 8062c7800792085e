"""One plain sentence per recorded event, for the dossier's full timeline."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from documents.i18n import EVENTS, Formatter


def describe_event(event: Any, fmt: Formatter, names: dict[str, str]) -> Markup:
    """What `event` recorded, in the formatter's language; `names` maps `us`/`client` to names."""
    kind = type(event).__name__
    sentences = EVENTS[fmt.lang]
    values = _values(event, fmt, names, sentences)
    return Markup(sentences[kind]).format(**values)


def _values(event: Any, fmt: Formatter, names: dict[str, str], sentences: dict[str, str]) -> dict[str, Any]:
    side = names.get(getattr(event, "requested_by", "") or getattr(event, "reported_by", "")
                     or getattr(event, "ended_by", "") or getattr(event, "party", ""), "")
    values: dict[str, Any] = {
        "side": side, "party": side,
        "contract": getattr(event, "contract_id", "") or "",
        "change": getattr(event, "change_id", ""),
        "mistake": getattr(event, "mistake_id", ""),
        "option": getattr(event, "option_id", ""),
        "invoice": getattr(event, "invoice_number", ""),
        "description": getattr(event, "description", ""),
    }
    kind = type(event).__name__
    if kind == "RelationshipOpened":
        values["client"] = event.client.name
    elif kind == "TermsPublished":
        values |= {"version": event.terms_version, "payment_days": event.terms.payment_days,
                   "late_fee": fmt.late_fee_rule(event.terms.late_fee, event.terms.reference_rate)}
    elif kind == "ContractDrafted":
        values |= {"title": event.title, "price": fmt.money(event.price),
                   "start": fmt.date(event.start), "end": fmt.date(event.end)}
    elif kind == "ContractSigned":
        values |= {"signer": event.signer, "method": fmt.t(f"method.{event.method}")}
    elif kind == "ChangeQuoted":
        extra = [fmt.hours(event.hours)] if event.hours else []
        extra += [f"+{fmt.days(event.days)}"] if event.days else []
        values |= {"price": fmt.money(event.price), "extra": "".join(f", {e}" for e in extra)}
    elif kind == "MistakeDiagnosed":
        values |= {"fault": fmt.t(f"fault.{event.fault}"), "cause": event.cause}
    elif kind == "RemedyProposed":
        cost = fmt.money(event.cost) if event.cost and event.cost.is_positive else sentences["no_cost"]
        values["cost"] = cost + (f", {fmt.hours(event.hours)}" if event.hours else "")
    elif kind == "RemedyChosen":
        values["agreed"] = sentences["agreed" if event.agreed else "not_agreed"]
    elif kind == "LessonRecorded":
        values["lesson"] = event.lesson
    elif kind in ("InvoiceIssued", "PaymentReceived"):
        values |= {"amount": fmt.money(event.amount), "due": fmt.date(getattr(event, "due", None))}
    elif kind == "PaymentLate":
        values |= {"outstanding": fmt.money(event.outstanding), "due": fmt.date(event.due)}
    elif kind == "ReminderSent":
        fee = Markup(sentences["fee"]).format(fee=fmt.money(event.late_fee)) if event.late_fee else ""
        values |= {"days": event.days_late, "fee": fee}
    elif kind == "HoursLogged":
        values |= {"hours": fmt.hours(event.hours), "note": f": {event.note}" if event.note else ""}
    elif kind == "NoteRecorded":
        values["text"] = event.text
    elif kind == "DocumentIssued":
        label = f"kind.{event.kind}"
        values |= {"kind": fmt.labels.get(label, event.kind), "document": event.document_id,
                   "sha": event.sha256[:16], "version": event.chain_version}
    elif kind == "RelationshipEnded":
        values["reason"] = event.reason
    return values
