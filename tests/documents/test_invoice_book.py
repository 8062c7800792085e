"""The book of issued invoices: hand-built invoice views in, the AEAT's layout out, read back.

The expected figures are computed by hand here, not by the code under test: base 4,000.00 at 21 %
with 15 % withholding is VAT 840.00, withholding 600.00, total 4,840.00; the year's base adds the
2026 invoices and subtracts the corrective one that voids the first.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from documents.invoice_book import (
    COLUMNS,
    Activity,
    as_json,
    book_rows,
    file_name,
    header,
    write_csv,
    write_xlsx,
)

D = Decimal
US = {"name": "Ana Freelance", "tax_id": "12345678Z", "address": "Calle Mayor 1, Madrid",
      "country": "ES", "email": "ana@example.org"}
COLLECTION = ("Cobro (Operación Criterio de Caja de IVA y/o artículo 7.2.1º de Reglamento "
              "del IRPF)")

# The columns of the book of issued invoices and income in the AEAT's "Formato electrónico común
# de los Libros Registro del IVA y del IRPF" (sheet EXPEDIDAS_INGRESOS), typed from the layout:
# (heading, sub-heading) in the published order.
PUBLISHED = [
    ("Autoliquidación", "Ejercicio"), ("Autoliquidación", "Periodo"),
    ("Actividad", "Código"), ("Actividad", "Tipo"), ("Actividad", "Grupo o Epígrafe del IAE"),
    ("Tipo de Factura", None), ("Concepto de Ingreso", None), ("Ingreso Computable", None),
    ("Fecha Expedición", None), ("Fecha Operación", None),
    ("Identificación de la Factura", "Serie"), ("Identificación de la Factura", "Número"),
    ("Identificación de la Factura", "Número-Final"),
    ("NIF Destinatario", "Tipo"), ("NIF Destinatario", "Código País"),
    ("NIF Destinatario", "Identificación"),
    ("Nombre Destinatario", None), ("Clave de Operación", None),
    ("Calificación de la Operación", None), ("Operación Exenta", None),
    ("Total Factura", None), ("Base Imponible", None), ("Tipo de IVA", None),
    ("Cuota IVA Repercutida", None), ("Tipo de Recargo Eq.", None), ("Cuota Recargo Eq.", None),
    (COLLECTION, "Fecha"), (COLLECTION, "Importe"), (COLLECTION, "Medio Utilizado"),
    (COLLECTION, "Identificación Medio Utilizado"),
    ("Tipo Retención del IRPF", None), ("Importe Retenido del IRPF", None),
    ("Registro Acuerdo Facturación", None),
    ("Inmueble", "Situación"), ("Inmueble", "Referencia Catastral"),
    ("Referencia Externa", None),
]


def party(name: str, tax_id: str, country: str) -> dict:
    return {"name": name, "tax_id": tax_id, "address": "somewhere", "country": country,
            "email": "billing@example.org"}


def view(number: str, issued_on: date, recipient: dict, taxes: list[tuple[str, str, str]], *,
         withholding_rate: str = "0", withholding: str = "0", taxation: str = "domestic",
         kind: str = "invoice", operation_on: date | None = None, corrects: dict | None = None,
         reason: str = "", exemption: str = "") -> dict:
    """An invoice view as the domain side hands it over; totals typed by hand by the caller's
    taxes, the total being base + VAT (the withholding is subtracted from the payable only)."""
    per_rate = [{"rate": D(rate), "base": D(base), "vat": D(vat)} for rate, base, vat in taxes]
    base = sum((t["base"] for t in per_rate), D("0.00"))
    vat = sum((t["vat"] for t in per_rate), D("0.00"))
    return {
        "kind": kind, "number": number, "issued_on": issued_on, "operation_on": operation_on,
        "due": issued_on, "currency": "EUR", "issuer": US, "recipient": recipient,
        "lines": [{"description": "Work", "quantity": D(1), "unit_price": t["base"],
                   "vat_rate": t["rate"], "amount": t["base"]} for t in per_rate],
        "taxes": per_rate, "taxation": taxation, "exemption": exemption,
        "withholding_rate": D(withholding_rate), "withholding": D(withholding),
        "base": base, "vat": vat, "total": base + vat, "payable": base + vat - D(withholding),
        "payments": [], "payment_method": "transfer", "corrects": corrects, "reason": reason,
    }


ACME = party("Acme Ingeniería SL", "B12345674", "ES")
GMBH = party("Beispiel GmbH", "DE136695976", "DE")

DOMESTIC = view("F-2026-001", date(2026, 3, 2), ACME, [("21", "4000.00", "840.00")],
                withholding_rate="15", withholding="600.00")
MIXED = view("F-2026-002", date(2026, 5, 10), ACME,
             [("21", "1000.00", "210.00"), ("10", "500.00", "50.00")],
             withholding_rate="15", withholding="225.00", operation_on=date(2026, 4, 30))
REVERSE = view("F-2026-003", date(2026, 7, 1), GMBH, [("0", "2500.00", "0.00")],
               taxation="reverse-charge")
VOID = view("R-2026-001", date(2026, 8, 15), ACME, [("21", "-4000.00", "-840.00")],
            withholding_rate="15", withholding="-600.00", kind="corrective",
            corrects={"number": "F-2026-001", "issued_on": date(2026, 3, 2)},
            reason="Servicio cancelado")
LAST_YEAR = view("F-2025-014", date(2025, 12, 30), ACME, [("21", "700.00", "147.00")])
VIEWS = [VOID, LAST_YEAR, REVERSE, MIXED, DOMESTIC]  # not in order: the book sorts them

# 2026 by hand: 4000 + 1000 + 500 + 2500 - 4000, and so on
YEAR_BASE, YEAR_VAT, YEAR_TOTAL, YEAR_WITHHELD = (D("4000.00"), D("260.00"), D("4260.00"),
                                                  D("225.00"))


def column(name: str, sub: str | None = None) -> int:
    """The 0-based position of a published column, found in the typed layout, not the code's."""
    return PUBLISHED.index((name, sub))


