"""Trusted time: RFC 3161 tokens from a time-stamping authority (TSA), asked for and checked.

- `Timestamping` is what `tratos identity tsa` set: the TSA's URL, the roots its
  certificate must chain to, and whether signatures are B-LTA. `load_timestamping`
  reads it from the store's folder.
- `request_token` asks the TSA for a token over the SHA-256 of some bytes (an anchor
  note) and returns its whole answer (a `.tsr`, which `openssl ts -reply` reads too).
- `TrustedStamper` is the pyHanko timestamper signatures use: it refuses an answer
  whose token is not signed by a certificate chaining to the trusted roots, so a
  signature never carries a token that `tratos verify` would call untrusted.
- `check_token` checks a token over some bytes: the imprint, the TSA's signature,
  its certificate against the roots; `TokenReport` says what held and the time.

A TSA that cannot be reached or answers badly is bad input (exit 2): nothing is
signed or recorded, and the message says so in one line (ADR-43).
pyHanko and aiohttp are imported inside the functions: importing this module is cheap.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.adapters.home import TSA_ROOTS_FILE
from domain.model.errors import BadInput

if TYPE_CHECKING:
    from cryptography import x509

ROOTS_FILE = TSA_ROOTS_FILE  # in the store's folder, beside identity.json (home.py names it)
TOKEN_SUFFIX = ".tsr"
TIMEOUT_SECONDS = 10
URL_SETTING, LTA_SETTING = "tsa_url", "tsa_lta"  # keys of identity.json (texts, like every value there)


@dataclass(frozen=True)
class Timestamping:
    """Where trusted time comes from: a TSA's URL, the roots trusted for it, B-LTA or B-T."""

    url: str
    roots: tuple[x509.Certificate, ...] = ()
    lta: bool = False

    def stamper(self) -> Any:
        return trusted_stamper(self)


@dataclass(frozen=True)
class TokenReport:
    """One RFC 3161 token, checked: over the expected bytes (`intact`), signed by the
    certificate in it (`valid`), that certificate chaining to a trusted root (`trusted`)."""

    authority: str
    time: datetime | None
    intact: bool
    valid: bool
    trusted: bool
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted

    @property
    def verdict(self) -> str:
        """`valid, trusted` / `valid, NOT trusted` / `INVALID: why`, for one line of a report."""
        if not (self.intact and self.valid):
            return f"INVALID: {self.problem or 'the token does not hold'}"
        return "valid, trusted" if self.trusted else "valid, NOT trusted (its authority is not among the trusted roots)"

    def as_dict(self) -> dict[str, Any]:
        return {"authority": self.authority, "time": self.time.isoformat() if self.time else None,
                "intact": self.intact, "valid": self.valid, "trusted": self.trusted, "ok": self.ok,
                "problem": self.problem}


# ------------------------------------------------------------------ settings


def load_timestamping(home: Path, identity: dict[str, str]) -> Timestamping | None:
    """The TSA `tratos identity tsa` set for the store in `home`, or None."""
    url = identity.get(URL_SETTING, "")
    if not url:
        return None
    return Timestamping(url, tuple(trusted_roots(home)), identity.get(LTA_SETTING, "") == "yes")


def trusted_roots(home: Path) -> list[x509.Certificate]:
    """The certificates a TSA's certificate must chain to (none set: no token is trusted)."""
    path = home / ROOTS_FILE
    if not path.exists():
        return []
    from domain.adapters.certificates import certificates_file

    return certificates_file(path, ROOTS_FILE)


def check_url(url: str) -> str:
    """A TSA is reached over http(s) at a URL on one line."""
    text = url.strip()
    if not text.lower().startswith(("http://", "https://")) or any(c.isspace() or ord(c) < 32 for c in text):
        raise BadInput(f"not a time-stamping authority URL (http:// or https://): {url!r}")
    return text


# ------------------------------------------------------------------ asking


def request_token(timestamping: Timestamping, data: bytes) -> tuple[bytes, TokenReport]:
    """The TSA's answer (DER TimeStampResp) over SHA-256(`data`), and the token checked.

    Raises BadInput when the TSA cannot be reached, refuses, or answers with a
    token that does not hold (wrong imprint, bad signature, untrusted authority).
    """
    from documents.signing import _run

    return _run(_request_token(timestamping, data))


