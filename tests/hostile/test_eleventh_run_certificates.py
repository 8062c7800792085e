"""The signing certificate's life and damaged signatures (issue 19, eleventh run, defects 5, 6 and 8; ADR-72).

- A billing record or an event-log entry signed while the certificate was valid still verifies once
  it has expired: its XAdES signature is checked at the SigningTime it carries (as a PDF's is at the
  time it claims, ADR-28). One signed outside the period is named so, not as damaged.
- Nothing makes a signed record with a certificate outside its period: `invoice issue` and
  `verifactu cancel` are refused as `pdf` is (exit 1, one line, nothing recorded); the checks and
  exports, whose work is done, say their log entry was not made.
- A PDF whose signature bytes were changed opens: `verify` says its signature is damaged (exit 1),
  in tratos' words; a time-stamping authority answering garbage did not answer with a time-stamp
  response.

On both backends where a store is involved. The expiry is real: a certificate valid for a few
seconds signs an invoice's record, the test waits for it to expire (at most a few seconds).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cli_support import (
    IN_FORCE,
    copied,
    ok,
    open_store,
    recorded_template,
    refused,
    run,
    snapshot,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from lxml import etree

from documents import identity as ids

PASSPHRASE = "a long passphrase for the eleventh run"
KEYED = {"TRATOS_KEY_PASSPHRASE": PASSPHRASE}
NIF = "12345678Z"
HISTORY = IN_FORCE + [("invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15")]  # F-2026-001
DS = "{http://www.w3.org/2000/09/xmldsig#}"
XADES = "{http://uri.etsi.org/01903/v1.3.2#}"
# a library's words, or a number of 12 digits or more standing alone (a length it misread); not the
# digits inside a hex digest (the chain head "a97a581460418941" holds twelve in a row)
LEAKS = re.compile(r"asn1crypto|Error parsing|Insufficient data|\b\d{12,}\b|\b[A-Z]\w+(Error|Exception)\b|Traceback")


@pytest.fixture
def acme(module_store, store) -> Iterator[Path]:
    """acme with a contract in force and F-2026-001 issued, its record signed (no-verifactu mode)."""
    with copied(recorded_template(module_store, store.backend, "hostile-eleventh-certificates", HISTORY, KEYED),
                store) as home:
        yield home


def files_of(home: Path) -> dict[str, bytes]:
    return {str(p.relative_to(home)): p.read_bytes() for p in sorted(home.rglob("*"))
            if p.is_file() and "tratos.sqlite" not in p.name}


def p12_valid(folder: Path, start: datetime, end: datetime) -> Path:
    """A .p12 (EC P-256) whose certificate, Ana García's, is valid from `start` to `end`."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Ana García"),
                         x509.NameAttribute(NameOID.EMAIL_ADDRESS, "ana@example.com")])
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(start).not_valid_after(end).sign(key, hashes.SHA256()))
    path = folder / "short.p12"
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"ana", key, certificate, None, serialization.BestAvailableEncryption(PASSPHRASE.encode())))
    return path


def key_outside_its_period(home: Path, not_before: date) -> None:
    """Replace the home's signing key by one whose certificate is valid one year from `not_before`."""
    ids.create_identity(home, name="Ana García", email="ana@example.com", passphrase=PASSPHRASE,
                        not_before=not_before, years=1, overwrite=True)


# -- defect 5: a record signed while the certificate was valid verifies after it expired ----------


