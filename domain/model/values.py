"""Value objects of a client relationship: who, on what terms, with what proof."""

# No `from __future__ import annotations` in this module: pydantic would then evaluate every
# field's annotation from a string, a quarter of this module's import time (ADR-16).

import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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

MAX_TEXT = 5000
# An evidence file's recorded size: far beyond any file tratos keeps (FILE_LIMIT is 100 MiB), and
# exact in every number type a store or a reader uses (2**53).
MAX_EVIDENCE_SIZE = 2**53
# A media type as RFC 6838 names one (type/subtype), which is all `evidence.examine` records.
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}")
# One text policy (ADR-26). Never, in any text: control characters (C0, DEL, C1) but a multi-line
# text's newlines and tabs; bidirectional overrides, embeddings, isolates and marks, which make a
# legal name or a clause read otherwise than it is stored ("Trojan Source"); lone surrogates, which
# are bytes that were not UTF-8. A single-line text (names, titles, contact details) has no line
# breaks of any kind either.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile(r"[\n\t\u2028\u2029]")
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Format characters (Unicode category Cf) draw nothing: a zero-width space, a word joiner or a
# byte-order mark makes "Acme" and "Ac\u200bme" two names that look one. Refused in every text,
# but for the joiners (ZWNJ, ZWJ) between two characters that are not ASCII, where Persian, Indic
# scripts and emoji sequences (a woman and a laptop joined into one sign) need them.
_JOINERS = "\u200c\u200d"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
# What every tratos has refused in a text since 0.1 (C0 controls but newline and tab, and DEL).
# Re-deciding a recorded text (import) asks no more of it: see `texts_as_recorded`.
_CONTROL_SINCE_0_1 = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_AS_RECORDED: ContextVar[bool] = ContextVar("texts_as_recorded", default=False)


@contextmanager
def texts_as_recorded() -> Iterator[None]:
    """Within, `check_text` applies only the rules every version had, not the later ADR-26 ones.

    A text recorded before the policy of ADR-26 (a tab in a signer's name, a bidi mark in a
    note) was accepted by the tratos that wrote it; re-deciding it on import must not refuse
    the store for it. Trimming, emptiness, the length limits and the 0.1 control characters
    still hold, and what is typed always meets the whole policy.
    """
    token = _AS_RECORDED.set(True)
    try:
        yield
    finally:
        _AS_RECORDED.reset(token)

def as_recorded() -> bool:
    """Whether a command is re-deciding a recorded event (import), not deciding a new one."""
    return _AS_RECORDED.get()


Side = Literal["us", "client"]
SIDES: tuple[str, ...] = ("us", "client")


def check_text(value: str, what: str, *, required: bool = True, limit: int = MAX_TEXT,
               multiline: bool = False) -> str:
    """A human text: trimmed, not empty, not endless, shown as it is stored (the policy above)."""
    given = value or ""
    value = given.strip()
    if required and not value:
        raise BadInput(f"{what} is empty")
    if _AS_RECORDED.get():
        if _CONTROL_SINCE_0_1.search(value):
            raise BadInput(f"{what} contains control characters")
    else:
        if given and not value:  # given blank is not the same as not given: a typo, or a variable unset
            raise BadInput(f"{what} is blank: give it, or leave the option out")
        _check_policy(value, what, multiline)
    if len(value) > limit:
        raise BadInput(f"{what} is {len(value)} characters long; the limit is {limit}")
    return value


def check_actor(actor: str) -> str:
    """Who records: the name every event carries (identity.json's), a single-line text or none."""
    if actor:
        check_text(actor, "your name (the actor of what is recorded; mend it with `tratos init --force`)",
                   limit=200)
    return actor


def _check_policy(value: str, what: str, multiline: bool) -> None:
    """The characters of ADR-26's text policy (above)."""
    if _SURROGATE.search(value):
        raise BadInput(f"{what} is not UTF-8 text: type it again, or convert the file it came from")
    if _CONTROL.search(value):
        raise BadInput(f"{what} contains control characters")
    if not multiline and _LINE_BREAK.search(value):
        raise BadInput(f"{what} is one line: it cannot contain line breaks or tabs")
    if _BIDI.search(value):
        raise BadInput(f"{what} contains a bidirectional control character (U+{ord(_BIDI.search(value)[0]):04X}),"
                       " which would show it otherwise than it is recorded")
    invisible = _invisible(value)
    if invisible is not None:
        import unicodedata

        if (value[0] == invisible and unicodedata.category(invisible).startswith("M")
                and not _SELECTOR.match(invisible) and not _IGNORABLE.match(invisible)):
            raise BadInput(f"{what} starts with a combining mark (U+{ord(invisible):04X}), which has no letter"
                           " to show on: type the letter first")
        raise BadInput(f"{what} contains an invisible formatting character (U+{ord(invisible):04X}), which would"
                       " show it otherwise than it is recorded: type it again without it")


