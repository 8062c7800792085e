"""One plain English sentence per event, for the timeline (and the dossier built from it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.model import events as ev

_SIDE = {"us": "us", "client": "the client"}


def _money(value: Any) -> str:
    return f"{value.amount} {value.currency}" if value is not None else ""


def _side(side: str) -> str:
    return _SIDE.get(side, side)


def _evidence(e: Any) -> str:
    count = len(getattr(e, "evidence", ()) or ())
    return f" ({count} evidence file{'s' if count > 1 else ''})" if count else ""


def _change_quote(e: ev.ChangeQuoted) -> str:
    parts = [_money(e.price)]
    if e.hours is not None:
        parts.append(f"{e.hours} h")
    if e.days is not None:
        parts.append(f"{e.days} more day{'s' if e.days != 1 else ''}")
    return f"Change {e.change_id} quoted: {', '.join(parts)}"


def _drafted(e: ev.ContractDrafted) -> str:
    text = (f"Contract {e.contract_id} drafted: {e.title}, {_money(e.price)}, {e.start} to {e.end},"
            f" {len(e.installments)} installment{'s' if len(e.installments) != 1 else ''}")
    return text + (f"; it supersedes {e.supersedes}" if e.supersedes else "")


def _terms(e: ev.TermsPublished) -> str:
    t = e.terms
    text = f"Terms v{e.terms_version} published: pay within {t.payment_days} days, answers within {t.response_days} days"
    if t.rate is not None:
        text += f", rate {_money(t.rate)}/h"
    if t.late_fee.kind != "none":
        text += f", late fee {t.late_fee.kind}"
    return text


def _ended(e: ev.RelationshipEnded) -> str:
    owed = ", ".join(_money(m) for m in e.outstanding)
    return (f"Relationship ended by {_side(e.ended_by)}: {e.reason}"
            + (f"; {owed} still outstanding" if owed else ""))


SENTENCES: dict[type, Callable[[Any], str]] = {
    ev.RelationshipOpened: lambda e: f"Relationship with {e.client.name} ({e.handle}) opened",
    ev.TermsPublished: _terms,
    ev.ContractDrafted: _drafted,
    ev.ContractSigned: lambda e: (f"Contract {e.contract_id} signed by {_side(e.party)} ({e.signer},"
                                  f" {e.method}){_evidence(e)}"),
    ev.ContractCompleted: lambda e: f"Contract {e.contract_id} completed",
    ev.ChangeRequested: lambda e: (f"Change {e.change_id} requested by {_side(e.requested_by)}:"
                                   f" {e.description}{_evidence(e)}"),
    ev.ChangeQuoted: _change_quote,
    ev.ChangeApproved: lambda e: f"Change {e.change_id} approved{_evidence(e)}",
    ev.ChangeRejected: lambda e: f"Change {e.change_id} rejected{_evidence(e)}",
    ev.ChangeWithdrawn: lambda e: f"Change {e.change_id} withdrawn{_evidence(e)}",
    ev.MistakeReported: lambda e: (f"Mistake {e.mistake_id} reported by {_side(e.reported_by)}:"
                                   f" {e.description}{_evidence(e)}"),
    ev.MistakeAcknowledged: lambda e: (f"Mistake {e.mistake_id} acknowledged"
                                       + (f": {e.apology}" if e.apology else "")),
    ev.MistakeDiagnosed: lambda e: (f"Mistake {e.mistake_id} diagnosed: fault {e.fault}, cause {e.cause}"
                                    + (f" (category {e.category})" if e.category else "")),
    ev.RemedyProposed: lambda e: (f"Remedy {e.option_id} proposed for {e.mistake_id}: {e.description}"
                                  + (f", costing {_money(e.cost)}" if e.cost is not None else "")
                                  + (f", {e.hours} h" if e.hours is not None else "")),
    ev.RemedyChosen: lambda e: (f"Remedy {e.option_id} chosen for {e.mistake_id}"
                                + (", agreed with the client" if e.agreed else ", not agreed with the client")),
    ev.MistakeResolved: lambda e: f"Mistake {e.mistake_id} resolved",
    ev.LessonRecorded: lambda e: f"Lesson from {e.mistake_id}: {e.lesson}",
    ev.InvoiceIssued: lambda e: (f"Invoice {e.invoice_number} issued for {_money(e.amount)}, due {e.due}"
                                 + (f" (installment {e.installment} of {e.contract_id})"
                                    if e.installment is not None else "")
                                 + (f" (change {e.change_id})" if e.change_id else "")),
    ev.PaymentReceived: lambda e: f"Payment of {_money(e.amount)} received for {e.invoice_number}",
    ev.PaymentLate: lambda e: (f"Invoice {e.invoice_number} is late: {_money(e.outstanding)} unpaid since"
                               f" {e.due}"),
    ev.ReminderSent: lambda e: (f"Reminder sent for {e.invoice_number}, {e.days_late} days late"
                                + (f", late fee {_money(e.late_fee)}" if e.late_fee is not None else "")),
    ev.HoursLogged: lambda e: (f"{e.hours} h logged on {e.contract_id}"
                               + (f" for {e.change_id}" if e.change_id else "")
                               + (f": {e.note}" if e.note else "")),
    ev.NoteRecorded: lambda e: f"Note: {e.text}{_evidence(e)}",
    ev.DocumentIssued: lambda e: (f"Document issued: {e.kind}" + (f" {e.document_id}" if e.document_id else "")
                                  + f", anchoring the chain at version {e.chain_version}"),
    ev.RelationshipEnded: _ended,
}


def sentence(event: Any) -> str:
    describe = SENTENCES.get(type(event))
    return describe(event) if describe else type(event).__name__
