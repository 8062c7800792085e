"""Every place tratos relies on a private part of a library (eventsourcing, pydantic, mailbox), each named and dated.

The libraries' public APIs do not offer what these functions do (a statement cache on SQLite
connections, several inserts in one transaction, a tracking record in the read models' own
transaction, no plugin search). Each function says which private name it relies on and why;
`WRITTEN_FOR` records the versions they were written against, and
`tests/store/test_library_internals.py` fails as soon as another version is installed or one of
`PRIVATE_NAMES` is gone, so an upgrade breaks a test instead of a command.

Only the standard library is imported here at first: `cli/main.py` imports this module before
any command runs, and a command that opens no store must not pay for eventsourcing's import.
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache, partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eventsourcing.persistence import StoredEvent, Tracking
    from eventsourcing.sqlite import SQLiteConnectionPool, SQLiteDatastore

# The exact versions every function below was read against (pyproject.toml pins them).
WRITTEN_FOR = {"eventsourcing": "9.5.6", "pydantic": "2.14.4"}

# (module, class, name) for every private or undocumented name used below; instance attributes
# are checked on an instance (see the test).
PRIVATE_NAMES = (
    ("eventsourcing.sqlite", "SQLiteConnectionPool", "_create_connection"),
    ("eventsourcing.sqlite", "SQLiteConnectionPool", "db_name"),
    ("eventsourcing.sqlite", "SQLiteConnectionPool", "lock_timeout"),
    ("eventsourcing.sqlite", "SQLiteConnectionPool", "max_age"),
    ("eventsourcing.sqlite", "SQLiteConnectionPool", "is_sqlite_memory_mode"),
    ("eventsourcing.sqlite", "SQLiteConnectionPool", "is_journal_mode_wal"),
    ("eventsourcing.sqlite", "SQLiteConnectionPool", "journal_mode_was_changed_to_wal"),
    ("eventsourcing.sqlite", "SQLiteDatastore", "pool"),
    ("eventsourcing.sqlite", "SQLiteApplicationRecorder", "_insert_events"),
    ("eventsourcing.postgres", "PostgresApplicationRecorder", "_insert_stored_events"),
    ("eventsourcing.sqlite", "SQLiteTrackingRecorder", "_max_tracking_id"),
    ("eventsourcing.sqlite", "SQLiteTrackingRecorder", "_insert_tracking"),
    ("eventsourcing.postgres", "PostgresTrackingRecorder", "_max_tracking_id"),
    ("eventsourcing.postgres", "PostgresTrackingRecorder", "_insert_tracking"),
    ("pydantic.plugin._loader", None, "get_plugins"),
    ("mailbox", "mbox", "_lookup"),
)

PYDANTIC_PLUGIN_LOADER = "pydantic.plugin._loader"


# ------------------------------------------------------- SQLite connections


@cache
def _statement_caching_pool() -> type[SQLiteConnectionPool]:
    """The pool class, defined on first use (eventsourcing is imported only when a store opens)."""
    import sqlite3

    from eventsourcing.persistence import InterfaceError
    from eventsourcing.sqlite import (
        SQLITE3_DEFAULT_LOCK_TIMEOUT,
        SQLiteConnection,
        SQLiteConnectionPool,
    )

    class StatementCachingSQLitePool(SQLiteConnectionPool):
        """eventsourcing's pool (WAL mode), with a synchronous level and a statement cache."""

        driver: Any = sqlite3  # the DB-API module connections are opened with
        connection_class: Any = SQLiteConnection

        def __init__(self, *, db_name: str, lock_timeout: int | None, statement_cache: int,
                     synchronous: str) -> None:
            self.statement_cache = statement_cache
            self.synchronous = synchronous
            super().__init__(db_name=db_name, lock_timeout=lock_timeout)

        def _create_connection(self) -> SQLiteConnection:
            driver = self.driver
            try:  # as eventsourcing 9.5.6's SQLiteConnectionPool._create_connection, but for the cache
                connection = driver.connect(self.db_name, uri=True, check_same_thread=False,
                                            isolation_level=None, cached_statements=self.statement_cache,
                                            timeout=self.lock_timeout or SQLITE3_DEFAULT_LOCK_TIMEOUT)
            except (driver.Error, TypeError) as error:
                raise InterfaceError(error) from error
            connection.row_factory = driver.Row
            try:
                self._unlock(connection)
                if not self.is_sqlite_memory_mode and not self.is_journal_mode_wal:
                    if connection.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                        connection.execute("PRAGMA journal_mode=WAL")
                        self.journal_mode_was_changed_to_wal = True
                    self.is_journal_mode_wal = True
                connection.execute(f"PRAGMA synchronous={self.synchronous}")
            except BaseException:
                connection.close()
                raise
            return self.connection_class(sqlite_conn=connection, max_age=self.max_age)

        def _unlock(self, connection: Any) -> None:
            """What a connection needs before its first read (a key)."""

    return StatementCachingSQLitePool


