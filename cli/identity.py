"""tratos init / identity: who the freelancer is, as printed on every document."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from cli.options import Count, not_empty, pass_session
from cli.output import echo, print_json, table, warn
from cli.passphrase import PASSPHRASE_ENV, key_passphrase
from cli.session import IDENTITY_FILE, Session
from domain.adapters.home import KEY_FILE

LANGUAGES = ("es", "en")


@click.command()
@click.option("--name", required=True, help="Your name or business name, as on invoices.")
@click.option("--email", required=True, help="Your contact email.")
@click.option("--tax-id", default="", help="Your VAT or tax id.")
@click.option("--address", default="", help="Your postal address.")
@click.option("--currency", default="EUR", show_default=True,
              help="Currency of amounts typed without one (ISO 4217).")
@click.option("--lang", type=click.Choice(LANGUAGES), default="es", show_default=True,
              help="Language of documents.")
@click.option("--tsa-url", default=None, callback=not_empty, metavar="URL",
              help="A time-stamping authority (RFC 3161): every signature then carries its token"
                   " (see `tratos identity tsa` for the roots to trust).")
@click.option("--force", is_flag=True, help="Replace an existing identity (an existing signing key is kept).")
@pass_session
def init(session: Session, name: str, email: str, tax_id: str, address: str, currency: str,
         lang: str, tsa_url: str | None, force: bool) -> None:
    """Set up your identity, once (--force replaces it).

    \b
    Example:
        tratos init --name "Ana García" --email ana@example.com --tax-id 12345678Z
    """
    session.changing_identity()
    from domain.model.errors import BadInput, Refused
    from domain.model.money import check_currency
    from domain.model.values import Party

    path = session.home / IDENTITY_FILE
    if path.exists() and not force:
        raise Refused(f"an identity already exists in {session.home}; use --force to replace it")
    if tax_id:  # as `identity invoicing` checks it: every signed document prints it
        from domain.model.tax_ids import spanish_nif

        tax_id = spanish_nif(tax_id, "your tax id")
    if path.exists():  # a replaced identity leaves no records waiting behind its former tax id (ADR-82)
        try:
            session.identity  # noqa: B018 - read as every command reads it: a damaged one opens no store
            before = session.identity_as_written()
        except Refused:  # a damaged identity.json is what --force mends (a new chain still checks, ADR-82)
            before = {}
        _check_tax_id_change(session, before, tax_id or "")
    party = Party(name=name, email=email, tax_id=tax_id, address=address, country="ES")  # tratos invoices from Spain
    if "@" not in party.email or any(c.isspace() for c in party.email):
        raise BadInput(f"not an email address: {email!r}")
    identity = {**party.model_dump(), "currency": check_currency(currency), "lang": lang}
    from documents.timestamps import LTA_SETTING, URL_SETTING, check_url

    if tsa_url is not None:  # asked once now, as `identity tsa` does: an authority that does not answer is no setting
        from documents.timestamps import Timestamping, request_token

        identity[URL_SETTING] = check_url(tsa_url)
        request_token(Timestamping(identity[URL_SETTING], (), False), b"tratos init")
    elif path.exists():  # --force keeps the TSA set before, as it keeps the signing key
        try:
            kept = session.identity
        except Refused:  # a damaged identity.json is what --force mends: nothing of it is kept
            kept = {}
        identity.update({key: kept[key] for key in (URL_SETTING, LTA_SETTING) if key in kept})
    create_signing_key(session, identity, force=force)
    _write_json(path, identity)
    session.__dict__.pop("identity", None)
    if session.as_json:
        print_json({"identity": identity, "file": str(path)})
    else:
        echo(f"Identity of {party.name} saved in {path} (currency {identity['currency']},"
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
@click.option("--verifactu-mode", default=None, type=click.Choice(["verifactu", "no-verifactu"]),
              help="Verifactu: records sent to the tax agency (verifactu) or kept here (no-verifactu, the default);"
                   " the invoices' QR code and legend follow it.")
@pass_session
def invoicing(session: Session, tax_id: str | None, address: str | None, iban: str | None,
              payment_method: str | None, vat_rate: str | None, withholding: str | None, series: str | None,
              corrective_series: str | None, verifactu_mode: str | None) -> None:
    """Set what your invoices need: tax id, address, IBAN, VAT rate, withholding, series.

    Options not given keep their value. Every invoice states these as they were when it was
    issued; changing them later changes only the invoices issued after.

    \b
    Example:
        tratos identity invoicing --tax-id 12345678Z --address "Calle Mayor 1, 28013 Madrid" \\
            --iban ES9121000418450200051332 --vat 21% --withholding 15%
    """
    session.changing_identity()
    from cli.notation import parse_percent, parse_withholding
    from domain.model.bank_accounts import check_iban
    from domain.model.errors import Refused
    from domain.model.tax_ids import spanish_nif
    from domain.model.taxes import check_vat_rate, check_withholding
    from domain.model.texts import check_text
    from domain.model.values import check_series

    written = session.identity_as_written()  # a damaged rate is mended here, so it is not read first
    if not written:
        raise Refused(f"no identity in {session.home} yet: run `tratos init --name N --email E`")
    changed = dict(written)
    given = {"tax_id": tax_id and spanish_nif(tax_id, "your tax id"),
             "address": address and check_text(address, "your address", limit=300),
             "iban": iban and check_iban(iban),
             "payment_method": payment_method and check_text(payment_method, "payment method", limit=200),
             "verifactu_mode": verifactu_mode,
             # typed, so bad input (exit 2), before the file's fields are checked as damage (exit 1)
             "series": series and check_series(series),
             "corrective_series": corrective_series and check_series(corrective_series)}
    if vat_rate is not None:
        given["vat_rate"] = str(check_vat_rate(parse_percent(vat_rate), "domestic"))  # 10, never 1E+1
    if withholding is not None:
        given["withholding"] = str(check_withholding(parse_withholding(withholding), "domestic", True))
    changed.update({key: value for key, value in given.items() if value is not None})
    changed["country"] = "ES"  # tratos invoices from Spain: a country edited in identity.json is mended here
    if series or corrective_series:  # typed, so bad input (exit 2), not the file's damage (ADR-76)
        from domain.model.errors import BadInput
        from domain.model.values import DEFAULT_CORRECTIVE_SERIES, DEFAULT_SERIES

        both = changed.get("series") or DEFAULT_SERIES
        if both == (changed.get("corrective_series") or DEFAULT_CORRECTIVE_SERIES):
            raise BadInput(f"invoices and corrective invoices need two series, not both {both!r}")
    session.__dict__["identity"] = changed
    try:
        profile = session.tax_profile()  # every value checked as an invoice will use it
        changed.update(tax_id=profile.issuer.tax_id, iban=profile.issuer.iban)
        _check_mode_change(session, written, verifactu_mode, profile.issuer.tax_id)
        _check_tax_id_change(session, written, profile.issuer.tax_id)
    finally:
        session.__dict__.pop("identity", None)
    switched = _mode_switch(session, written, changed)
    _write_json(session.home / IDENTITY_FILE, changed)
    session.__dict__.pop("identity", None)
    if switched is not None:
        switched()
    if session.as_json:
        print_json({"invoicing": changed})
    else:
        withheld = f", withholding {profile.withholding.normalize():f}%" if profile.withholding else ""
        echo(f"Invoicing settings saved: {profile.issuer.tax_id or 'no tax id'},"
                   f" VAT {profile.vat_rate.normalize():f}%{withheld}, series {profile.series}/{profile.corrective_series}")


def _check_mode_change(session: Session, written: dict[str, Any], mode: str | None, tax_id: str) -> None:
    """A Verifactu mode switched is refused while the year has billing records (ADR-61); one that
    was damaged (not a mode) is mended, and only a real switch opens the store."""
    from cli.pdf import verifactu_mode
    from domain.model.billing_records import MODES

    old = verifactu_mode(written)
    if mode is not None and tax_id and old in MODES and old != mode:
        session.app.check_mode_change(tax_id, old, mode)


def _check_tax_id_change(session: Session, written: dict[str, Any], tax_id: str) -> None:
    """A new tax id starts a chain of its own (ADR-49), and `verifactu submission` sends the current
    one's: refused while the former tax id's records made in VERI*FACTU mode wait to be sent, which
    nothing would offer again (ADR-81, ADR-82)."""
    from cli.pdf import verifactu_mode
    from domain.adapters.verifactu_xml import pending
    from domain.model.errors import Refused, TratosError
    from domain.model.tax_ids import spanish_nif

    try:
        old = spanish_nif(written.get("tax_id") or "", "your tax id")
    except TratosError:
        return  # none before, or not one: no chain of records to leave behind
    if old == tax_id:
        return
    first, _, waiting = pending(session.app, old, verifactu_mode(written))
    if waiting:
        raise Refused(f"your billing records as {old} have records waiting to be sent to the agency (from record"
                      f" {first}): send them (`tratos verifactu submission`, then `tratos verifactu sent`) before"
                      " you change your tax id; nothing was changed")


def _mode_switch(session: Session, before: dict[str, Any], after: dict[str, Any]) -> Any:
    """A change of Verifactu mode is an event of the log the no-verifactu mode keeps (ADR-60): the end
    of the work as no-VERI*FACTU (02) is logged now, under the mode it ends; its start (01) once the
    new mode is written (returned, to call then)."""
    from cli.pdf import verifactu_mode
    from cli.verifactu_log import log
    from domain.model.billing_records import MODES
    from domain.model.event_log import START, STOP

    old, new = verifactu_mode(before), verifactu_mode(after)
    if old == new or old not in MODES:  # a damaged mode mended is no switch (ADR-61)
        return None
    if new == "verifactu":
        log(session, [{"event_type": STOP}], "the end of the no-verifactu mode")
        return None
    return lambda: log(session, [{"event_type": START}], "the start of the no-verifactu mode")


@identity.command("mail")
@click.option("--host", default=None, callback=not_empty, metavar="HOST", help="Your SMTP server (smtp.example.com).")
@click.option("--port", default=None, type=Count(1, 65535), metavar="N",
              help="Its port (default: 587 for starttls, 465 for ssl).")
@click.option("--security", default=None, type=click.Choice(("starttls", "ssl", "none")),
              help="starttls (default), ssl, or none (only for a relay on 127.0.0.1).")
@click.option("--user", default=None, callback=not_empty, metavar="USER", help="The login (often your address).")
@click.option("--from", "from_address", default=None, callback=not_empty, metavar="ADDR",
              help="The From address (default: your identity's email).")
@click.option("--from-name", default=None, callback=not_empty, metavar="NAME",
              help="The From name (default: your identity's name).")
@click.option("--bcc-self/--no-bcc-self", default=None, help="Send yourself a blind copy of each message.")
@click.option("--trust", default=None, callback=not_empty, metavar="FILE.pem",
              help="Certificates to trust besides the system's (a server with a private CA).")
@pass_session
def mail(session: Session, host: str | None, port: int | None, security: str | None, user: str | None,
         from_address: str | None, from_name: str | None, bcc_self: bool | None, trust: str | None) -> None:
    """Set how tratos sends email: SMTP host, port, security, login, From, Bcc to yourself.

    Options not given keep their value. The password is never saved by tratos: it is read
    from TRATOS_SMTP_PASSWORD or the system keyring (`keyring set tratos-smtp USER@HOST`).

    \b
    Example:
        tratos identity mail --host smtp.example.com --user ana@example.com --bcc-self
    """
    session.changing_identity()
    from domain.adapters.smtp import DEFAULT_PORTS, KEYS, MailSettings
    from domain.model.errors import BadInput, Refused

    known = session.identity_as_written()  # a damaged port or security is mended here, so not read first
    if not known:
        raise Refused(f"no identity in {session.home} yet: run `tratos init --name N --email E`")
    first = not known.get(KEYS["host"])
    changed = dict(known)
    given = {"host": host, "user": user, "from_address": from_address, "from_name": from_name,
             "security": security, "bcc_self": None if bcc_self is None else ("yes" if bcc_self else "no")}
    if trust is not None:  # certificates, now: not a file found unreadable when a message is sent
        from domain.adapters.certificates import certificates_file

        path = Path(trust).expanduser()
        certificates_file(path, "the certificates file to trust")
        given["trust"] = str(path.resolve())
    if port is not None:
        given["port"] = str(port)
    elif first or (security is not None and security != known.get(KEYS["security"], "starttls")):
        given["port"] = str(DEFAULT_PORTS[security or "starttls"])  # the new security's usual port
    changed.update({KEYS[field]: value for field, value in given.items() if value is not None})
    if not changed.get(KEYS["host"]):
        raise BadInput("--host is needed the first time: the SMTP server to send through")
    settings = MailSettings.from_identity(session.checked_identity(changed))
    changed.update(settings.as_identity())
    _write_json(session.home / IDENTITY_FILE, changed)
    session.__dict__["identity"] = changed
    if session.as_json:
        print_json({"mail": settings.as_identity()})
    else:
        login = f", login {settings.user}" if settings.user else ", no login"
        bcc = ", Bcc to yourself" if settings.bcc_self else ""
        echo(f"Mail settings saved: {settings.host}:{settings.port} ({settings.security}{login}),"
                   f" From {settings.from_address}{bcc}")


@identity.command("tsa")
@click.argument("url", metavar="URL|none")
@click.option("--trust", "trust", type=click.Path(dir_okay=False), metavar="FILE.pem", callback=not_empty,
              help="The root certificate(s) the TSA's certificate must chain to (PEM or DER).")
@click.option("--lta/--no-lta", default=None,
              help="Sign PAdES B-LTA: embed the validation data and add a document timestamp"
                   " (default: B-T, the signature's own timestamp).")
@pass_session
def tsa(session: Session, url: str, trust: str | None, lta: bool | None) -> None:
    """Set the time-stamping authority (RFC 3161) whose trusted time every signature carries.

    With a TSA set, every PDF tratos signs is PAdES B-T: the signature carries the
    TSA's token, which proves it existed at the TSA's time (eIDAS art. 41), and
    `tratos audit anchor --tsa` stamps the chain heads. The TSA is asked once now;
    if it does not answer, or signs with a certificate that does not chain to the
    roots given with --trust, nothing changes (exit 2). `none` stops timestamping.

    \b
    Example:
        tratos identity tsa https://freetsa.org/tsr --trust freetsa-cacert.pem
        tratos identity tsa http://tsa.example.com --lta
    """
    session.changing_identity()
    from documents.timestamps import (
        LTA_SETTING,
        ROOTS_FILE,
        URL_SETTING,
        Timestamping,
        check_url,
        request_token,
        trusted_roots,
    )
    from domain.adapters.certificates import certificates_file
    from domain.model.errors import BadInput, Refused

    written = session.identity_as_written()  # a damaged tsa_lta is mended here, so it is not read first
    if not written:
        raise Refused(f"no identity in {session.home} yet: run `tratos init --name N --email E`")
    changed = dict(written)
    if url.strip().lower() == "none":
        if trust is not None or lta:
            raise BadInput("`tratos identity tsa none` takes no --trust or --lta: it stops timestamping")
        changed.pop(URL_SETTING, None)
        changed.pop(LTA_SETTING, None)
        _write_json(session.home / IDENTITY_FILE, session.checked_identity(changed))
        _report_tsa(session, None, [], False, None)
        return
    roots = (certificates_file(trust, "the trusted roots file") if trust is not None
             else trusted_roots(session.home))
    long_term = lta if lta is not None else changed.get(LTA_SETTING) == "yes"
    session.checked_identity({**changed, LTA_SETTING: "yes" if long_term else "no"})  # before asking the TSA
    if long_term and not roots:
        raise BadInput("--lta embeds the data that validates the TSA's certificate: give its root with --trust")
    timestamping = Timestamping(check_url(url), tuple(roots), long_term)
    _, answer = request_token(timestamping, b"tratos identity tsa")  # the TSA answers, and as trusted
    if trust is not None:
        from cryptography.hazmat.primitives.serialization import Encoding

        from domain.adapters.files import write_atomically

        write_atomically(session.home / ROOTS_FILE, b"".join(c.public_bytes(Encoding.PEM) for c in roots))
    changed.update({URL_SETTING: timestamping.url, LTA_SETTING: "yes" if long_term else "no"})
    _write_json(session.home / IDENTITY_FILE, changed)
    _report_tsa(session, timestamping.url, roots, long_term, answer)


def _report_tsa(session: Session, url: str | None, roots: list[Any], lta: bool, answer: Any) -> None:
    from documents.identity import name_text

    if session.as_json:
        print_json({"tsa_url": url, "lta": lta, "trusted_roots": [name_text(c.subject) for c in roots],
                    "answered": answer.as_dict() if answer else None})
        return
    if url is None:
        echo("No time-stamping authority: signatures are PAdES B-B again (no trusted time)")
        return
    level = "B-LTA" if lta else "B-T"
    trusted = (f"trusted through {', '.join(name_text(c.subject) for c in roots)}" if roots
               else "NOT trusted: give its root with --trust so verify can trust its tokens")
    echo(f"Time-stamping authority set: {url} ({answer.authority}, {trusted})."
               f" It answered {answer.time:%Y-%m-%d %H:%M:%S} UTC. Signatures will be PAdES {level}.")


@identity.command("import")
@click.argument("file", metavar="FILE.p12")
@click.option("--force", is_flag=True, help="Replace an existing signing key.")
@pass_session
def import_(session: Session, file: str, force: bool) -> None:
    """Sign with an existing certificate (e.g. a qualified one) instead of a self-signed key.

    The passphrase comes from TRATOS_KEY_PASSPHRASE or is asked for on a
    terminal. A certificate that has expired, is not valid yet or was issued
    for other uses than signing is refused (exit 1), and a key PDF readers
    cannot check (RSA under 2048 bits, Ed25519, ECDSA off P-256/384/521) too
    (exit 2): nothing changes. One expiring within 30 days is imported with a
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
        echo(f"Signing key imported into {target}: {info['subject']}"
                   f" (SHA-256 {info['fingerprint_sha256']})")


def _write_json(path: Path, value: dict[str, Any]) -> None:
    """Write atomically, so an interrupted init never leaves half a file."""
    from domain.adapters.files import write_atomically

    write_atomically(path, (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
