"""The Verifactu fingerprint (huella) of a billing record, as the tax agency computes it.

AEAT, "Detalle de las especificaciones técnicas para generación de la huella o hash de los
registros de facturación" (v0.1.2, 27/08/2024): SHA-256 over the UTF-8 text `Name=value`
joined by `&`, in a fixed order, each value trimmed at both ends and an empty value still
written (`Huella=` on the first record of a chain); the digest in upper-case hexadecimal.
The values are the texts the record states, as written in its XML: amounts with a dot and the
decimals written (`123.45`), dates `dd-mm-yyyy`, the generation time ISO 8601 with its offset.
So a record is hashed from its texts, never from numbers re-formatted on the way.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal

REGISTRATION_FIELDS = ("IDEmisorFactura", "NumSerieFactura", "FechaExpedicionFactura", "TipoFactura",
                       "CuotaTotal", "ImporteTotal", "Huella", "FechaHoraHusoGenRegistro")
CANCELLATION_FIELDS = ("IDEmisorFacturaAnulada", "NumSerieFacturaAnulada", "FechaExpedicionFacturaAnulada",
                       "Huella", "FechaHoraHusoGenRegistro")
FINGERPRINT_TYPE = "01"  # TipoHuella L12: SHA-256, the only one the Orden defines


def hashed_text(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    """The text the agency hashes: `Name=value&...`, values trimmed, nothing URL-encoded."""
    if len(names) != len(values):
        raise ValueError(f"{len(names)} fields, {len(values)} values")
    return "&".join(f"{name}={value.strip()}" for name, value in zip(names, values, strict=True))


def sha256_upper(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest().upper()


def registration_fingerprint(*, issuer_nif: str, number: str, issued_on: str, invoice_type: str,
                             tax_total: str, total: str, previous: str, generated_at: str) -> str:
    """The huella of a registration record (registro de alta); `previous` "" on a chain's first."""
    return sha256_upper(hashed_text(REGISTRATION_FIELDS, (issuer_nif, number, issued_on, invoice_type,
                                                          tax_total, total, previous, generated_at)))


def cancellation_fingerprint(*, issuer_nif: str, number: str, issued_on: str, previous: str,
                             generated_at: str) -> str:
    """The huella of a cancellation record (registro de anulación) of the invoice `number`."""
    return sha256_upper(hashed_text(CANCELLATION_FIELDS, (issuer_nif, number, issued_on, previous, generated_at)))


def record_date(day: date) -> str:
    """A date as a record writes it: dd-mm-yyyy."""
    return day.strftime("%d-%m-%Y")


def record_amount(amount: Decimal) -> str:
    """An amount in euros as a record writes it: a dot, always two decimals (ImporteSgn12.2Type)."""
    if not amount.is_finite():
        raise ValueError(f"not an amount: {amount}")
    text = f"{amount.quantize(Decimal('0.01')):f}"
    return "0.00" if text == "-0.00" else text


def record_time(moment: datetime) -> str:
    """A generation time as a record writes it: ISO 8601 to the second, with its UTC offset."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a record's generation time states its time zone")
    return moment.replace(microsecond=0).isoformat()
