"""The fifteenth adversarial run (issue 19, ADR-81): what it found, fixed where each rule lives.

1. a correction's amount with more than one sign (`+-100EUR`) raised the invoice;
2. a change of tax id left the former one's records waiting to be sent, never offered again;
3. `verifactu cancel` of an invoice issued under a former tax id said it had no record;
4. the reminder days took spaces and line breaks that every other count refuses;
5. the folder `verifactu events` makes followed the umask.

Each refusal is one `error:` line, its exit code and the store unchanged, on both backends.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cli_support import home_beside, ok, refused, year_of_the_log

KEYED = {"TRATOS_KEY_PASSPHRASE": "s3cret passphrase"}


@pytest.mark.parametrize("difference", [("--amount", "+-100EUR"), ("--amount", "++100EUR"), ("--amount", "--+-5EUR"),
                                        ("--line", "fix", "--quantity", "1", "--unit-price", "+-60EUR")],
                         ids=["plus-minus", "plus-plus", "four", "unit-price"])
def test_a_difference_has_one_sign_at_most(kept: Path, difference: tuple[str, ...]) -> None:
    refused(kept, ("invoice", "correct", "acme", "F-2026-001", "--reason", "r", *difference, "--on", "2026-01-20"),
            2, "one sign at most", env=KEYED)


def test_a_tax_id_is_not_changed_while_its_records_wait_to_be_sent(sent: Path, tmp_path: Path) -> None:
    refused(sent, ("identity", "invoicing", "--tax-id", "B86561412"), 1,
            "your billing records as 12345678Z have records waiting to be sent to the agency (from record 1)",
            env=KEYED)
    batch = tmp_path / "batch.xml"
    ok(sent, "verifactu", "submission", "-o", str(batch), env=KEYED)
    ok(sent, "verifactu", "sent", str(batch), "--csv", "A-TEST0000000001", env=KEYED)
    ok(sent, "identity", "invoicing", "--tax-id", "B86561412", env=KEYED)  # sent: nothing left behind


def test_a_record_of_a_former_tax_id_is_named_so_when_cancelled(kept: Path) -> None:
    ok(kept, "identity", "invoicing", "--tax-id", "B86561412", env=KEYED)  # kept records wait for no one
    refused(kept, ("verifactu", "cancel", "F-2026-001", "--on", "2026-01-20"), 1,
            "F-2026-001 was issued as 12345678Z, and your tax id is now B86561412", env=KEYED)


@pytest.mark.parametrize("days", ["3\n", " 30", "30 ", "1, 7", "1,\t7 ,14"])
def test_reminder_days_are_digits_and_commas(kept: Path, days: str) -> None:
    refused(kept, ("terms", "publish", "acme", "--rate", "60/h", "--payment-days", "30", "--remind-after", days,
                   "--on", "2026-01-16"), 2, "is a list of days such as 1,7,14,30", env=KEYED)


def test_the_folder_of_the_event_log_s_files_is_private(kept: Path, tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        ok(kept, "verifactu", "events", "--year", str(year_of_the_log(kept)), "-o", str(kept / "eventos"), env=KEYED)
    finally:
        os.umask(previous)
    assert stat.S_IMODE((kept / "eventos").stat().st_mode) == 0o700
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in (kept / "eventos").iterdir())


def test_a_backup_dated_after_today_is_not_imported(sent: Path, empty_store, tmp_path: Path) -> None:
    export = tmp_path / "backup.jsonl"
    ok(sent, "export", str(export), env=KEYED)
    with home_beside(sent, empty_store) as other:  # VERI*FACTU mode: no event log's clock to refuse it
        refused(other, ("import", str(export)), 1, "dated 2026-01-15, after today (2026-01-14 on this machine)",
                env={**KEYED, "TRATOS_TODAY": "2026-01-14"})
        ok(other, "import", str(export), env=KEYED)


# ------------------------------------------------------------------ the sixteenth run (ADR-82)

def test_init_force_leaves_no_records_waiting_behind_a_former_tax_id(sent: Path) -> None:
    refused(sent, ("init", "--force", "--name", "Ana García", "--email", "ana@example.com", "--tax-id",
                      "A58818501"), 1, "your billing records as 12345678Z have records waiting to be sent", env=KEYED)
    refused(sent, ("init", "--force", "--name", "Ana García", "--email", "ana@example.com"), 1,
            "your billing records as 12345678Z have records waiting to be sent", env=KEYED)


def test_a_new_tax_id_makes_no_record_while_the_former_one_s_wait(sent: Path, empty_store, tmp_path: Path) -> None:
    export = tmp_path / "backup.jsonl"
    ok(sent, "export", str(export), env=KEYED)
    with home_beside(sent, empty_store) as other:  # a backup restored into a home set up with another tax id
        ok(other, "identity", "invoicing", "--tax-id", "A58818501", env=KEYED)
        ok(other, "import", str(export), env=KEYED)
        refused(other, ("invoice", "issue", "acme", "--installment", "2", "--on", "2026-02-15"), 1,
                "your billing records as 12345678Z have records waiting to be sent to the agency (from record 1),"
                " which a new tax id (A58818501) would leave behind", env=KEYED)
        refused(other, ("verifactu", "submission", "-o", str(tmp_path / "b.xml")), 1,
                "the records of 12345678Z wait to be sent from record 1: write 12345678Z back", env=KEYED)
        ok(other, "identity", "invoicing", "--tax-id", "12345678Z", env=KEYED)  # the way out the lines give
        assert "Wrote records 1 to 1" in ok(other, "verifactu", "submission", "-o", str(tmp_path / "b.xml"),
                                            env=KEYED).stdout


def test_an_smtp_login_and_password_are_in_ascii(kept: Path, tmp_path: Path) -> None:
    from mail_server import MailServer

    from domain.adapters.smtp import MailSettings, SendFailed, deliver

    refused(kept, ("identity", "mail", "--host", "smtp.example.com", "--user", "ána"), 2,
            "an SMTP login is in ASCII letters: 'ána'", env=KEYED)
    server = MailServer(tmp_path, tls=False).start()
    try:
        settings = MailSettings(host="127.0.0.1", port=server.port, security="none", user="ana",
                                from_address="ana@example.com")
        with pytest.raises(SendFailed, match="password of ana@127.0.0.1 holds letters outside ASCII"):
            deliver(settings, "contraseña", ["laura@acme.test"], b"Subject: x\r\n\r\nx\r\n")
        assert server.received == []
    finally:
        server.stop()


# ------------------------------------------------------------------ the seventeenth run (ADR-83)

def test_a_correction_keeps_the_invoice_within_twelve_digits_and_a_void_still_works(kept: Path) -> None:
    ok(kept, "invoice", "issue", "acme", "--amount", "800000000000EUR", "--on", "2026-01-20", env=KEYED)  # 0 % VAT
    refused(kept, ("invoice", "correct", "acme", "F-2026-002", "--amount", "+200000000000EUR", "--reason", "m",
                   "--on", "2026-01-21"), 2, "an invoice's amounts stay under 1,000,000,000,000", env=KEYED)
    ok(kept, "invoice", "correct", "acme", "F-2026-002", "--void", "--reason", "x", "--on", "2026-01-21", env=KEYED)


def test_a_batch_written_before_the_tax_id_changed_is_named_so(sent: Path, tmp_path: Path) -> None:
    import json

    batch = tmp_path / "batch.xml"
    ok(sent, "verifactu", "submission", "-o", str(batch), env=KEYED)
    identity = sent / "identity.json"
    identity.write_text(json.dumps({**json.loads(identity.read_text(encoding="utf-8")), "tax_id": "A58818501"}),
                        encoding="utf-8")
    refused(sent, ("verifactu", "sent", str(batch), "--csv", "A-TEST0000000001"), 1,
            "the file is a batch of the records of 12345678Z, and your tax id is now A58818501", env=KEYED)
