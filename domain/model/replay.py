"""Re-deciding a stored event: call the command that recorded it, with the arguments it holds.

Folding a stored event runs no rule, so a forged history (a second lesson for one mistake, a
payment above what is owed) would fold without a word. `redecide` calls the same command
method the application called, inside `ChainedAggregate.expecting(event)`: the command's rules
run as they did, and what it would record must be the stored event field for field (a
computed contract id, supersedes, outstanding amount, days late, invoice number), which is
then folded as stored. This module holds no rule: only, per event type, how the event's
fields become the command's arguments (as domain/services/application.py passes them).
Texts are re-decided under `texts_as_recorded` (domain/model/values.py, ADR-24), but for the
events no tratos wrote before the text policy of ADR-26: theirs met the whole policy when typed.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from domain.model import events as ev
from domain.model.billing import Line
from domain.model.chain import ChainedAggregate
from domain.model.errors import BadInput
from domain.model.values import (
    TaxProfile,
    check_actor,
    texts_as_recorded,
    texts_of_the_first_policy,
)


def _profile(e: ev.Billed) -> TaxProfile | None:
    """The tax profile an invoice was issued under, as far as it shows in the invoice (None: untaxed)."""
    if not e.lines:
        raise BadInput(f"{e.invoice_number} has no lines: an invoice bills at least one")
    if e.issuer is None:
        return None
    return TaxProfile(issuer=e.issuer, vat_rate=e.lines[0].vat_rate, withholding=e.withholding_rate)


def _lines(e: ev.Billed) -> list[Line]:
    return [Line(x.description, x.quantity, x.unit_price, x.vat_rate, tuple(x.hours)) for x in e.lines]


def _invoice(r: Any, e: ev.InvoiceIssued) -> None:
    """An installment is billed by its number (its amount is the contract's), anything else by its lines."""
    profile = _profile(e)
    by_lines = None if e.installment is not None else _lines(e)
    if e.issuer is None and by_lines:  # recorded before lines: billed by amount, its one line the concept
        by_lines = None
    r.issue_invoice(e.invoice_number, on=e.occurred_on, due=e.due, installment=e.installment,
                    amount=e.amount if e.installment is None and by_lines is None else None,
                    change_id=e.change_id, contract_id=e.contract_id, concept=e.concept,
                    profile=profile, lines=by_lines, vat_rate=e.lines[0].vat_rate,
                    withholding=e.withholding_rate, exemption=e.exemption, actor=e.actor)


def _correction(r: Any, e: ev.InvoiceCorrected) -> None:
    r.correct_invoice(e.invoice_number, e.corrects, on=e.occurred_on, reason=e.reason, profile=_profile(e),
                      lines=None if e.void else _lines(e), void=e.void, actor=e.actor)


def _filed(r: Any, e: ev.FiledMessage, direction: str) -> None:
    r.file_message(direction, message_id=e.message_id, sender=e.sender, to=e.to, cc=e.cc, sent_at=e.sent_at,
                   subject=e.subject, evidence=e.evidence, on=e.occurred_on, actor=e.actor)


# How each stored event is asked again of its aggregate: the command and its arguments.
COMMANDS: dict[type, Callable[[Any, Any], Any]] = {
    ev.RelationshipOpened: lambda r, e: r.record_opening(e.handle, e.client, e.occurred_on, e.actor),
    ev.TermsPublished: lambda r, e: r.publish_terms(e.terms, e.occurred_on, e.actor),
    ev.ContractDrafted: lambda r, e: r.draft_contract(
        title=e.title, scope=e.scope, price=e.price, start=e.start, end=e.end, installments=e.installments,
        hours_budget=e.hours_budget, our_duties=e.our_duties, client_duties=e.client_duties,
        payment_method=e.payment_method, on=e.occurred_on, actor=e.actor),
    ev.ContractSigned: lambda r, e: r.sign_contract(
        party=e.party, signer=e.signer, method=e.method, on=e.occurred_on, contract_id=e.contract_id,
        evidence=e.evidence, certificate_subject=e.certificate_subject,
        certificate_fingerprint=e.certificate_fingerprint, document_sha256=e.document_sha256, actor=e.actor),
    ev.ContractCompleted: lambda r, e: r.complete_contract(e.occurred_on, e.contract_id, e.actor),
    ev.ChangeRequested: lambda r, e: r.request_change(
        e.description, requested_by=e.requested_by, on=e.occurred_on, contract_id=e.contract_id,
        evidence=e.evidence, actor=e.actor),
    ev.ChangeQuoted: lambda r, e: r.quote_change(
        e.change_id, price=e.price, on=e.occurred_on, hours=e.hours, days=e.days, actor=e.actor),
    ev.ChangeApproved: lambda r, e: r.approve_change(e.change_id, on=e.occurred_on, evidence=e.evidence,
                                                     actor=e.actor),
    ev.ChangeRejected: lambda r, e: r.reject_change(e.change_id, on=e.occurred_on, evidence=e.evidence,
                                                    actor=e.actor),
    ev.ChangeWithdrawn: lambda r, e: r.withdraw_change(e.change_id, on=e.occurred_on, evidence=e.evidence,
                                                       actor=e.actor),
    ev.MistakeReported: lambda r, e: r.report_mistake(
        e.description, reported_by=e.reported_by, on=e.occurred_on, contract_id=e.contract_id,
        evidence=e.evidence, actor=e.actor),
    ev.MistakeAcknowledged: lambda r, e: r.acknowledge_mistake(
        e.mistake_id, on=e.occurred_on, apology=e.apology, actor=e.actor),
    ev.MistakeDiagnosed: lambda r, e: r.diagnose_mistake(
        e.mistake_id, fault=e.fault, cause=e.cause, on=e.occurred_on, category=e.category, actor=e.actor),
    ev.RemedyProposed: lambda r, e: r.propose_remedy(
        e.mistake_id, e.description, on=e.occurred_on, cost=e.cost, hours=e.hours, actor=e.actor),
    ev.RemedyChosen: lambda r, e: r.choose_remedy(
        e.mistake_id, e.option_id, agreed=e.agreed, on=e.occurred_on, actor=e.actor),
    ev.MistakeResolved: lambda r, e: r.resolve_mistake(e.mistake_id, on=e.occurred_on, actor=e.actor),
    ev.LessonRecorded: lambda r, e: r.record_lesson(e.mistake_id, e.lesson, on=e.occurred_on, actor=e.actor),
    ev.InvoiceIssued: _invoice,
    ev.InvoiceCorrected: _correction,
    ev.ClientDetailsChanged: lambda r, e: r.change_client_details(e.client, on=e.occurred_on, actor=e.actor),
    ev.PaymentReceived: lambda r, e: r.record_payment(e.invoice_number, e.amount, on=e.occurred_on,
                                                      actor=e.actor),
    ev.InvoiceCancelled: lambda r, e: r.cancel_invoice(e.invoice_number, on=e.occurred_on, actor=e.actor),
    ev.PaymentLate: lambda r, e: r.mark_late(e.invoice_number, on=e.occurred_on, actor=e.actor),
    ev.ReminderSent: lambda r, e: r.send_reminder(e.invoice_number, on=e.occurred_on, late_fee=e.late_fee,
                                                  actor=e.actor),  # the claim the terms allowed then
    ev.HoursLogged: lambda r, e: r.log_hours(
        e.hours, on=e.occurred_on, note=e.note, contract_id=e.contract_id, change_id=e.change_id,
        actor=e.actor),
    ev.NoteRecorded: lambda r, e: r.record_note(e.text, on=e.occurred_on, evidence=e.evidence, actor=e.actor),
    ev.DocumentIssued: lambda r, e: r.issue_document(
        e.kind, sha256=e.sha256, chain_version=e.chain_version, chain_digest=e.chain_digest, on=e.occurred_on,
        document_id=e.document_id, lang=e.lang, actor=e.actor),
    ev.AnchorTimestamped: lambda r, e: r.timestamp_anchor(
        chain_version=e.chain_version, chain_digest=e.chain_digest, note_sha256=e.note_sha256,
        token_sha256=e.token_sha256, timestamped_at=e.timestamped_at, authority=e.authority,
        tsa_url=e.tsa_url, on=e.occurred_on, evidence=e.evidence, actor=e.actor),
    ev.DocumentSent: lambda r, e: r.send_document(
        e.kind, document_id=e.document_id, document_sha256=e.document_sha256, lang=e.lang, to=e.to, cc=e.cc,
        bcc=e.bcc, subject=e.subject, message_id=e.message_id, sent_at=e.sent_at, server_reply=e.server_reply,
        evidence=e.evidence, on=e.occurred_on, actor=e.actor),
    ev.MessageReceived: lambda r, e: _filed(r, e, "received"),
    ev.MessageSent: lambda r, e: _filed(r, e, "sent"),
    ev.FollowUpScheduled: lambda r, e: r.schedule_follow_up(
        e.terms_version, remind_before=e.remind_before, remind_after=e.remind_after, chase_after=e.chase_after,
        on=e.occurred_on, actor=e.actor),
    ev.FollowUpClaimed: lambda r, e: r.claim_follow_up(e.about, e.step, on=e.occurred_on, actor=e.actor),
    ev.FollowUpSent: lambda r, e: r.send_follow_up(
        e.about, e.step, scheduled_on=e.scheduled_on, tone=e.tone, to=e.to, subject=e.subject,
        message_id=e.message_id, sent_at=e.sent_at, server_reply=e.server_reply, evidence=e.evidence,
        on=e.occurred_on, actor=e.actor),
    ev.FollowUpFailed: lambda r, e: r.fail_follow_up(e.about, e.step, reason=e.reason, on=e.occurred_on,
                                                     actor=e.actor),
    ev.RelationshipEnded: lambda r, e: r.end(
        reason=e.reason, ended_by=e.ended_by, on=e.occurred_on, confidentiality=e.confidentiality,
        actor=e.actor),
    ev.InvoiceNumberAssigned: lambda s, e: s.assign(e.series, e.handle, e.occurred_on, e.actor),
    ev.CorrectiveNumberAssigned: lambda s, e: s.assign(e.series, e.handle, e.occurred_on, e.actor, corrective=True),
    ev.InvoiceRegistered: lambda c, e: c.register(
        issuer_nif=e.issuer_nif, issuer_name=e.issuer_name, invoice_number=e.invoice_number, issued_on=e.issued_on,
        invoice_type=e.invoice_type, description=e.description, breakdown=e.breakdown, tax_total=e.tax_total,
        total=e.total, generated_at=e.generated_at, system=e.system, corrected=e.corrected, recipient=e.recipient,
        currency=e.currency, occurred_on=e.occurred_on, actor=e.actor, mode=e.mode,
        signature=e.signature),  # its fingerprint computed again; its signature is checked by `audit verify`
    ev.InvoiceRegistrationCancelled: lambda c, e: c.cancel(
        e.invoice_number, generated_at=e.generated_at, system=e.system, mode=e.mode, occurred_on=e.occurred_on,
        actor=e.actor, signature=e.signature),
    ev.SystemEventLogged: lambda log, e: log.log(
        e.event_type, issuer_nif=e.issuer_nif, issuer_name=e.issuer_name, system=e.system,
        generated_at=e.generated_at, occurred_on=e.occurred_on, actor=e.actor, scan=e.scan, anomaly=e.anomaly,
        records_export=e.records_export, events_export=e.events_export, other=e.other,
        signature=e.signature),  # its fingerprint computed again, its place in the log checked
    ev.BillingRecordsSent: lambda s, e: s.record_sent(
        issuer_nif=e.issuer_nif, first=e.first, last=e.last, last_fingerprint=e.last_fingerprint,
        file_sha256=e.file_sha256, reference=e.reference, occurred_on=e.occurred_on, actor=e.actor, kept=e.kept),
}


# Event types first written after ADR-26: their texts are held to the policy in full.
WRITTEN_UNDER_THE_TEXT_POLICY = frozenset({
    ev.ClientDetailsChanged, ev.InvoiceCorrected, ev.CorrectiveNumberAssigned, ev.AnchorTimestamped,
    ev.DocumentSent, ev.MessageReceived, ev.MessageSent, ev.FollowUpScheduled, ev.FollowUpClaimed,
    ev.FollowUpSent, ev.FollowUpFailed, ev.InvoiceRegistered, ev.InvoiceRegistrationCancelled,
    ev.BillingRecordsSent, ev.SystemEventLogged, ev.InvoiceCancelled})


def redecide(aggregate: ChainedAggregate, event: Any) -> None:
    """Fold `event` as its command decides it again, or raise `ImpossibleHistory` naming stream and version.

    The warnings a command appends (hours over budget, a slow acknowledgement) were said when
    it was recorded; they are dropped here, so a long replay does not collect them.
    """
    command = COMMANDS[type(event)]
    strict = type(event) in WRITTEN_UNDER_THE_TEXT_POLICY
    # Held to the policy as it was when they were first written: the fillers ADR-54 added to it
    # may be in a store recorded before.
    with texts_of_the_first_policy():
        if strict:  # read leniently like every stored event (adapters/mapper.py): its values checked in full now
            type(event).model_validate(event.model_dump(mode="json"))
        _redecided(aggregate, event, command, strict)
    warnings = getattr(aggregate, "warnings", None)
    if warnings:
        warnings.clear()


def _redecided(aggregate: ChainedAggregate, event: Any, command: Callable, strict: bool) -> None:
    with nullcontext() if strict else texts_as_recorded(), aggregate.expecting(event):
        check_actor(event.actor)  # as the Application checks it before a command records
        for cited in getattr(event, "evidence", ()):
            cited.check_name()
        command(aggregate, event)
