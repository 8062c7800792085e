"""Signing identities and PAdES signatures on real PDFs (WeasyPrint renders, pyHanko signs).

Nothing is mocked: each PDF is rendered from HTML, signed with keys made here,
and checked by pyHanko, and by poppler's `pdfsig` too when it is installed
(`apt-get install poppler-utils`); without it those assertions are skipped.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from documents import identity as ids
from documents import signing
from domain.model.errors import BadInput, Refused

PASSPHRASE = "correct horse battery staple"
SIGNED_AT = datetime(2026, 1, 15, 10, 30, tzinfo=UTC)
CLIENT_SIGNED_AT = datetime(2026, 1, 20, 16, 0, tzinfo=UTC)

HTML = """<!doctype html>
<html lang="es"><head><meta charset="utf-8">
<meta name="dcterms.created" content="2026-01-15T10:00:00Z">
<meta name="dcterms.modified" content="2026-01-15T10:00:00Z">
<title>Contrato K1</title>
<style>
  @page { size: A4; margin: 2cm; }
  body { font-family: "DejaVu Sans", sans-serif; font-size: 11pt; }
</style></head>
<body>
  <h1>Contrato K1 — Rediseño web</h1>
  <p>Entre Ana Pérez y Acme S.L. Precio: 8.000,00 €. Inicio: 15 de enero de 2026.</p>
</body></html>
"""


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def unsigned_pdf() -> bytes:
    from weasyprint import HTML as WeasyHTML

    pdf = WeasyHTML(string=HTML).write_pdf()
    assert pdf.startswith(b"%PDF-")
    return pdf


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="module")
def freelancer_p12(keys_dir: Path) -> Path:
    return ids.create_identity(
        keys_dir / "freelancer",
        name="Ana Pérez",
        email="ana@example.com",
        passphrase=PASSPHRASE,
        not_before=date(2026, 1, 1),
    )


@pytest.fixture(scope="module")
def freelancer(freelancer_p12: Path) -> ids.Identity:
    return ids.load_identity(freelancer_p12, PASSPHRASE)


@pytest.fixture(scope="module")
def client(keys_dir: Path) -> ids.Identity:
    """The client's own key, made here as the client's software would."""
    path = ids.create_identity(
        keys_dir / "client",
        name="Acme S.L.",
        email="legal@acme.example",
        passphrase="client pass",
        not_before=date(2025, 6, 1),
    )
    return ids.load_identity(path, "client pass")


@pytest.fixture(scope="module")
def issued(unsigned_pdf: bytes, freelancer: ids.Identity) -> bytes:
    """The contract as tratos sends it: signed by the freelancer, a `Client` field left open."""
    return signing.sign_pdf(
        unsigned_pdf,
        freelancer,
        field_name="Freelancer",
        reason="Contrato K1",
        location="Madrid",
        signing_time=SIGNED_AT,
        open_fields=("Client",),
    )


@pytest.fixture(scope="module")
def returned(issued: bytes, client: ids.Identity) -> bytes:
    """What the client sends back: its signature added as an incremental update."""
    return signing.sign_pdf(
        issued,
        client,
        field_name="Client",
        reason="Aceptado",
        location="Bilbao",
        signing_time=CLIENT_SIGNED_AT,
    )


def pdfsig(pdf: bytes, tmp_path: Path) -> str | None:
    """poppler's report on the file, or None when pdfsig is not installed."""
    exe = shutil.which("pdfsig")
    if exe is None:
        return None
    path = tmp_path / "checked.pdf"
    path.write_bytes(pdf)
    done = subprocess.run([exe, str(path)], capture_output=True, text=True, timeout=30)
    return done.stdout + done.stderr


def flip_byte(pdf: bytes, at: int) -> bytes:
    return pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]


def first_stream_byte(pdf: bytes) -> int:
    """A byte inside the first stream's data: covered by the signature, harmless to parsing."""
    return pdf.index(b"stream\n") + len(b"stream\n") + 8


def self_signed_p12(key, common_name: str, passphrase: bytes) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime(2026, 1, 1, tzinfo=UTC)
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(key, algorithm)
    )
    return pkcs12.serialize_key_and_certificates(
        b"imported", key, cert, None, serialization.BestAvailableEncryption(passphrase)
    )


# -- identity --------------------------------------------------------------------------------


def test_created_identity_is_a_p256_self_signed_certificate_for_ten_years(
    freelancer_p12: Path, freelancer: ids.Identity
) -> None:
    info = ids.describe(freelancer_p12, PASSPHRASE)

    assert freelancer_p12.name == "identity.p12"
    assert freelancer_p12.stat().st_mode & 0o077 == 0
    assert info.subject == "CN=Ana Pérez, E=ana@example.com"
    assert info.issuer == info.subject and info.self_signed
    assert info.not_before == datetime(2026, 1, 1, tzinfo=UTC)
    assert info.not_after == datetime(2036, 1, 1, tzinfo=UTC)
    assert info.key_type == "ECDSA secp256r1"
    der = freelancer.certificate.public_bytes(serialization.Encoding.DER)
    assert info.fingerprint_sha256 == hashlib.sha256(der).hexdigest() == freelancer.fingerprint
    usage = freelancer.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment  # nonRepudiation
    assert not usage.key_cert_sign


