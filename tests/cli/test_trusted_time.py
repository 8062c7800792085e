"""Trusted time through the command line: `identity tsa`, B-T/B-LTA documents, `audit anchor --tsa`.

Every test runs against a real RFC 3161 authority on 127.0.0.1 (certomancer, tests/tsa.py)
and on each backend (`cli_home`). "Nothing changed" is checked on the stored rows and the
files, not through tratos' own classes.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cli_support import evidence_files, ok, run, store_rows

PASS = {"TRATOS_KEY_PASSPHRASE": "our secret"}
CONTRACT = ("contract", "draft", "acme", "--title", "Website", "--scope", "Design and build",
            "--price", "8000EUR", "--start", "2026-01-15", "--end", "2026-03-15", "--on", "2026-01-10")


def set_up(home: Path, tsa, *extra: str) -> None:
    """An identity with a key, acme with a drafted contract, and the test TSA (trusted) set."""
    ok(home, "init", "--name", "Ana García", "--email", "ana@example.com", env=PASS)
    ok(home, "client", "open", "acme", "--name", "Acme Consulting SL", "--on", "2026-01-05")
    ok(home, *CONTRACT)
    ok(home, "identity", "tsa", tsa.url, "--trust", str(tsa.write_root()), *extra)


def token_time(pdf: bytes) -> datetime:
    """The time of the timestamp token on the file's first signature, read with asn1crypto."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    signature = PdfFileReader(io.BytesIO(pdf)).embedded_regular_signatures[0]
    [token] = [a["values"][0] for a in signature.signer_info["unsigned_attrs"]
               if a["type"].native == "signature_time_stamp_token"]
    imprint = token["content"]["encap_content_info"]["content"].parsed["message_imprint"]["hashed_message"]
    assert imprint.native == hashlib.sha256(signature.signer_info["signature"].native).digest()
    return token["content"]["encap_content_info"]["content"].parsed["gen_time"].native


def snapshot(home: Path) -> tuple:
    files = sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file() and "evidence" not in p.parts
                   and not p.name.startswith("tratos.sqlite"))
    return store_rows(home), evidence_files(home), files


class TestIdentityTsa:
    def test_sets_the_authority_after_asking_it_once(self, cli_home, tsa):
        ok(cli_home, "init", "--name", "Ana García", "--email", "ana@example.com", env=PASS)
        root = tsa.write_root()
        done = ok(cli_home, "identity", "tsa", tsa.url, "--trust", str(root))
        assert "Tratos Test TSA Time Stamping" in done.stdout and "PAdES B-T" in done.stdout
        identity = json.loads((cli_home / "identity.json").read_text())
        assert identity["tsa_url"] == tsa.url and identity["tsa_lta"] == "no"
        assert (cli_home / "tsa-roots.pem").read_bytes().strip() == root.read_bytes().strip()
        assert "PAdES B-LTA" in ok(cli_home, "identity", "tsa", tsa.url, "--lta").stdout
        ok(cli_home, "identity", "tsa", "none")
        assert "tsa_url" not in json.loads((cli_home / "identity.json").read_text())

    def test_an_authority_not_chaining_to_the_roots_changes_nothing(self, cli_home, tsa):
        ok(cli_home, "init", "--name", "Ana García", "--email", "ana@example.com", env=PASS)
        before = (cli_home / "identity.json").read_bytes()
        outcome = run(cli_home, "identity", "tsa", tsa.rogue_url, "--trust", str(tsa.write_root()))
        assert outcome.code == 2 and len(outcome.stderr_lines) == 1
        assert outcome.stderr.startswith("error: ") and "does not chain to the roots" in outcome.stderr
        assert (cli_home / "identity.json").read_bytes() == before and not (cli_home / "tsa-roots.pem").exists()

    def test_lta_needs_the_roots(self, cli_home, tsa):
        ok(cli_home, "init", "--name", "Ana García", "--email", "ana@example.com", env=PASS)
        outcome = run(cli_home, "identity", "tsa", tsa.url, "--lta")
        assert outcome.code == 2 and "give its root with --trust" in outcome.stderr

    def test_init_asks_the_authority_before_it_keeps_it(self, cli_home):
        outcome = run(cli_home, "init", "--name", "Ana García", "--email", "ana@example.com",
                      "--tsa-url", "http://127.0.0.1:9/tsr", env=PASS)
        assert outcome.code == 2 and len(outcome.stderr_lines) == 1, outcome.stderr
        assert outcome.stderr.startswith("error: the time-stamping authority at http://127.0.0.1:9/tsr")
        assert not (cli_home / "identity.json").exists() and not (cli_home / "identity.p12").exists()

    def test_init_takes_the_authority_too(self, cli_home, tsa):
        ok(cli_home, "init", "--name", "Ana García", "--email", "ana@example.com", "--tsa-url", tsa.url, env=PASS)
        assert json.loads((cli_home / "identity.json").read_text())["tsa_url"] == tsa.url
        ok(cli_home, "init", "--force", "--name", "Ana G.", "--email", "ana@example.com", env=PASS)
        assert json.loads((cli_home / "identity.json").read_text())["tsa_url"] == tsa.url  # kept, like the key


