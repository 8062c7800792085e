"""tratos init / identity: who the freelancer is, as printed on every document."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from cli.options import not_empty, pass_session
from cli.output import print_json, table, warn
from cli.passphrase import PASSPHRASE_ENV, key_passphrase
from cli.session import IDENTITY_FILE, Session

LANGUAGES = ("es", "en")
KEY_FILE = "identity.p12"


@click.command()
@click.option("--name", required=True, help="Your name or business name, as on invoices.")
@click.option("--email", required=True, help="Your contact email.")
@click.option("--tax-id", default="", help="Your VAT or tax id.")
@click.option("--address", default="", help="Your postal address.")
@click.option("--currency", default="EUR", show_default=True,
              help="Currency of amounts typed without one (ISO 4217).")
@click.option("--lang", type=click.Choice(LANGUAGES), default="es", show_default=True,
              help="Language of documents.")
@click.option("--force", is_flag=True, help="Replace an existing identity (an existing signing key is kept).")
@pass_session
def init(session: Session, name: str, email: str, tax_id: str, address: str, currency: str,
         lang: str, force: bool) -> None:
    """Set up your identity, once (--force replaces it).

    \b
    Example:
        tratos init --name "Ana García" --email ana@example.com --tax-id 12345678Z
    """
    from domain.model.errors import BadInput, Refused
    from domain.model.money import check_currency
    from domain.model.values import Party

    path = session.home / IDENTITY_FILE
    if path.exists() and not force:
        raise Refused(f"an identity already exists in {session.home}; use --force to replace it")
    if tax_id:  # as `identity invoicing` checks it: every signed document prints it
        from domain.model.tax_ids import spanish_nif

        tax_id = spanish_nif(tax_id, "your tax id")
    party = Party(name=name, email=email, tax_id=tax_id, address=address, country="ES")  # tratos invoices from Spain
    if "@" not in party.email or any(c.isspace() for c in party.email):
        raise BadInput(f"not an email address: {email!r}")
    identity = {**party.model_dump(), "currency": check_currency(currency), "lang": lang}
    create_signing_key(session, identity, force=force)
    _write_json(path, identity)
    session.__dict__.pop("identity", None)
    if session.as_json:
        print_json({"identity": identity, "file": str(path)})
    else:
        click.echo(f"Identity of {party.name} saved in {path} (currency {identity['currency']},"
                   f" documents in {lang})")


def create_signing_key(session: Session, identity: dict[str, Any], *, force: bool) -> None:
    """Make the P-256 key and self-signed certificate documents are signed with.

    An existing key is kept, even with --force: documents already signed with it
    must keep verifying. Without a passphrase (TRATOS_KEY_PASSPHRASE, or a prompt
    on a terminal) no key is made and documents cannot be signed until there is one.
    """
    if (session.home / KEY_FILE).exists():
        return
    passphrase = key_passphrase("Passphrase for your new signing key", confirm=True, required=False)
    if not passphrase:
        warn(f"no signing key made: set {PASSPHRASE_ENV} and run"
                   " `tratos init --force` to make one")
        return
    from documents.identity import create_identity

    # Valid from today, but never from later than the clock: a pinned or local date ahead of
    # UTC would give a certificate that cannot sign yet (ADR-28).
    create_identity(session.home, name=identity["name"], email=identity["email"],
                    passphrase=passphrase, not_before=min(session.today(), datetime.now(UTC).date()))


@click.group()
def identity() -> None:
    """Your identity and signing certificate."""


@identity.command("show")
@pass_session
def show(session: Session) -> None:
    """Show your identity and whether a signing key is set up.

    \b
    Example:
        tratos identity show
    """
    from domain.model.errors import Refused

    if not session.identity:
        raise Refused(f"no identity in {session.home} yet: run `tratos init --name N --email E`")
    key = session.home / KEY_FILE
    shown = {**session.identity, "signing_key": str(key) if key.exists() else None}
    if key.exists():
        from documents.identity import current_certificate, describe_certificate

        certificate = current_certificate(session.home)
        if certificate is not None:
            info = describe_certificate(certificate).as_dict()
            shown.update({name: info[name] for name in
                          ("subject", "issuer", "not_before", "not_after", "fingerprint_sha256")})
    if session.as_json:
        print_json(shown)
        return
    rows = [(field.replace("_", " "), value if value is not None else "none yet")
            for field, value in shown.items()]
    table("Identity", ["field", "value"], rows)


@identity.command("invoicing")
@click.option("--tax-id", default=None, callback=not_empty, metavar="NIF", help="Your Spanish tax id (NIF, NIE or CIF).")
@click.option("--address", default=None, callback=not_empty, metavar="TEXT", help="Your fiscal address, as invoices print it.")
@click.option("--iban", default=None, callback=not_empty, metavar="IBAN", help="The account clients pay into.")
@click.option("--payment-method", default=None, callback=not_empty, metavar="TEXT", help="How clients pay (default: bank transfer).")
@click.option("--vat", "vat_rate", default=None, callback=not_empty, metavar="21%", help="Default VAT rate: 21%, 10%, 4% or 0%.")
@click.option("--withholding", default=None, callback=not_empty, metavar="15%",
              help="Professional IRPF withholding on invoices to Spanish businesses: 15%, 7% or none.")
@click.option("--series", default=None, callback=not_empty, metavar="F", help="Prefix of invoice numbers (F-2026-001).")
@click.option("--corrective-series", default=None, callback=not_empty, metavar="R",
              help="Prefix of corrective invoice numbers (R-2026-001).")
@pass_session
def invoicing(session: Session, tax_id: str | None, address: str | None, iban: str | None,
              payment_method: str | None, vat_rate: str | None, withholding: str | None, series: str | None,
              corrective_series: str | None) -> None:
    """Set what your invoices need: tax id, address, IBAN, VAT rate, withholding, series.

    Options not given keep their value. Every invoice states these as they were when it was
    issued; changing them later changes only the invoices issued after.

    \b
    Example:
        tratos identity invoicing --tax-id 12345678Z --address "Calle Mayor 1, 28013 Madrid" \\
            --iban ES9121000418450200051332 --vat 21% --withholding 15%
    """
    from cli.notation import parse_percent, parse_withholding
    from domain.model.errors import Refused
    from domain.model.tax_ids import spanish_nif
    from domain.model.taxes import check_vat_rate, check_withholding

    written = session.identity_as_written()  # a damaged rate is mended here, so it is not read first
    if not written:
        raise Refused(f"no identity in {session.home} yet: run `tratos init --name N --email E`")
    changed = dict(written)
    given = {"tax_id": tax_id and spanish_nif(tax_id, "your tax id"), "address": address, "iban": iban,
             "payment_method": payment_method, "series": series, "corrective_series": corrective_series}
    if vat_rate is not None:
        given["vat_rate"] = str(check_vat_rate(parse_percent(vat_rate), "domestic"))  # 10, never 1E+1
    if withholding is not None:
        given["withholding"] = str(check_withholding(parse_withholding(withholding), "domestic", True))
    changed.update({key: value for key, value in given.items() if value is not None})
    changed.setdefault("country", "ES")
    session.__dict__["identity"] = changed
    try:
        profile = session.tax_profile()  # every value checked as an invoice will use it
    finally:
        session.__dict__.pop("identity", None)
    changed.update(tax_id=profile.issuer.tax_id, iban=profile.issuer.iban)
    _write_json(session.home / IDENTITY_FILE, changed)
    if session.as_json:
        print_json({"invoicing": changed})
    else:
        withheld = f", withholding {profile.withholding.normalize():f}%" if profile.withholding else ""
        click.echo(f"Invoicing settings saved: {profile.issuer.tax_id or 'no tax id'},"
                   f" VAT {profile.vat_rate.normalize():f}%{withheld}, series {profile.series}/{profile.corrective_series}")


@identity.command("import")
@click.argument("file", metavar="FILE.p12")
@click.option("--force", is_flag=True, help="Replace an existing signing key.")
@pass_session
def import_(session: Session, file: str, force: bool) -> None:
    """Sign with an existing certificate (e.g. a qualified one) instead of a self-signed key.

    The passphrase comes from TRATOS_KEY_PASSPHRASE or is asked for on a
    terminal. A certificate that has expired or is not valid yet is refused
    (exit 1, nothing changes); one expiring within 30 days is imported with a
    warning.

    \b
    Example:
        TRATOS_KEY_PASSPHRASE=... tratos identity import ~/certs/fnmt.p12
    """
    from domain.model.errors import BadInput

    try:
        from documents.identity import describe, expiry_warning, import_identity, load_identity
    except ModuleNotFoundError:
        raise BadInput("`tratos identity import` is not available in this version yet") from None
    passphrase = key_passphrase("Passphrase of the certificate")
    now = datetime.now(UTC)  # certificates live on the clock, not on TRATOS_TODAY's business date
    target = import_identity(Path(file), passphrase, session.home, overwrite=force, now=now)
    imported = load_identity(target, passphrase)
    info = describe(imported).as_dict()
    warning = expiry_warning(imported.certificate, now)
    if warning:
        warn(f"{warning}")
    if session.as_json:
        print_json({"signing_key": str(target), **info})
    else:
        click.echo(f"Signing key imported into {target}: {info['subject']}"
                   f" (SHA-256 {info['fingerprint_sha256']})")


def _write_json(path: Path, value: dict[str, Any]) -> None:
    """Write atomically, so an interrupted init never leaves half a file."""
    from domain.adapters.files import write_atomically

    write_atomically(path, (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
