"""The whole story in memory: every event kind happens, replay folds to the same
state, and the hash chain over the stored form catches any edit."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from decimal import Decimal

from domain_builders import (
    MIDPOINT,
    START,
    acme_terms,
    draft,
    eur,
    invoiced,
    opened,
    sign,
)
from tax_profile import UNTAXED_PROFILE

from domain.model import events as ev
from domain.model.billing_records import BillingRecords, Submissions, registration_of
from domain.model.chain import GENESIS, RawRecord, digest_of, event_type, stored_state, verify_chain
from domain.model.event_log import EventLog
from domain.model.invoices import InvoiceSeries, series_id
from domain.model.record_values import SoftwareSystem
from domain.model.relationship import Relationship
from domain.model.values import Evidence, Party

EVIDENCE = Evidence(sha256="f" * 64, name="brief.pdf", size=2048, media_type="application/pdf")
EML = Evidence(sha256="e" * 64, name="message.eml", size=900, media_type="message/rfc822")
SENT = {"to": ["laura@acme.test"], "subject": "Reminder", "message_id": "<1@example.com>",
        "sent_at": datetime(2026, 3, 15, 9, tzinfo=UTC), "server_reply": "250 2.0.0 Ok: queued as 4F1A2",
        "evidence": [EML]}


def whole_story() -> tuple[Relationship, InvoiceSeries, InvoiceSeries]:
    """The demo story of issue 3, plus every other kind of event once."""
    r = opened()
    r.publish_terms(acme_terms(), date(2026, 1, 5))
    draft(r)
    sign(r, "us")
    sign(r, "client")
    r.request_change("Add a blog", requested_by="client", on=date(2026, 1, 20), evidence=[EVIDENCE])
    r.quote_change("C1", price=eur(600), hours=Decimal(10), days=5, on=date(2026, 1, 21))
    r.approve_change("C1", on=date(2026, 1, 22))
    r.request_change("Dark mode", requested_by="client", on=date(2026, 1, 23))
    r.quote_change("C2", price=eur(300), on=date(2026, 1, 24))
    r.reject_change("C2", on=date(2026, 1, 25))
    r.request_change("Podcast", requested_by="us", on=date(2026, 1, 26))
    r.withdraw_change("C3", on=date(2026, 1, 27))
    r.report_mistake("Wrong logo colour", reported_by="us", on=date(2026, 2, 1))
    r.acknowledge_mistake("M1", on=date(2026, 2, 1), apology="Sorry, fixing it today")
    r.diagnose_mistake("M1", fault="ours", cause="Old palette", category="branding", on=date(2026, 2, 2))
    r.propose_remedy("M1", "Free rework", cost=eur(0), hours=Decimal(4), on=date(2026, 2, 2))
    r.choose_remedy("M1", "O1", agreed=True, on=date(2026, 2, 3))
    r.resolve_mistake("M1", on=date(2026, 2, 5))
    r.record_lesson("M1", "Check the brand guide before delivery", on=date(2026, 2, 5))
    series = InvoiceSeries(series_id("F", 2026))
    first = series.assign("F", r.handle, START, "")
    r.issue_invoice(first, installment=1, on=START, profile=UNTAXED_PROFILE)
    r.record_payment(first, eur(4000), on=date(2026, 2, 1))
    second = series.assign("F", r.handle, MIDPOINT, "")
    r.issue_invoice(second, installment=2, on=MIDPOINT, profile=UNTAXED_PROFILE)
    r.log_hours(Decimal("3.5"), on=date(2026, 2, 10), note="Blog templates", change_id="C1")
    r.record_note("Client says the invoice is in approval", on=date(2026, 3, 10), evidence=[EVIDENCE])
    r.schedule_follow_up(1, remind_before=[3], remind_after=[1, 7], on=date(2026, 3, 11))
    r.claim_follow_up(second, "before-3", on=date(2026, 3, 15))
    r.send_follow_up(second, "before-3", scheduled_on=date(2026, 3, 14), tone="friendly", on=date(2026, 3, 15),
                     **SENT)
    r.mark_late(second, on=date(2026, 3, 18))
    r.claim_follow_up(second, "after-1", on=date(2026, 3, 18))
    r.fail_follow_up(second, "after-1", reason="550 5.1.1 User unknown", on=date(2026, 3, 18))
    r.send_reminder(second, on=date(2026, 3, 20))  # the fee its terms claim
    r.complete_contract(date(2026, 3, 25))
    r.issue_document("dossier", sha256="d" * 64, chain_version=r.version, chain_digest=r.head_digest,
                     on=date(2026, 3, 26))
    r.send_document("dossier", document_id="", document_sha256="d" * 64, lang="en", on=date(2026, 3, 26),
                    **(SENT | {"message_id": "<2@example.com>", "subject": "Dossier"}))
    r.file_message("received", message_id="<3@acme.test>", sender="Laura <laura@acme.test>",
                   to=["ana@example.com"], subject="Re: Dossier", evidence=[EML.model_copy(update={"sha256": "3" * 64})],
                   on=date(2026, 3, 27))
    r.file_message("sent", message_id="", sender="Ana <ana@example.com>", to=["laura@acme.test"],
                   evidence=[EML.model_copy(update={"sha256": "4" * 64}), EVIDENCE], on=date(2026, 3, 27))
    r.change_client_details(Party(name="Acme SL", country="ES", tax_id="B12345674"), on=date(2026, 3, 30))
    r.end(reason="Project delivered", ended_by="us", on=date(2026, 3, 31))
    corrective = InvoiceSeries(series_id("R", 2026))
    number = corrective.assign("R", r.handle, date(2026, 3, 31), "", corrective=True)
    r.correct_invoice(number, second, on=date(2026, 3, 31), reason="The reminder fee is waived",
                      profile=UNTAXED_PROFILE, amount=eur("-0.01"))
    r.timestamp_anchor(chain_version=r.version, chain_digest=r.head_digest, note_sha256="e" * 64,
                       token_sha256="f" * 64, timestamped_at=datetime(2026, 4, 1, 9, 0, tzinfo=UTC),
                       authority="CN=Test TSA", tsa_url="http://127.0.0.1/tsa", on=date(2026, 3, 31))
    return r, series, corrective


SYSTEM = SoftwareSystem(producer_name="Ana García", producer_nif="12345678Z", version="0.1.0",
                        installation="12345678Z-1")


def billing_records(relationship: Relationship) -> BillingRecords:
    """The issuer's chain of billing records for the story's invoices, the last one cancelled."""
    chain = BillingRecords.of("12345678Z")
    system = SYSTEM
    billed = [e for e in relationship._pending if isinstance(e, ev.InvoiceIssued | ev.InvoiceCorrected)]
    for second, invoice in enumerate(billed, 1):
        corrected_on = relationship.invoice(invoice.corrects).issued_on if isinstance(invoice, ev.InvoiceCorrected) \
            else None
        chain.register(**registration_of(invoice, issuer_nif="12345678Z", issuer_name="Ana García",
                                         corrected_on=corrected_on),
                       generated_at=f"2026-03-31T12:00:{second:02d}+02:00", system=system, mode="verifactu",
                       occurred_on=invoice.occurred_on)
    chain.cancel(billed[-1].invoice_number, generated_at="2026-03-31T12:01:00+02:00", system=system,
                 mode="verifactu", occurred_on=date(2026, 3, 31))
    return chain


def _all_event_classes(base: type) -> set[type]:
    found = set()
    for sub in base.__subclasses__():
        found |= {sub} | _all_event_classes(sub)
    return found


def _state(aggregate) -> dict:
    return {k: v for k, v in vars(aggregate).items() if k not in ("_pending", "last_saved", "warnings")}


class TestWholeStory:
    def test_every_kind_of_event_is_exercised(self):
        relationship, series, corrective = whole_story()
        records = billing_records(relationship)
        sent = Submissions.of("12345678Z")
        sent.record_sent(issuer_nif="12345678Z", first=1, last=records.version, last_fingerprint=records.last.fingerprint,
                         file_sha256="e" * 64, reference="A-TEST0000000001", occurred_on=date(2026, 3, 31))
        log = EventLog.of("12345678Z")
        log.log("01", issuer_nif="12345678Z", issuer_name="Ana García", system=SYSTEM,
                generated_at="2026-03-31T12:00:00+02:00", occurred_on=date(2026, 3, 31))
        voided = invoiced()  # an invoice issued in error, never sent: its record cancelled, it is void (ADR-66)
        voided.cancel_invoice("F-2026-001", on=date(2026, 3, 31))
        recorded = {type(e) for aggregate in (relationship, series, corrective, records, sent, log, voided)
                    for e in aggregate._pending}
        declared = {cls for cls in _all_event_classes(ev.DomainEvent) if cls.__module__ == ev.__name__}
        declared -= {ev.RelationshipEvent}
        assert recorded == declared

    def test_the_story_ends_in_the_state_the_issue_describes(self):
        relationship, *_ = whole_story()
        contract = relationship.contracts["K1"]
        assert relationship.state == "ended"
        assert contract.state == "completed"
        assert contract.total == eur(8600)
        assert {c.id: c.state for c in relationship.changes.values()} == {
            "C1": "approved", "C2": "rejected", "C3": "withdrawn"}
        mistake = relationship.mistakes["M1"]
        assert (mistake.state, mistake.chosen, mistake.agreed, mistake.fault) == (
            "resolved", "O1", True, "ours")
        assert relationship.invoice("F-2026-001").is_settled
        second = relationship.invoice("F-2026-002")
        assert second.late_since == date(2026, 3, 18)
        assert relationship.ending.outstanding == [eur(4000)]

    def test_replaying_the_events_folds_to_the_same_state(self):
        relationship, series, corrective = whole_story()
        replayed = Relationship.project(None, copy.deepcopy(relationship._pending))
        assert _state(replayed) == _state(relationship)
        for numbering in (series, corrective):
            assert _state(InvoiceSeries.project(None, list(numbering._pending))) == _state(numbering)
        records = billing_records(relationship)
        assert _state(BillingRecords.project(None, list(records._pending))) == _state(records)

    def test_versions_are_consecutive_and_each_digest_chains_to_the_one_before(self):
        relationship, *_ = whole_story()
        previous = GENESIS
        for version, event in enumerate(relationship._pending, start=1):
            assert event.originator_version == version
            assert event.digest == digest_of(previous, relationship.id, version, type(event).__name__,
                                             stored_state(event))
            previous = event.digest
        assert relationship.head_digest == previous


def _records(aggregate) -> list[RawRecord]:
    return [RawRecord(e.originator_version, f"domain.events:{type(e).__name__}", stored_state(e))
            for e in aggregate._pending]


class TestVerifyChain:
    def test_an_untouched_stream_verifies(self):
        relationship, *_ = whole_story()
        report = verify_chain(relationship.id, _records(relationship))
        assert report.ok
        assert (report.events, report.head_version, report.head_digest) == (
            relationship.version, relationship.version, relationship.head_digest)

    def test_an_edited_payload_breaks_exactly_that_version(self):
        relationship, *_ = whole_story()
        records = _records(relationship)
        target = next(r for r in records if r.topic.endswith(":PaymentReceived"))
        target.state["amount"]["amount"] = "40.00"
        report = verify_chain(relationship.id, records)
        assert report.broken.version == target.version
        assert report.head_version == target.version - 1

    def test_an_edited_business_date_or_timestamp_breaks_the_chain(self):
        for key in ("occurred_on", "timestamp"):
            relationship, *_ = whole_story()
            records = _records(relationship)
            records[4].state[key] = "2020-01-01" if key == "occurred_on" else "2020-01-01T00:00:00Z"
            assert verify_chain(relationship.id, records).broken.version == 5

    def test_a_changed_event_type_breaks_the_chain(self):
        relationship, *_ = whole_story()
        records = _records(relationship)
        records[6] = RawRecord(7, "domain.events:ChangeRejected", records[6].state)
        assert verify_chain(relationship.id, records).broken.version == 7

    def test_a_recomputed_digest_does_not_hide_an_edit_from_the_next_event(self):
        # Someone edits our signature (version 4) and re-seals it: version 5 no longer chains to it.
        relationship, *_ = whole_story()
        records = _records(relationship)
        signed = records[3]
        assert (signed.version, signed.topic) == (4, "domain.events:ContractSigned")
        signed.state["signer"] = "Somebody else"
        signed.state["digest"] = digest_of(records[2].state["digest"], relationship.id, 4,
                                           "ContractSigned", signed.state)
        assert verify_chain(relationship.id, records).broken.version == 5

    def test_a_deleted_record_is_reported_as_missing(self):
        relationship, *_ = whole_story()
        records = _records(relationship)
        del records[9]
        report = verify_chain(relationship.id, records)
        assert report.broken.version == 10
        assert "missing" in report.broken.problem

    def test_reordered_records_are_detected(self):
        relationship, *_ = whole_story()
        records = _records(relationship)
        records[5], records[6] = records[6], records[5]
        assert verify_chain(relationship.id, records).broken.version == 6

    def test_another_streams_records_do_not_verify(self):
        relationship, *_ = whole_story()
        other = opened(handle="globex")
        assert not verify_chain(other.id, _records(relationship)).ok

    def test_the_type_is_the_class_name_whatever_the_module(self):
        assert event_type("domain.events:ChangeQuoted") == "ChangeQuoted"
        assert event_type("old.module:Outer.ChangeQuoted") == "ChangeQuoted"
