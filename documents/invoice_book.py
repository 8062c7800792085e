"""The book of issued invoices (libro registro de facturas expedidas) in the AEAT's layout.

The Spanish tax agency publishes one electronic format for the VAT and income-tax record books
("Formato electrónico común de los Libros Registro del IVA y del IRPF"); a freelancer asked for
their books hands them over as .xlsx or as CSV separated by semicolons. This module writes the
unified book of issued invoices and income (sheet EXPEDIDAS_INGRESOS, book type U) from the
plain invoice views the domain side gives: one row per invoice and VAT rate, as the layout has
one row per tax rate. It reads nothing and decides no tax: every amount is the view's, signed as
the view signs it (a corrective invoice by differences carries its own negative amounts). An
invoice whose billing record was cancelled (void, ADR-66) keeps its row, as the series has no
gaps, with zero amounts and "Anulada …" in the external reference (ADR-67).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import IO, Any

CENT = Decimal("0.01")
SHEET = "EXPEDIDAS_INGRESOS"
BOOK_TYPE = "U"  # unified: issued invoices (VAT) and sales and income (income tax)
COLLECTION = ("Cobro (Operación Criterio de Caja de IVA y/o artículo 7.2.1º de Reglamento "
              "del IRPF)")

# (group, column, key): the published columns in the published order; a column of its own
# has no sub-heading. The key names the value in a row dict and in --json.
COLUMNS: tuple[tuple[str, str | None, str], ...] = (
    ("Autoliquidación", "Ejercicio", "year"),
    ("Autoliquidación", "Periodo", "period"),
    ("Actividad", "Código", "activity_code"),
    ("Actividad", "Tipo", "activity_type"),
    ("Actividad", "Grupo o Epígrafe del IAE", "activity_group"),
    ("Tipo de Factura", None, "invoice_type"),
    ("Concepto de Ingreso", None, "income_concept"),
    ("Ingreso Computable", None, "income"),
    ("Fecha Expedición", None, "issued_on"),
    ("Fecha Operación", None, "operation_on"),
    ("Identificación de la Factura", "Serie", "series"),
    ("Identificación de la Factura", "Número", "number"),
    ("Identificación de la Factura", "Número-Final", "last_number"),
    ("NIF Destinatario", "Tipo", "recipient_id_type"),
    ("NIF Destinatario", "Código País", "recipient_country"),
    ("NIF Destinatario", "Identificación", "recipient_tax_id"),
    ("Nombre Destinatario", None, "recipient_name"),
    ("Clave de Operación", None, "operation_key"),
    ("Calificación de la Operación", None, "qualification"),
    ("Operación Exenta", None, "exemption"),
    ("Total Factura", None, "total"),
    ("Base Imponible", None, "base"),
    ("Tipo de IVA", None, "vat_rate"),
    ("Cuota IVA Repercutida", None, "vat"),
    ("Tipo de Recargo Eq.", None, "surcharge_rate"),
    ("Cuota Recargo Eq.", None, "surcharge"),
    (COLLECTION, "Fecha", "collected_on"),
    (COLLECTION, "Importe", "collected"),
    (COLLECTION, "Medio Utilizado", "collection_means"),
    (COLLECTION, "Identificación Medio Utilizado", "collection_account"),
    ("Tipo Retención del IRPF", None, "withholding_rate"),
    ("Importe Retenido del IRPF", None, "withholding"),
    ("Registro Acuerdo Facturación", None, "billing_agreement"),
    ("Inmueble", "Situación", "property_situation"),
    ("Inmueble", "Referencia Catastral", "cadastral_reference"),
    ("Referencia Externa", None, "external_reference"),
)
KEYS = tuple(key for _, _, key in COLUMNS)
AMOUNTS = frozenset({"income", "total", "base", "vat_rate", "vat", "surcharge_rate", "surcharge",
                     "collected", "withholding_rate", "withholding"})
DATES = frozenset({"issued_on", "operation_on", "collected_on"})

HOME = "ES"
EU = frozenset({"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR",
                "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI",
                "SK"})
# the identification types of the AEAT's list (as in SII): 02 NIF-IVA, 04 an official document
# of the country of residence
EU_VAT_NUMBER, FOREIGN_ID = "02", "04"
# the article of the VAT law (Ley 37/1992) an exemption rests on -> the book's exemption key
EXEMPTION_KEYS = {20: "E1", 21: "E2", 22: "E3", 23: "E4", 24: "E4", 25: "E5"}
GENERAL_REGIME, EXPORT = "01", "02"


@dataclass(frozen=True)
class Activity:
    """The activity a row belongs to: A 05 is an IAE activity, "resto de actividades profesionales"."""

    code: str = "A"
    kind: str = "05"
    group: str = ""  # the IAE group or heading, 4 characters, when the freelancer gives it


def header() -> list[str]:
    """The column names in one line, a sub-column named after its group: "Autoliquidación - Periodo"."""
    return [group if column is None else f"{group} - {column}" for group, column, _ in COLUMNS]


def book_rows(views: Iterable[Mapping[str, Any]], year: int, *,
              activity: Activity = Activity()) -> list[dict[str, Any]]:
    """The rows of `year`'s book: its invoices and corrective invoices by issue date and number,
    one row per VAT rate; what belongs to the whole invoice (its total, the withholding) is
    written once, on its first row, so every amount column adds up to the year's figure."""
    issued = sorted((v for v in views if v["issued_on"].year == year),
                    key=lambda v: (v["issued_on"], _natural(v["number"])))
    return [row for view in issued for row in _invoice_rows(view, activity)]