def test_records_signed_before_the_certificate_expired_verify_after_it(acme, tmp_path):
    ok(acme, "verifactu", "verify", env=KEYED)  # F-2026-001 signed with the long-lived key
    window = 4  # seconds the short certificate is valid from now: enough to import it and issue
    end = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=window)
    p12 = p12_valid(tmp_path, end - timedelta(days=1), end)
    ok(acme, "identity", "import", "--force", str(p12), env=KEYED)
    ok(acme, "invoice", "issue", "acme", "--amount", "100EUR", env=KEYED)  # F-2026-002, signed by it
    ok(acme, "verifactu", "cancel", "F-2026-002", env=KEYED)
    assert datetime.now(UTC) < end, "the machine was too slow to sign within the certificate's window"
    time.sleep(max(0.0, (end - datetime.now(UTC)).total_seconds()) + 1.1)
    assert ids.validity_problem(ids.load_identity(acme / ids.IDENTITY_FILE, PASSPHRASE).certificate,
                                datetime.now(UTC)), "the certificate is expired now"

    checked = run(acme, "verifactu", "verify", env=KEYED)
    assert checked.code == 0, checked.stderr
    assert f"records:{NIF}  3 records  OK\n" in checked.stdout
    assert re.search(rf"records:{NIF}  signatures: 3 valid \(signed by CN=Ana García, E=ana@example.com\),"
                     r" 0 unsigned\n", checked.stdout), checked.stdout
    assert re.search(rf"events:{NIF}  signatures: \d+ valid", checked.stdout), checked.stdout
    assert "damaged" not in checked.stdout + checked.stderr
    # its own entry cannot be signed now: said, the work done
    assert checked.stderr.startswith("warning: this check is not in the Verifactu event log: cannot sign: the"
                                     " certificate of CN=Ana García, E=ana@example.com expired on ")
    audit = run(acme, "audit", "verify", env=KEYED)
    assert audit.code == 0, audit.stderr
    assert "Verdict: OK, every chain holds" in audit.stdout
    assert f"Verifactu records:{NIF}: signatures 3 valid" in audit.stdout

    out = tmp_path / "verifactu-2026.xml"
    ok(acme, "verifactu", "export", "--year", "2026", "-o", str(out), env=KEYED)
    from_file = run(acme, "verifactu", "verify", str(out), env=KEYED)
    assert (from_file.code, from_file.stdout) == (0, "verifactu-2026.xml  3 records  OK\nverifactu-2026.xml  signatures:"
                                                     " 3 valid (signed by CN=Ana García, E=ana@example.com),"
                                                     " 0 unsigned\n"), from_file.stderr


def stored_records(home: Path) -> list:
    from domain.adapters.verifactu_xml import chain_records
    from domain.model.streams import records_id

    app = open_store(home)
    try:
        return list(chain_records(app, records_id(NIF)))
    finally:
        app.close()


def forge_signature(home: Path, version: int, signature: str) -> None:
    from forger import forge_state

    from domain.model.streams import records_id

    app = open_store(home)
    try:
        forge_state(app, records_id(NIF), version, lambda state: state.update(signature=signature))
    finally:
        app.close()


def signed_as_before(identity, record) -> str:
    """A record's ds:Signature made as tratos made it before ADR-72: signxml's XAdES signer at the
    machine's clock, with no check of the certificate's validity."""
    from signxml import DigestAlgorithm, SignatureMethod

    from documents.record_signing import _c14n, _signer_class, record_signer_text
    from domain.adapters.verifactu_xml import record_xml

    signer = _signer_class()(signature_algorithm=SignatureMethod.ECDSA_SHA256, digest_algorithm=DigestAlgorithm.SHA256,
                             c14n_algorithm=_c14n())
    pem = identity.certificate.public_bytes(serialization.Encoding.PEM).decode()
    signed = etree.fromstring(record_signer_text(lambda root: signer.sign(root, key=identity.private_key, cert=[pem]),
                                                 record_xml(record)).encode())
    found = signed[-1]
    signed.remove(found)
    etree.cleanup_namespaces(found)
    return etree.tostring(found, encoding="unicode")


def expired_identity(folder: Path):
    """Ana's identity whose certificate was valid in 2020 only."""
    folder.mkdir(exist_ok=True)
    p12 = ids.create_identity(folder, name="Ana García", email="ana@example.com", passphrase=PASSPHRASE,
                              not_before=date(2020, 1, 1), years=1)
    return ids.load_identity(p12, PASSPHRASE)


def test_a_record_signed_in_2020_with_a_certificate_of_2020_verifies_in_any_later_year(acme, tmp_path):
    """Checked at its SigningTime, not at the machine's clock: no waiting needed."""
    from documents.record_signing import record_signature

    identity = expired_identity(tmp_path / "old")
    [record] = stored_records(acme)
    forge_signature(acme, 1, record_signature(identity, clock=lambda: datetime(2020, 6, 1, 9, 30, tzinfo=UTC))(record))
    checked = run(acme, "verifactu", "verify", env=KEYED)
    assert checked.code == 0, checked.stderr
    assert f"records:{NIF}  signatures: 1 valid (signed by CN=Ana García, E=ana@example.com), 0 unsigned\n" \
           in checked.stdout
    assert "<xades:SigningTime>2020-06-01T09:30:00+00:00</xades:SigningTime>" in stored_records(acme)[0].signature


