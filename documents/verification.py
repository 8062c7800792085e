"""Whether a PDF is a document this store issued, still signed, from a chain head that still holds.

Three checks, all needed for `tratos verify` to pass:

- signatures: every one intact, valid, made while its certificate was valid
  (at the signing time it claims, ADR-28), covering its revision with nothing but
  signatures and form filling after it, and made with a certificate the store
  knows (ours, whose signature is part of the bytes recorded as issued, or a
  client's recorded by `contract sign`);
- issued: the SHA-256 of the first signed revision (the whole file if it was
  issued unsigned) matches a `DocumentIssued` event of the client it names;
- chain: the chain head the document prints (version and digest, also in its
  metadata) is still the digest at that version, and the client's chain
  verifies from the stored records.

pyHanko is imported inside the functions only.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from domain.model.chain import verify_chain
from domain.model.errors import BadInput, TratosError

if TYPE_CHECKING:
    from domain.services.application import Tratos

META_PREFIX = "/tratos"


@dataclass
class VerificationReport:
    handle: str = ""
    kind: str = ""
    document_id: str = ""
    chain_version: int | None = None
    chain_digest: str = ""
    signatures: list[dict[str, Any]] = field(default_factory=list)
    issued: dict[str, Any] | None = None
    issued_sha256: str = ""
    chain_ok: bool = False
    chain_detail: str = ""
    problems: list[str] = field(default_factory=list)
    document_timestamps: list[dict[str, Any]] = field(default_factory=list)  # B-LTA's, oldest first
    trailing_bytes: int = 0  # after the document's last revision: in none, under no signature (ADR-61)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "handle": self.handle, "kind": self.kind, "id": self.document_id,
            "chain_version": self.chain_version, "chain_digest": self.chain_digest,
            "signatures": self.signatures, "issued_by_store": self.issued is not None,
            "issued": self.issued, "first_revision_sha256": self.issued_sha256,
            "chain_ok": self.chain_ok, "chain_detail": self.chain_detail, "problems": self.problems,
            "document_timestamps": self.document_timestamps, "trailing_bytes": self.trailing_bytes,
            "warnings": self.warnings,
        }

    @property
    def warnings(self) -> list[str]:
        """What holds but is not as issued: bytes a reader never shows, which may carry anything."""
        if not self.trailing_bytes:
            return []
        return [f"{self.trailing_bytes} bytes follow the document's last revision: no signature covers them and no"
                " PDF reader shows them, so the document shown is the one signed, but the file is not the"
                " one issued (ask for it again, or print it again from the store)"]

    def lines(self) -> list[str]:
        what = f"{self.kind} {self.document_id} of {self.handle}" if self.handle else "not a tratos document"
        out = [f"Document: {what}" + (f", chain head v{self.chain_version} {self.chain_digest[:16]}"
                                      if self.chain_version is not None else "")]
        for n, sig in enumerate(self.signatures, 1):
            flags = ", ".join(name for name in ("intact", "valid", "known") if sig[name]) or "none"
            if not sig.get("certificate_valid", True):
                flags += "; its certificate was not valid when it signed"
            out.append(f"Signature {n} ({sig['field_name']}): {sig['signer_subject']}, signed"
                       f" {sig['signing_time'] or 'at an unknown time'}; {flags}; covers"
                       f" {sig['coverage'].replace('_', ' ')}")
            out.append(f"  Timestamp: {_stamp_line(sig['timestamp'])}")
        if not self.signatures:
            out.append("Signatures: none")
        for n, stamp in enumerate(self.document_timestamps, 1):
            out.append(f"Document timestamp {n} (B-LTA): {_stamp_line(stamp)}")
        if self.issued:
            out.append(f"Issued by this store: yes, on {self.issued['on']} (SHA-256 {self.issued_sha256[:16]}…)")
        else:
            out.append("Issued by this store: no")
        out.append(f"Chain head still on the chain: {'yes' if self.chain_ok else 'no'}"
                   + (f" ({self.chain_detail})" if self.chain_detail else ""))
        if self.trailing_bytes:
            out.append(f"After the document's last revision: {self.trailing_bytes} bytes, in no revision and under"
                       " no signature")
        out.append("Verdict: OK" if self.ok else "Verdict: NOT OK: " + "; ".join(self.problems))
        from domain.model.values import visible

        return [visible(line) for line in out]  # a PDF's fields are its maker's text, not checked


def _stamp_line(stamp: dict[str, Any] | None) -> str:
    """'2026-03-01T10:00:05+00:00 by CN=…, valid, trusted', or 'none (PAdES B-B: no trusted time)'."""
    if stamp is None:
        return "none (PAdES B-B: no trusted time)"
    if not (stamp["intact"] and stamp["valid"]):
        verdict = f"INVALID: {stamp['problem']}"
    else:
        verdict = "valid, trusted" if stamp["trusted"] else "valid, NOT trusted (its authority is not among the trusted roots)"
    return f"{stamp['time'] or 'unknown time'} by {stamp['authority']}, {verdict}"


def verify_document(app: Tratos, data: bytes, trusted: list[Any] = (),
                    tsa_roots: list[Any] = ()) -> VerificationReport:
    """Check `data` against the store of `app`; the report says what holds and what does not.

    Timestamps (on each signature, and B-LTA's document timestamps) are reported and
    checked against `tsa_roots`: one that does not hold fails the verification, one
    from an authority not trusted is reported so without failing it (it proves as
    much as that authority's word).
    """
    from documents.signing import verify_document_timestamps, verify_pdf

    end = _document_end(data)
    data, tail = data[:end], data[end:]
    report = VerificationReport(trailing_bytes=len(tail) if tail.strip(b" \t\r\n\f\x00") else 0)
    signed_revisions = _signed_revision_ends(data)
    first_revision = data[:signed_revisions[0]] if signed_revisions else data
    meta = _tratos_metadata(first_revision)
    if not meta.get("client"):
        report.problems.append("the PDF carries no tratos metadata: it was not issued by tratos")
        return report
    report.handle, report.kind, report.document_id = meta["client"], meta.get("kind", ""), meta.get("id", "")
    report.chain_digest = meta.get("chaindigest", "")
    try:
        report.chain_version = int(meta.get("chainversion", ""))
    except ValueError:
        report.problems.append("the chain head in the PDF metadata is not readable")
    report.issued_sha256 = hashlib.sha256(first_revision).hexdigest()

    try:
        from documents.context import read_stream

        snapshot = read_stream(app, report.handle, verified=False)
    except TratosError as error:
        report.problems.append(f"the store cannot show client {report.handle!r}: {error}")
        return report
    relationship = snapshot.relationship
    # B-LTA: the document as issued ends after its validation data and document timestamp,
    # with the revisions that follow our signature and come before the next signature
    issued_ends = {signed_revisions[0]} if signed_revisions else set()
    if signed_revisions and _timestamp_ends(data):
        later = signed_revisions[1] - 1 if len(signed_revisions) > 1 else len(data)
        issued_ends |= {end for end in _revision_ends(data) if signed_revisions[0] < end <= later}
    candidates = {hashlib.sha256(data[:end]).hexdigest(): end for end in issued_ends} or {report.issued_sha256: 0}
    matches = [d for d in relationship.documents if d.sha256 in candidates]
    if matches:
        report.issued_sha256 = matches[0].sha256
        issued = matches[0]
        report.issued = {"kind": issued.kind, "id": issued.document_id, "on": issued.on.isoformat(),
                         "chain_version": issued.chain_version, "chain_digest": issued.chain_digest}
        if (issued.chain_version, issued.chain_digest) != (report.chain_version, report.chain_digest):
            report.problems.append("the chain head printed differs from the one recorded when it was issued")
    else:
        report.problems.append("its first signed revision is not a document this store issued")

    _check_chain(report, snapshot)
    _check_signatures(report, verify_pdf(data, trusted, tsa_roots), relationship, bool(matches))
    for n, stamp in enumerate(verify_document_timestamps(data, tsa_roots), 1):
        report.document_timestamps.append(stamp.as_dict())
        if not (stamp.intact and stamp.valid):
            report.problems.append(f"document timestamp {n} does not hold: {stamp.problem}")
    return report


def _check_chain(report: VerificationReport, snapshot: Any) -> None:
    chain = verify_chain(snapshot.head.stream, snapshot.records)
    version = report.chain_version
    if not chain.ok:
        report.chain_detail = f"the chain breaks at version {chain.broken.version}: {chain.broken.problem}"
    elif version is None or not 1 <= version <= len(snapshot.records):
        report.chain_detail = f"version {version} is not in the stream (it has {len(snapshot.records)} events)"
    elif snapshot.records[version - 1].state.get("digest") != report.chain_digest:
        report.chain_detail = f"the digest at version {version} is not the one printed"
    else:
        report.chain_ok = True
        report.chain_detail = f"chain verified up to version {chain.head_version}"
    if not report.chain_ok:
        report.problems.append(f"the chain head does not hold: {report.chain_detail}")


def _check_signatures(report: VerificationReport, signatures: list[Any], relationship: Any,
                      issued_here: bool) -> None:
    from documents.signing import DAMAGED, DAMAGED_CERTIFICATE

    if not signatures:
        report.problems.append("the PDF is not signed")
    # Our signature is part of the bytes recorded as issued; clients' certificates are recorded on signing.
    known = {s.certificate_fingerprint for c in relationship.contracts.values()
             for s in c.signatures.values() if s.certificate_fingerprint}
    if issued_here and signatures:
        known.add(signatures[0].signer_fingerprint)
    for n, signature in enumerate(signatures, 1):
        entry = signature.as_dict()
        entry["known"] = signature.trusted or signature.signer_fingerprint in known
        report.signatures.append(entry)
        if signature.problem in (DAMAGED, DAMAGED_CERTIFICATE):  # what explains the rest: named first
            report.problems.insert(0, f"signature {n} {signature.problem.removeprefix('the signature ')}")
        elif not signature.sound:
            report.problems.append(f"signature {n} does not hold: {signature.problem or 'not sound'}")
        elif signature.timestamp is not None and not (signature.timestamp.intact and signature.timestamp.valid):
            report.problems.append(f"the timestamp of signature {n} does not hold: {signature.timestamp.problem}")
        elif not entry["known"]:
            report.problems.append(f"signature {n} was made with a certificate this store does not know")


def _signed_revision_ends(data: bytes) -> list[int]:
    """Where each signed revision ends (the end of its /ByteRange), in signing order."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    from documents.signing import PARSER_FAULTS, _one_line, embedded_signatures

    try:
        reader = PdfFileReader(io.BytesIO(data))
        ends = []
        for signature in embedded_signatures(reader):
            start1, length1, start2, length2 = (int(x) for x in signature.byte_range)
            ends.append(start2 + length2)
        return ends
    except (PdfError, *PARSER_FAULTS) as error:
        raise BadInput(f"not a readable PDF: {_one_line(error)}") from error


def _timestamp_ends(data: bytes) -> list[int]:
    """Where each document timestamp's revision ends (B-LTA)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    from documents.signing import embedded_signatures

    ends = []
    for stamp in embedded_signatures(PdfFileReader(io.BytesIO(data)), "/DocTimeStamp"):
        start1, length1, start2, length2 = (int(x) for x in stamp.byte_range)
        ends.append(start2 + length2)
    return ends


def _revision_ends(data: bytes) -> list[int]:
    """Where each revision of the file ends: after each `%%EOF` and its end of line."""
    import re

    return [match.end() for match in re.finditer(rb"%%EOF(\r\n|\r|\n)?", data)]


def _document_end(data: bytes) -> int:
    """Where the document a PDF reader shows ends: after the trailer of the revision the file's
    last `startxref` points to (the first `startxref N %%EOF` at or after offset N that names N).

    A reader starts from the end and follows that offset; what comes after that revision's own
    %%EOF is in no revision and under no signature: junk, a second copy of the file, a lone
    `%%EOF`. pyHanko and poppler disagree on some of those tails (a lone %%EOF is "startxref not
    found" to one, nothing to the other), so `verify` reads the document without them and warns
    of them (ADR-61), blanks and NULs aside: padding some tools add. A linearized file's first-page
    trailer (`startxref 0`) names no offset of its own and is passed over; a last `startxref` naming
    nothing leaves the file whole, for the reader to refuse, as poppler does."""
    import re

    blocks = list(re.finditer(rb"startxref\s+(\d+)\s+%%EOF(\r\n|\r|\n)?", data))
    if not blocks:
        return len(data)  # not a PDF a reader can start from: the reader says so
    offset = int(blocks[-1].group(1))
    return next((b.end() for b in blocks if b.start() >= offset and int(b.group(1)) == offset), len(data))


def _tratos_metadata(data: bytes) -> dict[str, str]:
    """The `tratos*` entries WeasyPrint wrote in the document information dictionary."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    from documents.signing import PARSER_FAULTS, _one_line

    try:
        info = PdfFileReader(io.BytesIO(data)).trailer_view.get("/Info")
        info = info.get_object() if info is not None else {}
    except (PdfError, *PARSER_FAULTS) as error:
        raise BadInput(f"not a readable PDF: {_one_line(error)}") from error
    return {str(key)[len(META_PREFIX):]: str(value) for key, value in info.items()
            if str(key).startswith(META_PREFIX)}
