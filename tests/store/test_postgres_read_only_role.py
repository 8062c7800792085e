"""A PostgreSQL role granted SELECT only (an accountant, an auditor) reads, verifies and exports
the store; what would record is refused in one line, the store unchanged (ADR-75).

PostgreSQL only: the role is made for each test (a unique name, USAGE on the test's schema and
SELECT on its tables) and dropped after it. The commands run through the CLI, as that role.
"""

from __future__ import annotations

import json
import re
import secrets
import sys
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))  # cli_support, shared with tests/cli

from cli_support import IN_FORCE, copied, ok, open_store, recorded_template, run, store_rows  # noqa: E402

from domain.adapters.storage import PostgresLocation  # noqa: E402

pytestmark = pytest.mark.parametrize("backend", ["postgres"])

STORY = [*IN_FORCE, ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-02-01")]
READ_ONLY_LINE = "is read-only for this role: nothing was recorded"
BEHIND = "are behind its log and this role may only read it"


def _as_owner(url: str):
    import psycopg

    return psycopg.connect(**PostgresLocation.parse(url).connect_kwargs(), autocommit=True)


@pytest.fixture
def shared(module_store, store) -> Iterator[Path]:
    """The story recorded by the owner (a role that may create), its read models caught up."""
    with copied(recorded_template(module_store, "postgres", "read-only-role", STORY), store) as home:
        ok(home, "status")  # the copy's read models are made and caught up by the owner
        yield home


def _reader_role(url: str, schemas: list[str]) -> Iterator[str]:
    """A login role with USAGE on `schemas` and SELECT on their tables; yields its URL on the
    first schema. Dropped afterwards, with every privilege it was given."""
    from psycopg import sql

    role, password = f"tratos_ro_{uuid.uuid4().hex[:12]}", secrets.token_hex(8)
    with _as_owner(url) as connection:
        connection.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(role), sql.Literal(password)))
        for schema in schemas:
            connection.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
                sql.Identifier(schema), sql.Identifier(role)))
            connection.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
                sql.Identifier(schema), sql.Identifier(role)))
    location = PostgresLocation.parse(url)
    host = f"[{location.host}]" if ":" in location.host else location.host
    try:
        yield (f"postgresql://{role}:{password}@{host}:{location.port}/{quote(location.dbname)}"
               f"?schema={schemas[0]}")
    finally:
        with _as_owner(url) as connection:
            connection.execute("SET lock_timeout = '20s'")
            connection.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            connection.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.fixture
def reader(shared: Path, store) -> Iterator[dict[str, str]]:
    """The environment that makes `run` open the shared store as a role granted SELECT only."""
    schema = PostgresLocation.parse(store.database_url).schema
    for url in _reader_role(store.database_url, [schema]):
        yield {"TRATOS_DATABASE_URL": url}


def _read(home: Path, env: dict[str, str], *args: str):
    outcome = run(home, *args, env=env)
    assert outcome.code == 0, (args, outcome.stderr)
    # audit verify and verifactu verify note their check in the Verifactu event log: a reader cannot,
    # and is told so in a warning
    assert all(line.startswith("warning: ") for line in outcome.stderr_lines), outcome.stderr
    return outcome


def _refused(home: Path, env: dict[str, str], args: tuple[str, ...], says: str) -> None:
    before = store_rows(home)
    outcome = run(home, *args, env=env)
    assert outcome.code == 1, (args, outcome.stderr)
    assert len(outcome.stderr_lines) == 1 and outcome.stderr.startswith("error: "), outcome.stderr
    assert says in outcome.stderr, outcome.stderr
    assert not re.search(r"Traceback|\b[A-Z]\w+(Error|Exception)\b", outcome.stderr)
    assert store_rows(home) == before


def test_a_reader_sees_where_things_stand(shared, reader):
    [acme] = json.loads(_read(shared, reader, "--json", "status").stdout)
    assert (acme["handle"], acme["contract"], acme["outstanding"]) == (
        "acme", "K1", {"amount": "4000.00", "currency": "EUR"}), acme
    timeline = _read(shared, reader, "timeline", "acme")
    assert "Invoice F-2026-001 issued" in timeline.stdout and "Contract K1 drafted" in timeline.stdout


def test_a_reader_verifies_the_record(shared, reader):
    audit = _read(shared, reader, "audit", "verify")
    assert "Verdict: OK" in audit.stdout
    records = _read(shared, reader, "verifactu", "verify")
    assert re.search(r"records:12345678Z\s+1 records\s+OK", records.stdout), records.stdout


def test_a_reader_exports_every_event(shared, reader, tmp_path):
    target = tmp_path / "backup.jsonl"
    _read(shared, reader, "export", str(target))
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    events = [(line["stream"], line["version"]) for line in lines if "stream" in line]
    assert len(events) == len(store_rows(shared)) == lines[-1]["events"] and len(set(events)) == len(events)


def test_a_reader_gets_the_invoice_book(shared, reader):
    book = json.loads(_read(shared, reader, "--json", "invoice", "book", "--year", "2026").stdout)
    [row] = book["rows"]
    assert (row["income"], row["issued_on"]) == ("4000.00", "2026-02-01"), row


@pytest.mark.parametrize("args", [("note", "acme", "hello"), ("client", "open", "beta", "--name", "Beta SA"),
                                  ("rebuild",)], ids=["note", "client-open", "rebuild"])
def test_what_records_is_refused_in_one_line(shared, reader, args):
    _refused(shared, reader, args, READ_ONLY_LINE if args[0] != "rebuild" else "is read-only for this role")


def test_read_models_behind_say_who_may_catch_them_up(shared, reader):
    app = open_store(shared)  # the owner records without catching the read models up
    try:
        app.record_note("acme", "Called Laura", on=date(2026, 3, 2))
    finally:
        app.close()
    _refused(shared, reader, ("status",), BEHIND)
    _refused(shared, reader, ("timeline", "acme"), BEHIND)
    assert "Verdict: OK" in _read(shared, reader, "audit", "verify").stdout  # the log, as it is
    ok(shared, "status")  # the owner (any command) catches them up
    assert "Called Laura" in _read(shared, reader, "timeline", "acme").stdout


def test_a_store_whose_tables_are_not_made_is_refused_in_one_line(empty_store, store):
    """Nothing made yet: the tables cannot be left out, and the role may not create them."""
    schema = PostgresLocation.parse(empty_store.database_url).schema
    for url in _reader_role(empty_store.database_url, [schema]):
        outcome = run(Path(empty_store.home), "status", env={"TRATOS_DATABASE_URL": url})
        assert outcome.code == 1 and len(outcome.stderr_lines) == 1, outcome.stderr
        assert "is read-only for this role" in outcome.stderr, outcome.stderr
