"""tratos pdf / verify: print a relationship's documents as signed PDFs, and check one later.

WeasyPrint and pyHanko are imported inside the functions that use them, so
`tratos --help` (which imports this module) and every recording command stay fast.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.options import business_date, handle_argument, on_option, pass_session
from cli.output import echo, gives_verdict, warn
from cli.passphrase import key_passphrase
from cli.session import Session
from domain.adapters.home import KEY_FILE

if TYPE_CHECKING:
    from documents.context import Document
    from documents.identity import Identity
    from domain.services.documents import Issued, Printed

KINDS = ("terms", "contract", "change", "incident", "reminder", "closing", "dossier", "invoice")
LANGUAGES = ("es", "en")
# The kinds the client signs too: an empty `Client` field is added next to ours.
COUNTERSIGNED = ("contract", "change")
FREELANCER_FIELD = "Freelancer"
CLIENT_FIELD = "Client"


def document_options(function: Any) -> Any:
    """--lang, -o, --unsigned and --no-timestamp, shared by `pdf` and `remind`."""
    function = click.option("--no-timestamp", "no_timestamp", is_flag=True,
                            help="Sign without the time-stamping authority's token (PAdES B-B:"
                                 " no trusted time), e.g. when it cannot be reached.")(function)
    function = click.option("--unsigned", is_flag=True,
                            help="Write the PDF without signing it (a draft; `verify` will not accept it).")(function)
    function = click.option("-o", "--output", type=click.Path(dir_okay=False), metavar="FILE",
                            callback=_writable_output,
                            help="Where to write the PDF (default: CLIENT-KIND-ID-LANG.pdf here).")(function)
    return click.option("--lang", type=click.Choice(LANGUAGES), default=None,
                        help="Language of the document (default: the one set by `tratos init`).")(function)


def _writable_output(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """-o is checked before anything is printed or recorded (`files.output_path`: a name that shows
    as it is, none of the home's own files, an existing folder, a regular file or nothing yet, not
    `-`); the write itself checks again (domain/adapters/files.py, ADR-30, ADR-62)."""
    if value is not None:
        from domain.adapters.files import output_path

        session = ctx.find_object(Session)
        output_path(value, home=session.home)
    return value


@click.command()
@click.argument("kind", type=click.Choice(KINDS), metavar="KIND")
@handle_argument
@click.argument("ref", metavar="[ID]", required=False)
@document_options
@on_option
@pass_session
def pdf(session: Session, kind: str, handle: str, ref: str | None, lang: str | None,
        output: str | None, unsigned: bool, no_timestamp: bool, on: str | None) -> None:
    """Print a signed PDF of a client relationship and record that it was issued.

    KIND is terms, contract, change, incident, reminder, closing, dossier or
    invoice. ID says what it is about: a contract (K1; default the current
    one), a change (C1), a mistake (M1), an invoice (F-2026-001, R-2026-001 for
    a corrective one; for a reminder, the late invoice), a terms version (v2;
    default the latest). An invoice carries its Factur-X XML (EN 16931) inside. The PDF is signed with your key
    (PAdES) and its SHA-256 and the chain head it shows are recorded. With a
    time-stamping authority set (`tratos identity tsa`), the signature carries its
    token (B-T, or B-LTA); if the TSA gives none, nothing is written or recorded.

    \b
    Example:
        tratos pdf contract acme
        tratos pdf change acme C1 --lang en -o change-C1.pdf
        tratos pdf dossier acme
        tratos pdf invoice acme F-2026-001
    """
    from domain.services.documents import issue_document

    day = business_date(session, on)
    made = printer(session, lang, unsigned, no_timestamp)
    issued, _ = issue_document(session.app, made, handle, kind, ref, on=day,
                               output=Path(output) if output else None)
    report_issued(session, issued, made)


class PdfPrinter:
    """The `Printer` the document services are given: WeasyPrint renders, pyHanko signs (documents/)."""

    def __init__(self, session: Session, *, lang: str, sign: bool, timestamp: bool = True) -> None:
        self.session, self.lang, self.sign, self.timestamp = session, lang, sign, timestamp
        self.stamp: Any = None  # the token the last signature got: (authority, time)
        self.declined = False  # a TSA is set but --no-timestamp said not to ask it

    def __call__(self, handle: str, kind: str, ref: str | None, *, on: date) -> Printed:
        from documents.context import Signer, build_document, read_stream
        from domain.model.errors import Refused
        from domain.services.documents import Printed

        session = self.session
        if not session.identity.get("name"):
            raise Refused(f"no identity in {session.home} yet: run `tratos init --name N --email E` first")
        if kind == "invoice" and ref:  # before the key is asked for: the legend under the QR code says
            from cli.verifactu_signing import mode_held  # the year's mode, not a hand edit's

            mode_held(session)
        signing = load_signing_identity(session) if self.sign else None
        snapshot = read_stream(session.app, handle)
        signer = Signer(signing.subject, signing.fingerprint) if signing else None
        verifactu = None
        if kind == "invoice" and ref:
            from documents.verifactu_qr import verifactu_mark

            verifactu = verifactu_mark(session.app, snapshot.relationship, ref, verifactu_mode(session.identity))
        document = build_document(snapshot, kind, ref, lang=self.lang, on=on, identity=session.identity,
                                  evidence_home=session.home, signer=signer, verifactu=verifactu)
        content = render_document(document)
        if signing is not None:
            timestamping = self.timestamping()
            content = sign_document(content, document, signing, session.identity, timestamping)
            if timestamping is not None:
                from documents.timestamps import signature_stamp

                self.stamp = signature_stamp(content)
        elif self.sign:
            warn(f"no signing key in {session.home / KEY_FILE}: the PDF is not signed"
                       " (set one up with `tratos init` or `tratos identity import`)")
        return Printed(content, document.kind, document.document_id, document.lang, document.filename,
                       document.head.version, document.head.digest, signing is not None)


    def timestamping(self) -> Any:
        """The TSA the signature asks (`tratos identity tsa`), unless --no-timestamp."""
        from documents.timestamps import load_timestamping

        found = load_timestamping(self.session.home, self.session.identity)
        if found is not None and not self.timestamp:
            self.declined = True
            return None
        return found


def verifactu_mode(identity: dict[str, Any]) -> str:
    """The identity's Verifactu mode (`tratos identity invoicing --verifactu-mode`): records kept
    locally (no-verifactu) unless the freelancer sends them to the agency (verifactu)."""
    from domain.model.billing_records import NO_VERIFACTU

    return identity.get("verifactu_mode") or NO_VERIFACTU


def printer(session: Session, lang: str | None, unsigned: bool, no_timestamp: bool = False) -> PdfPrinter:
    """The printer for --lang, --unsigned and --no-timestamp, shared by `pdf` and `remind`."""
    return PdfPrinter(session, lang=lang or session.lang, sign=not unsigned, timestamp=not no_timestamp)


def render_document(document: Document) -> bytes:
    """The unsigned PDF (WeasyPrint is loaded here, not before)."""
    from documents.render import render_pdf
    from domain.adapters.files import REFUSED_WRITES, ScratchFailed

    try:
        return render_pdf(document)
    except OSError as error:  # its temporary files: a full disk, a quota, `ulimit -f` (EFBIG)
        if error.errno not in REFUSED_WRITES:
            raise
        raise ScratchFailed(error) from None


def sign_document(content: bytes, document: Document, signing: Identity, identity: dict[str, Any],
                  timestamping: Any = None) -> bytes:
    """Add the freelancer's PAdES signature (B-T/B-LTA with `timestamping`); contracts and change
    orders get an empty `Client` field."""
    from documents.i18n import Formatter
    from documents.signing import sign_pdf

    fmt = Formatter(document.lang)
    label = fmt.labels[document.values.get("label_key") or f"kind.{document.kind}"]  # "Corrective invoice"
    reason = fmt.labels["sign.reason"].format(kind=label, id=document.document_id, name=identity.get("name", ""))
    return sign_pdf(content, signing, field_name=FREELANCER_FIELD, reason=reason,
                    location=identity.get("address", ""),
                    open_fields=(CLIENT_FIELD,) if document.kind in COUNTERSIGNED else (),
                    timestamping=timestamping)


def load_signing_identity(session: Session) -> Identity | None:
    """The key in `identity.p12`, opened with $TRATOS_KEY_PASSPHRASE or a prompt; None if there is none.

    Whether its certificate may still sign is checked where it signs (`documents.signing.sign_pdf`).
    """
    if "signing_identity" in session.__dict__:  # opened once a command: one passphrase for its PDF and records
        return session.__dict__["signing_identity"]
    path = session.home / KEY_FILE
    if not path.exists():
        return None
    from documents.identity import load_identity

    identity = load_identity(path, key_passphrase("Passphrase of your signing key"))
    session.__dict__["signing_identity"] = identity
    return identity


def report_issued(session: Session, issued: Issued, made: PdfPrinter | None = None) -> None:
    from cli.output import print_json

    if session.as_json:
        print_json({**issued.as_dict(), **({"timestamp": stamp_dict(made)} if made else {})})
        return
    state = ("signed" if issued.signed else "NOT signed") + (stamp_words(made) if made and issued.signed else "")
    echo(f"Wrote {issued.kind} {issued.document_id} ({issued.lang}, {state}) to {issued.path}")
    echo(f"Recorded: document issued, SHA-256 {issued.sha256}, chain head"
               f" v{issued.chain_version} {issued.chain_digest[:16]} ({issued.handle})")


def stamp_words(made: PdfPrinter) -> str:
    """', timestamped 2026-03-01 10:00:05 UTC by …' / ', NOT timestamped (--no-timestamp)' / ''."""
    if made.stamp is not None:
        authority, moment = made.stamp
        return f", timestamped {moment:%Y-%m-%d %H:%M:%S} UTC by {authority}"
    return ", NOT timestamped (--no-timestamp)" if made.declined else ""


def stamp_dict(made: PdfPrinter) -> dict[str, Any] | None:
    if made.stamp is None:
        return None
    authority, moment = made.stamp
    return {"authority": authority, "time": moment.isoformat()}


# ------------------------------------------------------------------ verify


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False), metavar="FILE.pdf")
@pass_session
@gives_verdict
def verify(session: Session, file: str) -> None:
    """Check a PDF: its signatures, that this store issued it, that its chain head still holds.

    Exit 0 when every signature is intact and known to the store, the first
    signed revision is a document this store recorded as issued, and the chain
    head it prints is still on the client's hash chain; 1 otherwise. Bytes after
    the document's last revision (in none, under no signature: junk, a second copy,
    a lone %%EOF) are a warning. Each
    signature's timestamp (PAdES B-T) and a B-LTA file's document timestamps are
    shown with their authority and time, and whether they hold and are trusted
    (through the roots set with `tratos identity tsa --trust`).

    \b
    Example:
        tratos verify acme-contract-K1-es.pdf
    """
    from documents.verification import verify_document
    from domain.adapters.files import read_regular

    content = read_regular(file, "PDF")  # a regular file of at most FILE_LIMIT bytes (ADR-30)
    from documents.timestamps import trusted_roots

    report = verify_document(session.app, content, trusted=_trusted_certificates(session),
                             tsa_roots=trusted_roots(session.home))
    if session.as_json:
        from cli.output import print_json

        print_json({"file": file, **report.as_dict()})
    else:
        for line in report.lines():
            echo(line)
    if not report.ok:  # the report says why on stdout; the one `error:` line says that it failed
        from domain.model.errors import Refused

        raise Refused(f"{file} does not verify: {report.problems[0]}")
    for warning in report.warnings:  # it verifies, and yet it is not the file issued
        from cli.output import warn

        warn(f"{file}: {warning}")


def _trusted_certificates(session: Session) -> list[Any]:
    """Every certificate this store has signed with (kept in clear: verify never needs the passphrase)."""
    from documents.identity import known_certificates

    return known_certificates(session.home)