def write_csv(rows: Iterable[Mapping[str, Any]], out: IO[str]) -> None:
    """The book as the AEAT's CSV: semicolons, amounts with a decimal comma, dates dd/mm/yyyy.
    `out` is a text stream opened with newline=""."""
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header())
    for row in rows:
        writer.writerow([_csv_cell(key, row.get(key)) for key in KEYS])


def write_xlsx(rows: Iterable[Mapping[str, Any]], path: str | Path | IO[bytes]) -> None:
    """The book as an .xlsx workbook: the two heading rows of the published layout, then amounts
    as numbers with two decimals and dates as dates, so the spreadsheet can add and filter."""
    from openpyxl import Workbook  # imported here: only this command pays for it
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    _write_heading(sheet, Font(bold=True), Alignment(horizontal="center", vertical="center",
                                                     wrap_text=True))
    for number, row in enumerate(rows, start=3):
        for column, key in enumerate(KEYS, start=1):
            value = row.get(key)
            if value is None or value == "":
                continue
            cell = sheet.cell(row=number, column=column, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # a client's name "=HYPERLINK(…)" is text, never a formula
            if key in AMOUNTS:
                cell.number_format = "0.00"
            elif key in DATES:
                cell.number_format = "DD/MM/YYYY"
    sheet.freeze_panes = "A3"
    workbook.save(path)


def as_json(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rows for --json: every column by key, amounts as strings, dates ISO, blanks null."""
    return [{key: _json_value(row.get(key)) for key in KEYS} for row in rows]


def file_name(year: int, tax_id: str, name: str, suffix: str = ".xlsx") -> str:
    """The name the AEAT gives the file: year, the holder's tax id, the book type and the name."""
    cleaned = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "", f"{year}{tax_id}{BOOK_TYPE}{name}")
    return cleaned + suffix


def _invoice_rows(view: Mapping[str, Any], activity: Activity) -> list[dict[str, Any]]:
    issued_on: date = view["issued_on"]
    operation_on = view.get("operation_on")
    series, number = _split_number(view["number"])
    recipient = view["recipient"]
    id_type, country, tax_id = _recipient_id(recipient)
    qualification, exemption = _qualification(view)
    taxes = view.get("taxes") or [{"rate": Decimal(0), "base": view["base"], "vat": view["vat"]}]
    common = {
        "year": issued_on.year,
        "period": f"{(issued_on.month - 1) // 3 + 1}T",
        "activity_code": activity.code,
        "activity_type": activity.kind,
        "activity_group": activity.group or None,
        "invoice_type": "R1" if view["kind"] == "corrective" else "F1",
        "income_concept": "I01",
        "issued_on": issued_on,
        "operation_on": operation_on if operation_on not in (None, issued_on) else None,
        "series": series or None,
        "number": number,
        "recipient_id_type": id_type,
        "recipient_country": country,
        "recipient_tax_id": tax_id,
        "recipient_name": recipient.get("name") or None,
        "operation_key": EXPORT if exemption == "E2" else GENERAL_REGIME,
        "qualification": qualification,
        "exemption": exemption,
        "external_reference": _corrects(view),
    }
    cancelled_on = view.get("cancelled_on")
    if cancelled_on is not None:  # void: its number stays in the series, its amounts count for nothing
        common["external_reference"] = f"Anulada: registro de facturación anulado el {cancelled_on:%d/%m/%Y}"
    counted = _money if cancelled_on is None else _nothing
    withholding = counted(view.get("withholding") or 0)
    rows = []
    for first, tax in zip([True] + [False] * (len(taxes) - 1), taxes, strict=True):
        base = counted(tax["base"])
        row = dict.fromkeys(KEYS)
        row.update(common, income=base, base=base, vat_rate=_money(tax["rate"]),
                   vat=counted(tax["vat"]))
        if first:
            row["total"] = counted(view["total"])
            if withholding:
                row["withholding_rate"] = _money(view["withholding_rate"])
                row["withholding"] = withholding
        rows.append(row)
    return rows


def _qualification(view: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """S1 charged here; S2 reverse charge at home; N2 not subject here by the place-of-supply
    rules (services to an EU business, or outside the EU); an exempt operation has its E key."""
    taxation = view.get("taxation", "domestic")
    if taxation == "domestic":
        return "S1", None
    if taxation == "reverse-charge":
        home = (view["recipient"].get("country") or HOME) == (view["issuer"].get("country") or HOME)
        return ("S2" if home else "N2"), None
    if taxation == "not-subject":
        return "N2", None
    if taxation == "exempt":
        return None, _exemption_key(view.get("exemption") or "")
    return None, None  # "untaxed": an invoice recorded before tratos knew taxes


def _exemption_key(exemption: str) -> str:
    if re.fullmatch(r"E[1-6]", exemption.strip()):
        return exemption.strip()
    article = re.search(r"\bart(?:[íi]culo|\.)?\s*(\d+)", exemption, re.IGNORECASE)
    return EXEMPTION_KEYS.get(int(article.group(1)), "E6") if article else "E6"


def _recipient_id(recipient: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    """A Spanish NIF alone; an EU VAT number as NIF-IVA with its country; another id as an
    official document of the country of residence."""
    tax_id = (recipient.get("tax_id") or "").strip().upper() or None
    country = (recipient.get("country") or HOME).strip().upper()
    country = "GR" if country == "EL" else country
    if country == HOME:
        if tax_id and tax_id.startswith(HOME) and len(tax_id) == 11:
            tax_id = tax_id[2:]
        return None, None, tax_id
    if tax_id is None:
        return None, country, None
    return (EU_VAT_NUMBER if country in EU else FOREIGN_ID), country, tax_id


def _corrects(view: Mapping[str, Any]) -> str | None:
    """The layout has no column for the invoice a corrective one corrects: it goes here."""
    corrects = view.get("corrects")
    if view["kind"] != "corrective" or not corrects:
        return None
    said = f"Rectifica {corrects['number']} de {corrects['issued_on']:%d/%m/%Y}"
    reason = (view.get("reason") or "").strip()
    return f"{said}: {reason}" if reason else said


def _split_number(number: str) -> tuple[str, str]:
    """F-2026-001 is number 001 of series F-2026: the series is per prefix and year."""
    series, _, last = number.rpartition("-")
    return series, last


def _natural(number: str) -> tuple[Any, ...]:
    """F-2026-1000 after F-2026-999."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.split(r"(\d+)", number) if part)


def _money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _nothing(value: Decimal | int | str) -> Decimal:
    """What a void invoice counts in the book."""
    return Decimal("0.00")


def _csv_cell(key: str, value: Any) -> str:
    if value is None:
        return ""
    if key in AMOUNTS:
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return inert(str(value))


# What a spreadsheet opening a CSV reads as a formula when a cell starts with it (OWASP, "CSV
# injection"): a client's name typed as '=HYPERLINK("http://…"&A1)' would run in the reader's sheet.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(text: str) -> str:
    """A text cell no spreadsheet runs: one starting like a formula gets a leading single quote,
    which spreadsheets show as text and do not display."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _write_heading(sheet: Any, bold: Any, centred: Any) -> None:
    """Row 1 names each column or group of columns, row 2 the columns of a group, as published."""
    start = 1
    while start <= len(COLUMNS):
        group, column, _ = COLUMNS[start - 1]
        end = start
        while column is not None and end < len(COLUMNS) and COLUMNS[end][0] == group:
            end += 1
        sheet.cell(row=1, column=start, value=group)
        if column is None:
            sheet.merge_cells(start_row=1, start_column=start, end_row=2, end_column=start)
        else:
            for index in range(start, end + 1):
                sheet.cell(row=2, column=index, value=COLUMNS[index - 1][1])
            if end > start:
                sheet.merge_cells(start_row=1, start_column=start, end_row=1, end_column=end)
        start = end + 1
    for row in sheet.iter_rows(min_row=1, max_row=2):
        for cell in row:
            cell.font, cell.alignment = bold, centred
