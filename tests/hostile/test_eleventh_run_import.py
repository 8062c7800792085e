"""The eleventh adversarial run (issue 19), its two import defects, fixed at their root (ADR-71).

3. The Verifactu event log's "backup restored" entry (07) is saved in the transaction of the events
   the import restores: a store holds both or neither, whatever kills the import. Proved without
   timing: a trigger of the database refuses the entry's row, and the store is left empty.
10. An invoice issued after its issuer's billing records began, which no record registers (its
   record taken off the end of the chain), is refused by import and named by the audit.

Each refusal is one `error:` line, its exit code and the store left empty, on both backends.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import (
    IN_FORCE,
    copied,
    home_beside,
    ok,
    open_store,
    recorded_template,
    run,
    store_rows,
)
from forger import Forger

KEYED = {"TRATOS_KEY_PASSPHRASE": "s3cret passphrase"}
NIF = "12345678Z"
HISTORY = IN_FORCE + [
    ("invoice", "issue", "acme", "--amount", "100EUR", "--on", "2026-02-01"),  # F-2026-001, record 1, log start 01
    ("invoice", "issue", "acme", "--amount", "200EUR", "--on", "2026-02-02"),  # F-2026-002, record 2
]
# The row of the import's own log entry (its "other" says it), refused by the database itself.
REFUSE_ENTRY = {
    "sqlite": ('CREATE TRIGGER no_restored BEFORE INSERT ON "{table}"'
               " WHEN instr(CAST(NEW.state AS TEXT), 'tratos import of') > 0"
               " BEGIN SELECT RAISE(ABORT, 'this store takes no such entry'); END"),
    "postgres": ('CREATE FUNCTION "{schema}".no_restored() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN'
                 " IF position(convert_to('tratos import of', 'UTF8') in NEW.state) > 0 THEN"
                 " RAISE EXCEPTION 'this store takes no such entry'; END IF; RETURN NEW; END $$;"
                 ' CREATE TRIGGER no_restored BEFORE INSERT ON "{schema}"."{table}"'
                 ' FOR EACH ROW EXECUTE FUNCTION "{schema}".no_restored()'),
}
ALLOW_ENTRY = {
    "sqlite": "DROP TRIGGER no_restored",
    "postgres": 'DROP TRIGGER no_restored ON "{schema}"."{table}"',
}


@pytest.fixture
def acme(module_store, store) -> Iterator[Path]:
    with copied(recorded_template(module_store, store.backend, "hostile-eleventh-run-import", HISTORY, KEYED),
                store) as home:
        yield home


@pytest.fixture
def target(empty_store, acme) -> Iterator[Path]:
    """An empty store with acme's identity and signing key, as a freelancer restores a backup."""
    with home_beside(acme, empty_store) as home:
        yield home


def exported(home: Path, folder: Path, *, without: str | None = None) -> Path:
    """`home` exported; `without` the line of that record (`"InvoiceRegistered", 2`…), the end line's
    count made right: the chains of every other stream still hold."""
    path = folder / "export.jsonl"
    ok(home, "export", str(path))
    if without is None:
        return path
    lines = path.read_bytes().splitlines()
    kind, version = without
    kept = [line for line in lines[1:-1]
            if not (json.loads(line)["topic"].endswith(f":{kind}") and json.loads(line)["version"] == version)]
    assert len(kept) == len(lines) - 3, "exactly one line taken out"
    end = json.loads(lines[-1])
    ending = json.dumps({**end, "events": end["events"] - 1}, separators=(",", ":"), sort_keys=True).encode()
    path.write_bytes(b"\n".join([lines[0], *kept, ending]) + b"\n")
    return path


def log_entries(home: Path) -> list[tuple[str, str]]:
    app = open_store(home)
    try:
        return [(entry.event_type, entry.other) for entry in app.event_log(NIF)]
    finally:
        app.close()


def file_events(path: Path) -> int:
    return len(path.read_bytes().splitlines()) - 2


def on_the_database(home: Path, statements: dict[str, str]) -> None:
    app = open_store(home)  # creates the tables, as the import's own opening would
    try:
        forger = Forger(app)
        backend = "postgres" if forger.postgres else "sqlite"
        forger.execute(statements[backend].format(table=forger.table, schema=getattr(forger, "schema", "")))
    finally:
        app.close()


# ------------------------------------------------------------------ 3. the 07 entry with the events, or neither

def test_an_import_saves_its_entry_in_the_event_log_with_the_events(acme, target, tmp_path):
    path = exported(acme, tmp_path)
    events = file_events(path)
    ok(target, "import", str(path), env=KEYED)
    assert log_entries(target)[-1] == ("07", f"tratos import of {events} events")
    assert len(store_rows(target)) == events + 1
    assert ok(target, "audit", "verify", env=KEYED).stdout.endswith("Verdict: OK, every chain holds\n")


