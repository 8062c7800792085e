"""The invoice PDF: the legal document a person reads, the Factur-X XML inside it, our signature.

From the invoice view (the plain dict the domain side builds, see `facturx.cii_xml`):

1. `invoice_document` makes it a `Document`, printed by `invoice.html` like every other
   kind, with `factur-x.xml` (EN 16931) as its PDF/A-3 attachment (/AFRelationship /Data)
   and the Factur-X XMP extension schema (`templates/facturx.xmp`);
2. `render.render_pdf` lays it out once, as PDF/A-3b, attachment and XMP included: the
   unsigned bytes are reproducible like every other document's;
3. `sign_invoice` adds the freelancer's PAdES signature through `signing.sign_pdf` (the path
   every tratos document is signed by) as an incremental update, so the XML lies inside the
   signed bytes.

`invoice_pdf` chains the three. An invoice recorded before tratos knew taxes ("untaxed")
has no VAT category for EN 16931: it is printed without the XML.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from documents.context import ChainHead, Document, EmbeddedFile
from documents.facturx import FILENAME, cii_xml
from documents.render import TEMPLATES

if TYPE_CHECKING:
    from documents.identity import Identity

KIND = "invoice"
FACTURX_XMP = TEMPLATES / "facturx.xmp"
SIGNATURE_FIELD = "Freelancer"  # the field cli/pdf.py signs every document in


@dataclass(frozen=True)
class InvoiceParty:
    """Issuer or recipient as the invoice names them (the view's dict, with attribute access)."""

    name: str
    tax_id: str = ""
    address: str = ""
    country: str = ""
    email: str = ""

    @classmethod
    def of(cls, party: dict[str, Any]) -> InvoiceParty:
        return cls(party["name"], party.get("tax_id", ""), party.get("address", ""),
                   party.get("country", ""), party.get("email", ""))

    @property
    def address_lines(self) -> list[str]:
        return [line.strip() for line in self.address.splitlines() if line.strip()]


def invoice_document(view: dict[str, Any], *, handle: str, head: ChainHead,
                     on: date | None = None, verifactu: dict[str, Any] | None = None) -> Document:
    """The invoice as a `Document` (kind `invoice`), dated `on` (default: its issue date), with the QR
    code and legend of its Verifactu billing record (`documents/verifactu_qr.mark_of`) if it has one."""
    me, client = InvoiceParty.of(view["issuer"]), InvoiceParty.of(view["recipient"])
    corrective = view["kind"] == "corrective"
    attachment = None
    if view["taxation"] != "untaxed":
        attachment = EmbeddedFile(
            FILENAME, cii_xml(view),
            f"Factur-X (EN 16931) {'corrective invoice' if corrective else 'invoice'} {view['number']}",
            relationship="Data", xmp=FACTURX_XMP)
    values = {
        "invoice": view, "me": me, "client": client, "handle": handle,
        "names": {"us": me.name, "client": client.name}, "account": view.get("iban", ""),
        "signer": None, "label_key": "kind.corrective" if corrective else "kind.invoice",
        "series": view.get("series") or view["number"].split("-")[0], "verifactu": verifactu,
    }
    return Document(KIND, view["number"], view["lang"], on or view["issued_on"], handle, head, values,
                    attachment)


def render_invoice(view: dict[str, Any], *, handle: str, head: ChainHead) -> bytes:
    """The unsigned PDF/A-3b with `factur-x.xml` inside, byte-identical for the same view and head."""
    from documents.render import render_pdf

    return render_pdf(invoice_document(view, handle=handle, head=head))


def sign_invoice(pdf: bytes, view: dict[str, Any], identity: Identity, *,
                 signing_time: datetime | None = None) -> bytes:
    """Our PAdES signature on the invoice PDF, worded like every document's (`sign.reason`)."""
    from documents.i18n import Formatter
    from documents.signing import sign_pdf

    fmt = Formatter(view["lang"])
    label = fmt.labels["kind.corrective" if view["kind"] == "corrective" else "kind.invoice"]
    reason = fmt.labels["sign.reason"].format(kind=label, id=view["number"], name=view["issuer"]["name"])
    location = " ".join(view["issuer"].get("address", "").split())
    return sign_pdf(pdf, identity, field_name=SIGNATURE_FIELD, reason=reason, location=location,
                    signing_time=signing_time)


def invoice_pdf(view: dict[str, Any], *, handle: str, head: ChainHead, identity: Identity | None,
                signing_time: datetime | None = None) -> bytes:
    """Render, embed the Factur-X XML, sign (when there is a key): what `tratos pdf invoice` writes."""
    pdf = render_invoice(view, handle=handle, head=head)
    return pdf if identity is None else sign_invoice(pdf, view, identity, signing_time=signing_time)
