"""The eighteenth adversarial run (issue 19, ADR-84): what it found in texts, numbers and identity.

1. a noncharacter (U+FFFF, U+FDD0…) passed the text policy, then broke every XML and X.509 name
   that printed it (an invoice's Factur-X, the record's XML, a certificate);
2. a certificate whose name held one was imported, and `verify` then failed on it;
3. a stream removed whole (rows and head) left every chain holding: the audit said OK, and a
   series started again gave its numbers twice;
4. identity.json changed while another command acted on it: an invoice under a tax id being
   changed, a setting lost to a concurrent change.

Each refusal is one `error:` line, its exit code and the store unchanged, on both backends.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from uuid import UUID

import pytest
from backends import SCRIPT
from cli_support import ok, open_store, refused, run, store_args

KEYED = {"TRATOS_KEY_PASSPHRASE": "s3cret passphrase"}  # the `kept` store's key (conftest)
NONCHARACTERS = ["\uffff", "\ufffe", "\ufdd0", "\U0001ffff"]


@pytest.mark.parametrize("noncharacter", NONCHARACTERS, ids=["ffff", "fffe", "fdd0", "1ffff"])
@pytest.mark.parametrize("args", [
    ("client", "open", "beta", "--name", "Beta{}", "--on", "2026-01-20"),
    ("client", "update", "acme", "--name", "Acme{}", "--on", "2026-01-20"),
    ("note", "acme", "Called{} Laura", "--on", "2026-01-20"),
    ("identity", "invoicing", "--address", "Calle{} Mayor 1"),
    ("init", "--force", "--name", "Ana{}", "--email", "ana@example.com", "--tax-id", "12345678Z"),
    ("invoice", "issue", "acme", "--line", "Work{}", "--unit-price", "100EUR", "--on", "2026-01-20"),
    ("invoice", "correct", "acme", "F-2026-001", "--reason", "Wrong{}", "--amount", "-100EUR", "--on", "2026-01-20"),
    ("mistake", "report", "acme", "Broke{}", "--by", "client", "--on", "2026-01-20"),
], ids=["client-open", "client-update", "note", "address", "init", "line", "correction", "mistake"])
def test_a_noncharacter_is_refused_in_every_text(kept: Path, args: tuple[str, ...], noncharacter: str) -> None:
    typed = tuple(arg.format(noncharacter) for arg in args)
    refused(kept, typed, 2, "a noncharacter, which no document can hold", env=KEYED)


def test_a_noncharacter_is_escaped_where_a_text_is_shown() -> None:
    from domain.model.texts import visible

    assert visible("Ana\uffff") == "Ana\\uffff"
    assert visible("Ana\U0010fffe") == "Ana\\U0010fffe"  # eight digits past U+FFFF, as Python writes it


@pytest.fixture
def p12_named_with_a_noncharacter(tmp_path: Path) -> Path:
    """A PKCS#12 whose certificate's CN holds U+FFFF, as `openssl req -utf8` makes it."""
    key, certificate, p12 = tmp_path / "k.pem", tmp_path / "c.pem", tmp_path / "ffff.p12"
    subject = "/CN=Ana\uffff"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(certificate), "-days", "30", "-utf8", "-subj", subject], check=True, capture_output=True)
    subprocess.run(["openssl", "pkcs12", "-export", "-inkey", str(key), "-in", str(certificate), "-out", str(p12),
                    "-passout", f"pass:{KEYED['TRATOS_KEY_PASSPHRASE']}"], check=True, capture_output=True)
    return p12


def test_a_certificate_named_with_a_noncharacter_is_not_imported(kept: Path, p12_named_with_a_noncharacter: Path
                                                                 ) -> None:
    before = (kept / "identity.p12").read_bytes()
    message = refused(kept, ("identity", "import", str(p12_named_with_a_noncharacter), "--force"), 2,
                      "its certificate's subject CN=Ana\\uffff holds characters", env=KEYED)
    assert "noncharacter" in message
    assert (kept / "identity.p12").read_bytes() == before


# ------------------------------------------------------------ 3. a stream removed whole

def _remove_stream(home: Path, stream: UUID) -> None:
    """Every row of `stream` deleted, and the read models rebuilt from what is left (so no head
    remembers it): what a hand on the database does to make a stream as if it never was."""
    from forger import Forger

    app = open_store(home)
    try:
        Forger(app).replace_stream(stream, [])
    finally:
        app.close()
    ok(home, "rebuild", env=KEYED)


def test_a_series_removed_whole_is_named_by_the_audit_and_not_started_again(kept: Path) -> None:
    from domain.model.streams import series_id

    _remove_stream(kept, series_id("F", 2026))
    audit = run(kept, "audit", "verify", env=KEYED)
    assert audit.code == 1
    assert "'acme' issued F-2026-001, which no series assigned" in audit.stdout
    refused(kept, ("invoice", "issue", "acme", "--installment", "2", "--on", "2026-02-15"), 1,
            "acme has F-2026-001 already: the invoice series gave it twice", env=KEYED)