def test_an_entry_the_store_refuses_leaves_the_store_empty_and_the_import_can_be_run_again(acme, target, tmp_path):
    """The store itself refuses the 07 entry's row (a trigger): the events written before it in the
    same transaction are gone with it, and the import, refused, can be run again."""
    path = exported(acme, tmp_path)
    on_the_database(target, REFUSE_ENTRY)
    outcome = run(target, "import", str(path), env=KEYED)
    assert outcome.code == 1, outcome.stderr
    assert len(outcome.stderr_lines) == 1 and outcome.stderr.startswith("error: "), outcome.stderr
    assert "Traceback" not in outcome.stderr and "Imported" not in outcome.stdout
    assert store_rows(target) == []
    on_the_database(target, ALLOW_ENTRY)
    ok(target, "import", str(path), env=KEYED)
    assert log_entries(target)[-1] == ("07", f"tratos import of {file_events(path)} events")


def test_an_entry_that_cannot_be_signed_refuses_the_import(acme, target, tmp_path):
    """No passphrase for the key: the entry cannot be made, so nothing is imported (before, the import
    stood without its entry, and could never be logged since the store was not empty any more)."""
    path = exported(acme, tmp_path)
    outcome = run(target, "import", str(path), env={"TRATOS_KEY_PASSPHRASE": None})
    assert outcome.code == 2, outcome.stderr
    assert outcome.stderr == (f"error: the import's entry in the Verifactu event log of {NIF} cannot be made (no"
                              " passphrase for the signing key: set TRATOS_KEY_PASSPHRASE (there is no terminal to"
                              " ask on)); nothing was imported\n")
    assert store_rows(target) == []
    ok(target, "import", str(path), env=KEYED)
    assert [kind for kind, _ in log_entries(target)] == ["01", "07"]


def test_a_store_kept_in_verifactu_mode_logs_no_entry(acme, target, tmp_path):
    path = exported(acme, tmp_path)
    identity = json.loads((target / "identity.json").read_text(encoding="utf-8"))
    (target / "identity.json").write_text(json.dumps({**identity, "verifactu_mode": "verifactu"}), encoding="utf-8")
    ok(target, "import", str(path), env={"TRATOS_KEY_PASSPHRASE": None})
    assert len(store_rows(target)) == file_events(path)


# ------------------------------------------------------------------ 10. an invoice without its billing record

@pytest.mark.parametrize(("history", "taken", "number"), [
    ((), ("InvoiceRegistered", 2), "F-2026-002"),
    ((("invoice", "correct", "acme", "F-2026-001", "--reason", "Too much", "--amount", "-50EUR",
       "--on", "2026-02-03"),), ("InvoiceRegistered", 3), "R-2026-001"),
])
def test_an_invoice_whose_record_was_taken_out_is_not_imported(acme, target, tmp_path, history, taken, number):
    for step in history:
        ok(acme, *step, env=KEYED)
    path = exported(acme, tmp_path, without=taken)
    records = {n: json.loads(line) for n, line in enumerate(path.read_bytes().splitlines(), 1)}
    kind = {n: record.get("topic", "").rpartition(":")[2] for n, record in records.items()}
    issued = next(n for n, record in records.items() if kind[n] in ("InvoiceIssued", "InvoiceCorrected")
                  and record["state"]["invoice_number"] == number)
    began = next(n for n in records if kind[n] == "InvoiceRegistered")
    outcome = run(target, "import", str(path), env=KEYED)
    assert outcome.code == 1, outcome.stderr
    assert outcome.stderr == (f"error: export.jsonl line {issued}: 'acme' issued {number} after the billing records"
                              f" of {NIF} began (line {began}), and no billing record registers it; nothing was"
                              " imported\n")
    assert store_rows(target) == []


def test_the_same_file_with_every_record_imports(acme, target, tmp_path):
    path = exported(acme, tmp_path)
    assert ok(target, "import", str(path), env=KEYED).stderr == ""


def test_the_audit_names_an_invoice_whose_record_was_taken_out_of_the_store(acme):
    from domain.model.streams import records_id

    app = open_store(acme)
    try:
        Forger(app).delete(records_id(NIF), 2)  # the last record: the chain of records still holds
    finally:
        app.close()
    ok(acme, "rebuild", env=KEYED)  # the read models see the log as it is now: they witness nothing removed
    outcome = run(acme, "audit", "verify", env=KEYED)
    assert outcome.code == 1, outcome.stdout
    assert ("impossible history: F-2026-002 was issued after the billing records of 12345678Z began, and no"
            " billing record registers it") in outcome.stdout
    assert outcome.stdout.endswith("Verdict: NOT OK, 1 stream broken\n"), outcome.stdout
