"""A crash between applying an event and committing loses nothing and applies nothing twice."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from decimal import Decimal
from typing import Any

import pytest
from projection_story import D, acme_story, eur
from read_models import rebuilt

from domain.model import events as ev
from projections import ReadModels, projector
from projections.store import Writer


class Crash(Exception):
    pass


def paid(models: ReadModels, number: str) -> str:
    invoice = next(i for i in models.status("acme", today=D("2026-02-10"))["invoices"] if i["number"] == number)
    return invoice["paid"]["amount"]


def timeline_kinds(models: ReadModels) -> list[str]:
    return [row["kind"] for row in models.timeline("acme")]


def test_an_exception_after_applying_a_payment_rolls_the_page_back_and_the_retry_applies_it_once(
        app, monkeypatch):
    number = acme_story(app)
    models = ReadModels(app)
    models.catch_up()
    position = models.recorder.position()
    app.record_note("acme", "Before the payment", on=D("2026-02-10"))
    app.record_payment("acme", number, eur(500), on=D("2026-02-10"))
    app.record_note("acme", "After the payment", on=D("2026-02-10"))

    original = projector.HANDLERS[ev.PaymentReceived]
    applied: list[Any] = []

    def crash_after_applying(event: Any, *args: Any) -> None:
        original(event, *args)  # the payment is applied to the rows in memory…
        applied.append(event)
        raise Crash("power cut")  # …and the process dies before the commit

    monkeypatch.setitem(projector.HANDLERS, ev.PaymentReceived, crash_after_applying)
    with pytest.raises(Crash):
        models.catch_up()
    assert len(applied) == 1
    assert models.recorder.position() == position  # nothing of the page was committed
    assert paid(models, number) == "1000.00"
    assert timeline_kinds(models).count("NoteRecorded") == 1  # not even the note before it

    monkeypatch.setitem(projector.HANDLERS, ev.PaymentReceived, original)
    assert models.catch_up() == 3
    assert paid(models, number) == "1500.00"  # once, not twice
    assert timeline_kinds(models).count("PaymentReceived") == 2
    assert timeline_kinds(models).count("NoteRecorded") == 3
    assert models.catch_up() == 0
    assert models.dump() == rebuilt(app)


def test_a_crash_after_the_rows_are_written_but_before_the_tracking_record_rolls_back_the_rows(
        app, monkeypatch):
    number = acme_story(app)
    models = ReadModels(app)
    models.catch_up()
    app.record_payment("acme", number, eur(500), on=D("2026-02-10"))

    def crash(self: Writer, notification_id: int) -> None:
        raise Crash("killed between the rows and the position")

    monkeypatch.setattr(Writer, "track", crash)
    with pytest.raises(Crash):
        models.catch_up()
    assert paid(models, number) == "1000.00"
    monkeypatch.undo()
    assert models.catch_up() == 1
    assert paid(models, number) == "1500.00"
    assert models.dump() == rebuilt(app)


CHILD = textwrap.dedent("""
    import os
    from domain.services.application import Tratos
    from projections import ReadModels
    from projections.store import Writer

    original = Writer.track

    def die(self, notification_id):
        self.cursor.execute("SELECT 1")  # rows of the page are written, the transaction is open
        os._exit(9)                      # a kill: no rollback, no exception handler, no commit

    Writer.track = die
    ReadModels(Tratos(profile=UNTAXED_PROFILE)).catch_up()
""")


def test_a_process_killed_mid_page_leaves_the_page_unapplied_and_the_next_catch_up_applies_it_once(
        app, store_env):
    number = acme_story(app)
    models = ReadModels(app)
    models.catch_up()
    app.record_payment("acme", number, eur(500), on=D("2026-02-10"))
    app.log_hours("acme", Decimal("2"), on=D("2026-02-10"))

    child = subprocess.run([sys.executable, "-c", CHILD], env=store_env, capture_output=True, text=True,
                           timeout=60)
    assert child.returncode == 9, child.stderr
    assert paid(models, number) == "1000.00"
    assert models.catch_up() == 2
    assert paid(models, number) == "1500.00"
    assert models.status("acme", today=D("2026-02-10"))["contract"]["hours_logged"] == "5.5"
    assert models.dump() == rebuilt(app)
