"""The late fee an overdue invoice accrues under the published terms.

`statutory-eu` follows Directive 2011/7/EU: interest at the reference rate plus
8 percentage points a year, pro rata per day late (actual/365), plus a fixed
compensation of 40 EUR per invoice.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.money import Money
from domain.values import LateFee

STATUTORY_MARGIN = Decimal(8)
STATUTORY_COMPENSATION_EUR = Decimal(40)


def __getattr__(name: str) -> Money:
    """STATUTORY_COMPENSATION (40 EUR), made when first used: a Money made at import would build
    Money's validator in every command, whether it handles money or not."""
    if name == "STATUTORY_COMPENSATION":
        return Money(amount=STATUTORY_COMPENSATION_EUR, currency="EUR")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def days_late(due: date, on: date) -> int:
    return max((on - due).days, 0)


def late_fee(fee: LateFee, reference_rate: Decimal, outstanding: Money, due: date, on: date) -> Money | None:
    """The fee claimed on `on` for `outstanding` unpaid since `due`; None when nothing is due."""
    late = days_late(due, on)
    if late == 0 or not outstanding.is_positive or fee.kind == "none":
        return None
    if fee.kind == "fixed" and fee.fixed is not None:
        return fee.fixed if fee.fixed.currency == outstanding.currency else None
    if fee.kind == "percent" and fee.percent is not None:
        return outstanding.times(fee.percent / 100)
    if fee.kind == "statutory-eu":
        yearly = (reference_rate + STATUTORY_MARGIN) / 100
        interest = outstanding.times(yearly * late / 365)
        if outstanding.currency == "EUR":
            return interest + Money(amount=STATUTORY_COMPENSATION_EUR, currency="EUR")
        return interest
    return None
