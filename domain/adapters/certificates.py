"""Certificates a user names to trust (a TSA's roots, an SMTP server's private CA): read as any
file the user names, and only if they hold X.509 certificates.

One reading for every such file, so a text file, an empty one, /dev/zero or a FIFO named where
certificates are expected is refused when it is named, in the same words wherever it is named,
never accepted then found unreadable when a message is sent (ADR-61).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from domain.model.errors import BadInput

if TYPE_CHECKING:
    from cryptography import x509


def read_certificates(data: bytes, source: str) -> list[x509.Certificate]:
    """Every certificate in a PEM file (or the one in a DER file); none is bad input."""
    from cryptography import x509

    try:
        found = (x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data
                 else [x509.load_der_x509_certificate(data)])
    except ValueError:
        raise BadInput(f"{source} holds no readable certificate (PEM or DER X.509)") from None
    if not found:
        raise BadInput(f"{source} holds no certificate")
    return found


def certificates_file(path: str | Path, what: str) -> list[x509.Certificate]:
    """The certificates of the file at `path`: a regular file (not a FIFO, a device, a folder) of
    bounded size, holding one certificate or more, PEM or DER; anything else is bad input naming it."""
    from domain.adapters.files import read_regular

    return read_certificates(read_regular(path, what), str(path))


def as_pem(certificates: list[x509.Certificate]) -> str:
    """The certificates as PEM text, as `ssl` takes them (`cadata`), whatever form the file had."""
    from cryptography.hazmat.primitives.serialization import Encoding

    return "".join(c.public_bytes(Encoding.PEM).decode("ascii") for c in certificates)
