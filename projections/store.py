"""Where the read models live: the backend's own tracking recorder, extended with our tables.

`SQLiteReadModelRecorder` and `PostgresReadModelRecorder` subclass
eventsourcing's `SQLiteTrackingRecorder` / `PostgresTrackingRecorder`, so the
position of the read models is an ordinary eventsourcing tracking record
(`application_name = "read_models"`) written by the library's own
`_insert_tracking` (through `domain.adapters.library_internals`), which refuses to record a
position twice. What we add:

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
COPY on PostgreSQL, through a temporary staging table where rows are updated).
See ADR-14 and ADR-17.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import cache
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any

from eventsourcing.persistence import PersistenceError, Tracking
from eventsourcing.sqlite import (
    SQLiteDatastore,
    SQLiteTrackingRecorder,
)

from domain.adapters.home import READ_MODELS_FILE
from domain.adapters.library_internals import insert_tracking, max_tracking_id
from domain.adapters.storage import reopen_durably
from projections.schema import (
    INDEXES,
    SCHEMA_VERSION,
    TABLES,
    TRACKING_NAME,
    Table,
    create_statements,
    drop_statements,
)

Rows = dict[str, list[tuple[Any, ...]]]  # table -> rows in column order
CURRENT, UNSHAPED, STALE = "current", "unshaped", "stale"  # the read models' tables (`_state`)
# Every name the read models' tables and indexes take in their database.
OUR_NAMES = (*TABLES, "read_model_meta", *(name for name, *_ in INDEXES))
OUR_TABLES = (*TABLES, "read_model_meta")
KEPT = "kept_"  # the prefix of the copy of every table a rebuild keeps until it is done


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
        return max_tracking_id(self.recorder, TRACKING_NAME, self.cursor) or 0

    def track(self, notification_id: int) -> None:
        """The tracking record, by the library: refuses a position at or before the current one."""
        insert_tracking(self.recorder, self.cursor, Tracking(TRACKING_NAME, notification_id))

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.cursor.execute(self.dialect.sql(sql), tuple(params))

    def upsert(self, table: Table, rows: list[tuple[Any, ...]]) -> None:
        """Write rows (tuples in column order): on SQLite `executemany` of statements of many rows
        each (a C loop); on PostgreSQL COPY (formatted by psycopg's C code, one call a row),
        straight into append-only tables and through a temporary staging table into the others,
        since psycopg's executemany and its array dumpers pay Python for every row or value."""
        if not rows:
            return
        if not self.dialect.arrays:
            # Many rows a statement: the sqlite3 module lets go of the GIL for every statement it
            # prepares and runs, and during a rebuild taking it back means waiting for the other
            # thread. Statements of power-of-two sizes: a handful of distinct SQL texts per table,
            # each prepared once, whatever the number of rows.
            width, values = len(table.columns), list(chain.from_iterable(rows))
            size, start = _rows_per_statement(width), 0
            while start < len(rows):
                while size > len(rows) - start:
                    size //= 2
                stop = len(rows) - (len(rows) - start) % size
                self.cursor.executemany(self.dialect.sql(_upsert(table, size)), [
                    values[i * width:(i + size) * width] for i in range(start, stop, size)])
                start = stop
            return
        if not table.append_only:
            self.cursor.execute(self.dialect.sql(_create_staging(table)))
        with self.cursor.copy(self.dialect.sql(_copy(table))) as copy:
            for row in rows:
                copy.write_row(row)
        if not table.append_only:
            self.cursor.execute(self.dialect.sql(_staged_upsert(table)))


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


def upsert_sql(table: Table, rows: str | None = None) -> str:
    """INSERT … ON CONFLICT DO UPDATE (plain INSERT for append-only tables) of one row, or of the
    `rows` query's rows (PostgreSQL, from the staging table)."""
    columns = ", ".join(table.columns)
    values = rows or f"VALUES ({', '.join('?' * len(table.columns))})"
    insert = f"INSERT INTO {{t}}{table.name} ({columns}) {values}"
    if table.append_only:
        return insert
    updates = ", ".join(f"{c} = excluded.{c}" for c in table.values)
    return f"{insert} ON CONFLICT ({', '.join(table.key)}) DO UPDATE SET {updates}"


def _staging(table: Table) -> str:
    """A session's staging table keeps the columns it was created with: named by schema version."""
    return f"tratos_staging_v{SCHEMA_VERSION}_{table.name}"


# Rows in one SQLite statement at most. Each statement size a table uses stays prepared in the
# connection's cache (ADR-19), its program growing with its rows: a rebuild of 300,000 events
# peaked at 92 MB without a cache, and with it at 146 MB with statements of up to 4,096 rows
# (what 32,766 parameters allow), 106 MB at 256, 96 MB at 128, as fast within noise.
ROWS_PER_STATEMENT = 128


@cache
def _rows_per_statement(columns: int) -> int:
    """The largest power of two rows, up to `ROWS_PER_STATEMENT`, whose parameters one statement
    takes (999 before SQLite 3.32, 32,766 since)."""
    connection = sqlite3.connect(":memory:")
    try:
        parameters = connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    finally:
        connection.close()
    return min(ROWS_PER_STATEMENT, 1 << ((parameters // columns).bit_length() - 1))


@cache
def _upsert(table: Table, rows: int = 1) -> str:
    values = ", ".join([f"({', '.join('?' * len(table.columns))})"] * rows)
    return upsert_sql(table, f"VALUES {values}")


@cache
def _copy(table: Table) -> str:
    return f"COPY {'{t}' + table.name if table.append_only else _staging(table)} ({', '.join(table.columns)}) FROM STDIN"


# PostgreSQL: rows are copied into a temporary table of the session (created once, emptied at every
# commit), and moved from there in one statement that empties it (a second write in the same
# transaction cannot pick them up again).
@cache
def _create_staging(table: Table) -> str:
    return f"CREATE TEMPORARY TABLE IF NOT EXISTS {_staging(table)} (LIKE {{t}}{table.name}) ON COMMIT DELETE ROWS"


@cache
def _staged_upsert(table: Table) -> str:
    staged = f"SELECT {', '.join(table.columns)} FROM staged"
    return f"WITH staged AS (DELETE FROM {_staging(table)} RETURNING *) {upsert_sql(table, staged)}"


def _values_of(columns: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """row dict -> the values of `columns`, always a tuple (itemgetter of one returns a bare value)."""
    get = itemgetter(*columns)
    return get if len(columns) > 1 else lambda row: (get(row),)


ROW_VALUES = {name: _values_of(table.columns) for name, table in TABLES.items()}  # in column order
KEY_OF = {name: _values_of(table.key) for name, table in TABLES.items()}


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
    """The rows one transaction's events read and write, held in memory for that transaction only.

    Existing rows are fetched through `reader` (any `Reader`; in a catch-up the write transaction's
    own). A rebuild builds the next transaction's batch while the previous one is still being
    written on another thread: that batch is passed as `carried`, and the rows it holds, the
    newest, are copied from it instead of being read from the database, which does not have them
    yet. Rows it does not hold were last written before it, and are committed by then.
    """

    def __init__(self, reader: Reader | None = None, carried: Batch | None = None) -> None:
        self.reader = reader
        self.carried = carried
        self.rows: dict[str, dict[tuple, dict[str, Any]]] = {name: {} for name in TABLES}
        self.changed: dict[str, dict[tuple, dict[str, Any]]] = {name: {} for name in TABLES}
        self.timeline: list[tuple[Any, ...]] = []  # one row per event, in TIMELINE.columns order
        self.loaded: dict[str, set[str]] = {}  # streams whose rows of a table are all in `rows`
        self._by_stream: dict[str, dict[str, list[dict[str, Any]]]] = {}

    def load(self, table: str, streams: Iterable[str]) -> None:
        """Fetch every row of `streams` not fetched yet (rows held here may be newer): one query."""
        loaded = self.loaded.setdefault(table, set())
        wanted = set(streams) - loaded
        if not wanted:
            return
        loaded.update(wanted)
        rows = self.rows[table]
        if self.carried is not None:
            wanted = self.carried._hand_over(table, wanted, rows)
        if not wanted or self.reader is None:
            return
        key = KEY_OF[table]
        for row in self.reader.rows(_load_sql(table, self.reader.dialect.arrays), _list_param(
                self.reader.dialect, sorted(wanted))):
            rows.setdefault(key(row), row)  # a row held here is newer

    def known_empty(self, streams: set[str]) -> None:
        """`streams` have no rows in any table yet: nothing is to be fetched for them."""
        for table in TABLES:
            self.loaded.setdefault(table, set()).update(streams)

    def load_keys(self, table: str, columns: tuple[str, ...], keys: Iterable[tuple[Any, ...]]) -> None:
        """Fetch the rows whose `columns` equal one of `keys`, in one query of exact index probes.

        The keys are one parameter (a JSON array on SQLite, one array per column on PostgreSQL),
        joined to the table: the SQL text is the same whatever the number of keys, so neither
        database nor driver parses ten thousand placeholders per page.
        """
        rows, whole = self.rows[table], self.loaded.get(table, set())
        wanted = {key for key in keys if key not in rows and key[0] not in whole}  # key[0]: the stream
        if self.carried is not None:
            wanted = self.carried._hand_over_keys(table, wanted, rows)
        if not wanted or self.reader is None:
            return
        dialect = self.reader.dialect
        ordered = sorted(wanted, key=str)
        if dialect.arrays:
            params: list[Any] = [list(column) for column in zip(*ordered, strict=True)]
        else:
            params = [json.dumps(ordered)]
        for row in self.reader.rows(_load_keys_sql(table, columns, dialect.arrays), params):
            rows[KEY_OF[table](row)] = row

    def _hand_over(self, table: str, streams: set[str], into: dict[tuple, dict[str, Any]]) -> set[str]:
        """Copy into `into` the rows of `streams` held here; returns the streams still to fetch
        (those whose rows are not all here). Copies: this batch may still be being written."""
        by_stream = self._by_stream.get(table)
        if by_stream is None:
            by_stream = self._by_stream[table] = {}
            for row in self.rows[table].values():
                by_stream.setdefault(row["stream"], []).append(row)
        key = KEY_OF[table]
        for stream in streams.intersection(by_stream):
            for row in by_stream[stream]:
                into[key(row)] = dict(row)
        return streams - self.loaded.get(table, set())

    def _hand_over_keys(self, table: str, keys: set[tuple], into: dict[tuple, dict[str, Any]]) -> set[tuple]:
        """Like `_hand_over`, for single rows: returns the keys neither held here nor known absent."""
        rows, whole = self.rows[table], self.loaded.get(table, set())
        rest: set[tuple] = set()
        for key in keys:
            row = rows.get(key)
            if row is not None:
                into[key] = dict(row)
            elif key[0] not in whole:
                rest.add(key)
        return rest

    def get(self, table: str, *key: Any) -> dict[str, Any] | None:
        return self.rows[table].get(key)

    def edit(self, table: str, *key: Any) -> dict[str, Any] | None:
        """A row to change (None if it does not exist); it will be written back."""
        row = self.rows[table].get(key)
        if row is not None:
            self.changed[table][key] = row
        return row

    def add(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        full = dict.fromkeys(TABLES[table].columns)
        full.update(row)
        key = KEY_OF[table](full)
        self.rows[table][key] = full
        self.changed[table][key] = full
        return full

    def tuples(self) -> Rows:
        """The rows added or edited, per table, as tuples in column order (ready to send or write)."""
        rows = {name: list(map(ROW_VALUES[name], changed.values())) for name, changed in self.changed.items()}
        rows["timeline"] = list(self.timeline)
        return rows

    def write(self, writer: Writer, others: Sequence[Rows] = ()) -> None:
        """One statement per table for every row added or edited in this transaction, and those of
        `others` (other streams' rows, from a rebuild's helper process).

        Rows go in key order: the index pages they land on are then visited in order, once each,
        where events interleaved across thousands of clients would jump from page to page.
        """
        for name, rows in self.tuples().items():
            for other in others:
                rows.extend(other[name])
            if rows:
                rows.sort()  # every table's key columns come first, and keys are unique: key order
                writer.upsert(TABLES[name], rows)


class ReadModelRecorder:
    """What both backends' read-model recorders offer to `ReadModels`."""

    dialect: Dialect
    writer_class: type[Writer] = Writer
    in_memory = False  # a scratch store: this process's alone, its readers and writer exclude each other

    def position(self) -> int:
        return self.max_tracking_id(TRACKING_NAME) or 0  # type: ignore[attr-defined]

    @contextmanager
    def reading(self) -> Iterator[Reader]:
        with self.datastore.transaction(commit=False) as cursor:  # type: ignore[attr-defined]
            yield Reader(cursor, self.dialect)

    @contextmanager
    def statements(self) -> Iterator[Reader]:
        """A reader outside any transaction: each query sees what is committed when it runs. For
        reads that need no snapshot across queries, on one connection held throughout."""
        raise NotImplementedError
        yield  # pragma: no cover

    def schema_is_current(self) -> bool:
        """Whether the tables are this version's, as they were made (`_state`)."""
        return self._state_read() != STALE

    def ensure_schema(self) -> None:
        """Create the tables on first use; drop and recreate them if their schema is older, or if
        they are no longer as they were made (a table dropped or altered, a trigger added: ADR-63):
        the read models are rebuilt from the log then."""
        if self._state_read() == CURRENT:
            return
        self._create_tracking_table()
        with self.writing() as writer:
            state = self._state_locked(writer)
            if state == UNSHAPED:
                self._keep_shape(writer)
            elif state == STALE:
                self._recreate(writer)

    def _state_read(self) -> str:
        try:
            with self.reading() as reader:
                return self._state(reader)
        except (sqlite3.Error, PersistenceError):
            return STALE

    def _state_locked(self, writer: Writer) -> str:
        """`_state` under the write lock: tables too altered to be read (their meta table's
        columns) are STALE; the machine's errors, and a damaged file (`damage`), are raised."""
        from domain.adapters.storage import CONFLICT, FAILED, classify

        writer.execute("SAVEPOINT tratos_read_model_state")  # (PostgreSQL: an error ends the transaction)
        try:
            state = self._state(writer)
        except Exception as error:
            if classify(error) not in (FAILED, CONFLICT) or self.damage(error) is not None:
                raise
            writer.execute("ROLLBACK TO SAVEPOINT tratos_read_model_state")
            state = STALE
        writer.execute("RELEASE SAVEPOINT tratos_read_model_state")
        return state

    def _state(self, reader: Reader) -> str:
        """CURRENT: this schema version's tables, their shape (`_shape`) the one recorded when they
        were made, and a position unless they are empty; UNSHAPED: the same, made before shapes
        were recorded (ADR-63); STALE: anything else (to drop and make again)."""
        if not self._meta_exists(reader):
            return STALE
        meta = dict(reader.tuples("SELECT key, value FROM {t}read_model_meta WHERE key IN ('schema', 'shape')"))
        if meta.get("schema") != str(SCHEMA_VERSION):
            return STALE
        if meta.get("shape") not in (None, self._shape(reader)):
            return STALE
        if not (max_tracking_id(self, TRACKING_NAME, reader.cursor) or 0) and \
                reader.tuples("SELECT 1 FROM {t}timeline LIMIT 1"):
            return STALE  # rows without a position: a catch-up would apply every event again
        if meta.get("shape") is None:  # made before shapes were recorded: as this version makes them?
            expected = self._made_shape()
            return UNSHAPED if expected is None or expected == self._shape(reader) else STALE
        return CURRENT

    def _made_shape(self) -> str | None:
        """The shape of freshly made read models, where it can be known apart from the store."""
        return None

    def _shape(self, reader: Reader) -> str:
        """A digest of the read models' tables, columns, indexes and triggers, as the database
        describes them."""
        return _digest_of(self._catalogue(reader))

    def _catalogue(self, reader: Reader) -> list[Any]:
        raise NotImplementedError

    def _in_the_way(self, reader: Reader) -> list[str]:
        """DROP statements for whatever holds the read models' names (a view where a table was)."""
        raise NotImplementedError

    def _keep_shape(self, writer: Writer) -> None:
        writer.execute("INSERT INTO {t}read_model_meta (key, value) VALUES ('shape', ?)"
                       " ON CONFLICT (key) DO UPDATE SET value = excluded.value", (self._shape(writer),))

    def reset(self) -> None:
        """Drop every read model and its position: the next catch-up rebuilds from the start."""
        self._create_tracking_table()
        with self.writing() as writer:
            self._recreate(writer)

    @contextmanager
    def rebuilding(self) -> Iterator[None]:
        """Every read model and its position dropped for the body to project the log again; if the
        body fails (a record of the log that cannot be read, Ctrl-C), the read models are put back
        as they were, so a rebuild that cannot finish leaves reading commands as it found them.

        A copy of the current tables (`KEPT`), made in the transaction that drops them, is kept in
        their database until the body is done. A rebuild killed outright leaves it behind: the
        next one removes it. Read models of an older schema, or a scratch store's, are not kept.
        """
        self._create_tracking_table()
        with self.writing() as writer:
            self._drop_kept(writer)
            keeping = not self.in_memory and self._state_locked(writer) == CURRENT
            position = writer.position()
            if keeping:
                self._check_room(writer)
                for name in OUR_TABLES:
                    writer.execute(f"CREATE TABLE {{t}}{KEPT}{name} AS SELECT * FROM {{t}}{name}")
            self._recreate(writer)
        try:
            yield
        except BaseException:
            if keeping:
                self._put_back(position)
            raise
        if keeping:
            with self.writing() as writer:
                self._drop_kept(writer)

    def _put_back(self, position: int) -> None:
        """The kept read models in place of the partly rebuilt ones, at their position; if the
        database refuses (full, gone), the partial ones stay: consistent, and caught up later."""
        try:
            with self.writing() as writer:
                self._recreate(writer)
                writer.execute("DELETE FROM {t}read_model_meta")
                for name in OUR_TABLES:
                    writer.execute(f"INSERT INTO {{t}}{name} SELECT * FROM {{t}}{KEPT}{name}")
                if position:
                    Writer.track(writer, position)  # (not a sealed writer's: the kept meta has its mark)
                self._drop_kept(writer)
        except Exception:  # noqa: BLE001 - the body's failure is the one to tell
            with suppress(Exception), self.writing() as writer:
                self._drop_kept(writer)  # at least the room the copy took

    def _check_room(self, writer: Writer) -> None:
        """Refuse a rebuild, before anything is dropped, that the database's disk has no room for
        (a copy of the read models, and new ones beside it): stopped half-way by a full disk, it
        could not put the copy back either. Only where the database says its size (`_read_models_size`)."""

        size = self._read_models_size(writer)
        if size is None:
            return
        from domain.adapters.storage import FULL_MARGIN, StoreFailure

        folder, reusable = size[1], size[2]
        free = shutil.disk_usage(folder).free
        if free < FULL_MARGIN:
            return  # a full disk: the store was opened read-only, and its first write says "full"
        free += reusable
        needed = 2 * size[0] + FULL_MARGIN
        if free < needed:
            raise StoreFailure(f"the disk holding the read models in {folder} has {free // 1024} KB free, and"
                               f" rebuilding them needs about {needed // 1024} KB (a copy of them is kept until it is"
                               " done): free some space, then run it again; nothing was changed")

    def _read_models_size(self, writer: Writer) -> tuple[int, Path, int] | None:
        """The bytes the read models take, the folder of their database and the bytes free inside
        it; None where that cannot be known (PostgreSQL's disk is the server's)."""
        return None

    @staticmethod
    def _drop_kept(writer: Writer) -> None:
        for name in OUR_TABLES:
            writer.execute(f"DROP TABLE IF EXISTS {{t}}{KEPT}{name}")

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
        for statement in self._in_the_way(writer) + drop_statements("{t}") + create_statements("{t}"):
            writer.execute(statement)
        writer.execute(f"DELETE FROM {self.tracking_table} WHERE application_name = ?", (TRACKING_NAME,))
        writer.execute("INSERT INTO {t}read_model_meta (key, value) VALUES ('schema', ?)",
                       (str(SCHEMA_VERSION),))
        self._keep_shape(writer)

    def damage(self, error: BaseException) -> str | None:
        """Why `error` shows these read models damaged (to throw away and make again), or None.
        A plain store's are checked when opened instead (`_state`): its errors are its log's too."""
        return None

    def failure(self, error: BaseException) -> Any:
        """`error` as one line naming these read models, or None to name the store (`storage_failure`)."""
        return None

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

    def _read_models_size(self, writer: Writer) -> tuple[int, Path, int] | None:
        """From SQLite's `dbstat` table of pages, where this SQLite has it."""
        try:
            [(size,)] = writer.tuples(f"SELECT sum(pgsize) FROM dbstat WHERE name IN ({_MARKS})", OUR_NAMES)
            files = {name: file for _, name, file in writer.tuples("PRAGMA database_list")}
            [(free_pages,)] = writer.tuples("PRAGMA freelist_count")
            [(page_size,)] = writer.tuples("PRAGMA page_size")
        except (sqlite3.Error, ValueError):
            return None
        if not files.get("main"):
            return None  # in memory
        return int(size or 0), Path(files["main"]).parent, int(free_pages) * int(page_size)

    def _made_shape(self) -> str | None:
        return _sqlite_shape()

    def _catalogue(self, reader: Reader) -> list[Any]:
        return _sqlite_catalogue(reader)

    def _in_the_way(self, reader: Reader) -> list[str]:
        return [f"DROP {kind.upper()} IF EXISTS {_quoted(name)}" for kind, name in reader.tuples(
            f"SELECT type, name FROM sqlite_master WHERE name IN ({_MARKS})"
            " AND type IN ('view', 'index', 'table')", OUR_NAMES) if name not in OUR_TABLES or kind != "table"]

    @contextmanager
    def statements(self) -> Iterator[Reader]:
        with self.datastore.get_connection(commit=False) as connection:
            yield Reader(connection.cursor(), self.dialect)

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
                    yield self.writer_class(cursor, self.dialect, self)
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
        recorder.in_memory = True
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


def _sqlite_catalogue(reader: Reader) -> list[Any]:
    """SQLite keeps each table's, index's and trigger's CREATE statement: an ALTER rewrites it."""
    return reader.tuples(f"SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name IN ({_MARKS})"
                         f" OR tbl_name IN ({_MARKS})", (*OUR_NAMES, *OUR_NAMES))


@cache
def _sqlite_shape() -> str:
    """The shape (`ReadModelRecorder._shape`) of read models made in an empty SQLite database."""
    connection = sqlite3.connect(":memory:")
    try:
        for statement in create_statements(""):
            connection.execute(statement)
        return _digest_of(_sqlite_catalogue(Reader(connection.cursor(), SQLiteReadModelRecorder.dialect)))
    finally:
        connection.close()


def _digest_of(catalogue: list[Any]) -> str:
    rows = sorted((tuple(row) for row in catalogue), key=repr)
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


SPARE_SCRATCH_STORES = 4
_SPARE: list[SQLiteReadModelRecorder] = []
_SPARE_LOCK = threading.Lock()
_TEMPLATE: sqlite3.Connection | None = None


def _scratch_datastore(name: str) -> SQLiteDatastore:
    datastore = SQLiteDatastore(name, single_row_tracking=True)
    reopen_durably(datastore)  # with its statement cache
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
        from domain.adapters.postgres_factory import TrackingRecorder

        class PostgresReadModelRecorder(ReadModelRecorder, TrackingRecorder):
            """Read models in the PostgreSQL schema of the events (its tracking table created only
            where it is missing or the role may create it: ADR-75)."""

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

            def _catalogue(self, reader: Reader) -> list[Any]:
                """Each table's columns (name, type, NOT NULL), each index's definition, each trigger's."""
                names, schema = list(OUR_NAMES), self.datastore.schema
                return reader.tuples(_PG_CATALOGUE, (schema, names))

            def _in_the_way(self, reader: Reader) -> list[str]:
                rows = reader.tuples("SELECT c.relname, c.relkind::text FROM pg_class c WHERE c.relnamespace ="
                                     " (SELECT oid FROM pg_namespace WHERE nspname = ?) AND c.relname = ANY(?)",
                                     (self.datastore.schema, list(OUR_NAMES)))
                return [f"DROP {_PG_KINDS[kind]} IF EXISTS {self.dialect.qualify}{_quoted(name)}"
                        for name, kind in rows if kind in _PG_KINDS and (name not in OUR_TABLES or kind != "r")]

            @contextmanager
            def statements(self) -> Iterator[Reader]:
                with self.datastore.cursor() as cursor:  # the pool's connections are in autocommit
                    yield Reader(cursor, self.dialect)

            @contextmanager
            def writing(self) -> Iterator[Writer]:
                with self.datastore.transaction(commit=True) as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (self.lock_key,))
                    yield Writer(cursor, self.dialect, self)

        _POSTGRES_CLASS = PostgresReadModelRecorder
    return _POSTGRES_CLASS


_POSTGRES_CLASS: type | None = None
_MARKS = ", ".join("?" * len(OUR_NAMES))
_PG_KINDS = {"r": "TABLE", "p": "TABLE", "f": "FOREIGN TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW",
             "i": "INDEX", "I": "INDEX", "S": "SEQUENCE"}
_PG_CATALOGUE = """
WITH ours AS (SELECT c.oid, c.relname, c.relkind FROM pg_class c
              WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = ?) AND c.relname = ANY(?))
SELECT c.relname, c.relkind::text, CASE WHEN c.relkind IN ('i', 'I') THEN pg_get_indexdef(c.oid) ELSE
    (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END, ', ' ORDER BY a.attnum)
     FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) END
FROM (SELECT oid, relname, relkind FROM ours UNION
      SELECT x.oid, x.relname, x.relkind FROM ours JOIN pg_index i ON i.indrelid = ours.oid
      JOIN pg_class x ON x.oid = i.indexrelid) c
UNION ALL
SELECT g.tgname, 'trigger', pg_get_triggerdef(g.oid) FROM ours JOIN pg_trigger g ON g.tgrelid = ours.oid
WHERE NOT g.tgisinternal
"""


def _quoted(name: str) -> str:
    """An SQL identifier, quoted (names found in the database may be anyone's)."""
    return '"' + name.replace('"', '""') + '"'


def open_recorder(app: Any) -> ReadModelRecorder:
    """The read models' recorder: in the events' own database, or, for an encrypted store, in its
    SQLCipher file (ADR-57). The one place that chooses: every command, rebuild, import and the
    benchmark generator write an encrypted store's read models where nothing is in clear."""
    if app.mapper.cipher is not None:
        return SealedReadModelRecorder.of(app)
    return log_recorder(app)


def log_recorder(app: Any) -> ReadModelRecorder:
    """A tracking recorder on the same database (and connection pool) as the app's events: the
    plain store's read models, and every store's stream heads (ids, versions, digests)."""
    factory = app.factory
    if isinstance(factory.datastore, SQLiteDatastore):
        return SQLiteReadModelRecorder(factory.datastore)
    cls = postgres_recorder_class()
    prefix = factory.env.name.lower() or "notification"
    return cls(factory.datastore, tracking_table_name=f"{prefix}_tracking")


# ------------------------------------------------------------ encrypted stores (ADR-57)


def read_models_file(app: Any) -> Path:
    """Where an encrypted store keeps its read models: beside its SQLite file, or, on PostgreSQL,
    in the home as well (the server never sees them)."""
    return Path(app.home) / READ_MODELS_FILE


class SealedWriter(Writer):
    """Writes, with each position, the mark of the log's record at it (`SealedReadModelRecorder`)."""

    recorder: SealedReadModelRecorder

    def track(self, notification_id: int) -> None:
        super().track(notification_id)
        self.execute("INSERT INTO read_model_meta (key, value) VALUES ('follows', ?)"
                     " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                     (self.recorder.mark(notification_id),))


class SealedReadModelRecorder(SQLiteReadModelRecorder):
    """An encrypted store's read models: the same tables, catch-up and rebuild as a plain SQLite
    store's, in their own SQLCipher database (`domain.adapters.storage.sealed_datastore`).

    Being another file than the log, they could follow another log than the one beside them (a
    store file restored from a backup, a PostgreSQL database replaced, an import into a home
    that had a store): with every position they record a mark of the log's record at it (its
    notification id and the SHA-256 of its stored, encrypted state), and a log that no longer
    holds that record gets its read models rebuilt rather than caught up from a position that
    means nothing in it.
    """

    writer_class = SealedWriter
    removed = ""  # why the file found on opening was removed, if it was damaged (ADR-63)

    def __init__(self, datastore: SQLiteDatastore, log: Any, path: Path, app: Any = None) -> None:
        super().__init__(datastore)
        self.log = log  # the app's recorder of the events
        self.path = path
        self.app = app

    @classmethod
    def of(cls, app: Any) -> SealedReadModelRecorder:
        """The read models of `app`'s encrypted store, in its home."""
        return cls.at(read_models_file(app), app)

    @classmethod
    def at(cls, path: Path, app: Any, *, check: bool = True) -> SealedReadModelRecorder:
        """The read models in the file at `path`, keyed from `app`'s store key (a rebuild's helper
        process has the log's settings, not its home, and `check=False`: the file it is sent was
        checked and made by the process that sent it)."""
        from domain.adapters.encryption import read_model_key
        from domain.adapters.storage import STORE_WAIT, sealed_datastore

        wait = getattr(app, "store_wait", None) or int(app.env.get("SQLITE_LOCK_TIMEOUT") or STORE_WAIT)
        key = read_model_key(app.env.get("CIPHER_KEY") or "")
        datastore, removed = sealed_datastore(path, key, wait, check=check)
        recorder = cls(datastore, app.recorder, path, app)
        recorder.removed = removed
        return recorder

    def damage(self, error: BaseException) -> str | None:
        """Why `error`, from this file's SQLCipher database, shows it damaged, or None (another
        database's error, or the machine's: full, read-only, locked)."""
        from domain.adapters.storage import NONE, read_model_damage, reason_of

        return None if read_model_damage(error) == NONE else reason_of(error)

    def failure(self, error: BaseException) -> Any:
        """An error of this file's database as one line naming it, not the store (ADR-63)."""
        from domain.adapters.storage import from_read_models, storage_failure

        return (storage_failure(error, str(self.path), "the read models", folder=self.path.parent)
                if from_read_models(error) else None)

    def discarded(self) -> SealedReadModelRecorder:
        """This file thrown away and made again, empty (closed first): the read models to rebuild."""
        from domain.adapters.storage import ReadModelsFile

        self.close()
        ReadModelsFile(self.path).discard()
        return type(self).at(self.path, self.app)

    def mark(self, position: int) -> str:
        """The log's record at `position`, as the read models remember it."""
        found = self.log.select_notifications(start=position, limit=1)
        if not found or found[0].id != position:
            return f"{position}:"  # no record there (a gap in the ids a rebuild's range ended on)
        return f"{position}:{hashlib.sha256(bytes(found[0].state)).hexdigest()}"

    def ensure_schema(self) -> None:
        super().ensure_schema()
        if not self._follow_the_log():
            self.reset()

    def _follow_the_log(self) -> bool:
        with self.reading() as reader:
            position = max_tracking_id(self, TRACKING_NAME, reader.cursor) or 0
            row = reader.one("SELECT value FROM read_model_meta WHERE key = 'follows'")
        return position == 0 or (row is not None and row["value"] == self.mark(position))

    def close(self) -> None:
        self.datastore.close()
