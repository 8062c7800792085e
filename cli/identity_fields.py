"""What identity.json may hold: each field tratos reads from it, the values some tratos wrote there,
and the command that writes it again.

The file is the freelancer's, and may be edited by hand or damaged. A value no tratos ever wrote (a
withholding of `1e999999999`, a Verifactu mode `bogus`, an empty name) is refused by every command
that reads the file, in one line naming the field and the command that sets it (exit 1), before
any of it is used: a number that overflows or prints its thousand digits, a mode that prints
the wrong QR code, or "no identity yet" for a name left empty would each say less (ADR-61).

Plain strings and Decimals only: `status` reads the file too and builds no pydantic model (ADR-16).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

INIT = "`tratos init --force --name NAME --email EMAIL` (the signing key is kept)"
ADDRESS = '`tratos identity invoicing --address "Calle Mayor 1, 28013 Madrid"`'
TAX_ID = "`tratos identity invoicing --tax-id 12345678Z`"
IBAN = "`tratos identity invoicing --iban ES9121000418450200051332`"
# the values some tratos wrote: before ADR-54, a rate was written as normalize() gives it (10 as 1E+1, 0 as -0)
_SHORT_NUMBER = re.compile(r"-?[0-9]{1,3}(\.[0-9]{1,2})?|[0-9]E\+[0-9]")


def _not_blank(value: str) -> str | None:
    return "is empty" if not value.strip() else None


def _rate(allowed: tuple[int, ...], what: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        try:
            number = Decimal(value) if _SHORT_NUMBER.fullmatch(value) else None
        except InvalidOperation:
            number = None
        if number is None or number not in allowed:
            return f"is not {what}: {', '.join(map(str, allowed[:-1]))} or {allowed[-1]}"
        return None
    return check


def _one_of(*values: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return None if value in values else f"is not one of {', '.join(values)}"
    return check


def _series(value: str) -> str | None:
    return None if re.fullmatch(r"[A-Z]{1,5}", value) else "is not 1 to 5 capital letters"


def _port(value: str) -> str | None:
    return None if re.fullmatch(r"[0-9]{1,5}", value) and 1 <= int(value) <= 65535 else "is not a port (1 to 65535)"


def _refusing(check: Callable[[str], object], problem: str) -> Callable[[str], str | None]:
    """A field's rule as the command that sets it checks it (domain/model), `problem` if refused."""
    def rule(value: str) -> str | None:
        from domain.model.errors import BadInput

        try:
            check(value)
        except BadInput:
            return problem
        return None
    return rule


def _email(value: str) -> None:
    from domain.model.errors import BadInput
    from domain.model.texts import check_email

    if value != value.strip():  # as written is as used: a mail header would carry the space
        raise BadInput("spaces around it")
    check_email(value)


def _tsa_url(value: str) -> str | None:
    """As `identity tsa` writes it (documents.timestamps.check_url): http(s), one line, nothing around."""
    if value.lower().startswith(("http://", "https://")) and not any(c.isspace() or ord(c) < 32 for c in value):
        return None
    return "is not a time-stamping authority URL (http:// or https://, on one line)"


def _one_line(limit: int) -> Callable[[str], None]:
    def check(value: str) -> None:
        from domain.model.texts import check_text

        check_text(value, "text", required=False, limit=limit)
    return check


def _country(value: str) -> None:
    """tratos invoices from Spain: `init` and `identity invoicing` write ES ("" reads as ES, as in a Party)."""
    from domain.model.errors import BadInput

    if value not in ("ES", ""):
        raise BadInput(value)


def _tax_id_form(value: str) -> None:
    from domain.model.tax_ids import typed_tax_id

    typed_tax_id(value, "tax id")


def _iban_form(value: str) -> None:
    from domain.model.bank_accounts import iban_form

    iban_form(value)


def _currency(value: str) -> str | None:
    from domain.model.currencies import CURRENCIES

    return None if value in CURRENCIES else "is not an ISO 4217 currency code"