def test_the_columns_are_the_published_layout_in_its_order():
    assert [(group, sub) for group, sub, _ in COLUMNS] == PUBLISHED
    assert len(header()) == 36
    assert header()[:3] == ["Autoliquidación - Ejercicio", "Autoliquidación - Periodo",
                            "Actividad - Código"]
    assert header()[column("Base Imponible")] == "Base Imponible"


class TestRows:
    rows = book_rows(VIEWS, 2026)

    def test_one_row_per_invoice_and_rate_by_date_and_number_only_the_year(self):
        assert [(r["series"], r["number"], r["vat_rate"]) for r in self.rows] == [
            ("F-2026", "001", D("21.00")),
            ("F-2026", "002", D("21.00")), ("F-2026", "002", D("10.00")),
            ("F-2026", "003", D("0.00")),
            ("R-2026", "001", D("21.00")),
        ]
        assert {r["year"] for r in self.rows} == {2026}

    def test_the_domestic_invoice_with_withholding(self):
        first = self.rows[0]
        assert (first["base"], first["vat"], first["total"]) == (D("4000.00"), D("840.00"),
                                                                 D("4840.00"))
        assert (first["withholding_rate"], first["withholding"]) == (D("15.00"), D("600.00"))
        assert (first["invoice_type"], first["qualification"], first["operation_key"]) == (
            "F1", "S1", "01")
        assert (first["period"], first["issued_on"], first["operation_on"]) == (
            "1T", date(2026, 3, 2), None)
        assert (first["recipient_id_type"], first["recipient_country"],
                first["recipient_tax_id"], first["recipient_name"]) == (
            None, None, "B12345674", "Acme Ingeniería SL")
        assert (first["income_concept"], first["income"]) == ("I01", D("4000.00"))
        assert (first["activity_code"], first["activity_type"]) == ("A", "05")

    def test_a_mixed_rate_invoice_has_its_total_and_withholding_once(self):
        at21, at10 = self.rows[1], self.rows[2]
        assert (at21["base"], at21["vat"], at10["base"], at10["vat"]) == (
            D("1000.00"), D("210.00"), D("500.00"), D("50.00"))
        assert (at21["total"], at21["withholding"]) == (D("1760.00"), D("225.00"))
        assert (at10["total"], at10["withholding"], at10["withholding_rate"]) == (None, None, None)
        assert at21["operation_on"] == at10["operation_on"] == date(2026, 4, 30)
        assert at21["period"] == "2T"

    def test_the_eu_reverse_charge_invoice_is_not_subject_here(self):
        eu = self.rows[3]
        assert (eu["qualification"], eu["exemption"], eu["vat_rate"], eu["vat"]) == (
            "N2", None, D("0.00"), D("0.00"))
        assert eu["total"] == eu["base"] == D("2500.00")
        assert (eu["recipient_id_type"], eu["recipient_country"], eu["recipient_tax_id"]) == (
            "02", "DE", "DE136695976")
        assert eu["withholding"] is None

    def test_the_corrective_invoice_is_its_own_negative_row_naming_what_it_corrects(self):
        void = self.rows[4]
        assert void["invoice_type"] == "R1"
        assert (void["base"], void["vat"], void["total"], void["withholding"]) == (
            D("-4000.00"), D("-840.00"), D("-4840.00"), D("-600.00"))
        assert void["external_reference"] == "Rectifica F-2026-001 de 02/03/2026: Servicio cancelado"
        assert void["period"] == "3T"
        assert all(r["external_reference"] is None for r in self.rows[:4])

    def test_the_amount_columns_add_up_to_the_year(self):
        assert sum(r["base"] for r in self.rows) == YEAR_BASE
        assert sum(r["income"] for r in self.rows) == YEAR_BASE
        assert sum(r["vat"] for r in self.rows) == YEAR_VAT
        assert sum(r["total"] or 0 for r in self.rows) == YEAR_TOTAL
        assert sum(r["withholding"] or 0 for r in self.rows) == YEAR_WITHHELD

    def test_another_year_has_its_own_book(self):
        assert [r["number"] for r in book_rows(VIEWS, 2025)] == ["014"]
        assert book_rows(VIEWS, 2027) == []


