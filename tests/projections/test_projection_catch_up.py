"""Catch-up: pages, exactly once, resumable, cheap when nothing is new, never the whole log."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

from projection_story import D, acme_story, in_force
from read_models import rebuilt

from domain.model.relationship import Relationship
from domain.model.values import Party, stream_id
from projections import ReadModels
from projections.schema import TABLES


def notifications(app: Any) -> int:
    return len(app.recorder.select_notifications(start=None, limit=1_000_000))


def test_tables_are_created_on_first_use_and_catch_up_counts_what_it_applied(app):
    acme_story(app)
    models = ReadModels(app)
    assert models.catch_up() == notifications(app)
    assert models.catch_up() == 0
    assert models.handles() == ["acme"]
    assert len(models.dump()["timeline"]) == len(app.recorder.select_events(stream_id("acme")))


def test_incremental_after_every_command_equals_a_rebuild_row_for_row(app):
    models = ReadModels(app)
    steps = [
        lambda: in_force(app, "acme"),
        lambda: app.issue_invoice("acme", installment=1, on=D("2026-01-15")),
        lambda: app.record_payment("acme", "F-2026-001", _eur("4000"), on=D("2026-01-20")),
        lambda: app.request_change("acme", "Blog", requested_by="client", on=D("2026-01-21")),
        lambda: app.quote_change("acme", "C1", price=_eur("600"), on=D("2026-01-22")),
        lambda: app.approve_change("acme", "C1", on=D("2026-01-23")),
        lambda: in_force(app, "beta"),
        lambda: app.end_relationship("beta", reason="Budget cut", ended_by="client", on=D("2026-02-01")),
    ]
    for step in steps:
        step()
        models.catch_up()
        assert models.dump() == rebuilt(app)
    contract = models.status("acme", today=D("2026-03-01"))["contract"]
    assert contract["total"] == {"amount": "8600.00", "currency": "EUR"}


def test_small_pages_give_the_same_rows_as_one_big_page(app):
    acme_story(app)
    in_force(app, "beta")
    small = ReadModels(app, page_size=3)
    assert small.catch_up() == notifications(app)
    assert small.dump() == rebuilt(app)


def test_catch_up_of_ten_new_events_reads_only_those_after_twenty_thousand(app):
    # 20 clients x 1000 notes, saved 1000 events per transaction through the Application.
    for n in range(20):
        handle = f"client-{n}"
        relationship = Relationship.open(stream_id(handle), handle, Party(name=f"Client {n}"), date(2026, 1, 1))
        for i in range(999):
            relationship.record_note(f"note {i}", on=date(2026, 1, 2))
        app.save(relationship)
    assert app.recorder.max_notification_id() >= 20_000
    models = ReadModels(app)
    assert models.catch_up() == 20_000
    for i in range(10):
        app.record_note("client-7", f"new note {i}", on=date(2026, 2, 1))

    calls: list[tuple[Any, int]] = []
    real = app.recorder.select_notifications

    def counting(*args: Any, **kwargs: Any) -> Any:
        rows = real(*args, **kwargs)
        calls.append((kwargs.get("start", args[0] if args else None), len(rows)))
        return rows

    app.recorder.select_notifications = counting
    try:
        assert models.catch_up() == 10
        assert sum(count for _, count in calls) == 10
        assert calls[0][0] >= 20_000  # it started after what it had already applied
        calls.clear()
        assert models.catch_up() == 0
        assert sum(count for _, count in calls) == 0
    finally:
        app.recorder.select_notifications = real
    assert len(models.timeline("client-7")) == 1010


def test_two_processes_catching_up_at_once_apply_every_event_once(make_app):
    first = make_app()
    acme_story(first)
    in_force(first, "beta")
    apps = [make_app() for _ in range(4)]
    errors: list[BaseException] = []

    def catch_up(app: Any) -> None:
        try:
            ReadModels(app, page_size=2).catch_up()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=catch_up, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    models = ReadModels(first)
    assert models.catch_up() == 0
    assert models.dump() == rebuilt(first)
    status = models.status("acme", today=D("2026-02-10"))
    assert status["balance"]["paid"] == {"amount": "1000.00", "currency": "EUR"}


def test_every_read_model_table_gets_rows_from_the_story(app):
    acme_story(app)
    models = ReadModels(app)
    models.catch_up()
    dump = models.dump()
    assert {name for name, rows in dump.items() if rows} == set(TABLES)


def _eur(amount: str):
    from projection_story import eur

    return eur(amount)
