"""Money: an exact Decimal amount with its ISO 4217 currency, never a float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from domain.model.currencies import (  # noqa: F401  (re-exported)
    CURRENCIES,
    MAX_AMOUNT,
    check_currency,
    minor_units,
    to_minor_units,
)
from domain.model.errors import BadInput, CurrencyMismatch


class Money(BaseModel):
    """An amount in one currency; arithmetic refuses to mix currencies."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    amount: Decimal
    currency: str

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        return check_currency(value)

    @model_validator(mode="before")
    @classmethod
    def _exact_amount(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        unknown = set(data) - {"amount", "currency"}
        if unknown:  # what is rebuilt below would silently drop them (the other values forbid them)
            raise BadInput(f"money has only an amount and a currency, not {', '.join(sorted(map(str, unknown)))}")
        raw, currency = data.get("amount"), check_currency(str(data.get("currency", "")))
        if isinstance(raw, float):
            raise BadInput("money is never a float: pass a Decimal or a string")
        if isinstance(raw, str) and not raw.isascii():  # digits are 0-9 everywhere (ADR-26)
            raise BadInput(f"not an amount: {raw!r} (write amounts with the digits 0-9)")
        try:
            amount = Decimal(str(raw))
        except (InvalidOperation, ValueError):
            raise BadInput(f"not an amount: {raw!r}") from None
        if not amount.is_finite():
            raise BadInput(f"not an amount: {raw!r}")
        if abs(amount) >= MAX_AMOUNT:
            # Beyond this, Decimal's 28 digits could no longer keep sums exact.
            raise BadInput(f"amount too large: {raw}")
        places = minor_units(currency)
        exponent = amount.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places and amount != amount.quantize(
            Decimal(1).scaleb(-places)
        ):
            raise BadInput(f"{currency} amounts have at most {places} decimals: {raw}")
        amount = amount.quantize(Decimal(1).scaleb(-places))
        return {"amount": amount.copy_abs() if amount.is_zero() else amount, "currency": currency}

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> Money:
        return cls(amount=amount, currency=currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(amount=0, currency=currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(
                f"cannot combine {self.currency} and {other.currency} amounts"
            )

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def __neg__(self) -> Money:
        return Money(amount=-self.amount, currency=self.currency)

    def times(self, factor: Decimal) -> Money:
        """Multiply and round half-up to the currency's minor unit."""
        return Money(amount=to_minor_units(self.amount * Decimal(factor), self.currency), currency=self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount >= other.amount

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    @property
    def is_positive(self) -> bool:
        return self.amount > 0

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def total(amounts: list[Money], currency: str) -> Money:
    """Sum of amounts in one currency (zero when empty)."""
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