def test_invoices_of_one_day_follow_their_numbers_past_999():
    late = view("F-2026-1000", date(2026, 12, 1), ACME, [("21", "1.00", "0.21")])
    early = view("F-2026-999", date(2026, 12, 1), ACME, [("21", "1.00", "0.21")])
    assert [r["number"] for r in book_rows([late, early], 2026)] == ["999", "1000"]


@pytest.mark.parametrize(("recipient", "taxation", "exemption", "expected"), [
    (party("Example Inc", "98-7654321", "US"), "not-subject", "",
     ("N2", None, "01", "04", "US", "98-7654321")),
    (party("Acme Ingeniería SL", "ESB12345674", "ES"), "reverse-charge", "",
     ("S2", None, "01", None, None, "B12345674")),
    (party("Clínica SL", "B12345674", "ES"), "exempt", "Art. 20.Uno.3º Ley 37/1992",
     (None, "E1", "01", None, None, "B12345674")),
    (party("Example Inc", "98-7654321", "US"), "exempt", "artículo 21 LIVA",
     (None, "E2", "02", "04", "US", "98-7654321")),
    (party("Ελληνική ΑΕ", "EL094259216", "EL"), "reverse-charge", "",
     ("N2", None, "01", "02", "GR", "EL094259216")),
])
def test_how_each_taxation_is_qualified(recipient, taxation, exemption, expected):
    (row,) = book_rows([view("F-2026-009", date(2026, 2, 1), recipient, [("0", "100.00", "0.00")],
                             taxation=taxation, exemption=exemption)], 2026)
    assert (row["qualification"], row["exemption"], row["operation_key"], row["recipient_id_type"],
            row["recipient_country"], row["recipient_tax_id"]) == expected


def test_the_activity_can_be_named():
    (row,) = book_rows([DOMESTIC], 2026, activity=Activity("A", "04", "0861"))
    assert (row["activity_code"], row["activity_type"], row["activity_group"]) == ("A", "04", "0861")