def test_a_series_started_again_gives_another_client_no_number_its_records_hold(kept: Path) -> None:
    from cli_support import given

    from domain.model.streams import series_id

    given(kept, [("client", "open", "beta", "--name", "Beta SL", "--on", "2026-01-20"),
                 ("terms", "publish", "beta", "--rate", "60/h", "--payment-days", "30", "--on", "2026-01-20"),
                 ("contract", "draft", "beta", "--title", "Audit", "--scope", "An audit", "--price", "900EUR",
                  "--start", "2026-01-22", "--end", "2026-02-22", "--installment", "100%@2026-01-22",
                  "--on", "2026-01-21"),
                 ("contract", "sign", "beta", "--by", "us", "--on", "2026-01-21"),
                 ("contract", "sign", "beta", "--by", "client", "--signer", "Bea", "--on", "2026-01-21")])
    _remove_stream(kept, series_id("F", 2026))
    refused(kept, ("invoice", "issue", "beta", "--installment", "1", "--on", "2026-01-22"), 1,
            "the invoice series F-2026 starts again at F-2026-001, but your billing records hold F-2026-001"
            " already (record 1)", env=KEYED)


def test_a_client_removed_whole_is_named_by_the_audit(kept: Path) -> None:
    from domain.model.streams import stream_id

    _remove_stream(kept, stream_id("acme"))
    audit = run(kept, "audit", "verify", env=KEYED)
    assert audit.code == 1
    assert "the series assigns F-2026-001 to 'acme', and no client issued it" in audit.stdout
    assert "the billing record of F-2026-001 records an invoice no client issued" in audit.stdout


def test_the_untouched_store_passes_the_audit_with_its_numbers(kept: Path) -> None:
    outcome = run(kept, "audit", "verify", env=KEYED)
    assert outcome.code == 0, outcome.stdout + outcome.stderr


# ------------------------------------------------------------ 4. identity.json takes turns

HOLDER = """
import fcntl, os, sys, time
descriptor = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
fcntl.flock(descriptor, fcntl.LOCK_EX if sys.argv[2] == "change" else fcntl.LOCK_SH)
print("held", flush=True)
time.sleep(float(sys.argv[3]))
"""


