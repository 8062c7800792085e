"""An invoice or a corrective invoice as the documents print it: the plain "invoice view".

Built from the event that issued it (`InvoiceIssued` / `InvoiceCorrected`, which state the
issuer, the recipient, the lines and the taxes as they were on the day), never from the
identity or the client as they are now. The invoice PDF (documents/invoice_pdf.py, with its
Factur-X XML) and the book of issued invoices (documents/invoice_book.py) both read it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from documents.i18n import N_, Formatter
from domain.model.errors import UnknownReference
from domain.model.relationship import Relationship
from domain.model.taxes import NOT_SUBJECT, REVERSE_CHARGE

# The legal mention each taxation prints (catalog keys): reverse charge, not subject.
MENTIONS = {REVERSE_CHARGE: N_("invoice.mention.reverse_charge"), NOT_SUBJECT: N_("invoice.mention.not_subject")}


def invoice_view(relationship: Relationship, number: str, lang: str) -> dict[str, Any]:
    """The view of invoice `number` (F-…) or corrective invoice (R-…) of `relationship`."""
    if number in relationship.invoices:
        invoice = relationship.invoices[number]
        billing, kind, due, corrects, reason = invoice.issued, "invoice", invoice.due, None, ""
        cancelled_on = invoice.cancelled_on  # issued in error, its billing record cancelled: void (ADR-66)
        payments = [{"on": on, "amount": paid.amount} for on, paid in invoice.payments]
    elif number in relationship.corrections:
        billing = relationship.corrections[number]
        corrected = relationship.invoices[billing.corrects]
        kind, due, reason = "corrective", corrected.due, billing.reason
        corrects = {"number": corrected.number, "issued_on": corrected.issued_on}
        payments, cancelled_on = [], None
    else:
        known = sorted([*relationship.invoices, *relationship.corrections])
        raise UnknownReference(f"{relationship.handle} has no invoice {number}"
                               f"{' (it has ' + ', '.join(known) + ')' if known else ''}")
    currency = billing.amount.currency
    issuer = billing.issuer
    recipient = billing.recipient or relationship.client
    return {
        "kind": kind, "number": number, "series": number.split("-")[0], "issued_on": billing.occurred_on,
        # what gives money back is due on no date and asks for no transfer
        "operation_on": None, "due": due if billing.amount.amount > 0 else None, "currency": currency, "lang": lang,
        "issuer": _party(issuer), "recipient": _party(recipient),
        "lines": [{"description": line.description, "quantity": line.quantity,
                   "unit_price": line.unit_price.amount, "vat_rate": line.vat_rate,
                   "amount": (line.quantity * line.unit_price.amount).quantize(Decimal("0.01"))}
                  for line in billing.lines],
        "taxes": [{"rate": t.rate, "base": t.base.amount, "vat": t.vat.amount} for t in billing.taxes],
        "taxation": billing.taxation, "exemption": billing.exemption,
        "mention": _mention(billing.taxation, lang),
        "withholding_rate": billing.withholding_rate, "withholding": billing.withholding.amount,
        "base": sum((t.base.amount for t in billing.taxes), Decimal(0)),
        "vat": sum((t.vat.amount for t in billing.taxes), Decimal(0)),
        "total": billing.total.amount, "payable": billing.amount.amount,
        "payment_method": issuer.payment_method if issuer else "", "iban": issuer.iban if issuer else "",
        "payments": payments, "corrects": corrects, "reason": reason, "cancelled_on": cancelled_on,
    }


def invoice_views(relationship: Relationship, lang: str) -> list[dict[str, Any]]:
    """Every invoice and corrective invoice of the relationship, as views."""
    return [invoice_view(relationship, number, lang) for number in [*relationship.invoices, *relationship.corrections]]


def _party(party: Any) -> dict[str, str]:
    if party is None:
        return {"name": "—", "tax_id": "", "address": "", "country": "", "email": ""}
    return {"name": party.name, "tax_id": party.tax_id, "address": party.address,
            "country": party.country or "ES", "email": party.email}


def _mention(taxation: str, lang: str) -> str:
    """Reverse charge and not subject print their mention; an exempt invoice prints its article
    (the template's `invoice.exempt`)."""
    key = MENTIONS.get(taxation)
    return Formatter(lang).labels[key] if key else ""


def issued_in(app: Any, handles: list[str], year: int, lang: str) -> list[dict[str, Any]]:
    """Every invoice and corrective invoice issued in `year` by any of the clients, as views
    (the book of issued invoices): each client's stream is read once."""
    from documents.context import read_stream

    views = []
    for handle in handles:
        relationship = read_stream(app, handle, verified=False).relationship
        views += [v for v in invoice_views(relationship, lang) if v["issued_on"].year == year]
    return views