def test_the_csv_reads_back_with_the_published_columns_and_the_years_sums():
    out = io.StringIO(newline="")
    write_csv(book_rows(VIEWS, 2026), out)
    lines = list(csv.reader(io.StringIO(out.getvalue(), newline=""), delimiter=";"))
    head, body = lines[0], lines[1:]
    expected_head = [g if s is None else f"{g} - {s}" for g, s in PUBLISHED]
    assert head == expected_head
    assert len(body) == 5 and all(len(line) == 36 for line in body)

    def amounts(name: str) -> list[Decimal]:
        return [D(line[column(name)].replace(",", ".")) for line in body if line[column(name)]]

    assert sum(amounts("Base Imponible")) == YEAR_BASE
    assert sum(amounts("Cuota IVA Repercutida")) == YEAR_VAT
    assert sum(amounts("Total Factura")) == YEAR_TOTAL
    assert sum(amounts("Importe Retenido del IRPF")) == YEAR_WITHHELD
    first = body[0]
    assert first[column("Base Imponible")] == "4000,00"
    assert first[column("Cuota IVA Repercutida")] == "840,00"
    assert first[column("Total Factura")] == "4840,00"
    assert first[column("Importe Retenido del IRPF")] == "600,00"
    assert datetime.strptime(first[column("Fecha Expedición")], "%d/%m/%Y").date() == date(2026, 3, 2)
    assert body[1][column("Fecha Operación")] == "30/04/2026"
    assert body[4][column("Referencia Externa")].startswith("Rectifica F-2026-001")
    assert "F-2025-014" not in out.getvalue() and "014" not in {b[column(
        "Identificación de la Factura", "Número")] for b in body}


def test_the_workbook_reads_back_with_numbers_dates_and_the_published_headings(tmp_path):
    path = tmp_path / "book.xlsx"
    write_xlsx(book_rows(VIEWS, 2026), path)
    sheet = load_workbook(path).active
    assert sheet.title == "EXPEDIDAS_INGRESOS"
    top = [c.value for c in sheet[1]]
    sub = [c.value for c in sheet[2]]
    for index, (group, name) in enumerate(PUBLISHED):
        if name is None:  # a column of its own: named in row 1, its two heading rows merged
            assert top[index] == group and sub[index] is None
        else:  # a group: named once in row 1 over its columns, each named in row 2
            assert sub[index] == name
            first_of_group = index == 0 or PUBLISHED[index - 1][0] != group
            assert top[index] == (group if first_of_group else None)
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert {"A1:B1", "C1:E1", "F1:F2", "K1:M1", "AA1:AD1", "AH1:AI1", "AJ1:AJ2"} <= merged

    body = list(sheet.iter_rows(min_row=3))
    assert len(body) == 5

    def amounts(name: str) -> list[Decimal]:
        cells = [row[column(name)] for row in body if row[column(name)].value is not None]
        assert all(c.data_type == "n" and c.number_format == "0.00" for c in cells)
        return [D(str(c.value)) for c in cells]

    assert sum(amounts("Base Imponible")) == YEAR_BASE
    assert sum(amounts("Ingreso Computable")) == YEAR_BASE
    assert sum(amounts("Cuota IVA Repercutida")) == YEAR_VAT
    assert sum(amounts("Total Factura")) == YEAR_TOTAL
    assert sum(amounts("Importe Retenido del IRPF")) == YEAR_WITHHELD
    assert amounts("Tipo de IVA") == [D(21), D(21), D(10), D(0), D(21)]

    issued = [row[column("Fecha Expedición")] for row in body]
    assert all(c.is_date for c in issued)
    assert [c.value.date() for c in issued] == [date(2026, 3, 2), date(2026, 5, 10),
                                               date(2026, 5, 10), date(2026, 7, 1),
                                               date(2026, 8, 15)]
    assert body[1][column("Fecha Operación")].value.date() == date(2026, 4, 30)
    assert body[0][column("Fecha Operación")].value is None
    assert body[0][column("Autoliquidación", "Ejercicio")].value == 2026
    assert body[0][column("Autoliquidación", "Periodo")].value == "1T"
    assert body[3][column("NIF Destinatario", "Identificación")].value == "DE136695976"
    assert body[3][column("Calificación de la Operación")].value == "N2"
    assert body[4][column("Tipo de Factura")].value == "R1"


def test_the_json_rows_name_every_column_with_amounts_as_strings():
    rows = as_json(book_rows(VIEWS, 2026))
    text = json.loads(json.dumps(rows))
    assert len(text) == 5 and len(text[0]) == 36
    assert (text[0]["base"], text[0]["vat"], text[0]["total"], text[0]["withholding"]) == (
        "4000.00", "840.00", "4840.00", "600.00")
    assert text[0]["issued_on"] == "2026-03-02" and text[2]["total"] is None
    assert sum(D(r["base"]) for r in text) == YEAR_BASE


def test_the_file_is_named_as_the_aeat_names_it():
    assert file_name(2026, "12345678Z", "Ana Freelance") == "202612345678ZUAna Freelance.xlsx"
    assert file_name(2026, "12345678Z", "A/B: C", ".csv") == "202612345678ZUAB C.csv"
