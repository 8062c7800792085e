"""Running the tratos CLI in-process as a user would, and reading its store back raw.

`run(home, *args)` calls `cli.main.main` (the console script's entry point, so
errors become one `error:` line and an exit code) inside click's CliRunner
isolation, with today pinned. `store_rows(home)` reads every row of the
stored events table (SQLite's with the stdlib, PostgreSQL's with psycopg), so
"nothing changed" is checked on the bytes stored, not through our own classes.

A home folder is a SQLite store unless `use_database(home, url)` said its events
live in a PostgreSQL schema (the `cli_home` and template fixtures do, on the
postgres backend): then `run`, `open_store` and `store_rows` use that schema.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from cli.main import main

TODAY = "2026-03-31"
HEX64 = re.compile(r"[0-9a-f]{64}\Z")
# The signing key's passphrase `run` gives when a test names none (`passphrase_by_default`).
_PASSPHRASE: ContextVar[str | None] = ContextVar("passphrase", default=None)


@contextmanager
def passphrase_by_default(passphrase: str) -> Iterator[None]:
    """Within it, `run` sets TRATOS_KEY_PASSPHRASE unless the call says otherwise: as a freelancer
    who keeps it in their environment, for the modules whose store has a signing key, where every
    invoice signs its billing record (no-verifactu mode, ADR-59)."""
    token = _PASSPHRASE.set(passphrase)
    try:
        yield
    finally:
        _PASSPHRASE.reset(token)


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str

    @property
    def stderr_lines(self) -> list[str]:
        return self.stderr.splitlines()


_DATABASES: dict[str, str] = {}


@contextmanager
def use_database(home: Path, database_url: str | None) -> Iterator[Path]:
    """While inside, commands run on `home` keep their events at `database_url` (None: SQLite)."""
    if database_url is None:
        yield home
        return
    _DATABASES[str(home)] = database_url
    try:
        yield home
    finally:
        _DATABASES.pop(str(home), None)


@contextmanager
def copied(source, target) -> Iterator[Path]:
    """`target` (a fresh StoreSpec) made a copy of the template `source`; yields its home."""
    from backends import copy_store

    copy_store(source, target)
    with use_database(Path(target.home), target.database_url) as home:
        yield home


def store_args(home: Path) -> list[str]:
    """`home`'s store as `tratos` options (for the real script or `main`)."""
    url = database_of(home)
    return ["--home", str(home), *(["--database-url", url] if url else [])]


def database_of(home: Path) -> str | None:
    """The PostgreSQL URL of `home`'s store, or None for the SQLite file in it."""
    return _DATABASES.get(str(home))


def open_store(home: Path):  # -> domain.services.application.Tratos
    """A new Application on `home`'s store, as the next process would open it (close it)."""
    from backends import StoreSpec

    url = database_of(home)
    return StoreSpec("postgres" if url else "sqlite", str(home), url).open()


def year_of_the_log(home: Path, issuer_nif: str = "12345678Z") -> int:
    """The year the Verifactu event log's entries were made in: the record clock's when the history
    was recorded (`verifactu events --year`)."""
    from domain.model.streams import events_id

    app = open_store(home)
    try:
        [first] = app.recorder.select_events(events_id(issuer_nif), limit=1)
        return int(app.mapper.to_domain_event(first).generated_at[:4])
    finally:
        app.close()


def run(home: Path, *args: str, env: dict[str, str | None] | None = None) -> Outcome:
    """`tratos --home HOME ARGS…` in-process; returns exit code, stdout and stderr."""
    settings: dict[str, str | None] = {
        "TRATOS_TODAY": TODAY, "TRATOS_DATABASE_URL": database_of(home), "TRATOS_HOME": None,
        "TRATOS_DEBUG": None, "TRATOS_KEY_PASSPHRASE": _PASSPHRASE.get(),
    }
    settings.update(env or {})
    with CliRunner().isolation(env=settings) as (out, err, _):
        try:
            main(["--home", str(home), *args])
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    return Outcome(code, out.getvalue().decode(), err.getvalue().decode())


def ok(home: Path, *args: str, **kwargs) -> Outcome:
    """Run a command that must succeed, showing its stderr if it does not."""
    outcome = run(home, *args, **kwargs)
    assert outcome.code == 0, f"tratos {' '.join(args)} failed: {outcome.stderr}"
    return outcome


def store_rows(home: Path) -> list[tuple]:
    """Every stored event as stored: stream, version, topic and state bytes, in insertion order."""
    if database_of(home):
        return _postgres_rows(database_of(home))
    database = home / "tratos.sqlite"
    if not database.exists():
        return []
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
        ).fetchall()


def _postgres_rows(url: str) -> list[tuple]:
    import psycopg
    from psycopg import sql

    from domain.adapters.storage import PostgresLocation

    location = PostgresLocation.parse(url)
    schema = location.schema or "public"
    with psycopg.connect(**location.connect_kwargs(), autocommit=True) as connection:
        found = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s"
            " AND table_name LIKE %s", (schema, "%\\_events")).fetchall()
        if not found:
            return []
        [(table,)] = found
        return connection.execute(sql.SQL(
            "SELECT originator_id, originator_version, topic, state FROM {} ORDER BY notification_id"
        ).format(sql.Identifier(schema, table))).fetchall()


