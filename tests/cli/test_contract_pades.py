"""A contract signed PAdES by both sides: ours on the issued PDF, the client's added to it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from cli_support import copied, ok, open_store, run
from tax_profile import UNTAXED_PROFILE

from documents.identity import create_identity, load_identity
from documents.signing import sign_pdf

PASS = {"TRATOS_KEY_PASSPHRASE": "our secret"}


def _drafted_and_issued(home: Path, spec) -> None:
    """A drafted contract K1 and its issued, signed PDF, written next to the template's home."""
    ok(home, "init", "--name", "Ana García", "--email", "ana@example.com", env=PASS)
    ok(home, "client", "open", "acme", "--name", "Acme Consulting SL", "--on", "2026-01-05")
    ok(home, "contract", "draft", "acme", "--title", "Website", "--scope", "Design and build",
       "--price", "8000EUR", "--start", "2026-01-15", "--end", "2026-03-15",
       "--installment", "50%@2026-01-15", "--installment", "50%@2026-02-15", "--on", "2026-01-10")
    ok(home, "pdf", "contract", "acme", "-o", str(home.parent / "contract.pdf"), "--on", "2026-01-10", env=PASS)


@pytest.fixture
def issued(template, store, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A store (on each backend) with a drafted contract K1 and its issued, signed PDF: recorded and
    rendered once per backend (a template), each test with its own copy of both."""
    spec = template(store.backend, "contract-issued", _drafted_and_issued)
    with copied(spec, store) as home:
        pdf = tmp_path / "contract.pdf"
        shutil.copyfile(Path(spec.home).parent / "contract.pdf", pdf)
        yield home, pdf


def client_countersigns(tmp_path: Path, pdf: Path) -> Path:
    """The client signs the PDF it received with its own key, as an incremental update."""
    p12 = create_identity(tmp_path / "client-key", name="Bob Client", email="bob@acme.test",
                          passphrase="bob", not_before=date(2026, 1, 1))
    returned = tmp_path / "returned.pdf"
    returned.write_bytes(sign_pdf(pdf.read_bytes(), load_identity(p12, "bob"), field_name="Client",
                                  reason="Accepted", location="Madrid"))
    return returned


def status(home: Path) -> dict:
    return json.loads(ok(home, "--json", "client", "show", "acme").stdout)


class TestPadesContract:
    def test_both_signatures_put_the_contract_in_force_with_certificates_recorded(self, tmp_path, issued):
        home, pdf = issued
        ok(home, "contract", "sign", "acme", "--by", "us", "--method", "pades", "--on", "2026-01-11")
        returned = client_countersigns(tmp_path, pdf)
        outcome = ok(home, "--json", "contract", "sign", "acme", "--by", "client", "--method", "pades",
                     "--file", str(returned), "--on", "2026-01-12")
        assert json.loads(outcome.stdout)["recorded"] == "ContractSigned"
        app = open_store(home)
        contract = app.relationship("acme").contract("K1")
        app.close()
        assert contract.state == "in_force"
        client = contract.signatures["client"]
        assert client.signer == "Bob Client"
        assert "bob@acme.test" in client.certificate_subject
        assert len(client.certificate_fingerprint) == 64
        assert contract.signatures["us"].certificate_fingerprint != client.certificate_fingerprint
        assert client.document_sha256 == contract.signatures["us"].document_sha256
        assert [e.media_type for e in client.evidence] == ["application/pdf"]  # the returned file is kept
        # The returned file now verifies: both signatures are known to the store.
        assert run(home, "verify", str(returned)).code == 0

    def test_a_returned_file_whose_first_revision_was_altered_is_refused(self, tmp_path, issued):
        home, pdf = issued
        original = bytearray(pdf.read_bytes())
        where = original.index(b"/Producer")
        original[where + 1] = ord("p")  # one byte of the issued revision changed
        pdf.write_bytes(bytes(original))
        returned = client_countersigns(tmp_path, pdf)
        outcome = run(home, "contract", "sign", "acme", "--by", "client", "--method", "pades",
                      "--file", str(returned), "--on", "2026-01-12")
        assert outcome.code == 1
        assert outcome.stderr.startswith("error: returned.pdf does not contain a contract K1 PDF")
        assert len(outcome.stderr_lines) == 1

    def test_our_pades_signature_needs_an_issued_pdf(self, cli_home):
        home = cli_home
        ok(home, "client", "open", "acme", "--name", "Acme Consulting SL", "--on", "2026-01-05")
        ok(home, "contract", "draft", "acme", "--title", "Website", "--scope", "Build", "--price", "1000EUR",
           "--start", "2026-01-15", "--end", "2026-03-15", "--on", "2026-01-10")
        outcome = run(home, "contract", "sign", "acme", "--by", "us", "--method", "pades")
        assert outcome.code == 1
        assert "tratos pdf contract acme K1" in outcome.stderr


class TestPadesChangeOrder:
    def test_a_countersigned_change_order_approves_the_change(self, tmp_path, issued):
        home, _ = issued
        ok(home, "contract", "sign", "acme", "--by", "us", "--on", "2026-01-11")
        ok(home, "contract", "sign", "acme", "--by", "client", "--on", "2026-01-12")
        ok(home, "change", "request", "acme", "Add a blog", "--on", "2026-01-20")
        ok(home, "change", "quote", "acme", "C1", "--price", "600EUR", "--on", "2026-01-21")
        order = tmp_path / "change-C1.pdf"
        ok(home, "pdf", "change", "acme", "C1", "-o", str(order), "--on", "2026-01-21", env=PASS)
        returned = client_countersigns(tmp_path, order)

        tampered = tmp_path / "tampered.pdf"
        data = bytearray(returned.read_bytes())
        data[data.index(b"/Producer") + 1] = ord("p")
        tampered.write_bytes(bytes(data))
        refused = run(home, "change", "approve", "acme", "C1", "--signed-pdf", str(tampered), "--on", "2026-01-22")
        assert refused.code == 1 and "does not contain a change C1 PDF" in refused.stderr

        ok(home, "change", "approve", "acme", "C1", "--signed-pdf", str(returned), "--on", "2026-01-22")
        from domain.services.application import Tratos

        app = Tratos(profile=UNTAXED_PROFILE, home=home)
        change = app.relationship("acme").change("C1")
        app.close()
        assert change.state == "approved"
        assert [e.name for e in change.evidence] == ["returned.pdf"]
