"""Choosing and opening the store: database URLs, one-line errors, SQLite durability."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import pytest
from backends import StoreSpec, with_schema
from tax_profile import UNTAXED_PROFILE

from domain.adapters.storage import (
    DurableSQLiteFactory,
    PostgresLocation,
    StoreUnavailable,
    locate_store,
    redact,
)
from domain.model.errors import BadInput
from domain.model.values import Party
from domain.services.application import Tratos

DAY = date(2026, 3, 2)


# ------------------------------------------------------------------ URLs


def test_a_full_url_gives_every_eventsourcing_setting():
    location = PostgresLocation.parse("postgresql://ana:s%40cret@db.example.com:6543/tratos?schema=agency")
    assert (location.host, location.port, location.dbname, location.user, location.password,
            location.schema) == ("db.example.com", 6543, "tratos", "ana", "s@cret", "agency")
    settings = location.settings()
    assert settings["PERSISTENCE_MODULE"] == "domain.adapters.postgres_factory:BoundedPostgresFactory"
    assert {k: settings[k] for k in ("POSTGRES_DBNAME", "POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER",
                                     "POSTGRES_PASSWORD", "POSTGRES_SCHEMA")} == {
        "POSTGRES_DBNAME": "tratos", "POSTGRES_HOST": "db.example.com", "POSTGRES_PORT": "6543",
        "POSTGRES_USER": "ana", "POSTGRES_PASSWORD": "s@cret", "POSTGRES_SCHEMA": "agency"}


def test_defaults_port_5432_no_password_public_schema_and_ipv6_hosts():
    location = PostgresLocation.parse("postgres://bob@[::1]/books")
    assert (location.host, location.port, location.password, location.schema) == ("::1", 5432, "", "")
    assert location.where == "[::1]:5432"


@pytest.mark.parametrize("url, message", [
    ("mysql://u@h/db", "unsupported database URL"),
    ("postgresql://u@h:5432/", "names no database"),
    ("postgresql://u@h:99999/db", "invalid port"),
    ("postgresql://u@h:abc/db", "invalid port"),
    ("postgresql://u@h/db?sslmode=require", "unknown option 'sslmode'"),
    ("postgresql://u@h/db?schema=drop;table", "invalid schema name"),
])
def test_a_bad_url_is_bad_input_with_one_line(url, message):
    with pytest.raises(BadInput, match=message) as raised:
        PostgresLocation.parse(url)
    assert "\n" not in str(raised.value)


def test_the_password_never_shows():
    url = "postgresql://ana:hunter2@h/db?sslmode=x"
    with pytest.raises(StoreUnavailable) as raised:
        PostgresLocation.parse(url)
    assert "hunter2" not in str(raised.value)
    assert "hunter2" not in repr(PostgresLocation.parse("postgresql://ana:hunter2@h/db"))
    assert redact(url) == "postgresql://ana:***@h/db?sslmode=x"


def test_without_a_url_the_store_is_the_sqlite_file_in_home(tmp_path, monkeypatch):
    monkeypatch.delenv("TRATOS_DATABASE_URL", raising=False)
    location = locate_store(tmp_path / "home")
    assert location.postgres is None
    assert location.settings["SQLITE_DBNAME"] == str(tmp_path / "home" / "tratos.sqlite")
    assert location.settings["PERSISTENCE_MODULE"] == "domain.adapters.storage:DurableSQLiteFactory"


def test_the_url_comes_from_the_argument_then_env_then_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TRATOS_DATABASE_URL", "postgresql://u@from-environ/db")
    assert locate_store(tmp_path).postgres.host == "from-environ"
    assert locate_store(tmp_path, {"TRATOS_DATABASE_URL": "postgresql://u@from-env/db"}).postgres.host == "from-env"
    assert locate_store(tmp_path, database_url="postgresql://u@from-arg/db").postgres.host == "from-arg"
    assert locate_store(tmp_path, {"TRATOS_DATABASE_URL": ""}).postgres is None  # explicit SQLite


# ------------------------------------------------------ unusable servers


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_server_is_one_plain_line_at_once(tmp_path):
    port = _free_port()
    began = time.monotonic()
    with pytest.raises(StoreUnavailable) as raised:
        Tratos(profile=UNTAXED_PROFILE, home=tmp_path, database_url=f"postgresql://postgres@127.0.0.1:{port}/test")
    assert str(raised.value) == f"cannot reach PostgreSQL at 127.0.0.1:{port}: connection refused"
    assert raised.value.exit_code == 2
    assert time.monotonic() - began < 2


def test_the_cli_exits_2_with_one_line_and_no_traceback(tmp_path):
    port = _free_port()
    tratos = Path(sys.executable).with_name("tratos")
    if not tratos.exists():
        pytest.skip("the tratos script is not installed in this environment")
    result = subprocess.run(
        [str(tratos), "--home", str(tmp_path), "--database-url",
         f"postgresql://postgres:secret@127.0.0.1:{port}/test", "note", "acme", "hello"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert f"cannot reach PostgreSQL at 127.0.0.1:{port}: connection refused" in result.stderr
    assert "Traceback" not in result.stderr and "secret" not in result.stderr


def test_wrong_credentials_or_database_are_one_plain_line(tmp_path, postgres_server):
    server = PostgresLocation.parse(postgres_server)
    base = f"postgresql://{{user}}@{server.host}:{server.port}/{{db}}"
    with pytest.raises(StoreUnavailable, match=r'refused the connection: role "no_such_role" does not exist'):
        Tratos(profile=UNTAXED_PROFILE, home=tmp_path, database_url=base.format(user="no_such_role", db=server.dbname))
    with pytest.raises(StoreUnavailable, match=r'refused the connection: database "no_such_db" does not exist'):
        Tratos(profile=UNTAXED_PROFILE, home=tmp_path, database_url=base.format(user=server.user, db="no_such_db"))


# ------------------------------------------------------- opening stores


def test_each_backend_opens_its_own_persistence(store: StoreSpec, app: Tratos):
    expected = {"sqlite": "DurableSQLiteFactory", "postgres": "BoundedPostgresFactory"}[store.backend]
    assert type(app.factory).__name__ == expected
    app.open_relationship("acme", Party(name="Acme"), on=DAY)
    assert app.verify("acme").ok


def test_a_missing_schema_is_created_on_first_use(tmp_path, postgres_server):
    import psycopg

    schema = f"tratos_new_{uuid.uuid4().hex[:12]}"
    location = PostgresLocation.parse(postgres_server)
    app = Tratos(profile=UNTAXED_PROFILE, home=tmp_path, database_url=with_schema(postgres_server, schema))
    try:
        app.open_relationship("acme", Party(name="Acme"), on=DAY)
        with psycopg.connect(**location.connect_kwargs(), autocommit=True) as connection:
            tables = {row[0] for row in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,))}
        assert "tratos_events" in tables
    finally:
        app.close()
        with psycopg.connect(**location.connect_kwargs(), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_sqlite_is_wal_with_synchronous_full_on_every_connection(tmp_path, monkeypatch):
    monkeypatch.delenv("TRATOS_DATABASE_URL", raising=False)
    app = Tratos(profile=UNTAXED_PROFILE, home=tmp_path)
    try:
        assert isinstance(app.factory, DurableSQLiteFactory)
        app.open_relationship("acme", Party(name="Acme"), on=DAY)
        for commit in (False, True):  # reader and writer connections
            with app.factory.datastore.transaction(commit=commit) as cursor:
                cursor.execute("PRAGMA journal_mode")
                assert cursor.fetchone()[0].lower() == "wal"
                cursor.execute("PRAGMA synchronous")
                assert cursor.fetchone()[0] == 2  # FULL
    finally:
        app.close()


def test_sqlite_connections_prepare_a_statement_once_however_others_interleave(tmp_path, monkeypatch):
    """A rebuild alternates reads of the log, row loads and writes of thousands of rows; with
    eventsourcing's one-statement cache each was compiled again every time."""
    monkeypatch.delenv("TRATOS_DATABASE_URL", raising=False)
    app = Tratos(profile=UNTAXED_PROFILE, home=tmp_path)
    try:
        app.open_relationship("acme", Party(name="Acme"), on=DAY)
        with app.factory.datastore.get_connection(commit=False) as connection:
            compiled: list[int] = []
            sqlite_connection = connection._sqlite_conn
            # SQLite asks the authorizer while it compiles a statement, never when it runs one.
            sqlite_connection.set_authorizer(
                lambda action, *_: compiled.append(action) or sqlite3.SQLITE_OK)
            queries = ("SELECT count(*) FROM stored_events", "SELECT max(rowid) FROM stored_events",
                       "SELECT 1 FROM stored_events WHERE originator_version = ?")
            for _ in range(3):
                for query in queries:
                    sqlite_connection.execute(query, (1,) if "?" in query else ())
            sqlite_connection.set_authorizer(None)
        assert compiled.count(sqlite3.SQLITE_SELECT) == len(queries)
    finally:
        app.close()
