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
from cli.output import warn
from cli.passphrase import key_passphrase
from cli.session import Session

if TYPE_CHECKING:
    from documents.context import Document
    from documents.identity import Identity
    from domain.services.documents import Issued, Printed

KINDS = ("terms", "contract", "change", "incident", "reminder", "closing", "dossier", "invoice")
LANGUAGES = ("es", "en")
KEY_FILE = "identity.p12"
# The kinds the client signs too: an empty `Client` field is added next to ours.
COUNTERSIGNED = ("contract", "change")
FREELANCER_FIELD = "Freelancer"
CLIENT_FIELD = "Client"


def document_options(function: Any) -> Any:
    """--lang, -o and --unsigned, shared by `pdf` and `remind`."""
    function = click.option("--unsigned", is_flag=True,
                            help="Write the PDF without signing it (a draft; `verify` will not accept it).")(function)
    function = click.option("-o", "--output", type=click.Path(dir_okay=False), metavar="FILE",
                            callback=_writable_output,
                            help="Where to write the PDF (default: CLIENT-KIND-ID-LANG.pdf here).")(function)
    return click.option("--lang", type=click.Choice(LANGUAGES), default=None,
                        help="Language of the document (default: the one set by `tratos init`).")(function)


def _writable_output(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """-o is checked before anything is printed or recorded (`files.output_path`: a name that shows
    as it is, an existing folder, a regular file or nothing yet, not `-`); the write itself checks
    again (domain/adapters/files.py, ADR-30)."""
    if value is not None:
        from domain.adapters.files import output_path

        session = ctx.find_object(Session)
        output_path(value, home=session.home if session else None)
    return value


@click.command()
@click.argument("kind", type=click.Choice(KINDS), metavar="KIND")
@handle_argument
@click.argument("ref", metavar="[ID]", required=False)
@document_options
@on_option
@pass_session
def pdf(session: Session, kind: str, handle: str, ref: str | None, lang: str | None,
        output: str | None, unsigned: bool, on: str | None) -> None:
    """Print a signed PDF of a client relationship and record that it was issued.

    KIND is terms, contract, change, incident, reminder, closing, dossier or
    invoice. ID says what it is about: a contract (K1; default the current
    one), a change (C1), a mistake (M1), an invoice (F-2026-001, R-2026-001 for
    a corrective one; for a reminder, the late invoice), a terms version (v2;
    default the latest). An invoice carries its Factur-X XML (EN 16931) inside. The PDF is signed with your key
    (PAdES) and its SHA-256 and the chain head it shows are recorded.

    \b
    Example:
        tratos pdf contract acme
        tratos pdf change acme C1 --lang en -o change-C1.pdf
        tratos pdf dossier acme
        tratos pdf invoice acme F-2026-001
    """
    from domain.services.documents import issue_document

    day = business_date(session, on)
    issued, _ = issue_document(session.app, printer(session, lang, unsigned), handle, kind, ref, on=day,
                               output=Path(output) if output else None)
    report_issued(session, issued)


class PdfPrinter:
    """The `Printer` the document services are given: WeasyPrint renders, pyHanko signs (documents/)."""

    def __init__(self, session: Session, *, lang: str, sign: bool) -> None:
        self.session, self.lang, self.sign = session, lang, sign

    def __call__(self, handle: str, kind: str, ref: str | None, *, on: date) -> Printed:
        from documents.context import Signer, build_document, read_stream
        from domain.model.errors import Refused
        from domain.services.documents import Printed

        session = self.session
        if not session.identity.get("name"):
            raise Refused(f"no identity in {session.home} yet: run `tratos init --name N --email E` first")
        signing = load_signing_identity(session) if self.sign else None
        snapshot = read_stream(session.app, handle)
        signer = Signer(signing.subject, signing.fingerprint) if signing else None
        document = build_document(snapshot, kind, ref, lang=self.lang, on=on, identity=session.identity,
                                  evidence_home=session.home, signer=signer)
        content = render_document(document)
        if signing is not None:
            content = sign_document(content, document, signing, session.identity)
        elif self.sign:
            warn(f"no signing key in {session.home / KEY_FILE}: the PDF is not signed"
                       " (set one up with `tratos init` or `tratos identity import`)")
        return Printed(content, document.kind, document.document_id, document.lang, document.filename,
                       document.head.version, document.head.digest, signing is not None)


def printer(session: Session, lang: str | None, unsigned: bool) -> PdfPrinter:
    """The printer for --lang and --unsigned, shared by `pdf` and `remind`."""
    return PdfPrinter(session, lang=lang or session.lang, sign=not unsigned)


def render_document(document: Document) -> bytes:
    """The unsigned PDF (WeasyPrint is loaded here, not before)."""
    from documents.render import render_pdf

    return render_pdf(document)


def sign_document(content: bytes, document: Document, signing: Identity, identity: dict[str, Any]) -> bytes:
    """Add the freelancer's PAdES signature; contracts and change orders get an empty `Client` field."""
    from documents.i18n import Formatter
    from documents.signing import sign_pdf

    fmt = Formatter(document.lang)
    label = fmt.labels[document.values.get("label_key") or f"kind.{document.kind}"]  # "Corrective invoice"
    reason = fmt.labels["sign.reason"].format(kind=label, id=document.document_id, name=identity.get("name", ""))
    return sign_pdf(content, signing, field_name=FREELANCER_FIELD, reason=reason,
                    location=identity.get("address", ""),
                    open_fields=(CLIENT_FIELD,) if document.kind in COUNTERSIGNED else ())


def load_signing_identity(session: Session) -> Identity | None:
    """The key in `identity.p12`, opened with $TRATOS_KEY_PASSPHRASE or a prompt; None if there is none.

    Whether its certificate may still sign is checked where it signs (`documents.signing.sign_pdf`).
    """
    path = session.home / KEY_FILE
    if not path.exists():
        return None
    from documents.identity import load_identity

    return load_identity(path, key_passphrase("Passphrase of your signing key"))


def report_issued(session: Session, issued: Issued) -> None:
    from cli.output import print_json

    if session.as_json:
        print_json(issued.as_dict())
        return
    state = "signed" if issued.signed else "NOT signed"
    click.echo(f"Wrote {issued.kind} {issued.document_id} ({issued.lang}, {state}) to {issued.path}")
    click.echo(f"Recorded: document issued, SHA-256 {issued.sha256}, chain head"
               f" v{issued.chain_version} {issued.chain_digest[:16]} ({issued.handle})")


# ------------------------------------------------------------------ verify


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False), metavar="FILE.pdf")
@pass_session
def verify(session: Session, file: str) -> None:
    """Check a PDF: its signatures, that this store issued it, that its chain head still holds.

    Exit 0 when every signature is intact and known to the store, the first
    signed revision is a document this store recorded as issued, and the chain
    head it prints is still on the client's hash chain; 1 otherwise.

    \b
    Example:
        tratos verify acme-contract-K1-es.pdf
    """
    from documents.verification import verify_document
    from domain.adapters.files import read_regular

    content = read_regular(file, "PDF")  # a regular file of at most FILE_LIMIT bytes (ADR-30)
    report = verify_document(session.app, content, trusted=_trusted_certificates(session))
    if session.as_json:
        from cli.output import print_json

        print_json({"file": file, **report.as_dict()})
    else:
        for line in report.lines():
            click.echo(line)
    if not report.ok:  # the report says why on stdout; the one `error:` line says that it failed
        from domain.model.errors import Refused

        raise Refused(f"{file} does not verify: {report.problems[0]}")


def _trusted_certificates(session: Session) -> list[Any]:
    """Every certificate this store has signed with (kept in clear: verify never needs the passphrase)."""
    from documents.identity import known_certificates

    return known_certificates(session.home)