def test_wrong_passphrase_is_a_one_line_bad_input(freelancer_p12: Path) -> None:
    with pytest.raises(BadInput) as caught:
        ids.load_identity(freelancer_p12, "not the passphrase")
    message = str(caught.value)
    assert "wrong passphrase" in message and "\n" not in message
    with pytest.raises(BadInput, match="wrong passphrase"):
        ids.describe(freelancer_p12, "")


def test_an_existing_identity_is_not_overwritten(freelancer_p12: Path) -> None:
    before = freelancer_p12.read_bytes()
    with pytest.raises(Refused, match="already exists"):
        ids.create_identity(
            freelancer_p12.parent,
            name="Someone Else",
            email="else@example.com",
            passphrase="x",
            not_before=date(2026, 1, 1),
        )
    assert freelancer_p12.read_bytes() == before


def test_imported_rsa_identity_signs_and_verifies(unsigned_pdf: bytes, tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    source = self_signed_p12(key, "Ana Pérez (FNMT)", b"from the CA")

    target = ids.import_identity(
        source, "from the CA", tmp_path / "home", new_passphrase=PASSPHRASE
    )
    imported = ids.load_identity(target, PASSPHRASE)
    info = ids.describe(imported)
    signed = signing.sign_pdf(
        unsigned_pdf, imported, field_name="Freelancer", reason="Contrato", location="Madrid"
    )
    [report] = signing.verify_pdf(signed, [imported.certificate])

    assert info.key_type == "RSA-2048" and info.subject == "CN=Ana Pérez (FNMT)"
    assert report.ok and report.coverage == signing.ENTIRE_FILE
    assert report.signer_fingerprint == info.fingerprint_sha256
    with pytest.raises(BadInput, match="wrong passphrase"):
        ids.load_identity(target, "from the CA")  # stored under the new passphrase
    output = pdfsig(signed, tmp_path)
    if output is not None:
        assert output.count("Signature is Valid") == 1, output


def test_ed25519_identity_is_refused_because_readers_cannot_check_it(tmp_path: Path) -> None:
    source = self_signed_p12(ed25519.Ed25519PrivateKey.generate(), "Edwards", b"pw")

    with pytest.raises(BadInput, match="Ed25519.*poppler"):
        ids.import_identity(source, "pw", tmp_path)
    assert not (tmp_path / ids.IDENTITY_FILE).exists()


# -- signing and verification ----------------------------------------------------------------


def test_signed_pdf_verifies_intact_over_the_whole_file(
    unsigned_pdf: bytes, issued: bytes, freelancer: ids.Identity, tmp_path: Path
) -> None:
    [report] = signing.verify_pdf(issued, [freelancer.certificate])

    assert issued.startswith(unsigned_pdf)  # an incremental update
    assert report.field_name == "Freelancer"
    assert report.signer_subject == "CN=Ana Pérez, E=ana@example.com"
    assert report.signer_fingerprint == freelancer.fingerprint
    assert report.signing_time == SIGNED_AT
    assert (report.intact, report.valid, report.trusted) == (True, True, True)
    assert report.coverage == signing.ENTIRE_FILE and report.revision == 1
    assert report.ok and report.problem is None
    assert b"/ETSI.CAdES.detached" in issued  # PAdES, not adbe.pkcs7.detached
    output = pdfsig(issued, tmp_path)
    if output is not None:
        assert output.count("Signature is Valid") == 1, output
        assert "Total document signed" in output


def test_untrusted_signature_is_intact_but_not_ok(issued: bytes, client: ids.Identity) -> None:
    [report] = signing.verify_pdf(issued, [client.certificate])

    assert report.intact and report.valid and report.sound
    assert not report.trusted and not report.ok
    assert report.problem == "the certificate is not among the trusted ones"


def test_one_changed_byte_breaks_the_signature(
    issued: bytes, freelancer: ids.Identity, tmp_path: Path
) -> None:
    tampered = flip_byte(issued, first_stream_byte(issued))

    [report] = signing.verify_pdf(tampered, [freelancer.certificate])

    assert not report.intact
    assert not report.ok and not report.bottom_line and not report.sound
    assert report.problem == "the signed bytes were changed"
    output = pdfsig(tampered, tmp_path)
    if output is not None:
        assert "Signature is Valid" not in output, output


def test_unsigned_pdf_has_no_signatures(unsigned_pdf: bytes) -> None:
    assert signing.verify_pdf(unsigned_pdf) == []


def test_garbage_is_not_a_pdf(freelancer: ids.Identity) -> None:
    with pytest.raises(BadInput, match="not a"):
        signing.verify_pdf(b"hello, not a pdf")
    with pytest.raises(BadInput, match="not a PDF"):
        signing.sign_pdf(b"hello", freelancer, field_name="Freelancer", reason="r", location="l")


def test_signing_a_field_twice_is_refused(issued: bytes, freelancer: ids.Identity) -> None:
    with pytest.raises(Refused, match="Freelancer"):
        signing.sign_pdf(issued, freelancer, field_name="Freelancer", reason="r", location="l")


def test_sync_api_works_inside_a_running_event_loop(
    issued: bytes, freelancer: ids.Identity
) -> None:
    async def inside_a_loop() -> list[signing.SignatureReport]:
        return signing.verify_pdf(issued, [freelancer.certificate])

    [report] = asyncio.run(inside_a_loop())
    assert report.ok


# -- the client's countersignature -----------------------------------------------------------


def test_client_countersignature_is_accepted_and_both_signatures_hold(
    issued: bytes,
    returned: bytes,
    freelancer: ids.Identity,
    client: ids.Identity,
    tmp_path: Path,
) -> None:
    accepted = signing.check_countersignature(issued, returned)

    assert accepted.signer_fingerprint == client.fingerprint != freelancer.fingerprint
    assert accepted.signer_subject == "CN=Acme S.L., E=legal@acme.example"
    assert accepted.field_name == "Client"
    assert accepted.signing_time == CLIENT_SIGNED_AT
    assert accepted.original_sha256 == hashlib.sha256(issued).hexdigest()
    ours, theirs = signing.verify_pdf(returned, [freelancer.certificate, client.certificate])
    assert ours.field_name == "Freelancer" and ours.ok
    assert ours.coverage == signing.ENTIRE_REVISION and ours.modification == "form_filling"
    assert theirs.field_name == "Client" and theirs.ok
    assert theirs.coverage == signing.ENTIRE_FILE and theirs.revision > ours.revision
    output = pdfsig(returned, tmp_path)
    if output is not None:
        assert output.count("Signature is Valid") == 2, output


def test_countersignature_in_a_new_field_is_accepted_too(
    unsigned_pdf: bytes, freelancer: ids.Identity, client: ids.Identity
) -> None:
    ours = signing.sign_pdf(
        unsigned_pdf, freelancer, field_name="Freelancer", reason="r", location="l"
    )
    theirs = signing.sign_pdf(ours, client, field_name="Client", reason="ok", location="l")

    assert signing.check_countersignature(ours, theirs).signer_fingerprint == client.fingerprint


def test_returned_file_with_an_altered_first_revision_is_refused(
    issued: bytes, returned: bytes
) -> None:
    altered = flip_byte(returned, first_stream_byte(returned))

    with pytest.raises(Refused, match="first revision differs") as caught:
        signing.check_countersignature(issued, altered)
    assert "\n" not in str(caught.value)


def test_returned_file_saved_again_instead_of_signed_incrementally_is_refused(
    issued: bytes, client: ids.Identity
) -> None:
    from pypdf import PdfReader, PdfWriter

    rewritten = io.BytesIO()
    PdfWriter(clone_from=PdfReader(io.BytesIO(issued))).write(rewritten)
    resigned = signing.sign_pdf(
        rewritten.getvalue(), client, field_name="Client2", reason="ok", location="l"
    )

    with pytest.raises(Refused, match="first revision differs"):
        signing.check_countersignature(issued, resigned)


def test_content_changed_in_an_update_before_the_client_signed_is_refused(
    issued: bytes, client: ids.Identity
) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(issued))
    page_ref = writer.root["/Pages"].raw_get("/Kids")[0]
    page = page_ref.get_object()
    page["/MediaBox"] = generic.ArrayObject(map(generic.NumberObject, (0, 0, 300, 300)))
    writer.update_container(page)
    changed = io.BytesIO()
    writer.write(changed)
    countersigned = signing.sign_pdf(
        changed.getvalue(), client, field_name="Client", reason="ok", location="l"
    )

    with pytest.raises(Refused, match="'Freelancer' of the issued document does not hold"):
        signing.check_countersignature(issued, countersigned)


