"""Each billing record states the Verifactu mode it was made in (ADR-78): the thirteenth run's last
defect, and the cases ADR-74/76 left, fixed at the root.

A record's invoice prints the mode of its record, whatever identity.json says in a later year; a
batch for the agency holds the records made in VERI*FACTU mode only; identity.json edited by hand
to the other mode, or a store imported into a home of the other mode, makes no record of that
year (nor prints or sends one); and a history whose mode changes within a year is refused.

Refusals are one `error:` line, their exit code and the store unchanged, on both backends. The
QR code is read back from the rendered page by zxing-cpp, as a phone would.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from cli_support import (
    edit_identity,
    home_beside,
    ok,
    open_store,
    refused,
    run,
)
from pypdf import PdfReader

KEYED = {"TRATOS_KEY_PASSPHRASE": "s3cret passphrase"}
NEXT_YEAR = {**KEYED, "TRATOS_TODAY": "2027-01-04"}
NIF = "12345678Z"
TO_VERIFACTU = ("identity", "invoicing", "--verifactu-mode", "verifactu")
LEGEND = "Factura verificable en la sede electrónica de la AEAT"
QR = "https://www2.agenciatributaria.gob.es/wlpl/TIKE-CONT/ValidarQR?"
QR_KEPT = "https://www2.agenciatributaria.gob.es/wlpl/TIKE-CONT/ValidarQRNoVerifactu?"


def modes(home: Path) -> list[tuple[str, str]]:
    """Each record of the chain: its invoice's number and the mode it states."""
    app = open_store(home)
    try:
        return [(record.invoice_number, record.mode) for record in _records(app)]
    finally:
        app.close()


def _records(app) -> list:
    from domain.model.streams import records_id

    return [app.mapper.to_domain_event(stored) for stored in app.recorder.select_events(records_id(NIF))]


def printed(home: Path, number: str, tmp_path: Path, env: dict) -> tuple[str, str]:
    """The invoice's PDF as printed now: its text and the URL its QR code holds."""
    out = tmp_path / f"{number}.pdf"
    ok(home, "pdf", "invoice", "acme", number, "--unsigned", "-o", str(out), env=env)
    page = pypdfium2.PdfDocument(str(out))[0]
    [code] = zxingcpp.read_barcodes(page.render(scale=200 / 72).to_pil())
    return " ".join(" ".join(p.extract_text() for p in PdfReader(out).pages).split()), code.text


def test_a_record_kept_here_says_so(kept: Path) -> None:
    assert modes(kept) == [("F-2026-001", "no-verifactu")]


def test_a_record_for_the_agency_says_so(sent: Path) -> None:
    assert modes(sent) == [("F-2026-001", "verifactu")]


# ------------------------------------------------------------------ a switch on 1 January, done as documented

def test_a_year_kept_here_stays_kept_after_a_switch_to_verifactu(kept: Path, tmp_path: Path) -> None:
    ok(kept, *TO_VERIFACTU, env=NEXT_YEAR)
    ok(kept, "invoice", "issue", "acme", "--installment", "2", "--on", "2027-01-04", env=NEXT_YEAR)
    assert modes(kept) == [("F-2026-001", "no-verifactu"), ("F-2027-001", "verifactu")]

    old_text, old_url = printed(kept, "F-2026-001", tmp_path, NEXT_YEAR)
    new_text, new_url = printed(kept, "F-2027-001", tmp_path, NEXT_YEAR)
    assert old_url.startswith(QR_KEPT) and LEGEND not in old_text
    assert new_url.startswith(QR) and LEGEND in new_text

    batch = tmp_path / "batch.xml"
    assert ok(kept, "verifactu", "submission", "-o", str(batch), env=NEXT_YEAR).stdout.startswith(
        f"Wrote records 2 to 2 of {NIF} (1)")
    xml = batch.read_text(encoding="utf-8")
    assert xml.count("<sf:RegistroAlta>") == 1 and "F-2027-001" in xml  # F-2026-001 only as the one before it
    ok(kept, "verifactu", "sent", str(batch), "--csv", "A-TEST0000000001", "--on", "2027-01-04", env=NEXT_YEAR)
    refused(kept, ("verifactu", "submission", "-o", str(tmp_path / "again.xml")), 1,
            f"nothing to send: every billing record of {NIF} was sent (2 records, 1 of them made in no-verifactu"
            " mode and kept here)", env=NEXT_YEAR)
    assert ok(kept, "audit", "verify", env=NEXT_YEAR).code == 0


