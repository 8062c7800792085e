"""PAdES signatures on the PDFs tratos issues, and their verification (pyHanko).

- `sign_pdf` adds one PAdES baseline signature (invisible field named after
  the party: `Freelancer`, `Client`) as an incremental update: B-B, or B-T with
  a time-stamping authority's token on it, or B-LTA (validation data embedded and
  a document timestamp added) when `Timestamping` says so (documents/timestamps.py).
- `verify_pdf` reports every signature in a file: signer, time, intact, valid,
  trusted by the certificates given, what it covers, which revision, and
  whether its certificate was valid when it signed (a signature made with an
  expired or not-yet-valid certificate is not sound, ADR-28).
- `check_countersignature` accepts the PDF a client returns with its own
  signature added as an incremental update, and refuses it unless the document
  tratos issued is still there byte for byte, still signed, and the client's
  signature is sound and covers the whole file.

pyHanko's synchronous entry points call `asyncio.run`; here every operation
is a coroutine (`async_*`) with a synchronous wrapper that also works when an
event loop is already running (it then runs in a worker thread).

pyHanko is imported only inside the functions: importing this module is cheap.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import io
import logging
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from domain.model.errors import BadInput, Refused

if TYPE_CHECKING:
    from cryptography import x509

    from documents.identity import Identity
    from documents.timestamps import Timestamping, TokenReport

T = TypeVar("T")

ENTIRE_FILE = "entire_file"
ENTIRE_REVISION = "entire_revision"
PARTIAL = "partial"
_ACCEPTABLE_MODIFICATIONS = ("none", "lta_updates", "form_filling")


@dataclass(frozen=True)
class SignatureReport:
    """One signature in a PDF, as `tratos verify` shows it.

    `intact`: the signed bytes hash to the signed digest. `valid`: the
    cryptographic signature checks with the certificate in it (pyHanko keeps
    this True after a changed byte, so never judge by `valid` alone).
    `trusted`: the certificate chains to one of the trusted certificates given.
    `certificate_valid`: the signing time it claims (now if none) lies inside
    its certificate's validity period.
    `coverage`: `entire_file`, `entire_revision` (later incremental updates
    exist) or `partial`. `modification`: what the later updates do
    (`none`, `lta_updates`, `form_filling`, `annotations`, `other`).
    """

    field_name: str
    signer_subject: str
    signer_fingerprint: str
    signing_time: datetime | None
    intact: bool
    valid: bool
    trusted: bool
    coverage: str
    revision: int
    modification: str
    modifications_ok: bool
    bottom_line: bool
    problem: str | None = None
    certificate_valid: bool = True
    timestamp: TokenReport | None = None  # the TSA's token on the signature (PAdES B-T), checked

    @property
    def sound(self) -> bool:
        """Intact, valid, made in its certificate's validity period, and nothing but
        signatures/form filling after it (trust aside)."""
        return (
            self.intact
            and self.valid
            and self.certificate_valid
            and self.coverage in (ENTIRE_FILE, ENTIRE_REVISION)
            and self.modifications_ok
        )

    @property
    def ok(self) -> bool:
        """Sound and trusted: pyHanko's bottom line."""
        return self.sound and self.trusted and self.bottom_line

    def as_dict(self) -> dict[str, Any]:
        return {
            "field_name": self.field_name,
            "signer_subject": self.signer_subject,
            "signer_fingerprint": self.signer_fingerprint,
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "intact": self.intact,
            "valid": self.valid,
            "trusted": self.trusted,
            "coverage": self.coverage,
            "revision": self.revision,
            "modification": self.modification,
            "modifications_ok": self.modifications_ok,
            "certificate_valid": self.certificate_valid,
            "ok": self.ok,
            "problem": self.problem,
            "timestamp": self.timestamp.as_dict() if self.timestamp else None,
        }


