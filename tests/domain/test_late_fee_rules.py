"""Late fees per the terms: fixed, percent, or Directive 2011/7/EU (statutory-eu).

Expected amounts are worked out by hand in the comments, not taken from the code.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain.model.late_fees import days_late, late_claim, late_fee
from domain.model.money import Money
from domain.model.reference_rates import ReferenceRate
from domain.model.values import LateFee, Terms

DUE = date(2026, 2, 14)
STATUTORY = LateFee(kind="statutory-eu")


def eur(amount: str | int) -> Money:
    return Money.of(amount, "EUR")


class TestDaysLate:
    def test_days_are_counted_after_the_due_date(self):
        assert days_late(DUE, DUE) == 0
        assert days_late(DUE, DUE + timedelta(days=1)) == 1
        assert days_late(DUE, date(2026, 3, 16)) == 30  # 14 Feb -> 16 Mar 2026: 14 + 16 days

    def test_paying_early_is_never_negative_lateness(self):
        assert days_late(DUE, DUE - timedelta(days=10)) == 0


class TestStatutoryEU:
    def test_the_hand_computed_example(self):
        # 4000 EUR unpaid, reference rate 2.15 %, 30 days late:
        #   yearly rate   = 2.15 % + 8 points          = 10.15 %
        #   interest      = 4000 x 10.15 % x 30 / 365  = 406 x 30 / 365 = 12180 / 365
        #                 = 33.3698... -> 33.37 EUR (half-up to cents)
        #   compensation  = 40 EUR fixed per invoice
        #   late fee      = 33.37 + 40                 = 73.37 EUR
        fee = late_fee(STATUTORY, Decimal("2.15"), eur(4000), DUE, DUE + timedelta(days=30))
        assert fee == eur("73.37")

    def test_a_whole_year_late(self):
        # 1000 EUR x 10.15 % x 365/365 = 101.50; + 40 = 141.50 EUR
        fee = late_fee(STATUTORY, Decimal("2.15"), eur(1000), DUE, DUE + timedelta(days=365))
        assert fee == eur("141.50")

    def test_one_day_late_already_owes_the_compensation(self):
        # 100 EUR x 10.15 % x 1/365 = 0.0278... -> 0.03; + 40 = 40.03 EUR
        assert late_fee(STATUTORY, Decimal("2.15"), eur(100), DUE, DUE + timedelta(days=1)) == eur("40.03")

    def test_a_higher_reference_rate_in_the_terms_is_used(self):
        # 4000 x (4.50 + 8) % x 30 / 365 = 4000 x 12.5 % x 30/365 = 500 x 30 / 365 = 41.0958... -> 41.10
        fee = late_fee(STATUTORY, Decimal("4.50"), eur(4000), DUE, DUE + timedelta(days=30))
        assert fee == eur("81.10")

    def test_outside_the_euro_only_the_interest_is_claimed(self):
        # 4000 USD x 10.15 % x 30/365 = 33.37 USD; the 40 EUR compensation is not mixed in.
        fee = late_fee(STATUTORY, Decimal("2.15"), Money.of(4000, "USD"), DUE, DUE + timedelta(days=30))
        assert fee == Money.of("33.37", "USD")

    def test_terms_fix_no_rate_unless_told(self):
        assert Terms().reference_rate is None
        assert Terms(reference_rate=Decimal("3.00")).reference_rate == Decimal("3.00")


class TestStatutoryAtTheTablesRate:
    """No rate in the terms: the ECB rate on the first day of the half-year the invoice fell due."""

    def test_an_invoice_due_in_the_first_half_of_2024_takes_its_4_50(self):
        # Due 10 Mar 2024: rate on 1 Jan 2024 = 4.50 %; 4000 x 12.50 % x 30/365 = 41.10; + 40 = 81.10
        due = date(2024, 3, 10)
        assert late_fee(STATUTORY, None, eur(4000), due, due + timedelta(days=30)) == eur("81.10")

    def test_the_rate_of_the_half_years_first_day_not_of_the_due_date(self):
        # Due 30 Sep 2023: the MRO rate that day was 4.50 %, but on 1 Jul 2023 it was 4.00 %:
        # 1000 x 12 % x 365/365 = 120; + 40 = 160.00
        due = date(2023, 9, 30)
        assert late_fee(STATUTORY, None, eur(1000), due, due + timedelta(days=365)) == eur("160.00")

    def test_a_zero_rate_half_year(self):
        # Due 31 Dec 2022: rate on 1 Jul 2022 = 0.00 % (the first hike took effect on 27 July);
        # 1000 x 8 % x 73/365 = 16.00; + 40 = 56.00
        due = date(2022, 12, 31)
        assert late_fee(STATUTORY, None, eur(1000), due, due + timedelta(days=73)) == eur("56.00")

    def test_a_rate_in_the_terms_wins_over_the_table(self):
        # Due 30 Sep 2023 with 2.15 fixed: 1000 x 10.15 % = 101.50; + 40 = 141.50 (not 160.00)
        due = date(2023, 9, 30)
        assert late_fee(STATUTORY, Decimal("2.15"), eur(1000), due, due + timedelta(days=365)) == eur("141.50")


class TestTheClaimItemized:
    def test_principal_interest_compensation_and_total(self):
        # 1500 EUR due 14 Feb 2026, claimed on 20 Feb 2026: 6 days; rate on 1 Jan 2026 2.15 % + 8 = 10.15 %;
        # 1500 x 10.15 % x 6/365 = 913.5/365 = 2.5027... -> 2.50; + 40 = 42.50; total 1542.50
        claim = late_claim("statutory-eu", Decimal(1500), "EUR", DUE, date(2026, 2, 20))
        assert claim is not None
        assert (claim.principal, claim.days, claim.rate, claim.interest, claim.compensation) == (
            Decimal(1500), 6, Decimal("10.15"), Decimal("2.50"), Decimal(40))
        assert claim.reference == ReferenceRate(Decimal("2.15"), date(2026, 1, 1), stale=False)
        assert (claim.fee, claim.total) == (Decimal("42.50"), Decimal("1542.50"))

    def test_a_rate_fixed_by_the_terms_has_no_half_year(self):
        claim = late_claim("statutory-eu", Decimal(1500), "EUR", DUE, date(2026, 2, 20),
                           reference_rate=Decimal("3"))
        assert claim is not None and claim.reference == ReferenceRate(Decimal("3"), None, False)
        assert claim.rate == Decimal(11)

    def test_a_due_date_past_the_table_is_claimed_at_its_last_rate_flagged_stale(self):
        # Due 1 Aug 2026: the table ends with 1 Jan 2026 (2.15 %).
        claim = late_claim("statutory-eu", Decimal(1000), "EUR", date(2026, 8, 1), date(2026, 9, 1))
        assert claim is not None and claim.reference == ReferenceRate(Decimal("2.15"), date(2026, 1, 1), True)

    def test_outside_the_euro_no_compensation(self):
        claim = late_claim("statutory-eu", Decimal(4000), "USD", DUE, DUE + timedelta(days=30))
        assert claim is not None and (claim.interest, claim.compensation, claim.total) == (
            Decimal("33.37"), Decimal(0), Decimal("4033.37"))

    def test_a_fixed_or_percent_fee_is_the_whole_fee(self):
        fixed = late_claim("fixed", Decimal(4000), "EUR", DUE, DUE + timedelta(days=3), fixed=(Decimal(50), "EUR"))
        percent = late_claim("percent", Decimal("1234.56"), "EUR", DUE, DUE + timedelta(days=3), percent=Decimal(5))
        assert fixed is not None and (fixed.fee, fixed.total, fixed.rate) == (Decimal(50), Decimal(4050), None)
        assert percent is not None and (percent.fee, percent.total) == (Decimal("61.73"), Decimal("1296.29"))

    def test_nothing_to_claim_on_the_due_date(self):
        assert late_claim("statutory-eu", Decimal(1000), "EUR", DUE, DUE) is None


class TestFixedAndPercent:
    def test_a_fixed_fee(self):
        fee = LateFee(kind="fixed", fixed=eur(50))
        assert late_fee(fee, Decimal(0), eur(4000), DUE, DUE + timedelta(days=3)) == eur(50)

    def test_a_fixed_fee_in_another_currency_is_not_claimed(self):
        fee = LateFee(kind="fixed", fixed=eur(50))
        assert late_fee(fee, Decimal(0), Money.of(4000, "USD"), DUE, DUE + timedelta(days=3)) is None

    def test_a_percent_fee(self):
        # 5 % of 1234.56 = 61.728 -> 61.73 EUR, whatever the days late
        fee = LateFee(kind="percent", percent=Decimal(5))
        assert late_fee(fee, Decimal(0), eur("1234.56"), DUE, DUE + timedelta(days=1)) == eur("61.73")
        assert late_fee(fee, Decimal(0), eur("1234.56"), DUE, DUE + timedelta(days=90)) == eur("61.73")


class TestNoFee:
    @pytest.mark.parametrize("fee", [STATUTORY, LateFee(kind="fixed", fixed=eur(50)),
                                     LateFee(kind="percent", percent=Decimal(5))])
    def test_nothing_is_due_on_or_before_the_due_date(self, fee):
        assert late_fee(fee, Decimal("2.15"), eur(4000), DUE, DUE) is None

    def test_nothing_is_due_once_paid(self):
        assert late_fee(STATUTORY, Decimal("2.15"), eur(0), DUE, DUE + timedelta(days=30)) is None

    def test_terms_without_a_late_fee_claim_nothing(self):
        assert late_fee(LateFee(), Decimal("2.15"), eur(4000), DUE, DUE + timedelta(days=30)) is None
