"""A rebuild's helper process (`projections/rebuild.py`): a second Python projects half of the
clients, this one the other half and writes both, one transaction per range of the log.

Forced here on small logs (a real one starts from `HELPER_FROM` events). The helper is a real
process on the test's store, on both backends.
"""

from __future__ import annotations

from typing import Any

import pytest
from projection_story import D, acme_story, eur, in_force
from read_models import rebuilt
from test_rebuild_heads import _heads, _separate_pass

from domain.model.streams import stream_id
from projections import ReadModels
from projections import rebuild as rebuilding
from projections.heads import StreamHeads

# By their stream ids' parity: beta and epsilon are this process's (even), the others the helper's.
OURS, THEIRS = ("beta", "epsilon"), ("acme", "gamma", "delta")


@pytest.fixture(autouse=True)
def helper_on_small_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Transactions of 2 pages of 2 events, and a helper however small the log."""
    monkeypatch.setattr(rebuilding, "PAGES_PER_TRANSACTION", 2)
    monkeypatch.setattr(rebuilding, "HELPER_FROM", 0)
    monkeypatch.setattr(rebuilding, "_cores", lambda: 2)


def _story(app: Any) -> None:
    number = acme_story(app)
    for handle in (*OURS, *THEIRS[1:]):
        in_force(app, handle)
    app.record_payment("acme", number, eur(500), on=D("2026-02-10"))
    app.record_note("acme", "Paid in full", on=D("2026-02-11"))


def _watch(monkeypatch: pytest.MonkeyPatch) -> tuple[set[str], set[str]]:
    """The streams whose timeline rows each process projected: (this one's, the helper's)."""
    ours: set[str] = set()
    theirs: set[str] = set()
    project, received = rebuilding._project, rebuilding._received

    def projecting(*args: Any) -> Any:
        read, batch, heads = project(*args)
        ours.update(row[0] for row in batch.timeline)
        return read, batch, heads

    def receiving(helper: Any) -> Any:
        rows, heads = received(helper)
        theirs.update(row[0] for row in rows["timeline"])
        return rows, heads

    monkeypatch.setattr(rebuilding, "_project", projecting)
    monkeypatch.setattr(rebuilding, "_received", receiving)
    return ours, theirs


def _rebuild(app: Any) -> int:
    heads = StreamHeads(app)
    try:
        heads.reset()
        with ReadModels(app, page_size=2) as models:
            count = models.rebuild(heads=heads)
        heads.catch_up()
    finally:
        heads.close()
    return count


def test_the_helper_projects_the_clients_this_process_does_not(app, monkeypatch):
    _story(app)
    expected_heads = _separate_pass(app)
    ours, theirs = _watch(monkeypatch)
    assert _rebuild(app) == app.recorder.max_notification_id()
    assert ours == {stream_id(handle).hex for handle in OURS}
    assert theirs == {stream_id(handle).hex for handle in THEIRS}
    with ReadModels(app) as models:
        assert models.dump() == rebuilt(app)
        assert models.recorder.position() == app.recorder.max_notification_id()
    assert _heads(app) == expected_heads  # the invoice series' head among them, whoever read it


def test_a_log_smaller_than_the_threshold_is_rebuilt_without_a_helper(app, monkeypatch):
    _story(app)
    monkeypatch.setattr(rebuilding, "HELPER_FROM", app.recorder.max_notification_id() + 1)
    ours, theirs = _watch(monkeypatch)
    _rebuild(app)
    assert theirs == set()
    assert ours == {stream_id(handle).hex for handle in (*OURS, *THEIRS)}


def test_a_long_backlog_is_caught_up_as_a_rebuild_projects_the_log(app, monkeypatch):
    _story(app)
    backlog = app.recorder.max_notification_id()
    monkeypatch.setattr(rebuilding, "HELPER_FROM", backlog)
    ours, theirs = _watch(monkeypatch)
    with ReadModels(app, page_size=2) as models:
        assert models.catch_up() == backlog
        assert theirs == {stream_id(handle).hex for handle in THEIRS}  # the helper took its half
        assert models.dump() == rebuilt(app)
        app.record_note("epsilon", "A short backlog", on=D("2026-02-12"))
        app.record_note("beta", "is caught up here", on=D("2026-02-12"))
        theirs.clear()
        ours.clear()
        assert models.catch_up() == 2
        assert theirs == ours == set()  # page by page, as every command does
        assert models.dump() == rebuilt(app)


# The helper's own start, with its projecting failing on the third range it is sent.
_FAILING = """
import pickle, sys
sys.path[:] = pickle.load(sys.stdin.buffer)
import projections.rebuild as rebuilding
project, calls = rebuilding._project, []
def failing(*args):
    calls.append(args)
    if len(calls) == 3:
        raise OSError(28, "No space left on device")
    return project(*args)
rebuilding._project = failing
rebuilding._helper()
"""


@pytest.mark.parametrize(("boot", "said"), [
    (_FAILING, "failed: OSError: [Errno 28] No space left on device"),
    ("import sys; sys.exit(1)", "stopped"),
], ids=["fails", "exits"])
def test_a_helper_that_fails_stops_the_rebuild_and_a_catch_up_completes_it(app, monkeypatch, boot, said):
    _story(app)
    monkeypatch.setattr(rebuilding, "_BOOT", boot)
    models = ReadModels(app, page_size=2)
    with pytest.raises(rebuilding.RebuildFailed) as failure:
        models.rebuild()
    assert f"its helper process {said}" in str(failure.value)
    position = models.recorder.position()
    assert position == (8 if said != "stopped" else 0)  # two ranges of 4 written before the third failed
    monkeypatch.undo()
    assert models.catch_up() == app.recorder.max_notification_id() - position
    assert models.dump() == rebuilt(app)
    models.close()
