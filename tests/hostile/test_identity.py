"""A careless or hostile signing identity: expired or not-yet-valid certificates, a damaged
identity.json, no passphrase and no terminal, and library warnings on stderr (issue 19, ADR-28).

Every refused case asserts the exit code, exactly one stderr line starting with `error:`,
and nothing changed: the identity files, the written PDF, the stored events and evidence,
on both backends where a store is involved.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cli_support import (  # noqa: E402
    TODAY,
    database_of,
    evidence_files,
    given,
    run,
    store_args,
    store_rows,
)
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa  # noqa: E402
from cryptography.hazmat.primitives.serialization import pkcs12  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

from documents import identity as ids  # noqa: E402
from documents import signing  # noqa: E402
from domain.model.errors import Refused  # noqa: E402

PASSPHRASE = "a long passphrase for hostile tests"
KEYED = {"TRATOS_KEY_PASSPHRASE": PASSPHRASE}
NOW = datetime.now(UTC)
WITH_TERMS = [
    ("init", "--name", "Ana García", "--email", "ana@example.com"),
    ("client", "open", "acme", "--name", "Acme Consulting SL", "--on", "2026-01-05"),
    ("terms", "publish", "acme", "--rate", "60/h", "--payment-days", "30", "--response-days", "2",
     "--on", "2026-01-05"),
]


# -- certificates made here ------------------------------------------------------------------


def certificate_for(key, start: datetime, end: datetime, name: str = "Ana García") -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False), critical=True)
            .sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()))


def p12_file(folder: Path, start: datetime, end: datetime, *, key=None, name: str = "cert.p12",
             passphrase: str = PASSPHRASE) -> Path:
    key = key or ec.generate_private_key(ec.SECP256R1())
    data = pkcs12.serialize_key_and_certificates(
        b"ana", key, certificate_for(key, start, end), None,
        serialization.BestAvailableEncryption(passphrase.encode()))
    path = folder / name
    path.write_bytes(data)
    return path


def identity_files(home: Path) -> dict[str, bytes]:
    """Every file of the signing identity in `home`, by relative path."""
    found = {}
    for name in (ids.IDENTITY_FILE, ids.CERTIFICATE_FILE, "identity.json"):
        if (home / name).is_file():
            found[name] = (home / name).read_bytes()
    for path in sorted((home / ids.CERTIFICATES_DIR).glob("*")):
        found[str(path.relative_to(home))] = path.read_bytes()
    return found


def refused(outcome, code: int, *words: str) -> str:
    """The one `error:` line of a refused command, after checking its exit code and words."""
    assert outcome.code == code, (outcome.code, outcome.stdout, outcome.stderr)
    assert len(outcome.stderr_lines) == 1, outcome.stderr
    line = outcome.stderr_lines[0]
    assert line.startswith("error: "), line
    for word in words:
        assert word in line, line
    assert not re.search(r"\b[A-Z]\w+(Error|Exception|Warning)\b|Traceback", line), line
    return line


def snapshot(home: Path) -> tuple:
    return store_rows(home), evidence_files(home), identity_files(home)



@pytest.fixture
def with_terms(cli_home: Path) -> Path:
    """acme with published terms: documents can be issued; the signing key is made per test."""
    given(cli_home, WITH_TERMS)
    return cli_home


# -- kind 4: identity import checks the validity period ---------------------------------------

OUT_OF_PERIOD = {
    "expired-years-ago": (NOW - timedelta(days=3 * 365), NOW - timedelta(days=2 * 365), "expired"),
    "expired-yesterday": (NOW - timedelta(days=400), NOW - timedelta(days=1), "expired"),
    "expired-an-hour-ago": (NOW - timedelta(days=30), NOW - timedelta(hours=1), "expired"),
    "valid-from-tomorrow": (NOW + timedelta(days=1), NOW + timedelta(days=400), "valid only from"),
    "valid-in-an-hour": (NOW + timedelta(hours=1), NOW + timedelta(days=400), "valid only from"),
    "valid-from-2099": (datetime(2099, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC),
                        "valid only from"),
}


@pytest.mark.parametrize("case", OUT_OF_PERIOD, ids=list(OUT_OF_PERIOD))
@pytest.mark.parametrize("key_kind", ["ec", "rsa"])
def test_identity_import_refuses_a_certificate_outside_its_validity_period(tmp_path, case, key_kind):
    home = tmp_path / "home"
    home.mkdir()
    start, end, words = OUT_OF_PERIOD[case]
    key = rsa.generate_private_key(65537, 2048) if key_kind == "rsa" else None
    p12 = p12_file(tmp_path, start, end, key=key)
    outcome = run(home, "identity", "import", str(p12), env=KEYED)
    refused(outcome, 1, words, "cert.p12", "nothing was imported")
    assert identity_files(home) == {}
    assert list(home.iterdir()) == []


@pytest.mark.parametrize("case", ["expired-yesterday", "valid-from-tomorrow"])
def test_identity_import_keeps_the_key_there_was_when_refusing(tmp_path, case):
    home = tmp_path / "home"
    home.mkdir()
    assert run(home, "init", "--name", "Ana", "--email", "ana@example.com", env=KEYED).code == 0
    before = identity_files(home)
    start, end, words = OUT_OF_PERIOD[case]
    outcome = run(home, "identity", "import", "--force", str(p12_file(tmp_path, start, end)), env=KEYED)
    refused(outcome, 1, words)
    assert identity_files(home) == before


@pytest.mark.parametrize("days_left", [0, 1, 10, 29])
def test_identity_import_warns_when_the_certificate_expires_soon(tmp_path, days_left):
    home = tmp_path / "home"
    home.mkdir()
    end = NOW + timedelta(days=days_left, hours=2)
    outcome = run(home, "identity", "import", str(p12_file(tmp_path, NOW - timedelta(days=300), end)),
                  env=KEYED)
    assert outcome.code == 0, outcome.stderr
    assert len(outcome.stderr_lines) == 1 and outcome.stderr_lines[0].startswith("warning: ")
    assert f"in {days_left} day" in outcome.stderr and end.strftime("%Y-%m-%d") in outcome.stderr
    assert (home / ids.IDENTITY_FILE).exists()


def test_identity_import_is_quiet_when_the_certificate_has_time_left(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    p12 = p12_file(tmp_path, NOW - timedelta(days=1), NOW + timedelta(days=31))
    outcome = run(home, "identity", "import", str(p12), env=KEYED)
    assert outcome.code == 0 and outcome.stderr == "", outcome.stderr


def _ed25519(folder: Path) -> Path:
    key = ed25519.Ed25519PrivateKey.generate()
    return p12_file(folder, NOW - timedelta(days=1), NOW + timedelta(days=300), key=key)


def _rsa_1024(folder: Path) -> Path:
    key = rsa.generate_private_key(65537, 1024)
    return p12_file(folder, NOW - timedelta(days=1), NOW + timedelta(days=300), key=key)


def _written(content: bytes):
    def make(folder: Path) -> Path:
        (folder / "cert.p12").write_bytes(content)
        return folder / "cert.p12"
    return make


BAD_P12 = {
    "empty": _written(b""),
    "random-bytes": _written(os.urandom(512)),
    "a-pdf": _written(b"%PDF-1.7\n%\xe2\xe3\n1 0 obj <<>> endobj\n%%EOF\n"),
    "wrong-passphrase": lambda folder: p12_file(folder, NOW - timedelta(days=1), NOW + timedelta(days=300),
                                                passphrase="another one"),
    "ed25519-key": _ed25519,
    "rsa-1024-key": _rsa_1024,
    "missing-file": lambda folder: folder / "nowhere.p12",
}


@pytest.mark.parametrize("case", BAD_P12, ids=list(BAD_P12))
def test_identity_import_refuses_what_is_not_a_usable_certificate(tmp_path, case):
    home = tmp_path / "home"
    home.mkdir()
    outcome = run(home, "identity", "import", str(BAD_P12[case](tmp_path)), env=KEYED)
    refused(outcome, 2)
    assert list(home.iterdir()) == []


# -- kind 4: signing with a certificate that expired after it was imported --------------------

SIGNING_REFUSED = {
    "expired": (date(2020, 1, 1), "expired on 2021-01-01"),
    "not-yet-valid": (date(2099, 1, 1), "valid only from 2099-01-01"),
}


@pytest.mark.parametrize("case", SIGNING_REFUSED, ids=list(SIGNING_REFUSED))
@pytest.mark.parametrize("kind", ["terms", "dossier"])
def test_pdf_refuses_to_sign_with_a_certificate_outside_its_period(with_terms, tmp_path, case, kind):
    home = with_terms
    not_before, words = SIGNING_REFUSED[case]
    ids.create_identity(home, name="Ana García", email="ana@example.com", passphrase=PASSPHRASE,
                        not_before=not_before, years=1, overwrite=True)
    before = snapshot(home)
    out = tmp_path / "out.pdf"
    outcome = run(home, "pdf", kind, "acme", "-o", str(out), env=KEYED)
    refused(outcome, 1, "cannot sign", words)
    assert not out.exists()
    assert snapshot(home) == before


def test_sign_pdf_refuses_outside_the_period_whatever_the_caller(tmp_path):
    p12 = ids.create_identity(tmp_path, name="Ana", email="ana@example.com", passphrase=PASSPHRASE,
                              not_before=date(2026, 1, 1), years=1)
    identity = ids.load_identity(p12, PASSPHRASE)
    from weasyprint import HTML

    pdf = HTML(string="<p>K1</p>").write_pdf()
    for moment in (datetime(2025, 12, 31, 23, 59, tzinfo=UTC), datetime(2027, 1, 1, 0, 1, tzinfo=UTC)):
        with pytest.raises(Refused, match="cannot sign"):
            signing.sign_pdf(pdf, identity, field_name="Freelancer", reason="r", location="",
                             signing_time=moment)
    signed = signing.sign_pdf(pdf, identity, field_name="Freelancer", reason="r", location="",
                              signing_time=datetime(2026, 6, 1, tzinfo=UTC))
    [report] = signing.verify_pdf(signed, [identity.certificate])
    assert report.certificate_valid and report.sound


# -- kind 4: verify a PDF an older tratos signed with an expired certificate -----------------


def _sign_with_pyhanko(content: bytes, identity: ids.Identity, field: str = "Freelancer") -> bytes:
    """Sign as tratos did before ADR-28: straight through pyHanko, no validity check."""
    from pyhanko.keys.internal import (
        translate_pyca_cryptography_cert_to_asn1,
        translate_pyca_cryptography_key_to_asn1,
    )
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    signer = signers.SimpleSigner(
        signing_cert=translate_pyca_cryptography_cert_to_asn1(identity.certificate),
        signing_key=translate_pyca_cryptography_key_to_asn1(identity.private_key),
        cert_registry=None)
    meta = signers.PdfSignatureMetadata(field_name=field,
                                        subfilter=fields.SigSeedSubFilter.PADES)
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(content)), meta, signer=signer)
    return out.getvalue()


def issue_signed_outside_the_period(home: Path, output: Path) -> None:
    """Issue `terms acme` signed with the home's (out-of-period) key, recorded as issued."""
    from cli.pdf import PdfPrinter
    from cli.session import Session
    from domain.services.documents import issue_document

    identity = ids.load_identity(home / ids.IDENTITY_FILE, PASSPHRASE)
    session = Session(home=str(home), database_url=database_of(home))
    try:
        unsigned = PdfPrinter(session, lang="es", sign=False)

        def printer(handle, kind, ref, *, on):
            printed = unsigned(handle, kind, ref, on=on)
            return dataclasses.replace(printed, content=_sign_with_pyhanko(printed.content, identity),
                                       signed=True)

        issue_document(session.app, printer, "acme", "terms", None, on=date.fromisoformat(TODAY),
                       output=output)
    finally:
        session.close()


