"""The store backends the test suite runs on, importable by child processes too.

A `StoreSpec` says where one test's store lives (a home folder, plus a
PostgreSQL URL with a schema of its own); it pickles, so spawned children and
subprocesses of the real `tratos` script open the very same store.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tax_profile import UNTAXED_PROFILE

BACKENDS = ("sqlite", "postgres")
SCRIPT = Path(sys.executable).parent / "tratos"  # the console script, as installed
DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


def server_url() -> str:
    """The PostgreSQL server the tests use: $TRATOS_TEST_DATABASE_URL or the local one."""
    return os.environ.get("TRATOS_TEST_DATABASE_URL") or DEFAULT_TEST_DATABASE_URL


def with_schema(url: str, schema: str) -> str:
    """The same server and database, with ?schema=NAME set (replacing any other)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "schema"] + [("schema", schema)]
    return urlunsplit(parts._replace(query=urlencode(query)))


@dataclass(frozen=True)
class StoreSpec:
    """One test's store: `backend` is 'sqlite' or 'postgres'."""

    backend: str
    home: str
    database_url: str | None = None

    def open(self, actor: str = ""):  # -> domain.services.application.Tratos
        """Another Application instance on this store, as another process would open it."""
        from domain.services.application import Tratos

        # An explicit empty URL keeps SQLite even if this process's environment names a server.
        return Tratos(profile=UNTAXED_PROFILE, home=Path(self.home), actor=actor, database_url=self.database_url,
                      env=None if self.database_url else {"TRATOS_DATABASE_URL": ""})

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """A full environment for a subprocess (e.g. the `tratos` script) on this store."""
        env = dict(os.environ if base is None else base)
        env["TRATOS_HOME"] = self.home
        if self.database_url:
            env["TRATOS_DATABASE_URL"] = self.database_url
        else:
            env.pop("TRATOS_DATABASE_URL", None)
        return env

    def cli_args(self) -> list[str]:
        """The same store as `tratos` options, for commands built as argument lists."""
        args = ["--home", self.home]
        if self.database_url:
            args += ["--database-url", self.database_url]
        return args


def copy_store(source: StoreSpec, target: StoreSpec) -> None:
    """Make `target`, a fresh empty store of the same backend, a copy of `source` (a template
    recorded once, copied per test).

    The home folder is copied whole (identity, keys, evidence and, on sqlite, the database
    file itself). On postgres every stored event is copied as stored, notification id
    included, into the tables the Application creates in the target schema, and the id
    sequence is moved past them. The read models are not copied: like any store whose
    read models are behind, the next command catches them up.
    """
    assert source.backend == target.backend, (source.backend, target.backend)
    shutil.copytree(source.home, target.home, dirs_exist_ok=True)
    if not (source.database_url and target.database_url):
        return
    import psycopg
    from psycopg import sql

    from domain.adapters.storage import PostgresLocation

    app = target.open()  # creates the tables in the target schema
    try:
        table = app.recorder.events_table_name
    finally:
        app.close()
    origin, copy = (PostgresLocation.parse(spec.database_url) for spec in (source, target))
    into = sql.Identifier(copy.schema or "public", table)
    with psycopg.connect(**copy.connect_kwargs()) as connection:  # one transaction
        connection.execute(sql.SQL("INSERT INTO {} SELECT * FROM {} ORDER BY notification_id").format(
            into, sql.Identifier(origin.schema or "public", table)))
        connection.execute(sql.SQL(
            "SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), max(notification_id)) FROM {}"
        ).format(into), (into.as_string(connection),))


def tratos_script(store: StoreSpec, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """The real `tratos` script, in a process of its own, on `store` (its options and environment)."""
    return subprocess.run([str(SCRIPT), *store.cli_args(), *args], env=store.env(), capture_output=True,
                          text=True, timeout=timeout)


def audit_verify(store: StoreSpec) -> dict:
    """`tratos --json audit verify` by the real script on `store`: its report, asserting it exited 0."""
    import json

    done = tratos_script(store, "--json", "audit", "verify")
    assert done.returncode == 0, f"tratos audit verify exited {done.returncode}: {done.stdout[-2000:]}{done.stderr}"
    report = json.loads(done.stdout)
    assert report["ok"] is True, report
    return report
