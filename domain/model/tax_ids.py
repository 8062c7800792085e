"""Tax ids checked as the tax offices check them: Spanish NIF (DNI, NIE, CIF) and EU VAT numbers.

python-stdnum knows each country's format and check digits; what is ours is saying, in one
line, which check failed and, for Spanish ids, what the check character should have been, so a
typo in a client's CIF is caught before it is printed on an invoice a tax office will read.
"""

from __future__ import annotations

from typing import Any

from domain.model.errors import BadInput

# python-stdnum is imported where a tax id is checked: it loads shutil and tempfile with it,
# which the model's modules keep out of every command that checks none (tests/domain/test_model_is_pure.py).

# The member states, by the country code their VAT numbers start with (Greece is EL there).
EU_COUNTRIES = frozenset("AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO"
                         " SE SI SK".split())


def typed_tax_id(number: str, whose: str) -> str:
    """The characters of a tax id as typed: A-Z, 0-9 and the separators people write (space - . /);
    anything else (a full-width digit, an invisible character) is refused, not silently dropped."""
    other = next((c for c in number if not (c.isascii() and (c.isalnum() or c in " -./"))), None)
    if other is not None:
        raise BadInput(f"{whose} {number!r} has {other!r} (U+{ord(other):04X}): write it with the letters"
                       " A-Z and the digits 0-9")
    return "".join(c for c in number.upper() if c.isalnum())


def vat_prefix(country: str) -> str:
    return "EL" if country == "GR" else country


def spanish_nif(number: str, whose: str = "tax id") -> str:
    """`number` as a valid Spanish NIF (DNI, NIE or CIF), compacted; else `BadInput` saying why."""
    from stdnum import exceptions
    from stdnum.es import nif

    compact = typed_tax_id(number, whose)
    if compact.startswith("ES"):
        compact = compact[2:]
    try:
        return nif.validate(compact)
    except exceptions.InvalidChecksum:
        expected = _expected_check(compact)
        hint = f" (for {compact[:-1]} it is {expected!r})" if expected else ""
        raise BadInput(f"{whose} {number!r} is not a valid Spanish NIF: its check"
                       f" {'letter' if compact[-1:].isalpha() else 'digit'} {compact[-1:]!r} is wrong{hint}") from None
    except exceptions.ValidationError as error:
        raise BadInput(f"{whose} {number!r} is not a valid Spanish NIF: {_reason(error)}") from None


def foreign_tax_id(number: str, whose: str = "tax id") -> str:
    """A tax id of a country outside the EU, as typed but compacted: A-Z and 0-9 only."""
    return typed_tax_id(number, whose)


def eu_vat_number(number: str, whose: str = "VAT number", country: str = "") -> str:
    """`number` as a valid EU VAT number with its country prefix (DE123456788), compacted; with
    `country`, the prefix must be that country's (EL for Greece)."""
    compact = typed_tax_id(number, whose)
    if country and compact[:2] != vat_prefix(country):
        raise BadInput(f"{whose} {number!r} is not a VAT number of {country}: it must start with"
                       f" {vat_prefix(country)}")
    if compact[:2] not in {vat_prefix(c) for c in EU_COUNTRIES}:
        raise BadInput(f"{whose} {number!r} is not an EU VAT number: it must start with the"
                       " country code of a member state (DE…, FR…, ES…)")
    from stdnum import exceptions
    from stdnum.eu import vat

    try:
        return vat.validate(compact)
    except exceptions.ValidationError as error:
        raise BadInput(f"{whose} {number!r} is not a valid {compact[:2]} VAT number: {_reason(error)}") from None


def is_eu_vat_number(number: str) -> bool:
    try:
        eu_vat_number(number)
    except BadInput:
        return False
    return True


def _expected_check(compact: str) -> str:
    """The check character a Spanish id of this shape should end with, if it can be worked out."""
    from stdnum import exceptions
    from stdnum.es import cif, dni, nie

    body = compact[:-1]
    try:
        if body[:1] in "XYZ":
            return nie.calc_check_digit(body)
        if body[:1].isdigit() or body[:1] in "KLM":
            return dni.calc_check_digit(body if body[:1].isdigit() else body[1:])
        digits = cif.calc_check_digits(body)  # "4D": the digit, or the letter some kinds use
        return digits[1] if compact[-1:].isalpha() else digits[0]
    except (ValueError, KeyError, IndexError, exceptions.ValidationError):
        return ""


def _reason(error: Any) -> str:
    from stdnum import exceptions

    if isinstance(error, exceptions.InvalidChecksum):
        return "its check digits are wrong"
    if isinstance(error, exceptions.InvalidLength):
        return "it has the wrong number of characters"
    if isinstance(error, exceptions.InvalidFormat):
        return "it is not in the format of that country's ids"
    if isinstance(error, exceptions.InvalidComponent):
        return "a part of it (such as the kind of entity) does not exist"
    return str(error.message).rstrip(".").lower()
