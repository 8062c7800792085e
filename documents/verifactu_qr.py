"""The Verifactu QR code and legend an invoice prints (Orden HAC/1177/2024 arts. 20 and 21).

The code (ISO/IEC 18004, error correction M, drawn by `segno`) encodes the agency's validation
URL with the invoice's billing record: issuer NIF, number, issue date, ImporteTotal. It stands
at the top of the first page, 35 mm wide (the specification asks 30 to 40), under the words
"QR tributario:"; an invoice of a VERI*FACTU system adds the legend "Factura verificable en la
sede electrónica de la AEAT". Legal marks in Spanish whatever the document's language. An
invoice issued before tratos kept billing records has no record, and prints no code.
"""

from __future__ import annotations

from typing import Any

from domain.model.billing_records import LEGENDS, QR_PREFIX, check_mode, made_in, validation_url

QR_SIZE_MM = 35


def verifactu_mark(app: Any, relationship: Any, number: str, mode: str) -> dict[str, Any] | None:
    """What the invoice `number` prints of its billing record (None: it has none), in the mode the
    record was made in (ADR-78): an invoice of a year kept here prints its code, not a legend, after
    a switch to VERI*FACTU, and the reverse. A record that does not say its mode prints `mode`'s."""
    from domain.adapters.verifactu_xml import record_of

    invoice = relationship.invoices.get(number)
    billing = invoice.issued if invoice is not None else relationship.corrections.get(number)
    if billing is None or billing.issuer is None or not billing.issuer.tax_id:
        return None
    record = record_of(app, billing.issuer.tax_id, number, billing.timestamp)
    return None if record is None else mark_of(record, made_in(record) or mode)


def mark_of(record: Any, mode: str) -> dict[str, Any]:
    """The URL, its QR code as an SVG data URI, and the words around it."""
    import segno

    url = validation_url(issuer_nif=record.issuer_nif, number=record.invoice_number, issued_on=record.issued_on,
                         total=record.total, mode=check_mode(mode))
    code = segno.make_qr(url, error="m", boost_error=False)
    return {"url": url, "svg": code.svg_data_uri(border=0, dark="#000", light="#fff"), "size_mm": QR_SIZE_MM,
            "prefix": QR_PREFIX, "legend": LEGENDS[mode]}