class TestTimestampedDocuments:
    def test_a_contract_is_signed_b_t_and_verify_reports_its_timestamp(self, cli_home, tsa, tmp_path):
        set_up(cli_home, tsa)
        pdf = tmp_path / "contract.pdf"
        before = datetime.now(UTC)
        done = ok(cli_home, "pdf", "contract", "acme", "-o", str(pdf), "--on", "2026-01-10", env=PASS)
        after = datetime.now(UTC)
        assert "signed, timestamped" in done.stdout and "Tratos Test TSA Time Stamping" in done.stdout
        moment = token_time(pdf.read_bytes())
        assert before - timedelta(seconds=1) <= moment <= after + timedelta(seconds=1)
        verified = ok(cli_home, "verify", str(pdf))
        assert f"Timestamp: {moment.isoformat()} by C=ES, O=Tratos Test TSA, CN=Tratos Test TSA Time Stamping," \
               " valid, trusted" in verified.stdout
        report = json.loads(ok(cli_home, "--json", "verify", str(pdf)).stdout)
        assert report["signatures"][0]["timestamp"]["trusted"] and report["document_timestamps"] == []
        if shutil.which("pdfsig"):
            out = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True).stdout
            assert "Signature is Valid." in out and "Invalid" not in out, out

    def test_b_lta_documents_verify_with_their_document_timestamp(self, cli_home, tsa, tmp_path):
        set_up(cli_home, tsa, "--lta")
        pdf = tmp_path / "contract.pdf"
        ok(cli_home, "pdf", "contract", "acme", "-o", str(pdf), "--on", "2026-01-10", env=PASS)
        verified = ok(cli_home, "verify", str(pdf))
        assert "Document timestamp 1 (B-LTA):" in verified.stdout and "Issued by this store: yes" in verified.stdout
        line = next(x for x in verified.stdout.splitlines() if x.startswith("Document timestamp 1"))
        assert line.endswith("valid, trusted")
        if shutil.which("pdfsig"):
            out = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True).stdout
            assert out.count("Signature is Valid.") == 1 and "Invalid" not in out, out

    def test_a_b_lta_contract_countersigned_by_the_client_goes_in_force_and_verifies(self, cli_home, tsa, tmp_path):
        from datetime import date

        from documents.identity import create_identity, load_identity
        from documents.signing import sign_pdf

        set_up(cli_home, tsa, "--lta")
        pdf = tmp_path / "contract.pdf"
        ok(cli_home, "pdf", "contract", "acme", "-o", str(pdf), "--on", "2026-01-10", env=PASS)
        ok(cli_home, "contract", "sign", "acme", "--by", "us", "--method", "pades", "--on", "2026-01-11")
        p12 = create_identity(tmp_path / "client-key", name="Bob Client", email="bob@acme.test",
                              passphrase="bob", not_before=date(2026, 1, 1))
        returned = tmp_path / "returned.pdf"
        returned.write_bytes(sign_pdf(pdf.read_bytes(), load_identity(p12, "bob"), field_name="Client",
                                      reason="Accepted", location="Madrid"))
        ok(cli_home, "contract", "sign", "acme", "--by", "client", "--method", "pades", "--file", str(returned),
           "--on", "2026-01-12")
        verified = ok(cli_home, "verify", str(returned))
        assert "Issued by this store: yes" in verified.stdout and "Document timestamp 1 (B-LTA)" in verified.stdout
        assert "Timestamp: none (PAdES B-B" in verified.stdout  # the client's own signature has none

    def test_a_timestamp_from_an_untrusted_authority_is_reported_so(self, cli_home, tsa, tmp_path):
        set_up(cli_home, tsa)
        (cli_home / "tsa-roots.pem").unlink()  # signed with the TSA, then its root is no longer trusted
        pdf = tmp_path / "contract.pdf"
        ok(cli_home, "pdf", "contract", "acme", "-o", str(pdf), "--on", "2026-01-10", env=PASS)
        verified = ok(cli_home, "verify", str(pdf))
        assert "valid, NOT trusted" in verified.stdout

    def test_the_authority_down_changes_nothing_in_one_line(self, cli_home, own_tsa, tmp_path):
        set_up(cli_home, own_tsa)
        own_tsa.stop()
        before = snapshot(cli_home)
        pdf = tmp_path / "contract.pdf"
        outcome = run(cli_home, "pdf", "contract", "acme", "-o", str(pdf), "--on", "2026-01-10", env=PASS)
        assert outcome.code == 2 and outcome.stdout == ""
        assert len(outcome.stderr_lines) == 1 and outcome.stderr.startswith("error: the time-stamping authority")
        assert "connection refused" in outcome.stderr and "Traceback" not in outcome.stderr
        assert not pdf.exists() and snapshot(cli_home) == before
        anchor = run(cli_home, "audit", "anchor", "--tsa", "-o", str(tmp_path / "note.txt"))
        assert anchor.code == 2 and len(anchor.stderr_lines) == 1 and snapshot(cli_home) == before
        assert not list(tmp_path.glob("note.txt*"))

    def test_an_invoice_issued_while_the_authority_is_down_is_said_recorded(self, cli_home, own_tsa, tmp_path):
        """The invoice stands (its number is taken, ADR-43); the one line says so and how to print it."""
        set_up(cli_home, own_tsa)
        ok(cli_home, "identity", "invoicing", "--tax-id", "12345678Z", "--address", "Calle Mayor 1, 28013 Madrid")
        ok(cli_home, "contract", "sign", "acme", "--by", "us", "--on", "2026-01-10", env=PASS)
        ok(cli_home, "contract", "sign", "acme", "--by", "client", "--signer", "Laura", "--on", "2026-01-10")
        own_tsa.stop()
        outcome = run(cli_home, "invoice", "issue", "acme", "--amount", "100EUR", "--pdf", "--on", "2026-01-16",
                      env=PASS)
        assert outcome.code == 1 and outcome.stdout.startswith("Recorded: invoice F-2026-001"), outcome.stdout
        assert len(outcome.stderr_lines) == 1, outcome.stderr
        line = outcome.stderr_lines[0]
        assert line.startswith("error: invoice F-2026-001 is recorded, but its PDF was not printed: the time-stamping")
        assert "nothing was" not in line and "`tratos pdf invoice acme F-2026-001`" in line
        status = json.loads(ok(cli_home, "--json", "status", "acme").stdout)
        assert [i["number"] for i in status["invoices"]] == ["F-2026-001"]

    def test_no_timestamp_signs_without_and_says_so(self, cli_home, own_tsa, tmp_path):
        set_up(cli_home, own_tsa)
        own_tsa.stop()
        pdf = tmp_path / "contract.pdf"
        done = ok(cli_home, "pdf", "contract", "acme", "-o", str(pdf), "--on", "2026-01-10", "--no-timestamp",
                  env=PASS)
        assert "signed, NOT timestamped (--no-timestamp)" in done.stdout
        assert "Timestamp: none (PAdES B-B" in ok(cli_home, "verify", str(pdf)).stdout


