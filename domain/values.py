"""Value objects of a client relationship: who, on what terms, with what proof."""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.errors import BadInput
from domain.money import Money

MAX_TEXT = 5000
_HANDLE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
TRATOS_NAMESPACE = uuid.UUID("5b7c3f0e-8d1a-4a57-9a53-7f1d2f7f6a01")

Side = Literal["us", "client"]
SIDES: tuple[str, ...] = ("us", "client")


def stream_id(handle: str) -> uuid.UUID:
    """The relationship's stream id: UUID5 of its handle, so commands need no lookup."""
    return uuid.uuid5(TRATOS_NAMESPACE, f"relationship:{handle}")


def check_handle(handle: str) -> str:
    if not _HANDLE.match(handle or ""):
        raise BadInput(
            f"invalid client handle {handle!r}: use lowercase letters, digits and dashes"
            " (like 'acme' or 'north-wind'), at most 40 characters"
        )
    return handle


def check_text(value: str, what: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    """A human text: trimmed, no control characters, not empty, not endless."""
    value = (value or "").strip()
    if required and not value:
        raise BadInput(f"{what} is empty")
    if _CONTROL.search(value):
        raise BadInput(f"{what} contains control characters")
    if len(value) > limit:
        raise BadInput(f"{what} is {len(value)} characters long; the limit is {limit}")
    return value


class Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Percent(Value):
    """A percentage such as 50 % (stored as 50, not 0.5)."""

    value: Decimal

    @field_validator("value")
    @classmethod
    def _sane(cls, value: Decimal) -> Decimal:
        if not value.is_finite() or value < 0 or value > 1000:
            raise BadInput(f"percentage out of range: {value}%")
        return value

    @property
    def fraction(self) -> Decimal:
        return self.value / 100

    def __str__(self) -> str:
        return f"{self.value.normalize():f}%"


class Party(Value):
    """One side of the relationship, as named on documents."""

    name: str
    email: str = ""
    tax_id: str = ""
    address: str = ""

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        return check_text(value, "name", limit=200)

    @field_validator("email", "tax_id", "address")
    @classmethod
    def _clean(cls, value: str) -> str:
        return check_text(value, "contact detail", required=False, limit=300)


LateFeeKind = Literal["none", "fixed", "percent", "statutory-eu"]

# The ECB main refinancing rate in force from 11 June 2025, the latest this release knows.
ECB_REFERENCE_RATE = Decimal("2.15")
ECB_REFERENCE_RATE_SINCE = date(2025, 6, 11)


class LateFee(Value):
    """How a late invoice accrues a fee: fixed, percent, or Directive 2011/7/EU."""

    kind: LateFeeKind = "none"
    fixed: Money | None = None
    percent: Decimal | None = None


class Terms(Value):
    """The freelancer's published business norms for one client."""

    rate: Money | None = None
    weekly_hours: Decimal | None = None
    response_days: int = 2
    payment_days: int = 30
    revisions: int | None = None
    out_of_scope_rate: Money | None = None
    late_fee: LateFee = Field(default_factory=LateFee)
    reference_rate: Decimal = ECB_REFERENCE_RATE
    working_hours: str = ""
    confidentiality: str = ""

    @field_validator("response_days", "payment_days")
    @classmethod
    def _days(cls, value: int) -> int:
        if value < 0 or value > 365:
            raise BadInput(f"days out of range: {value}")
        return value

    @field_validator("weekly_hours")
    @classmethod
    def _weekly_hours(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and (not value.is_finite() or value <= 0 or value > 168):
            raise BadInput(f"weekly hours must be more than 0 and at most 168, not {value}")
        return value

    @field_validator("revisions")
    @classmethod
    def _revisions(cls, value: int | None) -> int | None:
        if value is not None and (value < 0 or value > 1000):
            raise BadInput(f"revisions out of range: {value}")
        return value

    @field_validator("reference_rate")
    @classmethod
    def _reference_rate(cls, value: Decimal) -> Decimal:
        if not value.is_finite() or value < -10 or value > 100:
            raise BadInput(f"reference rate out of range: {value}%")
        return value

    @field_validator("working_hours")
    @classmethod
    def _working_hours(cls, value: str) -> str:
        return check_text(value, "working hours", required=False, limit=200)

    @field_validator("confidentiality")
    @classmethod
    def _confidentiality(cls, value: str) -> str:
        return check_text(value, "confidentiality", required=False)


class Installment(Value):
    """A part of the price that becomes billable on its date."""

    n: int
    amount: Money
    due: date
    percent: Decimal | None = None


class Evidence(Value):
    """A file kept in the content-addressed evidence folder, cited by its SHA-256."""

    sha256: str
    name: str
    size: int
    media_type: str = "application/octet-stream"
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("sha256")
    @classmethod
    def _hex(cls, value: str) -> str:
        if not re.fullmatch(r"[0-9a-f]{64}", value):
            raise BadInput(f"not a SHA-256 digest: {value!r}")
        return value


class Scope(Value):
    """What the contract covers, in words the client signed."""

    description: str
    deliverables: list[str] = Field(default_factory=list)

    @field_validator("description")
    @classmethod
    def _described(cls, value: str) -> str:
        return check_text(value, "scope")

    @field_validator("deliverables")
    @classmethod
    def _deliverables(cls, value: list[str]) -> list[str]:
        return [check_text(item, "deliverable", limit=500) for item in value]
