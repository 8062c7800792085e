"""Opening a relationship, publishing terms, and the business dates every event obeys."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from domain_builders import (
    HANDLE,
    OPENED,
    acknowledged,
    acme_terms,
    chosen,
    diagnosed,
    draft,
    drafted,
    eur,
    in_force,
    invoiced,
    new_events,
    opened,
    proposed,
    refuses,
    requested,
    with_quoted_change,
    with_terms,
)
from tax_profile import UNTAXED_PROFILE

from domain.model import events as ev
from domain.model.errors import BadInput, Refused
from domain.model.relationship import Relationship
from domain.model.values import Party, stream_id


class TestOpenRelationship:
    def test_opening_records_the_client_and_starts_as_a_prospect(self):
        relationship = opened()

        [event] = new_events(relationship)
        assert isinstance(event, ev.RelationshipOpened)
        assert event.handle == HANDLE
        assert event.client == Party(name="Acme Consulting SL")
        assert event.occurred_on == OPENED
        assert event.actor == "tester"
        assert relationship.id == stream_id(HANDLE)
        assert relationship.version == 1
        assert relationship.state == "prospect"
        assert relationship.opened_on == OPENED

    def test_the_stream_id_is_derived_from_the_handle(self):
        assert stream_id("acme") == stream_id("acme")
        assert stream_id("acme") != stream_id("acme-2")

    @pytest.mark.parametrize("handle", ["", "Acme", "acme corp", "-acme", "acme-", "a" * 41, "ácme"])
    def test_a_handle_that_is_not_a_slug_is_bad_input(self, handle):
        with pytest.raises(BadInput):
            Relationship.open(stream_id("x"), handle, Party(name="Acme"), OPENED)

    def test_a_party_needs_a_name(self):
        with pytest.raises(BadInput):
            Party(name="   ")


class TestPublishTerms:
    def test_terms_are_versioned(self):
        relationship = opened()
        relationship.publish_terms(acme_terms(), OPENED)
        relationship.publish_terms(acme_terms(payment_days=15), OPENED + timedelta(days=1))

        first, second = new_events(relationship)[1:]
        assert isinstance(first, ev.TermsPublished)
        assert (first.terms_version, second.terms_version) == (1, 2)
        assert relationship.latest_terms == (2, acme_terms(payment_days=15))
        assert relationship.payment_days == 15
        assert relationship.terms[1].rate == eur(60)

    def test_a_contract_pins_the_terms_version_it_was_drafted_under(self):
        relationship = with_terms()
        relationship.publish_terms(acme_terms(payment_days=45), OPENED)
        event = draft(relationship)
        assert event.terms_version == 2
        assert relationship.contracts["K1"].terms_version == 2

    def test_a_contract_without_terms_pins_none(self):
        relationship = opened()
        assert draft(relationship).terms_version is None

    @pytest.mark.parametrize("days", [-1, 366])
    def test_payment_days_out_of_range_are_bad_input(self, days):
        with pytest.raises(BadInput):
            acme_terms(payment_days=days)


BEFORE = OPENED - timedelta(days=1)

# One command of each kind, each on an aggregate where it would otherwise succeed.
EARLY_COMMANDS = {
    "publish terms": (opened, lambda r: r.publish_terms(acme_terms(), BEFORE)),
    "draft": (with_terms, lambda r: draft(r, on=BEFORE)),
    "sign": (drafted, lambda r: r.sign_contract(party="us", signer="Ana", method="typed", on=BEFORE)),
    "complete": (in_force, lambda r: r.complete_contract(BEFORE)),
    "request change": (in_force, lambda r: r.request_change("x", requested_by="client", on=BEFORE)),
    "quote change": (requested, lambda r: r.quote_change("C1", price=eur(1), on=BEFORE)),
    "approve change": (with_quoted_change, lambda r: r.approve_change("C1", on=BEFORE)),
    "reject change": (with_quoted_change, lambda r: r.reject_change("C1", on=BEFORE)),
    "withdraw change": (with_quoted_change, lambda r: r.withdraw_change("C1", on=BEFORE)),
    "report mistake": (in_force, lambda r: r.report_mistake("x", reported_by="us", on=BEFORE)),
    "diagnose": (acknowledged, lambda r: r.diagnose_mistake("M1", fault="ours", cause="x", on=BEFORE)),
    "propose remedy": (diagnosed, lambda r: r.propose_remedy("M1", "Redo", on=BEFORE)),
    "choose": (proposed, lambda r: r.choose_remedy("M1", "O1", agreed=True, on=BEFORE)),
    "resolve": (chosen, lambda r: r.resolve_mistake("M1", on=BEFORE)),
    "lesson": (diagnosed, lambda r: r.record_lesson("M1", "Check palette", on=BEFORE)),
    "invoice": (in_force, lambda r: r.issue_invoice("F-2026-001", installment=1, on=BEFORE, profile=UNTAXED_PROFILE)),
    "hours": (in_force, lambda r: r.log_hours(Decimal(2), on=BEFORE)),
    "note": (opened, lambda r: r.record_note("Called", on=BEFORE)),
    "document": (opened, lambda r: r.issue_document("terms", sha256="a" * 64, chain_version=1,
                                                    chain_digest="b" * 64, on=BEFORE)),
    "end": (opened, lambda r: r.end(reason="x", ended_by="us", on=BEFORE)),
}


class TestNothingBeforeTheOpening:
    @pytest.mark.parametrize("command", sorted(EARLY_COMMANDS))
    def test_a_date_before_the_opening_is_refused(self, command):
        build, act = EARLY_COMMANDS[command]
        relationship = build()
        with refuses(relationship, Refused, match="before"):
            act(relationship)

    def test_payment_before_the_opening_is_refused(self):
        # An invoice cannot predate the opening, so this only checks the payment path.
        relationship = invoiced()
        with refuses(relationship, Refused):
            relationship.record_payment("F-2026-001", eur(4000), on=BEFORE)

    def test_the_opening_day_itself_is_accepted(self):
        relationship = opened()
        relationship.record_note("First call", on=OPENED)
        assert relationship.version == 2
