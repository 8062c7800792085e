"""The twelfth adversarial run (issue 19): what it found, fixed where each rule lives (ADR-76).

1. the Verifactu mode of the year holds for what sends or prints a record's mode too (a submission,
   an invoice's PDF), not only for what makes one;
2. `demo` tells its story on its own day whatever TRATOS_NOW the shell pins;
3. identity.json's mail settings and series that `identity mail` / `identity invoicing` would refuse
   are the damaged-file line, not bad input typed on the command;
4. an email whose display name decodes to a line break is evidence like any other;
5. a record clock behind the business date of the last billing record accuses no record of being
   made after now (anomaly 13), and so opens no way to backdate one.

Each refusal is one `error:` line, its exit code and the store unchanged, on both backends.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import IN_FORCE, copied, edit_identity, ok, recorded_template, refused, run

KEYED = {"TRATOS_KEY_PASSPHRASE": "s3cret passphrase"}
HISTORY = IN_FORCE + [
    ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15"),  # F-2026-001, its record kept here
]


@pytest.fixture
def acme(module_store, store) -> Iterator[Path]:
    with copied(recorded_template(module_store, store.backend, "hostile-twelfth-run", HISTORY, KEYED), store) as home:
        yield home


# ------------------------------------------------------------------ 1. the mode of the year, sent or printed

@pytest.mark.parametrize("args", [
    ("verifactu", "submission", "-o", "batch.xml"),
    ("pdf", "invoice", "acme", "F-2026-001", "-o", "again.pdf"),
], ids=["submission", "invoice-pdf"])
def test_a_hand_edited_mode_neither_sends_nor_prints_the_year_s_records(acme: Path, args: tuple[str, ...]) -> None:
    edit_identity(acme, verifactu_mode="verifactu")
    refused(acme, args, 1, "identity.json says verifactu mode, but your billing records of 2026 were made in"
                           " no-verifactu mode", env=KEYED)
    assert not (acme / args[-1]).exists() and not Path(args[-1]).exists()


# ------------------------------------------------------------------ 2. the demo's own day

def test_the_demo_runs_whatever_now_the_shell_pins(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    outcome = run(home, "demo", env={"TRATOS_NOW": "2026-12-06T12:00:00+01:00", "TRATOS_TODAY": "2026-12-06",
                                     "TRATOS_DATABASE_URL": None, "TRATOS_KEY_PASSPHRASE": None})
    assert outcome.code == 0, outcome.stderr
    assert "F-2026-001" in ok(home, "status", "acme", env={"TRATOS_DATABASE_URL": None}).stdout


# ------------------------------------------------------------------ 3. identity.json's mail and series

@pytest.mark.parametrize("field, value", [
    ("mail_from_name", "Ana\nBcc: evil@example.com"),
    ("smtp_host", "smtp.example.com\nX"),
    ("mail_from", "not-an-email"),
    ("smtp_security", "none"),
], ids=["from-name", "host", "from", "security"])
def test_mail_settings_tratos_would_not_write_are_a_damaged_identity(acme: Path, field: str, value: str) -> None:
    ok(acme, "identity", "mail", "--host", "smtp.example.com", "--user", "ana@example.com", "--bcc-self")
    edit_identity(acme, **{field: value})
    refused(acme, ("send", "acme", "invoice", "F-2026-001", "--dry-run"), 1,
            f"{acme / 'identity.json'} is damaged (its mail settings: ", env=KEYED)


def test_one_series_for_both_is_a_damaged_identity(acme: Path) -> None:
    edit_identity(acme, series="R")
    refused(acme, ("invoice", "issue", "acme", "--amount", "5EUR", "--on", "2026-03-01"), 1,
            f"{acme / 'identity.json'} is damaged (invoices and corrective invoices need two series", env=KEYED)


# ------------------------------------------------------------------ 4. an encoded line break in a display name

ENCODED = (b"From: =?utf-8?b?TGF1cmEKQmNjOiB4?= <laura@acme.test>\nTo: ana@example.com\nSubject: hi\n"
           b"Date: Mon, 30 Mar 2026 10:00:00 +0200\nMessage-ID: <a@x>\n\nbody\n")


def test_an_encoded_line_break_in_a_name_is_evidence_like_any_other(acme: Path, tmp_path: Path) -> None:
    message = tmp_path / "m.eml"
    message.write_bytes(ENCODED)
    ok(acme, "client", "open", "zeta", "--name", "Zeta SL", "--email", "laura@acme.test", "--on", "2026-03-01")
    ok(acme, "note", "zeta", "Her mail", "--evidence", str(message), "--on", "2026-03-31")
    filed = ok(acme, "mail", "import", str(message))
    assert "Filed 1 emails (zeta 1)" in filed.stdout or "already on the record" in filed.stdout


# ------------------------------------------------------------------ 5. a clock behind the last record

BEHIND = {**KEYED, "TRATOS_NOW": "2026-01-01T00:00:00+01:00"}


def test_a_clock_behind_the_last_record_accuses_no_record(acme: Path, tmp_path: Path) -> None:
    checked = run(acme, "verifactu", "verify", env=BEHIND)
    assert checked.code == 0, checked.stderr
    assert checked.stderr_lines == [
        "warning: this machine's clock (2026-01-01T00:00:00+01:00) is before 2026-01-15, the date of your last"
        " billing record: records made after it were not taken as made ahead of the clock (anomaly 13),"
        " and this check is not logged; correct the clock"]
    out = tmp_path / "log"
    ok(acme, "verifactu", "events", "--year", "2026", "-o", str(out), env=KEYED)
    assert not any("TipoAnomalia" in path.read_text(encoding="utf-8") for path in out.iterdir())
    refused(acme, ("invoice", "issue", "acme", "--amount", "5EUR", "--on", "2026-01-15"), 1,
            "is ahead of this machine's clock", env={**KEYED, "TRATOS_NOW": "2026-01-15T09:00:00+01:00"})


def test_a_clock_behind_logs_no_check_and_restores_nothing(acme: Path, tmp_path: Path, store, module_store) -> None:
    """The thirteenth run: the check of a clock said to be wrong is not logged, and an import does not
    date its restore (07) before the restored log's last entry."""
    from cli_support import use_database

    def entries() -> int:
        out = tmp_path / f"log{len(list(tmp_path.iterdir()))}"
        ok(acme, "verifactu", "events", "--year", "2026", "-o", str(out), env=KEYED)
        return len(list(out.iterdir()))

    before = entries()
    ok(acme, "verifactu", "verify", env=BEHIND)
    assert entries() == before + 1  # the first export's own entry (09), and no check (03)
    export = tmp_path / "all.jsonl"
    ok(acme, "export", str(export))
    target = module_store(store.backend, "twelfth-run-import-behind")  # empty: only this test imports into it
    with use_database(Path(target.home), target.database_url) as home:
        import shutil

        home.mkdir(parents=True, exist_ok=True)
        for name in ("identity.json", "identity.p12", "certificate.pem"):  # the same freelancer restores
            shutil.copy2(acme / name, home / name)
        refused(home, ("import", str(export)), 1, "is before the last entry of the restored event log", env=BEHIND)
