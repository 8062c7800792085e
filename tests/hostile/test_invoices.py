"""Invoices from the command line: what a tax office would refuse is refused in one line with the
store unchanged, and what is issued prints as a signed PDF with its Factur-X XML inside and
enters the book of issued invoices. Both backends.

The figures are worked out by hand in the comments; the Factur-X totals are read back from the
XML inside the signed PDF and compared with the PDF's own text.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from cli_support import (
    IN_FORCE,
    copied,
    ok,
    passphrase_by_default,
    recorded_template,
    refused,
    run,
    snapshot,
)

KEY = {"TRATOS_KEY_PASSPHRASE": "s3cret"}
TAXED = [
    *IN_FORCE[1:],  # after an init that makes a signing key (below)
    ("identity", "invoicing", "--tax-id", "12345678Z", "--address", "Calle Mayor 1, 28013 Madrid",
     "--iban", "ES9121000418450200051332", "--vat", "21%", "--withholding", "15%"),
    ("client", "update", "acme", "--tax-id", "B12345674", "--address", "Gran Vía 1, 28013 Madrid",
     "--on", "2026-01-12"),
    ("client", "open", "nord", "--name", "Nordwind GmbH", "--country", "DE", "--tax-id", "DE136695976",
     "--on", "2026-01-12"),
    ("terms", "publish", "nord", "--rate", "60/h", "--on", "2026-01-12"),
    ("contract", "draft", "nord", "--title", "Logo", "--scope", "A logo", "--price", "3000EUR",
     "--start", "2026-01-13", "--end", "2026-02-28", "--on", "2026-01-12"),
    ("contract", "sign", "nord", "--by", "us", "--on", "2026-01-12"),
    ("contract", "sign", "nord", "--by", "client", "--signer", "Jonas", "--on", "2026-01-12"),
    ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15"),   # F-2026-001: 4240.00 payable
    ("hours", "log", "acme", "2", "--note", "Call", "--on", "2026-01-20"),
]


@pytest.fixture(scope="module", autouse=True)
def _keyed() -> Iterator[None]:
    """The store has a signing key: each invoice signs its billing record with it (ADR-59)."""
    with passphrase_by_default(KEY["TRATOS_KEY_PASSPHRASE"]):
        yield


@pytest.fixture
def taxed(module_store, store) -> Iterator[Path]:
    """acme (a Spanish business) invoiced once at 21 % VAT with 15 % IRPF; nord, a German business."""
    spec = recorded_template(module_store, store.backend, "hostile-invoices", [IN_FORCE[0], *TAXED], KEY)
    with copied(spec, store) as home:
        yield home


BAD = [
    (("client", "open", "x", "--name", "X SL", "--tax-id", "B12345678"), 2,
     "not a valid Spanish NIF: its check digit '8' is wrong (for B1234567 it is '4')"),
    (("client", "update", "nord", "--tax-id", "DE123456789"), 2,
     "not a valid DE VAT number: its check digits are wrong"),   # no reverse charge without a valid one
    (("client", "open", "y", "--name", "Y", "--country", "Spain"), 2, "not a country code"),
    (("invoice", "issue", "acme", "--amount", "100EUR", "--vat", "7%"), 2, "7% is not a Spanish VAT rate"),
    (("invoice", "issue", "nord", "--amount", "100EUR", "--vat", "21%"), 2,
     "an invoice that is reverse charge carries no VAT, not 21%"),
    (("invoice", "issue", "nord", "--amount", "100EUR", "--withholding", "15%"), 2,
     "withholding (IRPF) applies only to clients in Spain"),
    (("invoice", "issue", "acme", "--amount", "100EUR", "--withholding", "12%"), 2,
     "12% is not a professional withholding rate"),
    (("invoice", "correct", "acme", "F-2026-009", "--reason", "x", "--void"), 2, "acme has no invoice F-2026-009"),
    (("invoice", "correct", "nord", "F-2026-001", "--reason", "x", "--void"), 2, "nord has no invoice F-2026-001"),
    (("invoice", "correct", "acme", "F-2026-001", "--reason", "x", "--amount", "-5000EUR"), 1,
     "an invoice cannot become negative overall"),
    (("invoice", "correct", "acme", "F-2026-001", "--amount", "-5EUR"), 2, "Missing option '--reason'"),
    (("invoice", "issue", "acme", "--hours", "2026-01-01..2026-01-31", "--on", "2026-01-31"), None, None),
    (("invoice", "issue", "acme", "--line", "Workshop", "--quantity", "2"), 2, "give each --line its --unit-price"),
    (("invoice", "issue", "acme", "--hours", "2026-01-31"), 2, "not a range of dates"),
    (("invoice", "issue", "acme", "--amount", "100EUR", "--exempt", "art. 20.Uno.9º LIVA", "--vat", "21%"), 2,
     "an invoice that is exempt carries no VAT"),
    (("identity", "invoicing", "--vat", "19%"), 2, "19% is not a Spanish VAT rate"),
    (("identity", "invoicing", "--tax-id", "12345678A"), 2, "its check letter 'A' is wrong (for 12345678 it is 'Z')"),
    (("identity", "invoicing", "--iban", "ES0021000418450200051332"), 2, "not a valid IBAN"),
    (("identity", "invoicing", "--series", "f1"), 2, "an invoice series is 1 to 5 capital letters"),
    # the fourth adversarial run's
    (("invoice", "correct", "acme", "F-2026-001", "--reason", "x", "--amount", "-10 USD"), 1,
     "invoice F-2026-001 is in EUR; a correction in USD cannot change it"),
    (("invoice", "correct", "acme", "F-2026-001", "--reason", "x", "--amount", "0"), 2,
     "a correction must change what the invoice bills"),
    (("invoice", "correct", "acme", "F-2026-001", "--reason", "x", "--line", "Y", "--unit-price", "-1",
      "--line", "Z", "--unit-price", "1"), 2, "adds up to 0"),
    (("identity", "invoicing", "--series", "R"), 2, "invoices and corrective invoices need two series"),
    (("identity", "invoicing", "--corrective-series", "F"), 2, "need two series, not both 'F'"),
    (("invoice", "issue", "acme", "--line", "X", "--quantity", "999999999999999999999999999999",
      "--unit-price", "0.01"), 2, "a line's quantity must be more than 0 and at most 1000000"),
    (("invoice", "issue", "acme", "--line", "", "--unit-price", "10"), 2, "--line is empty"),
    (("identity", "invoicing", "--tax-id", ""), 2, "--tax-id is empty"),
    (("identity", "invoicing", "--iban", " "), 2, "--iban is empty"),
    (("identity", "invoicing", "--address", ""), 2, "--address is empty"),
    (("client", "open", "z", "--name", "Z", "--email", ""), 2, "--email is empty"),
    (("client", "update", "acme", "--country", ""), 2, "--country is empty"),
    (("invoice", "issue", "acme", "--amount", "10", "--exempt", ""), 2, "--exempt is empty"),
    (("invoice", "book", "--year", "2026", "-o", ""), 2, "--output is empty"),
    (("client", "open", "z", "--name", "Z", "--country", "XX"), 2, "not a country code: 'XX'"),
    (("client", "update", "acme", "--country", "UK"), 2, "did you mean GB?"),
    (("identity", "invoicing", "--iban", "ES912100041845020005133\uff12"), 2, "the digits 0-9"),
    (("identity", "invoicing", "--tax-id", "1234\u200b5678Z"), 2, "has '\\u200b' (U+200B)"),
    (("identity", "invoicing", "--tax-id", "\uff112345678Z"), 2, "(U+FF11): write it with the letters A-Z"),
    (("note", "acme", "x"), 2, "TRATOS_LOCK_TIMEOUT is set but empty"),
    # the fifth run's
    (("invoice", "issue", "acme", "--amount", "10", "--concept", ""), 2, "--concept is empty"),
    (("invoice", "issue", "acme", "--for", ""), 2, "--for is empty"),
    (("invoice", "issue", "acme", "--hours", "2026-01-01..2026-01-31", "--vat", "10%", "--vat", "4%"), 2,
     "several --vat rates go with as many --line options"),
    (("--json", "invoice", "book", "--year", "2026", "-o", "b.csv"), 2, "give one of them"),
    (("client", "open", "z", "--name", "Z", "--country", "DE", "--tax-id", "IE6388047V"), 2,
     "is not a VAT number of DE: it must start with DE"),
    (("pdf", "invoice", "acme", "--unsigned"), 2, "an invoice document needs an invoice number"),
]


@pytest.mark.parametrize("args, code, says", [b for b in BAD if b[1] is not None],
                         ids=[f"{b[0][0]}-{b[0][1]}-{n}" for n, b in enumerate(BAD) if b[1] is not None])
def test_what_a_tax_office_would_refuse_is_refused_in_one_line(taxed: Path, args, code, says) -> None:
    before = snapshot(taxed)
    outcome = run(taxed, *args, env={"TRATOS_LOCK_TIMEOUT": ""} if "TRATOS_LOCK_TIMEOUT" in says else None)
    assert outcome.code == code, outcome.stderr
    assert len(outcome.stderr_lines) == 1 and outcome.stderr.startswith("error: "), outcome.stderr
    assert says in outcome.stderr, outcome.stderr
    assert snapshot(taxed) == before


def test_a_voided_invoice_cannot_be_voided_again_nor_revived(taxed: Path) -> None:
    ok(taxed, "invoice", "correct", "acme", "F-2026-001", "--reason", "Issued twice", "--void")
    before = snapshot(taxed)
    for again in (("--void",), ("--amount", "10")):
        outcome = run(taxed, "invoice", "correct", "acme", "F-2026-001", "--reason", "again", *again)
        assert outcome.code == 1 and outcome.stderr_lines == [
            "error: F-2026-001 was voided by R-2026-001: it can no longer be corrected"], outcome.stderr
    assert snapshot(taxed) == before


def test_a_series_numbers_one_kind_of_invoice_a_year(taxed: Path) -> None:
    """Swapping the two prefixes mid-year would put an invoice and a corrective invoice in one series."""
    ok(taxed, "invoice", "correct", "acme", "F-2026-001", "--reason", "Discount", "--amount", "-10EUR")
    ok(taxed, "identity", "invoicing", "--series", "R", "--corrective-series", "F")
    before = snapshot(taxed)
    outcome = run(taxed, "invoice", "issue", "acme", "--amount", "100EUR")
    assert outcome.code == 1 and outcome.stderr_lines == [
        "error: the series R-2026 numbers corrective invoices already; invoices need a series of their own"
        " (tratos identity invoicing)"], outcome.stderr
    outcome = run(taxed, "invoice", "correct", "acme", "F-2026-001", "--reason", "Again", "--amount", "-1EUR")
    assert outcome.code == 1 and outcome.stderr_lines == [
        "error: the series F-2026 numbers invoices already; corrective invoices need a series of their own"
        " (tratos identity invoicing)"], outcome.stderr
    assert snapshot(taxed) == before


def test_an_installment_whose_invoice_was_voided_is_billed_anew(taxed: Path) -> None:
    ok(taxed, "invoice", "correct", "acme", "F-2026-001", "--reason", "Wrong client", "--void")
    installment = json.loads(ok(taxed, "--json", "status", "acme").stdout)["installments"][0]
    assert installment["state"] == "to_invoice"
    outcome = ok(taxed, "invoice", "issue", "acme", "--installment", "1")
    assert "invoice F-2026-002" in outcome.stdout and "(installment 1 of K1)" in outcome.stdout


def test_a_foreign_tax_id_is_kept_compact(taxed: Path) -> None:
    ok(taxed, "client", "open", "us", "--name", "US Inc", "--country", "US", "--tax-id", "12-3456789")
    assert json.loads(ok(taxed, "--json", "status", "us").stdout)["tax_id"] == "123456789"


def test_a_voided_invoice_gets_no_reminder(taxed: Path) -> None:
    ok(taxed, "invoice", "correct", "acme", "F-2026-001", "--reason", "Issued twice", "--void")
    outcome = run(taxed, "remind", "acme", "F-2026-001", "--unsigned")
    assert outcome.code == 1 and outcome.stderr_lines == ["error: invoice F-2026-001 was voided: no reminder to send"]


def test_a_line_of_a_mixed_rate_invoice_is_corrected_at_its_rate(taxed: Path) -> None:
    # F-2026-002: 100.00 at 21 % and 50.00 at 10 %; R: -10.00 at 10 % -> VAT -1.00, IRPF +1.50, payable -9.50
    ok(taxed, "invoice", "issue", "acme", "--line", "A", "--unit-price", "100", "--vat", "21%",
       "--line", "B", "--unit-price", "50", "--vat", "10%")
    outcome = ok(taxed, "invoice", "correct", "acme", "F-2026-002", "--reason", "B less", "--line", "B less",
                 "--unit-price", "-10", "--vat", "10%")
    assert "for -10.00 EUR + VAT -1.00 EUR, withholding -1.50 EUR: -9.50 EUR payable" in outcome.stdout
    refused = run(taxed, "invoice", "correct", "acme", "F-2026-002", "--reason", "x", "--line", "C",
                  "--unit-price", "-1", "--vat", "4%")
    assert refused.code == 1 and "cannot be taxed at 4%" in refused.stderr


def test_a_vat_rate_is_kept_as_the_law_writes_it(taxed: Path) -> None:
    ok(taxed, "identity", "invoicing", "--vat", "-0%")
    assert json.loads((taxed / "identity.json").read_text(encoding="utf-8"))["vat_rate"] == "0"
    ok(taxed, "identity", "invoicing", "--vat", "21.00%")
    assert json.loads((taxed / "identity.json").read_text(encoding="utf-8"))["vat_rate"] == "21"


def test_billing_hours_already_billed_is_refused(taxed: Path) -> None:
    # 2 h at the terms' 60/h = 120.00 base; VAT 25.20; IRPF 18.00; payable 127.20
    billed = ok(taxed, "invoice", "issue", "acme", "--hours", "2026-01-01..2026-01-31", "--on", "2026-01-31")
    assert "for 120.00 EUR + VAT 25.20 EUR, withholding 18.00 EUR: 127.20 EUR payable" in billed.stdout
    before = snapshot(taxed)
    again = run(taxed, "invoice", "issue", "acme", "--hours", "2026-01-01..2026-01-31", "--on", "2026-01-31")
    assert again.code == 1 and again.stderr.startswith("error: ") and "left to bill" in again.stderr
    assert snapshot(taxed) == before


def test_invoicing_without_our_address_is_refused(taxed: Path) -> None:
    identity = taxed / "identity.json"
    identity.write_text(identity.read_text(encoding="utf-8").replace("Calle Mayor 1, 28013 Madrid", ""),
                        encoding="utf-8")
    before = snapshot(taxed)
    outcome = run(taxed, "invoice", "issue", "acme", "--installment", "2")
    assert outcome.code == 2 and outcome.stderr.startswith("error: an invoice needs your address")
    assert snapshot(taxed) == before


def test_a_corrective_invoice_takes_its_own_series_and_lowers_the_balance(taxed: Path) -> None:
    # R-2026-001: -500.00 base, -105.00 VAT, +75.00 IRPF back: -530.00 payable; 4240.00 - 530.00 = 3710.00
    outcome = ok(taxed, "invoice", "correct", "acme", "F-2026-001", "--reason", "Fewer pages",
                 "--amount", "-500EUR", "--on", "2026-01-25")
    assert "corrective invoice R-2026-001 of F-2026-001" in outcome.stdout
    assert "-530.00 EUR payable" in outcome.stdout
    status = json.loads(ok(taxed, "--json", "status", "acme").stdout)
    invoice = status["invoices"][0]
    assert (invoice["payable"]["amount"], invoice["base"]["amount"], invoice["vat"]["amount"]) == (
        "3710.00", "3500.00", "735.00")
    assert status["balance"]["invoiced"]["amount"] == "3710.00"


def test_a_corrective_invoice_that_gives_money_back_asks_for_no_payment(taxed: Path, tmp_path: Path) -> None:
    ok(taxed, "invoice", "correct", "acme", "F-2026-001", "--reason", "Fewer pages", "--amount", "-500EUR")
    pdf = tmp_path / "R.pdf"
    ok(taxed, "pdf", "invoice", "acme", "R-2026-001", "--lang", "en", "-o", str(pdf), "--unsigned")
    text = " ".join(_pdf_text(pdf).split())
    assert "This corrective invoice lowers F-2026-001 by €530.00: nothing is to be paid" in text, text
    assert "Due" not in text and "ES91" not in text and "Payment reference" not in text, text


# ------------------------------------------------------------------ the invoice PDF


def _pdf_text(pdf: Path) -> str:
    from pypdf import PdfReader

    return " ".join(page.extract_text() for page in PdfReader(str(pdf)).pages)


def _amount(text: str) -> Decimal:
    """An amount as the Spanish invoice prints it: 4.840,00 €."""
    return Decimal(text.replace(".", "").replace(",", ".").replace("€", "").strip())


def test_the_invoice_pdf_carries_factur_x_with_the_totals_it_prints(taxed: Path, tmp_path: Path) -> None:
    import facturx
    from lxml import etree

    pdf = tmp_path / "F-2026-001.pdf"
    ok(taxed, "pdf", "invoice", "acme", "F-2026-001", "-o", str(pdf), env=KEY)
    _, xml = facturx.get_facturx_xml_from_pdf(pdf.read_bytes(), check_xsd=False)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    tree = etree.fromstring(xml)
    ram = {"ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}

    def xml_amount(name: str) -> Decimal:
        return Decimal(tree.xpath(f"//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:{name}",
                                  namespaces=ram)[0].text)

    text = _pdf_text(pdf)
    printed = {label: _amount(re.search(rf"{label}\s+([-\d.,]+)\s*€", text).group(1))
               for label in ("Base imponible", "Cuota de IVA", "Total factura", "Total a pagar")}
    # by hand: 4000.00 base, 840.00 VAT, 4840.00 total, 4240.00 payable (600.00 withheld)
    assert printed == {"Base imponible": Decimal("4000.00"), "Cuota de IVA": Decimal("840.00"),
                       "Total factura": Decimal("4840.00"), "Total a pagar": Decimal("4240.00")}
    assert (xml_amount("TaxBasisTotalAmount"), xml_amount("GrandTotalAmount"), xml_amount("DuePayableAmount")) == (
        printed["Base imponible"], printed["Total factura"], printed["Total a pagar"])
    assert ok(taxed, "verify", str(pdf), env=KEY).stdout.rstrip().endswith("Verdict: OK")
    if shutil.which("pdfsig"):
        checked = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True)
        assert "Signature is Valid" in checked.stdout and "Invalid" not in checked.stdout
    elif os.environ.get("CI") == "true":
        pytest.fail("pdfsig (poppler-utils) is not installed")
    import pikepdf

    with pikepdf.open(pdf) as opened:
        assert opened.check_pdf_syntax() == []  # qpdf --check, through pikepdf


def test_an_eu_invoice_is_reverse_charged_and_says_so(taxed: Path, tmp_path: Path) -> None:
    ok(taxed, "invoice", "issue", "nord", "--amount", "600EUR", "--concept", "Logo", "--on", "2026-01-20")
    pdf = tmp_path / "nord.pdf"
    ok(taxed, "pdf", "invoice", "nord", "F-2026-002", "--lang", "en", "-o", str(pdf), "--unsigned")
    text = " ".join(_pdf_text(pdf).split())
    assert "Reverse charge — Art. 196 Directive 2006/112/EC" in text
    assert "€600.00" in text and "Amount payable €600.00" in text


# ------------------------------------------------------------------ the book


def test_the_book_of_issued_invoices_adds_up(taxed: Path, tmp_path: Path) -> None:
    ok(taxed, "invoice", "issue", "nord", "--amount", "600EUR", "--on", "2026-01-20")
    ok(taxed, "invoice", "correct", "acme", "F-2026-001", "--reason", "Voided", "--void", "--on", "2026-01-25")
    book = tmp_path / "book.csv"
    ok(taxed, "invoice", "book", "--year", "2026", "-o", str(book))
    rows = list(csv.DictReader(io.StringIO(book.read_text(encoding="utf-8")), delimiter=";"))
    # F-2026-001 +4000.00 base, F-2026-002 600.00 (reverse charge), R-2026-001 -4000.00: 600.00 in all
    base = sum(_amount(r["Base Imponible"]) for r in rows)
    vat = sum(_amount(r["Cuota IVA Repercutida"]) for r in rows)
    assert (len(rows), base, vat) == (3, Decimal("600.00"), Decimal("0.00"))
    workbook = tmp_path / "book.xlsx"
    ok(taxed, "invoice", "book", "--year", "2026", "-o", str(workbook))
    from openpyxl import load_workbook

    sheet = load_workbook(workbook).active
    assert sheet.max_row == 2 + 3  # two heading rows, one row per invoice and rate


# ------------------------------------------------------------------ the sixth adversarial run


def test_a_fixed_late_fee_is_in_the_currency_of_the_prices(taxed: Path) -> None:
    """A fee in USD on terms in EUR would be printed by the terms and claimed by no reminder."""
    refused(taxed, ("terms", "publish", "acme", "--rate", "60/h", "--late-fee", "40USD"), 1,
            "the late fee is in USD and the rate in EUR: a fixed fee is claimed in its own currency only")
    ok(taxed, "terms", "publish", "nord", "--rate", "60/h", "--late-fee", "40EUR")
    refused(taxed, ("contract", "draft", "nord", "--title", "Icons", "--scope", "Icons", "--price", "900USD",
                    "--start", "2026-03-31", "--end", "2026-04-30"), 1,
            "the late fee is in EUR and the contract's price in USD")


def _overdue(home: Path) -> tuple[str, str, str]:
    """acme's overdue as `status` and as the client list say it, and its outstanding."""
    balance = json.loads(ok(home, "--json", "status", "acme").stdout)["balance"]
    listed = next(c for c in json.loads(ok(home, "--json", "client", "list").stdout) if c["handle"] == "acme")
    assert listed["outstanding"] == balance["outstanding"]
    return balance["overdue"]["amount"], listed["overdue"]["amount"], balance["outstanding"]["amount"]


