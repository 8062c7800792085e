"""eventsourcing's PostgreSQL persistence, with every connection waiting a bounded time for a lock.

eventsourcing 9.5.6 sets `lock_timeout` (POSTGRES_LOCK_TIMEOUT) only around its insert; the
statements that set up its tables when an Application opens (CREATE TABLE / INDEX IF NOT EXISTS,
which lock the events table) and the read models' own statements wait for ever on a table another
session keeps locked. So every connection of the pool starts with `-c lock_timeout=N`, the same
bounded wait (`storage.store_wait`, ADR-31): a command then fails with "stayed locked by another
process" instead of hanging. Imported only by its topic, when a PostgreSQL store is opened (it
needs psycopg, the postgres extra).
"""

from __future__ import annotations

from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment, EnvType


class BoundedPostgresFactory(PostgresFactory):
    """`eventsourcing.postgres` whose connections wait at most POSTGRES_LOCK_TIMEOUT seconds for a lock."""

    def __init__(self, env: Environment | EnvType | None):
        super().__init__(env)
        seconds = int(self.env.get(self.POSTGRES_LOCK_TIMEOUT) or 0)
        if seconds > 0:  # the pool opens its first connection on first use, with these arguments
            self.datastore.pool.kwargs["options"] = f"-c lock_timeout={seconds}s"