async def _request_token(timestamping: Timestamping, data: bytes) -> tuple[bytes, TokenReport]:
    from pyhanko.sign.timestamps.common_utils import handle_tsp_response

    stamper = _http_stamper(timestamping.url)
    digest = hashlib.sha256(data).digest()
    try:
        nonce, request = stamper.request_cms(digest, "sha256")
        response = await stamper.async_request_tsa_response(request)
        token = handle_tsp_response(response, nonce)
    except Exception as exc:  # noqa: BLE001 - network, HTTP, ASN.1 and protocol faults are all "no answer"
        raise unreachable(timestamping.url, exc, "try again later") from exc
    report = await _check(token, lambda algorithm: hashlib.new(algorithm, data).digest(), timestamping.roots)
    _refuse_unless_trusted(timestamping, report)
    return response.dump(), report


def trusted_stamper(timestamping: Timestamping) -> Any:
    """A pyHanko HTTPTimeStamper whose tokens must hold and chain to the trusted roots."""
    from pyhanko.sign.timestamps import HTTPTimeStamper

    class TrustedStamper(HTTPTimeStamper):
        async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> Any:
            try:
                token = await super().async_timestamp(message_digest, md_algorithm)
            except Exception as exc:  # noqa: BLE001 - see _request_token
                raise unreachable(timestamping.url, exc) from exc
            report = await _check(token, lambda _algorithm: message_digest, timestamping.roots)
            _refuse_unless_trusted(timestamping, report)
            return token

    return TrustedStamper(timestamping.url, timeout=TIMEOUT_SECONDS)


def _http_stamper(url: str) -> Any:
    from pyhanko.sign.timestamps import HTTPTimeStamper

    return HTTPTimeStamper(url, timeout=TIMEOUT_SECONDS)


def unreachable(url: str, exc: BaseException, advice: str = "try again, or sign with --no-timestamp") -> BadInput:
    """The one line a TSA that did not answer, or answered badly, gives."""
    if isinstance(exc, BadInput):
        return exc
    return BadInput(f"the time-stamping authority at {url} gave no usable answer ({_reason(exc)}):"
                    f" nothing was signed or recorded; {advice}")


def _refuse_unless_trusted(timestamping: Timestamping, report: TokenReport) -> None:
    if not (report.intact and report.valid):
        raise BadInput(f"the time-stamping authority at {timestamping.url} answered with a token that"
                       f" does not hold ({report.problem}): nothing was signed or recorded")
    if timestamping.roots and not report.trusted:
        raise BadInput(f"the time-stamping authority at {timestamping.url} signs with {report.authority!r},"
                       " which does not chain to the roots given with `tratos identity tsa --trust`:"
                       " nothing was signed or recorded")


# ------------------------------------------------------------------ checking


def check_token(answer: bytes, data: bytes, roots: Iterable[x509.Certificate]) -> TokenReport:
    """Check a `.tsr` (a TimeStampResp, or the bare token) over `data` against `roots`."""
    from documents.signing import _run

    token = parse_token(answer)
    return _run(_check(token, lambda algorithm: hashlib.new(algorithm, data).digest(), tuple(roots)))


def parse_token(answer: bytes) -> Any:
    """The token (CMS ContentInfo) in a TimeStampResp or on its own; damaged is bad input."""
    from asn1crypto import cms, tsp

    try:
        try:
            response = tsp.TimeStampResp.load(answer, strict=True)
            token = response["time_stamp_token"]
            token.native  # noqa: B018 - parse it all now
            if token.contents is None:
                raise ValueError("no token in the answer")
        except ValueError:
            token = cms.ContentInfo.load(answer, strict=True)
        if token["content_type"].native != "signed_data":
            raise ValueError("not a signed token")
        token["content"]["encap_content_info"]["content"].parsed  # noqa: B018
    except (ValueError, TypeError, KeyError) as exc:
        raise BadInput(f"not an RFC 3161 timestamp token: {_one_line(exc)}") from None
    return token


