"""tratos rebuild: drop every read model and project the whole log again."""

from __future__ import annotations

import sys
import time
from contextlib import nullcontext
from typing import Any

import click

from cli.options import pass_session
from cli.output import echo, print_json
from cli.session import Session


@click.command()
@pass_session
def rebuild(session: Session) -> None:
    """Rebuild the read models (status, timeline, lessons…) from the event log.

    Never needed in normal use (every command catches them up); use it after an
    upgrade or if a read model looks wrong. The log itself is not touched.

    \b
    Example:
        tratos rebuild
    """
    from cli.output import warn
    from projections import ReadModels
    from projections.heads import StreamHeads

    # An encrypted store's in their encrypted file (ADR-57), thrown away if damaged (ADR-63); the
    # stream heads are settled once the read models are rebuilt: a rebuild that fails leaves the
    # events' database untouched.
    models = ReadModels(session.app, warn=warn)
    started = time.perf_counter()
    heads = StreamHeads(session.app)
    with progress_bar(session, "Rebuilding") as progress:
        count = models.rebuild(progress, heads=heads)  # one read of the log for both
    heads.catch_up()  # events recorded meanwhile
    models.close()
    seconds = time.perf_counter() - started
    rate = count / seconds if seconds > 0 else 0.0
    if session.as_json:
        print_json({"events": count, "seconds": round(seconds, 3), "events_per_second": round(rate)})
        return
    echo(f"Rebuilt the read models from {count} events in {seconds:.2f} s ({rate:,.0f} events/s)")


def progress_bar(session: Session, label: str) -> Any:
    """A rich progress bar on a terminal (yields `update(done, total)`); nothing when piped or with --json."""
    if session.as_json or not sys.stdout.isatty():
        return nullcontext(None)
    return _Bar(label)


class _Bar:
    def __init__(self, label: str) -> None:
        self.label = label

    def __enter__(self) -> Any:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        self.progress = Progress(self.label, BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                                 transient=True)
        self.progress.__enter__()
        self.task = self.progress.add_task("rebuild", total=None)
        return self.update

    def update(self, done: int, total: int) -> None:
        self.progress.update(self.task, completed=done, total=total or None)

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)
