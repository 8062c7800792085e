"""Billing records signed XAdES-enveloped with the freelancer's key (the no-VERI*FACTU mode).

Orden HAC/1177/2024 asks a system that keeps its records (instead of sending them) to sign each
one electronically. Each RegistroAlta or RegistroAnulacion is signed on its own as a standalone
XML document (XAdES-BES through `signxml`: ECDSA or RSA with SHA-256 as the key allows, the
certificate in KeyInfo, the signing time in the signed properties), its ds:Signature the last
child as the schema places it. Exclusive canonicalization (xml-exc-c14n) keeps the signature
valid once the record sits inside an export document with other namespaces around it, so each
record can be taken out of the file and checked alone.

A record is signed when it is generated (`record_signature`, ADR-59): its ds:Signature is kept in
the record's event, and the record's XML is written again from the event's fields whenever it is
needed (`verifactu_xml.record_xml`), the signature put back as its last child. `check_stored`
checks it so; a record whose event was edited is no longer what its signature covers.

A certificate signs only inside its validity period, and a signature is checked at the signing time
it states, so what was signed while the certificate was valid verifies after it expires (ADR-72).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

from domain.model.errors import UnreadableRecord

if TYPE_CHECKING:
    from documents.identity import Identity

SF = ("https://www2.agenciatributaria.gob.es/static_files/common/internet/dep/aplicaciones/es/aeat/tike/cont/ws/"
      "SuministroInformacion.xsd")
RECORDS = (f"{{{SF}}}RegistroAlta", f"{{{SF}}}RegistroAnulacion")
DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"


def _c14n() -> Any:
    from signxml import CanonicalizationMethod

    return CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0


Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def record_signer(identity: Identity, clock: Clock = _now) -> Callable[[str], str]:
    """A function that signs one record's XML text (`<sf:RegistroAlta>…`) and returns it signed."""
    sign = _element_signer(identity, clock)
    return lambda record: record_signer_text(sign, record)


