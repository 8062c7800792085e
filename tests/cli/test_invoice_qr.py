"""The Verifactu QR code and legend on the invoice PDF (Orden HAC/1177/2024 arts. 20-21), read back
as a person's phone would: the signed PDF rendered by pdfium, the code found and decoded by zxing-cpp.

The URL it must hold is written out here by hand from the agency's specification: its address, the
issuer's NIF, the number, the issue date dd-mm-yyyy and ImporteTotal (base plus VAT).
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from backends import StoreSpec
from cli_support import copied, ok, run
from demo_story import record_story
from pypdf import PdfReader

from documents.identity import create_identity

PASSPHRASE = "a long passphrase for tests"
KEYED = {"TRATOS_KEY_PASSPHRASE": PASSPHRASE}
DPI = 200
NO_VERIFACTU = "https://www2.agenciatributaria.gob.es/wlpl/TIKE-CONT/ValidarQRNoVerifactu"
VERIFACTU = "https://www2.agenciatributaria.gob.es/wlpl/TIKE-CONT/ValidarQR"
LEGEND = "Factura verificable en la sede electrónica de la AEAT"


def story(home: Path, spec: StoreSpec) -> None:
    """The demo story (F-2026-001 of 4000.00 at 0 % VAT to acme, ...), with a signing key."""
    record_story(home, spec)
    create_identity(home, name="Ana García Pérez", email="ana@garcia.example", passphrase=PASSPHRASE,
                    not_before=date(2026, 1, 1))


@pytest.fixture
def home(template, store: StoreSpec) -> Iterator[Path]:
    with copied(template(store.backend, "qr-story", story), store) as home:
        yield home


def printed(home: Path, number: str, tmp_path: Path) -> Path:
    out = tmp_path / f"{number}.pdf"
    ok(home, "pdf", "invoice", "acme", number, "-o", str(out), env=KEYED)
    return out


def codes(pdf: Path) -> list[zxingcpp.Result]:
    """Every barcode on the first page, rendered at 200 dpi."""
    page = pypdfium2.PdfDocument(str(pdf))[0]
    return zxingcpp.read_barcodes(page.render(scale=DPI / 72).to_pil())


def first_page_text(pdf: Path) -> str:
    return " ".join(PdfReader(io.BytesIO(pdf.read_bytes())).pages[0].extract_text().split())


def test_the_invoice_carries_the_qr_code_of_its_record(home, tmp_path):
    pdf = printed(home, "F-2026-001", tmp_path)
    [code] = codes(pdf)
    assert code.format == zxingcpp.BarcodeFormat.QRCode and code.ec_level == "M"
    # acme's first installment: 4000.00 at 0 % VAT, issued 15 January 2026 by 12345678Z
    assert code.text == f"{NO_VERIFACTU}?nif=12345678Z&numserie=F-2026-001&fecha=15-01-2026&importe=4000.00"
    text = first_page_text(pdf)
    assert text.startswith("QR tributario:") and LEGEND not in text  # a record kept here: no legend


def test_the_code_is_30_to_40_mm_wide_at_the_top_of_the_page(home, tmp_path):
    [code] = codes(printed(home, "F-2026-001", tmp_path))
    position = code.position
    width_mm = (position.top_right.x - position.top_left.x) / DPI * 25.4
    assert 30 <= width_mm <= 40, width_mm
    assert position.top_left.y / DPI * 25.4 < 60  # under the letterhead, above everything else


def test_a_corrective_invoice_carries_its_own_code(home, tmp_path):
    ok(home, "invoice", "correct", "acme", "F-2026-001", "--reason", "Hours billed twice", "--amount", "-100EUR",
       "--on", "2026-03-20", env=KEYED)  # its billing record is signed with the key (ADR-59)
    [code] = codes(printed(home, "R-2026-001", tmp_path))
    assert code.text == f"{NO_VERIFACTU}?nif=12345678Z&numserie=R-2026-001&fecha=20-03-2026&importe=-100.00"


def test_in_verifactu_mode_the_code_goes_to_the_agencys_register_with_the_legend(home, tmp_path):
    # the mode holds for a year (ADR-61): chosen before the year's first record, as if set in January
    identity = json.loads((home / "identity.json").read_text(encoding="utf-8"))
    (home / "identity.json").write_text(json.dumps({**identity, "verifactu_mode": "verifactu"}), encoding="utf-8")
    pdf = printed(home, "F-2026-001", tmp_path)
    [code] = codes(pdf)
    assert code.text == f"{VERIFACTU}?nif=12345678Z&numserie=F-2026-001&fecha=15-01-2026&importe=4000.00"
    assert LEGEND in first_page_text(pdf)


def test_the_signed_invoice_still_verifies(home, tmp_path):
    pdf = printed(home, "F-2026-001", tmp_path)
    assert run(home, "verify", str(pdf), env=KEYED).code == 0
    exe = shutil.which("pdfsig")
    if exe is None:
        pytest.skip("pdfsig (poppler-utils) is not installed")
    done = subprocess.run([exe, str(pdf)], capture_output=True, text=True, timeout=60)
    assert "Signature is Valid." in done.stdout and "Total document signed" in done.stdout


def test_an_invoice_recorded_before_billing_records_prints_no_code(home, tmp_path):
    """A store written before this version: the invoice has no record, so no code."""
    from cli_support import open_store

    from domain.model.streams import records_id

    app = open_store(home)
    try:
        assert app.recorder.select_events(records_id("12345678Z"), limit=1)
    finally:
        app.close()
    _forget_the_records(home)
    pdf = printed(home, "F-2026-001", tmp_path)
    assert codes(pdf) == [] and "QR tributario" not in first_page_text(pdf)


def _forget_the_records(home: Path) -> None:
    """Delete the chain of records, as in a store of a tratos before them."""
    from cli_support import open_store
    from forger import Forger

    from domain.model.streams import records_id

    app = open_store(home)
    try:
        forger = Forger(app)
        stream = records_id("12345678Z")
        forger.delete(stream, *range(1, forger.head(stream) + 1))
    finally:
        app.close()