def test_a_record_signed_after_its_certificate_expired_is_named_so_not_damaged(acme, tmp_path):
    identity = expired_identity(tmp_path / "old")
    [record] = stored_records(acme)
    forge_signature(acme, 1, signed_as_before(identity, record))  # what tratos did before ADR-72
    for command in (("verifactu", "verify"),):  # (`audit verify` sees the forger's rewrite first)
        outcome = run(acme, *command, env=KEYED)
        assert outcome.code == 1, (command, outcome.stderr)
        line = outcome.stderr_lines[-1]
        assert line.startswith(f"error: the billing records do not verify: records:{NIF} record 1 (F-2026-001): its"
                               " signature does not verify (signed outside its certificate's validity period: the"
                               " certificate of CN=Ana García, E=ana@example.com expired on 2021-01-01 00:00 UTC"
                               " (at 20"), line
        assert "damaged" not in line and not LEAKS.search(line), line


def test_a_signing_time_moved_outside_the_period_is_damage(acme, tmp_path):
    """The SigningTime is signed: moved after the expiry, the signature no longer holds as made."""
    [record] = stored_records(acme)
    moved = re.sub(r"<xades:SigningTime>[^<]+<", "<xades:SigningTime>2099-01-01T00:00:00+00:00<", record.signature)
    assert moved != record.signature
    forge_signature(acme, 1, moved)
    outcome = run(acme, "verifactu", "verify", env=KEYED)
    assert outcome.code == 1
    assert ("its signature does not verify (the signature itself is damaged: its signing time or certificate was"
            " changed after it was signed)") in outcome.stderr, outcome.stderr


# -- defect 6: a certificate outside its period signs no record ------------------------------------

OUT_OF_PERIOD = {"expired": (date(2020, 1, 1), "expired on 2021-01-01"),
                 "not-yet-valid": (date(2099, 1, 1), "is valid only from 2099-01-01")}


@pytest.mark.parametrize("case", OUT_OF_PERIOD)
def test_no_record_is_made_with_a_certificate_outside_its_period(acme, tmp_path, case):
    not_before, words = OUT_OF_PERIOD[case]
    key_outside_its_period(acme, not_before)
    before = files_of(acme)
    said = refused(acme, ("invoice", "issue", "acme", "--amount", "100EUR"), 1, "cannot sign: the certificate of"
                   f" CN=Ana García, E=ana@example.com {words}", env=KEYED)
    assert said.rstrip().endswith("renew it and `tratos identity import` the new one")
    refused(acme, ("verifactu", "cancel", "F-2026-001"), 1, f"cannot sign: the certificate of CN=Ana García,"
            f" E=ana@example.com {words}", env=KEYED)
    assert files_of(acme) == before  # no PDF, no evidence, identity as it was
    # the same rule, in the same words, as a PDF's signature
    pdf = run(acme, "pdf", "terms", "acme", "-o", str(tmp_path / "terms.pdf"), env=KEYED)
    assert pdf.code == 1 and said.split(" (at ")[0] == pdf.stderr.split(" (at ")[0], (said, pdf.stderr)
    assert not ok(acme, "status", "acme").stdout.count("F-2026-002")


def test_a_check_or_an_export_with_an_expired_certificate_says_its_log_entry_was_not_made(acme, tmp_path):
    key_outside_its_period(acme, date(2020, 1, 1))
    before = snapshot(acme)
    checked = run(acme, "verifactu", "verify", env=KEYED)
    assert checked.code == 0  # F-2026-001 was signed by the key of then, valid then and now
    assert checked.stderr_lines == ["warning: this check is not in the Verifactu event log: cannot sign: the"
                                    " certificate of CN=Ana García, E=ana@example.com expired on 2021-01-01 00:00 UTC"
                                    f" (at {checked.stderr.split('(at ')[1].split(')')[0]}); renew it and"
                                    " `tratos identity import` the new one"], checked.stderr
    exported = run(acme, "verifactu", "export", "--year", "2026", "-o", str(tmp_path / "x.xml"), env=KEYED)
    assert exported.code == 0 and exported.stderr.startswith("warning: this export is not in the Verifactu event"
                                                             " log: cannot sign: "), exported.stderr
    assert snapshot(acme) == before  # nothing signed with it, nothing recorded


