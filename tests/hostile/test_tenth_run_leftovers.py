"""What the tenth adversarial run (issue 19) left for later (ADR-68), fixed where each rule lives (ADR-70).

- who records is never nobody: without identity.json (or with `{}`) the account running tratos;
  a name in identity.json that `init` would not write is the damaged-file line naming the file;
- an option that holds one value, given twice, is a usage error (`--amount 5 --amount 5000`), and
  so is a database URL naming its schema twice;
- `check` does not mark a client whose history does not verify, and says so (exit 1) after its list;
- while the next contract is drafted, the one in force is still the one a command means;
- `invoice book` of a year without invoices writes nothing.

Each refusal is one `error:` line, its exit code and the store unchanged, on both backends.
"""

from __future__ import annotations

import json
import pwd
from collections.abc import Iterator
from os import getuid
from pathlib import Path

import pytest
from cli_support import IN_FORCE, copied, ok, open_store, recorded_template, refused, run, snapshot

HISTORY = IN_FORCE + [
    ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15"),      # F-2026-001, due 02-14
    ("note", "acme", "Called about the invoice", "--on", "2026-02-20"),
]
NO_ACCOUNT_VARIABLES = {"USER": None, "LOGNAME": None, "LNAME": None, "USERNAME": None}


@pytest.fixture
def acme(module_store, store) -> Iterator[Path]:
    with copied(recorded_template(module_store, store.backend, "hostile-tenth-leftovers", HISTORY), store) as home:
        yield home


def actors(home: Path) -> list[str]:
    target = home.parent / "actors.jsonl"
    target.unlink(missing_ok=True)
    ok(home, "export", str(target))
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    return [line["state"]["actor"] for line in lines if "state" in line and "actor" in line.get("state", {})]


# ------------------------------------------------------------------ who records

@pytest.mark.parametrize("identity", [None, "{}"], ids=["no-identity", "empty-object"])
def test_without_a_name_the_account_running_tratos_records(cli_home: Path, identity: str | None) -> None:
    if identity is not None:
        cli_home.mkdir(parents=True, exist_ok=True)
        (cli_home / "identity.json").write_text(identity, encoding="utf-8")
    ok(cli_home, "client", "open", "acme", "--name", "Acme SL", "--on", "2026-01-05", env=NO_ACCOUNT_VARIABLES)
    ok(cli_home, "note", "acme", "Hello", "--on", "2026-01-06", env=NO_ACCOUNT_VARIABLES)
    account = pwd.getpwuid(getuid()).pw_name
    found = actors(cli_home)
    assert found and all(actor == account for actor in found), found


@pytest.mark.parametrize("name", ["Ana \u202eaícraG", "A" * 5000, "Ana\nGarcía"], ids=["bidi", "long", "newline"])
def test_a_name_init_would_not_write_is_the_damaged_file_line(acme: Path, name: str) -> None:
    identity = acme / "identity.json"
    written = json.loads(identity.read_text(encoding="utf-8"))
    identity.write_text(json.dumps({**written, "name": name}), encoding="utf-8")
    said = refused(acme, ("note", "acme", "Hello", "--on", "2026-03-01"), 1, f"{identity} is damaged (its name is not")
    assert "tratos init --force" in said


# ------------------------------------------------------------------ one value per option

@pytest.mark.parametrize("args", [
    ("invoice", "issue", "acme", "--amount", "5EUR", "--amount", "5000EUR", "--on", "2026-03-01"),
    ("note", "acme", "Hello", "--on", "2026-03-01", "--on", "2026-02-01"),
    ("note", "acme", "Hello", "--on=2026-03-01", "--on", "2026-03-01"),
    ("payment", "record", "acme", "F-2026-001", "100EUR", "--on", "2026-03-01", "--on", "2026-03-02"),
], ids=["amount", "on", "on-equals-same-value", "payment-on"])
def test_an_option_given_twice_is_a_usage_error(acme: Path, args: tuple[str, ...]) -> None:
    option = next(word for word in args[3:] if word.startswith("--")).partition("=")[0]
    refused(acme, args, 2, f"{option} is given twice: give it once")