async def _check(token: Any, imprint: Any, roots: tuple[x509.Certificate, ...]) -> TokenReport:
    from pyhanko.keys.internal import translate_pyca_cryptography_cert_to_asn1
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko_certvalidator import ValidationContext

    from documents.identity import name_text
    from documents.signing import _quiet_pyhanko

    _quiet_pyhanko()
    signed_data = token["content"]
    context = ValidationContext(trust_roots=[translate_pyca_cryptography_cert_to_asn1(c) for c in roots],
                                allow_fetching=False)
    try:
        status = await validate_tst_signed_data(signed_data, context, imprint)
    except Exception as exc:  # noqa: BLE001 - a token that cannot even be checked does not hold
        return TokenReport(_authority(signed_data), _gen_time(signed_data), False, False, False, _one_line(exc))
    signer = status.get("signing_cert")
    authority = name_text(_to_pyca(signer).subject) if signer is not None else _authority(signed_data)
    intact, valid = bool(status.get("intact")), bool(status.get("valid"))
    trusted = intact and valid and status.get("trust_problem_indic") is None and status.get("validation_path") is not None
    problem = None
    if not intact:
        problem = "the token is over other bytes: what it stamps was changed"
    elif not valid:
        problem = "the authority's signature on the token does not check"
    elif not trusted:
        problem = "its authority is not among the trusted roots"
    return TokenReport(authority, status.get("timestamp"), intact, valid, trusted, problem)


def token_time(token: Any) -> datetime | None:
    return _gen_time(token["content"])


def _gen_time(signed_data: Any) -> datetime | None:
    try:
        return signed_data["encap_content_info"]["content"].parsed["gen_time"].native
    except Exception:  # noqa: BLE001
        return None


def _authority(signed_data: Any) -> str:
    """The subject of the certificate the token names as its signer (best effort: unchecked)."""
    try:
        from documents.identity import name_text

        sid = signed_data["signer_infos"][0]["sid"].chosen
        certificates = [c.chosen for c in signed_data["certificates"]]
        for certificate in certificates:
            if (certificate.issuer == sid["issuer"]
                    and certificate.serial_number == sid["serial_number"].native):
                return name_text(_to_pyca(certificate).subject)
        return name_text(_to_pyca(certificates[0]).subject)
    except Exception:  # noqa: BLE001
        return "unknown authority"


def _to_pyca(certificate: Any) -> x509.Certificate:
    from cryptography import x509

    return x509.load_der_x509_certificate(certificate.dump())


NOT_A_RESPONSE = "it did not answer with a time-stamp response"


def _reason(exc: BaseException) -> str:
    """What went wrong with the TSA, in a few words (never a class name alone, ADR-32)."""
    import asyncio

    from aiohttp import ContentTypeError, ServerDisconnectedError

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (TimeoutError, asyncio.TimeoutError)):
            return f"no answer within {TIMEOUT_SECONDS} s"
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, ServerDisconnectedError):
            return "it closed the connection without an answer"
        status = getattr(seen, "status", None)
        if isinstance(status, int) and status >= 400:
            return f"HTTP {status}"
        if isinstance(seen, (ContentTypeError, ValueError, TypeError)):  # asn1crypto's parse of its answer
            return NOT_A_RESPONSE
        seen = seen.__cause__ or seen.__context__
    text = _one_line(exc)
    return text if text != "its structure is damaged" else "a malformed answer"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] or "its structure is damaged"


def signature_stamp(pdf: bytes) -> tuple[str, datetime] | None:
    """The authority and time of the token on the last signature of `pdf` (unchecked: the
    stamper checked it when it was asked), for the confirmation a signing command prints."""
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader


    signatures = PdfFileReader(io.BytesIO(pdf)).embedded_regular_signatures
    if not signatures:
        return None
    attributes = signatures[-1].signer_info["unsigned_attrs"]
    for attribute in attributes if attributes.native else ():
        if attribute["type"].native == "signature_time_stamp_token":
            token = attribute["values"][0]
            signed_data = token["content"]
            time = _gen_time(signed_data)
            return (_authority(signed_data), time) if time else None
    return None
