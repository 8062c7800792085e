"""The eleventh adversarial run (issue 19): what identity.json, the environment and an anchor note
could still say without a word (ADR-74).

1. an empty TRATOS_ENCRYPTION_KEY is bad input, not a store kept in clear;
7. a field of identity.json tratos does not read (a misspelt `witholding`) or one written twice;
9. `audit verify CLIENT` with an anchor note that names nothing of CLIENT;
12. a Verifactu mode edited into identity.json in a year whose records were made in the other mode.

Each refusal is one `error:` line, its exit code and the store unchanged, on both backends.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import (
    IN_FORCE,
    copied,
    edit_identity,
    ok,
    recorded_template,
    refused,
    run,
    snapshot,
)

KEYED = {"TRATOS_KEY_PASSPHRASE": "s3cret passphrase"}
HISTORY = IN_FORCE + [
    ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15"),  # F-2026-001, its record kept here
]


@pytest.fixture
def acme(module_store, store) -> Iterator[Path]:
    with copied(recorded_template(module_store, store.backend, "hostile-eleventh-run", HISTORY, KEYED), store) as home:
        yield home


# ------------------------------------------------------------------ 1. an empty encryption key

@pytest.mark.parametrize("key", ["", "   "], ids=["empty", "blank"])
def test_an_empty_encryption_key_is_bad_input(acme: Path, key: str) -> None:
    refused(acme, ("note", "acme", "Hello", "--on", "2026-03-01"), 2, "TRATOS_ENCRYPTION_KEY is set but empty",
            env={"TRATOS_ENCRYPTION_KEY": key})


def test_an_empty_encryption_key_makes_no_store(tmp_path: Path) -> None:
    home = tmp_path / "new"
    outcome = run(home, "client", "open", "acme", "--name", "Acme SL", env={"TRATOS_ENCRYPTION_KEY": "",
                                                                            "TRATOS_DATABASE_URL": None})
    assert outcome.code == 2 and outcome.stderr_lines == [
        "error: TRATOS_ENCRYPTION_KEY is set but empty: set it to the store's key (`tratos audit keygen` makes one"
        " for a new store), or unset it for a store kept in clear"]
    assert not home.exists()


@pytest.mark.parametrize("args, env, said", [
    (("status",), {"TRATOS_DATABASE_URL": ""}, "TRATOS_DATABASE_URL is set but empty"),
    (("--database-url", "", "note", "acme", "Hello"), {}, "--database-url is empty"),
], ids=["variable", "option"])
def test_an_empty_database_url_is_bad_input(acme: Path, args: tuple[str, ...], env: dict, said: str) -> None:
    refused(acme, args, 2, f"{said}: leave it out for the local store", env=env)


# ------------------------------------------------------------------ 7. identity.json's fields

@pytest.mark.parametrize("field", ["witholding", "vat", "Name"])
def test_a_field_tratos_does_not_read_is_a_damaged_identity(acme: Path, field: str) -> None:
    identity = acme / "identity.json"
    edit_identity(acme, **{field: "7"})
    refused(acme, ("invoice", "issue", "acme", "--amount", "100EUR", "--on", "2026-03-01"), 1,
            f"{identity} is damaged (its field '{field}' is not one tratos reads", env=KEYED)


def test_a_field_written_twice_is_a_damaged_identity(acme: Path) -> None:
    identity = acme / "identity.json"
    text = identity.read_text(encoding="utf-8")
    identity.write_text(text.replace('"email"', '"name": "Eve", "email"', 1), encoding="utf-8")
    refused(acme, ("status",), 1, f"{identity} is damaged (its field 'name' is written twice)")


def test_every_field_tratos_writes_is_one_it_reads() -> None:
    from cli.identity_fields import FIELDS, OTHER_KEYS
    from domain.adapters.smtp import KEYS

    assert set(KEYS.values()) <= set(FIELDS) | OTHER_KEYS


def test_the_mail_and_tsa_settings_are_fields_it_reads(acme: Path) -> None:
    ok(acme, "identity", "mail", "--host", "127.0.0.1", "--port", "2525", "--security", "none",
       "--user", "ana@example.com", "--from", "ana@example.com", "--from-name", "Ana", "--bcc-self")
    assert {"smtp_host", "smtp_user", "mail_from", "mail_from_name"} <= set(
        json.loads((acme / "identity.json").read_text(encoding="utf-8")))
    ok(acme, "status")


# ------------------------------------------------------------------ 9. an anchor note about another client

def test_an_anchor_naming_no_version_of_the_client_is_bad_input(acme: Path) -> None:
    ok(acme, "client", "open", "zeta", "--name", "Zeta SL", "--on", "2026-02-01")
    note = ok(acme, "audit", "anchor", "acme").stdout
    line = next(x for x in note.splitlines() if x.startswith("tratos-anchor v1 acme "))
    refused(acme, ("audit", "verify", "zeta", "--anchor", line), 2,
            "the anchor note names no version of zeta (it names acme): check it without zeta, or give zeta's note")
    checked = ok(acme, "audit", "verify", "acme", "--anchor", line)
    assert "Verdict: OK" in checked.stdout


# ------------------------------------------------------------------ 12. the Verifactu mode of the year

def test_verifactu_mode_written_by_hand_in_a_year_of_kept_records_is_refused(acme: Path) -> None:
    identity = acme / "identity.json"
    edit_identity(acme, verifactu_mode="verifactu")
    said = refused(acme, ("invoice", "issue", "acme", "--amount", "100EUR", "--on", "2026-03-01"), 1,
                   f"{identity} says verifactu mode, but your billing records of 2026 were made in no-verifactu mode")
    assert said.endswith("switch from 1 January 2027 with `tratos identity invoicing --verifactu-mode verifactu`);"
                         " nothing was recorded\n")
    refused(acme, ("verifactu", "cancel", "F-2026-001"), 1, "says verifactu mode, but your billing records of 2026")


def test_no_verifactu_mode_written_by_hand_after_the_switch_is_refused(acme: Path) -> None:
    next_year = {**KEYED, "TRATOS_TODAY": "2027-01-04"}
    ok(acme, "identity", "invoicing", "--verifactu-mode", "verifactu", env=next_year)  # logs the end (02)
    ok(acme, "invoice", "issue", "acme", "--amount", "100EUR", "--on", "2027-01-04", env=next_year)
    edit_identity(acme, verifactu_mode="no-verifactu")
    refused(acme, ("invoice", "issue", "acme", "--amount", "100EUR", "--on", "2027-01-04"), 1,
            "says no-verifactu mode, but your billing records of 2027 were made in verifactu mode", env=next_year)


def test_the_mode_switched_as_told_on_1_january_records(acme: Path) -> None:
    next_year = {**KEYED, "TRATOS_TODAY": "2027-01-04"}
    ok(acme, "identity", "invoicing", "--verifactu-mode", "verifactu", env=next_year)
    before = snapshot(acme)
    ok(acme, "invoice", "issue", "acme", "--amount", "100EUR", "--on", "2027-01-04", env=next_year)
    assert snapshot(acme) != before


# ------------------------------------------------------------------ 4. a full disk

@pytest.fixture
def full_disk(acme: Path, store, tmp_path: Path) -> Iterator[Path]:
    """acme's SQLite home on a real 4 MB tmpfs filled to its last 100 KB (root may mount one here)."""
    import shutil
    import subprocess

    if store.backend != "sqlite":
        pytest.skip("a PostgreSQL store's disk is the server's")
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("this machine does not let the tests mount a tmpfs")
    try:
        home = disk / "store"
        shutil.copytree(acme, home)
        free = shutil.disk_usage(disk).free
        with open(disk / "filler", "wb") as filler:
            filler.write(b"\0" * (free - 100 * 1024))
        yield home
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_full_disk_still_reads_verifies_and_exports_and_names_itself_full(full_disk: Path, tmp_path: Path) -> None:
    assert "acme" in ok(full_disk, "status").stdout
    assert "Verdict: OK" in ok(full_disk, "audit", "verify", "acme").stdout
    exported = tmp_path / "elsewhere.jsonl"
    ok(full_disk, "export", str(exported))
    assert exported.stat().st_size > 0
    for args in (("note", "acme", "Hello", "--on", "2026-03-01"),
                 ("invoice", "issue", "acme", "--amount", "5EUR", "--on", "2026-03-01")):
        refused(full_disk, args, 1, f"the store at {full_disk / 'tratos.sqlite'} is full (the disk holding it has less"
                                    " than 256 KB free): nothing was recorded", env=KEYED)


@pytest.mark.parametrize("args, said", [
    (("verifactu", "verify", ""), "FILE.xml is empty: name a file"),
    (("identity", "import", ""), "FILE.p12 is empty: name a file"),
    (("mail", "import", ""), "is empty: name a file"),
], ids=["verify", "identity", "mail"])
def test_an_empty_file_name_is_not_the_folder_it_would_be_read_as(acme: Path, args, said: str) -> None:
    refused(acme, args, 2, said)


def test_a_count_of_ten_digits_is_too_large(acme: Path) -> None:
    refused(acme, ("terms", "publish", "acme", "--payment-days", "99999999999"), 2, "99999999999 is too large: at most")
