"""Trusted time on signatures and anchors, against a real RFC 3161 authority on 127.0.0.1.

The TSA is certomancer's (tests/tsa.py): its tokens are real CMS signatures by a
test PKI's TSA certificate. Nothing here is mocked: tokens are read back with
asn1crypto and checked by hand (imprint, time) as well as through pyHanko, and
signed PDFs are checked by poppler's `pdfsig` when it is installed.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from documents import identity as ids
from documents import signing
from documents.timestamps import Timestamping, check_token, request_token
from domain.adapters.certificates import read_certificates
from domain.model.errors import BadInput

PASSPHRASE = "correct horse battery staple"
SIGNING_TIME = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)  # the business date's claim; the token says the real time


@pytest.fixture(scope="module")
def unsigned_pdf() -> bytes:
    from weasyprint import HTML

    return HTML(string="<h1>Contrato K1</h1><p>Precio: 8.000,00 €</p>").write_pdf()


@pytest.fixture(scope="module")
def freelancer(tmp_path_factory: pytest.TempPathFactory) -> ids.Identity:
    p12 = ids.create_identity(tmp_path_factory.mktemp("keys"), name="Ana Pérez", email="ana@example.com",
                              passphrase=PASSPHRASE, not_before=date(2026, 1, 1))
    return ids.load_identity(p12, PASSPHRASE)


@pytest.fixture(scope="module")
def roots(tsa) -> tuple:
    return tuple(read_certificates(tsa.root_pem(), "the test TSA's root"))


def sign(pdf: bytes, who: ids.Identity, timestamping: Timestamping | None) -> bytes:
    return signing.sign_pdf(pdf, who, field_name="Freelancer", reason="Contract K1", location="Madrid",
                            signing_time=SIGNING_TIME, timestamping=timestamping)


def signature_token(pdf: bytes):
    """The timestamp token in the unsigned attributes of the file's last signature, and that signature."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    signature = PdfFileReader(io.BytesIO(pdf)).embedded_regular_signatures[-1]
    attributes = signature.signer_info["unsigned_attrs"]
    tokens = [a["values"][0] for a in attributes if a["type"].native == "signature_time_stamp_token"]
    assert len(tokens) == 1, "the signature carries no timestamp token"
    return tokens[0], signature


def pdfsig(pdf: bytes, tmp_path: Path) -> str:
    if shutil.which("pdfsig") is None:
        pytest.skip("poppler-utils (pdfsig) not installed")
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60).stdout