@pytest.mark.parametrize("case", SIGNING_REFUSED, ids=list(SIGNING_REFUSED))
def test_verify_fails_a_signature_made_outside_its_certificate_period(with_terms, tmp_path, case,
                                                                     monkeypatch):
    home = with_terms
    not_before, words = SIGNING_REFUSED[case]
    ids.create_identity(home, name="Ana García", email="ana@example.com", passphrase=PASSPHRASE,
                        not_before=not_before, years=1, overwrite=True)
    monkeypatch.setenv("TRATOS_TODAY", TODAY)
    out = tmp_path / "terms.pdf"
    issue_signed_outside_the_period(home, out)
    before = snapshot(home)
    outcome = run(home, "verify", str(out))
    assert outcome.code == 1, outcome.stdout
    assert len(outcome.stderr_lines) == 1, outcome.stderr  # the report on stdout, one `error:` line
    assert outcome.stderr.startswith(f"error: {out} does not verify: ")
    assert "Issued by this store: yes" in outcome.stdout
    verdict = outcome.stdout.splitlines()[-1]
    assert outcome.stderr_lines[0].removeprefix(f"error: {out} does not verify: ") in verdict
    assert verdict.startswith("Verdict: NOT OK") and "validity period" in verdict and words in verdict
    assert "its certificate was not valid when it signed" in outcome.stdout
    as_json = run(home, "--json", "verify", str(out))
    assert as_json.code == 1 and '"certificate_valid": false' in as_json.stdout
    assert snapshot(home) == before
    if shutil.which("pdfsig"):  # poppler (NSS) flags both cases with the same words
        checked = subprocess.run(["pdfsig", str(out)], capture_output=True, text=True, timeout=60)
        assert "Signature is Valid" in checked.stdout, checked.stdout
        assert "Certificate has Expired" in checked.stdout, checked.stdout


