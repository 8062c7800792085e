"""Billing records signed XAdES-enveloped with the freelancer's key (the no-VERI*FACTU mode).

Orden HAC/1177/2024 asks a system that keeps its records (instead of sending them) to sign each
one electronically. Each RegistroAlta or RegistroAnulacion is signed on its own as a standalone
XML document (XAdES-BES through `signxml`: ECDSA or RSA with SHA-256 as the key allows, the
certificate in KeyInfo, the signing time in the signed properties), its ds:Signature the last
child as the schema places it. Exclusive canonicalization (xml-exc-c14n) keeps the signature
valid once the record sits inside an export document with other namespaces around it, so each
record can be taken out of the file and checked alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from documents.identity import Identity

SF = ("https://www2.agenciatributaria.gob.es/static_files/common/internet/dep/aplicaciones/es/aeat/tike/cont/ws/"
      "SuministroInformacion.xsd")
RECORDS = (f"{{{SF}}}RegistroAlta", f"{{{SF}}}RegistroAnulacion")


def _c14n() -> Any:
    from signxml import CanonicalizationMethod

    return CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0


def record_signer(identity: Identity) -> Callable[[str], str]:
    """A function that signs one record's XML text (`<sf:RegistroAlta>…`) and returns it signed."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from lxml import etree
    from signxml import DigestAlgorithm, SignatureMethod
    from signxml.xades import XAdESSigner

    method = SignatureMethod.ECDSA_SHA256 if isinstance(identity.private_key, ec.EllipticCurvePrivateKey) \
        else SignatureMethod.RSA_SHA256
    signer = XAdESSigner(signature_algorithm=method, digest_algorithm=DigestAlgorithm.SHA256, c14n_algorithm=_c14n())
    certificate = identity.certificate.public_bytes(serialization.Encoding.PEM).decode()

    def sign(record: str) -> str:
        name = record[1:record.index(">")]
        standalone = record.replace(f"<{name}>", f'<{name} xmlns:sf="{SF}">', 1)
        signed = signer.sign(etree.fromstring(standalone.encode()), key=identity.private_key, cert=[certificate])
        return etree.tostring(signed, encoding="unicode")

    return sign


@dataclass(frozen=True)
class SignatureCheck:
    position: int
    number: str
    signer: str  # the certificate's subject, as the signature carries it
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


def check_signatures(source: IO[bytes]) -> Iterator[SignatureCheck]:
    """Each record of an export that carries a signature, checked alone against the certificate it
    carries (whether that certificate is to be trusted is the reader's business, as with a PDF)."""
    from lxml import etree
    from signxml.exceptions import InvalidInput, InvalidSignature
    from signxml.xades import XAdESSignatureConfiguration, XAdESVerifier

    from documents.identity import name_text

    config = XAdESSignatureConfiguration(require_x509=True, default_reference_c14n_method=_c14n())
    position = 0
    for _, element in etree.iterparse(source, events=("end",), tag=RECORDS, resolve_entities=False, no_network=True):
        position += 1
        number = next((e.text or "" for e in element.iter(f"{{{SF}}}NumSerieFactura",
                                                          f"{{{SF}}}NumSerieFacturaAnulada")), "")
        if element.find("{http://www.w3.org/2000/09/xmldsig#}Signature") is None:
            continue
        certificate = _carried_certificate(element)
        if certificate is None:
            yield SignatureCheck(position, number, "", "the signature carries no certificate")
            continue
        try:
            XAdESVerifier().verify(etree.tostring(element), x509_cert=certificate, expect_config=config)
        except (InvalidSignature, InvalidInput) as error:
            yield SignatureCheck(position, number, "", str(error) or type(error).__name__)
        else:
            yield SignatureCheck(position, number, name_text(certificate.subject))
        element.clear()


def _carried_certificate(record: Any) -> Any:
    """The signer's certificate in the record's ds:KeyInfo (X509Certificate), or None."""
    import base64

    from cryptography import x509

    found = record.find(".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate")
    if found is None or not (found.text or "").strip():
        return None
    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join(found.text.split())))
    except ValueError:
        return None
