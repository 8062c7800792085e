"""A step of an entity's lifecycle cannot be dated before the entity existed, nor before the step
it follows (ADR-64: an approval not before the quote, a remedy not before the diagnosis)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from domain_builders import (
    DRAFTED,
    chosen,
    diagnosed,
    drafted,
    eur,
    in_force,
    proposed,
    refuses,
    reported,
    requested,
    with_quoted_change,
)
from tax_profile import UNTAXED_PROFILE

from domain.model.errors import Refused

ASKED = date(2026, 1, 20)      # when C1 was requested (builders)
REPORTED = date(2026, 2, 1)    # when M1 was reported (builders)

QUOTED = date(2026, 1, 21)      # when C1 was quoted (builders)
DIAGNOSED = date(2026, 2, 3)   # when M1 was diagnosed (builders)
REMEDIED = date(2026, 2, 4)    # when M1's remedies were proposed and O1 chosen (builders)

# step -> (builder, the step, the day of the step it follows)
CHANGE_STEPS = {
    "quote": (requested, lambda r, on: r.quote_change("C1", price=eur(600), on=on), ASKED),
    "approve": (with_quoted_change, lambda r, on: r.approve_change("C1", on=on), QUOTED),
    "reject": (with_quoted_change, lambda r, on: r.reject_change("C1", on=on), QUOTED),
    "withdraw": (requested, lambda r, on: r.withdraw_change("C1", on=on), ASKED),
}
def acknowledged_on_the_report_day():
    relationship = reported()
    relationship.acknowledge_mistake("M1", on=REPORTED)
    return relationship

MISTAKE_STEPS = {
    "diagnose": (acknowledged_on_the_report_day,
                 lambda r, on: r.diagnose_mistake("M1", fault="ours", cause="x", on=on), REPORTED),
    "propose": (diagnosed, lambda r, on: r.propose_remedy("M1", "Redo", hours=Decimal(1), on=on), DIAGNOSED),
    "choose": (proposed, lambda r, on: r.choose_remedy("M1", "O1", agreed=True, on=on), REMEDIED),
    "resolve": (chosen, lambda r, on: r.resolve_mistake("M1", on=on), REMEDIED),
    "lesson": (diagnosed, lambda r, on: r.record_lesson("M1", "x", on=on), DIAGNOSED),
}


class TestChangeStepsFollowTheStepBefore:
    @pytest.mark.parametrize("step", sorted(CHANGE_STEPS))
    def test_a_step_on_the_day_of_the_step_it_follows_is_accepted(self, step):
        build, act, follows = CHANGE_STEPS[step]
        relationship = build()
        act(relationship, follows)

    @pytest.mark.parametrize("step", sorted(CHANGE_STEPS))
    def test_a_step_dated_before_the_request_is_refused(self, step):
        build, act, _ = CHANGE_STEPS[step]
        relationship = build()
        with refuses(relationship, Refused, match="before"):
            act(relationship, date(2026, 1, 19))

    @pytest.mark.parametrize("step", sorted(CHANGE_STEPS))
    def test_a_step_dated_the_day_before_the_step_it_follows_is_refused(self, step):
        build, act, follows = CHANGE_STEPS[step]
        relationship = build()
        with refuses(relationship, Refused, match="before change C1 was"):
            act(relationship, date.fromordinal(follows.toordinal() - 1))


class TestMistakeStepsFollowTheStepBefore:
    @pytest.mark.parametrize("step", sorted(MISTAKE_STEPS))
    def test_a_step_on_the_day_of_the_step_it_follows_is_accepted(self, step):
        build, act, follows = MISTAKE_STEPS[step]
        relationship = build()
        act(relationship, follows)

    @pytest.mark.parametrize("step", sorted(MISTAKE_STEPS))
    def test_a_step_dated_before_the_report_is_refused(self, step):
        build, act, _ = MISTAKE_STEPS[step]
        relationship = build()
        with refuses(relationship, Refused, match="before"):
            act(relationship, date(2026, 1, 31))

    @pytest.mark.parametrize("step", sorted(MISTAKE_STEPS))
    def test_a_step_dated_the_day_before_the_step_it_follows_is_refused(self, step):
        build, act, follows = MISTAKE_STEPS[step]
        relationship = build()
        with refuses(relationship, Refused, match="before .*M1 was"):
            act(relationship, date.fromordinal(follows.toordinal() - 1))


class TestContractStepsFollowTheDraft:
    def test_a_signature_dated_before_the_draft_is_refused(self):
        relationship = drafted()
        with refuses(relationship, Refused, match="before"):
            relationship.sign_contract(party="us", signer="Ana", method="typed", on=date(2026, 1, 7))

    def test_a_signature_on_the_day_of_the_draft_is_accepted(self):
        relationship = drafted()
        relationship.sign_contract(party="us", signer="Ana", method="typed", on=DRAFTED)
        assert relationship.contracts["K1"].state == "signed_by_us"

    def test_completion_dated_before_the_contract_came_into_force_is_refused(self):
        relationship = in_force()  # signed on 2026-01-12
        with refuses(relationship, Refused, match="before"):
            relationship.complete_contract(date(2026, 1, 11))

    def test_an_invoice_dated_before_the_contract_came_into_force_is_refused(self):
        relationship = in_force()
        with refuses(relationship, Refused, match="before"):
            relationship.issue_invoice("F-2026-001", installment=1, on=date(2026, 1, 11), profile=UNTAXED_PROFILE)


class TestAHistoryRecordedBeforeTheRuleStillImports:
    """Import re-decides every stored event; a step recorded before ADR-64 keeps its day."""

    def test_an_approval_dated_before_its_quote_is_re_decided_as_recorded(self):
        from domain.model import events as ev
        from domain.model.relationship import Relationship
        from domain.model.replay import redecide

        relationship = with_quoted_change()
        # as tratos recorded it before the rule: approved the day before it was quoted
        relationship._emit(ev.ChangeApproved, ASKED, "", change_id="C1", evidence=[])
        again = Relationship(relationship.id)
        for event in relationship.collect_events():
            redecide(again, event)
        assert again.changes["C1"].state == "approved" and again.changes["C1"].decided_on == ASKED
        with refuses(again, Refused, match="before the latest event recorded with acme"):
            again.end(reason="x", ended_by="us", on=ASKED)  # a new decision is held to it
