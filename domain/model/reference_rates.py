"""The reference rate of Directive 2011/7/EU, half-year by half-year, as this release knows it.

The Directive's reference rate is the ECB's main refinancing operations (MRO) rate in force on
the first day of the half-year, 1 January or 1 July; Spain's Ley 3/2004 (art. 7.2) takes it
the same way and the BOE publishes it each half-year, 8 points added, as the "tipo legal de
interés de demora en operaciones comerciales". tratos applies the rate of the half-year in
which the invoice fell due (`reference_rate_for`), unless the terms fix one.

The table is dated: a due date after its last half-year gets the last rate known, flagged
`stale`, and `tratos check` says so, until a release adds the new half-year's rate.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import NamedTuple

SOURCE = ("ECB, key interest rates, main refinancing operations "
          "(https://www.ecb.europa.eu/stats/policy_and_exchange_rates/key_ecb_interest_rates/html/index.en.html); "
          "checked against the BOE resolutions of the Dirección General del Tesoro publishing each half-year's "
          "\"tipo legal de interés de demora a aplicar a las operaciones comerciales\" (this rate plus 8 points).")

# The MRO rate in force on each 1 January and 1 July, in percent; from 2013, when member states
# applied the Directive (16 March 2013). Add a line each half-year, never change one.
HALF_YEAR_RATES: tuple[tuple[date, Decimal], ...] = (
    (date(2013, 1, 1), Decimal("0.75")),
    (date(2013, 7, 1), Decimal("0.50")),
    (date(2014, 1, 1), Decimal("0.25")),
    (date(2014, 7, 1), Decimal("0.15")),
    (date(2015, 1, 1), Decimal("0.05")),
    (date(2015, 7, 1), Decimal("0.05")),
    (date(2016, 1, 1), Decimal("0.05")),
    (date(2016, 7, 1), Decimal("0.00")),
    (date(2017, 1, 1), Decimal("0.00")),
    (date(2017, 7, 1), Decimal("0.00")),
    (date(2018, 1, 1), Decimal("0.00")),
    (date(2018, 7, 1), Decimal("0.00")),
    (date(2019, 1, 1), Decimal("0.00")),
    (date(2019, 7, 1), Decimal("0.00")),
    (date(2020, 1, 1), Decimal("0.00")),
    (date(2020, 7, 1), Decimal("0.00")),
    (date(2021, 1, 1), Decimal("0.00")),
    (date(2021, 7, 1), Decimal("0.00")),
    (date(2022, 1, 1), Decimal("0.00")),
    (date(2022, 7, 1), Decimal("0.00")),
    (date(2023, 1, 1), Decimal("2.50")),
    (date(2023, 7, 1), Decimal("4.00")),
    (date(2024, 1, 1), Decimal("4.50")),
    (date(2024, 7, 1), Decimal("4.25")),
    (date(2025, 1, 1), Decimal("3.15")),
    (date(2025, 7, 1), Decimal("2.15")),
    (date(2026, 1, 1), Decimal("2.15")),
)
_RATES = dict(HALF_YEAR_RATES)
FIRST_HALF_YEAR = HALF_YEAR_RATES[0][0]
LAST_HALF_YEAR = HALF_YEAR_RATES[-1][0]


class ReferenceRate(NamedTuple):
    """The reference rate applied to an invoice. From the table: `half_year`, the first day of
    the half-year whose rate it is, and `stale` when that is not the half-year the invoice fell
    due in (the table does not reach it: the closest rate it knows). Fixed by the terms:
    `half_year` None."""

    rate: Decimal
    half_year: date | None = None
    stale: bool = False


def half_year_of(day: date) -> date:
    """The first day of the half-year `day` falls in: 1 January or 1 July."""
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def table_covers(day: date) -> bool:
    """Whether the table knows the rate of the half-year `day` falls in."""
    return FIRST_HALF_YEAR <= half_year_of(day) <= LAST_HALF_YEAR


def reference_rate_for(due: date) -> ReferenceRate:
    """The reference rate for an invoice due on `due`: the one in force on the first day of
    that half-year. After the table, its last rate; before it (a due date before 2013, under the
    earlier Directive), its first: both flagged stale."""
    half_year = min(max(half_year_of(due), FIRST_HALF_YEAR), LAST_HALF_YEAR)
    return ReferenceRate(_RATES[half_year], half_year, stale=half_year != half_year_of(due))