@dataclass(frozen=True)
class Countersignature:
    """The client's signature on a returned PDF, after `check_countersignature` accepted it."""

    signer_subject: str
    signer_fingerprint: str
    signing_time: datetime | None
    field_name: str
    trusted: bool
    original_sha256: str
    returned_sha256: str
    signatures: tuple[SignatureReport, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "signer_subject": self.signer_subject,
            "signer_fingerprint": self.signer_fingerprint,
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "field_name": self.field_name,
            "trusted": self.trusted,
            "original_sha256": self.original_sha256,
            "returned_sha256": self.returned_sha256,
            "signatures": [s.as_dict() for s in self.signatures],
        }


# -- signing ---------------------------------------------------------------------------------


def sign_pdf(
    pdf_bytes: bytes,
    identity: Identity,
    *,
    field_name: str,
    reason: str,
    location: str,
    signing_time: datetime | None = None,
    open_fields: Sequence[str] = (),
    timestamping: Timestamping | None = None,
) -> bytes:
    """Sign `pdf_bytes` (PAdES B-B) in a new invisible field `field_name`; return the new file.

    The signature is an incremental update: the input bytes are the prefix of
    the output. `open_fields` adds empty signature fields (e.g. `Client`) in
    the same revision, so the other party's reader offers them for signing.
    `signing_time` (default now) is the time the signature claims (`/M`); B-B
    has no trusted time. A certificate not valid at that time is refused.
    With `timestamping`, the signature carries the TSA's token over it (B-T; the
    token states the TSA's time, whatever `signing_time` claims), and with
    `timestamping.lta` also the validation data and a document timestamp (B-LTA).
    A TSA that gives no usable token is BadInput, and nothing is signed.
    """
    return _run(
        async_sign_pdf(
            pdf_bytes,
            identity,
            field_name=field_name,
            reason=reason,
            location=location,
            signing_time=signing_time,
            open_fields=open_fields,
            timestamping=timestamping,
        )
    )


async def async_sign_pdf(
    pdf_bytes: bytes,
    identity: Identity,
    *,
    field_name: str,
    reason: str,
    location: str,
    signing_time: datetime | None = None,
    open_fields: Sequence[str] = (),
    timestamping: Timestamping | None = None,
) -> bytes:
    """The coroutine behind `sign_pdf`, for callers inside an event loop."""
    from pyhanko.keys.internal import (
        translate_pyca_cryptography_cert_to_asn1,
        translate_pyca_cryptography_key_to_asn1,
    )
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import SigningError
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    if not field_name or "." in field_name:
        raise BadInput(f"not a usable signature field name: {field_name!r}")
    from documents.identity import refuse_to_sign_outside_validity

    _quiet_pyhanko()
    moment = (signing_time or datetime.now(UTC)).astimezone(UTC)
    refuse_to_sign_outside_validity(identity.certificate, moment)
    signer = signers.SimpleSigner(
        signing_cert=translate_pyca_cryptography_cert_to_asn1(identity.certificate),
        signing_key=translate_pyca_cryptography_key_to_asn1(identity.private_key),
        cert_registry=SimpleCertificateStore.from_certs(
            [translate_pyca_cryptography_cert_to_asn1(c) for c in identity.chain]
        ),
    )
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        subfilter=fields.SigSeedSubFilter.PADES,
        **_long_term(identity, timestamping),
    )
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes))
        existing = {name for name, _, _ in fields.enumerate_sig_fields(writer.prev)}
        for name in open_fields:
            if name != field_name and name not in existing:
                fields.append_signature_field(writer, fields.SigFieldSpec(sig_field_name=name))
        pdf_signer = _timed_pdf_signer(
            moment, meta, signer, new_field_spec=fields.SigFieldSpec(sig_field_name=field_name),
            timestamper=timestamping.stamper() if timestamping else None,
        )
        out = await pdf_signer.async_sign_pdf(writer)
    except BadInput:  # the TSA gave no usable token (documents/timestamps.py says which)
        raise
    except SigningError as exc:
        if timestamping is not None and _from_tsa(exc):
            from documents.timestamps import unreachable

            raise unreachable(timestamping.url, exc) from exc
        raise Refused(f"cannot sign in field {field_name!r}: {_one_line(exc)}") from exc
    except (PdfError, *PARSER_FAULTS) as exc:
        raise BadInput(f"not a PDF that can be signed: {_one_line(exc)}") from exc
    return out.getvalue()


