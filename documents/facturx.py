"""The invoice as a machine-readable Factur-X (EN 16931 profile) CII XML, from the invoice view.

The PDF a person reads and the XML an accounting program reads are built from the same
view (documents/invoice_pdf.py), so they cannot disagree. What EN 16931 asks that the
view states differently:

- VAT category per `taxation`: S (a rate above 0), Z (0 % at home), AE (reverse charge),
  O (not subject: no VAT ids, no rate), E (exempt, the article as its reason).
- A net price is never negative (BR-27): a line of a corrective invoice with a negative
  unit price is written as a negative quantity at the positive price (same amount).
- The Spanish professional withholding (IRPF) has no element in EN 16931: it is the
  prepaid amount (BT-113) with a note saying what it is, so that the amount due (BT-115)
  is what the client pays and BR-CO-16 holds (ADR in the final report of issue 20).

lxml builds the tree; `facturx.xml_check_xsd` checks it in the tests.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from lxml import etree

from domain.model.errors import BadInput

Element = Any  # lxml's element class is private (etree._Element); annotations name it so

FILENAME = "factur-x.xml"
GUIDELINE = "urn:cen.eu:en16931:2017"
INVOICE, CORRECTED = "380", "384"
SEPA_CREDIT_TRANSFER, UNDEFINED_MEANS = "58", "1"
UNIT = "C62"  # "one": a unit of the service; the quantity may be hours, days or pieces

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
# taxation -> (VAT category, exemption reason code)
CATEGORIES = {
    "reverse-charge": ("AE", "VATEX-EU-AE"),
    "not-subject": ("O", "VATEX-EU-O"),
    "exempt": ("E", ""),
}
NO_VAT_IDS = ("O",)  # BR-O-02: an invoice not subject to VAT names no VAT identifier


def cii_xml(view: dict[str, Any]) -> bytes:
    """The UN/CEFACT CII XML (Factur-X EN 16931) of the invoice `view`, UTF-8 with a declaration."""
    if view["taxation"] == "untaxed":
        raise BadInput(f"invoice {view['number']} was recorded before tratos knew its taxes:"
                       " it has no VAT category, so no Factur-X XML")
    currency = view["currency"]
    root = _el("rsm:CrossIndustryInvoice", nsmap=NS)
    context = _sub(root, "rsm:ExchangedDocumentContext")
    _text(_sub(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", GUIDELINE)

    document = _sub(root, "rsm:ExchangedDocument")
    _text(document, "ram:ID", view["number"])
    _text(document, "ram:TypeCode", CORRECTED if view["kind"] == "corrective" else INVOICE)
    _date(_sub(document, "ram:IssueDateTime"), "udt:DateTimeString", view["issued_on"])
    for note in _notes(view):
        _text(_sub(document, "ram:IncludedNote"), "ram:Content", note)

    transaction = _sub(root, "rsm:SupplyChainTradeTransaction")
    for number, line in enumerate(view["lines"], 1):
        _line(transaction, number, line, view["taxation"])

    category = _category(view["taxation"], Decimal(0))[0]  # O or not is all the parties need
    agreement = _sub(transaction, "ram:ApplicableHeaderTradeAgreement")
    _party(agreement, "ram:SellerTradeParty", view["issuer"], seller=True, category=category)
    _party(agreement, "ram:BuyerTradeParty", view["recipient"], seller=False, category=category)

    delivery = _sub(transaction, "ram:ApplicableHeaderTradeDelivery")
    event = _sub(delivery, "ram:ActualDeliverySupplyChainEvent")  # BT-72: the work's date
    _date(_sub(event, "ram:OccurrenceDateTime"), "udt:DateTimeString",
          view.get("operation_on") or view["issued_on"])

    settlement = _sub(transaction, "ram:ApplicableHeaderTradeSettlement")
    _text(settlement, "ram:InvoiceCurrencyCode", currency)
    if view["due"]:  # a corrective invoice that gives money back asks for no payment (BR-CO-25)
        _payment_means(settlement, view)
    for tax in view["taxes"]:
        _header_tax(settlement, tax, view)
    if view["due"]:
        terms = _sub(settlement, "ram:SpecifiedTradePaymentTerms")
        _date(_sub(terms, "ram:DueDateDateTime"), "udt:DateTimeString", view["due"])
    _summation(settlement, view)
    corrects = view.get("corrects")
    if view["kind"] == "corrective" and corrects:
        reference = _sub(settlement, "ram:InvoiceReferencedDocument")
        _text(reference, "ram:IssuerAssignedID", corrects["number"])
        _date(_sub(reference, "ram:FormattedIssueDateTime"), "qdt:DateTimeString", corrects["issued_on"])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def withholding_note(view: dict[str, Any]) -> str:
    """`IRPF withholding 15 %: 600.00 EUR`: what the prepaid amount of the XML stands for."""
    return (f"IRPF withholding {_plain(view['withholding_rate'])} %:"
            f" {_money(view['withholding'])} {view['currency']}")


# ------------------------------------------------------------------ parts


def _notes(view: dict[str, Any]) -> list[str]:
    notes = []
    if view["kind"] == "corrective" and view.get("reason"):
        notes.append(view["reason"])
    if view.get("mention"):
        notes.append(view["mention"])
    if view["withholding"]:
        notes.append(withholding_note(view))
    return notes


def _line(transaction: Element, number: int, line: dict[str, Any], taxation: str) -> None:
    quantity, price = line["quantity"], line["unit_price"]
    if price < 0:  # BR-27: the net price is never negative; the quantity carries the sign
        quantity, price = -quantity, -price
    item = _sub(transaction, "ram:IncludedSupplyChainTradeLineItem")
    _text(_sub(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(number))
    _text(_sub(item, "ram:SpecifiedTradeProduct"), "ram:Name", line["description"])
    agreement = _sub(item, "ram:SpecifiedLineTradeAgreement")
    _text(_sub(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", _plain(price))
    delivery = _sub(item, "ram:SpecifiedLineTradeDelivery")
    _text(delivery, "ram:BilledQuantity", _plain(quantity), unitCode=UNIT)
    settlement = _sub(item, "ram:SpecifiedLineTradeSettlement")
    tax = _sub(settlement, "ram:ApplicableTradeTax")
    _text(tax, "ram:TypeCode", "VAT")
    category, _ = _category(taxation, line["vat_rate"])
    _text(tax, "ram:CategoryCode", category)
    if category != "O":  # BR-O-05: no rate on a line not subject to VAT
        _text(tax, "ram:RateApplicablePercent", _plain(line["vat_rate"]))
    summation = _sub(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    _text(summation, "ram:LineTotalAmount", _money(line["amount"]))


def _party(agreement: Element, tag: str, party: dict[str, Any], *, seller: bool,
           category: str) -> None:
    element = _sub(agreement, tag)
    _text(element, "ram:Name", party["name"])
    vat_id = _vat_id(party.get("tax_id", ""), party.get("country", ""))
    tax_id = party.get("tax_id", "").strip()
    use_vat = bool(vat_id) and category not in NO_VAT_IDS
    if tax_id and (seller or not use_vat):  # the legal registration (BT-30/47): BR-CO-26 wants one
        _text(_sub(element, "ram:SpecifiedLegalOrganization"), "ram:ID", tax_id)
    address = _sub(element, "ram:PostalTradeAddress")
    lines = [part.strip() for part in party.get("address", "").splitlines() if part.strip()]
    for line_tag, text in zip(("ram:LineOne", "ram:LineTwo", "ram:LineThree"),
                              [*lines[:2], ", ".join(lines[2:])], strict=False):
        if text:
            _text(address, line_tag, text)
    _text(address, "ram:CountryID", party["country"])
    if party.get("email"):
        _text(_sub(element, "ram:URIUniversalCommunication"), "ram:URIID", party["email"], schemeID="EM")
    if use_vat:
        _text(_sub(element, "ram:SpecifiedTaxRegistration"), "ram:ID", vat_id, schemeID="VA")
    elif tax_id and seller:  # the seller's tax registration (BT-32)
        _text(_sub(element, "ram:SpecifiedTaxRegistration"), "ram:ID", tax_id, schemeID="FC")


def _payment_means(settlement: Element, view: dict[str, Any]) -> None:
    iban = "".join(view.get("iban", "").split()).upper()
    means = _sub(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
    _text(means, "ram:TypeCode", SEPA_CREDIT_TRANSFER if iban else UNDEFINED_MEANS)
    if view.get("payment_method"):
        _text(means, "ram:Information", view["payment_method"])
    if iban:
        _text(_sub(means, "ram:PayeePartyCreditorFinancialAccount"), "ram:IBANID", iban)


def _header_tax(settlement: Element, tax: dict[str, Any], view: dict[str, Any]) -> None:
    category, code = _category(view["taxation"], tax["rate"])
    element = _sub(settlement, "ram:ApplicableTradeTax")
    _text(element, "ram:CalculatedAmount", _money(tax["vat"]))
    _text(element, "ram:TypeCode", "VAT")
    reason = _exemption_reason(view)
    if reason:
        _text(element, "ram:ExemptionReason", reason)
    _text(element, "ram:BasisAmount", _money(tax["base"]))
    _text(element, "ram:CategoryCode", category)
    if code:
        _text(element, "ram:ExemptionReasonCode", code)
    if category != "O":
        _text(element, "ram:RateApplicablePercent", _plain(tax["rate"]))


def _exemption_reason(view: dict[str, Any]) -> str:
    taxation = view["taxation"]
    if taxation == "exempt":
        return view.get("exemption") or view.get("mention") or "Exempt"
    if taxation in ("reverse-charge", "not-subject"):
        return view.get("mention") or {"reverse-charge": "Reverse charge",
                                       "not-subject": "Not subject to VAT"}[taxation]
    return ""


def _summation(settlement: Element, view: dict[str, Any]) -> None:
    summation = _sub(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    line_total = sum((line["amount"] for line in view["lines"]), Decimal(0))
    _text(summation, "ram:LineTotalAmount", _money(line_total))
    _text(summation, "ram:TaxBasisTotalAmount", _money(view["base"]))
    _text(summation, "ram:TaxTotalAmount", _money(view["vat"]), currencyID=view["currency"])
    _text(summation, "ram:GrandTotalAmount", _money(view["total"]))
    if view["withholding"]:
        _text(summation, "ram:TotalPrepaidAmount", _money(view["withholding"]))
    _text(summation, "ram:DuePayableAmount", _money(view["payable"]))


def _category(taxation: str, rate: Decimal) -> tuple[str, str]:
    if taxation in CATEGORIES:
        return CATEGORIES[taxation]
    return ("S", "") if rate > 0 else ("Z", "")


def _vat_id(tax_id: str, country: str) -> str:
    """The party's EU VAT number with its country prefix, or "" when its tax id is not one."""
    from stdnum.eu import vat

    number = "".join(tax_id.split()).upper()
    if not number:
        return ""
    for candidate in (number, f"{'EL' if country == 'GR' else country}{number}"):
        if vat.is_valid(candidate):
            return vat.compact(candidate)
    return ""


# ------------------------------------------------------------------ lxml helpers


def _qname(tag: str) -> str:
    prefix, name = tag.split(":")
    return f"{{{NS[prefix]}}}{name}"


def _el(tag: str, **kwargs: Any) -> Element:
    return etree.Element(_qname(tag), **kwargs)


def _sub(parent: Element, tag: str) -> Element:
    return etree.SubElement(parent, _qname(tag))


def _text(parent: Element, tag: str, text: str, **attributes: str) -> Element:
    element = etree.SubElement(parent, _qname(tag), attributes)
    element.text = text.translate(_NOT_IN_XML)
    return element


# What XML 1.0 cannot hold and a recorded text may (one imported from before ADR-84 refused
# noncharacters): U+FFFE and U+FFFF, written as the replacement character, so the invoice prints.
_NOT_IN_XML = {0xFFFE: "\ufffd", 0xFFFF: "\ufffd"}


def _date(parent: Element, tag: str, day: date) -> None:
    _text(parent, tag, day.strftime("%Y%m%d"), format="102")


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _plain(number: Decimal) -> str:
    """A quantity, price or rate without exponent or trailing zeros: 10, 62.5, 0.25."""
    text = f"{Decimal(number):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