class TestTimestampedAnchors:
    def test_an_anchor_is_stamped_recorded_and_verified_with_its_trusted_time(self, cli_home, tsa, tmp_path):
        set_up(cli_home, tsa)
        ok(cli_home, "client", "open", "beta", "--name", "Beta SL", "--on", "2026-01-05")
        note = tmp_path / "heads.txt"
        before = datetime.now(UTC)
        done = json.loads(ok(cli_home, "--json", "audit", "anchor", "--tsa", "-o", str(note)).stdout)
        assert note.read_text() == done["text"] + "\n"
        assert done["recorded"] == ["acme", "beta"] and done["token_file"] == f"{note}.tsr"
        stamped_at = datetime.fromisoformat(done["timestamp"]["time"])
        assert before - timedelta(seconds=1) <= stamped_at <= datetime.now(UTC) + timedelta(seconds=1)
        timeline = json.loads(ok(cli_home, "--json", "timeline", "acme").stdout)
        last = timeline[-1] if isinstance(timeline, list) else timeline["events"][-1]
        assert last["kind"] == "AnchorTimestamped"
        verified = ok(cli_home, "audit", "verify", "--anchor-file", str(note))
        assert f"Anchor note timestamp: {stamped_at.isoformat()} by" in verified.stdout
        assert verified.stdout.rstrip().endswith("valid, trusted")
        # the note and its token are kept as evidence the events cite
        kept = {hashlib.sha256(note.read_bytes()).hexdigest(), hashlib.sha256(Path(f"{note}.tsr").read_bytes()).hexdigest()}
        assert {f.replace("/", "") for f in evidence_files(cli_home)} >= kept

    def test_the_same_token_on_a_changed_note_fails(self, cli_home, tsa, tmp_path):
        set_up(cli_home, tsa)
        note = tmp_path / "heads.txt"
        ok(cli_home, "audit", "anchor", "--tsa", "-o", str(note))
        note.write_bytes(note.read_bytes().replace(b"Chain heads", b"Chain  heads"))
        outcome = run(cli_home, "audit", "verify", "--anchor-file", str(note))
        assert outcome.code == 1 and "INVALID: the token is over other bytes" in outcome.stdout
        assert outcome.stderr_lines == ["error: the anchor note's timestamp does not hold: the token is over other"
                                        " bytes: what it stamps was changed"]

    def test_a_token_from_an_untrusted_authority_is_reported_untrusted(self, cli_home, tsa, tmp_path):
        set_up(cli_home, tsa)
        note = tmp_path / "heads.txt"
        ok(cli_home, "audit", "anchor", "acme", "-o", str(note))  # a plain note, then a rogue token over it
        from documents.timestamps import Timestamping, request_token

        answer, _ = request_token(Timestamping(tsa.rogue_url), note.read_bytes())
        Path(f"{note}.tsr").write_bytes(answer)
        outcome = run(cli_home, "audit", "verify", "--anchor-file", str(note))
        assert outcome.code == 1 and "Rogue Test TSA" in outcome.stdout and "NOT trusted" in outcome.stdout
        assert "its authority is not among the trusted roots" in outcome.stderr

    def test_a_damaged_token_fails_the_audit_naming_its_file(self, cli_home, tsa, tmp_path):
        set_up(cli_home, tsa)
        note = tmp_path / "heads.txt"
        ok(cli_home, "audit", "anchor", "--tsa", "-o", str(note))
        Path(f"{note}.tsr").write_bytes(b"\x30\x03not")
        outcome = run(cli_home, "audit", "verify", "--anchor-file", str(note))
        assert outcome.code == 1 and len(outcome.stderr_lines) == 1
        assert outcome.stderr.startswith(f"error: {note}.tsr does not hold: not an RFC 3161 timestamp token")

    def test_without_an_authority_set_the_anchor_is_bad_input(self, cli_home, tmp_path):
        ok(cli_home, "init", "--name", "Ana García", "--email", "ana@example.com")
        ok(cli_home, "client", "open", "acme", "--name", "Acme Consulting SL", "--on", "2026-01-05")
        before = store_rows(cli_home)
        outcome = run(cli_home, "audit", "anchor", "--tsa")
        assert outcome.code == 2 and "no time-stamping authority is set" in outcome.stderr
        assert store_rows(cli_home) == before

    def test_the_dossier_lists_the_anchors_and_the_signature_timestamps(self, cli_home, tsa, tmp_path):
        set_up(cli_home, tsa)
        ok(cli_home, "pdf", "contract", "acme", "-o", str(tmp_path / "k1.pdf"), "--on", "2026-01-10", env=PASS)
        ok(cli_home, "contract", "sign", "acme", "--by", "us", "--method", "pades", "--on", "2026-01-11")
        ok(cli_home, "audit", "anchor", "--tsa", "-o", str(tmp_path / "heads.txt"))
        dossier = tmp_path / "dossier.pdf"
        ok(cli_home, "pdf", "dossier", "acme", "--lang", "en", "-o", str(dossier), env=PASS)
        from pypdf import PdfReader

        text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(dossier).pages)
        assert "Timestamped anchors" in text and "trusted time" in text.lower()  # a header in capitals
        assert "Timestamp: " in text and "by C=ES, O=Tratos Test TSA, CN=Tratos Test TSA Time Stamping" in text
        assert "(valid, trusted authority)" in text
