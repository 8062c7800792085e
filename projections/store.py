"""Where the read models live: the backend's own tracking recorder, extended with our tables.

`SQLiteReadModelRecorder` and `PostgresReadModelRecorder` subclass
eventsourcing's `SQLiteTrackingRecorder` / `PostgresTrackingRecorder`, so the
position of the read models is an ordinary eventsourcing tracking record
(`application_name = "read_models"`) written by the library's own
`_insert_tracking`, which refuses to record a position twice. What we add:

- `writing()`: one transaction that first takes the read models' write lock
  (SQLite `BEGIN IMMEDIATE`; PostgreSQL a transaction-scoped advisory lock), so
  two processes catching up at once apply each page once: the second sees the
  position moved and re-reads instead of applying the page again;
- `Batch`: the rows one page of events touches, fetched with one query per
  table before the page is applied, edited in memory, and written back with
  one bulk statement per table, followed by the tracking record, in that same
  transaction.

The SQL is shared; the dialects differ only in the placeholder (`?` / `%s`),
the schema prefix, the lock, and the bulk write (`executemany` on SQLite,
`unnest` of binary column arrays on PostgreSQL). See ADR-14.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from operator import itemgetter
from typing import Any

from eventsourcing.persistence import PersistenceError, Tracking
from eventsourcing.sqlite import (
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteDatastore,
    SQLiteTrackingRecorder,
)

from projections.schema import (
    SCHEMA_VERSION,
    TABLES,
    TRACKING_NAME,
    Table,
    create_statements,
    drop_statements,
)


class Reader:
    """Read-only queries on one snapshot: rows come back as dicts."""

    def __init__(self, cursor: Any, dialect: Dialect) -> None:
        self.cursor = cursor
        self.dialect = dialect

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows as dicts (mutable, comparable)."""
        self.cursor.execute(self.dialect.sql(sql), tuple(params))
        return self.dialect.dicts(self.cursor)

    def tuples(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Rows to unpack by position, in the order of the SELECT list (the cheapest to read)."""
        self.cursor.execute(self.dialect.sql(sql), tuple(params))
        rows = self.cursor.fetchall()
        return [tuple(row.values()) for row in rows] if rows and isinstance(rows[0], dict) else rows

    def one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self.rows(sql, params)
        return rows[0] if rows else None


class Writer(Reader):
    """The cursor of a write transaction that holds the read models' lock."""

    def __init__(self, cursor: Any, dialect: Dialect, recorder: Any) -> None:
        super().__init__(cursor, dialect)
        self.recorder = recorder

    def position(self) -> int:
        return self.recorder._max_tracking_id(TRACKING_NAME, self.cursor) or 0

    def track(self, notification_id: int) -> None:
        """The tracking record, by the library: refuses a position at or before the current one."""
        self.recorder._insert_tracking(self.cursor, Tracking(TRACKING_NAME, notification_id))

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.cursor.execute(self.dialect.sql(sql), tuple(params))

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self.cursor.executemany(self.dialect.sql(sql), rows)

    def upsert(self, table: Table, rows: list[tuple[Any, ...]]) -> None:
        """Write rows (tuples in column order): `executemany` on SQLite (a C loop); on PostgreSQL
        COPY for append-only tables and one statement per table with a column array each
        (`unnest`) for the others, since psycopg's executemany pays Python per row and long
        multi-row VALUES cost it more to parse."""
        if not rows:
            return
        if not self.dialect.arrays:
            self.cursor.executemany(self.dialect.sql(UPSERTS[table.name]), rows)
            return
        if table.append_only:  # the timeline, a row per event: COPY, formatted by psycopg's C code
            with self.cursor.copy(self.dialect.sql(COPIES[table.name])) as copy:
                for row in rows:
                    copy.write_row(row)
            return
        self.cursor.execute(self.dialect.sql(UNNEST_UPSERTS[table.name]), [list(c) for c in zip(*rows, strict=True)])


class Dialect:
    """The little that differs between SQLite and PostgreSQL."""

    def __init__(self, placeholder: str, qualify: str, arrays: bool = False) -> None:
        self.placeholder = placeholder
        self.qualify = qualify
        self.arrays = arrays
        self._cache: dict[str, str] = {}

    def sql(self, text: str) -> str:
        """Our SQL is written with `?` and `{t}` (the schema prefix); adapt it once."""
        converted = self._cache.get(text)
        if converted is None:
            converted = text.replace("{t}", self.qualify)
            if self.placeholder != "?":
                converted = converted.replace("?", self.placeholder)
            self._cache[text] = converted
        return converted

    def dicts(self, cursor: Any) -> list[dict[str, Any]]:
        rows = cursor.fetchall()
        if not rows or isinstance(rows[0], dict):
            return list(rows)
        names = rows[0].keys()  # sqlite3.Row
        return [dict(zip(names, row, strict=True)) for row in rows]


def upsert_sql(table: Table, arrays: bool = False) -> str:
    """INSERT … ON CONFLICT DO UPDATE (plain INSERT for append-only tables) of one row, or with
    `arrays` (PostgreSQL) of as many rows as the column arrays passed hold."""
    columns = ", ".join(table.columns)
    if arrays:
        # %b: psycopg dumps the arrays in binary (its text array dumper escapes every item in Python)
        casts = ", ".join(f"%b::{'bigint' if c in table.integers else 'text'}[]" for c in table.columns)
        insert = f"INSERT INTO {{t}}{table.name} ({columns}) SELECT * FROM unnest({casts})"
    else:
        insert = f"INSERT INTO {{t}}{table.name} ({columns}) VALUES ({', '.join('?' * len(table.columns))})"
    if table.append_only:
        return insert
    updates = ", ".join(f"{c} = excluded.{c}" for c in table.values)
    return f"{insert} ON CONFLICT ({', '.join(table.key)}) DO UPDATE SET {updates}"


UPSERTS = {name: upsert_sql(table) for name, table in TABLES.items()}
UNNEST_UPSERTS = {name: upsert_sql(table, arrays=True) for name, table in TABLES.items()}
COPIES = {name: f"COPY {{t}}{name} ({', '.join(table.columns)}) FROM STDIN"
          for name, table in TABLES.items() if table.append_only}
# row dict -> tuple of its values in column order (itemgetter of one column returns a bare value)
ROW_VALUES = {name: (itemgetter(*table.columns) if len(table.columns) > 1 else lambda row, c=table.columns[0]:
                     (row[c],)) for name, table in TABLES.items()}


_TIMELINE_KEY = itemgetter(0, 1)  # (stream, version)


@cache
def _load_sql(table: str, arrays: bool) -> str:
    """Every row of the streams passed as one list parameter."""
    spec = TABLES[table]
    if arrays:
        return (f"SELECT {', '.join(f't.{c}' for c in spec.columns)} FROM unnest(?::text[]) AS k(stream)"
                f" JOIN {{t}}{table} t ON t.stream = k.stream")
    return f"SELECT {', '.join(spec.columns)} FROM {{t}}{table} WHERE stream IN (SELECT value FROM json_each(?))"


def _list_param(dialect: Dialect, values: list[str]) -> list[Any]:
    return [values] if dialect.arrays else [json.dumps(values)]


@cache
def _load_keys_sql(table: str, columns: tuple[str, ...], arrays: bool) -> str:
    """The rows whose `columns` equal one of the keys passed (see `Batch.load_keys`)."""
    spec = TABLES[table]
    names = [f"k{i}" for i in range(len(columns))]
    if arrays:
        casts = ", ".join(f"?::{'bigint' if c in spec.integers else 'text'}[]" for c in columns)
        keys = f"SELECT * FROM unnest({casts})"
    else:
        keys = "SELECT " + ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(columns))) \
               + " FROM json_each(?)"
    return (f"WITH k({', '.join(names)}) AS ({keys})"
            f" SELECT {', '.join(f't.{c}' for c in spec.columns)} FROM k JOIN {{t}}{table} t ON "
            + " AND ".join(f"t.{c} = k.{n}" for c, n in zip(columns, names, strict=True)))


