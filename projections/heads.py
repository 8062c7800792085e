"""`StreamHeads`: the last version and digest of every stream the read side has seen.

The store's own witness against truncation: `tratos audit verify` checks that
the log still holds every head recorded here (and the notification the read
models' tracking stands at). It is kept apart from the business read models
(own table `stream_heads`, own tracking position `stream_heads`) because it
holds nothing but stream ids, versions and digests, so it stays in the events'
database even for encrypted stores, whose business read models live in their
own encrypted file (ADR-12, ADR-57).

Like the read models it is caught up page by page, each page's rows and its
tracking record in one transaction. `tratos rebuild` makes it what the log holds
(`settle`, from the rebuild's own read of the log, once the read models are
rebuilt): only what differs is written, so a rebuild never writes the events'
database for a failure of the read models, nor when the witness was right (ADR-63).
A local store's owner can of course rewrite this table too: it catches
careless edits of the log, external witnesses catch the rest (docs/audit.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from domain.adapters.library_internals import insert_tracking, max_tracking_id
from domain.adapters.storage import catching_up, made_already
from projections.schema import TRACKING_NAME, Table
from projections.store import ReadModelRecorder, log_recorder, open_recorder, read_models_file

if TYPE_CHECKING:  # imported by witness() only: status and every catch-up do without the audit module
    from domain.adapters.audit import Witness

HEADS_NAME = "stream_heads"
PAGE_SIZE = 1000
_CREATE = ("CREATE TABLE IF NOT EXISTS {t}stream_heads"
           " (stream TEXT NOT NULL PRIMARY KEY, version BIGINT NOT NULL, digest TEXT NOT NULL)")
HEADS = Table("stream_heads", ("stream", "version", "digest"), ("stream",), frozenset({"version"}))
WITNESS_SOURCE = "the read models"


class StreamHeads:
    """Each stream's head as last seen, in the store's database (never in memory)."""

    def __init__(self, app: Any, *, page_size: int = PAGE_SIZE) -> None:
        self.app = app
        self.page_size = page_size
        self.recorder: ReadModelRecorder = log_recorder(app)
        self._ready = False

    def _ensure(self) -> None:
        """The table and its tracking table, created unless a role that may only read finds them
        made (`made_already`, ADR-75): CREATE … IF NOT EXISTS is refused to it all the same."""
        if not self._ready:
            tables = (getattr(self.recorder, "tracking_table_name", ""), HEADS_NAME)
            if not made_already(self.recorder.datastore, tables):  # type: ignore[attr-defined]
                with catching_up(getattr(self.app, "location", None)):
                    self.recorder._create_tracking_table()
                    with self.recorder.writing() as writer:
                        writer.execute(_CREATE)
            self._ready = True

    def position(self) -> int:
        self._ensure()
        return self.recorder.max_tracking_id(HEADS_NAME) or 0  # type: ignore[attr-defined]

    def catch_up(self) -> int:
        """Record the head of every stream written since the last catch-up; returns the records read."""
        self._ensure()
        decode, read = self.app.mapper.decode_state, 0
        position = self.position()
        while True:
            page = self.app.recorder.select_notifications(start=position, limit=self.page_size,
                                                          inclusive_of_start=False)
            if not page:
                return read
            heads: dict[str, tuple[int, str]] = {}
            for notification in page:
                heads[_hex(notification.originator_id)] = (notification.originator_version,
                                                           _digest(decode, notification.state))
            with catching_up(getattr(self.app, "location", None)), self.recorder.writing() as writer:
                current = max_tracking_id(self.recorder, HEADS_NAME, writer.cursor) or 0
                if current == position:
                    writer.upsert(HEADS, [(s, v, d) for s, (v, d) in sorted(heads.items())])
                    insert_tracking(self.recorder, writer.cursor, Tracking(HEADS_NAME, page[-1].id))
                    read += len(page)
                    current = page[-1].id
            position = current  # another process may have gone further meanwhile
            if len(page) < self.page_size:
                return read

    def settle(self, seen: HeadsSeen) -> None:
        """Make the heads those of the log a rebuild has just read (`seen`), writing only what
        differs from the heads recorded: a rebuild whose log still holds what the witness saw
        leaves the events' database as it was, and one that fails before this leaves the witness
        as it was (ADR-63). A pass with a gap (another process projected part of it) is settled by
        a reset and a catch-up instead, a second read of the log.

        A rebuild reads and decodes the whole log for the read models; settled from that pass, the
        heads need no second read of it (a sixth of a rebuild's time on a million events). The
        digest is the event's own `digest` field, the one in its stored JSON.
        """
        self._ensure()
        if not seen.whole:
            self.reset()
            self.catch_up()
            return
        heads, last, shorter = dict(seen.heads), seen.upto, False
        while True:
            last = self._read_after(last, heads)  # what was recorded since the pass read the log
            with self.recorder.writing() as writer:
                position = max_tracking_id(self.recorder, HEADS_NAME, writer.cursor) or 0
                if position <= last or shorter:
                    self._write_differences(writer, heads, position, last)
                    return
            # The heads stand beyond what was read: recorded and caught up by another process
            # meanwhile (read that too), or the log holds less than they saw (settle it as it is).
            shorter = (self.app.recorder.max_notification_id() or 0) <= last

    def _read_after(self, position: int, heads: dict[str, tuple[int, str]]) -> int:
        decode = self.app.mapper.decode_state
        while True:
            page = self.app.recorder.select_notifications(start=position, limit=self.page_size,
                                                          inclusive_of_start=False)
            for notification in page:
                heads[_hex(notification.originator_id)] = (notification.originator_version,
                                                           _digest(decode, notification.state))
            if page:
                position = page[-1].id
            if len(page) < self.page_size:
                return position

    def _write_differences(self, writer: Any, heads: dict[str, tuple[int, str]], position: int,
                           last: int) -> None:
        recorded = {stream: (int(version), digest) for stream, version, digest in
                    writer.tuples("SELECT stream, version, digest FROM {t}stream_heads")}
        gone = sorted(stream for stream in recorded if stream not in heads)
        for start in range(0, len(gone), PAGE_SIZE):
            part = gone[start:start + PAGE_SIZE]
            writer.execute(f"DELETE FROM {{t}}stream_heads WHERE stream IN ({', '.join('?' * len(part))})", part)
        writer.upsert(HEADS, [(stream, version, digest) for stream, (version, digest) in sorted(heads.items())
                              if recorded.get(stream) != (version, digest)])
        if position != last:
            if position > last:  # the log holds less than the witness saw: it is now what it holds
                writer.execute(f"DELETE FROM {self.recorder.tracking_table} WHERE application_name = ?",
                               (HEADS_NAME,))
            if last:
                insert_tracking(self.recorder, writer.cursor, Tracking(HEADS_NAME, last))

    def reset(self) -> None:
        """Forget every head (the next catch-up starts from the beginning of the log)."""
        self.recorder._create_tracking_table()
        with self.recorder.writing() as writer:
            writer.execute("DROP TABLE IF EXISTS {t}stream_heads")
            writer.execute(f"DELETE FROM {self.recorder.tracking_table} WHERE application_name = ?",
                           (HEADS_NAME,))
            writer.execute(_CREATE)
        self._ready = True

    def witness(self) -> Witness:
        """What the read side has seen, for `domain.adapters.audit.audit_store`: heads and positions.

        Read as they are, without catching up first: a head the log lost must not be overwritten.
        The heads are read a page at a time whenever they are iterated: a store of 10,000 clients
        has 10,000 of them, and the audit keeps only a few fields of each.
        """
        from domain.adapters.audit import Witness

        self._ensure()
        positions = {"stream heads": self.position()}
        read_models = self.recorder.max_tracking_id(TRACKING_NAME)  # type: ignore[attr-defined]
        if read_models:
            positions["read models"] = read_models
        return Witness(positions, _Heads(self))

    def heads(self) -> Iterator[Any]:
        """Every stream's recorded head as an `Anchor`, in pages ordered by stream."""
        from domain.adapters.audit import Anchor

        after = ""
        while True:
            with self.recorder.reading() as reader:
                rows = reader.tuples("SELECT stream, version, digest FROM {t}stream_heads WHERE stream > ?"
                                     " ORDER BY stream LIMIT ?", (after, self.page_size))
            for stream, version, digest in rows:
                yield Anchor(UUID(stream), int(version), digest or None, WITNESS_SOURCE)
            if len(rows) < self.page_size:
                return
            after = rows[-1][0]

    def close(self) -> None:
        self.recorder.close()


class HeadsSeen:
    """The heads a rebuild's pass read, transaction by transaction (`feed`), for `settle`."""

    def __init__(self) -> None:
        self.heads: dict[str, tuple[int, str]] = {}
        self.upto = 0  # the last notification the pass covered
        self.whole = True  # from the start of the log, without a gap

    def feed(self, start: int, last: int, heads: Mapping[str, tuple[int, str]]) -> None:
        """The heads of the notifications after `start` up to `last`, just written to the read models."""
        if start != self.upto:
            self.whole = False  # another process projected what lies between
        self.heads.update(heads)
        self.upto = last


class _Heads:
    """The heads, read anew each time they are iterated (never all held in memory)."""

    def __init__(self, heads: StreamHeads) -> None:
        self._heads = heads

    def __iter__(self) -> Iterator[Any]:
        return self._heads.heads()


def known_handles(app: Any, streams: Iterable[UUID]) -> dict[UUID, str]:
    """Stream -> handle for `streams`, from the relationships read model as it is (no catch-up,
    no schema change): names streams whose first event is gone; empty without read models on disk.
    """
    wanted = [stream.hex for stream in streams]
    if not wanted or (app.encrypted and not read_models_file(app).exists()):
        return {}  # (an encrypted store's read models are not made here)
    recorder = None
    found: dict[UUID, str] = {}
    try:
        recorder = open_recorder(app)  # (read models in the way: nothing to name them with)
        with recorder.reading() as reader:
            for start in range(0, len(wanted), PAGE_SIZE):
                part = wanted[start:start + PAGE_SIZE]
                marks = ", ".join("?" * len(part))
                for stream, handle in reader.tuples(
                        f"SELECT stream, handle FROM {{t}}relationships WHERE stream IN ({marks})", part):
                    if handle:
                        found[UUID(stream)] = handle
    except Exception:  # noqa: BLE001 - no read models (yet, damaged, in the way): nothing to name
        return {}
    finally:
        if recorder is not None:
            recorder.close()
    return found


def _hex(value: Any) -> str:
    return (value if isinstance(value, UUID) else UUID(str(value))).hex


def _digest(decode: Any, data: bytes) -> str:
    try:
        state = decode(data)
    except Exception:  # noqa: BLE001 - an unreadable record has no digest to witness
        return ""
    return state.get("digest") or "" if isinstance(state, dict) else ""