def test_what_was_paid_above_an_invoice_is_set_off_against_the_arrears(taxed: Path) -> None:
    # F-2026-001 paid 4240.00, then lowered by 500.00 (-530.00 payable): 530.00 paid above it.
    # F-2026-002 (installment 2, 4240.00 payable) is due 2026-03-17, overdue on 2026-03-31.
    ok(taxed, "payment", "record", "acme", "F-2026-001", "4240EUR", "--on", "2026-02-01")
    ok(taxed, "invoice", "issue", "acme", "--installment", "2", "--on", "2026-02-15")
    assert _overdue(taxed) == ("4240.00", "4240.00", "4240.00")
    ok(taxed, "invoice", "correct", "acme", "F-2026-001", "--reason", "Fewer pages", "--amount", "-500EUR")
    assert _overdue(taxed) == ("3710.00", "3710.00", "3710.00")     # 4240.00 late - 530.00 paid above
    ok(taxed, "invoice", "correct", "acme", "F-2026-001", "--reason", "Not delivered", "--void")
    assert _overdue(taxed) == ("0.00", "0.00", "0.00")              # 4240.00 late - 4240.00: never negative
    ok(taxed, "invoice", "correct", "acme", "F-2026-002", "--reason", "Discount", "--amount", "-2000EUR")
    assert _overdue(taxed) == ("0.00", "0.00", "-2120.00")          # we owe acme 2120.00 back


def test_a_correction_that_bills_beyond_the_contract_says_so(taxed: Path) -> None:
    outcome = ok(taxed, "invoice", "correct", "acme", "F-2026-001", "--reason", "More", "--amount", "99999999EUR")
    assert outcome.stderr_lines == [
        "warning: invoices of K1 now total 100003999.00 EUR, beyond its total of 8000.00 EUR (price and approved"
        " changes): is an approved change missing?"], outcome.stderr


def test_a_correction_by_amount_takes_no_vat_option(taxed: Path) -> None:
    refused(taxed, ("invoice", "correct", "acme", "F-2026-001", "--reason", "x", "--amount", "-1EUR", "--vat", "10%"),
            2, "--vat goes with a --line: --amount corrects at the invoice's first VAT rate")