def _element_signer(identity: Identity, clock: Clock = _now) -> Callable[[Any], Any]:
    """A function that signs a standalone XML document (an lxml element) XAdES-enveloped with the key:
    its ds:Signature the last child of the root, or put where a placeholder signature stands.

    Each signature is made at `clock()` (the machine's clock: certificates live on it, ADR-28), the
    moment its certificate's validity is checked at and the SigningTime it states: outside the
    validity period it is refused as a PDF's signature is (`Refused`, "cannot sign: …", ADR-72)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from signxml import DigestAlgorithm, SignatureMethod

    from documents.identity import refuse_to_sign_outside_validity

    _Signer = _signer_class()  # noqa: N806 - a class

    method = SignatureMethod.ECDSA_SHA256 if isinstance(identity.private_key, ec.EllipticCurvePrivateKey) \
        else SignatureMethod.RSA_SHA256
    signer = _Signer(signature_algorithm=method, digest_algorithm=DigestAlgorithm.SHA256, c14n_algorithm=_c14n())
    certificate = identity.certificate.public_bytes(serialization.Encoding.PEM).decode()

    def sign(root: Any) -> Any:
        moment = clock().astimezone(UTC).replace(microsecond=0)  # as SigningTime states it
        refuse_to_sign_outside_validity(identity.certificate, moment)
        signer.signing_time = moment
        return signer.sign(root, key=identity.private_key, cert=[certificate])

    return sign


def _signer_class() -> type:
    """signxml's XAdES signer, its references to the signed properties and to the key info naming the
    canonicalization they were digested with.

    signxml 5.2 digests them with the signer's c14n (exclusive here) but writes no Transforms, and a
    reference without one is read by every other verifier with Canonical XML 1.0, the default of
    XMLDSig (xmlsec1 fails them: "data and digest do not match"). An explicit exc-c14n Transform
    says what was done, and signxml's own verifier applies it as well. It overrides a method of
    signxml's own (`_add_reference_to_signed_info`, signxml 5.2): a test signs and verifies with
    xmlsec1, so a signxml that changes it fails there.
    """
    from lxml.etree import SubElement
    from signxml.util import ds_tag, xades_tag
    from signxml.xades import XAdESSigner

    class Signer(XAdESSigner):
        signing_time: datetime | None = None  # the moment the signature is made at, checked before

        def add_signing_time(self, signed_signature_properties: Any, sig_root: Any, signing_settings: Any) -> None:
            moment = self.signing_time or _now()  # signxml writes its own now, second precision, UTC
            SubElement(signed_signature_properties, xades_tag("SigningTime"), nsmap=self.namespaces).text = \
                moment.astimezone(UTC).isoformat(timespec="seconds")

        def _add_reference_to_signed_info(self, sig_root: Any, node_to_reference: Any, **attrs: Any) -> None:
            super()._add_reference_to_signed_info(sig_root, node_to_reference, **attrs)
            reference = sig_root.find(ds_tag("SignedInfo"))[-1]
            transforms = SubElement(reference, ds_tag("Transforms"), nsmap=self.namespaces)
            SubElement(transforms, ds_tag("Transform"), nsmap=self.namespaces, Algorithm=self.c14n_alg.value)
            reference.remove(transforms)
            reference.insert(0, transforms)  # Transforms come before DigestMethod (xmldsig-core-schema)

    return Signer


def record_signature(identity: Identity, clock: Clock = _now) -> Callable[[Any], str]:
    """A function that signs a record or an entry of the event log as it is about to be saved (an
    unsigned `InvoiceRegistered`, `InvoiceRegistrationCancelled` or `SystemEventLogged`) and gives its
    ds:Signature, as XML text, to keep in the event."""
    import secrets

    from lxml import etree

    from domain.adapters.verifactu_events import event_document
    from domain.adapters.verifactu_xml import record_xml

    sign = _element_signer(identity, clock)

    def signature(record: Any) -> str:
        if _is_log_entry(record):  # the schema puts it in the Evento, where the placeholder stands
            signed = sign(etree.fromstring(event_document(record, placeholder=True).encode()))
            found = signed.find(f".//{{{DS}}}Signature")
            name = f"Signature-{secrets.token_hex(4).upper()}"  # signxml keeps the placeholder's Id;
            found.set("Id", name)  # neither it nor the Target naming it is digested
            found.find(f".//{{{XADES}}}QualifyingProperties").set("Target", f"#{name}")
        else:
            signed = etree.fromstring(record_signer_text(sign, record_xml(record)).encode())
            found = signed[-1]
        assert found.tag == f"{{{DS}}}Signature", found.tag
        found.getparent().remove(found)  # detached, it keeps only the namespaces it uses
        etree.cleanup_namespaces(found)
        return etree.tostring(found, encoding="unicode")

    return signature


def record_signer_text(sign: Callable[[Any], Any], record: str) -> str:
    from lxml import etree

    name = record[1:record.index(">")]
    standalone = record.replace(f"<{name}>", f'<{name} xmlns:sf="{SF}">', 1)
    return etree.tostring(sign(etree.fromstring(standalone.encode())), encoding="unicode")


def _is_log_entry(record: Any) -> bool:
    return type(record).__name__ == "SystemEventLogged"


@dataclass(frozen=True)
class SignatureCheck:
    position: int
    number: str
    signer: str  # the certificate's subject, as the signature carries it
    problem: str = ""
    signed: bool = True  # False: the record carries no signature (checked as such, not broken)
    subject: Any = None  # the stored record or log entry checked (None: read from a file)

    @property
    def ok(self) -> bool:
        return not self.problem


def check_signatures(source: IO[bytes]) -> Iterator[SignatureCheck]:
    """Each record of an export, its signature checked alone against the certificate it carries
    (whether that certificate is to be trusted is the reader's business, as with a PDF); a record
    without one is said to be unsigned (`signed` False)."""
    from lxml import etree

    found = etree.iterparse(source, events=("end",), tag=RECORDS, resolve_entities=False, no_network=True)
    for position, (_, element) in enumerate(found, 1):
        number = next((e.text or "" for e in element.iter(f"{{{SF}}}NumSerieFactura",
                                                          f"{{{SF}}}NumSerieFacturaAnulada")), "")
        if element.find(f"{{{DS}}}Signature") is not None:
            yield _checked(position, number, element)
        else:  # counted as unsigned, as in the store (records made before tratos signed them, VERI*FACTU mode)
            yield SignatureCheck(position, number, "", signed=False)
        element.clear()


def check_stored(records: Iterable[Any]) -> Iterator[SignatureCheck]:
    """Each stored record's signature checked against the record's content as its event states it now
    (its XML written again from the event): an unsigned record says so (`signed` False), a record
    or a signature edited since it was signed does not verify."""
    from lxml import etree

    from domain.adapters.verifactu_events import event_document
    from domain.adapters.verifactu_xml import record_xml, with_signature

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    for position, record in enumerate(records, 1):
        signature = getattr(record, "signature", "")
        entry = _is_log_entry(record)
        number = f"{record.event_type} of {record.generated_at}" if entry else record.invoice_number
        if not signature:
            yield SignatureCheck(position, number, "", signed=False, subject=record)
            continue
        if entry:
            standalone = event_document(record)
        else:
            text = with_signature(record_xml(record), signature)
            name = text[1:text.index(">")]
            standalone = text.replace(f"<{name}>", f'<{name} xmlns:sf="{SF}">', 1)
        try:
            element = etree.fromstring(standalone.encode(), parser)
        except etree.XMLSyntaxError as error:
            yield SignatureCheck(position, number, "", f"its signature is not XML ({error})", subject=record)
            continue
        yield replace(_checked(position, number, element), subject=record)


def _checked(position: int, number: str, element: Any) -> SignatureCheck:
    """One signed record element, checked against the certificate its signature carries, at the time
    it was signed (its XAdES SigningTime, as a PDF's signature is checked at the time it claims,
    ADR-28): a record signed while the certificate was valid still verifies once it has expired.

    What it signs is checked first (at its signing time, or inside the certificate's period when
    that time is outside it), so an edited signing time is named as damage; a signature that holds
    but was made outside its certificate's period is named as such (ADR-72)."""
    from lxml import etree
    from signxml.exceptions import InvalidInput, InvalidSignature
    from signxml.xades import XAdESSignatureConfiguration, XAdESVerifier

    from documents.identity import name_text, signing_problem, validity_problem

    certificate = _carried_certificate(element)
    if certificate is None:
        return SignatureCheck(position, number, "", "the signature carries no certificate")
    unfit = signing_problem(certificate)
    if unfit:  # (and a key signxml cannot check: a KeyError out of it)
        return SignatureCheck(position, number, "", unfit)
    signed_at = _signing_time(element)
    moment = signed_at if isinstance(signed_at, datetime) else _now()  # none stated: now, as for a PDF
    out_of_period = validity_problem(certificate, moment)
    config = XAdESSignatureConfiguration(
        require_x509=True, default_reference_c14n_method=_c14n(),
        verification_time=certificate.not_valid_before_utc if out_of_period else moment)
    try:
        XAdESVerifier().verify(etree.tostring(element), x509_cert=certificate, expect_config=config)
    except (InvalidSignature, InvalidInput) as error:
        return SignatureCheck(position, number, "", what_failed(error))
    if signed_at == "":
        return SignatureCheck(position, number, "", "its signing time cannot be read")
    if out_of_period:
        return SignatureCheck(position, number, "", f"signed outside its certificate's validity period: {out_of_period}")
    return SignatureCheck(position, number, name_text(certificate.subject))


def _signing_time(element: Any) -> datetime | str | None:
    """The XAdES SigningTime the element's signature states (UTC when it names no offset), None when
    it states none, "" when it states one that cannot be read."""
    found = element.find(f".//{{{XADES}}}SigningTime")
    if found is None:
        return None
    try:
        moment = datetime.fromisoformat((found.text or "").strip())
    except ValueError:
        return ""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def what_failed(error: Exception) -> str:
    """What a signature that does not verify means, in tratos' words rather than signxml's.

    The signature covers three things (references): the record itself (URI ""), its signed
    properties (signing time, the certificate's digest) and the certificate (KeyInfo). A digest
    that differs for the record means the record was changed after it was signed; for the others,
    or a signature value that does not match what it signs, the signature itself is damaged.
    """
    from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput

    text = str(error)
    if isinstance(error, InvalidDigest) and text.endswith("()"):
        return "the record was changed after it was signed"
    if isinstance(error, InvalidDigest):
        return "the signature itself is damaged: its signing time or certificate was changed after it was signed"
    if isinstance(error, InvalidCertificate):  # checked at its signing time, inside the period: not met
        return "its certificate is not valid at the time it was signed"
    if isinstance(error, InvalidInput):
        return "the signature itself is damaged: it is not a signature tratos can read"
    return "the signature itself is damaged: its value does not match what it signs"


def _carried_certificate(record: Any) -> Any:
    """The signer's certificate in the record's ds:KeyInfo (X509Certificate), or None."""
    import base64

    from cryptography import x509

    found = record.find(f".//{{{DS}}}X509Certificate")
    if found is None or not (found.text or "").strip():
        return None
    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join(found.text.split())))
    except ValueError:
        return None


