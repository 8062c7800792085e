"""Rebuilding the read models from the whole log, writing one transaction while projecting the next.

A rebuild applies up to 5,000 events per transaction, a page at a time: a client's
rows are read and written once per transaction rather than once per page, and
there are five times fewer commits. While one transaction is written (on a second
thread: both database drivers wait for the server without holding the GIL), the
next one is read, decoded and projected. The rows the transaction being written
holds are the newest: the next batch copies them from it (`Batch(carried=...)`)
rather than reading the database, which does not have them yet; every other row
was last written by an earlier transaction, committed by then because at most one
transaction is written at a time.

Each transaction still checks that the read models stand where it starts from:
if another process caught them up meanwhile, what was projected ahead is dropped
and the rebuild goes on from where that process got.

On PostgreSQL the server does the writing in its own processes, on the
machine's other core. SQLite's engine runs in this process but lets go of the
GIL while it works; the writer sends many rows a statement (`Writer.upsert`),
since taking the GIL back after every row would make it wait on the projecting
thread each time. In-memory read models (encrypted stores) are written on the
calling thread: SQLite's shared in-memory cache makes a writer wait for every
reader, and a reader for the writer.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple

from projections.projector import project_page
from projections.store import Batch

if TYPE_CHECKING:
    from projections.models import Progress, ReadModels

# Two transactions' rows are in memory at once (one written, one projected): at 10 pages a
# transaction a rebuild of 300,000 events peaked at 116 MB (SQLite) / 121 MB (PostgreSQL), at 5
# at 82 / 89 MB, as fast, at 3 at 70 / 77 MB, 5-10% slower.
PAGES_PER_TRANSACTION = 5
# The writer lets go of the GIL for each statement and must then wait for the projecting thread to
# give it back, by default after up to 5 ms. A rebuild of 300,000 events on SQLite, single runs:
# 0.260 of the decoded read at 5 ms, 0.282 at 1 ms, 0.271 at 0.2 ms (ADR-18).
SWITCH_INTERVAL = 0.001
Heads = dict[str, tuple[int, str]]  # stream (hex) -> its last (version, digest)
Feed = Callable[[int, int, Heads], Any]  # StreamHeads.feed(start, last, heads)


class Projected(NamedTuple):
    """One transaction's worth of the log, projected and not yet written."""

    start: int  # the read models' position it applies after
    last: int  # the last notification in it
    read: int
    batch: Batch
    heads: Heads


def rebuild(models: ReadModels, progress: Progress | None, total: int, feed: Feed | None) -> int:
    """Project the whole log onto freshly reset read models; returns the events applied."""
    applied, start = 0, models.recorder.position()
    carried: Batch | None = None
    writing: tuple[Future[bool], int] | None = None  # the transaction being written, and its events
    with _writer(overlap=models.recorder.overlap_writes) as submit:
        while True:
            projected = _project(models, start, carried)
            if writing is not None:
                future, events = writing
                writing = None
                if not future.result():
                    # Another process caught the read models up meanwhile: what was projected on top
                    # of the refused transaction is dropped; go on from where that process got.
                    carried, start = None, models.recorder.position()
                    continue
                applied += events
                if progress is not None:
                    progress(applied, total)
            if projected.read == 0:
                return applied
            writing = submit(_write, models, projected, feed), projected.read
            carried, start = projected.batch, projected.last


def _project(models: ReadModels, start: int, carried: Batch | None) -> Projected:
    """Read, decode and project up to `PAGES_PER_TRANSACTION` pages after `start`, one at a time
    (only one page of events is ever in memory)."""
    app, size = models.app, models.page_size
    decode = app.mapper.to_domain_event
    heads: Heads = {}
    last, read = start, 0
    # Rows not in `carried` were last written before it, and are committed: any query sees them
    # as they are now. No read transaction: a SQLite reader that stays keeps the writes in the WAL.
    with models.recorder.statements() as reader:
        batch = Batch(reader, carried)
        for _ in range(PAGES_PER_TRANSACTION):
            notifications = app.recorder.select_notifications(start=last, limit=size, inclusive_of_start=False)
            if not notifications:
                break
            events = [decode(n) for n in notifications]
            project_page(batch, events)
            for event in events:
                heads[event.originator_id.hex] = (event.originator_version, event.digest)
            last, read = notifications[-1].id, read + len(notifications)
            if len(notifications) < size:
                break
    batch.reader = batch.carried = None  # `carried` may be freed
    return Projected(start, last, read, batch, heads)


def _write(models: ReadModels, projected: Projected, feed: Feed | None) -> bool:
    """Write one projected transaction if the read models still stand at its start (else False),
    then feed its heads."""
    with models.recorder.writing() as writer:
        if writer.position() != projected.start:
            return False
        projected.batch.write(writer)
        writer.track(projected.last)
    if feed is not None:  # the heads' own transaction: they stay on disk when the read models do not
        feed(projected.start, projected.last, projected.heads)
    return True


@contextmanager
def _writer(*, overlap: bool) -> Iterator[Callable[..., Future[Any]]]:
    """`submit(function, *args)`: on a second thread (one call at a time), or at once."""
    if not overlap:
        def at_once(function: Callable[..., Any], *args: Any) -> Future[Any]:
            future: Future[Any] = Future()
            future.set_result(function(*args))
            return future

        yield at_once
        return
    switching = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tratos-rebuild-writer") as pool:
            yield pool.submit
    finally:
        sys.setswitchinterval(switching)