def test_returned_file_without_a_new_signature_is_refused(issued: bytes) -> None:
    with pytest.raises(Refused, match="nobody signed"):
        signing.check_countersignature(issued, issued)
    with pytest.raises(Refused, match="no signature added"):
        signing.check_countersignature(issued, issued + b"\n% trailing comment\n")


def test_returned_file_changed_after_the_client_signed_is_refused(
    issued: bytes, returned: bytes
) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(returned))
    writer.set_info(generic.DictionaryObject({generic.pdf_name("/Title"): generic.pdf_string("x")}))
    later = io.BytesIO()
    writer.write(later)

    with pytest.raises(Refused, match="does not cover the whole file"):
        signing.check_countersignature(issued, later.getvalue())


def test_countersignature_with_the_issuers_own_key_is_refused(
    issued: bytes, freelancer: ids.Identity
) -> None:
    self_countersigned = signing.sign_pdf(
        issued, freelancer, field_name="Client", reason="r", location="l"
    )
    with pytest.raises(Refused, match="not with the client's"):
        signing.check_countersignature(issued, self_countersigned)


# -- import cost -----------------------------------------------------------------------------


def test_importing_documents_loads_neither_weasyprint_nor_pyhanko() -> None:
    probe = (
        "import sys, documents, documents.identity, documents.signing\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('weasyprint', 'pyhanko'))\n"
        "print(heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