@dataclass(frozen=True)
class ChainSignatures:
    """The signatures of one issuer's chain in the store: how many hold, how many records carry none
    (made before tratos signed records, in VERI*FACTU mode, or without a key), and the first that fails."""

    source: str  # records:NIF, as the chain checks name it
    valid: int
    unsigned: int
    signers: tuple[str, ...]
    broken: SignatureCheck | None
    unread_from: int | None = None  # a record that cannot be read stops the check: the chain's check says so

    @property
    def ok(self) -> bool:
        return self.broken is None

    @property
    def unit(self) -> str:
        return "entry" if self.source.startswith("events:") else "record"

    def __str__(self) -> str:
        if self.broken is not None:
            return (f"BROKEN at {self.unit} {self.broken.position} ({self.broken.number}): its signature does not"
                    f" verify ({self.broken.problem})")
        signed = f" (signed by {'; '.join(self.signers)})" if self.signers else ""
        unread = f", not checked from {self.unit} {self.unread_from} on (it cannot be read)" if self.unread_from else ""
        return f"{self.valid} valid{signed}, {self.unsigned} unsigned{unread}"


def tally(source: str, checks: Iterable[SignatureCheck]) -> ChainSignatures:
    """The signatures of one file's records, counted as a chain's in the store are: valid, unsigned,
    and the first that does not verify."""
    valid = unsigned = 0
    signers: set[str] = set()
    broken = None
    for check in checks:
        if not check.signed:
            unsigned += 1
        elif check.ok:
            valid += 1
            signers.add(check.signer)
        elif broken is None:
            broken = check
    return ChainSignatures(source, valid, unsigned, tuple(sorted(signers)), broken)