@pytest.mark.parametrize("case", SIGNING_REFUSED, ids=list(SIGNING_REFUSED))
def test_a_countersignature_made_outside_its_certificate_period_is_refused(tmp_path, case):
    from weasyprint import HTML

    ours = ids.load_identity(ids.create_identity(
        tmp_path / "ours", name="Ana", email="ana@example.com", passphrase=PASSPHRASE,
        not_before=date(2026, 1, 1)), PASSPHRASE)
    not_before, words = SIGNING_REFUSED[case]
    theirs = ids.load_identity(ids.create_identity(
        tmp_path / "theirs", name="Laura", email="laura@acme.test", passphrase=PASSPHRASE,
        not_before=not_before, years=1), PASSPHRASE)
    original = signing.sign_pdf(HTML(string="<p>K1</p>").write_pdf(), ours, field_name="Freelancer",
                                reason="K1", location="", open_fields=("Client",))
    returned = _sign_with_pyhanko(original, theirs, field="Client")
    with pytest.raises(Refused, match=f"validity period.*{words}"):
        signing.check_countersignature(original, returned, [ours.certificate, theirs.certificate])


# -- kind 9: no terminal and no passphrase ----------------------------------------------------


@pytest.mark.parametrize("command", [("pdf", "terms", "acme"), ("pdf", "dossier", "acme"),
                                     ("identity", "import", "cert.p12")])