def _long_term(identity: Identity, timestamping: Timestamping | None) -> dict[str, Any]:
    """B-LTA's part of the signature metadata: embed what validates our certificate and the
    TSA's (from the store's own certificates and the trusted TSA roots, never fetched), and
    add a document timestamp."""
    if timestamping is None or not timestamping.lta:
        return {}
    from pyhanko.keys.internal import translate_pyca_cryptography_cert_to_asn1
    from pyhanko_certvalidator import ValidationContext

    roots = [identity.certificate, *identity.chain, *timestamping.roots]
    context = ValidationContext(trust_roots=[translate_pyca_cryptography_cert_to_asn1(c) for c in roots],
                                allow_fetching=False)
    return {"embed_validation_info": True, "use_pades_lta": True, "validation_context": context}


def _from_tsa(exc: BaseException) -> bool:
    """Whether a signing failure came from asking the TSA (pyHanko may wrap it)."""
    from pyhanko.sign.timestamps import TimestampRequestError

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (TimestampRequestError, OSError, BadInput)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _timed_pdf_signer(system_time: datetime, *args: Any, **kwargs: Any) -> Any:
    """A PdfSigner whose signing time (`/M`) is given instead of read from the clock."""
    from pyhanko.sign.signers import PdfSigner

    class TimedPdfSigner(PdfSigner):
        def init_signing_session(self, pdf_out: Any, existing_fields_only: bool = False) -> Any:
            session = super().init_signing_session(pdf_out, existing_fields_only)
            session.system_time = system_time
            return session

    return TimedPdfSigner(*args, **kwargs)


# -- verification ----------------------------------------------------------------------------

# A signature whose bytes (a PDF's /Contents) were changed: the PDF opens, its signature does not verify.
DAMAGED = "the signature is damaged: its signature data cannot be read"
DAMAGED_CERTIFICATE = "the signature is damaged: the signer's certificate in it cannot be read or is not the one it names"


@dataclass(frozen=True)
class UnreadableSignature:
    """A signature field whose signature data (CMS) cannot be read: the signature is damaged, the
    PDF is not (pyHanko reads every signature as it opens them, and would call the file unreadable)."""

    field_name: str
    signed_revision: int
    byte_range: Any


def embedded_signatures(reader: Any, kind: str = "/Sig") -> list[Any]:
    """The signatures of `kind` (`/Sig`, or `/DocTimeStamp`) in the PDF, in signing order, each a
    pyHanko EmbeddedPdfSignature or, when its signature data cannot be read, an `UnreadableSignature`.

    As pyHanko's `embedded_regular_signatures`, signature by signature: a signature with a SubFilter
    pyHanko does not know is left out, as there."""
    from pyhanko.sign.fields import SigSeedSubFilter, enumerate_sig_fields
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

    known = {sub.value for sub in SigSeedSubFilter}
    found = []
    for name, value, field_ in enumerate_sig_fields(reader, filled_status=True):
        signature = value.get_object()
        if signature.get("/SubFilter") not in known or signature.get("/Type", "/Sig") != kind:
            continue
        try:
            found.append(EmbeddedPdfSignature(reader, field_, name))
        except PARSER_FAULTS:  # asn1crypto's, of the CMS only: the field and its byte range were read
            field_ = field_.get_object()
            found.append(UnreadableSignature(str(name), reader.xrefs.get_last_change(field_.raw_get("/V").reference),
                                             signature.raw_get("/ByteRange")))
    return sorted(found, key=lambda sig: sig.signed_revision)



def verify_pdf(
    pdf_bytes: bytes, trusted_certs: Iterable[x509.Certificate] = (),
    tsa_roots: Iterable[x509.Certificate] = (),
) -> list[SignatureReport]:
    """Every signature in the file, oldest first; an unsigned PDF gives `[]`.

    A signature's timestamp token is checked against `tsa_roots` (the roots set with
    `tratos identity tsa --trust`), apart from the signers' `trusted_certs`.
    """
    return _run(async_verify_pdf(pdf_bytes, trusted_certs, tsa_roots))


