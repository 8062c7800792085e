"""A client story recorded through the Application, for the projection tests.

`acme_story(app)` records, with explicit business dates: terms with a late fee,
a contract of 8000 EUR in two installments, an invoice for the first
(due 2026-02-14), a partial payment, a change approved, a mistake with its
lesson, hours and a note. Dates are chosen so `--as-of` cuts are easy to
reason about.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from domain.model.money import Money
from domain.model.values import Installment, LateFee, Party, Scope, Terms

D = date.fromisoformat


def eur(amount: str | int) -> Money:
    return Money.of(amount, "EUR")


def statutory() -> LateFee:
    return LateFee(kind="statutory-eu")


def open_client(app: Any, handle: str = "acme", *, on: str = "2026-01-05",
                late_fee: LateFee | None = None, response_days: int = 2) -> None:
    app.open_relationship(handle, Party(name=f"{handle.title()} SL"), on=D(on))
    app.publish_terms(handle, Terms(payment_days=30, response_days=response_days,
                                    late_fee=late_fee or statutory(), reference_rate=Decimal("2.15")),
                      on=D(on))


def in_force(app: Any, handle: str = "acme", *, price: str = "8000", **terms: Any) -> None:
    open_client(app, handle, **terms)
    half = eur(Decimal(price) / 2)
    app.draft_contract(handle, title="Website relaunch", scope=Scope(description="Redesign"), price=eur(price),
                       start=D("2026-01-15"), end=D("2026-03-15"), hours_budget=Decimal(120),
                       installments=[Installment(n=1, amount=half, due=D("2026-01-15")),
                                     Installment(n=2, amount=half, due=D("2026-02-15"))],
                       on=D("2026-01-08"))
    app.sign_contract(handle, party="us", signer="Ana", method="typed", on=D("2026-01-12"))
    app.sign_contract(handle, party="client", signer="Laura", method="typed", on=D("2026-01-12"))


def acme_story(app: Any, handle: str = "acme", **terms: Any) -> str:
    """The whole story; returns the number of the first invoice."""
    in_force(app, handle, **terms)
    number = app.issue_invoice(handle, installment=1, on=D("2026-01-15")).id
    app.record_payment(handle, number, eur(1000), on=D("2026-01-20"))
    app.request_change(handle, "Add a blog", requested_by="client", on=D("2026-01-21"))
    app.quote_change(handle, "C1", price=eur(600), hours=Decimal(10), days=5, on=D("2026-01-22"))
    app.approve_change(handle, "C1", on=D("2026-02-03"))
    app.report_mistake(handle, "Contact form lost messages", reported_by="client", on=D("2026-02-01"))
    app.acknowledge_mistake(handle, "M1", on=D("2026-02-05"), apology="Sorry")
    app.diagnose_mistake(handle, "M1", fault="ours", cause="No test in production", category="deployment",
                         on=D("2026-02-06"))
    app.record_lesson(handle, "M1", "Send a test message before every delivery", on=D("2026-02-07"))
    app.log_hours(handle, Decimal("3.5"), on=D("2026-02-08"), note="Blog")
    app.record_note(handle, "Client asked for weekly calls", on=D("2026-02-09"))
    return number
