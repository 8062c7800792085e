"""`tratos pdf`, `tratos verify` and `tratos remind` on the demo story, with a real signing key.

Each test gets a private copy of a store recorded once per module and backend
(sqlite, postgres); PDFs are rendered by WeasyPrint and signed by pyHanko for real.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from backends import StoreSpec
from cli_support import copied, open_store, run, store_args, store_rows, use_database
from demo_story import record_story
from forger import Forger
from pypdf import PdfReader

from documents import signing
from documents.identity import create_identity, load_identity
from domain.model.money import Money
from domain.model.values import stream_id

PASSPHRASE = "a long passphrase for tests"
KEYED = {"TRATOS_KEY_PASSPHRASE": PASSPHRASE}


def story(home: Path, spec: StoreSpec) -> None:
    record_story(home, spec)
    create_identity(home, name="Ana García Pérez", email="ana@garcia.example", passphrase=PASSPHRASE,
                    not_before=date(2026, 1, 1))


@pytest.fixture
def story_store(template, store: StoreSpec) -> StoreSpec:
    """The demo story with a signing key, recorded once per module on this test's backend."""
    return template(store.backend, "story", story)


@pytest.fixture
def original(story_store: StoreSpec) -> Iterator[Path]:
    """The template itself (for what another store with the same history says)."""
    with use_database(Path(story_store.home), story_store.database_url) as home:
        yield home


@pytest.fixture
def home(story_store: StoreSpec, store: StoreSpec) -> Iterator[Path]:
    with copied(story_store, store) as home:
        yield home


def relationship(home: Path, handle: str = "acme"):
    app = open_store(home)
    try:
        return app.relationship(handle)
    finally:
        app.close()


def text_of(path: Path) -> str:
    reader = PdfReader(str(path))
    text = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(unicodedata.normalize("NFKC", text).split())


def test_pdf_writes_a_signed_contract_and_records_it(home, tmp_path):
    before = relationship(home)
    out = tmp_path / "contract.pdf"
    outcome = run(home, "--json", "pdf", "contract", "acme", "-o", str(out), env=KEYED)
    assert outcome.code == 0, outcome.stderr
    answer = json.loads(outcome.stdout)
    data = out.read_bytes()
    assert answer["signed"] is True and answer["sha256"] == hashlib.sha256(data).hexdigest()
    after = relationship(home)
    issued = after.documents[-1]
    assert (issued.kind, issued.document_id, issued.sha256) == ("contract", "K1", answer["sha256"])
    assert (issued.chain_version, issued.chain_digest) == (before.version, before.head_digest)
    assert after.version == before.version + 1
    reports = signing.verify_pdf(data)
    assert [r.field_name for r in reports] == ["Freelancer"] and reports[0].sound
    key = load_identity(home / "identity.p12", PASSPHRASE)
    assert reports[0].signer_fingerprint == key.fingerprint
    assert "Client" in (PdfReader(io.BytesIO(data)).get_fields() or {})  # the client's field awaits
    assert f"Cadena v{before.version} · {before.head_digest[:16]}" in text_of(out)

    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask  # a document to send, not a secret

    checked = run(home, "verify", str(out))  # no passphrase needed: certificates are kept in clear
    assert checked.code == 0, checked.stdout + checked.stderr
    assert "Verdict: OK" in checked.stdout and "Issued by this store: yes" in checked.stdout
    report = json.loads(run(home, "--json", "verify", str(out)).stdout)
    assert report["signatures"][0]["trusted"] is True and report["chain_ok"] is True


