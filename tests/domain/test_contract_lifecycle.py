"""Contracts: drafted, redrafted, signed by both, completed; and what they refuse."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from domain_builders import (
    DRAFTED,
    END,
    SIGNED,
    START,
    draft,
    drafted,
    eur,
    in_force,
    new_events,
    opened,
    refuses,
    sign,
    two_installments,
    with_terms,
)

from domain.model import events as ev
from domain.model.errors import BadInput, Refused, UnknownReference
from domain.model.money import Money
from domain.model.values import Evidence, Installment


class TestDraftContract:
    def test_a_draft_is_numbered_k1_and_makes_the_relationship_drafted(self):
        relationship = with_terms()
        event = draft(relationship)

        assert isinstance(event, ev.ContractDrafted)
        assert event.contract_id == "K1"
        assert event.supersedes is None
        contract = relationship.contracts["K1"]
        assert contract.state == "drafted"
        assert contract.price == eur(8000)
        assert contract.total == eur(8000)
        assert [i.amount for i in contract.installments] == [eur(4000), eur(4000)]
        assert contract.hours_budget == Decimal(120)
        assert (contract.start, contract.end, contract.drafted_on) == (START, END, DRAFTED)
        assert contract.our_duties == ["Deliver weekly"]
        assert contract.client_duties == ["Pay on time"]
        assert relationship.state == "drafted"
        assert relationship.current_contract is contract

    def test_a_single_installment_of_the_whole_price_is_a_schedule(self):
        relationship = with_terms()
        draft(relationship, installments=[Installment(n=1, amount=eur(8000), due=START)])
        assert len(relationship.contracts["K1"].installments) == 1

    @pytest.mark.parametrize("amounts", [("4000", "3999.99"), ("4000", "4000.01"), ("8000", "8000")])
    def test_installments_that_do_not_add_up_to_the_price_are_refused(self, amounts):
        relationship = with_terms()
        schedule = [Installment(n=n, amount=eur(a), due=START) for n, a in enumerate(amounts, 1)]
        with refuses(relationship, Refused, match="add up"):
            draft(relationship, installments=schedule)

    def test_a_draft_without_installments_is_refused(self):
        relationship = with_terms()
        with refuses(relationship, Refused):
            draft(relationship, installments=[])

    def test_an_installment_in_another_currency_is_refused(self):
        relationship = with_terms()
        schedule = [Installment(n=1, amount=eur(4000), due=START),
                    Installment(n=2, amount=Money.of(4000, "USD"), due=START)]
        with refuses(relationship, Refused, match="USD"):
            draft(relationship, installments=schedule)

    def test_a_zero_installment_is_refused(self):
        relationship = with_terms()
        schedule = [Installment(n=1, amount=eur(8000), due=START),
                    Installment(n=2, amount=eur(0), due=END)]
        with refuses(relationship, Refused):
            draft(relationship, installments=schedule)

    def test_two_installments_with_the_same_number_are_refused(self):
        # Installment 1 twice would make the second one impossible to invoice.
        relationship = with_terms()
        schedule = [Installment(n=1, amount=eur(4000), due=START),
                    Installment(n=1, amount=eur(4000), due=END)]
        with refuses(relationship, Refused):
            draft(relationship, installments=schedule)

    def test_an_end_before_the_start_is_bad_input(self):
        relationship = with_terms()
        with refuses(relationship, BadInput, match="before it starts"):
            draft(relationship, start=END, end=START)

    @pytest.mark.parametrize("price", ["0", "-100"])
    def test_a_price_that_is_not_positive_is_bad_input(self, price):
        relationship = with_terms()
        with refuses(relationship, BadInput):
            draft(relationship, price=eur(price))

    def test_a_hours_budget_that_is_not_positive_is_bad_input(self):
        relationship = with_terms()
        with refuses(relationship, BadInput):
            draft(relationship, hours_budget=Decimal(0))

    def test_an_empty_title_is_bad_input(self):
        relationship = with_terms()
        with refuses(relationship, BadInput):
            draft(relationship, title="  ")


class TestRedraft:
    def test_a_redraft_gets_the_next_number_and_supersedes_the_draft(self):
        relationship = drafted()
        event = draft(relationship, price=eur(9000), installments=two_installments("9000"))

        assert (event.contract_id, event.supersedes) == ("K2", "K1")
        assert relationship.contracts["K1"].state == "superseded"
        assert relationship.contracts["K2"].state == "drafted"
        assert relationship.current_contract.id == "K2"
        assert relationship.state == "drafted"

    def test_a_half_signed_draft_is_superseded_too(self):
        relationship = drafted()
        sign(relationship, "us")
        assert draft(relationship, on=SIGNED).supersedes == "K1"  # not before K1's signature (ADR-67)
        assert relationship.contracts["K1"].state == "superseded"

    def test_a_superseded_draft_can_no_longer_be_signed(self):
        relationship = drafted()
        draft(relationship)
        with refuses(relationship, Refused, match="superseded"):
            sign(relationship, "client", contract_id="K1")

    def test_a_new_draft_after_a_contract_in_force_is_a_new_project(self):
        relationship = in_force()
        event = draft(relationship, title="Second project", on=SIGNED)

        assert (event.contract_id, event.supersedes) == ("K2", None)
        assert relationship.contracts["K1"].state == "in_force"
        assert relationship.current_contract.id == "K2"
        assert relationship.state == "active"


class TestSignContract:
    def test_our_signature_alone_leaves_it_signed_by_us(self):
        relationship = drafted()
        event = sign(relationship, "us")

        assert isinstance(event, ev.ContractSigned)
        assert (event.contract_id, event.party, event.method) == ("K1", "us", "typed")
        assert relationship.contracts["K1"].state == "signed_by_us"
        assert relationship.state == "drafted"

    def test_the_clients_signature_alone_leaves_it_signed_by_the_client(self):
        relationship = drafted()
        sign(relationship, "client")
        assert relationship.contracts["K1"].state == "signed_by_client"

    def test_both_signatures_put_it_in_force_and_the_relationship_active(self):
        relationship = drafted()
        sign(relationship, "client")
        sign(relationship, "us")

        contract = relationship.contracts["K1"]
        assert contract.state == "in_force"
        assert set(contract.signatures) == {"us", "client"}
        assert contract.signatures["client"].signer == "Carlos Acme"
        assert contract.signatures["client"].on == SIGNED
        assert relationship.state == "active"

    def test_an_email_acceptance_keeps_its_evidence_and_certificate_details(self):
        relationship = drafted()
        evidence = Evidence(sha256="c" * 64, name="accept.eml", size=1200, media_type="message/rfc822")
        relationship.sign_contract(party="client", signer="Carlos", method="email", on=SIGNED,
                                   evidence=[evidence], certificate_fingerprint="ab" * 32,
                                   document_sha256="d" * 64)
        signature = relationship.contracts["K1"].signatures["client"]
        assert signature.evidence == [evidence]
        assert signature.certificate_fingerprint == "ab" * 32
        assert signature.document_sha256 == "d" * 64

    def test_an_unknown_draft_cannot_be_signed(self):
        relationship = drafted()
        with refuses(relationship, UnknownReference, match="K7"):
            sign(relationship, "us", contract_id="K7")

    def test_nothing_can_be_signed_before_a_draft(self):
        relationship = with_terms()
        with refuses(relationship, Refused, match="no contract"):
            sign(relationship, "us")

    def test_the_same_party_cannot_sign_twice(self):
        relationship = drafted()
        sign(relationship, "us")
        with refuses(relationship, Refused, match="already signed"):
            sign(relationship, "us")

    def test_a_contract_in_force_cannot_be_signed_again(self):
        relationship = in_force()
        with refuses(relationship, Refused, match="already signed"):
            sign(relationship, "client")

    @pytest.mark.parametrize("method", ["email", "ink"])
    def test_an_email_or_ink_signature_needs_evidence(self, method):
        relationship = drafted()
        with refuses(relationship, BadInput):
            relationship.sign_contract(party="client", signer="Carlos", method=method, on=SIGNED)

    def test_an_unknown_method_or_party_is_bad_input(self):
        relationship = drafted()
        with refuses(relationship, BadInput):
            relationship.sign_contract(party="us", signer="Ana", method="fax", on=SIGNED)
        with refuses(relationship, BadInput):
            relationship.sign_contract(party="boss", signer="Ana", method="typed", on=SIGNED)


class TestCompleteContract:
    def test_a_contract_in_force_can_be_completed(self):
        relationship = in_force()
        event = relationship.complete_contract(date(2026, 3, 20))

        assert isinstance(event, ev.ContractCompleted)
        contract = relationship.contracts["K1"]
        assert (contract.state, contract.completed_on) == ("completed", date(2026, 3, 20))
        assert relationship.state == "active"

    def test_a_draft_cannot_be_completed(self):
        relationship = drafted()
        with refuses(relationship, Refused):
            relationship.complete_contract(date(2026, 3, 20))

    def test_a_contract_cannot_be_completed_twice(self):
        relationship = in_force()
        relationship.complete_contract(date(2026, 3, 20))
        with refuses(relationship, Refused):
            relationship.complete_contract(date(2026, 3, 21))

    def test_an_earlier_contract_is_completed_by_its_id(self):
        relationship = in_force()
        draft(relationship, title="Second project", on=SIGNED)
        relationship.complete_contract(date(2026, 3, 20), contract_id="K1")
        assert relationship.contracts["K1"].state == "completed"
        assert relationship.contracts["K2"].state == "drafted"


def test_new_events_helper_sees_the_whole_uncollected_history():
    relationship = opened()
    relationship.record_note("x", on=date(2026, 1, 6))
    assert [type(e).__name__ for e in new_events(relationship)] == ["RelationshipOpened", "NoteRecorded"]
