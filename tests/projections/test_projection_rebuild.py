"""Rebuild: drops every read model, projects the log again, gives the same rows; schema upgrades."""

from __future__ import annotations

from typing import Any

import pytest
from projection_story import D, acme_story, in_force

import projections.store as store
from documents.i18n import Formatter
from projections import ReadModels
from projections.sentences import with_sentences


def test_rebuild_in_multi_page_transactions_gives_the_incremental_rows(app):
    acme_story(app)
    incremental = ReadModels(app, page_size=2)
    for step in range(3):
        in_force(app, f"client-{step}")
        incremental.catch_up()
    expected = incremental.dump()
    calls: list[tuple[int, int]] = []
    rebuilt = ReadModels(app, page_size=2)  # 10 pages of 2 events per transaction
    count = rebuilt.rebuild(lambda done, total: calls.append((done, total)))
    assert count == len(app.recorder.select_notifications(start=None, limit=10_000))
    assert rebuilt.dump() == expected
    assert calls[0] == (0, app.recorder.max_notification_id())
    assert calls[-1][0] == count
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert rebuilt.catch_up() == 0


def test_rebuild_drops_rows_that_no_event_explains(app):
    acme_story(app)
    models = ReadModels(app)
    models.catch_up()
    with models.recorder.writing() as writer:  # a stray row, as if edited by hand
        writer.execute("INSERT INTO {t}lessons (stream, mistake, handle, category, lesson)"
                       " VALUES ('ff', 'M9', 'ghost', 'x', 'y')")
    assert len(models.dump()["lessons"]) == 2
    models.rebuild()
    assert [row[2] for row in models.dump()["lessons"]] == ["acme"]


def test_read_models_of_an_older_schema_are_rebuilt_on_first_use(app, monkeypatch):
    acme_story(app)
    ReadModels(app).catch_up()
    app.record_note("acme", "After the upgrade", on=D("2026-02-20"))
    monkeypatch.setattr(store, "SCHEMA_VERSION", store.SCHEMA_VERSION + 1)
    upgraded = ReadModels(app)
    assert not upgraded.recorder.schema_is_current()
    applied = upgraded.catch_up()
    assert applied == len(app.recorder.select_notifications(start=None, limit=10_000))  # all again
    assert upgraded.recorder.schema_is_current()
    last = with_sentences(upgraded.timeline("acme"), Formatter("en"), us="Ana")[-1]
    assert last["sentence"] == "Note: After the upgrade"


def test_a_second_process_sees_the_rebuilt_models(make_app):
    first, second = make_app(), make_app()
    acme_story(first)
    ReadModels(first).catch_up()
    rows: dict[str, Any] = ReadModels(second).dump()
    ReadModels(first).rebuild()
    assert ReadModels(second).dump() == rows


FULL = store.ROWS_PER_STATEMENT


@pytest.mark.parametrize("count", [1, 2, 3, FULL - 1, FULL, FULL + 1, FULL + FULL // 4 + 7, 3 * FULL + 5, 4096 + 1])
def test_many_rows_are_written_in_statements_of_any_size_and_read_back(app, count):
    """SQLite sends rows in statements of power-of-two sizes (`Writer.upsert`): every count of
    rows, around and across a full statement, lands once, and an upsert of the same keys
    updates them; PostgreSQL's COPY path is held to the same."""
    models = ReadModels(app)
    models.catch_up()
    table = store.TABLES["terms"]
    rows = [tuple({"stream": f"{n:032x}", "version": 1, "data": f"terms {n}"}.get(c) for c in table.columns)
            for n in range(count)]
    with models.recorder.writing() as writer:
        writer.upsert(table, rows)
    with models.recorder.writing() as writer:  # the same keys again: updated, not added
        writer.upsert(table, [tuple(f"{v} (again)" if c == "data" else v
                                    for c, v in zip(table.columns, row, strict=True)) for row in rows[::2]])
    written = {row[0]: row[table.columns.index("data")] for row in models.dump()["terms"]}
    assert written == {f"{n:032x}": f"terms {n}" + (" (again)" if n % 2 == 0 else "") for n in range(count)}
