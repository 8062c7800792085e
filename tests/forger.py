"""A forger's toolkit: read and edit the stored records directly, under the Application, on either backend.

SQLite through the stdlib `sqlite3` on the store's file, PostgreSQL through a
plain psycopg connection to the test's schema. Edits are made the way someone
with the database open would make them: UPDATE in place (rows keep their
notification ids), DELETE, INSERT (new rows get new notification ids at the
end of the log). The table and its columns are looked up and checked, not
assumed, so a schema change fails here with a clear message; a stream's
originator_id is used as the backend stores it (hex text, dashed text or uuid).
The forger knows the chain format, so `seal` recomputes digests the way tratos does.

Shared by several test folders: import it as `from forger import Forger, seal`
(tests/ is on sys.path through the top-level conftest, like `backends`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from typing import Any
from uuid import UUID

from domain.model.chain import GENESIS, canonical_json, digest_of, event_type

COLUMNS = {"originator_id", "originator_version", "topic", "state"}


class Forger:
    def __init__(self, app: Any) -> None:
        self.table = app.recorder.events_table_name
        self.postgres = "postgres" in type(app.recorder).__module__
        env = app.env
        if self.postgres:
            self.schema = env.get("POSTGRES_SCHEMA") or "public"
            self.connect_kwargs = {
                "host": env.get("POSTGRES_HOST"), "port": int(env.get("POSTGRES_PORT") or 5432),
                "dbname": env.get("POSTGRES_DBNAME"), "user": env.get("POSTGRES_USER"),
                "password": env.get("POSTGRES_PASSWORD") or None,
            }
            self.qualified = f'"{self.schema}"."{self.table}"'
        else:
            self.path = env.get("SQLITE_DBNAME")
            self.qualified = f'"{self.table}"'
        missing = COLUMNS - set(self.columns())
        assert not missing, f"{self.table} lacks columns {missing}: the store schema changed"

    # ------------------------------------------------------------ plumbing

    def _run(self, sql: str, params: tuple = ()) -> list[tuple]:
        if self.postgres:
            import psycopg

            sql = sql.replace("?", "%s")
            connection = psycopg.connect(**self.connect_kwargs, autocommit=False)
        else:
            connection = sqlite3.connect(self.path)
        with closing(connection) as db:
            cursor = db.execute(sql, params)
            rows = cursor.fetchall() if cursor.description else []
            db.commit()
            return rows

    def execute(self, statement: str) -> None:
        """Run a statement as the database's owner would (a trigger, a grant), committed."""
        self._run(statement)

    def columns(self) -> list[str]:
        if self.postgres:
            rows = self._run("SELECT column_name FROM information_schema.columns"
                             " WHERE table_schema = ? AND table_name = ?", (self.schema, self.table))
        else:
            rows = [(r[1],) for r in self._run(f"PRAGMA table_info({self.qualified})")]
        return [r[0] for r in rows]

    def _key(self, stream: UUID) -> Any:
        """The originator_id of `stream` as this backend stores it (the stream must have records)."""
        for (value,) in self._run(f"SELECT DISTINCT originator_id FROM {self.qualified}"):
            if UUID(str(value)) == stream:
                return value
        raise AssertionError(f"no records of stream {stream}")

    # ------------------------------------------------------------ reading

    def all_rows(self) -> list[tuple]:
        """Every stored (originator_id, version, topic, state bytes), sorted: a snapshot of the whole store."""
        rows = self._run(f"SELECT originator_id, originator_version, topic, state FROM {self.qualified}")
        return sorted((str(i), v, t, bytes(s)) for i, v, t, s in rows)

    def versions(self, stream: UUID) -> list[tuple[int, str, bytes]]:
        """(version, topic, state) of a stream, in version order, states as the stored bytes."""
        rows = self._run(f"SELECT originator_version, topic, state FROM {self.qualified}"
                         " WHERE originator_id = ? ORDER BY originator_version", (self._key(stream),))
        return [(v, t, bytes(s)) for v, t, s in rows]

    def records(self, stream: UUID) -> list[tuple[int, str, dict[str, Any]]]:
        """(version, topic, state) of a stream, in version order, states decoded."""
        return [(v, t, json.loads(s)) for v, t, s in self.versions(stream)]

    def state(self, stream: UUID, version: int) -> bytes:
        rows = self._run(f"SELECT state FROM {self.qualified} WHERE originator_id = ? AND originator_version = ?",
                         (self._key(stream), version))
        assert rows, f"no record {version} of stream {stream}"
        return bytes(rows[0][0])

    def version_of(self, stream: UUID, kind: str, nth: int = 0) -> int:
        return [v for v, t, _ in self.versions(stream) if event_type(t) == kind][nth]

    def head(self, stream: UUID) -> int:
        return self.versions(stream)[-1][0]

    # ------------------------------------------------------------ forging

    def write_state(self, stream: UUID, version: int, state: bytes) -> None:
        self._run(f"UPDATE {self.qualified} SET state = ? WHERE originator_id = ? AND originator_version = ?",
                  (state, self._key(stream), version))
        assert self.state(stream, version) == state

    def edit(self, stream: UUID, kind: str, old: bytes, new: bytes) -> int:
        """`old` made `new` in the stored state of the stream's first `kind` event, its digest left
        as it was (the chain breaks there); that event's version."""
        version = self.version_of(stream, kind)
        state = self.state(stream, version)
        assert old in state, (kind, old)
        self.write_state(stream, version, state.replace(old, new))
        return version

    def delete(self, stream: UUID, *versions: int) -> None:
        key = self._key(stream)
        for version in versions:
            self._run(f"DELETE FROM {self.qualified} WHERE originator_id = ? AND originator_version = ?",
                      (key, version))

    def swap(self, stream: UUID, first: int, second: int) -> None:
        """Exchange the version numbers of two records (through a free number)."""
        key, parked = self._key(stream), 10**9
        for old, new in ((first, parked), (second, first), (parked, second)):
            self._run(f"UPDATE {self.qualified} SET originator_version = ?"
                      " WHERE originator_id = ? AND originator_version = ?", (new, key, old))

    def shift_up(self, stream: UUID, after: int) -> None:
        """Renumber every version above `after` one up (highest first), leaving `after`+1 free."""
        key = self._key(stream)
        for version in sorted((v for v, _, _ in self.versions(stream) if v > after), reverse=True):
            self._run(f"UPDATE {self.qualified} SET originator_version = ?"
                      " WHERE originator_id = ? AND originator_version = ?", (version + 1, key, version))

    def insert(self, stream: UUID, version: int, topic: str, state: dict[str, Any]) -> None:
        """Add a record to an existing stream, its state written as canonical JSON."""
        self._insert(self._key(stream), version, topic, state)

    def replace_stream(self, stream: UUID, records: list[tuple[int, str, dict[str, Any]]]) -> None:
        """Delete the whole stream and write `records` in its place (appended to the log)."""
        key = self._key(stream)
        self._run(f"DELETE FROM {self.qualified} WHERE originator_id = ?", (key,))
        for version, topic, state in records:
            self._insert(key, version, topic, state)

    def _insert(self, key: Any, version: int, topic: str, state: dict[str, Any]) -> None:
        self._run(f"INSERT INTO {self.qualified} (originator_id, originator_version, topic, state)"
                  " VALUES (?, ?, ?, ?)", (key, version, topic, canonical_json(state)))


def seal(stream: UUID, records: list[tuple[int, str, dict[str, Any]]]) -> list[tuple[int, str, dict[str, Any]]]:
    """Recompute every digest of `records` in order, as tratos would have: a consistent forged chain."""
    previous, sealed = GENESIS, []
    for version, topic, state in records:
        state = {**state, "digest": digest_of(previous, stream, version, event_type(topic), state)}
        sealed.append((version, topic, state))
        previous = state["digest"]
    return sealed


def forge_state(app: Any, stream: UUID, version: int, edit: Callable[[dict[str, Any]], None]) -> None:
    """`edit` the stored state of the stream's event `version`, then reseal tratos' own chain after it:
    what only the checks of the content itself (fingerprints, signatures) can still see."""
    forger = Forger(app)
    records = forger.records(stream)
    at, topic, state = records[version - 1]
    state = json.loads(json.dumps(state))
    edit(state)
    records[version - 1] = (at, topic, state)
    forger.replace_stream(stream, seal(stream, records))
