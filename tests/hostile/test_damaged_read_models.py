"""Damaged read models are a cache thrown away (issue 19, ADR-63).

An encrypted store keeps its read models in `read-models.sqlite` in the home (ADR-57), on both
backends. Whatever happens to that file, the event log is never written because of it, and
`tratos audit verify` still holds afterwards:

- damaged (truncated, bytes overwritten in the middle, in a table's page, in the header,
  zero-length, another key's file): the command answers as before, the file removed and made
  again from the log, with one `warning:` line naming it when SQLite found it damaged;
- something else at its name (a folder, a FIFO, a link to /dev/zero): refused in one `error:`
  line naming it, exit 1, left where it is; once it is moved away, the next command answers.

A plain store's read-model tables (in its own database) dropped, altered, shadowed by a view,
given a trigger, or their position deleted are noticed on opening and rebuilt too.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_support import IN_FORCE, copied, database_of, given, ok, run, store_rows, use_database

from domain.adapters.encryption import KEY_ENV, new_key, read_model_key
from domain.adapters.home import READ_MODELS_FILE

PASSPHRASE = {"TRATOS_KEY_PASSPHRASE": "s3cret passphrase"}
KEY = new_key()
ENCRYPTED = {KEY_ENV: KEY, **PASSPHRASE}
HISTORY = IN_FORCE + [
    ("hours", "log", "acme", "6:30", "--note", "Wireframes", "--on", "2026-01-20"),
    ("note", "acme", "Laura asked for a dark theme", "--on", "2026-01-21"),
    ("client", "open", "north-wind", "--name", "Northwind Trading Ltd", "--country", "GB", "--on", "2026-01-30"),
]
READERS = (("status", "acme"), ("status",), ("timeline", "acme"))
_made: set[tuple[str, str]] = set()


def template(module_store, backend: str, name: str, env: dict[str, str]):
    """acme in force with hours and a note, north-wind opened, every read model made: once per backend."""
    spec = module_store(backend, name)
    if (backend, name) not in _made:
        with use_database(Path(spec.home), spec.database_url) as home:
            ok(home, *HISTORY[0], env=env)
            given_with(home, HISTORY[1:], env)
            ok(home, "status", env=env)
        _made.add((backend, name))
    return spec


def given_with(home: Path, steps: list[tuple[str, ...]], env: dict[str, str]) -> None:
    if not env.get(KEY_ENV):
        given(home, steps)
        return
    for step in steps:
        ok(home, *step, env=env)


@pytest.fixture
def keyed(module_store, store) -> Iterator[Path]:
    """The encrypted template's private copy, its read models caught up."""
    with copied(template(module_store, store.backend, "damaged-read-models-keyed", ENCRYPTED), store) as home:
        ok(home, "status", env=ENCRYPTED)  # PostgreSQL: the stream heads, not copied, caught up
        assert (home / READ_MODELS_FILE).is_file()
        yield home


@pytest.fixture
def plain(module_store, store) -> Iterator[Path]:
    """The plain template's private copy, its read models caught up in its own database."""
    with copied(template(module_store, store.backend, "damaged-read-models-plain", PASSPHRASE), store) as home:
        ok(home, "status", env=PASSPHRASE)
        assert not (home / READ_MODELS_FILE).exists()
        yield home


