"""A rebuild writes one transaction while it projects the next (`projections/rebuild.py`).

The next transaction's batch is projected while the database does not have the rows of the
one being written yet: those come from the batch being written (`Batch(carried=...)`). These
tests hold each write back until the next batch is projected, so that they fail if the
rows were read from the database instead; and they check that a refused or failed write
leaves read models that a catch-up completes into exactly the rows of a rebuild.

Each runs twice: in one process, and with the helper process projecting half of the clients
(which a big log gets; here forced on a small one).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from projection_story import D, acme_story, eur, in_force
from read_models import rebuilt

from domain.model.streams import stream_id
from projections import ReadModels
from projections import rebuild as rebuilding
from projections.store import Writer


class Crash(Exception):
    pass


@pytest.fixture(autouse=True)
def small_transactions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two pages a transaction: with pages of 2 events, the story below takes about fifteen."""
    monkeypatch.setattr(rebuilding, "PAGES_PER_TRANSACTION", 2)


@pytest.fixture(autouse=True, params=["alone", "with a helper"])
def processes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "with a helper":
        monkeypatch.setattr(rebuilding, "HELPER_FROM", 0)
        monkeypatch.setattr(rebuilding, "_cores", lambda: 2)  # whatever this machine has
    return request.param


# Clients of both halves (stream ids even: this process's; odd: the helper's), so that with a
# helper both processes project some of them.
CLIENTS = ("beta", "gamma", "delta", "epsilon")


def _story(app: Any) -> None:
    """acme's events spread over several transactions, and clients in between."""
    number = acme_story(app)
    for handle in CLIENTS:
        in_force(app, handle)
    app.record_payment("acme", number, eur(500), on=D("2026-02-10"))
    app.record_note("acme", "Paid in full", on=D("2026-02-11"))


def test_the_story_has_clients_in_both_shares() -> None:
    assert {stream_id(handle).int & 1 for handle in ("acme", *CLIENTS)} == {0, 1}


def _hold_each_write_until_the_next_batch_is_projected(monkeypatch: pytest.MonkeyPatch, last: int) -> list[int]:
    """Each write but the last (up to `last`) waits until the following `_project` has returned;
    returns the batches' starts."""
    projected_after: dict[int, threading.Event] = {}
    starts: list[int] = []
    project, write = rebuilding._project, rebuilding._write

    def projecting(models: Any, start: int, *args: Any) -> Any:
        result = project(models, start, *args)
        starts.append(start)
        projected_after.setdefault(start, threading.Event()).set()
        return result

    def writing(models: Any, projected: Any, feed: Any) -> bool:
        # The next batch starts where this one ends: let this one be written only after it.
        if projected.stop < last:
            assert projected_after.setdefault(projected.stop, threading.Event()).wait(10)
        return write(models, projected, feed)

    monkeypatch.setattr(rebuilding, "_project", projecting)
    monkeypatch.setattr(rebuilding, "_write", writing)
    return starts


def test_rows_of_the_transaction_being_written_are_taken_from_it(app, monkeypatch):
    _story(app)
    starts = _hold_each_write_until_the_next_batch_is_projected(monkeypatch, app.recorder.max_notification_id())
    models = ReadModels(app, page_size=2)
    assert not models.recorder.in_memory  # the writes do overlap on both backends
    count = models.rebuild()
    assert len(starts) > 3  # several transactions, each projected before the previous was written
    assert count == app.recorder.max_notification_id()
    assert models.dump() == rebuilt(app)
    assert models.status("acme", today=D("2026-02-12"))["invoices"][0]["paid"]["amount"] == "1500.00"


def test_a_rebuild_refused_midway_goes_on_from_where_another_process_got(make_app, monkeypatch):
    first, second = make_app(), make_app()
    _story(first)
    write = rebuilding._write
    writes: list[bool] = []

    def other_process_catches_up_first(models: Any, projected: Any, feed: Any) -> bool:
        if models.app is second:  # its catch-up of a long backlog writes as a rebuild does
            return write(models, projected, feed)
        if len(writes) == 2:  # between the second and third transactions, another process
            ReadModels(second, page_size=3).catch_up()  # applies everything (pages of another size)
        writes.append(write(models, projected, feed))
        return writes[-1]

    monkeypatch.setattr(rebuilding, "_write", other_process_catches_up_first)
    models = ReadModels(first, page_size=2)
    count = models.rebuild()
    assert writes[:3] == [True, True, False]  # the third was refused, and nothing after it was written
    assert len(writes) == 3
    assert count < first.recorder.max_notification_id()  # the rest was the other process's
    assert models.recorder.position() == first.recorder.max_notification_id()
    assert models.dump() == rebuilt(first)


def test_a_failed_write_stops_the_rebuild_and_a_catch_up_completes_it(app, monkeypatch):
    _story(app)
    track = Writer.track
    tracked: list[int] = []

    def crash_on_the_third(self: Writer, notification_id: int) -> None:
        if len(tracked) == 2:
            raise Crash("the disk filled up")
        track(self, notification_id)
        tracked.append(notification_id)

    monkeypatch.setattr(Writer, "track", crash_on_the_third)
    models = ReadModels(app, page_size=2)
    with pytest.raises(Crash):
        models.rebuild()
    assert models.recorder.position() == tracked[-1]  # two transactions committed, the third not
    monkeypatch.undo()
    assert models.catch_up() == app.recorder.max_notification_id() - tracked[-1]
    assert models.dump() == rebuilt(app)


def test_in_memory_read_models_are_written_on_the_calling_thread(app, monkeypatch):
    """A shared in-memory SQLite cache (time travel's scratch read models) lets no reader beside a
    writer: overlapping there would only make the writer time out waiting for the reader."""
    _story(app)
    write = rebuilding._write
    threads: dict[str, set[str]] = {"scratch": set(), "store": set()}
    kind = "store"

    def writing(models: Any, projected: Any, feed: Any) -> bool:
        threads[kind].add(threading.current_thread().name)
        return write(models, projected, feed)

    monkeypatch.setattr(rebuilding, "_write", writing)
    with ReadModels(app, page_size=2) as models:
        models.rebuild()
    kind = "scratch"
    with ReadModels.scratch(app, page_size=2) as scratch:
        scratch.rebuild()
        assert scratch.dump() == rebuilt(app)
    assert threads["scratch"] == {threading.current_thread().name}
    assert threading.current_thread().name not in threads["store"]
