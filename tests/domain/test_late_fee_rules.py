"""Late fees per the terms: fixed, percent, or Directive 2011/7/EU (statutory-eu).

Expected amounts are worked out by hand in the comments, not taken from the code.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain.model.late_fees import days_late, late_fee
from domain.model.money import Money
from domain.model.values import ECB_REFERENCE_RATE, LateFee, Terms

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

    def test_terms_default_to_the_latest_ecb_rate_known(self):
        assert Terms().reference_rate == ECB_REFERENCE_RATE == Decimal("2.15")


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
