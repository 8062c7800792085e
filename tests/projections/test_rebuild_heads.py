"""A rebuild settles the stream heads from its own read of the log (`ReadModels.rebuild(heads=...)`).

The heads it leaves must be exactly those a separate pass over the log records, also when
the log is several transactions long, when events arrive after the rebuild, when the heads
were wrong or stood beyond the log, and when its pass had a gap (another process projected
part of it); heads that were right are not written, and a rebuild that fails leaves them as
they were (ADR-63).
"""

from __future__ import annotations

from typing import Any

import pytest
from projection_story import D, acme_story, in_force

from projections import ReadModels
from projections import rebuild as rebuilding
from projections.heads import HeadsSeen, StreamHeads


def _heads(app: Any) -> tuple[int, list[tuple[str, int, str]]]:
    heads = StreamHeads(app)
    try:
        with heads.recorder.reading() as reader:
            rows = reader.rows("SELECT stream, version, digest FROM {t}stream_heads ORDER BY stream")
        return heads.position(), [(r["stream"], int(r["version"]), r["digest"]) for r in rows]
    finally:
        heads.close()


def _separate_pass(app: Any) -> tuple[int, list[tuple[str, int, str]]]:
    heads = StreamHeads(app)
    try:
        heads.reset()
        heads.catch_up()
    finally:
        heads.close()
    return _heads(app)


def _rebuild_with_heads(app: Any, page_size: int = 2) -> int:
    heads = StreamHeads(app)
    try:
        heads.reset()
        with ReadModels(app, page_size=page_size) as models:
            count = models.rebuild(heads=heads)
        heads.catch_up()
    finally:
        heads.close()
    return count


def test_the_heads_fed_by_a_rebuild_are_those_of_a_separate_pass(app):
    acme_story(app)
    for n in range(3):
        in_force(app, f"client-{n}")
    expected = _separate_pass(app)
    _rebuild_with_heads(app)  # pages of 2 events, 10 pages per transaction: several transactions
    assert _heads(app) == expected
    assert expected[0] == app.recorder.max_notification_id()
    assert len(expected[1]) == 6  # acme, three clients, the invoice series, the billing records


def test_events_after_the_rebuild_are_caught_up_as_usual(app):
    acme_story(app)
    _rebuild_with_heads(app)
    app.record_note("acme", "After the rebuild", on=D("2026-03-01"))
    heads = StreamHeads(app)
    try:
        assert heads.catch_up() == 1
    finally:
        heads.close()
    assert _heads(app) == _separate_pass(app)


def test_heads_moved_on_by_another_process_are_left_as_they_are(make_app):
    first, second = make_app(), make_app()
    acme_story(first)
    ahead = StreamHeads(second)
    try:
        ahead.reset()
        ahead.catch_up()  # the other process has recorded every head already
    finally:
        ahead.close()
    expected = _heads(first)
    with ReadModels(first) as models:  # a rebuild that finds the heads right: nothing to write
        models.rebuild(heads=StreamHeads(first))
    assert _heads(first) == expected


def test_wrong_heads_are_made_those_of_the_log(app):
    """A digest edited, a head deleted, a stray one, a position beyond the log: a rebuild makes
    the witness what the log holds, as the reset it replaces did."""
    acme_story(app)
    in_force(app, "beta")
    expected = _separate_pass(app)
    heads = StreamHeads(app)
    try:
        with heads.recorder.writing() as writer:
            writer.execute("UPDATE {t}stream_heads SET digest = 'forged' WHERE stream = ?", (expected[1][0][0],))
            writer.execute("DELETE FROM {t}stream_heads WHERE stream = ?", (expected[1][1][0],))
            writer.execute("INSERT INTO {t}stream_heads (stream, version, digest) VALUES ('ff', 9, 'x')")
            writer.execute(f"UPDATE {heads.recorder.tracking_table} SET notification_id = ?"
                           " WHERE application_name = 'stream_heads'", (expected[0] + 50,))
        assert _heads(app) != expected
        with ReadModels(app, page_size=2) as models:
            models.rebuild(heads=heads)
    finally:
        heads.close()
    assert _heads(app) == expected


def test_a_pass_with_a_gap_settles_the_heads_from_the_log(app):
    acme_story(app)
    expected = _separate_pass(app)
    seen = HeadsSeen()
    seen.feed(0, 2, {})
    seen.feed(4, expected[0], {})  # what lies between 2 and 4 was projected by another process
    assert not seen.whole
    heads = StreamHeads(app)
    try:
        heads.reset()
        heads.settle(seen)
    finally:
        heads.close()
    assert _heads(app) == expected


def test_a_rebuild_that_fails_leaves_the_heads_as_they_were(app, monkeypatch):
    acme_story(app)
    for n in range(3):
        in_force(app, f"client-{n}")
    expected = _separate_pass(app)
    pages: list[int] = []

    def failing(batch, events, project=rebuilding.project_page):
        pages.append(len(events))
        if len(pages) > 3:
            raise OSError("the machine stopped")
        return project(batch, events)

    monkeypatch.setattr(rebuilding, "project_page", failing)
    monkeypatch.setattr(rebuilding, "PAGES_PER_TRANSACTION", 1)
    heads = StreamHeads(app)
    try:
        with ReadModels(app, page_size=2) as models, pytest.raises(OSError, match="machine stopped"):
            models.rebuild(heads=heads)
    finally:
        heads.close()
    assert len(pages) > 3  # it failed after writing transactions of the read models
    assert _heads(app) == expected
