"""Direct access to the stored records, under the Application, as someone tampering would.

SQLite: the stdlib `sqlite3` module on the store's file. PostgreSQL: a plain
psycopg connection to the same schema. Table and columns are looked up and
checked, not assumed, so a schema change fails here with a clear message.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import Any
from uuid import UUID

COLUMNS = {"originator_id", "originator_version", "topic", "state"}


class RawStore:
    def __init__(self, app: Any) -> None:
        self.table = app.recorder.events_table_name
        self.postgres = "postgres" in type(app.recorder).__module__
        if self.postgres:
            env = app.env
            self.schema = env.get("POSTGRES_SCHEMA") or "public"
            self.connect_kwargs = {
                "host": env.get("POSTGRES_HOST"), "port": int(env.get("POSTGRES_PORT") or 5432),
                "dbname": env.get("POSTGRES_DBNAME"), "user": env.get("POSTGRES_USER"),
                "password": env.get("POSTGRES_PASSWORD") or None,
            }
            self.mark = "%s"
            self.qualified = f'"{self.schema}"."{self.table}"'
        else:
            self.path = app.env.get("SQLITE_DBNAME")
            self.mark = "?"
            self.qualified = f'"{self.table}"'
        missing = COLUMNS - set(self.columns())
        assert not missing, f"{self.table} lacks columns {missing}: the store schema changed"

    # ------------------------------------------------------------ plumbing

    def _connect(self):
        if self.postgres:
            import psycopg

            return psycopg.connect(**self.connect_kwargs, autocommit=False)
        return sqlite3.connect(self.path)

    def _run(self, sql: str, params: tuple = ()) -> list[tuple]:
        sql = sql.replace("?", self.mark)
        with closing(self._connect()) as db:
            cursor = db.execute(sql, params)
            rows = cursor.fetchall() if cursor.description else []
            db.commit()
            return rows

    def columns(self) -> list[str]:
        if self.postgres:
            rows = self._run("SELECT column_name FROM information_schema.columns"
                             " WHERE table_schema = ? AND table_name = ?", (self.schema, self.table))
        else:
            rows = [(r[1],) for r in self._run(f"PRAGMA table_info({self.qualified})")]
        return [r[0] for r in rows]

    def _key(self, stream: UUID) -> Any:
        """The originator_id as this backend stores it (hex text, dashed text or uuid)."""
        for (value,) in self._run(f"SELECT DISTINCT originator_id FROM {self.qualified}"):
            if UUID(str(value)) == stream:
                return value
        raise AssertionError(f"no records of stream {stream}")

    # ------------------------------------------------------------- reading

    def all_rows(self) -> list[tuple]:
        rows = self._run(f"SELECT originator_id, originator_version, topic, state FROM {self.qualified}")
        return sorted((str(i), v, t, bytes(s)) for i, v, t, s in rows)

    def versions(self, stream: UUID) -> list[tuple[int, str, bytes]]:
        rows = self._run(f"SELECT originator_version, topic, state FROM {self.qualified}"
                         " WHERE originator_id = ? ORDER BY originator_version", (self._key(stream),))
        return [(v, t, bytes(s)) for v, t, s in rows]

    def state(self, stream: UUID, version: int) -> bytes:
        return dict((v, s) for v, _, s in self.versions(stream))[version]

    # ----------------------------------------------------------- tampering

    def write_state(self, stream: UUID, version: int, state: bytes) -> None:
        self._run(f"UPDATE {self.qualified} SET state = ? WHERE originator_id = ? AND originator_version = ?",
                  (state, self._key(stream), version))
        assert self.state(stream, version) == state

    def delete(self, stream: UUID, version: int) -> None:
        self._run(f"DELETE FROM {self.qualified} WHERE originator_id = ? AND originator_version = ?",
                  (self._key(stream), version))

    def swap(self, stream: UUID, first: int, second: int) -> None:
        """Exchange the version numbers of two records (through a free number)."""
        key, parked = self._key(stream), 10**9
        for old, new in ((first, parked), (second, first), (parked, second)):
            self._run(f"UPDATE {self.qualified} SET originator_version = ?"
                      " WHERE originator_id = ? AND originator_version = ?", (new, key, old))

    def insert(self, stream: UUID, version: int, topic: str, state: bytes) -> None:
        columns = "originator_id, originator_version, topic, state"
        self._run(f"INSERT INTO {self.qualified} ({columns}) VALUES (?, ?, ?, ?)",
                  (self._key(stream), version, topic, state))
