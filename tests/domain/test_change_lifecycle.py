"""Changes to the scope: requested, quoted, then approved, rejected or withdrawn."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from domain_builders import (
    END,
    SIGNED,
    draft,
    drafted,
    eur,
    in_force,
    new_events,
    refuses,
    requested,
    with_quoted_change,
)

from domain.model import events as ev
from domain.model.errors import BadInput, Refused, UnknownReference
from domain.model.money import Money

ASKED = date(2026, 1, 20)
QUOTED = date(2026, 1, 21)
DECIDED = date(2026, 1, 22)


class TestRequestChange:
    def test_a_requested_change_is_numbered_per_relationship(self):
        relationship = in_force()
        first = relationship.request_change("Add a blog", requested_by="client", on=ASKED)
        second = relationship.request_change("Dark mode", requested_by="us", on=ASKED)

        assert isinstance(first, ev.ChangeRequested)
        assert (first.change_id, second.change_id) == ("C1", "C2")
        assert first.contract_id == "K1"
        change = relationship.changes["C1"]
        assert (change.state, change.requested_by, change.requested_on) == ("requested", "client", ASKED)

    def test_a_change_needs_a_contract_in_force(self):
        relationship = drafted()
        with refuses(relationship, Refused, match="drafted"):
            relationship.request_change("Add a blog", requested_by="client", on=ASKED)

    def test_a_change_to_a_completed_contract_is_refused(self):
        relationship = in_force()
        relationship.complete_contract(END)
        with refuses(relationship, Refused):
            relationship.request_change("Add a blog", requested_by="client", on=END)

    def test_a_change_to_an_earlier_contract_names_it(self):
        relationship = in_force()
        draft(relationship, title="Second project", on=SIGNED)
        event = relationship.request_change("More", requested_by="client", on=ASKED, contract_id="K1")
        assert event.contract_id == "K1"

    def test_an_empty_description_is_bad_input(self):
        relationship = in_force()
        with refuses(relationship, BadInput):
            relationship.request_change(" ", requested_by="client", on=ASKED)


class TestQuoteChange:
    def test_a_requested_change_can_be_quoted(self):
        relationship = requested()
        event = relationship.quote_change("C1", price=eur(600), hours=Decimal(10), days=5, on=QUOTED)

        assert isinstance(event, ev.ChangeQuoted)
        change = relationship.changes["C1"]
        assert (change.state, change.price, change.hours, change.days) == (
            "quoted", eur(600), Decimal(10), 5)
        assert relationship.contracts["K1"].total == eur(8000), "a quote is not yet part of the contract"

    def test_a_quoted_change_cannot_be_quoted_again(self):
        relationship = with_quoted_change()
        with refuses(relationship, Refused, match="only a requested change"):
            relationship.quote_change("C1", price=eur(700), on=QUOTED)

    @pytest.mark.parametrize("decision", ["approve_change", "reject_change", "withdraw_change"])
    def test_a_decided_change_cannot_be_quoted(self, decision):
        relationship = with_quoted_change()
        getattr(relationship, decision)("C1", on=DECIDED)
        with refuses(relationship, Refused):
            relationship.quote_change("C1", price=eur(700), on=DECIDED)

    def test_an_unknown_change_cannot_be_quoted(self):
        relationship = requested()
        with refuses(relationship, UnknownReference, match="C9"):
            relationship.quote_change("C9", price=eur(600), on=QUOTED)

    def test_a_quote_in_another_currency_than_the_contract_is_refused(self):
        relationship = requested()
        with refuses(relationship, Refused, match="USD"):
            relationship.quote_change("C1", price=Money.of(600, "USD"), on=QUOTED)

    def test_negative_price_hours_or_days_are_bad_input(self):
        relationship = requested()
        with refuses(relationship, BadInput):
            relationship.quote_change("C1", price=eur(-1), on=QUOTED)
        with refuses(relationship, BadInput):
            relationship.quote_change("C1", price=eur(600), hours=Decimal(-1), on=QUOTED)
        with refuses(relationship, BadInput):
            relationship.quote_change("C1", price=eur(600), days=-1, on=QUOTED)

    def test_a_free_change_can_be_quoted_at_zero(self):
        relationship = requested()
        relationship.quote_change("C1", price=eur(0), on=QUOTED)
        assert relationship.changes["C1"].price == eur(0)


class TestApproveChange:
    def test_quoted_change_can_be_approved_and_joins_the_contract(self):
        relationship = with_quoted_change()
        event = relationship.approve_change("C1", on=DECIDED)

        assert isinstance(event, ev.ChangeApproved)
        change = relationship.changes["C1"]
        assert (change.state, change.decided_on) == ("approved", DECIDED)
        contract = relationship.contracts["K1"]
        assert contract.approved_changes == ["C1"]
        assert contract.total == eur(8600)
        assert contract.hours_available == Decimal(130)
        assert contract.current_end == END + timedelta(days=5)

    def test_two_approved_changes_add_up(self):
        relationship = with_quoted_change()
        relationship.approve_change("C1", on=DECIDED)
        relationship.request_change("Newsletter", requested_by="client", on=DECIDED)
        relationship.quote_change("C2", price=eur("250.50"), hours=Decimal("2.5"), on=DECIDED)
        relationship.approve_change("C2", on=DECIDED)
        contract = relationship.contracts["K1"]
        assert contract.total == eur("8850.50")
        assert contract.hours_available == Decimal("132.5")
        assert contract.current_end == END + timedelta(days=5)

    def test_an_unquoted_change_cannot_be_approved(self):
        relationship = requested()
        with refuses(relationship, Refused, match="quote it first"):
            relationship.approve_change("C1", on=DECIDED)

    def test_a_change_cannot_be_approved_twice(self):
        relationship = with_quoted_change()
        relationship.approve_change("C1", on=DECIDED)
        with refuses(relationship, Refused):
            relationship.approve_change("C1", on=DECIDED)

    def test_a_rejected_change_cannot_be_approved(self):
        relationship = with_quoted_change()
        relationship.reject_change("C1", on=DECIDED)
        with refuses(relationship, Refused):
            relationship.approve_change("C1", on=DECIDED)

    def test_a_change_to_a_completed_contract_cannot_be_approved(self):
        relationship = with_quoted_change()
        relationship.complete_contract(END)
        with refuses(relationship, Refused):
            relationship.approve_change("C1", on=END)

    def test_an_unknown_change_cannot_be_approved(self):
        relationship = with_quoted_change()
        with refuses(relationship, UnknownReference):
            relationship.approve_change("C2", on=DECIDED)


class TestRejectChange:
    def test_a_quoted_change_can_be_rejected_and_leaves_the_contract_alone(self):
        relationship = with_quoted_change()
        event = relationship.reject_change("C1", on=DECIDED)

        assert isinstance(event, ev.ChangeRejected)
        assert relationship.changes["C1"].state == "rejected"
        assert relationship.contracts["K1"].total == eur(8000)

    def test_an_unquoted_change_cannot_be_rejected(self):
        relationship = requested()
        with refuses(relationship, Refused):
            relationship.reject_change("C1", on=DECIDED)

    def test_an_approved_change_cannot_be_rejected(self):
        relationship = with_quoted_change()
        relationship.approve_change("C1", on=DECIDED)
        with refuses(relationship, Refused):
            relationship.reject_change("C1", on=DECIDED)


class TestWithdrawChange:
    @pytest.mark.parametrize("build", [requested, with_quoted_change], ids=["requested", "quoted"])
    def test_an_open_change_can_be_withdrawn(self, build):
        relationship = build()
        event = relationship.withdraw_change("C1", on=DECIDED)

        assert isinstance(event, ev.ChangeWithdrawn)
        assert relationship.changes["C1"].state == "withdrawn"
        assert not relationship.changes["C1"].is_open
        assert isinstance(new_events(relationship)[-1], ev.ChangeWithdrawn)

    @pytest.mark.parametrize("decision", ["approve_change", "reject_change", "withdraw_change"])
    def test_a_closed_change_cannot_be_withdrawn(self, decision):
        relationship = with_quoted_change()
        getattr(relationship, decision)("C1", on=DECIDED)
        with refuses(relationship, Refused, match="only an open change"):
            relationship.withdraw_change("C1", on=DECIDED)
