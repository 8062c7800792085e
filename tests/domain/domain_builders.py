"""Builders for pure domain tests: aggregates made in memory, no store, explicit dates.

`with refuses(relationship, ErrorType):` is the one way refusals are asserted: the
error has exactly that type and the aggregate did not change at all (same
version, same head digest, no new pending event, same folded state).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from tax_profile import UNTAXED_PROFILE

from domain.model.chain import ChainedAggregate
from domain.model.money import Money
from domain.model.relationship import Relationship
from domain.model.values import Installment, LateFee, Party, Scope, Terms, stream_id

HANDLE = "acme"
OPENED = date(2026, 1, 5)
DRAFTED = date(2026, 1, 8)
SIGNED = date(2026, 1, 12)
START = date(2026, 1, 15)
MIDPOINT = date(2026, 2, 15)
END = date(2026, 3, 15)


def eur(amount: str | int) -> Money:
    return Money.of(amount, "EUR")


def acme_terms(**overrides: Any) -> Terms:
    fields: dict[str, Any] = {
        "rate": eur(60), "payment_days": 30, "response_days": 2,
        "late_fee": LateFee(kind="statutory-eu"), "reference_rate": Decimal("2.15"),
        "confidentiality": "Client data stays confidential for 5 years.",
    }
    return Terms(**(fields | overrides))


def opened(on: date = OPENED, handle: str = HANDLE) -> Relationship:
    return Relationship.open(stream_id(handle), handle, Party(name="Acme Consulting SL"), on, "tester")


def with_terms(relationship: Relationship | None = None, **overrides: Any) -> Relationship:
    relationship = relationship or opened()
    relationship.publish_terms(acme_terms(**overrides), OPENED)
    return relationship


def two_installments(total: str = "8000", currency: str = "EUR") -> list[Installment]:
    half = Money.of(Decimal(total) / 2, currency)
    return [
        Installment(n=1, amount=half, due=START, percent=Decimal(50)),
        Installment(n=2, amount=half, due=MIDPOINT, percent=Decimal(50)),
    ]


def draft(relationship: Relationship, *, on: date = DRAFTED, **overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "title": "Website redesign", "scope": Scope(description="New site", deliverables=["Design"]),
        "price": eur(8000), "start": START, "end": END, "installments": two_installments(),
        "hours_budget": Decimal(120), "our_duties": ["Deliver weekly"],
        "client_duties": ["Pay on time"],
    }
    return relationship.draft_contract(**(fields | overrides), on=on)


def drafted() -> Relationship:
    relationship = with_terms()
    draft(relationship)
    return relationship


def sign(relationship: Relationship, party: str, contract_id: str | None = None,
         on: date = SIGNED) -> Any:
    signer = "Ana Freelance" if party == "us" else "Carlos Acme"
    return relationship.sign_contract(party=party, signer=signer, method="typed", on=on,
                                      contract_id=contract_id)


def in_force() -> Relationship:
    relationship = drafted()
    sign(relationship, "us")
    sign(relationship, "client")
    return relationship


def with_quoted_change(relationship: Relationship | None = None) -> Relationship:
    relationship = relationship or in_force()
    relationship.request_change("Add a blog", requested_by="client", on=date(2026, 1, 20))
    relationship.quote_change("C1", price=eur(600), hours=Decimal(10), days=5, on=date(2026, 1, 21))
    return relationship


def diagnosed() -> Relationship:
    relationship = in_force()
    relationship.report_mistake("Wrong logo colour", reported_by="client", on=date(2026, 2, 1))
    relationship.acknowledge_mistake("M1", on=date(2026, 2, 2), apology="Sorry")
    relationship.diagnose_mistake("M1", fault="ours", cause="Old palette", category="branding",
                                  on=date(2026, 2, 3))
    return relationship


def invoiced(relationship: Relationship | None = None, number: str = "F-2026-001") -> Relationship:
    relationship = relationship or in_force()
    relationship.issue_invoice(number, installment=1, on=START, profile=UNTAXED_PROFILE)
    return relationship


def new_events(relationship: ChainedAggregate) -> list[Any]:
    """The events recorded since the aggregate was last collected."""
    return list(relationship._pending)


def _snapshot(aggregate: ChainedAggregate) -> dict[str, Any]:
    state = {k: v for k, v in vars(aggregate).items() if k != "_pending"}
    return copy.deepcopy(state) | {"pending": list(aggregate._pending)}


@contextmanager
def refuses(aggregate: ChainedAggregate, error: type[Exception],
            match: str | None = None) -> Iterator[pytest.ExceptionInfo]:
    before = _snapshot(aggregate)
    version = aggregate.version
    with pytest.raises(error, match=match) as info:
        yield info
    assert type(info.value) is error, f"expected {error.__name__}, got {type(info.value).__name__}"
    assert str(info.value), "a refusal says why"
    assert aggregate.version == version
    assert _snapshot(aggregate) == before


def requested() -> Relationship:
    relationship = in_force()
    relationship.request_change("Add a blog", requested_by="client", on=date(2026, 1, 20))
    return relationship


def reported() -> Relationship:
    relationship = in_force()
    relationship.report_mistake("Wrong logo colour", reported_by="client", on=date(2026, 2, 1))
    return relationship


def acknowledged() -> Relationship:
    relationship = reported()
    relationship.acknowledge_mistake("M1", on=date(2026, 2, 2))
    return relationship


def proposed() -> Relationship:
    relationship = diagnosed()
    relationship.propose_remedy("M1", "Free rework", cost=eur(0), hours=Decimal(4), on=date(2026, 2, 4))
    relationship.propose_remedy("M1", "Discount", cost=eur(200), on=date(2026, 2, 4))
    return relationship


def chosen() -> Relationship:
    relationship = proposed()
    relationship.choose_remedy("M1", "O1", agreed=True, on=date(2026, 2, 4))
    return relationship
