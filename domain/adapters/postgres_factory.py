"""eventsourcing's PostgreSQL persistence, with every connection waiting a bounded time for a lock,
and tables created only by a role that may create them.

eventsourcing 9.5.6 sets `lock_timeout` (POSTGRES_LOCK_TIMEOUT) only around its insert; the
statements that set up its tables when an Application opens (CREATE TABLE / INDEX IF NOT EXISTS,
which lock the events table) and the read models' own statements wait for ever on a table another
session keeps locked. So every connection of the pool starts with `-c lock_timeout=N`, the same
bounded wait (`storage.store_wait`, ADR-31): a command then fails with "stayed locked by another
process" instead of hanging.

Those CREATE … IF NOT EXISTS statements are refused to a role that may not create in the schema
even when the tables are there (PostgreSQL checks the privilege first): its recorders leave them out
when `storage.made_already` says so, so a role granted SELECT only can open the store and read it
(ADR-75). Imported only by its topic, when a PostgreSQL store is opened (it needs psycopg, the
postgres extra).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresFactory,
    PostgresProcessRecorder,
    PostgresTrackingRecorder,
)
from eventsourcing.utils import Environment, EnvType

from domain.adapters.storage import made_already
from domain.adapters.stored_rows import CheckedRows


class TablesIfAllowed:
    """A recorder whose `create_table` is left out when its tables are there and this role may not
    create in the schema (`storage.made_already`): only the composite types are then registered."""

    datastore: Any

    def create_table(self) -> None:
        tables = [name for name in (getattr(self, "events_table_name", None),
                                    getattr(self, "tracking_table_name", None)) if name]
        if made_already(self.datastore, tables):
            self.datastore.register_type_adapters()
            return
        super().create_table()  # type: ignore[misc]


class LockSaysWhy:
    """A recorder whose table lock, the first statement of an insert's pipeline, is synced on its own:
    a lock this role may not take (a SELECT-only role, ADR-75) is refused as such (42501), not as
    a "pipeline aborted" of a later statement, which it was or not by the timing of the replies."""

    def _lock_table(self, curs: Any) -> None:
        with curs.connection.pipeline():  # a nested pipeline syncs when its block ends
            super()._lock_table(curs)  # type: ignore[misc]


class NullStates:
    """A recorder that selects a row whose state is NULL (the column allows it; only a hand edit
    makes one) with its state None, for `CheckedRows` to name, instead of failing in eventsourcing's
    `bytes(state)` with a TypeError that says neither which record nor why. Its selects are
    eventsourcing's; only when one fails so is the same page read again here, leniently."""

    datastore: Any
    events_table_name: str

    def select_events(self, originator_id: Any, *, gt: int | None = None, lte: int | None = None,
                      desc: bool = False, limit: int | None = None) -> Any:
        try:
            return super().select_events(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)  # type: ignore[misc]
        except TypeError:
            where = [("originator_id = %s", originator_id)]
            where += [("originator_version > %s", gt)] if gt is not None else []
            where += [("originator_version <= %s", lte)] if lte is not None else []
            rows = self._lenient(where, "originator_version DESC" if desc else "originator_version ASC", limit)
            return [StoredEvent(originator_id=r["originator_id"], originator_version=r["originator_version"],
                                topic=r["topic"], state=_bytes(r["state"])) for r in rows]

    def select_notifications(self, start: int | None, limit: int, stop: int | None = None,
                             topics: Sequence[str] = (), *, inclusive_of_start: bool = True) -> Any:
        try:
            return super().select_notifications(start, limit, stop, topics,  # type: ignore[misc]
                                                inclusive_of_start=inclusive_of_start)
        except TypeError:
            where = [("notification_id >= %s" if inclusive_of_start else "notification_id > %s", start)
                     ] if start is not None else []
            where += [("notification_id <= %s", stop)] if stop is not None else []
            where += [("topic = ANY(%s)", list(topics))] if topics else []
            rows = self._lenient(where, "notification_id", limit)
            return [Notification(id=r["notification_id"], originator_id=r["originator_id"],
                                 originator_version=r["originator_version"], topic=r["topic"],
                                 state=_bytes(r["state"])) for r in rows]

    def _lenient(self, where: list[tuple[str, Any]], order: str, limit: int | None) -> list[Any]:
        from psycopg.sql import SQL, Identifier

        statement = SQL("SELECT * FROM {}.{}").format(Identifier(self.datastore.schema),
                                                    Identifier(self.events_table_name))
        if where:
            statement += SQL(" WHERE ") + SQL(" AND ").join(SQL(clause) for clause, _ in where)
        statement += SQL(f" ORDER BY {order}")
        params = [value for _, value in where]
        if limit is not None:
            statement += SQL(" LIMIT %s")
            params.append(limit)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, params)
            return curs.fetchall()


def _bytes(state: Any) -> bytes | None:
    return None if state is None else bytes(state)


class AggregateRecorder(CheckedRows, NullStates, TablesIfAllowed, PostgresAggregateRecorder):
    pass


class ApplicationRecorder(CheckedRows, NullStates, LockSaysWhy, TablesIfAllowed, PostgresApplicationRecorder):
    pass


class TrackingRecorder(TablesIfAllowed, PostgresTrackingRecorder):
    pass


class ProcessRecorder(CheckedRows, NullStates, LockSaysWhy, TablesIfAllowed, PostgresProcessRecorder):
    pass


class BoundedPostgresFactory(PostgresFactory):
    """`eventsourcing.postgres` whose connections wait at most POSTGRES_LOCK_TIMEOUT seconds for a
    lock, whose recorders create no table a read-only role finds made (`TablesIfAllowed`) and select
    records only (`stored_rows.CheckedRows`)."""

    aggregate_recorder_class = AggregateRecorder
    application_recorder_class = ApplicationRecorder
    tracking_recorder_class = TrackingRecorder
    process_recorder_class = ProcessRecorder

    def __init__(self, env: Environment | EnvType | None):
        super().__init__(env)
        seconds = int(self.env.get(self.POSTGRES_LOCK_TIMEOUT) or 0)
        if seconds > 0:  # the pool opens its first connection on first use, with these arguments
            self.datastore.pool.kwargs["options"] = f"-c lock_timeout={seconds}s"
