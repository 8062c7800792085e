"""The late fee an overdue invoice accrues under the published terms, and the claim a reminder makes.

`statutory-eu` follows Directive 2011/7/EU: interest at the reference rate plus
8 percentage points a year, pro rata per day late (actual/365), plus a fixed
compensation of 40 EUR per invoice. The reference rate is the one the terms fix, else the
ECB rate of the half-year the invoice fell due in (domain/model/reference_rates.py).

The rule is computed on plain Decimals (`late_claim`, item by item: principal, days, rate,
interest, compensation, total; `fee_amount` is its fee), so the read models work out the fee
`tratos status` shows without building the domain's pydantic models (`published_fee`, on the
JSON of published terms); `late_fee` is the same rule on `Money` and `LateFee`, and
`invoice_claim`/`late_fee_claim` apply it to an invoice of the aggregate, for the documents and
reminders. An invoice is governed by the terms its contract pinned, else the latest ones when it
was issued (`governing_terms`): the read models and the aggregate both record that version.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from domain.model.currencies import to_minor_units
from domain.model.reference_rates import ReferenceRate, reference_rate_for

if TYPE_CHECKING:
    from domain.model.invoices import Invoice
    from domain.model.money import Money
    from domain.model.relationship import Relationship
    from domain.model.values import LateFee

STATUTORY_MARGIN = Decimal(8)
STATUTORY_COMPENSATION_EUR = Decimal(40)
# What every version-1 `TermsPublished` meant when it did not say otherwise: the ECB main
# refinancing rate in force from 11 June 2025, the only one tratos 0.1 knew (events.py upcasts).
V1_REFERENCE_RATE = Decimal("2.15")


def __getattr__(name: str) -> Money:
    """STATUTORY_COMPENSATION (40 EUR), made when first used: a Money made at import would build
    Money's validator in every command, whether it handles money or not."""
    if name == "STATUTORY_COMPENSATION":
        from domain.model.money import Money

        return Money(amount=STATUTORY_COMPENSATION_EUR, currency="EUR")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def days_late(due: date, on: date) -> int:
    return max((on - due).days, 0)


class Claim(NamedTuple):
    """What is claimed for one late invoice on a day, item by item, in the invoice's currency.

    `statutory-eu`: `interest` for `days` at the annual `rate` (the `reference` rate plus 8
    points) and the fixed `compensation` (40 EUR, in EUR only). `percent`: the fee is `interest`
    (no rate, no reference). `fixed`: the fee is `compensation`.
    """

    kind: str
    currency: str
    principal: Decimal
    days: int
    reference: ReferenceRate | None
    rate: Decimal | None
    interest: Decimal
    compensation: Decimal

    @property
    def fee(self) -> Decimal:
        """The late fee: everything claimed but the principal."""
        return self.interest + self.compensation

    @property
    def total(self) -> Decimal:
        """The principal outstanding and the late fee."""
        return self.principal + self.fee


def late_claim(kind: str, outstanding: Decimal, currency: str, due: date, on: date, *,
               fixed: tuple[Decimal, str] | None = None, percent: Decimal | None = None,
               reference_rate: Decimal | None = None) -> Claim | None:
    """The claim on `on` for `outstanding` unpaid since `due`; None when no fee is due.

    `fixed` is the fixed fee's amount and currency (claimed only in its currency);
    `reference_rate` the one the terms fix, None for the table's rate of the due date.
    """
    late = days_late(due, on)
    if late == 0 or outstanding <= 0 or kind == "none":
        return None
    zero = Decimal(0)
    if kind == "fixed" and fixed is not None:
        amount, fixed_currency = fixed
        if fixed_currency != currency:
            return None
        return Claim(kind, currency, outstanding, late, None, None, zero, amount)
    if kind == "percent" and percent is not None:
        return Claim(kind, currency, outstanding, late, None, None,
                     to_minor_units(outstanding * (percent / 100), currency), zero)
    if kind == "statutory-eu":
        reference = ReferenceRate(reference_rate) if reference_rate is not None else reference_rate_for(due)
        rate = reference.rate + STATUTORY_MARGIN
        interest = to_minor_units(outstanding * (rate / 100 * late / 365), currency)
        compensation = STATUTORY_COMPENSATION_EUR if currency == "EUR" else zero
        return Claim(kind, currency, outstanding, late, reference, rate, interest, compensation)
    return None


def fee_amount(kind: str, outstanding: Decimal, currency: str, due: date, on: date, *,
               fixed: tuple[Decimal, str] | None = None, percent: Decimal | None = None,
               reference_rate: Decimal | None = None) -> Decimal | None:
    """The fee (in `currency`) claimed on `on` for `outstanding` unpaid since `due`; None when
    nothing is due (`late_claim`'s fee)."""
    claim = late_claim(kind, outstanding, currency, due, on, fixed=fixed, percent=percent,
                       reference_rate=reference_rate)
    return None if claim is None else claim.fee


