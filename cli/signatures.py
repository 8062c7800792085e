"""PAdES checks for the countersignature services, and the files a signing command is given."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cli.session import Session

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
    from domain.adapters.files import read_regular
    from domain.services.countersignatures import Returned

    content = read_regular(file, "signed PDF")  # regular files of at most FILE_LIMIT bytes (ADR-30)
    return Returned(file, content, describe(Path(file), content))


def evidence_files(paths: tuple[str, ...]) -> list[Returned]:
    """The --evidence files, all read before anything is kept (a missing one refuses the command);
    regular files of at most FILE_LIMIT bytes each, read by `read_evidence` (ADR-30)."""
    from domain.adapters.evidence import read_evidence
    from domain.services.countersignatures import Returned

    return [Returned(str(path), *read_evidence(path)) for path in paths]
