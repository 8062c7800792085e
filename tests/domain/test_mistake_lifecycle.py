"""Mistakes: reported, acknowledged, diagnosed, remedied, resolved, and learned from."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from domain_builders import (
    acknowledged,
    chosen,
    diagnosed,
    eur,
    in_force,
    opened,
    proposed,
    refuses,
    reported,
    with_terms,
)

from domain.model import events as ev
from domain.model.errors import BadInput, Refused, UnknownReference

REPORTED = date(2026, 2, 1)
LATER = date(2026, 2, 4)


class TestReportMistake:
    def test_a_reported_mistake_is_numbered_and_tied_to_the_current_contract(self):
        relationship = in_force()
        event = relationship.report_mistake("Wrong logo colour", reported_by="client", on=REPORTED)
        second = relationship.report_mistake("Late delivery", reported_by="us", on=REPORTED)

        assert isinstance(event, ev.MistakeReported)
        assert (event.mistake_id, second.mistake_id) == ("M1", "M2")
        assert event.contract_id == "K1"
        mistake = relationship.mistakes["M1"]
        assert (mistake.state, mistake.reported_by, mistake.reported_on) == ("reported", "client", REPORTED)
        assert mistake.is_open

    def test_a_mistake_can_be_reported_before_any_contract(self):
        relationship = with_terms()
        event = relationship.report_mistake("Misread the brief", reported_by="us", on=REPORTED)
        assert event.contract_id is None

    def test_an_unknown_reporter_is_bad_input(self):
        relationship = opened()
        with refuses(relationship, BadInput):
            relationship.report_mistake("x", reported_by="nobody", on=REPORTED)


class TestAcknowledgeMistake:
    def test_a_reported_mistake_can_be_acknowledged_with_an_apology(self):
        relationship = reported()
        event = relationship.acknowledge_mistake("M1", on=date(2026, 2, 2), apology="Sorry")

        assert isinstance(event, ev.MistakeAcknowledged)
        mistake = relationship.mistakes["M1"]
        assert (mistake.state, mistake.apology) == ("acknowledged", "Sorry")
        assert mistake.days_to_acknowledge() == 1
        assert relationship.warnings == []

    def test_a_slow_acknowledgement_warns_against_the_response_days(self):
        relationship = reported()  # terms promise an answer within 2 days
        relationship.acknowledge_mistake("M1", on=date(2026, 2, 5))
        assert relationship.mistakes["M1"].days_to_acknowledge() == 4
        assert any("4 days" in w for w in relationship.warnings)

    def test_a_mistake_cannot_be_acknowledged_twice(self):
        relationship = acknowledged()
        with refuses(relationship, Refused):
            relationship.acknowledge_mistake("M1", on=LATER)

    def test_it_cannot_be_acknowledged_before_it_was_reported(self):
        relationship = reported()
        with refuses(relationship, Refused, match="before it was reported"):
            relationship.acknowledge_mistake("M1", on=date(2026, 1, 31))

    def test_an_unknown_mistake_cannot_be_acknowledged(self):
        relationship = reported()
        with refuses(relationship, UnknownReference, match="M2"):
            relationship.acknowledge_mistake("M2", on=LATER)


class TestDiagnoseMistake:
    def test_an_acknowledged_mistake_can_be_diagnosed(self):
        relationship = acknowledged()
        event = relationship.diagnose_mistake("M1", fault="misunderstanding", cause="Two briefs",
                                              category="Briefing", on=LATER)

        assert isinstance(event, ev.MistakeDiagnosed)
        mistake = relationship.mistakes["M1"]
        assert (mistake.state, mistake.fault, mistake.cause, mistake.category) == (
            "diagnosed", "misunderstanding", "Two briefs", "briefing")

    def test_a_recurring_category_warns(self):
        relationship = diagnosed()  # M1 is "branding"
        relationship.report_mistake("Wrong font", reported_by="client", on=LATER)
        relationship.acknowledge_mistake("M2", on=LATER)
        relationship.diagnose_mistake("M2", fault="ours", cause="Old guide", category="branding", on=LATER)
        assert any("branding" in w and "M1" in w for w in relationship.warnings)

    def test_an_unacknowledged_mistake_cannot_be_diagnosed(self):
        relationship = reported()
        with refuses(relationship, Refused, match="acknowledge it"):
            relationship.diagnose_mistake("M1", fault="ours", cause="x", on=LATER)

    def test_a_mistake_cannot_be_diagnosed_twice(self):
        relationship = diagnosed()
        with refuses(relationship, Refused):
            relationship.diagnose_mistake("M1", fault="client", cause="x", on=LATER)

    def test_an_unknown_fault_is_bad_input(self):
        relationship = acknowledged()
        with refuses(relationship, BadInput):
            relationship.diagnose_mistake("M1", fault="nobody", cause="x", on=LATER)

    def test_a_diagnosis_needs_a_cause(self):
        relationship = acknowledged()
        with refuses(relationship, BadInput):
            relationship.diagnose_mistake("M1", fault="ours", cause="", on=LATER)


class TestProposeRemedy:
    def test_options_are_numbered_per_mistake(self):
        relationship = diagnosed()
        first = relationship.propose_remedy("M1", "Free rework", cost=eur(0), hours=Decimal(4), on=LATER)
        second = relationship.propose_remedy("M1", "Discount", cost=eur(200), on=LATER)

        assert isinstance(first, ev.RemedyProposed)
        assert (first.option_id, second.option_id) == ("O1", "O2")
        mistake = relationship.mistakes["M1"]
        assert mistake.state == "remedy_proposed"
        assert mistake.options["O1"].cost == eur(0)
        assert mistake.options["O2"].description == "Discount"

    @pytest.mark.parametrize("build", [reported, acknowledged])
    def test_no_remedy_before_the_diagnosis(self, build):
        relationship = build()
        with refuses(relationship, Refused, match="not diagnosed"):
            relationship.propose_remedy("M1", "Free rework", on=LATER)

    def test_no_more_options_once_one_was_chosen(self):
        relationship = chosen()
        with refuses(relationship, Refused):
            relationship.propose_remedy("M1", "Refund", on=LATER)

    def test_a_negative_cost_is_bad_input(self):
        relationship = diagnosed()
        with refuses(relationship, BadInput):
            relationship.propose_remedy("M1", "Refund", cost=eur(-5), on=LATER)


class TestChooseRemedy:
    def test_a_proposed_option_can_be_chosen_with_the_clients_agreement(self):
        relationship = proposed()
        event = relationship.choose_remedy("M1", "O1", agreed=True, on=LATER)

        assert isinstance(event, ev.RemedyChosen)
        mistake = relationship.mistakes["M1"]
        assert (mistake.state, mistake.chosen, mistake.agreed) == ("remedy_chosen", "O1", True)

    def test_an_option_can_be_chosen_without_agreement(self):
        relationship = proposed()
        relationship.choose_remedy("M1", "O2", agreed=False, on=LATER)
        assert relationship.mistakes["M1"].agreed is False

    def test_an_option_that_was_not_proposed_cannot_be_chosen(self):
        relationship = proposed()
        with refuses(relationship, UnknownReference, match="O3"):
            relationship.choose_remedy("M1", "O3", agreed=True, on=LATER)

    def test_nothing_can_be_chosen_before_any_proposal(self):
        relationship = diagnosed()
        with refuses(relationship, UnknownReference, match="none yet"):
            relationship.choose_remedy("M1", "O1", agreed=True, on=LATER)

    def test_a_second_choice_is_refused(self):
        relationship = chosen()
        with refuses(relationship, Refused):
            relationship.choose_remedy("M1", "O2", agreed=True, on=LATER)


class TestResolveMistake:
    def test_a_mistake_with_a_chosen_remedy_can_be_resolved(self):
        relationship = chosen()
        event = relationship.resolve_mistake("M1", on=date(2026, 2, 10))

        assert isinstance(event, ev.MistakeResolved)
        mistake = relationship.mistakes["M1"]
        assert (mistake.state, mistake.resolved_on) == ("resolved", date(2026, 2, 10))
        assert not mistake.is_open

    @pytest.mark.parametrize("build", [reported, acknowledged, diagnosed, proposed])
    def test_a_mistake_without_a_chosen_remedy_cannot_be_resolved(self, build):
        relationship = build()
        with refuses(relationship, Refused, match="choose a remedy"):
            relationship.resolve_mistake("M1", on=LATER)

    def test_a_mistake_cannot_be_resolved_twice(self):
        relationship = chosen()
        relationship.resolve_mistake("M1", on=LATER)
        with refuses(relationship, Refused):
            relationship.resolve_mistake("M1", on=LATER)


class TestRecordLesson:
    @pytest.mark.parametrize("build", [diagnosed, proposed, chosen])
    def test_a_lesson_can_be_kept_once_diagnosed_without_changing_the_state(self, build):
        relationship = build()
        state = relationship.mistakes["M1"].state
        event = relationship.record_lesson("M1", "Check the brand guide first", on=LATER)

        assert isinstance(event, ev.LessonRecorded)
        assert relationship.mistakes["M1"].lesson == "Check the brand guide first"
        assert relationship.mistakes["M1"].state == state

    def test_a_lesson_after_the_resolution_is_kept(self):
        relationship = chosen()
        relationship.resolve_mistake("M1", on=LATER)
        relationship.record_lesson("M1", "Check the brand guide first", on=LATER)
        assert relationship.mistakes["M1"].state == "resolved"

    @pytest.mark.parametrize("build", [reported, acknowledged])
    def test_no_lesson_before_the_diagnosis(self, build):
        relationship = build()
        with refuses(relationship, Refused, match="not diagnosed"):
            relationship.record_lesson("M1", "x", on=LATER)

    def test_only_one_lesson_per_mistake(self):
        relationship = diagnosed()
        relationship.record_lesson("M1", "First", on=LATER)
        with refuses(relationship, Refused, match="already"):
            relationship.record_lesson("M1", "Second", on=LATER)
