"""`tratos verifactu export / verify / cancel`: the billing records in the agency's XML, valid against
its XSDs (vendored in tests/fixtures/verifactu, ADR-50), and their chain checked from the file alone.

The fingerprints of an exported file are recomputed here by `recomputed_from_xml`, which uses only
hashlib and xml.etree: no tratos code, so the file stands on its own as the agency would read it.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree
from support import tratos
from verifactu_story import KEYED, NIF, SF, Ticking, client, identity_file, invoice, schema, valid


def recomputed_from_xml(path: Path) -> list[tuple[str, str, str]]:
    """(number, stated fingerprint, recomputed fingerprint) of every record, and each link checked:
    the agency's formula over the texts of the XML, with hashlib and xml.etree only."""
    found, previous = [], None
    for record in ET.parse(path).getroot().iter():
        if record.tag not in (SF + "RegistroAlta", SF + "RegistroAnulacion"):
            continue

        def text(*names: str, record=record) -> str:
            node = record
            for name in names:
                node = node.find(SF + name)
                if node is None:
                    return ""
            return (node.text or "").strip()

        chained = text("Encadenamiento", "RegistroAnterior", "Huella")
        assert chained == (previous or ""), "each record names the fingerprint of the one before it"
        if record.tag == SF + "RegistroAlta":
            number = text("IDFactura", "NumSerieFactura")
            fields = [("IDEmisorFactura", text("IDFactura", "IDEmisorFactura")), ("NumSerieFactura", number),
                      ("FechaExpedicionFactura", text("IDFactura", "FechaExpedicionFactura")),
                      ("TipoFactura", text("TipoFactura")), ("CuotaTotal", text("CuotaTotal")),
                      ("ImporteTotal", text("ImporteTotal"))]
        else:
            number = text("IDFactura", "NumSerieFacturaAnulada")
            fields = [("IDEmisorFacturaAnulada", text("IDFactura", "IDEmisorFacturaAnulada")),
                      ("NumSerieFacturaAnulada", number),
                      ("FechaExpedicionFacturaAnulada", text("IDFactura", "FechaExpedicionFacturaAnulada"))]
        fields += [("Huella", chained), ("FechaHoraHusoGenRegistro", text("FechaHoraHusoGenRegistro"))]
        digest = hashlib.sha256("&".join(f"{k}={v}" for k, v in fields).encode()).hexdigest().upper()
        stated = text("Huella")
        found.append((number, stated, digest))
        previous = stated
    return found


