"""How an invoice is taxed, and its totals: base and VAT per rate, withholding, total, payable.

On plain Decimals, so the read models and the documents use the same rule as the aggregate
without building its models (ADR-16). Rounding (ADR-34): each line's amount is rounded half-up
to the cent, as EN 16931 has it (BT-131); a rate's base is the sum of its lines' amounts; its
VAT is rounded once on that base, half-up, per rate total as the Spanish regulation expects; the
withholding is rounded once on the whole base. So the VAT of an invoice never drifts by the
cents that per-line rounding would add up.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import NamedTuple

from domain.model.currencies import to_minor_units
from domain.model.errors import BadInput
from domain.model.tax_ids import EU_COUNTRIES

HOME_COUNTRY = "ES"  # the rates, the withholding and the mentions are Spain's (SPEC §3)
VAT_RATES = (Decimal(21), Decimal(10), Decimal(4), Decimal(0))  # general, reduced, super-reduced, zero
WITHHOLDING_RATES = (Decimal(15), Decimal(7))  # IRPF on professional income; 7 % in the first years

# How an invoice is taxed (SPEC §3). "untaxed": recorded before tratos knew taxes (an upcast).
DOMESTIC, REVERSE_CHARGE, NOT_SUBJECT, EXEMPT, UNTAXED = (
    "domestic", "reverse-charge", "not-subject", "exempt", "untaxed")
TAXATIONS = (DOMESTIC, REVERSE_CHARGE, NOT_SUBJECT, EXEMPT, UNTAXED)


class RateTotal(NamedTuple):
    rate: Decimal
    base: Decimal
    vat: Decimal


class Totals(NamedTuple):
    """What an invoice adds up to, in its currency's minor units."""

    taxes: tuple[RateTotal, ...]  # one per VAT rate, highest rate first
    base: Decimal
    vat: Decimal
    withholding: Decimal
    total: Decimal  # base + VAT
    payable: Decimal  # total - withholding: what the client pays us


def line_amount(quantity: Decimal, unit_price: Decimal, currency: str) -> Decimal:
    return to_minor_units(quantity * unit_price, currency)


def totals(lines: Iterable[tuple[Decimal, Decimal, Decimal]], withholding_rate: Decimal,
           currency: str) -> Totals:
    """The totals of lines given as (quantity, unit price, VAT rate), with `withholding_rate` %."""
    bases: dict[Decimal, Decimal] = {}
    for quantity, unit_price, rate in lines:
        bases[rate] = bases.get(rate, Decimal(0)) + line_amount(quantity, unit_price, currency)
    taxes = tuple(RateTotal(rate, to_minor_units(base, currency),
                            to_minor_units(base * rate / 100, currency))
                  for rate, base in sorted(bases.items(), reverse=True))
    base = sum((t.base for t in taxes), Decimal(0))
    vat = sum((t.vat for t in taxes), Decimal(0))
    withholding = to_minor_units(base * withholding_rate / 100, currency)
    total = to_minor_units(base + vat, currency)
    return Totals(taxes, base, vat, withholding, total, to_minor_units(total - withholding, currency))


def taxation(client_country: str, client_vat_number: bool, *, exempt: bool = False) -> str:
    """How an invoice to this client is taxed, from where the client is and whether it gave a valid
    EU VAT number: at home, VAT (or exempt, when the service is); an EU business elsewhere, reverse
    charge; outside the EU, not subject (place of supply, art. 69 LIVA)."""
    country = client_country or HOME_COUNTRY
    if country == HOME_COUNTRY:
        return EXEMPT if exempt else DOMESTIC
    if country in EU_COUNTRIES:
        return REVERSE_CHARGE if client_vat_number else (EXEMPT if exempt else DOMESTIC)
    return NOT_SUBJECT


def check_vat_rate(rate: Decimal, how: str) -> Decimal:
    """A VAT rate Spain has, and 0 whenever the invoice is not taxed at home."""
    if how in (REVERSE_CHARGE, NOT_SUBJECT, EXEMPT):
        if rate != 0:
            raise BadInput(f"an invoice that is {how.replace('-', ' ')} carries no VAT, not {rate.normalize():f}%")
        return Decimal(0)
    if rate not in VAT_RATES:
        allowed = ", ".join(f"{r}%" for r in VAT_RATES)
        raise BadInput(f"{rate.normalize():f}% is not a Spanish VAT rate (use {allowed})")
    return VAT_RATES[VAT_RATES.index(rate)]  # as the law writes it: 21, not 21.00 or -0


def check_withholding(rate: Decimal, how: str, client_is_business: bool) -> Decimal:
    """IRPF withholding applies only to a Spanish business client, at a rate the law sets."""
    if rate == 0:
        return Decimal(0)
    if rate not in WITHHOLDING_RATES:
        allowed = " or ".join(f"{r}%" for r in WITHHOLDING_RATES)
        raise BadInput(f"{rate.normalize():f}% is not a professional withholding rate (use {allowed})")
    if how not in (DOMESTIC, EXEMPT):
        raise BadInput("withholding (IRPF) applies only to clients in Spain: this client is taxed as"
                       f" {how.replace('-', ' ')}")
    if not client_is_business:
        raise BadInput("withholding (IRPF) applies only to a business client with a Spanish tax id:"
                       " record the client's tax id first (tratos client update)")
    return WITHHOLDING_RATES[WITHHOLDING_RATES.index(rate)]
