"""What the twentieth adversarial run left (ADR-88): a rebuild that cannot read the whole log.

A row of the log damaged by hand is named by every reader ("the record acme v2 cannot be read").
Reading commands that answer from the read models went on working until `tratos rebuild` was
run: it dropped them, stopped at the damaged row, and left them empty, so every reading command
refused from then on. A rebuild now keeps a copy of the read models until it is done and puts it
back when it cannot finish: reading commands answer as before it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import ok, open_store, refused
from test_nineteenth_run_errors import DAMAGE, KEYED, _clause, _damage

from projections.store import KEPT, OUR_TABLES

READING = (("--json", "status"), ("--json", "status", "acme"), ("--json", "timeline", "acme"),
           ("--json", "client", "list"))


def _answers(home: Path) -> list[str]:
    return [ok(home, *args, env=KEYED).stdout for args in READING]


def _tables(home: Path) -> set[str]:
    """The names of the tables beside the log (both backends)."""
    from forger import Forger

    app = open_store(home)
    try:
        forger = Forger(app)
        if forger.postgres:
            rows = forger._run("SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
                               (forger.schema,))
        else:
            rows = forger._run("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}
    finally:
        app.close()


@pytest.mark.parametrize("name", ["state-not-json", "topic-null", "version-negative"])
def test_a_rebuild_that_cannot_read_the_log_leaves_the_read_models_as_they_were(kept: Path, store,
                                                                               name: str) -> None:
    before = _answers(kept)
    _damage(kept, store.backend, _clause(store, name))
    assert _answers(kept) == before  # the read models answer, as before the damage
    refused(kept, ("rebuild",), 1, f"cannot be read ({DAMAGE[name][2]})", env=KEYED)
    assert _answers(kept) == before
    assert not {t for t in _tables(kept) if t.startswith(KEPT)}


def test_a_rebuild_removes_what_a_killed_one_kept_and_keeps_nothing(kept: Path, store) -> None:
    from forger import Forger

    before = _answers(kept)  # (the read models are made by the first command that reads)
    app = open_store(kept)
    try:
        forger = Forger(app)
        where = f'"{forger.schema}".' if forger.postgres else ""
        for table in OUR_TABLES:  # as a rebuild killed outright leaves them
            forger.execute(f"CREATE TABLE {where}{KEPT}{table} AS SELECT * FROM {where}{table}")
    finally:
        app.close()
    assert {f"{KEPT}{t}" for t in OUR_TABLES} <= _tables(kept)
    rebuilt = ok(kept, "rebuild", env=KEYED)
    assert rebuilt.stdout.startswith("Rebuilt the read models from ")
    assert not {t for t in _tables(kept) if t.startswith(KEPT)}
    assert _answers(kept) == before


# ------------------------------------------------- "aborted" says what the command had recorded

@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT"])
def test_an_invoice_stopped_while_its_pdf_is_printed_says_it_was_issued(kept: Path, tmp_path: Path,
                                                                       name: str) -> None:
    import signal

    from cli_support import store_rows
    from test_nineteenth_run_runs import _stopped

    before = len(store_rows(kept))
    code, err = _stopped(kept, ("invoice", "issue", "acme", "--installment", "2", "--on", "2026-02-15", "--pdf"),
                         lambda: len(store_rows(kept)) > before, getattr(signal, name))
    assert len(store_rows(kept)) > before  # issued before the signal came
    assert (code, err.splitlines()) == (
        1, ["error: aborted after it recorded acme: invoice issued; nothing more was done"])
    timeline = ok(kept, "timeline", "acme", env=KEYED).stdout
    assert "F-2026-002" in timeline


def test_a_command_stopped_before_it_records_says_only_aborted(kept: Path, tmp_path: Path) -> None:
    import signal

    from cli_support import snapshot
    from test_nineteenth_run_runs import MB, _random_file, _stopped, _temporary_files

    big = _random_file(tmp_path / "recording.bin", 95 * MB)
    before = snapshot(kept)
    code, err = _stopped(kept, ("note", "acme", "the call", "--evidence", str(big)),
                         lambda: bool(_temporary_files(kept / "evidence")), signal.SIGTERM)
    assert (code, err.splitlines()) == (1, ["error: aborted"])
    assert snapshot(kept) == before
