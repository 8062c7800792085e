"""PAdES checks for the countersignature services, and the files a signing command is given."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cli.session import Session
from domain.model.errors import BadInput

if TYPE_CHECKING:
    from domain.services.countersignatures import Returned, Signature


class PdfSignatureChecks:
    """`SignatureChecks` by pyHanko (documents/signing.py), trusting the certificates of this store."""

    def __init__(self, session: Session) -> None:
        self.home = session.home

    def ours(self, content: bytes) -> Signature | None:
        from documents.identity import known_certificates
        from documents.signing import verify_pdf
        from domain.services.countersignatures import Signature

        found = [s for s in verify_pdf(content, known_certificates(self.home)) if s.sound and s.trusted]
        return Signature(found[0].signer_subject, found[0].signer_fingerprint) if found else None

    def client(self, original: bytes, returned: bytes) -> Signature:
        from documents.identity import known_certificates
        from documents.signing import check_countersignature
        from domain.services.countersignatures import Signature

        accepted = check_countersignature(original, returned, known_certificates(self.home))
        return Signature(accepted.signer_subject, accepted.signer_fingerprint)


def returned_pdf(file: str) -> Returned:
    """A signed PDF given back (--file, --signed-pdf), read once it is needed."""
    from domain.adapters.evidence import describe
    from domain.services.countersignatures import Returned

    try:
        content = Path(file).read_bytes()
    except OSError as error:
        raise BadInput(f"cannot read {file}: {error.strerror or error}") from None
    return Returned(file, content, describe(Path(file), content))


def evidence_files(paths: tuple[str, ...]) -> list[Returned]:
    """The --evidence files, all read before anything is kept (a missing one refuses the command)."""
    from domain.adapters.evidence import gather
    from domain.services.countersignatures import Returned

    return [Returned(str(path), content, evidence) for path, (content, evidence) in zip(paths, gather(paths), strict=True)]
