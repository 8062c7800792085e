"""The account a freelancer is paid into: an IBAN, as invoices print it.

Its form (letters A-Z and digits) is checked on plain strings; its check digits need
python-stdnum, imported only where they are checked (its import is half a `status`, ADR-65).
"""

from __future__ import annotations

import functools

from domain.model.errors import BadInput


def iban_form(value: str) -> str:
    """`value` compacted (spaces dropped, upper case) if written with A-Z and 0-9 only."""
    value = "".join((value or "").split()).upper()
    if not all(c.isascii() and c.isalnum() for c in value):
        raise BadInput(f"not an IBAN: {value!r} (write it with the letters A-Z and the digits 0-9)")
    return value


def check_iban(value: str) -> str:
    """`value` as a valid IBAN (or ""), compacted; else `BadInput` saying why."""
    value = iban_form(value)
    if value and not _valid_iban(value):
        raise BadInput(f"not a valid IBAN: {value!r} (its check digits are wrong)")
    return value


@functools.lru_cache(maxsize=64)
def _valid_iban(value: str) -> bool:
    """Cached: every invoice event carries its issuer's IBAN, checked again each time it is read."""
    from stdnum import iban  # noqa: PLC0415

    return iban.is_valid(value)
