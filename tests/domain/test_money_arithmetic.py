"""Money: exact Decimal arithmetic in one ISO 4217 currency, never a float."""

from __future__ import annotations

from decimal import Decimal

import pytest
from domain_builders import START
from hypothesis import given
from hypothesis import strategies as st

from domain.model.contracts import check_schedule
from domain.model.errors import BadInput, CurrencyMismatch, Refused
from domain.model.money import MAX_AMOUNT, Money, minor_units, total
from domain.model.values import Installment, Percent


def cents(low: int = -10**12, high: int = 10**12) -> st.SearchStrategy[Money]:
    return st.integers(low, high).map(lambda c: Money.of(Decimal(c).scaleb(-2), "EUR"))


class TestExactArithmetic:
    def test_tenths_add_up_exactly(self):
        # With floats 0.1 + 0.2 != 0.3; with Money it is exact.
        assert Money.of("0.10", "EUR") + Money.of("0.20", "EUR") == Money.of("0.30", "EUR")

    def test_a_hundred_cents_make_a_euro(self):
        assert total([Money.of("0.01", "EUR")] * 100, "EUR") == Money.of(1, "EUR")

    def test_subtraction_and_negation(self):
        assert Money.of(100, "EUR") - Money.of("0.01", "EUR") == Money.of("99.99", "EUR")
        assert -Money.of(5, "EUR") == Money.of(-5, "EUR")

    def test_the_amount_is_kept_at_the_currency_minor_unit(self):
        assert Money.of(8000, "EUR").amount.as_tuple().exponent == -2
        assert str(Money.of("8000", "EUR")) == "8000.00 EUR"
        assert Money.of("1.500", "EUR").amount == Decimal("1.50")

    def test_negative_zero_reads_as_zero(self):
        assert str(Money.of("-0", "EUR")) == "0.00 EUR"

    def test_comparisons(self):
        small, large = Money.of("9.99", "EUR"), Money.of(10, "EUR")
        assert small < large and small <= large and large > small and large >= small
        assert Money.zero("EUR").is_zero and large.is_positive and not (-large).is_positive

    def test_times_rounds_half_up_to_the_minor_unit(self):
        assert Money.of("0.05", "EUR").times(Decimal("0.5")) == Money.of("0.03", "EUR")
        assert Money.of("0.04", "EUR").times(Decimal("0.5")) == Money.of("0.02", "EUR")
        assert Money.of(101, "JPY").times(Decimal("0.5")) == Money.of(51, "JPY")

    def test_empty_total_is_zero_in_the_currency(self):
        assert total([], "USD") == Money.zero("USD")

    def test_currency_codes_are_normalised(self):
        assert Money.of(1, " eur ").currency == "EUR"


class TestCurrencies:
    @pytest.mark.parametrize("op", ["add", "sub", "lt", "le", "gt", "ge"])
    def test_combining_two_currencies_is_a_currency_mismatch(self, op):
        with pytest.raises(CurrencyMismatch, match="EUR and USD"):
            getattr(Money.of(1, "EUR"), f"__{op}__")(Money.of(1, "USD"))

    def test_a_currency_mismatch_is_a_refusal(self):
        assert issubclass(CurrencyMismatch, Refused)

    def test_a_total_in_another_currency_is_a_mismatch(self):
        with pytest.raises(CurrencyMismatch):
            total([Money.of(1, "EUR")], "GBP")

    @pytest.mark.parametrize("code", ["XXX", "EURO", "", "€"])
    def test_an_unknown_currency_is_bad_input(self, code):
        with pytest.raises(BadInput, match="currency"):
            Money.of(1, code)

    def test_three_decimals_in_euros_are_refused(self):
        with pytest.raises(BadInput, match="at most 2 decimals"):
            Money.of("10.005", "EUR")

    def test_yen_has_no_decimals(self):
        assert minor_units("JPY") == 0
        assert str(Money.of(1500, "JPY")) == "1500 JPY"
        with pytest.raises(BadInput, match="at most 0 decimals"):
            Money.of("1500.5", "JPY")

    def test_three_decimal_currencies_keep_three(self):
        assert str(Money.of("1.234", "KWD")) == "1.234 KWD"


class TestNeverAFloat:
    def test_a_float_amount_is_refused(self):
        with pytest.raises(BadInput, match="float"):
            Money(amount=0.1, currency="EUR")

    def test_a_float_in_json_is_refused(self):
        with pytest.raises(BadInput, match="float"):
            Money.model_validate_json('{"amount": 19.99, "currency": "EUR"}')

    @pytest.mark.parametrize("raw", ["abc", "NaN", "Infinity", "", True])
    def test_what_is_not_an_amount_is_bad_input(self, raw):
        with pytest.raises(BadInput):
            Money.of(raw, "EUR")

    def test_an_amount_too_large_to_stay_exact_is_bad_input(self):
        with pytest.raises(BadInput, match="too large"):
            Money.of("1e30", "EUR")
        with pytest.raises(BadInput, match="too large"):
            Money.of(MAX_AMOUNT - 1, "EUR") + Money.of(1, "EUR")

    def test_percent_is_a_checked_decimal(self):
        assert Percent(value=Decimal("2.15")).fraction == Decimal("0.0215")
        assert str(Percent(value=Decimal("50.0"))) == "50%"
        with pytest.raises(BadInput):
            Percent(value=Decimal(-1))


class TestMoneyProperties:
    @given(cents(), cents(), cents())
    def test_addition_is_associative_and_commutative(self, a, b, c):
        assert (a + b) + c == a + (b + c)
        assert a + b == b + a

    @given(cents(), cents())
    def test_subtraction_undoes_addition(self, a, b):
        assert (a + b) - b == a
        assert a - a == Money.zero("EUR")

    @given(st.integers(-10**15, 10**15), st.sampled_from(["EUR", "JPY", "KWD", "USD"]))
    def test_json_round_trip_is_identical(self, units, currency):
        money = Money.of(Decimal(units).scaleb(-minor_units(currency)), currency)
        assert Money.model_validate_json(money.model_dump_json()) == money
        assert Money.model_validate(money.model_dump(mode="json")) == money
        assert isinstance(money.model_dump(mode="json")["amount"], str)

    @given(cents(0), st.decimals(min_value=0, max_value=10, places=6))
    def test_times_is_within_half_a_cent_of_the_exact_product(self, a, factor):
        product = a.times(factor)
        assert product.amount.as_tuple().exponent == -2
        assert abs(product.amount - a.amount * factor) <= Decimal("0.005")


class TestInstallmentsAddUp:
    @given(price_cents=st.integers(1, 10**9), cuts=st.lists(st.integers(1, 999), max_size=5))
    def test_a_split_that_adds_up_is_accepted_and_one_cent_off_is_refused(self, price_cents, cuts):
        # Split the price at arbitrary points (per-mille of the price, in whole cents).
        points = sorted({price_cents * c // 1000 for c in cuts} - {0, price_cents})
        bounds = [0, *points, price_cents]
        amounts = [Decimal(b - a).scaleb(-2) for a, b in zip(bounds, bounds[1:], strict=False)]
        price = Money.of(Decimal(price_cents).scaleb(-2), "EUR")
        schedule = [Installment(n=n, amount=Money.of(a, "EUR"), due=START) for n, a in enumerate(amounts, 1)]

        check_schedule(price, schedule)  # adds up exactly: accepted

        for wrong in (price + Money.of("0.01", "EUR"), price - Money.of("0.01", "EUR")):
            if wrong.is_positive:
                with pytest.raises(Refused, match="add up"):
                    check_schedule(wrong, schedule)

