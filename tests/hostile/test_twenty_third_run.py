"""The twenty-third adversarial run (ADR-91): what it found, fixed where each lives.

1. a certificate its issuer limited to other uses than signing (key usage keyEncipherment only, an
   extended key usage for web servers only) was imported, signed PDFs and billing records, and
   `verify` called them valid, where pdfsig does not: `signing_problem` (documents/identity.py),
   the one rule import, every signature and every verification go through, names it;
2. `import` stopped after its one transaction had committed said "aborted after it recorded part of
   it", of an import that is all or nothing: it says the file was imported whole;
3. a signal while the console script loaded the command line ended it with the system's 143 (Ctrl-C
   there said "aborted"): the script takes the ending signals before it loads anything of tratos.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from backends import SCRIPT
from cli_support import TODAY, ok, refused, run, store_args, store_rows
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from documents.identity import signing_problem, usage_problem, validity_problem

KEYED = {"TRATOS_KEY_PASSPHRASE": "s3cret passphrase"}


def _usage(**flags: bool) -> x509.KeyUsage:
    names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
             "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
    return x509.KeyUsage(**{name: flags.get(name, False) for name in names})


LIMITS = {  # name: (extensions, what is said, or None where it may sign)
    "encipherment-only": ([_usage(key_encipherment=True)], "its key usage has neither digitalSignature"),
    "web-server-only": ([x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])], "its extended key usage"),
    "signature": ([_usage(digital_signature=True)], None),
    "non-repudiation": ([_usage(content_commitment=True)], None),
    "email": ([_usage(digital_signature=True), x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION])], None),
    "none-stated": ([], None),
}


def _certificate(extensions: list[x509.ExtensionType],
                 curve: ec.EllipticCurve | None = None) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(curve or ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Ana García"),
                         x509.NameAttribute(NameOID.EMAIL_ADDRESS, "ana@example.com")])
    now = datetime.now(UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
               .not_valid_after(now + timedelta(days=900)))
    for extension in extensions:
        builder = builder.add_extension(extension, critical=True)
    return key, builder.sign(key, hashes.SHA256())


@pytest.mark.parametrize("name", list(LIMITS))
def test_what_its_issuer_limited_a_certificate_to_decides_whether_it_signs(name: str) -> None:
    extensions, said = LIMITS[name]
    _, certificate = _certificate(extensions)
    problem, unfit = usage_problem(certificate), signing_problem(certificate)
    assert validity_problem(certificate, datetime.now(UTC)) is None  # in its period: its uses decide
    if said is None:
        assert (problem, unfit) == (None, None)
    else:
        assert said in problem and unfit.startswith("the certificate of ") and unfit.endswith(problem)


@pytest.mark.parametrize("name", ["encipherment-only", "web-server-only"])
def test_a_certificate_not_issued_for_signing_is_not_imported(kept: Path, tmp_path: Path, name: str) -> None:
    key, certificate = _certificate(LIMITS[name][0])
    p12 = tmp_path / "limited.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"ana", key, certificate, None, serialization.BestAvailableEncryption(KEYED["TRATOS_KEY_PASSPHRASE"].encode())))
    before = (kept / "identity.p12").read_bytes()
    said = refused(kept, ("identity", "import", str(p12), "--force"), 1, "limited.p12 cannot sign: the certificate of",
                   env=KEYED)
    assert LIMITS[name][1] in said and said.rstrip().endswith("nothing was imported")
    assert (kept / "identity.p12").read_bytes() == before


def test_a_certificate_issued_for_signing_is_imported(kept: Path, tmp_path: Path) -> None:
    key, certificate = _certificate(LIMITS["email"][0])
    p12 = tmp_path / "signing.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"ana", key, certificate, None, serialization.BestAvailableEncryption(KEYED["TRATOS_KEY_PASSPHRASE"].encode())))
    assert ok(kept, "identity", "import", str(p12), "--force", env=KEYED).code == 0


def test_an_import_stopped_after_its_transaction_says_it_was_imported_whole(tmp_path: Path) -> None:
    """The clause a stop after import's commit gets, from a real commit counted as `import` counts it."""
    from cli.session import Session
    from domain.adapters.interruptions import counted_save

    session = Session(home=str(tmp_path))
    session.recorded_so_far = lambda: "backup.jsonl was imported whole"
    assert session.what_was_recorded() is None  # nothing committed yet: "aborted"
    with counted_save():
        pass  # the import's transaction, committed
    assert session.what_was_recorded() == "backup.jsonl was imported whole"


def _loading(pid: int) -> bool:
    """Whether process `pid` has mapped decimal's C module: the console script is loading the command line."""
    try:
        return "_decimal" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc")
def test_a_signal_while_the_command_line_loads_is_aborted_in_one_line(kept: Path) -> None:
    env = {**os.environ, "TRATOS_TODAY": TODAY, **KEYED}
    before = len(store_rows(kept))
    for _ in range(4):
        process = subprocess.Popen([str(SCRIPT), *store_args(kept), "note", "acme", "a call"], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not _loading(process.pid) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.0005)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 1, (process.returncode, err)
        assert err.splitlines() in (["error: aborted"],
                                    ["error: aborted after it recorded acme: note recorded; nothing more was done"])
    assert run(kept, "audit", "verify", env=KEYED).code == 0
    assert len(store_rows(kept)) - before <= 4
