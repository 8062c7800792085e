"""Hours, notes, documents, and the end of a relationship with what may follow it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from domain_builders import (
    START,
    acknowledged,
    acme_terms,
    chosen,
    diagnosed,
    draft,
    drafted,
    eur,
    in_force,
    invoiced,
    opened,
    proposed,
    refuses,
    reported,
    requested,
    with_quoted_change,
    with_terms,
)
from tax_profile import UNTAXED_PROFILE

from domain.model import events as ev
from domain.model.errors import BadInput, Refused, UnknownReference
from domain.model.values import Evidence

WORKDAY = date(2026, 1, 20)
ENDED = date(2026, 3, 1)
AFTER = date(2026, 3, 2)
EVIDENCE = Evidence(sha256="e" * 64, name="mail.eml", size=321, media_type="message/rfc822")


class TestLogHours:
    def test_hours_accumulate_on_the_current_contract(self):
        relationship = in_force()
        event = relationship.log_hours(Decimal("3.5"), on=WORKDAY, note="Wireframes")
        relationship.log_hours(Decimal("4.25"), on=WORKDAY)

        assert isinstance(event, ev.HoursLogged)
        assert (event.contract_id, event.hours, event.note) == ("K1", Decimal("3.5"), "Wireframes")
        assert relationship.contracts["K1"].hours_logged == Decimal("7.75")
        assert relationship.warnings == []

    def test_hours_beyond_the_budget_warn_and_suggest_a_change_request(self):
        relationship = in_force()
        for day in range(5):  # 5 x 24 = 120 h: exactly the budget, no warning yet
            relationship.log_hours(Decimal(24), on=WORKDAY + timedelta(days=day))
        assert relationship.warnings == []
        relationship.log_hours(Decimal("0.5"), on=WORKDAY + timedelta(days=5))
        assert any("change request" in w and "120" in w for w in relationship.warnings)

    def test_an_approved_change_raises_the_budget(self):
        relationship = with_quoted_change()  # +10 h, quoted the day after WORKDAY
        relationship.approve_change("C1", on=WORKDAY + timedelta(days=1))
        for day in range(5):
            relationship.log_hours(Decimal(24), on=WORKDAY + timedelta(days=day))
        relationship.log_hours(Decimal(10), on=WORKDAY + timedelta(days=5))
        assert relationship.warnings == []

    def test_hours_on_an_unapproved_change_warn(self):
        relationship = with_quoted_change()
        relationship.log_hours(Decimal(2), on=WORKDAY, change_id="C1")
        assert any("C1" in w and "not approved" in w for w in relationship.warnings)

    @pytest.mark.parametrize("hours", ["0", "-1", "24.01", "NaN"])
    def test_hours_out_of_range_are_bad_input(self, hours):
        relationship = in_force()
        with refuses(relationship, BadInput):
            relationship.log_hours(Decimal(hours), on=WORKDAY)

    def test_hours_on_a_completed_contract_are_refused(self):
        relationship = in_force()
        relationship.complete_contract(WORKDAY)
        with refuses(relationship, Refused, match="completed"):
            relationship.log_hours(Decimal(1), on=WORKDAY)

    def test_hours_on_a_superseded_draft_are_refused(self):
        relationship = drafted()
        draft(relationship)
        with refuses(relationship, Refused, match="superseded"):
            relationship.log_hours(Decimal(1), on=WORKDAY, contract_id="K1")

    def test_hours_need_a_contract(self):
        relationship = with_terms()
        with refuses(relationship, Refused):
            relationship.log_hours(Decimal(1), on=WORKDAY)

    def test_hours_on_an_unknown_change_are_an_unknown_reference(self):
        relationship = in_force()
        with refuses(relationship, UnknownReference):
            relationship.log_hours(Decimal(1), on=WORKDAY, change_id="C4")


class TestRecordNote:
    def test_a_note_keeps_its_text_and_evidence(self):
        relationship = opened()
        event = relationship.record_note("Client called about the logo", on=WORKDAY, evidence=[EVIDENCE])

        assert isinstance(event, ev.NoteRecorded)
        [note] = relationship.notes
        assert (note.on, note.text, note.evidence) == (WORKDAY, "Client called about the logo", [EVIDENCE])

    @pytest.mark.parametrize("text", ["", "   ", "bell\x07", "x" * 5001])
    def test_an_empty_or_unprintable_note_is_bad_input(self, text):
        relationship = opened()
        with refuses(relationship, BadInput):
            relationship.record_note(text, on=WORKDAY)

    def test_evidence_is_cited_by_a_real_sha256(self):
        with pytest.raises(BadInput):
            Evidence(sha256="not-a-digest", name="x", size=1)


class TestIssueDocument:
    def test_a_document_anchors_the_chain_head_it_was_made_from(self):
        relationship = in_force()
        head_version, head_digest = relationship.version, relationship.head_digest
        event = relationship.issue_document("contract", sha256="a" * 64, chain_version=head_version,
                                            chain_digest=head_digest, on=WORKDAY, document_id="K1",
                                            lang="en")

        assert isinstance(event, ev.DocumentIssued)
        [document] = relationship.documents
        assert (document.kind, document.document_id, document.chain_version, document.chain_digest) == (
            "contract", "K1", head_version, head_digest)

    def test_a_head_beyond_the_end_of_the_stream_is_refused(self):
        relationship = in_force()
        with refuses(relationship, Refused, match="beyond"):
            relationship.issue_document("contract", sha256="a" * 64, chain_version=relationship.version + 1,
                                        chain_digest="b" * 64, on=WORKDAY)


class TestEndRelationship:
    def test_ending_records_reason_side_outstanding_and_confidentiality(self):
        relationship = invoiced()
        relationship.record_payment("F-2026-001", eur(1000), on=START)
        event = relationship.end(reason="Project finished", ended_by="client", on=ENDED)

        assert isinstance(event, ev.RelationshipEnded)
        assert event.outstanding == [eur(3000)]
        assert event.confidentiality == "Client data stays confidential for 5 years."
        assert relationship.state == "ended"
        ending = relationship.ending
        assert (ending.on, ending.reason, ending.ended_by) == (ENDED, "Project finished", "client")

    def test_an_explicit_confidentiality_overrides_the_terms(self):
        relationship = with_terms()
        event = relationship.end(reason="Done", ended_by="us", on=ENDED, confidentiality="Forever")
        assert event.confidentiality == "Forever"
        assert event.outstanding == []

    def test_a_prospect_can_be_ended(self):
        relationship = opened()
        relationship.end(reason="Never signed", ended_by="us", on=ENDED)
        assert relationship.state == "ended"

    def test_ending_twice_is_refused(self):
        relationship = opened()
        relationship.end(reason="Done", ended_by="us", on=ENDED)
        with refuses(relationship, Refused, match="already ended"):
            relationship.end(reason="Again", ended_by="client", on=AFTER)

    def test_an_unknown_side_is_bad_input(self):
        relationship = opened()
        with refuses(relationship, BadInput):
            relationship.end(reason="Done", ended_by="lawyer", on=ENDED)

    def test_the_balance_stays_collectible_after_the_end(self):
        relationship = invoiced()
        relationship.end(reason="Done", ended_by="us", on=ENDED)
        relationship.mark_late("F-2026-001", on=AFTER)
        relationship.send_reminder("F-2026-001", on=AFTER)
        relationship.record_payment("F-2026-001", eur(4000), on=AFTER + timedelta(days=1))
        assert relationship.invoice("F-2026-001").is_settled
        assert relationship.outstanding() == []
        assert relationship.state == "ended"


DOC = {"sha256": "a" * 64, "chain_version": 1, "chain_digest": "b" * 64}

# (builder, command): each command succeeds on its builder's aggregate while it is open.
STILL_ALLOWED = {
    "payment": (invoiced, lambda r: r.record_payment("F-2026-001", eur(4000), on=AFTER)),
    "mark late": (invoiced, lambda r: r.mark_late("F-2026-001", on=AFTER)),
    "reminder": (invoiced, lambda r: r.send_reminder("F-2026-001", on=AFTER)),
    "note": (opened, lambda r: r.record_note("Final call", on=AFTER, evidence=[EVIDENCE])),
    "document": (opened, lambda r: r.issue_document("closing", on=AFTER, **DOC)),
}
REFUSED_AFTER_END = {
    "publish terms": (opened, lambda r: r.publish_terms(acme_terms(), AFTER)),
    "draft": (with_terms, lambda r: draft(r, on=AFTER)),
    "sign": (drafted, lambda r: r.sign_contract(party="us", signer="Ana", method="typed", on=AFTER)),
    "complete": (in_force, lambda r: r.complete_contract(AFTER)),
    "request change": (in_force, lambda r: r.request_change("x", requested_by="client", on=AFTER)),
    "quote change": (requested, lambda r: r.quote_change("C1", price=eur(600), on=AFTER)),
    "approve change": (with_quoted_change, lambda r: r.approve_change("C1", on=AFTER)),
    "reject change": (with_quoted_change, lambda r: r.reject_change("C1", on=AFTER)),
    "withdraw change": (with_quoted_change, lambda r: r.withdraw_change("C1", on=AFTER)),
    "report mistake": (in_force, lambda r: r.report_mistake("x", reported_by="us", on=AFTER)),
    "acknowledge": (reported, lambda r: r.acknowledge_mistake("M1", on=AFTER)),
    "diagnose": (acknowledged, lambda r: r.diagnose_mistake("M1", fault="ours", cause="x", on=AFTER)),
    "propose": (diagnosed, lambda r: r.propose_remedy("M1", "Redo", on=AFTER)),
    "choose": (proposed, lambda r: r.choose_remedy("M1", "O1", agreed=True, on=AFTER)),
    "resolve": (chosen, lambda r: r.resolve_mistake("M1", on=AFTER)),
    "lesson": (diagnosed, lambda r: r.record_lesson("M1", "x", on=AFTER)),
    "invoice": (in_force, lambda r: r.issue_invoice("F-2026-001", installment=1, on=AFTER, profile=UNTAXED_PROFILE)),
    "hours": (in_force, lambda r: r.log_hours(Decimal(1), on=AFTER)),
}


def _ended(build):
    relationship = build()
    relationship.end(reason="Done", ended_by="us", on=ENDED)
    return relationship


class TestAfterTheEnd:
    @pytest.mark.parametrize("command", sorted(STILL_ALLOWED))
    def test_payments_lateness_reminders_notes_and_documents_are_still_recorded(self, command):
        build, act = STILL_ALLOWED[command]
        relationship = _ended(build)
        version = relationship.version
        act(relationship)
        assert relationship.version == version + 1

    @pytest.mark.parametrize("command", sorted(REFUSED_AFTER_END))
    def test_the_command_works_while_the_relationship_is_open(self, command):
        # Guards the test below: each refusal there is caused by the end alone.
        build, act = REFUSED_AFTER_END[command]
        relationship = build()
        version = relationship.version
        act(relationship)
        assert relationship.version == version + 1

    @pytest.mark.parametrize("command", sorted(REFUSED_AFTER_END))
    def test_anything_else_is_refused_after_the_end(self, command):
        build, act = REFUSED_AFTER_END[command]
        relationship = _ended(build)
        with refuses(relationship, Refused, match="ended on 2026-03-01"):
            act(relationship)


class TestRefusalsLeaveNoWarnings:
    def test_refused_hours_on_an_unapproved_change_leave_no_warning(self):
        relationship = with_quoted_change()
        relationship.end(reason="Done", ended_by="us", on=ENDED)
        with refuses(relationship, Refused, match="ended"):
            relationship.log_hours(Decimal(2), on=AFTER, change_id="C1")
        assert relationship.warnings == []