def test_no_passphrase_and_no_terminal_is_one_error_line(with_terms, tmp_path, command, monkeypatch):
    home = with_terms
    ids.create_identity(home, name="Ana García", email="ana@example.com", passphrase=PASSPHRASE,
                        not_before=date(2026, 1, 1), overwrite=True)
    p12_file(tmp_path, NOW - timedelta(days=1), NOW + timedelta(days=300))
    monkeypatch.chdir(tmp_path)
    before = snapshot(home)
    outcome = run(home, *command, "--force" if command[0] == "identity" else "--lang=es")
    refused(outcome, 2, "TRATOS_KEY_PASSPHRASE", "no terminal")
    assert "GetPassWarning" not in outcome.stderr and "aborted" not in outcome.stderr
    assert snapshot(home) == before
    assert not any(p.suffix == ".pdf" for p in tmp_path.iterdir())


# -- kind 9: a damaged identity.json ----------------------------------------------------------

DAMAGED = {
    "not-json": b"{bad",
    "empty": b"",
    "truncated": b'{"name": "Ana Garc',
    "not-utf8": b'{"name": "\xff\xfe"}',
    "a-list": b"[]",
    "a-string": b'"Ana"',
    "null": b"null",
    "a-number-for-a-name": b'{"name": 5, "email": "a@x.es"}',
    "nested-deeply": b"[" * 100_000,
    "nul-bytes": b"\x00" * 64,
}


@pytest.mark.parametrize("command", [("status",), ("pdf", "terms", "acme"), ("identity", "show"),
                                     ("note", "acme", "hello")])
@pytest.mark.parametrize("case", DAMAGED, ids=list(DAMAGED))
def test_a_damaged_identity_json_is_one_error_line(with_terms, tmp_path, case, command, monkeypatch):
    home = with_terms
    (home / "identity.json").write_bytes(DAMAGED[case])
    monkeypatch.chdir(tmp_path)
    before = snapshot(home)
    outcome = run(home, *command, env=KEYED)
    refused(outcome, 1, "identity.json is damaged", "tratos init --force")
    assert snapshot(home) == before
    assert not any(p.suffix == ".pdf" for p in tmp_path.iterdir())


