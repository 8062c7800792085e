"""no-VERI*FACTU: each billing record signed XAdES-enveloped when it is generated (ADR-59), its signature
kept in the record's event, checked by `verifactu verify` and `audit verify` against the record's
content, written into the export as the record's last child.

Each signature is checked three ways: by tratos, by signxml directly on the exported record, and by
the xmlsec1 command line (an independent implementation, libxmlsec1) when it is installed.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from lxml import etree
from verifactu_story import (
    GOLDEN_RECORDS,
    KEYED,
    NIF,
    PASSPHRASE,
    SF,
    UNKEYED,
    identity_file,
    valid,
)
from verifactu_story import keyed_tratos as tratos

GOLDEN = GOLDEN_RECORDS

DS = "{http://www.w3.org/2000/09/xmldsig#}"
XADES = "{http://uri.etsi.org/01903/v1.3.2#}"


def stored_records(app) -> list:
    from domain.adapters.verifactu_xml import chain_records
    from domain.model.streams import records_id

    return list(chain_records(app, records_id(NIF)))


def forge(app, version: int, edit) -> None:
    from forger import forge_state

    from domain.model.streams import records_id

    forge_state(app, records_id(NIF), version, edit)


class TestSignedWhenGenerated:
    def test_every_record_carries_its_signature_from_the_moment_it_is_made(self, signed, store):
        records = stored_records(signed)
        assert len(records) == 6 and all(r.signature.startswith("<ds:Signature") for r in records)
        assert all(r.signature.count("<xades:SigningTime>") == 1 for r in records)
        outcome = tratos(store, "verifactu", "verify")
        assert (outcome.code, outcome.stdout) == (0, "records:12345678Z  6 records  OK\nrecords:12345678Z  signatures:"
                                                     " 6 valid (signed by CN=Ana García, E=ana@example.com), 0 unsigned\n"
                                                     "events:12345678Z  1 events  OK\nevents:12345678Z  signatures:"
                                                     " 1 valid (signed by CN=Ana García, E=ana@example.com), 0 unsigned\n")
        audit = tratos(store, "audit", "verify")
        assert audit.code == 0, audit.stderr
        assert "Verifactu records:12345678Z: signatures 6 valid (signed by CN=Ana García, E=ana@example.com)," \
               " 0 unsigned\n" in audit.stdout

    def test_the_export_carries_the_signatures_made_then_and_the_schemas_accept_it(self, signed, store, key,
                                                                                   tmp_path):
        out = tmp_path / "verifactu-2026.xml"
        outcome = tratos(store, "verifactu", "export", "--year", "2026", "-o", str(out))  # no --sign, no key asked
        assert outcome.code == 0, outcome.stderr
        valid(out)
        records = list(etree.parse(str(out)).iter(SF + "RegistroAlta", SF + "RegistroAnulacion"))
        kept = stored_records(signed)
        assert [r[-1].find(f".//{XADES}SigningTime").text for r in records] == [
            etree.fromstring(k.signature.encode()).find(f".//{XADES}SigningTime").text for k in kept]
        checked = tratos(store, "verifactu", "verify", str(out))
        assert (checked.code, checked.stdout) == (0, "verifactu-2026.xml  6 records  OK\nverifactu-2026.xml  signatures: 6"
                                                     " valid (signed by CN=Ana García, E=ana@example.com), 0 unsigned\n")
        from signxml import CanonicalizationMethod
        from signxml.xades import XAdESSignatureConfiguration, XAdESVerifier

        config = XAdESSignatureConfiguration(
            default_reference_c14n_method=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0)
        for record in records:  # each record alone, by signxml, against the certificate it carries
            from cryptography import x509

            der = base64.b64decode(record.find(f".//{DS}X509Certificate").text)
            XAdESVerifier().verify(etree.tostring(record), x509_cert=x509.load_der_x509_certificate(der),
                                   expect_config=config)
        xmlsec_verifies(records, key, tmp_path)

    def test_a_description_edited_in_the_store_is_named_by_its_signature(self, signed, store):
        """The description is in no fingerprint: the chain holds, the signature does not."""
        def edit(state):
            assert state["description"] == "Support hours"
            state["description"] = "Consulting"

        forge(signed, 2, edit)
        assert tratos(store, "verifactu", "verify").stdout.startswith("records:12345678Z  6 records  OK\n")
        for command in (("verifactu", "verify"), ("audit", "verify")):
            outcome = tratos(store, *command)
            assert outcome.code == 1, command
            assert outcome.stderr.startswith("error: the billing records do not verify: records:12345678Z record 2"
                                             " (F-2026-002): its signature does not verify (")
        assert "records:12345678Z  signatures: BROKEN at record 2 (F-2026-002)" in tratos(
            store, "verifactu", "verify").stdout

    @pytest.mark.parametrize("how", ["value", "swapped", "other key"])
    def test_an_edited_or_moved_signature_is_named(self, signed, store, tmp_path, how):
        kept = stored_records(signed)
        if how == "value":
            def edit(state):
                value = etree.fromstring(state["signature"].encode()).find(f"{DS}SignatureValue").text.strip()
                forged = ("A" if value[0] != "A" else "B") + value[1:]
                state["signature"] = state["signature"].replace(value, forged)
        elif how == "swapped":
            def edit(state):
                state["signature"] = kept[3].signature  # F-2026-003's, valid for another record
        else:
            from documents.identity import create_identity, load_identity
            from documents.record_signing import record_signature

            create_identity(tmp_path, name="Mallory", email="m@example.com", passphrase="x" * 12,
                            not_before=date(2026, 1, 1))
            theirs = record_signature(load_identity(tmp_path / "identity.p12", "x" * 12))

            def edit(state):
                state["description"] = "Consulting"  # re-signed by someone else: valid, but not Ana's
                state["signature"] = theirs(kept[1].model_copy(update={"description": "Consulting"}))
        forge(signed, 2, edit)
        outcome = tratos(store, "verifactu", "verify")
        if how == "other key":
            assert outcome.code == 0  # a sound signature: who signed is printed, for the reader to judge
            assert "signatures: 6 valid (signed by CN=Ana García, E=ana@example.com; CN=Mallory," \
                   " E=m@example.com), 0 unsigned" in outcome.stdout
            return
        assert outcome.code == 1
        assert outcome.stderr.startswith("error: the billing records do not verify: records:12345678Z record 2"
                                         " (F-2026-002): its signature does not verify")

    def test_signed_records_go_through_export_and_import_and_still_verify(self, signed, store, empty_store,
                                                                           tmp_path):
        exported = tmp_path / "store.jsonl"
        assert tratos(store, "export", str(exported)).code == 0
        assert tratos(empty_store, "import", str(exported)).code == 0
        outcome = tratos(empty_store, "verifactu", "verify")
        assert outcome.code == 0 and "signatures: 6 valid" in outcome.stdout


def xmlsec_verifies(records: list, key, tmp_path: Path, *, edit: tuple[str, str] = ("Support hours", "Consulting"),
                    nth: int = 1) -> None:
    """Each exported record (or log entry) verified by the xmlsec1 command line against the freelancer's
    certificate: no tratos code, no signxml (skipped when xmlsec1 is not installed); then the `nth`
    one, edited (`edit`), must fail."""
    exe = shutil.which("xmlsec1")
    if exe is None:
        pytest.skip("xmlsec1 is not installed (apt install xmlsec1)")
    from cryptography.hazmat.primitives.serialization import Encoding

    certificate = tmp_path / "ana.pem"
    certificate.write_bytes(key.certificate.public_bytes(Encoding.PEM))
    for n, record in enumerate(records, 1):
        alone = tmp_path / f"record-{n}.xml"
        alone.write_bytes(etree.tostring(record))
        done = subprocess.run([exe, "--verify", "--pubkey-cert-pem", str(certificate),
                               "--id-attr:Id", "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
                               str(alone)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "OK" in done.stderr, done.stderr
    tampered = tmp_path / f"record-{nth}.xml"
    assert edit[0] in tampered.read_text()
    tampered.write_text(tampered.read_text().replace(*edit, 1))
    done = subprocess.run([exe, "--verify", "--pubkey-cert-pem", str(certificate),
                           "--id-attr:Id", "http://uri.etsi.org/01903/v1.3.2#:SignedProperties", str(tampered)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0  # and the check can fail


class TestOldRecords:
    """Records written before ADR-59 (tests/fixtures/records-v1.sqlite, InvoiceRegistered v1) carry no
    signature: they are reported as unsigned, not as broken, and the store still verifies."""

    @pytest.fixture
    def golden(self, tmp_path, monkeypatch):
        from backends import StoreSpec

        monkeypatch.delenv("TRATOS_DATABASE_URL", raising=False)
        home = tmp_path / "golden"
        home.mkdir()
        shutil.copyfile(GOLDEN, home / "tratos.sqlite")
        identity_file(home)  # no-verifactu, the default
        return StoreSpec("sqlite", str(home))

    def test_the_fixture_holds_version_1_records(self):
        import hashlib
        import sqlite3

        digest = (GOLDEN.parent / "records-v1.sqlite.sha256").read_text().split()[0]
        assert hashlib.sha256(GOLDEN.read_bytes()).hexdigest() == digest
        with sqlite3.connect(GOLDEN) as connection:
            states = [json.loads(s) for (s,) in connection.execute(
                "SELECT state FROM stored_events WHERE topic LIKE '%InvoiceRegistered'"
                " OR topic LIKE '%InvoiceRegistrationCancelled'")]
        assert len(states) == 6 and all("signature" not in s and "class_version" not in s for s in states)

    def test_unsigned_records_are_reported_as_unsigned_and_the_store_verifies(self, golden):
        outcome = tratos(golden, "verifactu", "verify")
        assert (outcome.code, outcome.stdout) == (
            0, "records:12345678Z  6 records  OK\nrecords:12345678Z  signatures: 0 valid, 6 unsigned\n")
        audit = tratos(golden, "audit", "verify")
        assert audit.code == 0, audit.stderr
        assert "Verifactu records:12345678Z: signatures 0 valid, 6 unsigned\n" in audit.stdout

    def test_a_new_record_after_them_is_signed_and_chained_to_them(self, golden, tmp_path):
        from documents.identity import create_identity

        create_identity(Path(golden.home), name="Ana García", email="ana@example.com", passphrase=PASSPHRASE,
                        not_before=date(2026, 1, 1))
        outcome = tratos(golden, "verifactu", "cancel", "F-2026-004", env=KEYED)
        assert (outcome.code, outcome.stderr) == (0, "")
        assert outcome.stdout.startswith("Cancelled the billing record of F-2026-004") and ", signed)" in outcome.stdout
        checked = tratos(golden, "verifactu", "verify")
        assert (checked.code, checked.stdout) == (0, "records:12345678Z  7 records  OK\nrecords:12345678Z  signatures:"
                                                     " 1 valid (signed by CN=Ana García, E=ana@example.com),"
                                                     " 6 unsigned\nevents:12345678Z  1 events  OK\nevents:12345678Z"
                                                     "  signatures: 1 valid (signed by CN=Ana García,"
                                                     " E=ana@example.com), 0 unsigned\n")  # the cancellation started it
        out = tmp_path / "golden.xml"
        assert tratos(golden, "verifactu", "export", "--year", "2026", "-o", str(out)).code == 0
        valid(out)

    def test_the_old_store_goes_through_export_and_import(self, golden, tmp_path):
        from backends import StoreSpec

        exported = tmp_path / "golden.jsonl"
        assert tratos(golden, "export", str(exported)).code == 0
        target = StoreSpec("sqlite", str(tmp_path / "imported"))
        imported = tratos(target, "import", str(exported))
        assert imported.code == 0, imported.stderr
        assert tratos(target, "verifactu", "verify").code == 0


class TestTheCommandLine:
    """`invoice issue` signs the record with the identity's key in no-verifactu mode, asks for the key only
    once the invoice is decided, and keeps it unsigned in verifactu mode."""

    @pytest.fixture
    def acme(self, billed, store, home, key):
        identity_file(home, email="ana@example.com")
        return billed

    def test_an_invoice_issued_from_the_command_line_signs_its_record(self, acme, store):
        outcome = tratos(store, "invoice", "issue", "acme", "--amount", "70EUR", "--on", "2026-03-02", env=KEYED)
        assert (outcome.code, outcome.stderr) == (0, "")
        assert stored_records(acme)[-1].signature.startswith("<ds:Signature")
        assert "1 valid (signed by CN=Ana García" in tratos(store, "verifactu", "verify").stdout

    def test_without_the_passphrase_nothing_is_recorded(self, acme, store):
        before = len(stored_records(acme))
        outcome = tratos(store, "invoice", "issue", "acme", "--amount", "70EUR", "--on", "2026-03-02", env=UNKEYED)
        assert (outcome.code, outcome.stderr) == (
            2, "error: no passphrase for the signing key: set TRATOS_KEY_PASSPHRASE (there is no terminal to ask on)\n")
        assert len(stored_records(acme)) == before
        wrong = tratos(store, "invoice", "issue", "acme", "--amount", "70EUR", "--on", "2026-03-02",
                       env={"TRATOS_KEY_PASSPHRASE": "not it"})
        assert wrong.code != 0 and len(stored_records(acme)) == before

    def test_an_invoice_refused_is_refused_before_the_key_is_asked_for(self, acme, store):
        outcome = tratos(store, "invoice", "issue", "acme", "--amount", "70EUR", "--vat", "7%", env=UNKEYED)
        assert (outcome.code, outcome.stderr) == (2, "error: 7% is not a Spanish VAT rate (use 21%, 10%, 4%, 0%)\n")

    def test_in_verifactu_mode_the_records_are_sent_not_signed(self, acme, store, home):
        identity_file(home, email="ana@example.com", verifactu_mode="verifactu")
        outcome = tratos(store, "invoice", "issue", "acme", "--amount", "70EUR", "--on", "2026-03-02", env=UNKEYED)
        assert (outcome.code, outcome.stderr) == (0, "")  # no key asked for, nothing said
        assert stored_records(acme)[-1].signature == ""

    def test_without_a_key_the_record_is_kept_unsigned_and_that_is_said(self, billed, store, home):
        identity_file(home)
        outcome = tratos(store, "invoice", "issue", "acme", "--amount", "70EUR", "--on", "2026-03-02")
        assert outcome.code == 0
        assert outcome.stderr == (f"warning: no signing key in {home}/identity.p12: the Verifactu record is kept"
                                  " unsigned, which the no-verifactu mode does not allow (set one up with"
                                  " `tratos init` or `tratos identity import`)\n")
        assert stored_records(billed)[-1].signature == ""



def test_records_and_entries_signed_by_this_version_still_verify():
    """tests/fixtures/verifactu/signed-v2.json holds a registration, a cancellation and an entry of the
    event log as stored by the tratos of ADR-59 and ADR-60, signed. A signature covers the XML written
    again from the event: a writer that came to write a record otherwise would fail it here."""
    from uuid import uuid4

    from documents.record_signing import check_stored
    from domain.adapters.mapper import event_from_state

    states = json.loads((Path(__file__).parents[1] / "fixtures" / "verifactu" / "signed-v2.json").read_text())
    events = [event_from_state(f"domain.events:{kind}", state, uuid4(), 1) for kind, state in states.items()]
    checks = list(check_stored(events))
    assert [(c.number, c.signed, c.problem, c.signer) for c in checks] == [
        ("R-2026-001", True, "", "CN=Ana García, E=ana@example.com"),
        ("F-2026-003", True, "", "CN=Ana García, E=ana@example.com"),
        (f"01 of {events[2].generated_at}", True, "", "CN=Ana García, E=ana@example.com")]
    edited = events[0].model_copy(update={"description": "Hours billed once"})
    [check] = check_stored([edited])
    assert check.problem  # and the check can fail