def check_logs(app: Any, nifs: Iterable[str] = ()) -> list[ChainSignatures]:
    """Every issuer's event log in the store, each entry's signature checked (`check_stored`)."""
    from domain.adapters.verifactu_events import log_entries, logs
    from domain.model.streams import events_id

    return _check_streams(app, logs(app), log_entries, "events", {events_id(nif): nif for nif in nifs})


def check_chains(app: Any, nifs: Iterable[str] = ()) -> list[ChainSignatures]:
    """Every issuer's chain of records in the store, each signature checked (`check_stored`)."""
    from domain.adapters.verifactu_xml import chain_records, chains
    from domain.model.streams import records_id

    return _check_streams(app, chains(app), chain_records, "records", {records_id(nif): nif for nif in nifs})


def _check_streams(app: Any, streams: list[Any], read: Callable[[Any, Any], Iterable[Any]],
                   kind: str, streams_of: dict[Any, str]) -> list[ChainSignatures]:
    found = []
    for stream in streams:
        said: dict[str, Any] = {}
        counted = tally("", _stream_checks(read(app, stream), said))
        found.append(replace(counted, source=f"{kind}:{said.get('issuer') or streams_of.get(stream, stream)}",
                             unread_from=said.get("unread_from")))
    return found


def _stream_checks(records: Iterable[Any], said: dict[str, Any]) -> Iterator[SignatureCheck]:
    """Each stored record's signature checked; `said` notes the issuer its records name and where a
    record that cannot be read stops the check (the chain's own check reports it as a break)."""
    try:
        for check, record in _with_records(records):
            said["issuer"] = said.get("issuer") or record.issuer_nif
            yield check
    except UnreadableRecord as error:
        said["unread_from"] = error.version


def _with_records(records: Iterable[Any]) -> Iterator[tuple[SignatureCheck, Any]]:
    seen: list[Any] = []

    def kept() -> Iterator[Any]:
        for record in records:
            seen[:] = [record]
            yield record

    for check in check_stored(kept()):
        yield check, seen[0]