def verify_document_timestamps(pdf_bytes: bytes, tsa_roots: Iterable[x509.Certificate] = ()) -> list[TokenReport]:
    """The document timestamps of a B-LTA file (oldest first), each checked against `tsa_roots`."""
    return _run(async_verify_document_timestamps(pdf_bytes, tsa_roots))


async def async_verify_document_timestamps(
    pdf_bytes: bytes, tsa_roots: Iterable[x509.Certificate] = ()
) -> list[TokenReport]:
    """The coroutine behind `verify_document_timestamps`."""
    from pyhanko.keys.internal import translate_pyca_cryptography_cert_to_asn1
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_timestamp
    from pyhanko_certvalidator import ValidationContext

    from documents.timestamps import TokenReport

    _quiet_pyhanko()
    roots = [translate_pyca_cryptography_cert_to_asn1(c) for c in tsa_roots]
    try:
        stamps = embedded_signatures(PdfFileReader(io.BytesIO(pdf_bytes)), "/DocTimeStamp")
    except (PdfError, *PARSER_FAULTS) as exc:
        raise BadInput(f"not a readable PDF: {_one_line(exc)}") from exc
    reports = []
    for stamp in stamps:
        if isinstance(stamp, UnreadableSignature):
            reports.append(TokenReport("unknown authority", None, False, False, False, DAMAGED))
            continue
        context = ValidationContext(trust_roots=roots, allow_fetching=False)
        try:
            status = await async_validate_pdf_timestamp(stamp, context)
        except (PdfError, *PARSER_FAULTS) as exc:
            reports.append(TokenReport("unknown authority", None, False, False, False, _one_line(exc)))
            continue
        reports.append(_token_report(status))
    return reports


def _token_report(status: Any) -> TokenReport:
    """A pyHanko TimestampSignatureStatus as tratos reports a token."""
    from cryptography import x509 as pyca

    from documents.identity import name_text
    from documents.timestamps import TokenReport

    authority = name_text(pyca.load_der_x509_certificate(status.signing_cert.dump()).subject)
    problem = None
    if not status.intact:
        problem = "the token is over other bytes than the signature"
    elif not status.valid:
        problem = "the authority's signature on the token does not check"
    elif not status.trusted:
        problem = "its authority is not among the trusted roots"
    return TokenReport(authority, status.timestamp, bool(status.intact), bool(status.valid),
                       bool(status.trusted), problem)


async def async_verify_pdf(
    pdf_bytes: bytes, trusted_certs: Iterable[x509.Certificate] = (),
    tsa_roots: Iterable[x509.Certificate] = (),
) -> list[SignatureReport]:
    """The coroutine behind `verify_pdf`."""
    from pyhanko.keys.internal import translate_pyca_cryptography_cert_to_asn1
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko_certvalidator import ValidationContext

    _quiet_pyhanko()
    roots = _usable_roots(translate_pyca_cryptography_cert_to_asn1(c) for c in trusted_certs)
    stamp_roots = _usable_roots(translate_pyca_cryptography_cert_to_asn1(c) for c in tsa_roots)
    try:
        reader = PdfFileReader(io.BytesIO(pdf_bytes))
        embedded = embedded_signatures(reader)
    except (PdfError, *PARSER_FAULTS) as exc:
        raise BadInput(f"not a readable PDF: {_one_line(exc)}") from exc
    reports = []
    for sig in embedded:
        if isinstance(sig, UnreadableSignature):
            reports.append(_broken(sig, "", "", DAMAGED))
            continue
        # one context per signature: validation contexts cache what they saw
        context = ValidationContext(trust_roots=roots, allow_fetching=False)
        stamp_context = ValidationContext(trust_roots=stamp_roots, allow_fetching=False)
        reports.append(await _report(sig, context, stamp_context))
    return reports