def test_the_signing_time_written_is_the_moment_checked(tmp_path):
    from documents.record_signing import record_signer
    from domain.model.errors import Refused

    identity = expired_identity(tmp_path)
    record = "<sf:RegistroAlta><sf:IDVersion>1.0</sf:IDVersion></sf:RegistroAlta>"
    signed = record_signer(identity, clock=lambda: datetime(2020, 7, 1, 12, 0, 0, 750000, tzinfo=UTC))(record)
    assert etree.fromstring(signed.encode()).find(f".//{XADES}SigningTime").text == "2020-07-01T12:00:00+00:00"
    for moment in (datetime(2019, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(2021, 1, 1, 0, 0, 1, tzinfo=UTC)):
        with pytest.raises(Refused, match="cannot sign: the certificate of"):
            record_signer(identity, clock=lambda moment=moment: moment)(record)


# -- defect 8: a PDF whose signature bytes were changed, a TSA answering garbage -------------------


def with_one_digit_changed(pdf: bytes, offset: int) -> bytes:
    """The PDF with one hex digit of its (first) signature's /Contents changed, at `offset` into it."""
    found = re.search(rb"/Contents\s*<([0-9a-fA-F]+)>", pdf)
    assert found, "no signature in the PDF"
    at = found.start(1) + offset
    changed = bytearray(pdf)
    changed[at] = ord("1") if pdf[at:at + 1] == b"0" else ord("0")
    return bytes(changed)


@pytest.mark.parametrize("offset", [0, 2, 10, 40])  # the CMS's tag, its length, inside its header
def test_a_pdf_whose_signature_bytes_were_changed_has_a_damaged_signature(acme, tmp_path, offset):
    issued = tmp_path / "K1.pdf"
    ok(acme, "pdf", "contract", "acme", "-o", str(issued), env=KEYED)
    assert ok(acme, "verify", str(issued)).stdout.endswith("Verdict: OK\n")
    damaged = tmp_path / "damaged.pdf"
    damaged.write_bytes(with_one_digit_changed(issued.read_bytes(), offset))
    before = snapshot(acme)
    outcome = run(acme, "verify", str(damaged))
    assert outcome.code == 1, outcome.stderr
    assert outcome.stderr_lines == [f"error: {damaged} does not verify: signature 1 is damaged: its signature data"
                                    " cannot be read"], outcome.stderr
    assert "Verdict: NOT OK: signature 1 is damaged" in outcome.stdout
    assert not LEAKS.search(outcome.stdout + outcome.stderr), outcome.stdout
    described = json.loads(run(acme, "--json", "verify", str(damaged)).stdout)
    assert described["ok"] is False
    assert described["signatures"][0]["problem"] == "the signature is damaged: its signature data cannot be read"
    assert snapshot(acme) == before
    if shutil.which("pdfsig"):  # poppler agrees: the file opens, its signature does not validate
        said = subprocess.run(["pdfsig", str(damaged)], capture_output=True, text=True)
        assert "Signature Field Name: Freelancer" in said.stdout, said.stdout + said.stderr
        assert "Signature is Valid" not in said.stdout, said.stdout


class _Garbage(BaseHTTPRequestHandler):
    """A time-stamping authority that is not one: it answers what its path names."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        kind = self.path.strip("/")
        if kind == "hangs-up":
            self.close_connection = True
            return
        body = {"garbage": b"\xa0\x03abc not a response", "empty": b"", "html": b"<html>It works</html>"}[kind]
        self.send_response(200)
        self.send_header("Content-Type", "text/html" if kind == "html" else "application/timestamp-reply")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def garbage_tsa() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Garbage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("kind, reason", [("garbage", "it did not answer with a time-stamp response"),
                                          ("empty", "it did not answer with a time-stamp response"),
                                          ("html", "it did not answer with a time-stamp response"),
                                          ("hangs-up", "it closed the connection without an answer")])
def test_a_time_stamping_authority_answering_garbage_is_said_in_tratos_words(tmp_path, garbage_tsa, tsa, kind,
                                                                              reason):
    home = tmp_path / "home"
    ok(home, "init", "--name", "Ana García", "--email", "ana@example.com", env=KEYED)
    before = files_of(home)
    url = f"{garbage_tsa}/{kind}"
    outcome = run(home, "identity", "tsa", url)
    assert outcome.code == 2, outcome.stderr
    assert outcome.stderr_lines == [f"error: the time-stamping authority at {url} gave no usable answer ({reason}):"
                                    " nothing was signed or recorded; try again later"], outcome.stderr
    assert files_of(home) == before
    ok(home, "identity", "tsa", tsa.url)  # a real authority is accepted: the words are the garbage's