def fee_claim(fee: LateFee, reference_rate: Decimal | None, outstanding: Money, due: date,
              on: date) -> Claim | None:
    """`late_claim` under a `LateFee` of the terms, for `outstanding` as Money."""
    fixed = (fee.fixed.amount, fee.fixed.currency) if fee.fixed is not None else None
    return late_claim(fee.kind, outstanding.amount, outstanding.currency, due, on, fixed=fixed,
                      percent=fee.percent, reference_rate=reference_rate)


def late_fee(fee: LateFee, reference_rate: Decimal | None, outstanding: Money, due: date,
             on: date) -> Money | None:
    """`fee_amount` on Money: the fee claimed on `on`, or None when nothing is due."""
    claim = fee_claim(fee, reference_rate, outstanding, due, on)
    if claim is None:
        return None
    if fee.kind == "fixed":
        return fee.fixed
    from domain.model.money import Money

    return Money(amount=claim.fee, currency=outstanding.currency)


def published_reference_rate(terms: dict[str, Any]) -> Decimal | None:
    """The reference rate published terms (as JSON) fix, or None when they use the table."""
    rate = terms.get("reference_rate")
    return None if rate is None else Decimal(rate)


def uses_rate_table(terms: dict[str, Any]) -> bool:
    """Whether published terms (as JSON) claim statutory interest at the table's rate."""
    rule = terms.get("late_fee") or {}
    return rule.get("kind") == "statutory-eu" and terms.get("reference_rate") is None


def published_fee(terms: dict[str, Any], outstanding: Decimal, currency: str, due: date,
                  on: date) -> Decimal | None:
    """`fee_amount` under published terms given as their JSON (`Terms.model_dump_json`)."""
    rule = terms.get("late_fee") or {}
    fixed, percent = rule.get("fixed"), rule.get("percent")
    return fee_amount(rule.get("kind", "none"), outstanding, currency, due, on,
                      fixed=(Decimal(fixed["amount"]), fixed["currency"]) if fixed else None,
                      percent=Decimal(percent) if percent is not None else None,
                      reference_rate=published_reference_rate(terms))


def check_fee_currency(fee: LateFee, currency: str, what: str) -> None:
    """A fixed fee is claimed only in its own currency (`late_claim`): terms whose fee is in one
    currency and whose prices are in another would print a fee no reminder ever claims."""
    from domain.model.errors import Refused
    from domain.model.values import as_recorded

    if fee.kind == "fixed" and fee.fixed is not None and fee.fixed.currency != currency and not as_recorded():
        raise Refused(f"the late fee is in {fee.fixed.currency} and {what} in {currency}: a fixed fee is"
                      f" claimed in its own currency only; give the fee in {currency}")


def governing_terms(pinned_by_contract: int | None, latest: int | None) -> int | None:
    """The terms version an invoice is governed by, fixed when it is issued: the one its contract
    pinned, else the latest published then (never terms published after it)."""
    return pinned_by_contract if pinned_by_contract is not None else latest


def invoice_claim(relationship: Relationship, invoice: Invoice, on: date) -> Claim | None:
    """What is claimed on `on` for an invoice, item by item, under the terms that govern it."""
    terms = relationship.terms.get(invoice.terms_version) if invoice.terms_version is not None else None
    if terms is None:
        return None
    return fee_claim(terms.late_fee, terms.reference_rate, invoice.outstanding, invoice.due, on)


def late_fee_claim(relationship: Relationship, invoice: Invoice, on: date) -> Money | None:
    """The late fee claimed on `on` for an invoice (`invoice_claim`'s fee), as Money."""
    claim = invoice_claim(relationship, invoice, on)
    if claim is None:
        return None
    from domain.model.money import Money

    return Money(amount=claim.fee, currency=claim.currency)


def recorded_fees(relationship: Relationship, invoice: Invoice, on: date) -> list[Money | None]:
    """The late fees a reminder recorded by some release of tratos may claim on `on` (ADR-35).

    Today's claim; the claim under any terms the relationship published (a reminder was not
    always governed by the terms that govern its invoice now); under statutory interest at the
    table's rate, the claim at the rate of every half-year up to the one the invoice fell due in
    (a release whose table ended earlier applied its last rate; the table only grows). Of each
    claim, also one of its items alone (the interest, or the 40 EUR compensation) or nothing: the
    Application of tratos 0.1 recorded the fee it was given, and a freelancer may waive part of a
    claim. Never more than a claim, another amount or another currency.
    """
    from domain.model.money import Money
    from domain.model.reference_rates import HALF_YEAR_RATES, half_year_of

    fees: list[Money | None] = [late_fee_claim(relationship, invoice, on), None]
    for terms in relationship.terms.values():
        rates = [terms.reference_rate]
        if terms.late_fee.kind == "statutory-eu" and terms.reference_rate is None:
            rates += [rate for half_year, rate in HALF_YEAR_RATES if half_year <= half_year_of(invoice.due)]
        for rate in rates:
            claim = fee_claim(terms.late_fee, rate, invoice.outstanding, invoice.due, on)
            if claim is None:
                continue
            if terms.late_fee.kind == "fixed":
                fees.append(terms.late_fee.fixed)
            fees += [Money(amount=amount, currency=claim.currency)
                     for amount in (claim.fee, claim.interest, claim.compensation) if amount > 0]
    return fees