class TestSignatureTimestamp:
    def test_a_b_t_signature_carries_a_token_of_now_over_its_own_signature_value(
            self, unsigned_pdf, freelancer, tsa, roots, tmp_path):
        before = datetime.now(UTC)
        signed = sign(unsigned_pdf, freelancer, Timestamping(tsa.url, roots))
        after = datetime.now(UTC)
        token, signature = signature_token(signed)
        info = token["content"]["encap_content_info"]["content"].parsed
        assert before - timedelta(seconds=1) <= info["gen_time"].native <= after + timedelta(seconds=1)
        imprint = info["message_imprint"]
        assert imprint["hash_algorithm"]["algorithm"].native == "sha256"
        assert imprint["hashed_message"].native == hashlib.sha256(signature.signer_info["signature"].native).digest()
        assert signed.startswith(unsigned_pdf)
        [report] = signing.verify_pdf(signed, [freelancer.certificate], roots)
        assert report.sound and report.trusted and report.signing_time == SIGNING_TIME  # /M keeps the business date's claim
        stamp = report.timestamp
        assert stamp is not None and stamp.ok and stamp.authority.endswith("CN=Tratos Test TSA Time Stamping")
        assert stamp.time == info["gen_time"].native
        out = pdfsig(signed, tmp_path)
        assert out.count("Signature is Valid.") == 1, out

    def test_b_b_without_a_tsa_has_no_token(self, unsigned_pdf, freelancer):
        [report] = signing.verify_pdf(sign(unsigned_pdf, freelancer, None), [freelancer.certificate])
        assert report.sound and report.trusted and report.timestamp is None

    def test_b_lta_embeds_validation_data_and_a_document_timestamp(
            self, unsigned_pdf, freelancer, tsa, roots, tmp_path):
        signed = sign(unsigned_pdf, freelancer, Timestamping(tsa.url, roots, lta=True))
        [report] = signing.verify_pdf(signed, [freelancer.certificate], roots)
        assert report.sound and report.timestamp.ok
        assert report.modification == "lta_updates"
        [document_stamp] = signing.verify_document_timestamps(signed, roots)
        assert document_stamp.ok and document_stamp.time >= report.timestamp.time
        assert b"/DSS" in signed
        out = pdfsig(signed, tmp_path)
        # poppler checks every signature; it lists the document timestamp but does not check RFC 3161 ones
        assert out.count("Signature Type: ETSI.CAdES.detached") == 1 and "Signature is Valid." in out, out
        assert "Invalid" not in out, out

    def test_a_token_from_an_authority_not_trusted_is_reported_untrusted(
            self, unsigned_pdf, freelancer, tsa, roots):
        signed = sign(unsigned_pdf, freelancer, Timestamping(tsa.rogue_url))  # no roots: nothing to refuse it
        [report] = signing.verify_pdf(signed, [freelancer.certificate], roots)
        assert report.sound and report.trusted  # the signature itself holds
        assert report.timestamp.intact and report.timestamp.valid and not report.timestamp.trusted
        assert "Rogue Test TSA" in report.timestamp.authority

    def test_with_roots_given_a_token_from_another_authority_is_refused(self, unsigned_pdf, freelancer, tsa, roots):
        with pytest.raises(BadInput, match="does not chain to the roots"):
            sign(unsigned_pdf, freelancer, Timestamping(tsa.rogue_url, roots))

    def test_an_authority_that_is_down_is_one_line_of_bad_input(self, unsigned_pdf, freelancer, own_tsa, roots):
        url = own_tsa.url
        own_tsa.stop()
        with pytest.raises(BadInput) as raised:
            sign(unsigned_pdf, freelancer, Timestamping(url, roots))
        message = str(raised.value)
        assert "\n" not in message and "connection refused" in message and "--no-timestamp" in message

    def test_an_answer_that_is_no_token_is_bad_input(self, unsigned_pdf, freelancer, tsa, roots):
        with pytest.raises(BadInput, match="gave no usable answer"):
            sign(unsigned_pdf, freelancer, Timestamping(tsa.base + "/nowhere/tsa/tsa", roots))


class TestAnchorToken:
    NOTE = b"# Chain heads\ntratos-anchor v1 acme 3 " + b"ab" * 32 + b"\n"

    def test_a_token_over_the_note_verifies_with_its_time(self, tsa, roots):
        before = datetime.now(UTC)
        answer, asked = request_token(Timestamping(tsa.url, roots), self.NOTE)
        report = check_token(answer, self.NOTE, roots)
        assert report.ok and report.time == asked.time
        assert before - timedelta(seconds=1) <= report.time <= datetime.now(UTC) + timedelta(seconds=1)
        if shutil.which("openssl"):  # the .tsr is a standard TimeStampResp: openssl reads it too
            self._openssl_verifies(answer, tsa)

    def _openssl_verifies(self, answer: bytes, tsa) -> None:
        folder = tsa.folder
        (folder / "note.txt").write_bytes(self.NOTE)
        (folder / "note.txt.tsr").write_bytes(answer)
        root = tsa.write_root()
        done = subprocess.run(["openssl", "ts", "-verify", "-data", str(folder / "note.txt"), "-in",
                               str(folder / "note.txt.tsr"), "-CAfile", str(root)], capture_output=True, text=True)
        assert "Verification: OK" in done.stdout, done.stderr

    def test_the_same_token_on_a_changed_note_does_not_hold(self, tsa, roots):
        answer, _ = request_token(Timestamping(tsa.url, roots), self.NOTE)
        changed = self.NOTE.replace(b" 3 ", b" 2 ")
        report = check_token(answer, changed, roots)
        assert not report.intact and not report.ok and "other bytes" in report.problem

    def test_a_token_from_an_authority_not_trusted_is_reported_untrusted(self, tsa, roots):
        answer, _ = request_token(Timestamping(tsa.rogue_url), self.NOTE)
        report = check_token(answer, self.NOTE, roots)
        assert report.intact and report.valid and not report.trusted and not report.ok
        assert "not trusted" in report.verdict.lower()

    def test_bytes_that_are_no_token_are_bad_input(self, roots):
        with pytest.raises(BadInput, match="not an RFC 3161 timestamp token"):
            check_token(b"not a token", self.NOTE, roots)
