"""A store another process keeps locked: a write gives up after a bounded wait, in one line.

Another process holds the store's write lock (SQLite: `BEGIN EXCLUSIVE`; PostgreSQL: the events
table locked as eventsourcing's insert locks it). A recording command used to retry twenty
times, each retry waiting SQLite's whole busy timeout (PostgreSQL: waiting for ever); now it
waits at most TRATOS_LOCK_TIMEOUT seconds in all (30 by default; 2 here, so the test is fast).
"""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from backends import SCRIPT

from domain.model.values import Party

WAIT = 2  # TRATOS_LOCK_TIMEOUT for these tests, in seconds
BUSY = "stayed locked by another process: nothing was recorded, try again"


@contextmanager
def locked(store, app) -> Iterator[None]:
    """The store's write lock held by another connection, as another process would hold it."""
    if store.database_url is None:
        other = sqlite3.connect(Path(store.home) / "tratos.sqlite", isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    import psycopg
    from psycopg import sql

    from domain.adapters.storage import PostgresLocation

    location = PostgresLocation.parse(store.database_url)
    table = sql.Identifier(location.schema or "public", app.recorder.events_table_name)
    with psycopg.connect(**location.connect_kwargs()) as other, other.transaction():
        other.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(table))
        yield


def script(store, *args: str, **env: str) -> subprocess.CompletedProcess:
    """The real `tratos` script on `store`, with `env` added (a hang fails the test at 120 s)."""
    full = {**store.env(), "TRATOS_TODAY": "2026-03-31", **env}
    full.pop("TRATOS_DEBUG", None)
    return subprocess.run([str(SCRIPT), *store.cli_args(), *args], env=full, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("command", [("note", "acme", "Called about the launch"),
                                     ("terms", "publish", "acme", "--rate", "60/h")],
                         ids=["note", "terms"])
def test_a_write_on_a_locked_store_gives_up_after_the_wait(command, store, app):
    app.open_relationship("acme", Party(name="Acme Consulting SL"), on=date(2026, 1, 5))
    before = app.recorder.max_notification_id()
    assert script(store, "status", "acme").returncode == 0  # read models caught up first
    with locked(store, app):
        began = time.monotonic()
        done = script(store, *command, TRATOS_LOCK_TIMEOUT=str(WAIT))
        took = time.monotonic() - began
    assert done.returncode == 1, done
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and BUSY in lines[0], done.stderr
    assert took < 4 * WAIT + 10, f"waited {took:.1f} s for a lock of {WAIT} s"
    assert store.open().recorder.max_notification_id() == before


def test_the_wait_is_a_number_of_seconds(store):
    Path(store.home).mkdir(parents=True, exist_ok=True)  # a home that is there: the wait is what is wrong
    done = script(store, "note", "acme", "x", TRATOS_LOCK_TIMEOUT="soon")
    assert done.returncode == 2, done
    assert done.stderr.splitlines() == ["error: TRATOS_LOCK_TIMEOUT='soon' is not a number of seconds from 1"
                                        " to 3600"], done.stderr