def test_a_verifactu_year_is_still_printed_and_sent_so_after_a_switch_to_kept_records(sent: Path,
                                                                                     tmp_path: Path) -> None:
    ok(sent, "identity", "invoicing", "--verifactu-mode", "no-verifactu", env=NEXT_YEAR)
    text, url = printed(sent, "F-2026-001", tmp_path, NEXT_YEAR)
    assert url.startswith(QR) and LEGEND in text

    batch = tmp_path / "late.xml"  # the records of the VERI*FACTU year not sent yet: sent late, but sent
    assert ok(sent, "verifactu", "submission", "-o", str(batch), env=NEXT_YEAR).stdout.startswith(
        f"Wrote records 1 to 1 of {NIF} (1)")
    ok(sent, "invoice", "issue", "acme", "--installment", "2", "--on", "2027-01-04", env=NEXT_YEAR)
    assert modes(sent) == [("F-2026-001", "verifactu"), ("F-2027-001", "no-verifactu")]
    ok(sent, "verifactu", "sent", str(batch), "--csv", "A-TEST0000000001", "--on", "2027-01-04", env=NEXT_YEAR)
    refused(sent, ("verifactu", "submission", "-o", str(tmp_path / "kept.xml")), 1,
            "your invoices say their records are kept here (no-verifactu)", env=NEXT_YEAR)


def test_what_was_sent_and_kept_goes_through_export_and_import(kept: Path, empty_store, tmp_path: Path) -> None:
    ok(kept, *TO_VERIFACTU, env=NEXT_YEAR)
    ok(kept, "invoice", "issue", "acme", "--installment", "2", "--on", "2027-01-04", env=NEXT_YEAR)
    batch = tmp_path / "batch.xml"
    ok(kept, "verifactu", "submission", "-o", str(batch), env=NEXT_YEAR)
    ok(kept, "verifactu", "sent", str(batch), "--csv", "A-TEST0000000001", "--on", "2027-01-04", env=NEXT_YEAR)
    export = tmp_path / "all.jsonl"
    ok(kept, "export", str(export), env=NEXT_YEAR)

    with home_beside(kept, empty_store) as other:
        ok(other, "import", str(export), env=NEXT_YEAR)
        assert modes(other) == [("F-2026-001", "no-verifactu"), ("F-2027-001", "verifactu")]
        app = open_store(other)
        try:
            from domain.model.streams import submissions_id

            [batch_sent] = [app.mapper.to_domain_event(e) for e in app.recorder.select_events(submissions_id(NIF))]
        finally:
            app.close()
        assert (batch_sent.kept, batch_sent.first, batch_sent.last) == (1, 2, 2)


# ------------------------------------------------------------------ identity.json of the other mode

@pytest.mark.parametrize("args", [
    ("invoice", "issue", "acme", "--installment", "2", "--on", "2026-02-15"),
    ("verifactu", "cancel", "F-2026-001", "--on", "2026-02-15"),
    ("pdf", "invoice", "acme", "F-2026-001", "-o", "again.pdf"),
], ids=["issue", "cancel", "invoice-pdf"])
def test_a_store_kept_in_verifactu_mode_and_edited_to_kept_records_makes_no_record(sent: Path,
                                                                                  args: tuple[str, ...]) -> None:
    # no event log says which mode ran (VERI*FACTU keeps none): the records say it
    edit_identity(sent, verifactu_mode="no-verifactu")
    refused(sent, args, 1, "identity.json says no-verifactu mode, but your billing records of 2026 were made in"
                           " verifactu mode", env=KEYED)


def test_a_store_imported_into_a_home_of_the_other_mode_makes_no_record_of_its_year(sent: Path, empty_store,
                                                                                   tmp_path: Path) -> None:
    export = tmp_path / "verifactu.jsonl"
    ok(sent, "export", str(export), env=KEYED)
    with home_beside(sent, empty_store) as other:
        ok(other, "import", str(export), env=KEYED)
        edit_identity(other, verifactu_mode="no-verifactu")  # the new home's own choice, the default
        refused(other, ("invoice", "issue", "acme", "--installment", "2", "--on", "2026-02-15"), 1,
                "your billing records of 2026 were made in verifactu mode", env=KEYED)
        ok(other, *TO_VERIFACTU, env=KEYED)  # the same mode again: nothing to switch
        ok(other, "invoice", "issue", "acme", "--installment", "2", "--on", "2026-02-15", env=KEYED)
        assert modes(other) == [("F-2026-001", "verifactu"), ("F-2026-002", "verifactu")]