def replace_sqlite_pool(datastore: SQLiteDatastore, *, statement_cache: int, synchronous: str) -> None:
    """Give `datastore` a pool whose connections keep `statement_cache` prepared statements and
    run with `PRAGMA synchronous=<synchronous>`.

    eventsourcing 9.5.6 offers no setting for either: its `SQLiteConnectionPool` opens connections
    in the private `_create_connection`, with `cached_statements=True` (a cache of one statement,
    ADR-19), and `SQLiteDatastore` builds that pool itself in its undocumented attribute `pool`.
    So the pool class overrides `_create_connection` with a copy of the library's body (reading
    its attributes `db_name`, `lock_timeout`, `max_age`, `is_sqlite_memory_mode`,
    `is_journal_mode_wal`, `journal_mode_was_changed_to_wal`), and the datastore's `pool` is
    swapped for it before any connection is opened (the library opens none in its constructor).
    """
    plain = datastore.pool
    datastore.pool = _statement_caching_pool()(
        db_name=plain.db_name, lock_timeout=plain.lock_timeout,
        statement_cache=statement_cache, synchronous=synchronous)
    plain.close()


# ------------------------------------------------------- SQLCipher connections


@cache
def _sealed_pool() -> type[SQLiteConnectionPool]:
    """The pool of an SQLCipher database: eventsourcing's SQLite code on `sqlcipher3` connections."""
    import sqlcipher3.dbapi2 as sqlcipher
    from eventsourcing.sqlite import SQLiteConnection

    class SealedSQLiteConnection(SQLiteConnection):
        """eventsourcing's SQLite connection, whose transactions raise eventsourcing's errors for
        `sqlcipher3`'s as they do for `sqlite3`'s (its `SQLiteTransaction` only knows those)."""

        @contextmanager
        def transaction(self, *, commit: bool) -> Iterator[Any]:
            try:
                with super().transaction(commit=commit) as cursor:
                    yield cursor
            except sqlcipher.Error as error:
                raise persistence_error(error) from error

    class SealedSQLitePool(_statement_caching_pool()):  # type: ignore[misc, valid-type]
        """Connections keyed before their first read, SQLCipher's own log to stderr silenced."""

        driver = sqlcipher
        connection_class = SealedSQLiteConnection

        def __init__(self, *, key: bytes, **kwargs: Any) -> None:
            self.key = key
            super().__init__(**kwargs)

        def _create_connection(self) -> SQLiteConnection:
            try:
                return super()._create_connection()
            except sqlcipher.Error as error:  # not a database for this key, locked, unreadable
                raise persistence_error(error) from error

        def _unlock(self, connection: Any) -> None:
            connection.execute("PRAGMA cipher_log_level = NONE")  # else a wrong key logs to stderr
            connection.execute(f"PRAGMA key = \"x'{self.key.hex()}'\"")  # a raw key: no PBKDF2

    return SealedSQLitePool


def seal_sqlite_pool(datastore: SQLiteDatastore, *, key: bytes, statement_cache: int,
                     synchronous: str) -> None:
    """Give `datastore` (made for an SQLCipher file) a pool of `sqlcipher3` connections keyed with
    `key` (32 raw bytes), as `replace_sqlite_pool` does for `sqlite3` (same private names)."""
    plain = datastore.pool
    datastore.pool = _sealed_pool()(
        db_name=plain.db_name, lock_timeout=plain.lock_timeout, key=key,
        statement_cache=statement_cache, synchronous=synchronous)
    plain.close()


