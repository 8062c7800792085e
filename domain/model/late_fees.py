"""The late fee an overdue invoice accrues under the published terms.

`statutory-eu` follows Directive 2011/7/EU: interest at the reference rate plus
8 percentage points a year, pro rata per day late (actual/365), plus a fixed
compensation of 40 EUR per invoice.

The rule is computed on plain Decimals (`fee_amount`), so the read models work out the fee
`tratos status` shows without building the domain's pydantic models (`published_fee`, on the
JSON of published terms); `late_fee` is the same rule on `Money` and `LateFee`, and
`late_fee_claim` applies it to an invoice of the aggregate, for the documents and reminders.
An invoice is governed by the terms its contract pinned, else the latest ones when it was
issued (`governing_terms`): the read models and the aggregate both record that version.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from domain.model.currencies import to_minor_units

if TYPE_CHECKING:
    from domain.model.invoices import Invoice
    from domain.model.money import Money
    from domain.model.relationship import Relationship
    from domain.model.values import LateFee

STATUTORY_MARGIN = Decimal(8)
STATUTORY_COMPENSATION_EUR = Decimal(40)
# The ECB main refinancing rate in force from 11 June 2025, the latest this release knows.
ECB_REFERENCE_RATE = Decimal("2.15")
ECB_REFERENCE_RATE_SINCE = date(2025, 6, 11)


def __getattr__(name: str) -> Money:
    """STATUTORY_COMPENSATION (40 EUR), made when first used: a Money made at import would build
    Money's validator in every command, whether it handles money or not."""
    if name == "STATUTORY_COMPENSATION":
        from domain.model.money import Money

        return Money(amount=STATUTORY_COMPENSATION_EUR, currency="EUR")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def days_late(due: date, on: date) -> int:
    return max((on - due).days, 0)


def fee_amount(kind: str, outstanding: Decimal, currency: str, due: date, on: date, *,
               fixed: tuple[Decimal, str] | None = None, percent: Decimal | None = None,
               reference_rate: Decimal = ECB_REFERENCE_RATE) -> Decimal | None:
    """The fee (in `currency`) claimed on `on` for `outstanding` unpaid since `due`; None when
    nothing is due. `fixed` is the fixed fee's amount and currency (claimed only in its currency)."""
    late = days_late(due, on)
    if late == 0 or outstanding <= 0 or kind == "none":
        return None
    if kind == "fixed" and fixed is not None:
        amount, fixed_currency = fixed
        return amount if fixed_currency == currency else None
    if kind == "percent" and percent is not None:
        return to_minor_units(outstanding * (percent / 100), currency)
    if kind == "statutory-eu":
        yearly = (reference_rate + STATUTORY_MARGIN) / 100
        interest = to_minor_units(outstanding * (yearly * late / 365), currency)
        return interest + STATUTORY_COMPENSATION_EUR if currency == "EUR" else interest
    return None


def late_fee(fee: LateFee, reference_rate: Decimal, outstanding: Money, due: date, on: date) -> Money | None:
    """`fee_amount` on Money: the fee claimed on `on`, or None when nothing is due."""
    fixed = (fee.fixed.amount, fee.fixed.currency) if fee.fixed is not None else None
    amount = fee_amount(fee.kind, outstanding.amount, outstanding.currency, due, on, fixed=fixed,
                        percent=fee.percent, reference_rate=reference_rate)
    if amount is None:
        return None
    if fee.kind == "fixed":
        return fee.fixed
    from domain.model.money import Money

    return Money(amount=amount, currency=outstanding.currency)


def published_fee(terms: dict[str, Any], outstanding: Decimal, currency: str, due: date,
                  on: date) -> Decimal | None:
    """`fee_amount` under published terms given as their JSON (`Terms.model_dump_json`)."""
    rule = terms.get("late_fee") or {}
    fixed, percent = rule.get("fixed"), rule.get("percent")
    return fee_amount(rule.get("kind", "none"), outstanding, currency, due, on,
                      fixed=(Decimal(fixed["amount"]), fixed["currency"]) if fixed else None,
                      percent=Decimal(percent) if percent is not None else None,
                      reference_rate=Decimal(terms.get("reference_rate", ECB_REFERENCE_RATE)))


def governing_terms(pinned_by_contract: int | None, latest: int | None) -> int | None:
    """The terms version an invoice is governed by, fixed when it is issued: the one its contract
    pinned, else the latest published then (never terms published after it)."""
    return pinned_by_contract if pinned_by_contract is not None else latest


def late_fee_claim(relationship: Relationship, invoice: Invoice, on: date) -> Money | None:
    """The late fee claimed on `on` for an invoice, under the terms that govern it."""
    terms = relationship.terms.get(invoice.terms_version) if invoice.terms_version is not None else None
    if terms is None:
        return None
    return late_fee(terms.late_fee, terms.reference_rate, invoice.outstanding, invoice.due, on)
