"""Value objects of a client relationship: who, on what terms, with what proof."""

# No `from __future__ import annotations` in this module: pydantic would then evaluate every
# field's annotation from a string, a quarter of this module's import time (ADR-16).

import re
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.model.bank_accounts import check_iban
from domain.model.choices import (
    DEFAULT_CORRECTIVE_SERIES,
    DEFAULT_PAYMENT_METHOD,
    DEFAULT_RESPONSE_DAYS,
    DEFAULT_SERIES,
)
from domain.model.countries import check_country
from domain.model.errors import BadInput
from domain.model.money import Money
from domain.model.streams import TRATOS_NAMESPACE, check_handle, stream_id  # noqa: F401  (re-exported)
from domain.model.texts import (  # noqa: F401  (re-exported: the text policy's old home)
    _CONTROL_SINCE_0_1,
    MAX_TEXT,
    as_recorded,
    check_actor,
    check_email,
    check_text,
    texts_as_recorded,
    texts_of_the_first_policy,
    visible,
)

# An evidence file's recorded size: far beyond any file tratos keeps (FILE_LIMIT is 100 MiB), and
# exact in every number type a store or a reader uses (2**53).
MAX_EVIDENCE_SIZE = 2**53
# A media type as RFC 6838 names one (type/subtype), which is all `evidence.examine` records.
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}")


Side = Literal["us", "client"]
SIDES: tuple[str, ...] = ("us", "client")



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
    """One side of the relationship, as named on documents and invoices.

    `country` (ISO 3166 alpha-2) came with invoices (ADR-34); "" in what was recorded before,
    which reads as the freelancer's own country.
    """

    name: str
    email: str = ""
    tax_id: str = ""
    address: str = ""
    country: str = ""

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        return check_text(value, "name", limit=200)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return check_email(value)

    @field_validator("tax_id")
    @classmethod
    def _tax_id(cls, value: str) -> str:
        return check_text(value, "tax id", required=False, limit=300)

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        return check_text(value, "address", required=False, limit=300)

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        return check_country(value)


class Issuer(Party):
    """The freelancer as an invoice names them, and how they are paid (RD 1619/2012 art. 6)."""

    iban: str = ""
    payment_method: str = DEFAULT_PAYMENT_METHOD

    @field_validator("iban")
    @classmethod
    def _iban(cls, value: str) -> str:
        return check_iban(value)

    @field_validator("payment_method")
    @classmethod
    def _method(cls, value: str) -> str:
        return check_text(value, "payment method", limit=200)


def check_series(value: str) -> str:
    """An invoice series' prefix: 1 to 5 capital letters (F, R, FAC)."""
    if not re.fullmatch(r"[A-Z]{1,5}", value or ""):
        raise BadInput(f"an invoice series is 1 to 5 capital letters, not {value!r}")
    return value


class TaxProfile(Value):
    """What the freelancer's invoices need beyond their identity: the defaults they are issued with."""

    issuer: Issuer
    vat_rate: Decimal = Decimal(21)
    withholding: Decimal = Decimal(0)  # IRPF %, 0 when it does not apply
    series: str = DEFAULT_SERIES
    corrective_series: str = DEFAULT_CORRECTIVE_SERIES

    @field_validator("series", "corrective_series")
    @classmethod
    def _series(cls, value: str) -> str:
        return check_series(value)

    @model_validator(mode="after")
    def _two_series(self) -> "TaxProfile":
        """Corrective invoices have a series of their own (RD 1619/2012 art. 6.1.a): never the invoices'."""
        if self.series == self.corrective_series:
            raise BadInput(f"invoices and corrective invoices need two series, not both {self.series!r}")
        return self


class InvoiceLine(Value):
    """One line of an invoice: what, how much, at what price, at what VAT rate.

    `hours` names the logged-hours entries (their order in the relationship, 1…) a line bills,
    so they are billed once only.
    """

    description: str
    quantity: Decimal
    unit_price: Money
    vat_rate: Decimal
    hours: list[int] = Field(default_factory=list)

    @field_validator("quantity")
    @classmethod
    def _quantity(cls, value: Decimal) -> Decimal:
        if not value.is_finite() or value <= 0 or value > 1_000_000:
            raise BadInput(f"a line's quantity must be more than 0 and at most 1000000, not {value}")
        return value

    @field_validator("vat_rate")
    @classmethod
    def _rate(cls, value: Decimal) -> Decimal:
        if not value.is_finite() or value < 0 or value > 100:
            raise BadInput(f"VAT rate out of range: {value}%")
        return value


class VatTotal(Value):
    """The base and VAT of one rate on an invoice."""

    rate: Decimal
    base: Money
    vat: Money


LateFeeKind = Literal["none", "fixed", "percent", "statutory-eu"]

class LateFee(Value):
    """How a late invoice accrues a fee: fixed, percent, or Directive 2011/7/EU."""

    kind: LateFeeKind = "none"
    fixed: Money | None = None
    percent: Decimal | None = None


class Terms(Value):
    """The freelancer's published business norms for one client."""

    rate: Money | None = None
    weekly_hours: Decimal | None = None
    response_days: int = DEFAULT_RESPONSE_DAYS
    payment_days: int = 30
    revisions: int | None = None
    out_of_scope_rate: Money | None = None
    late_fee: LateFee = Field(default_factory=LateFee)
    # The reference rate the terms fix for statutory interest; None: the ECB rate of the half-year
    # an invoice falls due in (domain/model/reference_rates.py).
    reference_rate: Decimal | None = None
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
    def _reference_rate(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and (not value.is_finite() or value < -10 or value > 100):
            raise BadInput(f"reference rate out of range: {value}%")
        return value

    @field_validator("working_hours")
    @classmethod
    def _working_hours(cls, value: str) -> str:
        return check_text(value, "working hours", required=False, limit=200)

    @field_validator("confidentiality")
    @classmethod
    def _confidentiality(cls, value: str) -> str:
        return check_text(value, "confidentiality", required=False, multiline=True)


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

    @field_validator("size")
    @classmethod
    def _size(cls, value: int) -> int:
        if not 0 <= value <= MAX_EVIDENCE_SIZE:
            raise BadInput(f"an evidence file's size is 0 to {MAX_EVIDENCE_SIZE} bytes, not {value}")
        return value

    @field_validator("media_type")
    @classmethod
    def _media_type(cls, value: str) -> str:
        if not _MEDIA_TYPE.fullmatch(value):
            raise BadInput(f"not a media type: {value!r} (such as application/pdf)")
        return value

    def check_name(self) -> None:
        """The name as any release recorded it: no control character but a line break or tab (the
        names kept from before ADR-33), not endless. Asked when an event is decided again (import),
        not when it loads: a store is never made unreadable by a name it holds."""
        check_text(self.name, "the evidence file name", required=False, limit=1000)
        if _CONTROL_SINCE_0_1.search(self.name):
            raise BadInput(f"the evidence file name {self.name!r} contains control characters")


class Scope(Value):
    """What the contract covers, in words the client signed."""

    description: str
    deliverables: list[str] = Field(default_factory=list)

    @field_validator("description")
    @classmethod
    def _described(cls, value: str) -> str:
        return check_text(value, "scope", multiline=True)

    @field_validator("deliverables")
    @classmethod
    def _deliverables(cls, value: list[str]) -> list[str]:
        return [check_text(item, "deliverable", limit=500) for item in value]