def persistence_error(error: BaseException) -> BaseException:
    """eventsourcing's exception for a DB-API error of another driver than `sqlite3`, by its name
    (`OperationalError` for `OperationalError`...), as eventsourcing wraps `sqlite3`'s."""
    from eventsourcing import persistence

    wrapper = getattr(persistence, type(error).__name__, None)
    if not (isinstance(wrapper, type) and issubclass(wrapper, persistence.PersistenceError)):
        wrapper = persistence.PersistenceError
    return wrapper(error)


# ---------------------------------------------------- events, one transaction


def inserts_with_notification(recorder: Any) -> bool:
    """Whether `recorder` is eventsourcing's PostgreSQL application recorder, whose private
    `_insert_stored_events` (9.5.6) locks the events table and notifies listeners before it
    inserts; the SQLite recorder has no such step."""
    return hasattr(recorder, "_insert_stored_events")


def event_inserter(recorder: Any, cursor: Any) -> Callable[[Sequence[StoredEvent]], Any]:
    """`recorder`'s own insert step, bound to `cursor`, a transaction of the caller's.

    eventsourcing 9.5.6's public `insert_events` commits each call; an import of a million
    records must insert in chunks and commit once (all or nothing). The private step
    `insert_events` runs inside its transaction is `_insert_stored_events(cursor, events)` on
    PostgreSQL (lock, notify, insert) and `_insert_events(cursor, events)` on SQLite. The bound
    method is returned as is: calling it costs no more than calling the library.
    """
    if inserts_with_notification(recorder):
        return partial(recorder._insert_stored_events, cursor)
    return partial(recorder._insert_events, cursor)


# ------------------------------------------------------------------ tracking


def max_tracking_id(recorder: Any, application_name: str, cursor: Any) -> int | None:
    """The tracking position of `application_name`, read in the caller's transaction.

    eventsourcing 9.5.6's public `max_tracking_id` opens a transaction of its own; the read
    models read their position after taking their write lock, in the same transaction that
    applies the page, so they call the private `_max_tracking_id(application_name, cursor)` of
    `SQLiteTrackingRecorder` / `PostgresTrackingRecorder`.
    """
    return recorder._max_tracking_id(application_name, cursor)


def insert_tracking(recorder: Any, cursor: Any, tracking: Tracking) -> None:
    """Record `tracking` in the caller's transaction, with the rows it stands for.

    eventsourcing 9.5.6's public `insert_tracking` commits on its own; the private
    `_insert_tracking(cursor, tracking)` writes the same record (refusing a position already
    recorded) inside the read models' transaction, so rows and position commit together.
    """
    recorder._insert_tracking(cursor, tracking)


# ------------------------------------------------------------------- pydantic


def without_pydantic_plugins() -> None:
    """Skip pydantic's plugin search, which costs every command ~30 ms (a fifth of its libraries' imports).

    The first validator pydantic (2.14.4) builds imports its private module
    `pydantic.plugin._loader`, which imports importlib.metadata (email, zipfile, csv...) and scans
    the entry points of every installed distribution. tratos uses no pydantic plugin, so it runs
    with PYDANTIC_DISABLE_PLUGINS=__all__, and then the loader has nothing to load: a stand-in
    with the one function pydantic calls (`get_plugins`, returning none) replaces it. Set
    PYDANTIC_DISABLE_PLUGINS to anything else to have pydantic search for plugins as usual.
    Must run before pydantic builds its first validator.
    """
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    name = PYDANTIC_PLUGIN_LOADER
    if os.environ["PYDANTIC_DISABLE_PLUGINS"] == "__all__" and name not in sys.modules:
        loader = types.ModuleType(name, "tratos: pydantic plugins disabled (PYDANTIC_DISABLE_PLUGINS=__all__)")
        loader.get_plugins = lambda: ()  # type: ignore[attr-defined]
        sys.modules[name] = loader


# -------------------------------------------------------------- the standard library


def mbox_message_span(box: Any, key: str) -> tuple[int, int]:
    """Where message `key` of a `mailbox.mbox` starts and stops in its file (byte offsets).

    The public API gives a message only by reading it whole (`get_bytes`); its size, to refuse one
    larger than an .eml may be before it is read, is in the table of offsets the private
    `_lookup(key)` returns (Python 3.11 to 3.13)."""
    return box._lookup(key)
