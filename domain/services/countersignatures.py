"""Accepting a signature on a PDF we issued: ours on the contract, the client's on a contract or change order.

The issued bytes were kept in the evidence folder when the PDF was issued, so a
returned file is matched against exactly what was sent: it must start with those
bytes and add an intact signature that covers the whole file. Checking PAdES is not
the domain's: the caller passes the `SignatureChecks` (documents/signing.py).
Then the signature (or approval) is recorded with the returned file kept as
evidence; if recording is refused, the evidence kept for it is taken back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from domain.adapters.evidence import EvidenceFolder
from domain.model.errors import BadInput, Refused
from domain.model.values import Evidence, check_text

if TYPE_CHECKING:
    from domain.model.relationship import Relationship
    from domain.services.application import Recorded, Tratos


@dataclass(frozen=True)
class Signature:
    """Who signed: the certificate's subject and SHA-256 fingerprint."""

    subject: str
    fingerprint: str


class SignatureChecks(Protocol):
    """PAdES checks against the certificates this store knows."""

    def ours(self, content: bytes) -> Signature | None:
        """Our first intact, trusted signature on an issued PDF, or None."""

    def client(self, original: bytes, returned: bytes) -> Signature:
        """The client's signature added to `original` in `returned`, or `Refused`."""


@dataclass(frozen=True)
class Returned:
    """A file given with a command (a returned PDF, an email): where, its bytes, its evidence entry."""

    path: str
    content: bytes
    evidence: Evidence


@dataclass(frozen=True)
class PadesSignature:
    subject: str
    fingerprint: str
    document_sha256: str


@dataclass(frozen=True)
class SignedContract:
    """The signature recorded, and whether the contract is now in force."""

    recorded: Recorded
    in_force: bool


def issued_copies(app: Tratos, relationship: Relationship, kind: str, document_id: str) -> list[tuple[str, bytes]]:
    """The issued PDFs of one document (newest first) whose copies are in the evidence folder."""
    kept = EvidenceFolder.of(app.home)
    copies = [(issued.sha256, kept.read(issued.sha256)) for issued in reversed(relationship.documents)
              if issued.kind == kind and issued.document_id == document_id and kept.exists(issued.sha256)]
    if not copies:
        raise Refused(f"no {kind} {document_id} was issued as a PDF yet: print it with"
                      f" `tratos pdf {kind} {relationship.handle} {document_id}` first")
    return copies


def our_signature(app: Tratos, checks: SignatureChecks, relationship: Relationship, contract_id: str,
                  file: Returned | None) -> PadesSignature:
    """Our signature on the contract PDF tratos issued (the file given, or the latest issued)."""
    copies = issued_copies(app, relationship, "contract", contract_id)
    if file is not None:
        digest, content = hashlib.sha256(file.content).hexdigest(), file.content
        if digest not in {sha for sha, _ in copies}:
            raise Refused(f"{file.path} is not a contract {contract_id} PDF this store issued")
    else:
        digest, content = copies[0]
    ours = checks.ours(content)
    if ours is None:
        raise Refused(f"the issued contract {contract_id} carries no intact signature of yours:"
                      " set up a key (`tratos init`) and print it again")
    return PadesSignature(ours.subject, ours.fingerprint, digest)


def client_signature(app: Tratos, checks: SignatureChecks, relationship: Relationship, kind: str,
                     document_id: str, file: Returned) -> PadesSignature:
    """The client's signature added to a PDF we issued (contract, change order), or `Refused`."""
    for digest, original in issued_copies(app, relationship, kind, document_id):
        if file.content.startswith(original):
            accepted = checks.client(original, file.content)
            return PadesSignature(accepted.subject, accepted.fingerprint, digest)
    raise Refused(f"{Path(file.path).name} does not contain a {kind} {document_id} PDF this store issued,"
                  " unchanged: it was altered, or saved again instead of signed as an incremental update")


def approve_change(app: Tratos, checks: SignatureChecks, handle: str, change_id: str, *, on: date,
                   evidence: list[Returned], signed: Returned | None = None) -> Recorded:
    """Record the client's approval of a change; with `signed`, only if it is their signature on
    the change order we issued, and that file is kept as evidence with the others."""
    if signed is not None:
        relationship = app.relationship(handle)
        client_signature(app, checks, relationship, "change", relationship.change(change_id).id, signed)
        evidence = [*evidence, signed]
    with EvidenceFolder.of(app.home).keeping(file.content for file in evidence):
        return app.approve_change(handle, change_id, on=on, evidence=[file.evidence for file in evidence])


def sign_contract(app: Tratos, checks: SignatureChecks, handle: str, *, party: str, method: str,
                  on: date, contract_id: str | None = None, signer: str | None = None,
                  our_name: str = "", file: Returned | None = None) -> SignedContract:
    """Record a signature of the contract; a PAdES one only if it is on the contract we issued.

    The signer defaults to the certificate's common name (PAdES), else to `our_name` or the
    client's legal name.
    """
    certificate = {}
    if signer is not None:  # given, it names someone: an empty --signer is not "the default"
        signer = check_text(signer, "signer", limit=200)
    if method == "pades":
        relationship = app.relationship(handle)
        contract_id = relationship.contract(contract_id).id
        if party == "us":
            pades = our_signature(app, checks, relationship, contract_id, file)
        else:
            pades = client_signature(app, checks, relationship, "contract", contract_id, file)
        certificate = {"certificate_subject": pades.subject, "certificate_fingerprint": pades.fingerprint,
                       "document_sha256": pades.document_sha256}
        signer = signer or _common_name(pades.subject)
    name = signer or _default_signer(app, handle, party, our_name)
    files = [file] if file is not None else []
    with EvidenceFolder.of(app.home).keeping(f.content for f in files):
        recorded = app.sign_contract(handle, party=party, signer=name, method=method, on=on,
                                     contract_id=contract_id, evidence=[f.evidence for f in files],
                                     **certificate)
    contract = app.relationship(handle).contracts[recorded.event.contract_id]
    return SignedContract(recorded, contract.state == "in_force")


def _default_signer(app: Tratos, handle: str, party: str, our_name: str) -> str:
    if party == "client":
        client = app.relationship(handle).client
        return client.name if client else ""
    if not our_name:
        raise BadInput("who signed for you? pass --signer NAME or run `tratos init` first")
    return our_name


def _common_name(subject: str) -> str:
    """'CN=Bob Client, E=bob@acme.test' -> 'Bob Client'."""
    for part in subject.split(","):
        key, _, value = part.strip().partition("=")
        if key == "CN":
            return value
    return ""