def test_one_changed_byte_makes_verify_fail(home, tmp_path):
    out = tmp_path / "terms.pdf"
    assert run(home, "pdf", "terms", "acme", "-o", str(out), env=KEYED).code == 0
    data = bytearray(out.read_bytes())
    data[len(data) // 3] ^= 0x01
    out.write_bytes(bytes(data))
    checked = run(home, "--json", "verify", str(out))
    assert checked.code == 1
    report = json.loads(checked.stdout)
    assert report["ok"] is False and report["issued_by_store"] is False
    assert report["signatures"][0]["intact"] is False


def test_verify_refuses_a_document_another_store_issued(home, original, tmp_path):
    out = tmp_path / "incident.pdf"
    assert run(home, "pdf", "incident", "acme", "M1", "--lang", "en", "-o", str(out), env=KEYED).code == 0
    elsewhere = run(original, "--json", "verify", str(out))  # same history, but it never issued this file
    assert elsewhere.code == 1
    report = json.loads(elsewhere.stdout)
    assert report["issued_by_store"] is False and report["chain_ok"] is True
    assert "not a document this store issued" in " ".join(report["problems"])


def test_verify_fails_when_the_printed_chain_head_no_longer_holds(home, tmp_path):
    out = tmp_path / "change.pdf"
    assert run(home, "pdf", "change", "acme", "C1", "-o", str(out), env=KEYED).code == 0
    app = open_store(home)
    try:
        forger, acme = Forger(app), stream_id("acme")
        version = forger.version_of(acme, "ChangeQuoted")
        forger.write_state(acme, version, forger.state(acme, version).replace(b'"600.00"', b'"6000.00"'))
    finally:
        app.close()
    checked = run(home, "verify", str(out))
    assert checked.code == 1
    assert "Chain head still on the chain: no (the chain breaks at version 8" in checked.stdout


def test_a_countersignature_by_an_unknown_certificate_is_reported(home, tmp_path):
    out = tmp_path / "contract.pdf"
    assert run(home, "pdf", "contract", "acme", "-o", str(out), env=KEYED).code == 0
    client = create_identity(tmp_path / "client", name="Laura Martín", email="laura@acme.example",
                             passphrase="client", not_before=date(2026, 1, 1))
    returned = signing.sign_pdf(out.read_bytes(), load_identity(client, "client"), field_name="Client",
                                reason="Accepted", location="Madrid",
                                signing_time=datetime(2026, 4, 1, 9, 0, tzinfo=UTC))
    (tmp_path / "returned.pdf").write_bytes(returned)
    checked = run(home, "--json", "verify", str(tmp_path / "returned.pdf"))
    report = json.loads(checked.stdout)
    assert checked.code == 1
    assert report["issued_by_store"] is True and report["chain_ok"] is True  # the first revision is ours
    assert [s["known"] for s in report["signatures"]] == [True, False]
    assert report["problems"] == ["signature 2 was made with a certificate this store does not know"]


def test_remind_records_the_reminder_with_its_late_fee_and_writes_it(home, tmp_path):
    out = tmp_path / "reminder.pdf"
    outcome = run(home, "--json", "remind", "acme", "F-2026-002", "-o", str(out), env=KEYED)
    assert outcome.code == 0, outcome.stderr
    answer = json.loads(outcome.stdout)
    assert answer["days_late"] == 14 and answer["late_fee"] == {"amount": "55.57", "currency": "EUR"}
    app = open_store(home)
    try:
        events = list(app.repository.event_store.get(stream_id("acme")))
    finally:
        app.close()
    sent, issued = events[-2], events[-1]
    assert type(sent).__name__ == "ReminderSent" and sent.late_fee == Money(amount=Decimal("55.57"), currency="EUR")
    assert type(issued).__name__ == "DocumentIssued" and issued.kind == "reminder"
    assert issued.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    text = text_of(out)
    # The claim itemized: 4,000 principal, 15.57 interest, 40 compensation, 4,055.57 in all.
    for item in ("Principal pendiente 4.000,00 €", "14 días al 10,15 % anual 15,57 €", "40,00 €",
                 "Total reclamado 4.055,57 €", "F-2026-002", "17 de marzo de 2026"):
        assert item in text
    assert "warning" not in outcome.stderr
    assert run(home, "verify", str(out)).code == 0


def test_remind_warns_when_the_invoice_fell_due_past_the_rate_table(home, tmp_path):
    """Terms that leave the rate to the table, an invoice due after its last half-year (2026-01-01)."""
    from domain.model.values import Installment, LateFee, Party, Scope, Terms

    start, due = date(2026, 7, 1), date(2026, 7, 15)
    app = open_store(home)
    try:
        app.open_relationship("zeta", Party(name="Zeta SL"), on=start)
        app.publish_terms("zeta", Terms(late_fee=LateFee(kind="statutory-eu")), on=start)
        app.draft_contract("zeta", title="Audit", scope=Scope(description="An audit"), price=Money.of(1000, "EUR"),
                           start=start, end=due, on=start,
                           installments=[Installment(n=1, amount=Money.of(1000, "EUR"), due=start)])
        for party in ("us", "client"):
            app.sign_contract("zeta", party=party, signer="S", method="typed", on=start)
        number = app.issue_invoice("zeta", installment=1, due=due, on=start).id
    finally:
        app.close()
    outcome = run(home, "remind", "zeta", number, "-o", str(tmp_path / "r.pdf"), "--on", "2026-09-01",
                  env=KEYED | {"TRATOS_TODAY": "2026-09-10"})
    assert outcome.code == 0, outcome.stderr
    assert outcome.stderr.startswith(f"warning: {number} fell due in a half-year the reference-rate table")
    assert "the rate of 2026-01-01 (2.15%)" in outcome.stderr
    # 1000 x 10.15 % x 48/365 = 13.35; + 40
    assert "late fee 53.35 EUR" in outcome.stdout



@pytest.mark.parametrize("args", [
    ("remind", "acme", "F-2026-001"),        # paid: no reminder to send
    ("pdf", "closing", "acme"),              # acme has not ended
    ("pdf", "change", "acme"),               # which change?
    ("pdf", "incident", "acme", "M7"),
])
def test_a_refused_document_leaves_no_file_and_no_event(home, tmp_path, args):
    out = tmp_path / "refused.pdf"
    before = store_rows(home)
    outcome = run(home, *args, "-o", str(out), env=KEYED)
    assert outcome.code in (1, 2)
    assert len(outcome.stderr_lines) == 1 and outcome.stderr.startswith("error: ")
    assert not out.exists() and store_rows(home) == before


def test_without_a_signing_key_the_pdf_is_written_unsigned_and_does_not_verify(home, tmp_path):
    (home / "identity.p12").unlink()
    out = tmp_path / "dossier.pdf"
    outcome = run(home, "--json", "pdf", "dossier", "acme", "--lang", "en", "-o", str(out))
    assert outcome.code == 0 and "not signed" in outcome.stderr
    assert json.loads(outcome.stdout)["signed"] is False
    assert list(PdfReader(str(out)).attachments) == ["acme-stream-v22.json"]
    checked = run(home, "verify", str(out))
    assert checked.code == 1 and "the PDF is not signed" in checked.stdout
    assert "Issued by this store: yes" in checked.stdout


def test_commands_that_do_not_print_never_load_weasyprint_or_pyhanko(home):
    script = (
        "import sys\n"
        "from cli.main import main\n"
        "import cli.pdf, cli.remind, documents.context, documents.render, documents.verification\n"
        "for argv in (['--help'], [*sys.argv[1:], 'note', 'acme', 'hello'],\n"
        "             [*sys.argv[1:], 'pdf', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit as exit_:\n"
        "        assert not exit_.code, (argv, exit_.code)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('weasyprint', 'pyhanko'))\n"
        "print(heavy)\n"
        "assert not heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", script, *store_args(home)], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "TRATOS_TODAY": "2026-03-31"}, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