def test_the_home_given_twice_is_a_usage_error(acme: Path) -> None:
    before = snapshot(acme)
    outcome = run(acme, "--home", str(acme.parent / "other"), "note", "acme", "Hello", "--on", "2026-03-01")
    assert (outcome.code, outcome.stderr_lines) == (2, ["error: --home is given twice: give it once"])
    assert snapshot(acme) == before


def test_a_database_url_naming_its_schema_twice_is_refused(tmp_path: Path) -> None:
    outcome = run(tmp_path, "status", env={
        "TRATOS_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test?schema=a&schema=b"})
    assert outcome.code == 2 and len(outcome.stderr_lines) == 1, outcome.stderr
    assert "names its schema twice" in outcome.stderr


# ------------------------------------------------------------------ check on a broken chain

def break_the_note(home: Path) -> int:
    """The stored note edited behind tratos's back, its digest left as it was; its version."""
    from forger import Forger

    from domain.model.values import stream_id

    app = open_store(home)
    try:
        return Forger(app).edit(stream_id("acme"), "NoteRecorded", b"Called", b"Emailed")
    finally:
        app.close()


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_check_lists_then_says_a_client_it_could_not_mark(acme: Path, as_json: bool) -> None:
    version = break_the_note(acme)
    before = snapshot(acme)
    outcome = run(acme, *(["--json"] if as_json else []), "check", "--today", "2026-03-31")
    assert outcome.code == 1, outcome.stderr
    assert outcome.stderr_lines == [
        f"error: the history of acme does not verify: broken at v{version} (content does not match its digest);"
        " restore it from your latest export (`tratos import` into an empty store) or from a backup: its late"
        " invoices were not marked; `tratos audit verify` says what broke"]
    assert snapshot(acme) == before  # no PaymentLate on an edited history
    if as_json:
        result = json.loads(outcome.stdout)
        assert result["marked_late"] == [] and [b["handle"] for b in result["broken"]] == ["acme"]
        assert any(a["kind"] == "late_payment" and a["ref"] == "F-2026-001" for a in result["actions"])
    else:
        assert "F-2026-001" in outcome.stdout and "late payment" in outcome.stdout


def test_check_marks_a_client_whose_history_holds(acme: Path) -> None:
    outcome = ok(acme, "check", "--today", "2026-03-31")
    assert "Recorded: invoice F-2026-001 of acme is late on 2026-03-31" in outcome.stdout


# ------------------------------------------------------------------ the contract in force while the next is drafted

NEXT = ("contract", "draft", "acme", "--title", "Phase 2", "--scope", "More", "--price", "1000EUR",
        "--start", "2026-04-01", "--end", "2026-05-01", "--on", "2026-02-01")


@pytest.mark.parametrize("args, said", [
    (("invoice", "issue", "acme", "--amount", "100EUR", "--on", "2026-03-01"), "(K1)"),
    (("change", "request", "acme", "Extra page", "--on", "2026-03-01"), "change C1 requested"),
    (("hours", "log", "acme", "3", "--on", "2026-03-01"), "3 h on K1"),
    (("contract", "complete", "acme", "--on", "2026-03-16"), "contract K1 completed"),
], ids=["invoice", "change", "hours", "complete"])
def test_while_the_next_contract_is_drafted_the_one_in_force_is_meant(acme: Path, args, said: str) -> None:
    ok(acme, *NEXT)
    assert said in ok(acme, *args).stdout
    if args[0] == "change":
        shown = json.loads(ok(acme, "--json", "status", "acme").stdout)
        assert [c["contract"] for c in shown["changes"]] == ["K1"]


def test_signing_means_the_contract_being_drafted(acme: Path) -> None:
    ok(acme, *NEXT)
    assert "contract K2 signed by us" in ok(acme, "contract", "sign", "acme", "--by", "us", "--on", "2026-02-02").stdout
    assert "(K1)" in ok(acme, "invoice", "issue", "acme", "--amount", "100EUR", "--on", "2026-03-01").stdout


# ------------------------------------------------------------------ a book of nothing

def test_the_book_of_a_year_without_invoices_is_not_written(acme: Path) -> None:
    target = acme.parent / "book-2025.csv"
    refused(acme, ("invoice", "book", "--year", "2025", "-o", str(target)), 1,
            "no invoice was issued in 2025: no book written")
    assert not target.exists()
    assert json.loads(ok(acme, "--json", "invoice", "book", "--year", "2025").stdout)["rows"] == []