class TestExport:
    def test_the_export_is_valid_against_the_agencys_schemas(self, billed, store, tmp_path):
        out = tmp_path / "verifactu-2026.xml"
        outcome = tratos(store, "verifactu", "export", "--year", "2026", "-o", str(out))
        assert outcome.code == 0, outcome.stderr
        assert outcome.stdout == f"Exported 6 billing records of 2026 to {out}\n"
        valid(out)

    def test_every_fingerprint_is_recomputed_from_the_file_alone(self, billed, store, tmp_path):
        out = tmp_path / "verifactu-2026.xml"
        tratos(store, "verifactu", "export", "--year", "2026", "-o", str(out))
        records = recomputed_from_xml(out)
        assert [n for n, _, _ in records] == ["F-2026-001", "F-2026-002", "R-2026-001", "F-2026-003",
                                               "F-2026-003", "F-2026-004"]
        assert all(stated == computed for _, stated, computed in records)

    def test_a_cancelled_invoice_stays_in_the_chain_with_its_cancellation_after_it(self, billed, store, tmp_path):
        out = tmp_path / "verifactu-2026.xml"
        tratos(store, "verifactu", "export", "--year", "2026", "-o", str(out))
        kinds = [(r.tag.removeprefix(SF), r.find(f"{SF}IDFactura")[1].text)
                 for r in ET.parse(out).getroot().iter() if r.tag in (SF + "RegistroAlta", SF + "RegistroAnulacion")]
        assert kinds[3:5] == [("RegistroAlta", "F-2026-003"), ("RegistroAnulacion", "F-2026-003")]

    def test_the_corrective_invoice_names_the_invoice_it_corrects(self, billed, store, tmp_path):
        out = tmp_path / "verifactu-2026.xml"
        tratos(store, "verifactu", "export", "--year", "2026", "-o", str(out))
        text = out.read_text()
        assert ("<sf:TipoFactura>R1</sf:TipoFactura><sf:TipoRectificativa>I</sf:TipoRectificativa>"
                "<sf:FacturasRectificadas><sf:IDFacturaRectificada><sf:IDEmisorFactura>12345678Z</sf:IDEmisorFactura>"
                "<sf:NumSerieFactura>F-2026-001</sf:NumSerieFactura>"
                "<sf:FechaExpedicionFactura>10-01-2026</sf:FechaExpedicionFactura>") in text
        assert "<sf:PrimerRegistro>S</sf:PrimerRegistro>" in text  # the chain's first record

    def test_standard_output_without_a_file(self, billed, store):
        outcome = tratos(store, "verifactu", "export", "--year", "2026")
        assert outcome.code == 0 and outcome.stdout.startswith('<?xml version="1.0" encoding="UTF-8"?>')
        assert outcome.stdout.count("<sfLR:RegistroFactura>") == 6

    def test_a_year_without_records_writes_nothing_and_exits_1(self, billed, store, tmp_path):
        out = tmp_path / "verifactu-2025.xml"
        outcome = tratos(store, "verifactu", "export", "--year", "2025", "-o", str(out))
        assert (outcome.code, outcome.stderr) == (
            1, "error: no billing records were generated in 2025: nothing to export\n")
        assert not out.exists()