def _usable_roots(certificates: Iterable[Any]) -> list[Any]:
    """The trusted certificates a validator can index by name. One whose name holds what an X.509
    name may not (U+FFFF, which a tratos before ADR-84 let `identity import` take) cannot anchor
    anything: left out, the PDFs it signed read as signed by a stranger instead of failing `verify`."""
    usable = []
    for certificate in certificates:
        try:
            certificate.subject.hashable  # noqa: B018 - asn1crypto preps the name here, or refuses it
        except ValueError:
            continue
        usable.append(certificate)
    return usable


async def _report(sig: Any, context: Any, stamp_context: Any = None) -> SignatureReport:
    from cryptography import x509
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign.diff_analysis import DiffResult
    from pyhanko.sign.validation import KeyUsageConstraints, async_validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    from documents.identity import name_text, signing_problem, validity_problem

    try:
        der = sig.signer_cert.dump()
        certificate = x509.load_der_x509_certificate(der)
        subject = name_text(certificate.subject)
        signer_fingerprint = hashlib.sha256(der).hexdigest()
    except Exception:  # a signature whose CMS names no usable certificate: its bytes were changed
        return _broken(sig, "", "", DAMAGED_CERTIFICATE)
    try:
        status = await async_validate_pdf_signature(
            sig,
            signer_validation_context=context,
            ts_validation_context=stamp_context,
            # a signing certificate asserts nonRepudiation or digitalSignature
            key_usage_settings=KeyUsageConstraints(
                key_usage={"non_repudiation", "digital_signature"}
            ),
        )
    except (PdfError, *PARSER_FAULTS) as exc:  # SignatureValidationError is a ValueError
        return _broken(sig, subject, signer_fingerprint, _one_line(exc))
    coverage = {
        SignatureCoverageLevel.ENTIRE_FILE: ENTIRE_FILE,
        SignatureCoverageLevel.ENTIRE_REVISION: ENTIRE_REVISION,
    }.get(status.coverage, PARTIAL)
    if isinstance(status.diff_result, DiffResult):
        modification = status.diff_result.modification_level.name.lower()
    elif status.diff_result is None:
        modification = "none" if coverage == ENTIRE_FILE else "unknown"
    else:
        modification = "other"
    signing_time = status.signer_reported_dt
    out_of_period = validity_problem(certificate, signing_time or datetime.now(UTC))
    unfit = signing_problem(certificate)
    problem = None
    if not status.intact:
        problem = "the signed bytes were changed"
    elif not status.valid:
        problem = "the signature does not match the certificate"
    elif unfit:
        problem = unfit
    elif out_of_period:
        problem = f"signed outside its certificate's validity period: {out_of_period}"
    elif coverage == PARTIAL:
        problem = "the signature does not cover its whole revision"
    elif not status.docmdp_ok:
        problem = f"the file was changed after this signature ({modification})"
    elif not status.trusted:
        problem = "the certificate is not among the trusted ones"
    return SignatureReport(
        field_name=str(sig.field_name),
        signer_subject=subject,
        signer_fingerprint=signer_fingerprint,
        signing_time=signing_time,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        coverage=coverage,
        revision=int(sig.signed_revision),
        modification=modification,
        modifications_ok=bool(status.docmdp_ok),
        bottom_line=bool(status.bottom_line),
        problem=problem,
        certificate_valid=out_of_period is None,
        timestamp=_token_report(status.timestamp_validity) if status.timestamp_validity else None,
    )


def _broken(sig: Any, subject: str, signer_fingerprint: str, problem: str) -> SignatureReport:
    return SignatureReport(
        field_name=str(sig.field_name),
        signer_subject=subject,
        signer_fingerprint=signer_fingerprint,
        signing_time=None,
        intact=False,
        valid=False,
        trusted=False,
        coverage=PARTIAL,
        revision=int(sig.signed_revision),
        modification="unknown",
        modifications_ok=False,
        bottom_line=False,
        problem=problem,
    )


# -- the client's countersignature -----------------------------------------------------------


