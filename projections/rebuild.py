"""Rebuilding the read models from the whole log (or a long backlog of it): two processes
project it, a thread writes.

The log is rebuilt a range of notifications at a time (five pages, one transaction each).
On a store of `HELPER_FROM` events or more, a second process (`_helper`) projects every
range too, for half of the clients (their stream ids split them by parity): each process
reads the range, decodes the events of its own clients and projects them; the helper sends
its rows back, and this process writes both halves and the range's position in one
transaction, so a rebuild stopped at any point leaves read models a catch-up completes.
Every read-model row belongs to one client (`projections/schema.py`), so the halves never
touch the same row. Decoding and projecting are Python, one interpreter at a time: a second
interpreter is what a second core can give them (ADR-20).

While one transaction is written (on a second thread: both database drivers wait for
the server without holding the GIL), the next range is read, decoded and projected. The
rows the transaction being written holds are the newest: the next batch copies them from
it (`Batch(carried=...)`) rather than reading the database, which does not have them yet;
every other row was last written by an earlier transaction, committed by then because at
most one transaction is written at a time, and the helper is sent a range only once the
transaction before the one being written is committed. The helper carries its own batches
the same way.

Each transaction still checks that the read models stand where it starts from: if another
process caught them up meanwhile, what was projected ahead is dropped and the rebuild goes
on from where that process got.

On PostgreSQL the server does the writing in its own processes. SQLite's engine runs in this
process but lets go of the GIL while it works; the writer sends many rows a statement
(`Writer.upsert`), since taking the GIL back after every row would make it wait on the
projecting thread each time. In-memory read models (scratch stores) are written on the
calling thread, and projected by this process alone: SQLite's shared in-memory cache makes a
writer wait for every reader, and no other process can open it.
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple

from domain.model.errors import TratosError
from projections.projector import project_page
from projections.store import Batch, Rows

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
# Below this many events a rebuild runs in one process: starting the helper (a Python importing
# tratos) costs what it saves. 10,000 events took 1.31 s with it and 1.32 s without, 25,000
# 2.8 s and 3.5 s, 50,000 5.7 s and 7.6 s (ADR-20).
HELPER_FROM = 10_000
Heads = dict[str, tuple[int, str]]  # stream (hex) -> its last (version, digest)
Feed = Callable[[int, int, Heads], Any]  # StreamHeads.feed(start, last, heads)


class Projected(NamedTuple):
    """One transaction's worth of the log, projected and not yet written."""

    start: int  # the read models' position it applies after
    stop: int  # the last notification id it covers
    read: int  # notifications in it
    batch: Batch  # this process's clients' rows
    theirs: list[Rows]  # the helper's clients' rows (none without a helper)
    heads: Heads  # every stream's, both processes'


class RebuildFailed(TratosError):
    """The helper process stopped or failed. The transactions written so far stand: the next
    catch-up goes on from there, a rebuild starts again."""

    def __init__(self, what: str) -> None:
        super().__init__(f"projecting the log stopped: its helper process {what}"
                         " (TRATOS_DEBUG=1 shows why)")


def rebuild(models: ReadModels, progress: Progress | None, total: int, feed: Feed | None) -> int:
    """Project the log from the read models' position (the start, after a reset) to its end;
    returns the events applied."""
    applied, start, top = 0, models.recorder.position(), total
    carried: Batch | None = None
    writing: tuple[Future[bool], int] | None = None  # the transaction being written, and its events
    with _writer(overlap=not models.recorder.in_memory) as submit, _helper_of(models, total - start) as helper:
        while True:
            if start >= top:
                top = models.app.recorder.max_notification_id() or 0  # events recorded meanwhile
            stop = min(start + PAGES_PER_TRANSACTION * models.page_size, top)
            projected = None
            if stop > start:
                if helper is not None:
                    _order(helper, (start, stop, carried is None))
                read, batch, heads = _project(models, start, stop, carried, None if helper is None else 0)
                theirs = []
                if helper is not None:
                    rows, their_heads = _received(helper)
                    theirs.append(rows)
                    heads.update(their_heads)
                projected = Projected(start, stop, read, batch, theirs, heads)
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
            if projected is None:
                return applied
            writing = submit(_write, models, projected, feed), projected.read
            carried, start = projected.batch, stop


def _project(models: ReadModels, start: int, stop: int, carried: Batch | None,
             parity: int | None = None) -> tuple[int, Batch, Heads]:
    """Read the notifications after `start` up to `stop`, a page at a time, and decode and project
    those of this process's clients (those whose stream id has that `parity`; all of them without
    a helper); returns the notifications read, the batch and the heads. Only one page of events is
    ever in memory."""
    app, size = models.app, models.page_size
    decode = app.mapper.to_domain_event
    heads: Heads = {}
    last, read = start, 0
    # Rows not in `carried` were last written before it, and are committed: any query sees them
    # as they are now. No read transaction: a SQLite reader that stays keeps the writes in the WAL.
    with models.recorder.statements() as reader:
        batch = Batch(reader, carried)
        while last < stop:
            notifications = app.recorder.select_notifications(start=last, limit=size, stop=stop,
                                                              inclusive_of_start=False)
            if not notifications:
                break
            last, read = notifications[-1].id, read + len(notifications)
            if parity is not None:
                notifications = [n for n in notifications if n.originator_id.int & 1 == parity]
            events = [decode(n) for n in notifications]
            project_page(batch, events)
            for event in events:
                heads[event.originator_id.hex] = (event.originator_version, event.digest)
    batch.reader = batch.carried = None  # `carried` may be freed
    return read, batch, heads


