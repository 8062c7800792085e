"""A forger's toolkit: edit the stored records directly, under the Application, on either backend.

SQLite through the stdlib `sqlite3` on the store's file, PostgreSQL through a
plain psycopg connection to the test's schema. Edits are made the way someone
with the database open would make them: UPDATE in place (rows keep their
notification ids), DELETE, INSERT (new rows get new notification ids at the
end of the log). The forger knows the chain format, so `seal` recomputes
digests the way tratos does.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from typing import Any
from uuid import UUID

from domain.chain import GENESIS, canonical_json, digest_of, event_type


class Forger:
    def __init__(self, app: Any) -> None:
        self.table = app.recorder.events_table_name
        self.postgres = "postgres" in type(app.recorder).__module__
        env = app.env
        if self.postgres:
            self.connect_kwargs = {
                "host": env.get("POSTGRES_HOST"), "port": int(env.get("POSTGRES_PORT") or 5432),
                "dbname": env.get("POSTGRES_DBNAME"), "user": env.get("POSTGRES_USER"),
                "password": env.get("POSTGRES_PASSWORD") or None,
            }
            self.qualified = f'"{env.get("POSTGRES_SCHEMA") or "public"}"."{self.table}"'
        else:
            self.path = env.get("SQLITE_DBNAME")
            self.qualified = f'"{self.table}"'

    def _run(self, sql: str, params: tuple = ()) -> list[tuple]:
        if self.postgres:
            import psycopg

            sql = sql.replace("?", "%s")
            connection = psycopg.connect(**self.connect_kwargs)
        else:
            connection = sqlite3.connect(self.path)
        with closing(connection) as db:
            cursor = db.execute(sql, params)
            rows = cursor.fetchall() if cursor.description else []
            db.commit()
            return rows

    def _key(self, stream: UUID) -> Any:
        return stream if self.postgres else stream.hex

    # ------------------------------------------------------------ reading

    def records(self, stream: UUID) -> list[tuple[int, str, dict[str, Any]]]:
        """(version, topic, state) of a stream, in version order, states decoded."""
        rows = self._run(f"SELECT originator_version, topic, state FROM {self.qualified}"
                         " WHERE originator_id = ? ORDER BY originator_version", (self._key(stream),))
        return [(v, t, json.loads(bytes(s))) for v, t, s in rows]

    def state(self, stream: UUID, version: int) -> bytes:
        rows = self._run(f"SELECT state FROM {self.qualified} WHERE originator_id = ? AND originator_version = ?",
                         (self._key(stream), version))
        return bytes(rows[0][0])

    def version_of(self, stream: UUID, kind: str, nth: int = 0) -> int:
        return [v for v, t, _ in self.records(stream) if event_type(t) == kind][nth]

    def head(self, stream: UUID) -> int:
        return self.records(stream)[-1][0]

    # ------------------------------------------------------------ forging

    def write_state(self, stream: UUID, version: int, state: bytes) -> None:
        self._run(f"UPDATE {self.qualified} SET state = ? WHERE originator_id = ? AND originator_version = ?",
                  (state, self._key(stream), version))
        assert self.state(stream, version) == state

    def delete(self, stream: UUID, *versions: int) -> None:
        for version in versions:
            self._run(f"DELETE FROM {self.qualified} WHERE originator_id = ? AND originator_version = ?",
                      (self._key(stream), version))

    def swap(self, stream: UUID, first: int, second: int) -> None:
        key, parked = self._key(stream), 10**9
        for old, new in ((first, parked), (second, first), (parked, second)):
            self._run(f"UPDATE {self.qualified} SET originator_version = ?"
                      " WHERE originator_id = ? AND originator_version = ?", (new, key, old))

    def shift_up(self, stream: UUID, after: int) -> None:
        """Renumber every version above `after` one up (highest first), leaving `after`+1 free."""
        for version in sorted((v for v, _, _ in self.records(stream) if v > after), reverse=True):
            self._run(f"UPDATE {self.qualified} SET originator_version = ?"
                      " WHERE originator_id = ? AND originator_version = ?",
                      (version + 1, self._key(stream), version))

    def insert(self, stream: UUID, version: int, topic: str, state: dict[str, Any]) -> None:
        self._run(f"INSERT INTO {self.qualified} (originator_id, originator_version, topic, state)"
                  " VALUES (?, ?, ?, ?)", (self._key(stream), version, topic, canonical_json(state)))

    def replace_stream(self, stream: UUID, records: list[tuple[int, str, dict[str, Any]]]) -> None:
        """Delete the whole stream and write `records` in its place (appended to the log)."""
        self._run(f"DELETE FROM {self.qualified} WHERE originator_id = ?", (self._key(stream),))
        for version, topic, state in records:
            self.insert(stream, version, topic, state)


def seal(stream: UUID, records: list[tuple[int, str, dict[str, Any]]]) -> list[tuple[int, str, dict[str, Any]]]:
    """Recompute every digest of `records` in order, as tratos would have: a consistent forged chain."""
    previous, sealed = GENESIS, []
    for version, topic, state in records:
        state = {**state, "digest": digest_of(previous, stream, version, event_type(topic), state)}
        sealed.append((version, topic, state))
        previous = state["digest"]
    return sealed
