"""`StreamHeads`: the last version and digest of every stream the read side has seen.

The store's own witness against truncation: `tratos audit verify` checks that
the log still holds every head recorded here (and the notification the read
models' tracking stands at). It is kept apart from the business read models
(own table `stream_heads`, own tracking position `stream_heads`) because it
holds nothing but stream ids, versions and digests, so it stays in the events'
database even for encrypted stores, whose business read models live in their
own encrypted file (ADR-12, ADR-57).

Like the read models it is caught up page by page, each page's rows and its
tracking record in one transaction; `reset()` forgets it (`tratos rebuild`).
A local store's owner can of course rewrite this table too: it catches
careless edits of the log, external witnesses catch the rest (docs/audit.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from domain.adapters.library_internals import insert_tracking, max_tracking_id
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
        if not self._ready:
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
            with self.recorder.writing() as writer:
                current = max_tracking_id(self.recorder, HEADS_NAME, writer.cursor) or 0
                if current == position:
                    writer.upsert(HEADS, [(s, v, d) for s, (v, d) in sorted(heads.items())])
                    insert_tracking(self.recorder, writer.cursor, Tracking(HEADS_NAME, page[-1].id))
                    read += len(page)
                    current = page[-1].id
            position = current  # another process may have gone further meanwhile
            if len(page) < self.page_size:
                return read

    def feed(self, start: int, last: int, heads: Mapping[str, tuple[int, str]]) -> bool:
        """Record `heads` (stream hex -> version, digest), read from the notifications after
        `start` up to `last`.

        A rebuild reads and decodes the whole log for the read models; fed from that pass, the
        heads need no second read of it (a sixth of a rebuild's time on a million events). The
        digest is the event's own `digest` field, the one in its stored JSON. Applied only if the
        heads stand at `start`; else another process is ahead, and `catch_up()` does the rest.
        """
        self._ensure()
        with self.recorder.writing() as writer:
            if (max_tracking_id(self.recorder, HEADS_NAME, writer.cursor) or 0) != start:
                return False
            writer.upsert(HEADS, [(s, v, d) for s, (v, d) in sorted(heads.items())])
            insert_tracking(self.recorder, writer.cursor, Tracking(HEADS_NAME, last))
        return True

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
    recorder = open_recorder(app)
    found: dict[UUID, str] = {}
    try:
        with recorder.reading() as reader:
            for start in range(0, len(wanted), PAGE_SIZE):
                part = wanted[start:start + PAGE_SIZE]
                marks = ", ".join("?" * len(part))
                for stream, handle in reader.tuples(
                        f"SELECT stream, handle FROM {{t}}relationships WHERE stream IN ({marks})", part):
                    if handle:
                        found[UUID(stream)] = handle
    except Exception:  # noqa: BLE001 - no read models (yet, or in memory): nothing to name
        return {}
    finally:
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