@pytest.fixture(scope="module")
def foreign_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The read models of another encrypted store, made with another key."""
    home = tmp_path_factory.mktemp("another-key") / "tratos"
    env = {KEY_ENV: new_key(), "TRATOS_DATABASE_URL": None}
    ok(home, "client", "open", "beta", "--name", "Beta SL", "--on", "2026-01-05", env=env)
    ok(home, "status", env=env)
    return home / READ_MODELS_FILE


# ------------------------------------------------------------------ what is compared


def answers(home: Path, env: dict[str, str]) -> list[str]:
    """What the reading commands print."""
    return [ok(home, *command, env=env).stdout for command in READERS]


def log_of(home: Path) -> object:
    """The event log's database as stored: `tratos.sqlite` byte for byte (the stream heads
    beside the events included); on PostgreSQL the events, the heads and the positions."""
    if database_of(home) is None:
        return {path.name: hashlib.sha256(path.read_bytes()).hexdigest()
                for path in sorted(home.glob("tratos.sqlite*")) if path.stat().st_size}
    return store_rows(home), server_rows(home)


def server_rows(home: Path) -> list[tuple]:
    import psycopg

    from domain.adapters.storage import PostgresLocation

    location = PostgresLocation.parse(database_of(home))
    schema = location.schema or "public"
    with psycopg.connect(**location.connect_kwargs(), autocommit=True) as connection:
        heads = connection.execute(f'SELECT stream, version, digest FROM "{schema}".stream_heads'
                                   " ORDER BY stream").fetchall()
        tracking = connection.execute(f'SELECT application_name, notification_id FROM "{schema}".tratos_tracking'
                                      " ORDER BY application_name").fetchall()
    return heads + tracking


def audit_holds(home: Path, env: dict[str, str]) -> None:
    outcome = run(home, "--json", "audit", "verify", env=env)
    assert outcome.code == 0, outcome.stdout[-2000:] + outcome.stderr
    assert json.loads(outcome.stdout)["ok"] is True


def names_the_read_models(line: str, home: Path) -> None:
    assert str(home / READ_MODELS_FILE) in line, line
    assert "tratos.sqlite" not in line and "Error" not in line and "Traceback" not in line, line


# ------------------------------------------------------------------ encrypted: damage


def _overwrite(path: Path, offset: int, length: int) -> None:
    with path.open("r+b") as file:
        file.seek(offset)
        file.write(bytes([0x5A]) * length)


def _table_page(path: Path, table: str) -> int:
    """The page where `table` starts in the encrypted file, read with the store's key."""
    import sqlcipher3.dbapi2 as sqlcipher

    connection = sqlcipher.connect(str(path))
    try:
        connection.execute(f"PRAGMA key = \"x'{read_model_key(KEY).hex()}'\"")
        [(page,)] = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchall()
        [(size,)] = connection.execute("PRAGMA page_size").fetchall()
    finally:
        connection.close()
    return (int(page) - 1) * int(size)  # (SQLCipher answers the page size as text)