def _invisible(value: str) -> str | None:
    """The first character of `value` that draws nothing where it stands (see `_hidden`)."""
    return next((char for n, char in enumerate(value)  # line breaks are the one-line rule's (a note may have them)
                 if not char.isascii() and not _LINE_BREAK.match(char) and _hidden(value, n)), None)


def _joinable(char: str) -> bool:
    return not char.isascii() and not char.isspace()


# Characters that draw nothing but are not format characters (ADR-54): the Unicode default-ignorable
# code points outside Cf (the combining grapheme joiner, the Hangul fillers, Khmer's inherent vowels,
# the Mongolian and generic variation selectors, the ranges kept for future ones), and two that draw
# a blank: the braille pattern with no dots and the object replacement character. A legal name
# "\u3164" is blank on every document; "Acme\ufe0f" looks like "Acme".
_IGNORABLE = re.compile("[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2800\u3164\ufe00-\ufe0f\uffa0"
                        "\ufff0-\ufff8\ufffc\U0001bca0-\U0001bca3\U000e0000-\U000e0fff]")
# Variation selectors choose how the character before them is drawn: an emoji's colour form
# (U+2764 U+FE0F), an ideograph's variant (U+E0100-E01EF), a Mongolian letter's form. After such
# a character they are spelling; after ASCII, or alone, they hide.
_SELECTOR = re.compile("[\u180b-\u180d\u180f\ufe00-\ufe0f\U000e0100-\U000e01ef]")
# Not re-decided on import even for the events held to the whole policy (ADR-41): the stores written
# before ADR-54 may hold them (see `texts_of_the_first_policy`).
_FIRST_POLICY: ContextVar[bool] = ContextVar("texts_of_the_first_policy", default=False)


@contextmanager
def texts_of_the_first_policy() -> Iterator[None]:
    """Within, `check_text` applies ADR-26's policy as it was first written, without the invisible
    characters ADR-54 added (the fillers, a leading combining mark): for re-deciding the events
    held to the whole policy (ADR-41), which a tratos before ADR-54 may have recorded with them."""
    token = _FIRST_POLICY.set(True)
    try:
        yield
    finally:
        _FIRST_POLICY.reset(token)


def visible(text: str) -> str:
    """`text` as one line a terminal shows as it is: every character the text policy refuses in a
    one-line text (controls, line breaks, bidirectional and invisible characters, lone
    surrogates) written as its escape (\\u202e, \\x1b). For what tratos prints but did not check:
    a certificate's subject, a PDF's fields, an email's headers, every `error:` line."""
    return "".join(_escaped(char) if _hidden(text, n) else char for n, char in enumerate(text))


def _hidden(text: str, n: int) -> bool:
    """Whether `text[n]` would not show as it is stored: a control, a line break, a bidirectional
    control, a lone surrogate, a format character (but a joiner between two non-ASCII characters),
    a default-ignorable or blank character (but a variation selector after a non-ASCII one), or a
    combining mark with nothing to combine with (the text's first character)."""
    import unicodedata

    char = text[n]
    if _CONTROL.match(char) or _LINE_BREAK.match(char) or _BIDI.match(char) or _SURROGATE.match(char):
        return True
    if char.isascii():
        return False
    category = unicodedata.category(char)
    if category == "Cf":
        return not (char in _JOINERS and 0 < n < len(text) - 1 and _joinable(text[n - 1])
                    and _joinable(text[n + 1]))
    if _FIRST_POLICY.get():
        return False
    if _SELECTOR.match(char):
        return not (n > 0 and _joinable(text[n - 1]) and not _SELECTOR.match(text[n - 1]))
    if _IGNORABLE.match(char):
        return True
    return n == 0 and category.startswith("M")


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def check_email(value: str) -> str:
    """An email address as a contact detail: one @ between two parts, no spaces (or nothing)."""
    value = check_text(value, "email", required=False, limit=300)
    if value and not _AS_RECORDED.get() and not _EMAIL.fullmatch(value):
        raise BadInput(f"not an email address: {value!r} (such as laura@acme.test, without the name)")
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
        value = "".join((value or "").split()).upper()
        if not all(c.isascii() and c.isalnum() for c in value):
            raise BadInput(f"not an IBAN: {value!r} (write it with the letters A-Z and the digits 0-9)")
        if value and not _valid_iban(value):
            raise BadInput(f"not a valid IBAN: {value!r} (its check digits are wrong)")
        return value

    @field_validator("payment_method")
    @classmethod
    def _method(cls, value: str) -> str:
        return check_text(value, "payment method", limit=200)


@functools.lru_cache(maxsize=64)
def _valid_iban(value: str) -> bool:
    """Cached: every invoice event carries its issuer's IBAN, checked again each time it is read."""
    from stdnum import iban  # noqa: PLC0415

    return iban.is_valid(value)


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
