"""The Verifactu event log of a no-VERI*FACTU system (ADR-60): what tratos logs, signed and chained as
the agency specifies, exported one RegistroEvento per file, valid against the vendored EventosSIF.xsd,
and checked: an edited entry or signature is named.

`recomputed_events` recomputes every fingerprint and link of an exported log with hashlib and lxml
only: the files stand on their own as the agency would read them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from lxml import etree
from test_verifactu_signed import forge, xmlsec_verifies
from verifactu_story import FIXTURES, NIF, UNKEYED
from verifactu_story import keyed_tratos as tratos

EV = "{https://www2.agenciatributaria.gob.es/static_files/common/internet/dep/aplicaciones/es/aeat/tike/cont/ws/EventosSIF.xsd}"


def logged(app) -> list:
    """The issuer's event log as stored, entry by entry."""
    return app.event_log(NIF)


def kinds(app) -> list[str]:
    return [e.event_type for e in logged(app)]


def events_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(FIXTURES / "EventosSIF.xsd")))


def recomputed_events(files: list[Path]) -> list[tuple[str, str, str]]:
    """(type, stated fingerprint, recomputed) of each entry, each link checked: the agency's nine fields,
    with hashlib and lxml only."""
    found, previous = [], ""
    for path in files:
        event = etree.parse(str(path)).getroot().find(EV + "Evento")

        def text(*names: str, node=event) -> str:
            for name in names:
                node = node.find(EV + name)
                if node is None:
                    return ""
            return (node.text or "").strip()

        chained = text("Encadenamiento", "EventoAnterior", "HuellaEvento")
        assert chained == previous, "each entry names the fingerprint of the one before it"
        fields = [("NIF", text("SistemaInformatico", "NIF")), ("ID", ""),
                  ("IdSistemaInformatico", text("SistemaInformatico", "IdSistemaInformatico")),
                  ("Version", text("SistemaInformatico", "Version")),
                  ("NumeroInstalacion", text("SistemaInformatico", "NumeroInstalacion")),
                  ("NIF", text("ObligadoEmision", "NIF")), ("TipoEvento", text("TipoEvento")),
                  ("HuellaEvento", chained), ("FechaHoraHusoGenEvento", text("FechaHoraHusoGenEvento"))]
        digest = hashlib.sha256("&".join(f"{k}={v}" for k, v in fields).encode()).hexdigest().upper()
        stated = text("HuellaEvento")
        found.append((text("TipoEvento"), stated, digest))
        previous = stated
    return found