class TestVerify:
    def test_the_store_and_its_export_verify(self, billed, store, tmp_path):
        out = tmp_path / "verifactu-2026.xml"
        tratos(store, "verifactu", "export", "--year", "2026", "-o", str(out))
        assert tratos(store, "verifactu", "verify").stdout == ("records:12345678Z  6 records  OK\n"
                                                                "records:12345678Z  signatures: 0 valid, 6 unsigned\n")
        outcome = tratos(store, "verifactu", "verify", str(out))
        assert (outcome.code, outcome.stdout) == (0, "verifactu-2026.xml  6 records  OK\n"
                                                     "verifactu-2026.xml  signatures: 0 valid, 6 unsigned\n")

    def test_an_amount_edited_in_the_file_names_that_record(self, billed, store, tmp_path):
        out = tmp_path / "verifactu-2026.xml"
        tratos(store, "verifactu", "export", "--year", "2026", "-o", str(out))
        text = out.read_text()
        # north's first invoice: 250.50 at the test profile's 0 % VAT
        assert text.count("<sf:ImporteTotal>250.50</sf:ImporteTotal>") == 1
        out.write_text(text.replace("<sf:ImporteTotal>250.50</sf:ImporteTotal>",
                                    "<sf:ImporteTotal>2250.50</sf:ImporteTotal>"))
        outcome = tratos(store, "verifactu", "verify", str(out))
        assert outcome.code == 1
        assert outcome.stderr == ("error: the billing records do not verify: verifactu-2026.xml record 2, the"
                                  " registration record of F-2026-002: its fingerprint does not match its content\n")

    def test_a_record_taken_out_of_the_file_breaks_the_chain_at_the_next(self, billed, store, tmp_path):
        out = tmp_path / "verifactu-2026.xml"
        tratos(store, "verifactu", "export", "--year", "2026", "-o", str(out))
        lines = out.read_text().splitlines(keepends=True)
        del lines[[n for n, line in enumerate(lines)
                   if "<sf:IDFactura><sf:IDEmisorFactura>12345678Z</sf:IDEmisorFactura>"
                      "<sf:NumSerieFactura>R-2026-001<" in line][0]]
        out.write_text("".join(lines))
        outcome = tratos(store, "verifactu", "verify", str(out))
        assert outcome.code == 1
        assert "record 3, the registration record of F-2026-003: it is not chained to the record before it" \
               " (F-2026-002)" in outcome.stderr

    def test_a_file_that_is_not_xml_is_bad_input(self, billed, store, tmp_path):
        out = tmp_path / "notes.xml"
        out.write_text("not xml")
        outcome = tratos(store, "verifactu", "verify", str(out))
        assert outcome.code == 2 and outcome.stderr.startswith("error: notes.xml is not a readable XML document")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_chain_of_1000_records_across_20_clients_verifies_from_the_xml_alone(app, store, tmp_path):
    app.record_clock = Ticking(datetime(2026, 10, 1, 9, tzinfo=timezone(timedelta(hours=1))))  # after the invoices
    handles = [f"client-{n:02d}" for n in range(20)]
    for handle in handles:
        client(app, handle)
    for n in range(1000):
        day = date(2026, 1, 10) + timedelta(days=n // 4)
        invoice(app, handles[n % 20], day, f"{100 + n}.{n % 100:02d}")
    out = tmp_path / "verifactu-2026.xml"
    outcome = tratos(store, "verifactu", "export", "--year", "2026", "-o", str(out))
    assert outcome.code == 0, outcome.stderr
    records = recomputed_from_xml(out)
    assert len(records) == 1000 and len({n for n, _, _ in records}) == 1000
    assert all(stated == computed for _, stated, computed in records)
    valid(out)


class TestAudit:
    def test_audit_verify_includes_the_billing_records(self, billed, store):
        outcome = tratos(store, "audit", "verify")
        assert outcome.code == 0, outcome.stderr
        assert "Verifactu records:12345678Z: 6 fingerprints OK\n" in outcome.stdout

    def test_a_record_forged_with_its_tratos_digests_resealed_is_caught_by_its_fingerprint(self, billed, store):
        """Someone with the database open raises a total and recomputes tratos' own chain: the
        store's hash chain then holds, the agency's fingerprint does not."""
        import json

        from forger import Forger, seal

        from domain.model.chain import canonical_json
        from domain.model.streams import records_id

        forger = Forger(billed)
        stream = records_id(NIF)
        records = forger.records(stream)
        version, topic, state = records[1]
        records[1] = (version, topic, json.loads(canonical_json(state).replace(b'"total":"250.50"',
                                                                              b'"total":"25.05"')))
        forger.replace_stream(stream, seal(stream, records))
        outcome = tratos(store, "audit", "verify")
        assert outcome.code == 1
        assert outcome.stderr == ("error: the billing records do not verify: records:12345678Z record 2, the"
                                  " registration record of F-2026-002: its fingerprint does not match its content;"
                                  " restore it from your latest export (`tratos import` into an empty store) or from"
                                  " a backup\n")
        assert tratos(store, "verifactu", "verify").code == 1


class TestCancel:
    def test_cancelling_a_record_and_then_again(self, billed, store, home):
        import json

        home.mkdir(parents=True, exist_ok=True)
        (home / "identity.json").write_text(json.dumps({"name": "Ana García", "tax_id": "12345678Z",
                                                        "address": "Calle Mayor 1, 28013 Madrid"}))
        outcome = tratos(store, "verifactu", "cancel", "F-2026-004")
        assert outcome.code == 0, outcome.stderr
        assert outcome.stdout.startswith("Cancelled the billing record of F-2026-004 (fingerprint ")
        again = tratos(store, "verifactu", "cancel", "F-2026-004")
        assert (again.code, again.stderr) == (1, "error: the record of F-2026-004 is cancelled already\n")
        unknown = tratos(store, "verifactu", "cancel", "F-2026-099")
        assert unknown.code == 2 and unknown.stderr.startswith("error: F-2026-099 has no registration record")
        empty = tratos(store, "verifactu", "cancel", "")
        assert (empty.code, empty.stderr) == (2, "error: an invoice number is empty\n")
        # this store keeps its records without a key: the cancellation started the event log, unsigned
        assert tratos(store, "verifactu", "verify").stdout == ("records:12345678Z  7 records  OK\n"
                                                               "records:12345678Z  signatures: 0 valid, 7 unsigned\n"
                                                               "events:12345678Z  1 events  OK\n"
                                                               "events:12345678Z  signatures: 0 valid, 1 unsigned\n")

    def test_a_cancellation_cannot_be_dated_before_its_invoice(self, billed, store, home):
        import json

        home.mkdir(parents=True, exist_ok=True)
        (home / "identity.json").write_text(json.dumps({"name": "Ana García", "tax_id": "12345678Z",
                                                        "address": "Calle Mayor 1, 28013 Madrid"}))
        def records() -> list[str]:
            return [line for line in tratos(store, "verifactu", "verify").stdout.splitlines()
                    if line.startswith("records:")]

        before = records()
        early = tratos(store, "verifactu", "cancel", "F-2026-004", "--on", "2026-01-13")
        assert (early.code, early.stderr) == (1, "error: 2026-01-13 is before F-2026-004 was issued (2026-01-14)\n")
        assert records() == before  # nothing recorded
        same_day = tratos(store, "verifactu", "cancel", "F-2026-004", "--on", "2026-01-14")
        assert same_day.code == 0, same_day.stderr

    def test_without_a_tax_id_there_is_no_chain_to_cancel_in(self, billed, store):
        outcome = tratos(store, "verifactu", "cancel", "F-2026-004")
        assert outcome.code == 2 and outcome.stderr.startswith("error: your billing records are kept under your tax id")


SOAP = "{http://schemas.xmlsoap.org/soap/envelope/}"


def recomputed_times(path) -> list[str]:
    """Each record's FechaHoraHusoGenRegistro in the file, in order."""
    return [e.text for e in etree.parse(str(path)).iter() if isinstance(e.tag, str)
            and e.tag.endswith("}FechaHoraHusoGenRegistro")]


class TestSubmission:
    """VERI*FACTU: the request body of each pending batch, and what the agency accepted."""

    def test_the_next_batch_is_a_soap_request_whose_body_the_schemas_accept(self, billed, store, home, tmp_path):
        identity_file(home, verifactu_mode="verifactu")
        out = tmp_path / "batch-1.xml"
        outcome = tratos(store, "verifactu", "submission", "-o", str(out))
        assert outcome.code == 0, outcome.stderr
        assert outcome.stdout.startswith(f"Wrote records 1 to 6 of {NIF} (6) to {out}")
        envelope = etree.parse(str(out)).getroot()
        assert envelope.tag == SOAP + "Envelope"
        [request] = envelope.find(SOAP + "Body")
        assert schema().validate(etree.ElementTree(request)), schema().error_log

    def test_a_batch_sent_already_is_named_so_when_a_cancellation_of_its_invoice_follows(self, billed, store, home,
                                                                                          tmp_path):
        identity_file(home, verifactu_mode="verifactu")
        first = tmp_path / "batch-1.xml"
        tratos(store, "verifactu", "submission", "-o", str(first))
        assert tratos(store, "verifactu", "sent", str(first), "--csv", "A-TEST0000000001").code == 0
        assert tratos(store, "verifactu", "cancel", "F-2026-002", "--on", "2026-01-20").code == 0
        again = tratos(store, "verifactu", "sent", str(first), "--csv", "A-TEST0000000002")
        assert (again.code, again.stderr) == (
            1, "error: the file starts with record 1 of your chain (the registration record of F-2026-001), sent"
               " already (records 1 to 6 were); write the next batch with `tratos verifactu submission`\n")

    def test_what_was_sent_is_not_sent_again_and_the_next_batch_follows_on(self, billed, store, home, tmp_path):
        identity_file(home, verifactu_mode="verifactu")
        first = tmp_path / "batch-1.xml"
        tratos(store, "verifactu", "submission", "-o", str(first))
        outcome = tratos(store, "verifactu", "sent", str(first), "--csv", "A-TEST0000000001")
        assert (outcome.code, outcome.stdout) == (
            0, f"Recorded: records 1 to 6 of {NIF} accepted by the agency (A-TEST0000000001)\n")
        nothing = tratos(store, "verifactu", "submission", "-o", str(tmp_path / "none.xml"))
        assert (nothing.code, nothing.stderr) == (
            1, f"error: nothing to send: every billing record of {NIF} was sent (6 records)\n")
        again = tratos(store, "verifactu", "sent", str(first), "--csv", "A-TEST0000000002")
        assert (again.code, again.stderr) == (1, "error: the file holds 6 records, and only 0 are waiting to be"
                                                 " sent (records 1 to 6 were sent already)\n")
        invoice(billed, "acme", date(2026, 1, 20), "70")
        second = tmp_path / "batch-2.xml"
        assert tratos(store, "verifactu", "submission", "-o", str(second)).stdout.startswith(
            f"Wrote records 7 to 7 of {NIF} (1)")
        [record] = recomputed_from_xml_body(second)
        assert record == "F-2026-005"
        year = tmp_path / "year.xml"
        tratos(store, "verifactu", "export", "--year", "2026", "-o", str(year))
        wrong = tratos(store, "verifactu", "sent", str(year), "--csv", "A-TEST0000000003")
        assert (wrong.code, wrong.stderr) == (1, "error: the file starts with record 1 of your chain (the"
                                                 " registration record of F-2026-001), sent already (records 1 to 6"
                                                 " were); write the next batch with `tratos verifactu submission`\n")
        assert tratos(store, "verifactu", "sent", str(second), "--csv", "A-TEST0000000003").code == 0
        assert tratos(store, "audit", "verify").code == 0

    @pytest.mark.parametrize(("written", "edited", "said"), [
        ("<sf:DescripcionOperacion>Support hours</sf:DescripcionOperacion>",
         "<sf:DescripcionOperacion>Consulting</sf:DescripcionOperacion>",
         "its record 1 (the registration record of F-2026-001) differs from record 1 of your chain: its"
         " DescripcionOperacion is 'Consulting' where yours is 'Support hours'"),
        ("<sf:BaseImponibleOimporteNoSujeto>250.50</sf:BaseImponibleOimporteNoSujeto>",
         "<sf:BaseImponibleOimporteNoSujeto>2.50</sf:BaseImponibleOimporteNoSujeto>",
         "its record 2 (the registration record of F-2026-002) differs from record 2 of your chain: its"
         " Desglose/DetalleDesglose/BaseImponibleOimporteNoSujeto is '2.50' where yours is '250.50'"),
        ("<sf:NombreRazonEmisor>Ana García</sf:NombreRazonEmisor>", "",
         "its record 1 (the registration record of F-2026-001) differs from record 1 of your chain: it has"
         " TipoFactura where yours has NombreRazonEmisor"),
        ("<sf:CuotaTotal>0.00</sf:CuotaTotal>",
         "<sf:CuotaTotal>0.00</sf:CuotaTotal><sf:Macrodato>S</sf:Macrodato>",
         "its record 1 (the registration record of F-2026-001) differs from record 1 of your chain: it has"
         " Macrodato where yours has ImporteTotal"),
    ])
    def test_a_batch_edited_outside_the_fingerprint_is_refused(self, billed, store, home, tmp_path, written, edited,
                                                               said):
        """Every field of every record is compared with the stored record, not only the fingerprinted ones."""
        identity_file(home, verifactu_mode="verifactu")
        batch = tmp_path / "batch-1.xml"
        assert tratos(store, "verifactu", "submission", "-o", str(batch)).code == 0
        text = batch.read_text()
        assert written in text
        batch.write_text(text.replace(written, edited, 1))
        assert tratos(store, "verifactu", "verify", str(batch)).code == 0  # every fingerprint still holds
        outcome = tratos(store, "verifactu", "sent", str(batch), "--csv", "A-TEST0000000001")
        assert (outcome.code, outcome.stderr) == (
            1, f"error: the file is not the batch tratos wrote: {said}; write the next batch with"
               " `tratos verifactu submission`\n")
        again = tmp_path / "batch-again.xml"
        assert tratos(store, "verifactu", "submission", "-o", str(again)).stdout.startswith(
            f"Wrote records 1 to 6 of {NIF} (6)")  # nothing was marked as sent

    def test_a_batch_of_other_records_names_each_record_by_its_kind_and_invoice(self, billed, store, home,
                                                                                tmp_path):
        identity_file(home, verifactu_mode="verifactu")
        batch = tmp_path / "batch-1.xml"
        assert tratos(store, "verifactu", "submission", "-o", str(batch)).code == 0
        batch.write_text(batch.read_text().replace("F-2026-001", "F-2026-009"))
        outcome = tratos(store, "verifactu", "sent", str(batch), "--csv", "A-TEST0000000001")
        assert (outcome.code, outcome.stderr) == (
            1, "error: the file is not the next batch to send: its record 1 (the registration record of F-2026-009)"
               " is not record 1 of your chain (the registration record of F-2026-001); write the next batch with"
               " `tratos verifactu submission`\n")

    def test_a_record_edited_in_its_fingerprinted_fields_is_said_to_differ_not_to_be_another(self, billed, store,
                                                                                               home, tmp_path):
        identity_file(home, verifactu_mode="verifactu")
        batch = tmp_path / "batch-1.xml"
        assert tratos(store, "verifactu", "submission", "-o", str(batch)).code == 0
        text = batch.read_text()
        total = "<sf:ImporteTotal>1000.00</sf:ImporteTotal>"
        assert total in text
        batch.write_text(text.replace(total, "<sf:ImporteTotal>1.00</sf:ImporteTotal>", 1))
        outcome = tratos(store, "verifactu", "sent", str(batch), "--csv", "A-TEST0000000001")
        assert (outcome.code, outcome.stderr) == (
            1, "error: the file is not the batch tratos wrote: its record 1 (the registration record of F-2026-001)"
               " differs from record 1 of your chain: its ImporteTotal is '1.00' where yours is '1000.00'; write"
               " the next batch with `tratos verifactu submission`\n")

    def test_the_agency_did_not_accept_a_batch_before_its_records_were_made(self, billed, store, home, tmp_path):
        identity_file(home, verifactu_mode="verifactu")
        batch = tmp_path / "batch-1.xml"
        assert tratos(store, "verifactu", "submission", "-o", str(batch)).code == 0
        made = recomputed_times(batch)[-1][:10]
        early = tratos(store, "verifactu", "sent", str(batch), "--csv", "A-TEST0000000001", "--on", "2026-01-01")
        assert (early.code, early.stderr) == (
            1, f"error: 2026-01-01 is before the batch's last record was made ({made}): the agency accepted it on"
               " the day its answer came, give that day with --on\n")
        assert tratos(store, "verifactu", "sent", str(batch), "--csv", "A-TEST0000000001", "--on", made).code == 0

    def test_records_kept_here_are_not_sent(self, billed, store, home, tmp_path):
        identity_file(home)
        outcome = tratos(store, "verifactu", "submission", "-o", str(tmp_path / "batch.xml"))
        assert outcome.code == 1 and "records are kept here (no-verifactu)" in outcome.stderr


def recomputed_from_xml_body(path: Path) -> list[str]:
    return [r.find(f"{SF}IDFactura")[1].text for r in ET.parse(path).getroot().iter() if r.tag == SF + "RegistroAlta"]


def forged_export(store, tmp_path: Path, edit, *, refingerprint: bool = False) -> Path:
    """The store exported, its chain of records edited by `edit(states)` (a list of the record events'
    stored states, in order), then tratos' own chain resealed: a forger with the export file in hand.
    `refingerprint` recomputes every record's fingerprint and link as well, so the agency's chain
    holds too and only a comparison with the invoices can tell."""
    import json

    from forger import seal

    from domain.model.chain import canonical_json
    from domain.model.fingerprints import cancellation_fingerprint, registration_fingerprint
    from domain.model.streams import records_id

    exported = tmp_path / "store.jsonl"
    assert tratos(store, "export", str(exported)).code == 0
    lines = exported.read_bytes().splitlines()
    rows = [json.loads(line) for line in lines[1:-1]]
    ours = [r for r in rows if r["stream"] == str(records_id(NIF))]
    edit([r["state"] for r in ours])
    previous = None
    for row in ours if refingerprint else ():
        state = row["state"]
        if previous is not None:
            state["previous"]["fingerprint"] = previous
        fields = dict(issuer_nif=state["issuer_nif"], number=state["invoice_number"], issued_on=state["issued_on"],
                      previous=previous or "", generated_at=state["generated_at"])
        state["fingerprint"] = (cancellation_fingerprint(**fields) if row["topic"].endswith("Cancelled") else
                                registration_fingerprint(**fields, invoice_type=state["invoice_type"],
                                                         tax_total=state["tax_total"], total=state["total"]))
        previous = state["fingerprint"]
    resealed = seal(records_id(NIF), [(r["version"], r["topic"], r["state"]) for r in ours])
    for row, (_, _, state) in zip(ours, resealed, strict=True):
        row["state"] = state
    exported.write_bytes(b"\n".join([lines[0], *(canonical_json(r) for r in rows), lines[-1]]) + b"\n")
    return exported


def refused_import(target, exported: Path, *expected: str) -> None:
    """`import` says no (exit 1) with all of `expected` in its one line, and writes nothing."""
    outcome = tratos(target, "import", str(exported))
    assert outcome.code == 1, outcome.stderr
    assert outcome.stderr.count("\n") == 1 and outcome.stderr.endswith("; nothing was imported\n")
    for words in expected:
        assert words in outcome.stderr
    app = target.open()
    try:
        assert not app.recorder.max_notification_id()  # the store is as empty as it was
    finally:
        app.close()


class TestImport:
    """Import re-decides the chain of records like any stream (each fingerprint computed again), and
    makes each record again from its invoice."""

    def test_the_records_go_through_export_and_import(self, billed, store, home, empty_store, tmp_path):
        identity_file(home, verifactu_mode="verifactu")
        batch = tmp_path / "batch.xml"
        tratos(store, "verifactu", "submission", "-o", str(batch))
        assert tratos(store, "verifactu", "sent", str(batch), "--csv", "A-1").code == 0
        exported = tmp_path / "store.jsonl"
        assert tratos(store, "export", str(exported)).code == 0
        imported = tratos(empty_store, "import", str(exported))
        assert imported.code == 0, imported.stderr
        assert tratos(empty_store, "verifactu", "verify").stdout == (
            "records:12345678Z  6 records  OK\nrecords:12345678Z  signatures: 0 valid, 6 unsigned\n")
        assert tratos(empty_store, "audit", "verify").code == 0

    def test_a_record_whose_amount_was_changed_and_resealed_is_refused(self, billed, store, empty_store, tmp_path):
        def edit(states):
            states[1]["total"] = "25.05"  # north's 250.50, its fingerprint left as it was

        refused_import(empty_store, forged_export(store, tmp_path, edit), "InvoiceRegistered records fingerprint")

    def test_a_whole_chain_rewritten_consistently_still_disagrees_with_its_invoice(self, billed, store, empty_store,
                                                                                tmp_path):
        """A forger who changes a record's total and recomputes every fingerprint after it, and tratos'
        own chain, leaves a chain that verifies: import compares each record with its invoice."""
        def edit(states):
            states[1]["total"] = "25.05"

        refused_import(empty_store, forged_export(store, tmp_path, edit, refingerprint=True),
                       'records:12345678Z version 2: the billing record of F-2026-002 states total "25.05" where'
                       ' its invoice makes "250.50"')

    def test_a_breakdown_outside_the_fingerprint_that_differs_from_its_invoice_is_refused(
            self, billed, store, empty_store, tmp_path):
        """The breakdown is in no fingerprint: the chains all hold, the record is made again from the invoice."""
        def edit(states):
            assert states[0]["breakdown"][0]["base"] == "1000.00"
            states[0]["breakdown"][0]["base"] = "100.00"

        refused_import(empty_store, forged_export(store, tmp_path, edit),
                       "records:12345678Z version 1: the billing record of F-2026-001 states breakdown[1].base"
                       ' "100.00" where its invoice makes "1000.00"')

    @pytest.mark.parametrize(("field", "value", "said"), [
        ("description", "Consulting", 'description "Consulting" where its invoice makes "Support hours"'),
        ("recipient", None, "recipient none where its invoice makes"),
        ("issuer_name", "Someone Else", 'issuer_name "Someone Else" where its invoice makes "Ana García"'),
        ("invoice_type", "R4", 'invoice_type "R4" where its invoice makes "F1"'),
    ])
    def test_any_field_derived_from_the_invoice_is_compared(self, billed, store, empty_store, tmp_path,
                                                             field, value, said):
        def edit(states):
            states[3][field] = value  # F-2026-003, the record cancelled later

        refused_import(empty_store, forged_export(store, tmp_path, edit, refingerprint=True),
                       f"records:12345678Z version 4: the billing record of F-2026-003 states {said}")


class TestSignedExport:
    """Records made unsigned (before ADR-59, or without a key) signed XAdES-enveloped by `export --sign`,
    each checked alone from the file."""

    @pytest.fixture
    def exported(self, billed, store, key, tmp_path) -> Path:
        out = tmp_path / "signed.xml"
        outcome = tratos(store, "verifactu", "export", "--year", "2026", "-o", str(out), "--sign", env=KEYED)
        assert outcome.code == 0, outcome.stderr
        return out

    def test_every_record_carries_a_valid_signature_and_the_schemas_accept_it(self, exported, store):
        valid(exported)
        from signxml import CanonicalizationMethod
        from signxml.xades import XAdESSignatureConfiguration, XAdESVerifier

        document = etree.parse(str(exported))
        records = [r for r in document.iter(SF + "RegistroAlta", SF + "RegistroAnulacion")]
        assert len(records) == 6
        for record in records:
            signature = record[-1]
            assert signature.tag == "{http://www.w3.org/2000/09/xmldsig#}Signature"
            assert signature.find(".//{http://uri.etsi.org/01903/v1.3.2#}SigningTime") is not None  # XAdES
        outcome = tratos(store, "verifactu", "verify", str(exported))
        assert (outcome.code, outcome.stdout) == (
            0, "signed.xml  6 records  OK\nsigned.xml  signatures: 6 valid (signed by CN=Ana García,"
               " E=ana@example.com), 0 unsigned\n")
        # and by signxml directly, each record taken out of the file alone
        import base64

        from cryptography import x509

        for record in records:
            der = base64.b64decode(record.find(".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate").text)
            XAdESVerifier().verify(etree.tostring(record), x509_cert=x509.load_der_x509_certificate(der),
                                   expect_config=XAdESSignatureConfiguration(
                                       default_reference_c14n_method=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0))

    def test_a_description_edited_outside_the_fingerprint_breaks_the_signature(self, exported, store):
        text = exported.read_text()
        assert text.count("<sf:DescripcionOperacion>Support hours</sf:DescripcionOperacion>") == 4  # and R-2026-001
        exported.write_text(text.replace("<sf:DescripcionOperacion>Support hours</sf:DescripcionOperacion>",
                                       "<sf:DescripcionOperacion>Consulting</sf:DescripcionOperacion>", 1))
        outcome = tratos(store, "verifactu", "verify", str(exported))
        assert outcome.code == 1
        assert outcome.stdout == ("signed.xml  6 records  OK\nsigned.xml  signatures: BROKEN at record 1 (F-2026-001):"
                                  " its signature does not verify (the record was changed after it was signed)\n")
        assert outcome.stderr == ("error: the billing records do not verify: signed.xml record 1 (F-2026-001): its"
                                  " signature does not verify (the record was changed after it was signed)\n")