def _every_page(path: Path) -> None:
    size = path.stat().st_size
    for page in range(1, size // 4096):
        _overwrite(path, page * 4096 + 1000, 16)


DAMAGES: dict[str, Callable[[Path, Path], None]] = {
    "truncated": lambda path, _: os.truncate(path, path.stat().st_size // 2 + 100),
    "overwritten in the middle": lambda path, _: _overwrite(path, path.stat().st_size // 2, 64),
    "overwritten in every page but the first": lambda path, _: _every_page(path),
    "overwritten in the clients' table": lambda path, _: _overwrite(path, _table_page(path, "relationships") + 2000, 32),
    "header overwritten": lambda path, _: _overwrite(path, 0, 100),
    "zero-length": lambda path, _: os.truncate(path, 0),
    "another key's file": lambda path, foreign: shutil.copyfile(foreign, path),
}
# Damage SQLite reports as such, on opening or when `status acme` or a rebuild reads it (a warning
# says the file was removed); what is no database for this key, or an empty one, is made again
# without a word (ADR-57). A page overwritten in the middle is found if it is read.
FOUND_DAMAGED = {"truncated", "overwritten in every page but the first", "overwritten in the clients' table"}
NOT_OURS = {"header overwritten", "zero-length", "another key's file"}


@pytest.mark.parametrize("command", ["status", "rebuild"])
@pytest.mark.parametrize("damage", list(DAMAGES))
def test_damaged_read_models_are_made_again_from_the_log(keyed: Path, foreign_file: Path, damage: str,
                                                         command: str) -> None:
    before, log = answers(keyed, ENCRYPTED), log_of(keyed)
    assert "Acme Consulting SL" in before[0] and "8000.00 EUR" in before[0] and "6.5/120 h" in before[0]
    DAMAGES[damage](keyed / READ_MODELS_FILE, foreign_file)
    outcome = run(keyed, command, *(("acme",) if command == "status" else ()), env=ENCRYPTED)
    assert outcome.code == 0, outcome.stderr
    warnings = outcome.stderr_lines
    assert len(warnings) == 1 if damage in FOUND_DAMAGED else len(warnings) == 0 if damage in NOT_OURS \
        else len(warnings) <= 1, outcome.stderr
    for line in warnings:
        assert line.startswith("warning: ") and "was damaged" in line, line
        names_the_read_models(line, keyed)
    if command == "rebuild":
        assert outcome.stdout.startswith("Rebuilt the read models from 8 events"), outcome.stdout
    else:
        assert outcome.stdout == before[0]
    assert answers(keyed, ENCRYPTED) == before
    assert log_of(keyed) == log
    audit_holds(keyed, ENCRYPTED)


def test_damage_found_while_reading_is_mended_and_the_reading_answered(keyed: Path) -> None:
    """The clients' table's page damaged: the file opens and catches up (no table read yet); the
    read of the clients finds the damage, and the command still answers, from read models made
    again."""
    before, log = answers(keyed, ENCRYPTED), log_of(keyed)
    DAMAGES["overwritten in the clients' table"](keyed / READ_MODELS_FILE, Path())
    outcome = run(keyed, "timeline", "acme", env=ENCRYPTED)  # timeline rows: another table, still whole
    assert (outcome.code, outcome.stdout, outcome.stderr) == (0, before[2], "")
    outcome = run(keyed, "status", env=ENCRYPTED)
    assert (outcome.code, outcome.stdout) == (0, before[1])
    [line] = outcome.stderr_lines
    assert "database disk image is malformed" in line
    names_the_read_models(line, keyed)
    assert run(keyed, "status", "acme", env=ENCRYPTED).stderr == ""  # made again: nothing more to say
    assert log_of(keyed) == log


# ------------------------------------------------------------------ encrypted: in the way


def _folder(path: Path) -> None:
    path.mkdir()
    (path / "kept.txt").write_text("someone's file")


IN_THE_WAY: dict[str, tuple[Callable[[Path], None], str, Callable[[Path], bool]]] = {
    "folder": (_folder, "is a folder", lambda path: (path / "kept.txt").read_text() == "someone's file"),
    "FIFO": (os.mkfifo, "is a FIFO (named pipe)", lambda path: path.is_fifo()),
    "link to /dev/zero": (lambda path: path.symlink_to("/dev/zero"), "is a symbolic link (to /dev/zero)",
                          lambda path: path.is_symlink() and os.readlink(path) == "/dev/zero"),
}


@pytest.mark.parametrize("command", [("status", "acme"), ("rebuild",), ("timeline", "acme")])
@pytest.mark.parametrize("obstacle", list(IN_THE_WAY))
def test_what_is_not_a_read_models_file_is_refused_naming_it(keyed: Path, obstacle: str,
                                                             command: tuple[str, ...]) -> None:
    make, said, still_there = IN_THE_WAY[obstacle]
    before, log = answers(keyed, ENCRYPTED), log_of(keyed)
    path = keyed / READ_MODELS_FILE
    path.unlink()
    make(path)
    outcome = run(keyed, *command, env=ENCRYPTED)
    assert outcome.code == 1, outcome.stderr
    [line] = outcome.stderr_lines
    assert line.startswith("error: ") and said in line and "move it out of the way" in line, line
    names_the_read_models(line, keyed)
    assert outcome.stdout == ""
    assert still_there(path)  # not opened, not removed: the user's to move
    assert log_of(keyed) == log
    audit_holds(keyed, ENCRYPTED)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
    assert answers(keyed, ENCRYPTED) == before  # moved away: made again from the log
    assert log_of(keyed) == log


def test_a_wal_file_that_is_a_folder_is_refused_too(keyed: Path) -> None:
    log = log_of(keyed)
    wal = keyed / (READ_MODELS_FILE + "-wal")
    wal.mkdir()
    outcome = run(keyed, "status", env=ENCRYPTED)
    assert outcome.code == 1
    assert f"{wal} is a folder" in outcome.stderr and "tratos.sqlite" not in outcome.stderr
    assert wal.is_dir() and log_of(keyed) == log


# ------------------------------------------------------------------ plain stores' tables


def _sql(home: Path, *statements: str) -> None:
    """Statements run on the plain store's own database, as a user with sqlite3 or psql would."""
    url = database_of(home)
    if url is None:
        with sqlite3.connect(home / "tratos.sqlite") as connection:
            for statement in statements:
                connection.execute(statement.replace("{s}", ""))
        return
    import psycopg

    from domain.adapters.storage import PostgresLocation

    location = PostgresLocation.parse(url)
    with psycopg.connect(**location.connect_kwargs(), autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement.replace("{s}", f'"{location.schema or "public"}".'))


def _trigger(home: Path) -> None:
    if database_of(home) is None:
        _sql(home, "CREATE TRIGGER no_rows BEFORE INSERT ON timeline BEGIN SELECT RAISE(ABORT, 'no'); END")
        return
    _sql(home, "CREATE FUNCTION {s}no_rows() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'no'; END $$"
               " LANGUAGE plpgsql",
         "CREATE TRIGGER no_rows BEFORE INSERT ON {s}timeline FOR EACH ROW EXECUTE FUNCTION {s}no_rows()")


def _tracking(home: Path) -> str:
    return "tracking" if database_of(home) is None else "tratos_tracking"


PLAIN_DAMAGES: dict[str, Callable[[Path], None]] = {
    "a table dropped": lambda home: _sql(home, "DROP TABLE {s}relationships"),
    "a column added": lambda home: _sql(home, "ALTER TABLE {s}relationships ADD COLUMN junk TEXT"),
    "a column renamed": lambda home: _sql(home, "ALTER TABLE {s}relationships RENAME COLUMN name TO nom"),
    "a view where a table was": lambda home: _sql(home, "DROP TABLE {s}timeline",
                                                   "CREATE VIEW {s}timeline AS SELECT 1 AS x"),
    "a trigger refusing rows": _trigger,
    "their own table altered": lambda home: _sql(home, "ALTER TABLE {s}read_model_meta DROP COLUMN value"),
    "the position deleted": lambda home: _sql(
        home, f"DELETE FROM {{s}}{_tracking(home)} WHERE application_name = 'read_models'"),
}


@pytest.mark.parametrize("command", ["status", "rebuild"])
@pytest.mark.parametrize("damage", list(PLAIN_DAMAGES))
def test_a_plain_stores_damaged_read_model_tables_are_rebuilt(plain: Path, damage: str, command: str) -> None:
    before, events = answers(plain, PASSPHRASE), store_rows(plain)
    PLAIN_DAMAGES[damage](plain)
    outcome = run(plain, command, *(("acme",) if command == "status" else ()), env=PASSPHRASE)
    assert (outcome.code, outcome.stderr) == (0, ""), outcome.stderr
    if command == "status":
        assert outcome.stdout == before[0]
    ok(plain, "note", "acme", "Recorded after the damage", "--on", "2026-02-02", env=PASSPHRASE)
    assert "Recorded after the damage" in ok(plain, "timeline", "acme", env=PASSPHRASE).stdout
    assert answers(plain, PASSPHRASE)[:2] == before[:2]
    assert store_rows(plain)[:-1] == events
    audit_holds(plain, PASSPHRASE)