def _tratos(home: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, **KEYED, "TRATOS_TODAY": "2026-04-01"}
    return subprocess.Popen([str(SCRIPT), *store_args(home), *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize(("held", "args"), [
    ("share", ("identity", "invoicing", "--vat", "10%")),  # a change waits for a command acting on it
    ("change", ("invoice", "issue", "acme", "--installment", "2", "--on", "2026-02-15")),  # and the reverse
], ids=["change-waits", "invoice-waits"])
def test_a_command_waits_for_the_turn_on_identity(kept: Path, held: str, args: tuple[str, ...]) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(kept), held, "2"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        command = _tratos(kept, *args)
        out, err = command.communicate(timeout=60)
        waited = time.monotonic() - started
    finally:
        holder.wait(timeout=30)
    assert command.returncode == 0, err
    assert waited >= 1.0, f"ran in {waited:.2f} s while the other held identity.json"


def test_two_changes_at_once_keep_both(kept: Path) -> None:
    import json

    for n, rate in enumerate(["4", "10", "21"]):
        host = f"smtp{n}.example.com"
        both = [_tratos(kept, "identity", "invoicing", "--vat", f"{rate}%"),
                _tratos(kept, "identity", "mail", "--host", host)]
        outcomes = [process.communicate(timeout=60) for process in both]
        assert [process.returncode for process in both] == [0, 0], outcomes
        identity = json.loads((kept / "identity.json").read_text(encoding="utf-8"))
        assert (identity["vat_rate"], identity["smtp_host"]) == (rate, host)


def test_a_correction_number_given_twice_is_refused(kept: Path) -> None:
    from domain.model.streams import records_id, series_id

    ok(kept, "invoice", "correct", "acme", "F-2026-001", "--reason", "Discount", "--amount", "-100EUR",
       "--on", "2026-01-20", env=KEYED)
    _remove_stream(kept, series_id("R", 2026))
    _remove_stream(kept, records_id("12345678Z"))
    refused(kept, ("invoice", "correct", "acme", "F-2026-001", "--reason", "Again", "--amount", "-50EUR",
                   "--on", "2026-01-21"), 1, "acme has R-2026-001 already", env=KEYED)


@pytest.mark.parametrize(("events", "problems"), [
    ([("InvoiceNumberAssigned", {"invoice_number": "F-1", "handle": "acme", "occurred_on": "2026-01-15"}),
      ("InvoiceIssued", {"invoice_number": "F-1", "occurred_on": "2026-01-15"}),
      ("InvoiceNumberAssigned", {"invoice_number": "F-1", "handle": "acme", "occurred_on": "2026-01-16"}),
      ("InvoiceIssued", {"invoice_number": "F-1", "occurred_on": "2026-01-16"})],
     ["the series assigns F-1 a second time", "'acme' issues F-1, which 'acme' issued already"]),
    ([("InvoiceNumberAssigned", {"invoice_number": "F-1", "handle": "acme", "occurred_on": "2026-01-15"}),
      ("InvoiceIssued", {"invoice_number": "F-1", "occurred_on": "2026-01-15"}),
      ("InvoiceIssued", {"invoice_number": "F-1", "occurred_on": "2026-01-15"})],
     ["'acme' issues F-1, which 'acme' issued already"]),
    ([("InvoiceNumberAssigned", {"invoice_number": "F-1", "handle": "acme", "occurred_on": "2026-01-15"}),
      ("InvoiceIssued", {"invoice_number": "F-1", "occurred_on": "2026-01-15"}),
      ("InvoiceRegistered", {"invoice_number": "F-1"}), ("InvoiceRegistered", {"invoice_number": "F-1"})],
     ["the billing records register F-1 a second time"]),
], ids=["assigned-twice", "issued-twice", "registered-twice"])
def test_a_number_given_twice_is_named(events: list, problems: list[str]) -> None:
    from domain.adapters.invoice_numbers import InvoiceNumbers

    for in_order in (True, False):  # import's and the audit's
        numbers = InvoiceNumbers(in_order=in_order)
        for place, (kind, state) in enumerate(events, 1):
            numbers.note(kind, state, place, "acme")
        assert [found.problem for found in numbers.problems()] == problems


def test_an_import_refuses_a_store_another_command_recorded_in_meanwhile(kept: Path, empty_store, tmp_path: Path
                                                                        ) -> None:
    """The other command records between the import's check of the file and its write: a real
    process, run from the import's last step before writing (`closing`)."""
    from cli_support import home_beside, store_rows

    from domain.adapters.transfer import import_store
    from domain.model.errors import Refused

    export = tmp_path / "backup.jsonl"
    ok(kept, "export", str(export), env=KEYED)
    with home_beside(kept, empty_store) as target:
        def another_command(events, tails):  # noqa: ANN001, ANN202
            opened = _tratos(target, "client", "open", "zz", "--name", "Zeta", "--on", "2026-01-20")
            assert opened.communicate(timeout=60) and opened.returncode == 0
            return []

        app = open_store(target)
        try:
            with pytest.raises(Refused, match="another command recorded in the store while this import ran"):
                import_store(app, export, closing=another_command)
        finally:
            app.close()
        assert len(store_rows(target)) == 1  # zz's opening alone


def test_the_kept_copy_of_a_pdf_issued_is_held_to_its_digest(kept: Path, tmp_path: Path) -> None:
    import hashlib

    ok(kept, "pdf", "terms", "acme", "-o", str(tmp_path / "terms.pdf"), env=KEYED)
    digest = hashlib.sha256((tmp_path / "terms.pdf").read_bytes()).hexdigest()
    copy = kept / "evidence" / digest[:2] / digest[2:]
    copy.write_bytes(b"%PDF-1.7 another document")
    audit = run(kept, "audit", "verify", env=KEYED)
    assert audit.code == 1 and "evidence changed" in audit.stdout, audit.stdout
    copy.unlink()  # as a store from before copies were kept, or imported without them
    assert run(kept, "audit", "verify", env=KEYED).code == 0


def test_a_noncharacter_recorded_before_the_policy_is_found_in_what_an_invoice_carries() -> None:
    """An import keeps the texts an older tratos recorded (ADR-41): a new invoice refuses to carry
    one into its XML (`billing.check_new_invoice`), and an invoice recorded with one prints."""
    from lxml import etree

    from documents.facturx import _text
    from domain.model.texts import noncharacter_in

    carried = {"recipient": {"name": "Acme", "address": "Gran\ufffe Via"}, "lines": [{"description": "Work"}]}
    assert noncharacter_in(carried) == "\ufffe"
    assert noncharacter_in({"recipient": {"name": "Acme"}, "lines": ["Work"]}) is None
    root = etree.Element("root")
    _text(root, "ram:Name", "Acme\uffff")
    assert etree.tostring(root, encoding="unicode").count("\ufffd") == 1


def test_an_export_without_evidence_gives_the_folder_import_reads(cli_home: Path, empty_store, tmp_path: Path
                                                                  ) -> None:
    from cli_support import home_beside

    ok(cli_home, "init", "--name", "Ana García", "--email", "ana@example.com", env=KEYED)
    ok(cli_home, "client", "open", "zz", "--name", "Zeta", "--on", "2026-01-20")
    export, folder = tmp_path / "backup.jsonl", tmp_path / "evidence"
    ok(cli_home, "export", str(export), "--with-evidence", str(folder))
    assert folder.is_dir() and not any(folder.iterdir())
    with home_beside(cli_home, empty_store) as target:
        ok(target, "import", str(export), "--with-evidence", str(folder))