def _write(models: ReadModels, projected: Projected, feed: Feed | None) -> bool:
    """Write one projected transaction if the read models still stand at its start (else False),
    then feed its heads."""
    with models.recorder.writing() as writer:
        if writer.position() != projected.start:
            return False
        projected.batch.write(writer, projected.theirs)
        writer.track(projected.stop)
    if feed is not None:  # the heads' own transaction: they stay on disk when the read models do not
        feed(projected.start, projected.stop, projected.heads)
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


# ------------------------------------------------------------------ the helper process


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # what this process may use (containers, taskset)
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


# The helper's start: this process's import path first (the same tratos, wherever it comes from),
# then its loop. Not multiprocessing: its spawn runs the main script again in the helper.
_BOOT = ("import pickle, sys; sys.path[:] = pickle.load(sys.stdin.buffer);"
         " from projections.rebuild import _helper; _helper()")


class Channel:
    """Pickled objects over a pair of pipes: to and from the helper process."""

    def __init__(self, reading: BinaryIO, writing: BinaryIO) -> None:
        self.reading, self.writing = reading, writing

    def send(self, message: Any) -> None:
        pickle.dump(message, self.writing, pickle.HIGHEST_PROTOCOL)
        self.writing.flush()

    def receive(self) -> Any:
        return pickle.load(self.reading)  # EOFError once the other end is closed


@contextmanager
def _helper_of(models: ReadModels, events: int) -> Iterator[Channel | None]:
    """The channel to a helper process (None for a small log, one core, or in-memory read
    models; an encrypted store's helper reads its read-model file too); the helper is stopped on
    the way out, whatever happened."""
    if models.recorder.in_memory or events < HELPER_FROM or _cores() < 2:
        yield None
        return
    import subprocess

    debug = os.environ.get("TRATOS_DEBUG") == "1"  # else its errors come back as one line
    process = subprocess.Popen([sys.executable, "-c", _BOOT], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=None if debug else subprocess.DEVNULL)
    assert process.stdin is not None and process.stdout is not None
    helper = Channel(process.stdout, process.stdin)
    try:
        _order(helper, sys.path)
        sealed = getattr(models.recorder, "path", None)  # an encrypted store's read-model file (ADR-57)
        _order(helper, (dict(models.app.env), models.page_size, 1, None if sealed is None else str(sealed)))
        yield helper
        _order(helper, None)
    finally:
        for pipe in (process.stdin, process.stdout):  # at the end of its input, the helper ends
            with suppress(OSError):  # already broken
                pipe.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _order(helper: Channel, message: Any) -> None:
    try:
        helper.send(message)
    except OSError:  # a broken pipe: it is gone
        raise RebuildFailed("stopped") from None


def _received(helper: Channel) -> tuple[Rows, Heads]:
    try:
        reply = helper.receive()
    except (EOFError, OSError):
        raise RebuildFailed("stopped") from None
    if isinstance(reply, str):
        raise RebuildFailed(f"failed: {reply}")
    return reply


def _helper() -> None:
    """The helper's loop: for each (start, stop, fresh) range it is sent, project its clients' share
    and send back the rows; `fresh` drops the batch carried from its previous range."""
    channel = Channel(sys.stdin.buffer, sys.stdout.buffer)
    sys.stdout = sys.stderr  # nothing printed may mix with the messages
    try:
        from pathlib import Path

        from eventsourcing.application import Application

        from domain.services.application import Tratos
        from projections.models import ReadModels
        from projections.store import SealedReadModelRecorder

        class Log(Application):
            name = Tratos.name  # the tables' prefix; settings (mapper, persistence) all come with `env`

        env, page_size, parity, sealed = channel.receive()
        app = Log(env=env)
        recorder = None if sealed is None else SealedReadModelRecorder.at(Path(sealed), app, check=False)
        models = ReadModels(app, page_size=page_size, recorder=recorder)
        carried: Batch | None = None
        while (order := channel.receive()) is not None:
            start, stop, fresh = order
            _, carried, heads = _project(models, start, stop, None if fresh else carried, parity)
            channel.send((carried.tuples(), heads))
        models.close()
        app.close()
    except (KeyboardInterrupt, EOFError, BrokenPipeError):  # Ctrl-C, or the main process is gone
        pass
    except BaseException as error:  # one line for the main process to show
        channel.send(f"{type(error).__name__}: {error}")
