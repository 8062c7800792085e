"""A rebuild feeds the stream heads from its own read of the log (`ReadModels.rebuild(heads=...)`).

The heads it leaves must be exactly those a separate pass over the log records, also when
the log is several transactions long, when events arrive after the rebuild, and when
another process moved the heads on meanwhile (the fed pages are then skipped, and the
catch-up that follows does the rest).
"""

from __future__ import annotations

from typing import Any

from projection_story import D, acme_story, in_force

from projections import ReadModels
from projections.heads import StreamHeads


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


def test_heads_moved_on_by_another_process_are_not_fed_twice(make_app):
    first, second = make_app(), make_app()
    acme_story(first)
    ahead = StreamHeads(second)
    try:
        ahead.reset()
        ahead.catch_up()  # the other process has recorded every head already
        assert not ahead.feed(0, 1, {})  # a page from before where it stands is refused
    finally:
        ahead.close()
    expected = _heads(first)
    with ReadModels(first) as models:  # a rebuild that does not reset the heads: nothing fed
        models.rebuild(heads=StreamHeads(first))
    assert _heads(first) == expected