def check_countersignature(
    original: bytes, returned: bytes, trusted_certs: Iterable[x509.Certificate] = ()
) -> Countersignature:
    """Accept the PDF a client returned with its own signature, or raise `Refused`.

    Holds when: `returned` starts with the `original` bytes tratos issued (its
    first revision(s) unchanged); every signature of the original is still
    there, intact, valid, and followed only by signatures and form filling;
    at least one signature was added after the original; every added
    signature is intact and valid; the last one covers the whole file and was
    not made with a certificate that signed the original. The last added
    signature is the client's; `trusted_certs` only decides its `trusted` flag.
    """
    return _run(async_check_countersignature(original, returned, trusted_certs))


async def async_check_countersignature(
    original: bytes, returned: bytes, trusted_certs: Iterable[x509.Certificate] = ()
) -> Countersignature:
    """The coroutine behind `check_countersignature`."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    if not returned.startswith(original):
        raise Refused(
            "the returned PDF does not contain the document tratos issued unchanged: "
            "its first revision differs (edited, or saved again instead of signed "
            "as an incremental update)"
        )
    if len(returned) == len(original):
        raise Refused("the returned PDF is the issued document itself: nobody signed it")
    try:
        issued_revisions = PdfFileReader(io.BytesIO(original)).xrefs.total_revisions
    except (PdfError, *PARSER_FAULTS) as exc:
        raise BadInput(f"the issued document is not a readable PDF: {_one_line(exc)}") from exc
    issued_sigs = await async_verify_pdf(original)
    reports = await async_verify_pdf(returned, trusted_certs)
    earlier = [r for r in reports if r.revision < issued_revisions]
    added = [r for r in reports if r.revision >= issued_revisions]

    if len(earlier) != len(issued_sigs):
        raise Refused(
            f"the returned PDF lost signatures of the issued document "
            f"({len(earlier)} of {len(issued_sigs)} left)"
        )
    for report in earlier:
        if not report.sound:
            raise Refused(
                f"the signature {report.field_name!r} of the issued document does not hold "
                f"in the returned PDF: {report.problem or 'it is not sound'}"
            )
    if not added:
        raise Refused("the returned PDF has no signature added after the issued document")
    for report in added:
        if not (report.intact and report.valid and report.certificate_valid):
            raise Refused(
                f"the added signature {report.field_name!r} is broken: "
                f"{report.problem or 'not intact'}"
            )
    client = added[-1]
    if client.coverage != ENTIRE_FILE:
        raise Refused(
            f"the returned PDF was changed after the signature {client.field_name!r}: "
            "it does not cover the whole file"
        )
    for report in added[:-1]:
        if not report.sound:
            raise Refused(
                f"the added signature {report.field_name!r} does not hold: "
                f"{report.problem or 'it is not sound'}"
            )
    if client.signer_fingerprint in {r.signer_fingerprint for r in earlier}:
        raise Refused(
            "the added signature was made with the certificate that signed the issued "
            "document, not with the client's"
        )
    return Countersignature(
        signer_subject=client.signer_subject,
        signer_fingerprint=client.signer_fingerprint,
        signing_time=client.signing_time,
        field_name=client.field_name,
        trusted=client.trusted,
        original_sha256=hashlib.sha256(original).hexdigest(),
        returned_sha256=hashlib.sha256(returned).hexdigest(),
        signatures=tuple(reports),
    )


# -- helpers ---------------------------------------------------------------------------------


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run`, or the same in a worker thread when a loop already runs here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _quiet_pyhanko() -> None:
    """pyHanko logs every untrusted certificate with a traceback; we report it instead.

    Without a handler of their own those records reach Python's last-resort
    handler, i.e. stderr, where the command line promises one-line errors.
    """
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())


# What a PDF parser raises on a damaged or hostile file besides its own PdfError: pyHanko asserts
# what it expects (an xref stream that is not one) and indexes, converts and recurses freely. Each
# is "not a readable PDF", never an exception class on stderr (ADR-32).
PARSER_FAULTS: tuple[type[BaseException], ...] = (ValueError, KeyError, TypeError, IndexError, AttributeError,
                                                  AssertionError, RecursionError)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or "its structure is damaged"