# field: (its rule, the command that sets it again)
FIELDS: dict[str, tuple[Callable[[str], str | None], str]] = {
    "name": (lambda value: _not_blank(value) or _refusing(_one_line(200), "is not a name as `init` writes it (one line"
                                                       " of at most 200 characters, no control or bidirectional"
                                                       " characters)")(value), INIT),
    "email": (lambda value: _not_blank(value) or _refusing(_email, "is not an email address")(value), INIT),
    "address": (_refusing(_one_line(300), "is not one line of text (at most 300 characters, no control characters)"),
                ADDRESS),
    "country": (_refusing(_country, "is not ES: tratos invoices as a freelancer established in Spain"),
                "`tratos identity invoicing` (which writes ES)"),
    "tax_id": (_refusing(_tax_id_form, "is not a Spanish NIF (the letters A-Z and the digits 0-9)"), TAX_ID),
    "iban": (_refusing(_iban_form, "is not an IBAN (the letters A-Z and the digits 0-9)"), IBAN),
    "payment_method": (_refusing(_one_line(200), "is not one line of text (at most 200 characters, no control"
                                                 " characters)"), "`tratos identity invoicing --payment-method TEXT`"),
    "currency": (_currency, INIT.replace("EMAIL`", "EMAIL --currency EUR`")),
    "lang": (_one_of("es", "en"), INIT.replace("EMAIL`", "EMAIL --lang es`")),
    "vat_rate": (_rate((21, 10, 4, 0), "a Spanish VAT rate"), "`tratos identity invoicing --vat 21%`"),
    "withholding": (_rate((15, 7, 0), "a professional withholding rate"),
                    "`tratos identity invoicing --withholding 15%` (or none)"),
    "series": (_series, "`tratos identity invoicing --series F`"),
    "corrective_series": (_series, "`tratos identity invoicing --corrective-series R`"),
    "verifactu_mode": (_one_of("no-verifactu", "verifactu"), "`tratos identity invoicing --verifactu-mode no-verifactu`"),
    "smtp_port": (_port, "`tratos identity mail --port N`"),
    "smtp_security": (_one_of("starttls", "ssl", "none"), "`tratos identity mail --security starttls`"),
    "mail_bcc_self": (_one_of("yes", "no"), "`tratos identity mail --bcc-self` (or --no-bcc-self)"),
    "tsa_lta": (_one_of("yes", "no"), "`tratos identity tsa URL --lta` (or --no-lta)"),
    "tsa_url": (_tsa_url, "`tratos identity tsa URL` (or `tratos identity tsa none`)"),
}


# What else tratos writes there: the mail settings (domain/adapters/smtp.py KEYS) and the signing
# key's file is not one of them; a key beyond these is a misspelt field whose value would be ignored
# (`witholding`: an invoice without its withholding), ADR-74.
OTHER_KEYS = {"smtp_host", "smtp_user", "smtp_trust", "mail_from", "mail_from_name"}


def checked(identity: Mapping[str, Any], path: Path) -> Mapping[str, Any]:
    """`identity` (an object of texts, as read), if every field tratos reads holds a value tratos
    writes, it has a name and no field tratos does not read; else the damaged-identity refusal naming
    the first field that does not."""
    from domain.model.errors import Refused

    if identity and "name" not in identity:
        raise Refused(damaged(path, "it has no name", INIT))
    unknown = sorted(set(identity) - set(FIELDS) - OTHER_KEYS)
    if unknown:
        raise Refused(damaged(path, f"its field {unknown[0]!r} is not one tratos reads: a misspelt field's value"
                                    " would be ignored", "the field's right name (`tratos identity show` lists"
                                    " them), or `tratos init --force --name NAME --email EMAIL`"))
    for field, (rule, mend) in FIELDS.items():
        if field in identity:
            problem = rule(identity[field])
            if problem is not None:
                raise Refused(damaged(path, f"its {field} {problem}", mend))
    return identity


def checked_for_invoices(identity: Mapping[str, Any], path: Path) -> Mapping[str, Any]:
    """`identity` if its tax id and IBAN also pass their check digits, as `identity invoicing` checks
    them; else the damaged-identity refusal. Apart from `checked` because python-stdnum's import is
    half a `status`: this runs where the identity becomes an invoice's issuer (`Session.tax_profile`)."""
    from domain.model.bank_accounts import check_iban
    from domain.model.errors import BadInput, Refused
    from domain.model.tax_ids import spanish_nif

    checked(identity, path)
    for field, check, problem, mend in (("tax_id", spanish_nif, "is not a valid Spanish NIF", TAX_ID),
                                        ("iban", check_iban, "is not a valid IBAN", IBAN)):
        if identity.get(field):
            try:
                check(identity[field])
            except BadInput as error:
                reason = str(error).partition(": ")[2] or str(error)
                raise Refused(damaged(path, f"its {field} {problem}: {reason}", mend)) from None
    return identity


def damaged(path: Path, reason: str, mend: str = INIT) -> str:
    """The one line a damaged identity.json says: where, which field or why, and how to mend it."""
    return f"{path} is damaged ({reason}): restore it from a backup, or write it again with {mend}"