def test_identity_json_that_is_a_folder_is_one_error_line(with_terms):
    home = with_terms
    (home / "identity.json").unlink()
    (home / "identity.json").mkdir()
    before = store_rows(home)
    refused(run(home, "status"), 1, "identity.json is damaged")
    assert store_rows(home) == before


@pytest.mark.parametrize("name", ["Ana \u202eGarc\u00eda", "Ana\nGarcia"])
def test_a_name_against_the_text_policy_records_nothing(with_terms, name):
    """The name in identity.json is the actor of every event: a name `init` would not write is the
    damaged file's line (ADR-70), before anything is recorded."""
    home = with_terms
    (home / "identity.json").write_text(json.dumps({"name": name, "email": "a@x.es"}), encoding="utf-8")
    before = store_rows(home)
    refused(run(home, "note", "acme", "hello"), 1, "identity.json is damaged (its name is not a name as `init` writes it")
    assert store_rows(home) == before


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_identity_json_that_is_not_a_regular_file_is_one_error_line_not_a_hang(with_terms, kind):
    home = with_terms
    (home / "identity.json").unlink()
    if kind == "fifo":
        os.mkfifo(home / "identity.json")
    else:
        (home / "identity.json").symlink_to("/dev/zero")
    before = store_rows(home)
    refused(run(home, "note", "acme", "hello"), 1, "identity.json is damaged")
    assert store_rows(home) == before


def test_init_force_mends_a_damaged_identity_json(with_terms):
    home = with_terms
    (home / "identity.json").write_bytes(b"{bad")
    assert run(home, "init", "--force", "--name", "Ana García", "--email", "ana@example.com").code == 0
    assert run(home, "status").code == 0


# -- kind 8: library warnings and log records stay off stderr ---------------------------------


def tratos_script(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """The real console script in a fresh interpreter, where pyHanko's import warns afresh."""
    script = Path(sys.executable).parent / "tratos"
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TRATOS_TODAY": TODAY,
                   "TRATOS_KEY_PASSPHRASE": PASSPHRASE, **env}
    return subprocess.run([str(script), *store_args(home), *args], capture_output=True, text=True,
                          env=environment, timeout=120)


def test_pdf_and_verify_print_no_library_warning(with_terms, tmp_path):
    home = with_terms
    ids.create_identity(home, name="Ana García", email="ana@example.com", passphrase=PASSPHRASE,
                        not_before=date(2026, 1, 1), overwrite=True)
    out = tmp_path / "terms.pdf"
    done = tratos_script(home, "pdf", "terms", "acme", "-o", str(out))
    assert done.returncode == 0 and done.stderr == "", done.stderr
    checked = tratos_script(home, "verify", str(out))
    assert checked.returncode == 0 and checked.stderr == "", checked.stderr
    assert "Verdict: OK" in checked.stdout


def test_a_refused_pdf_prints_only_its_error_line(with_terms, tmp_path):
    home = with_terms
    ids.create_identity(home, name="Ana García", email="ana@example.com", passphrase=PASSPHRASE,
                        not_before=date(2020, 1, 1), years=1, overwrite=True)
    before = snapshot(home)
    done = tratos_script(home, "pdf", "terms", "acme", "-o", str(tmp_path / "terms.pdf"))
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot sign"), done.stderr
    assert "Warning" not in done.stderr
    assert snapshot(home) == before


QUIET_PROBE = (
    "import logging, warnings\n"
    "from cli.main import _libraries_quiet\n"
    "with _libraries_quiet():\n"
    "    warnings.warn('a library deprecation', DeprecationWarning)\n"
    "    from cryptography.utils import CryptographyDeprecationWarning\n"
    "    warnings.warn('DSA is deprecated', CryptographyDeprecationWarning)\n"
    "    for name in ('pyhanko', 'weasyprint', 'fontTools.subset', 'fontTools'):\n"
    "        logging.getLogger(name).warning('%s says something', name)\n"
)


@pytest.mark.parametrize("debug, heard", [(None, False), ("1", True)])
def test_library_noise_is_heard_only_when_debugging(debug, heard):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONWARNINGS": "default"}
    if debug:
        env["TRATOS_DEBUG"] = debug
    done = subprocess.run([sys.executable, "-c", QUIET_PROBE], capture_output=True, text=True,
                          env=env, timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    if heard:
        assert "DSA is deprecated" in done.stderr and "fontTools.subset says" in done.stderr
    else:
        assert done.stderr == ""