# ------------------------------------------------------------------ a history the domain never makes

def test_a_chain_whose_mode_changes_within_a_year_is_refused() -> None:
    from domain.model.billing_records import BillingRecords
    from domain.model.errors import ImpossibleHistory, Refused
    from domain.model.record_values import SoftwareSystem, TaxDetail
    from domain.model.replay import redecide

    system = SoftwareSystem(producer_name="Ana García", producer_nif=NIF, version="t", installation=f"{NIF}-1")

    def register(chain: BillingRecords, number: str, made_at: str, mode: str):
        return chain.register(issuer_nif=NIF, issuer_name="Ana García", invoice_number=number,
                              issued_on="15-01-2026", invoice_type="F1", description="Work",
                              breakdown=[TaxDetail(qualification="S1", rate="21.00", base="100.00", vat="21.00")],
                              tax_total="21.00", total="121.00", generated_at=made_at, system=system, mode=mode,
                              occurred_on=date(2026, 1, 15))

    chain = BillingRecords.of(NIF)
    first = register(chain, "F-2026-001", "2026-01-15T12:00:00+01:00", "verifactu")
    with pytest.raises(Refused, match="records of 2026 were made in verifactu mode"):
        register(chain, "F-2026-002", "2026-12-31T23:59:00+01:00", "no-verifactu")
    assert chain.version == 1
    register(chain, "F-2027-001", "2027-01-01T00:00:00+01:00", "no-verifactu")  # a new year, a new mode

    # the same change within a year, handed to import as if made so: refused, naming the stream and version
    honest = BillingRecords.of(NIF)
    register(honest, "F-2026-001", "2026-01-15T12:00:00+01:00", "verifactu")
    second = register(honest, "F-2026-002", "2026-02-15T12:00:00+01:00", "verifactu")
    replayed = BillingRecords.of(NIF)
    replayed.apply(first)
    with pytest.raises(ImpossibleHistory, match=f"stream {replayed.id} version 2: .*made in verifactu mode"):
        redecide(replayed, second.model_copy(update={"mode": "no-verifactu"}))
    with pytest.raises(ImpossibleHistory, match="unknown Verifactu mode"):
        redecide(replayed, second.model_copy(update={"mode": "both"}))
    redecide(replayed, second)
    assert replayed.last_mode == "verifactu"


def test_a_record_made_before_records_said_their_mode_is_read_by_its_signature() -> None:
    from domain.model.billing_records import made_in

    class Old:
        mode = ""

    signed, unsigned = Old(), Old()
    signed.signature, unsigned.signature = "<ds:Signature/>", ""
    assert (made_in(signed), made_in(unsigned)) == ("no-verifactu", "")


def test_a_batch_forged_to_send_a_record_kept_here_is_named_by_the_audit_and_not_imported(
        kept: Path, empty_store, tmp_path: Path) -> None:
    from forger import forge_state

    from domain.model.streams import submissions_id

    ok(kept, *TO_VERIFACTU, env=NEXT_YEAR)
    ok(kept, "invoice", "issue", "acme", "--installment", "2", "--on", "2027-01-04", env=NEXT_YEAR)
    batch = tmp_path / "batch.xml"
    ok(kept, "verifactu", "submission", "-o", str(batch), env=NEXT_YEAR)
    ok(kept, "verifactu", "sent", str(batch), "--csv", "A-TEST0000000001", "--on", "2027-01-04", env=NEXT_YEAR)

    def sends_the_kept_record(state: dict) -> None:  # records 1 to 2 sent, none kept: as Submissions alone allows
        state.update(first=1, kept=0)

    app = open_store(kept)
    try:
        forge_state(app, submissions_id(NIF), 1, sends_the_kept_record)
    finally:
        app.close()
    audit = run(kept, "audit", "verify", env=NEXT_YEAR)
    assert audit.code == 1 and "holds record 1, made in no-verifactu mode, which is kept here and never sent" \
        in audit.stdout + audit.stderr
    export = tmp_path / "forged.jsonl"
    ok(kept, "export", str(export), env=NEXT_YEAR)
    with home_beside(kept, empty_store) as other:
        refused(other, ("import", str(export)), 1, f"the batch sent of {NIF} (records 1 to 2) holds record 1, made"
                                                   " in no-verifactu mode", env=NEXT_YEAR)
