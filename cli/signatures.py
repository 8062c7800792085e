"""PAdES signatures: ours on the issued contract, the client's on the contract or change order it returns.

The issued bytes are kept in the evidence folder by `tratos pdf`, so a returned
file is matched against exactly what was sent: it must start with those bytes
and add an intact signature that covers the whole file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cli.evidence import evidence_path
from cli.session import Session
from domain.model.errors import BadInput, Refused


@dataclass(frozen=True)
class PadesSignature:
    subject: str
    fingerprint: str
    document_sha256: str


def issued_copies(session: Session, relationship: Any, kind: str, document_id: str) -> list[tuple[str, bytes]]:
    """The issued PDFs of one document (newest first) whose copies are in the evidence folder."""
    copies = []
    for issued in reversed(relationship.documents):
        path = evidence_path(session.home, issued.sha256)
        if issued.kind == kind and issued.document_id == document_id and path.exists():
            copies.append((issued.sha256, path.read_bytes()))
    if not copies:
        raise Refused(f"no {kind} {document_id} was issued as a PDF yet: print it with"
                      f" `tratos pdf {kind} {relationship.handle} {document_id}` first")
    return copies


def our_signature(session: Session, relationship: Any, contract_id: str, file: str | None) -> PadesSignature:
    """Our signature on the contract PDF tratos issued (the file given, or the latest issued)."""
    from documents.identity import known_certificates
    from documents.signing import verify_pdf

    copies = issued_copies(session, relationship, "contract", contract_id)
    if file:
        content = _read(file)
        digest = hashlib.sha256(content).hexdigest()
        if digest not in {sha for sha, _ in copies}:
            raise Refused(f"{file} is not a contract {contract_id} PDF this store issued")
    else:
        digest, content = copies[0]
    signatures = verify_pdf(content, known_certificates(session.home))
    ours = [s for s in signatures if s.sound and s.trusted]
    if not ours:
        raise Refused(f"the issued contract {contract_id} carries no intact signature of yours:"
                      " set up a key (`tratos init`) and print it again")
    return PadesSignature(ours[0].signer_subject, ours[0].signer_fingerprint, digest)


def client_signature(session: Session, relationship: Any, kind: str, document_id: str,
                     file: str) -> PadesSignature:
    """The client's signature added to a PDF we issued (contract, change order), or `Refused`."""
    from documents.identity import known_certificates
    from documents.signing import check_countersignature

    returned = _read(file)
    copies = issued_copies(session, relationship, kind, document_id)
    for digest, original in copies:
        if returned.startswith(original):
            accepted = check_countersignature(original, returned, known_certificates(session.home))
            return PadesSignature(accepted.signer_subject, accepted.signer_fingerprint, digest)
    raise Refused(f"{Path(file).name} does not contain a {kind} {document_id} PDF this store issued,"
                  " unchanged: it was altered, or saved again instead of signed as an incremental update")


def _read(file: str) -> bytes:
    try:
        return Path(file).read_bytes()
    except OSError as error:
        raise BadInput(f"cannot read {file}: {error.strerror or error}") from None
