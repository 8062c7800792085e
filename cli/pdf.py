"""tratos pdf / verify: print a relationship's documents as signed PDFs, and check one later.

WeasyPrint and pyHanko are imported inside the functions that use them, so
`tratos --help` (which imports this module) and every recording command stay fast.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.options import business_date, handle_argument, on_option, pass_session
from cli.session import Session

if TYPE_CHECKING:
    from documents.context import Document
    from documents.identity import Identity

KINDS = ("terms", "contract", "change", "incident", "reminder", "closing", "dossier")
LANGUAGES = ("es", "en")
PASSPHRASE_ENV = "TRATOS_KEY_PASSPHRASE"
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
                            help="Where to write the PDF (default: CLIENT-KIND-ID-LANG.pdf here).")(function)
    return click.option("--lang", type=click.Choice(LANGUAGES), default=None,
                        help="Language of the document (default: the one set by `tratos init`).")(function)


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

    KIND is terms, contract, change, incident, reminder, closing or dossier.
    ID says what it is about: a contract (K1; default the current one), a
    change (C1), a mistake (M1), an invoice for a reminder (F-2026-001), a
    terms version (v2; default the latest). The PDF is signed with your key
    (PAdES) and its SHA-256 and the chain head it shows are recorded.

    \b
    Example:
        tratos pdf contract acme
        tratos pdf change acme C1 --lang en -o change-C1.pdf
        tratos pdf dossier acme
    """
    day = business_date(session, on)
    issued = issue_document(session, kind, handle, ref, lang=lang or session.lang, on=day,
                            output=output, sign=not unsigned)
    report_issued(session, issued)


@dataclass(frozen=True)
class Issued:
    """A document written and recorded: where, what, from which chain head."""

    path: Path
    kind: str
    document_id: str
    lang: str
    handle: str
    sha256: str
    chain_version: int
    chain_digest: str
    signed: bool
    recorded_version: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path), "kind": self.kind, "id": self.document_id, "lang": self.lang,
            "handle": self.handle, "sha256": self.sha256, "signed": self.signed,
            "chain_version": self.chain_version, "chain_digest": self.chain_digest,
            "recorded_version": self.recorded_version,
        }


def issue_document(session: Session, kind: str, handle: str, ref: str | None, *, lang: str, on: date,
                   output: str | None, sign: bool, before_recording: Any = None) -> Issued:
    """Render, sign, write the file, then record `DocumentIssued`; nothing is left if recording fails.

    `before_recording` (optional) runs after the file is written and before
    `DocumentIssued` is recorded (the reminder records `ReminderSent` there).
    """
    from documents.context import Signer, build_document, read_stream
    from domain.model.errors import Refused

    if not session.identity.get("name"):
        raise Refused(f"no identity in {session.home} yet: run `tratos init --name N --email E` first")
    signing = load_signing_identity(session) if sign else None
    snapshot = read_stream(session.app, handle)
    signer = Signer(signing.subject, signing.fingerprint) if signing else None
    document = build_document(snapshot, kind, ref, lang=lang, on=on, identity=session.identity,
                              evidence_home=session.home, signer=signer)
    content = render_document(document)
    if signing is not None:
        content = sign_document(content, document, signing, session.identity)
    elif sign:
        click.echo(f"warning: no signing key in {session.home / KEY_FILE}: the PDF is not signed"
                   " (set one up with `tratos init` or `tratos identity import`)", err=True)
    path = Path(output) if output else Path(document.filename)
    _write_atomically(path, content)
    digest = hashlib.sha256(content).hexdigest()
    copy = _keep_issued_copy(session, content, digest, path.name)
    try:
        if before_recording is not None:
            before_recording()
        result = session.app.issue_document(
            handle, kind, sha256=digest, chain_version=document.head.version,
            chain_digest=document.head.digest, on=on, document_id=document.document_id, lang=lang)
    except BaseException:
        path.unlink(missing_ok=True)
        if copy is not None:
            copy.unlink(missing_ok=True)
        raise
    return Issued(path, kind, document.document_id, lang, handle, digest, document.head.version,
                  document.head.digest, signing is not None, result.event.originator_version)


def _keep_issued_copy(session: Session, content: bytes, digest: str, name: str) -> Path | None:
    """Keep the issued bytes in the evidence folder: a returned, countersigned PDF is checked against them.

    Returns the path if this call added it (so a failed recording can take it back).
    """
    from cli.evidence import evidence_path, keep
    from domain.model.values import Evidence

    if evidence_path(session.home, digest).exists():
        return None
    return keep(session.home, content, Evidence(sha256=digest, name=name, size=len(content),
                                                media_type="application/pdf"))


def render_document(document: Document) -> bytes:
    """The unsigned PDF (WeasyPrint is loaded here, not before)."""
    from documents.render import render_pdf

    return render_pdf(document)


def sign_document(content: bytes, document: Document, signing: Identity, identity: dict[str, Any]) -> bytes:
    """Add the freelancer's PAdES signature; contracts and change orders get an empty `Client` field."""
    from documents.i18n import Formatter
    from documents.signing import sign_pdf

    fmt = Formatter(document.lang)
    reason = fmt.labels["sign.reason"].format(
        kind=fmt.labels[f"kind.{document.kind}"], id=document.document_id, name=identity.get("name", ""))
    return sign_pdf(content, signing, field_name=FREELANCER_FIELD, reason=reason,
                    location=identity.get("address", ""),
                    open_fields=(CLIENT_FIELD,) if document.kind in COUNTERSIGNED else ())


def load_signing_identity(session: Session) -> Identity | None:
    """The key in `identity.p12`, opened with $TRATOS_KEY_PASSPHRASE or a prompt; None if there is none."""
    path = session.home / KEY_FILE
    if not path.exists():
        return None
    from documents.identity import load_identity

    passphrase = os.environ.get(PASSPHRASE_ENV)
    if passphrase is None:
        passphrase = click.prompt("Passphrase of your signing key", hide_input=True, err=True)
    return load_identity(path, passphrase)


def report_issued(session: Session, issued: Issued) -> None:
    from cli.output import print_json

    if session.as_json:
        print_json(issued.as_dict())
        return
    state = "signed" if issued.signed else "NOT signed"
    click.echo(f"Wrote {issued.kind} {issued.document_id} ({issued.lang}, {state}) to {issued.path}")
    click.echo(f"Recorded: document issued, SHA-256 {issued.sha256}, chain head"
               f" v{issued.chain_version} {issued.chain_digest[:16]} ({issued.handle})")


def _write_atomically(path: Path, content: bytes) -> None:
    from domain.model.errors import BadInput

    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tratos-", suffix=".pdf")
    except OSError as error:
        raise BadInput(f"cannot write {path}: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # a document to send, not a secret (mkstemp makes 0600)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


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

    report = verify_document(session.app, Path(file).read_bytes(), trusted=_trusted_certificates(session))
    if session.as_json:
        from cli.output import print_json

        print_json({"file": file, **report.as_dict()})
    else:
        for line in report.lines():
            click.echo(line)
    if not report.ok:
        click.get_current_context().exit(1)


def _trusted_certificates(session: Session) -> list[Any]:
    """Every certificate this store has signed with (kept in clear: verify never needs the passphrase)."""
    from documents.identity import known_certificates

    return known_certificates(session.home)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
