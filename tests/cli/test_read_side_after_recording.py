"""A command that records also projects what it recorded, so the next read has nothing to apply.

That keeps `status` free of pydantic models (ADR-16); it must never cost a recorded command its
success, and an encrypted store's read models stay off disk.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest
from cli_support import OPENED, database_of, given, ok, open_store, run

from projections import ReadModels
from projections.heads import StreamHeads


def positions(home) -> tuple[int, int, int]:
    """The log's last notification, and where the read models and the stream heads stand."""
    app = open_store(home)
    try:
        models, heads = ReadModels(app), StreamHeads(app)
        try:
            return app.recorder.max_notification_id() or 0, models.recorder.position(), heads.position()
        finally:
            models.close()
            heads.close()
    finally:
        app.close()


def test_a_recorded_note_is_projected_before_the_command_returns(cli_home):
    given(cli_home, OPENED)
    ok(cli_home, "note", "acme", "called about the logo", "--on", "2026-02-03")
    last, read_models, heads = positions(cli_home)
    assert last > 0
    assert read_models == heads == last


def test_a_command_that_records_nothing_leaves_the_read_side_alone(cli_home):
    given(cli_home, OPENED)
    app = open_store(cli_home)  # an event recorded outside the CLI: the read side lags behind it
    try:
        app.record_note("acme", "recorded by another program", on=date(2026, 2, 3))
    finally:
        app.close()
    behind = positions(cli_home)
    assert behind[1] < behind[0] and behind[2] < behind[0]
    refused = run(cli_home, "note", "acme", "too early", "--on", "2000-01-01")
    assert refused.code == 1
    assert positions(cli_home) == behind  # refused, so nothing was recorded and nothing projected
    ok(cli_home, "note", "acme", "then one that records", "--on", "2026-02-04")
    last, read_models, heads = positions(cli_home)
    assert read_models == heads == last  # the lag is projected too


def test_a_failing_projection_does_not_fail_the_command(cli_home, monkeypatch):
    given(cli_home, OPENED)
    last_before, *_ = positions(cli_home)

    def broken(self, *args, **kwargs):
        raise RuntimeError("projection bug")

    monkeypatch.setattr(ReadModels, "catch_up", broken)
    outcome = run(cli_home, "note", "acme", "still recorded", "--on", "2026-02-03")
    assert outcome.code == 0, outcome.stderr
    assert outcome.stderr == ""
    monkeypatch.undo()
    last, read_models, _ = positions(cli_home)
    assert last > last_before and read_models < last  # recorded, not projected
    assert "still recorded" in ok(cli_home, "timeline", "acme").stdout  # the next read catches up


def test_status_after_a_note_imports_no_event_class(cli_home):
    """The point of it: the read that follows a recording builds no pydantic model."""
    given(cli_home, OPENED)
    ok(cli_home, "note", "acme", "x", "--on", "2026-02-03")
    probe = ("import sys; from cli.main import main\n"
             "try:\n    main(['status', 'acme'])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
             "assert 'domain.model.events' not in sys.modules and 'pydantic.fields' not in sys.modules,"
             " sorted(m for m in sys.modules if m.startswith(('domain', 'pydantic.fields')))")
    env = {"TRATOS_HOME": str(cli_home), "PATH": "/usr/bin:/bin"}
    if database_of(cli_home):
        env["TRATOS_DATABASE_URL"] = database_of(cli_home)
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("page_size", [1, 2, 1000])
def test_the_witness_reads_every_head_whatever_the_page(cli_home, page_size):
    given(cli_home, [*OPENED, ("client", "open", "beta", "--name", "Beta SL", "--on", "2026-01-10"),
                     ("client", "open", "gamma", "--name", "Gamma SL", "--on", "2026-01-10")])
    app = open_store(cli_home)
    try:
        heads = StreamHeads(app, page_size=page_size)
        witnessed = sorted((a.stream, a.version) for a in heads.witness().heads)
        heads.close()
        expected = sorted((stream, version) for stream, version in _stream_heads(app))
    finally:
        app.close()
    assert len(witnessed) == 3
    assert witnessed == expected


def _stream_heads(app):
    last: dict = {}
    position = 0
    while page := app.recorder.select_notifications(start=position, limit=100, inclusive_of_start=False):
        for n in page:
            last[n.originator_id] = n.originator_version
        position = page[-1].id
    return last.items()