class Batch:
    """The rows one page of events reads and writes, held in memory for that page only."""

    def __init__(self, writer: Writer | None = None) -> None:
        self.writer = writer
        self.rows: dict[str, dict[tuple, dict[str, Any]]] = {name: {} for name in TABLES}
        self.changed: dict[str, dict[tuple, dict[str, Any]]] = {name: {} for name in TABLES}
        self.timeline: list[tuple[Any, ...]] = []  # one row per event, in TIMELINE.columns order
        self.loaded: dict[str, set[str]] = {}  # streams whose rows of a table are all in `rows`

    def load(self, table: str, streams: Iterable[str]) -> None:
        """Fetch every row of `streams` not fetched yet (rows held here may be newer): one query."""
        loaded = self.loaded.setdefault(table, set())
        streams = sorted(set(streams) - loaded)
        if not streams or self.writer is None:
            return
        loaded.update(streams)
        spec = TABLES[table]
        rows = self.rows[table]
        for row in self.writer.rows(_load_sql(table, self.writer.dialect.arrays), _list_param(
                self.writer.dialect, streams)):
            rows.setdefault(tuple(row[k] for k in spec.key), row)  # a row held here is newer

    def load_keys(self, table: str, columns: tuple[str, ...], keys: Iterable[tuple[Any, ...]]) -> None:
        """Fetch the rows whose `columns` equal one of `keys`, in one query of exact index probes.

        The keys are one parameter (a JSON array on SQLite, one array per column on PostgreSQL),
        joined to the table: the SQL text is the same whatever the number of keys, so neither
        database nor driver parses ten thousand placeholders per page.
        """
        rows = self.rows[table]
        keys = sorted({key for key in keys if key not in rows}, key=str)
        if not keys or self.writer is None:
            return
        spec = TABLES[table]
        dialect = self.writer.dialect
        if dialect.arrays:
            params: list[Any] = [list(column) for column in zip(*keys, strict=True)]
        else:
            params = [json.dumps(keys)]
        for row in self.writer.rows(_load_keys_sql(table, columns, dialect.arrays), params):
            rows[tuple(row[k] for k in spec.key)] = row

    def get(self, table: str, *key: Any) -> dict[str, Any] | None:
        return self.rows[table].get(key)

    def edit(self, table: str, *key: Any) -> dict[str, Any] | None:
        """A row to change (None if it does not exist); it will be written back."""
        row = self.rows[table].get(key)
        if row is not None:
            self.changed[table][key] = row
        return row

    def add(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        spec = TABLES[table]
        full = dict.fromkeys(spec.columns)
        full.update(row)
        key = tuple(full[k] for k in spec.key)
        self.rows[table][key] = full
        self.changed[table][key] = full
        return full

    def write(self) -> None:
        """One statement per table for every row added or edited in this transaction.

        Rows go in key order: the index pages they land on are then visited in order, once each,
        where events interleaved across thousands of clients would jump from page to page.
        """
        assert self.writer is not None
        for name, changed in self.changed.items():
            if changed:
                values = ROW_VALUES[name]
                self.writer.upsert(TABLES[name], [values(changed[key]) for key in sorted(changed)])
        self.changed = {name: {} for name in TABLES}
        self.timeline.sort(key=_TIMELINE_KEY)
        self.writer.upsert(TABLES["timeline"], self.timeline)
        self.timeline = []


class ReadModelRecorder:
    """What both backends' read-model recorders offer to `ReadModels`."""

    dialect: Dialect

    def position(self) -> int:
        return self.max_tracking_id(TRACKING_NAME) or 0  # type: ignore[attr-defined]

    @contextmanager
    def reading(self) -> Iterator[Reader]:
        with self.datastore.transaction(commit=False) as cursor:  # type: ignore[attr-defined]
            yield Reader(cursor, self.dialect)

    def schema_is_current(self) -> bool:
        try:
            with self.reading() as reader:
                if not self._meta_exists(reader):
                    return False
                row = reader.one("SELECT value FROM {t}read_model_meta WHERE key = 'schema'")
        except (sqlite3.Error, PersistenceError):
            return False
        return row is not None and row["value"] == str(SCHEMA_VERSION)

    def ensure_schema(self) -> None:
        """Create the tables on first use; drop and recreate them if their schema is older."""
        if self.schema_is_current():
            return
        self._create_tracking_table()
        with self.writing() as writer:
            if self._meta_exists(writer):
                row = writer.one("SELECT value FROM {t}read_model_meta WHERE key = 'schema'")
                if row is not None and row["value"] == str(SCHEMA_VERSION):
                    return
            self._recreate(writer)

    def reset(self) -> None:
        """Drop every read model and its position: the next catch-up rebuilds from the start."""
        self._create_tracking_table()
        with self.writing() as writer:
            self._recreate(writer)

    def _create_tracking_table(self) -> None:
        """The library's tracking table; two processes creating it at once may collide once."""
        for attempt in range(3):
            try:
                self.create_table()  # type: ignore[attr-defined]
                return
            except PersistenceError:
                if attempt == 2:
                    raise
                time.sleep(0.05)

    def _recreate(self, writer: Writer) -> None:
        for statement in drop_statements("{t}") + create_statements("{t}"):
            writer.execute(statement)
        writer.execute(f"DELETE FROM {self.tracking_table} WHERE application_name = ?", (TRACKING_NAME,))
        writer.execute("INSERT INTO {t}read_model_meta (key, value) VALUES ('schema', ?)",
                       (str(SCHEMA_VERSION),))

    @property
    def tracking_table(self) -> str:
        raise NotImplementedError

    def _meta_exists(self, reader: Reader) -> bool:
        raise NotImplementedError

    @contextmanager
    def writing(self) -> Iterator[Writer]:
        raise NotImplementedError
        yield  # pragma: no cover

    def close(self) -> None:
        """Release what this recorder opened itself (scratch stores only)."""


class SQLiteReadModelRecorder(ReadModelRecorder, SQLiteTrackingRecorder):
    """Read models in the SQLite file of the events (or in a scratch in-memory database)."""

    dialect = Dialect("?", "")
    owns_datastore = False
    keeper: sqlite3.Connection | None = None

    @property
    def tracking_table(self) -> str:
        return "tracking"

    def _meta_exists(self, reader: Reader) -> bool:
        return reader.one("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'read_model_meta'") \
            is not None

    @contextmanager
    def writing(self) -> Iterator[Writer]:
        """`BEGIN IMMEDIATE`: the write lock first, so the position read next cannot go stale.

        Read-model transactions commit with `synchronous=NORMAL` (restored afterwards: the pooled
        connection also records events, which stay FULL). In WAL mode that can only lose the last
        commits to a power cut, rows and position together, which the next catch-up re-applies;
        it saves an fsync per page of a rebuild.
        """
        with self.datastore.get_connection(commit=True) as connection:
            cursor = connection.cursor()
            cursor.execute("PRAGMA synchronous")
            level = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous=NORMAL")
            try:
                cursor.execute("BEGIN IMMEDIATE")
                try:
                    yield Writer(cursor, self.dialect, self)
                except BaseException:
                    connection.rollback()
                    raise
                connection.commit()
            finally:
                cursor.execute(f"PRAGMA synchronous={int(level)}")

    @classmethod
    def scratch(cls) -> SQLiteReadModelRecorder:
        """A private in-memory database: for time travel and for checking rebuilds.

        Its tables are copied from a template made once per process (SQLite's backup API):
        creating them statement by statement costs milliseconds, copying them microseconds.
        A closed scratch store is emptied and kept for the next one (warm statement cache).
        """
        with _SPARE_LOCK:
            if _SPARE:
                return _SPARE.pop()
            template = _template()
        name = f"file:tratos-scratch-{uuid.uuid4().hex}?mode=memory&cache=shared"
        keeper = sqlite3.connect(name, uri=True, check_same_thread=False)
        with _SPARE_LOCK:
            template.backup(keeper)
        recorder = cls(_scratch_datastore(name))
        recorder.owns_datastore = True
        recorder.keeper = keeper  # the in-memory database lives while a connection to it is open
        return recorder

    def close(self) -> None:
        if not self.owns_datastore:
            return
        try:
            with self.writing() as writer:
                for name in TABLES:
                    writer.execute(f"DELETE FROM {{t}}{name}")
                writer.execute("DELETE FROM tracking WHERE application_name = ?", (TRACKING_NAME,))
        except sqlite3.Error:
            self._discard()
            return
        with _SPARE_LOCK:
            if len(_SPARE) < SPARE_SCRATCH_STORES:
                _SPARE.append(self)
                return
        self._discard()

    def _discard(self) -> None:
        self.datastore.close()
        if self.keeper is not None:
            self.keeper.close()


SPARE_SCRATCH_STORES = 4
_SPARE: list[SQLiteReadModelRecorder] = []
_SPARE_LOCK = threading.Lock()
_TEMPLATE: sqlite3.Connection | None = None


class _ScratchPool(SQLiteConnectionPool):
    """eventsourcing's pool, with a real prepared-statement cache (its `cached_statements=True` is 1)."""

    def _create_connection(self) -> SQLiteConnection:
        connection = sqlite3.connect(self.db_name, uri=True, check_same_thread=False, isolation_level=None,
                                     cached_statements=256)
        connection.row_factory = sqlite3.Row
        return SQLiteConnection(sqlite_conn=connection, max_age=self.max_age)


def _scratch_datastore(name: str) -> SQLiteDatastore:
    datastore = SQLiteDatastore(name, single_row_tracking=True)
    datastore.pool.close()
    datastore.pool = _ScratchPool(db_name=name)
    return datastore


def _template() -> sqlite3.Connection:
    """An empty in-memory read-model database with the current schema, made once per process
    (called with `_SPARE_LOCK` held)."""
    global _TEMPLATE
    if _TEMPLATE is None:
        name = f"file:tratos-template-{uuid.uuid4().hex}?mode=memory&cache=shared"
        keeper = sqlite3.connect(name, uri=True, check_same_thread=False)
        recorder = SQLiteReadModelRecorder(_scratch_datastore(name))
        recorder.ensure_schema()
        recorder.datastore.close()
        _TEMPLATE = keeper
    return _TEMPLATE


def postgres_recorder_class() -> type:
    """Defined on demand, so SQLite users never import psycopg."""
    global _POSTGRES_CLASS
    if _POSTGRES_CLASS is None:
        from eventsourcing.postgres import PostgresTrackingRecorder

        class PostgresReadModelRecorder(ReadModelRecorder, PostgresTrackingRecorder):
            """Read models in the PostgreSQL schema of the events."""

            def __init__(self, datastore: Any, **kwargs: Any) -> None:
                super().__init__(datastore, **kwargs)
                schema = self.datastore.schema.replace('"', '""')
                self.dialect = Dialect("%s", f'"{schema}".', arrays=True)
                # One advisory lock per schema serialises read-model writers, like BEGIN IMMEDIATE.
                self.lock_key = zlib.crc32(f"tratos-read-models:{self.datastore.schema}".encode())

            @property
            def tracking_table(self) -> str:
                return f'{self.dialect.qualify}"{self.tracking_table_name}"'

            def _meta_exists(self, reader: Reader) -> bool:
                row = reader.one("SELECT to_regclass(?) AS name",
                                 (f"{self.dialect.qualify}read_model_meta",))
                return row is not None and row["name"] is not None

            @contextmanager
            def writing(self) -> Iterator[Writer]:
                with self.datastore.transaction(commit=True) as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (self.lock_key,))
                    yield Writer(cursor, self.dialect, self)

        _POSTGRES_CLASS = PostgresReadModelRecorder
    return _POSTGRES_CLASS


_POSTGRES_CLASS: type | None = None


def open_recorder(app: Any) -> ReadModelRecorder:
    """The read-model recorder on the same database (and connection pool) as the app's events."""
    factory = app.factory
    if isinstance(factory.datastore, SQLiteDatastore):
        return SQLiteReadModelRecorder(factory.datastore)
    cls = postgres_recorder_class()
    prefix = factory.env.name.lower() or "notification"
    return cls(factory.datastore, tracking_table_name=f"{prefix}_tracking")