def evidence_files(home: Path) -> list[str]:
    folder = home / "evidence"
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def snapshot(home: Path) -> tuple:
    """What a refused command leaves as it was: the event rows, the evidence files, identity.json."""
    identity = home / "identity.json"
    return store_rows(home), evidence_files(home), identity.read_bytes() if identity.exists() else None


def refused(home: Path, args: tuple[str, ...], code: int, message: str, env: dict | None = None) -> str:
    """Run a command that must be refused in one `error:` line saying `message`, leaving the store as it was."""
    before = snapshot(home)
    outcome = run(home, *args, env=env)
    assert outcome.code == code, (args, outcome.stderr)
    assert len(outcome.stderr_lines) == 1 and outcome.stderr.startswith("error: "), outcome.stderr
    assert message in outcome.stderr, outcome.stderr
    assert not re.search(r"\b[A-Z]\w+(Error|Exception)\b|Traceback|Decimal\(|datetime\.", outcome.stderr)
    assert snapshot(home) == before
    return outcome.stderr


def write_eml(path: Path, subject: str, sender: str = "Laura Pérez <laura@acme.test>",
              day: str = "Mon, 12 Jan 2026 10:14:00 +0100", body: str = "Agreed.") -> Path:
    path.write_text(f"From: {sender}\nTo: ana@example.com\nDate: {day}\nSubject: {subject}\n\n{body}\n",
                    encoding="utf-8")
    return path


# The acme story up to a contract in force: (args…) per command, in date order.
OPENED = [
    ("init", "--name", "Ana García", "--email", "ana@example.com"),
    ("identity", "invoicing", "--tax-id", "12345678Z", "--address", "Calle Mayor 1, 28013 Madrid", "--vat", "0%"),
    ("client", "open", "acme", "--name", "Acme Consulting SL", "--on", "2026-01-05"),
]
IN_FORCE = OPENED + [
    ("terms", "publish", "acme", "--rate", "60/h", "--payment-days", "30", "--response-days", "2",
     "--late-fee", "statutory-eu", "--on", "2026-01-05"),
    ("contract", "draft", "acme", "--title", "Website relaunch", "--scope", "Redesign the site",
     "--price", "8000EUR", "--hours", "120", "--start", "2026-01-15", "--end", "2026-03-15",
     "--installment", "50%@2026-01-15", "--installment", "50%@2026-02-15", "--on", "2026-01-08"),
    ("contract", "sign", "acme", "--by", "us", "--on", "2026-01-12"),
    ("contract", "sign", "acme", "--by", "client", "--signer", "Laura Pérez", "--on", "2026-01-12"),
]


def warned(home: Path, *args: str, env: dict | None = None) -> str:
    """Run a command that must succeed with exactly one `warning:` line; return that line."""
    outcome = run(home, *args, env=env)
    assert outcome.code == 0, outcome.stderr
    assert len(outcome.stderr_lines) == 1 and outcome.stderr.startswith("warning: "), outcome.stderr
    return outcome.stderr


def edit_identity(home: Path, **fields: str) -> None:
    """identity.json edited by hand: `fields` written over what it holds."""
    identity = home / "identity.json"
    identity.write_text(json.dumps({**json.loads(identity.read_text(encoding="utf-8")), **fields}), encoding="utf-8")


def given(home: Path, steps: list[tuple[str, ...]]) -> None:
    for step in steps:
        ok(home, *step)


@contextmanager
def home_beside(home: Path, empty_store) -> Iterator[Path]:
    """An empty store with `home`'s identity and signing key, as a freelancer restores a backup."""
    other = Path(empty_store.home)
    other.mkdir(parents=True, exist_ok=True)
    for name in ("identity.json", "identity.p12"):
        (other / name).write_bytes((home / name).read_bytes())
    with use_database(other, empty_store.database_url):
        yield other


_TEMPLATES: set[str] = set()  # the homes of the module templates recorded so far


def recorded_template(module_store, backend: str, name: str, history: list[tuple[str, ...]],
                      keyed: dict[str, str] | None = None):  # -> backends.StoreSpec
    """The module's template store `name` on `backend`, `history` recorded in it the first time it
    is asked for; tests copy it (`copied`). With `keyed`, the first step (`init`) makes a signing key
    under its passphrase, and the others run with it, as invoices sign their records (ADR-59)."""
    spec = module_store(backend, name)
    if spec.home not in _TEMPLATES:
        with use_database(Path(spec.home), spec.database_url) as home:
            if keyed is None:
                given(home, history)
            else:
                ok(home, *history[0], env=keyed)
                with passphrase_by_default(keyed["TRATOS_KEY_PASSPHRASE"]):
                    given(home, history[1:])
        _TEMPLATES.add(spec.home)
    return spec