class TestWhatIsLogged:
    def test_the_first_record_starts_the_log(self, signed):
        [start] = logged(signed)
        assert (start.event_type, start.previous) == ("01", None)
        assert start.signature.startswith("<ds:Signature")

    def test_a_check_of_the_store_logs_what_it_ran(self, signed, store):
        outcome = tratos(store, "verifactu", "verify")
        assert (outcome.code, outcome.stderr) == (0, "")
        start, records, log = logged(signed)
        assert (records.event_type, log.event_type) == ("03", "05")
        assert (records.scan.fingerprints, records.scan.signatures, records.scan.chain, records.scan.dates) == (
            6, 6, 6, 6)  # the dates' process: no record made before the one it follows (ADR-66)
        assert (log.scan.fingerprints, log.scan.chain) == (1, 1)  # the log as it was: its start
        assert log.previous.fingerprint == records.fingerprint and records.previous.fingerprint == start.fingerprint
        assert tratos(store, "audit", "verify").code == 0
        assert kinds(signed) == ["01", "03", "05", "03", "05"]

    def test_an_anomaly_found_is_logged_with_the_record_it_is_in(self, signed, store):
        def edit(state):
            state["total"] = "25.05"

        forge(signed, 2, edit)
        outcome = tratos(store, "verifactu", "verify")
        assert outcome.code == 1
        assert outcome.stderr == ("error: the billing records do not verify: records:12345678Z record 2, the"
                                  " registration record of F-2026-002: its fingerprint does not match its content\n")
        anomaly = logged(signed)[2]
        assert anomaly.event_type == "04" and anomaly.anomaly.anomaly_type == "01"
        assert (anomaly.anomaly.record.number, anomaly.anomaly.record.issued_on) == ("F-2026-002", "11-01-2026")
        assert kinds(signed) == ["01", "03", "04", "04", "05"]  # the fingerprint, and the signature it broke
        assert logged(signed)[3].anomaly.anomaly_type == "02"

    def test_the_exports_are_logged(self, signed, store, tmp_path):
        assert tratos(store, "verifactu", "export", "--year", "2026", "-o", str(tmp_path / "r.xml")).code == 0
        exported = logged(signed)[-1].records_export
        assert (logged(signed)[-1].event_type, exported.registrations, exported.cancellations) == ("08", 5, 1)
        assert (exported.first.number, exported.last.number) == ("F-2026-001", "F-2026-004")
        assert (exported.tax_total, exported.total) == ("0.00", "1260.49")  # 1000 + 250.50 - 100 + 99.99 + 10
        assert (exported.period_start, exported.period_end) == ("2026-01-01T00:00:00+01:00",
                                                                "2026-12-31T23:59:59+01:00")
        outcome = tratos(store, "verifactu", "events", "--year", "2026", "-o", str(tmp_path / "eventos"))
        assert (outcome.code, outcome.stdout) == (
            0, f"Exported 2 entries of the event log of {NIF} of 2026 to {tmp_path / 'eventos'}\n")
        last = logged(signed)[-1]
        assert (last.event_type, last.events_export.events, last.events_export.first.event_type,
                last.events_export.last.event_type) == ("09", 2, "01", "08")

    def test_a_restored_backup_is_logged(self, signed, store, home, empty_store, tmp_path):
        exported = tmp_path / "store.jsonl"
        assert tratos(store, "export", str(exported)).code == 0
        Path(empty_store.home).mkdir(parents=True, exist_ok=True)
        for name in ("identity.json", "identity.p12"):
            (Path(empty_store.home) / name).write_bytes((home / name).read_bytes())
        outcome = tratos(empty_store, "import", str(exported))
        assert (outcome.code, outcome.stderr) == (0, "")
        app = empty_store.open()
        try:
            restored = logged(app)[-1]
            assert (restored.event_type, restored.other) == ("07", f"tratos import of {len(exported.read_bytes().splitlines()) - 2} events")
        finally:
            app.close()
        assert tratos(empty_store, "audit", "verify").code == 0

    def test_switching_modes_ends_and_starts_the_work_as_no_verifactu(self, signed, store, home):
        next_year = {"TRATOS_TODAY": "2027-01-04"}  # the mode holds for the year of its records (ADR-61)
        assert tratos(store, "identity", "invoicing", "--verifactu-mode", "verifactu", env=next_year).code == 0
        assert kinds(signed) == ["01", "02"]
        assert tratos(store, "verifactu", "verify").code == 0
        assert kinds(signed) == ["01", "02"]  # a VERI*FACTU system logs nothing
        assert tratos(store, "identity", "invoicing", "--verifactu-mode", "no-verifactu", env=next_year).code == 0
        assert kinds(signed) == ["01", "02", "01"]

    def test_without_the_passphrase_the_check_runs_and_says_it_is_not_logged(self, signed, store):
        outcome = tratos(store, "verifactu", "verify", env=UNKEYED)
        assert outcome.code == 0
        assert outcome.stderr == ("warning: this check is not in the Verifactu event log: no passphrase for the"
                                  " signing key: set TRATOS_KEY_PASSPHRASE (there is no terminal to ask on)\n")
        assert kinds(signed) == ["01"]


