"""The half-year table of ECB reference rates, checked against the ECB's decisions themselves.

The expected rates are not read from the table: they are worked out here from the list of
changes to the main refinancing operations (MRO) rate and the dates they took effect (ECB, key
interest rates), as "the rate in force on 1 January / 1 July". The BOE's half-yearly "tipo legal
de interés de demora" (this rate + 8 points) agrees: 8.00 % for 2022 H2, 10.50 % 2023 H1,
12.00 % 2023 H2, 12.50 % 2024 H1, 12.25 % 2024 H2, 11.15 % 2025 H1, 10.15 % 2025 H2.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.model.reference_rates import (
    FIRST_HALF_YEAR,
    HALF_YEAR_RATES,
    LAST_HALF_YEAR,
    SOURCE,
    ReferenceRate,
    half_year_of,
    reference_rate_for,
    table_covers,
)

# (takes effect, new MRO rate in %): every change from mid-2012 to the table's end.
MRO_CHANGES = [
    (date(2012, 7, 11), "0.75"), (date(2013, 5, 8), "0.50"), (date(2013, 11, 13), "0.25"),
    (date(2014, 6, 11), "0.15"), (date(2014, 9, 10), "0.05"), (date(2016, 3, 16), "0.00"),
    (date(2022, 7, 27), "0.50"), (date(2022, 9, 14), "1.25"), (date(2022, 11, 2), "2.00"),
    (date(2022, 12, 21), "2.50"), (date(2023, 2, 8), "3.00"), (date(2023, 3, 22), "3.50"),
    (date(2023, 5, 10), "3.75"), (date(2023, 6, 21), "4.00"), (date(2023, 8, 2), "4.25"),
    (date(2023, 9, 20), "4.50"), (date(2024, 6, 12), "4.25"), (date(2024, 9, 18), "3.65"),
    (date(2024, 10, 23), "3.40"), (date(2024, 12, 18), "3.15"), (date(2025, 2, 5), "2.90"),
    (date(2025, 3, 12), "2.65"), (date(2025, 4, 23), "2.40"), (date(2025, 6, 11), "2.15"),
]


def in_force_on(day: date) -> Decimal:
    """The MRO rate on `day`: the last change that took effect on or before it."""
    return Decimal([rate for since, rate in MRO_CHANGES if since <= day][-1])


def half_years(first: date, last: date) -> list[date]:
    days, day = [], first
    while day <= last:
        days.append(day)
        day = date(day.year, 7, 1) if day.month == 1 else date(day.year + 1, 1, 1)
    return days


def test_every_half_year_from_2019_to_2026_is_in_the_table():
    assert date(2019, 1, 1) >= FIRST_HALF_YEAR and date(2026, 1, 1) <= LAST_HALF_YEAR
    assert [day for day, _ in HALF_YEAR_RATES] == half_years(FIRST_HALF_YEAR, LAST_HALF_YEAR)


@pytest.mark.parametrize("day", half_years(FIRST_HALF_YEAR, LAST_HALF_YEAR), ids=str)
def test_each_rate_is_the_one_in_force_on_the_half_years_first_day(day):
    assert dict(HALF_YEAR_RATES)[day] == in_force_on(day)


def test_the_rates_the_issue_lists():
    listed = {date(2022, 7, 1): "0.00", date(2023, 1, 1): "2.50", date(2023, 7, 1): "4.00",
              date(2024, 1, 1): "4.50", date(2024, 7, 1): "4.25", date(2025, 1, 1): "3.15",
              date(2025, 7, 1): "2.15", date(2026, 1, 1): "2.15"}
    table = dict(HALF_YEAR_RATES)
    assert {day: table[day] for day in listed} == {day: Decimal(rate) for day, rate in listed.items()}
    assert all(table[day] == 0 for day in half_years(date(2019, 1, 1), date(2022, 7, 1)))


def test_the_source_is_named():
    assert "ecb.europa.eu" in SOURCE and "BOE" in SOURCE and "8 points" in SOURCE


class TestTheRateForADueDate:
    def test_half_years_begin_on_1_january_and_1_july(self):
        assert half_year_of(date(2025, 6, 30)) == date(2025, 1, 1)
        assert half_year_of(date(2025, 7, 1)) == date(2025, 7, 1)
        assert half_year_of(date(2025, 12, 31)) == date(2025, 7, 1)

    def test_the_rate_of_the_half_year_the_invoice_fell_due_in(self):
        # 2024-09-30: MRO 3.65 % that day, but 4.25 % on 1 July 2024.
        assert reference_rate_for(date(2024, 9, 30)) == ReferenceRate(Decimal("4.25"), date(2024, 7, 1), False)
        assert reference_rate_for(date(2025, 6, 30)) == ReferenceRate(Decimal("3.15"), date(2025, 1, 1), False)

    def test_after_the_table_its_last_rate_flagged_stale(self):
        assert not table_covers(date(2026, 7, 1)) and table_covers(date(2026, 6, 30))
        assert reference_rate_for(date(2027, 3, 1)) == ReferenceRate(Decimal("2.15"), LAST_HALF_YEAR, True)

    def test_before_the_table_its_first_rate_flagged_stale(self):
        assert not table_covers(date(2012, 12, 31))
        rate = reference_rate_for(date(2012, 12, 31))
        assert rate.stale and rate.half_year == FIRST_HALF_YEAR