class TestTheExportedLog:
    def test_each_entry_is_a_document_the_schema_accepts_and_signed(self, signed, store, key, tmp_path):
        assert tratos(store, "verifactu", "verify").code == 0
        folder = tmp_path / "eventos"
        assert tratos(store, "verifactu", "events", "--year", "2026", "-o", str(folder)).code == 0
        files = sorted(folder.iterdir())
        assert [f.name for f in files] == ["evento-000001.xml", "evento-000002.xml", "evento-000003.xml"]
        schema = events_schema()
        for path in files:
            assert schema.validate(etree.parse(str(path))), schema.error_log
        assert [(kind, stated == computed) for kind, stated, computed in recomputed_events(files)] == [
            ("01", True), ("03", True), ("05", True)]
        from cryptography import x509
        from signxml import CanonicalizationMethod
        from signxml.xades import XAdESSignatureConfiguration, XAdESVerifier

        config = XAdESSignatureConfiguration(
            default_reference_c14n_method=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0)
        import base64

        documents = [etree.parse(str(f)).getroot() for f in files]
        for document in documents:
            signature = document.find(f"{EV}Evento")[-1]
            assert signature.tag == "{http://www.w3.org/2000/09/xmldsig#}Signature"  # the Evento's last child
            der = base64.b64decode(document.find(".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate").text)
            XAdESVerifier().verify(etree.tostring(document), x509_cert=x509.load_der_x509_certificate(der),
                                   expect_config=config)
        xmlsec_verifies(documents, key, tmp_path, edit=("<sf:TipoEvento>03<", "<sf:TipoEvento>90<"), nth=2)

    def test_a_year_without_entries_writes_nothing(self, signed, store, tmp_path):
        outcome = tratos(store, "verifactu", "events", "--year", "2025", "-o", str(tmp_path / "eventos"))
        assert (outcome.code, outcome.stderr) == (
            1, f"error: the event log of {NIF} has no entry generated in 2025: nothing to export\n")
        assert not (tmp_path / "eventos").exists()  # a refused export leaves nothing behind, not even the folder


def forge_log(app, version: int, edit) -> None:
    from forger import forge_state

    from domain.model.streams import events_id

    forge_state(app, events_id(NIF), version, edit)


class TestAnEditedLog:
    @pytest.fixture
    def checked(self, signed, store):
        assert tratos(store, "verifactu", "verify").code == 0
        return signed

    def test_an_entry_whose_type_was_changed_is_named(self, checked, store):
        forge_log(checked, 2, lambda state: state.update(event_type="90"))
        outcome = tratos(store, "verifactu", "verify")
        assert outcome.code == 1
        assert outcome.stderr == ("error: the event log does not verify: events:12345678Z event 2, the event 90 of"
                                  f" {logged(checked)[1].generated_at}: its fingerprint does not match its content\n")
        assert "events:12345678Z  2 events  BROKEN at event 2" in outcome.stdout
        anomaly = logged(checked)[-2]
        assert (anomaly.event_type, anomaly.anomaly.anomaly_type, anomaly.anomaly.event.event_type) == ("06", "01", "90")
        audit = tratos(store, "audit", "verify")
        assert audit.code == 1 and "Verifactu events:12345678Z: 2 fingerprints BROKEN at event 2" in audit.stdout

    def test_an_entry_whose_details_outside_the_fingerprint_were_changed_is_named_by_its_signature(self, checked,
                                                                                                     store):
        forge_log(checked, 2, lambda state: state["scan"].update(fingerprints=600))
        outcome = tratos(store, "verifactu", "verify")
        assert outcome.code == 1
        assert outcome.stderr.startswith("error: the event log does not verify: events:12345678Z entry 2 (03 of ")
        assert "its signature does not verify" in outcome.stderr
        anomaly = logged(checked)[-1]
        assert (anomaly.event_type, anomaly.anomaly.anomaly_type) == ("06", "02")

    def test_import_refuses_a_log_whose_fingerprint_does_not_hold(self, checked, store, empty_store, tmp_path):
        forge_log(checked, 2, lambda state: state.update(generated_at="2026-01-01T09:00:00+01:00"))
        exported = tmp_path / "store.jsonl"
        assert tratos(store, "export", str(exported)).code == 0
        outcome = tratos(empty_store, "import", str(exported))
        assert outcome.code == 1
        assert "SystemEventLogged records fingerprint" in outcome.stderr and "nothing was imported" in outcome.stderr
