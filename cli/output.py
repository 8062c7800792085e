"""Printing for people (short sentences, tables) and for scripts (--json).

rich is imported only when a table goes to a terminal; piped output is plain
text, so scripts and the benchmarks never pay for it.

Every line for people goes through `echo`, `table` or `say`, which show each recorded text as it
is recorded but on one line and with nothing hidden (ADR-73): a line break, a tab, a control, a
bidirectional control or an invisible character is written as its escape (\\x0a, \\u202e), so no
text, however it came into the store (an import of an older store's), can add a row to a table
or reorder a sentence. --json prints texts exactly, JSON-escaped.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click

from cli.session import Session
from domain.model.texts import visible


def to_json(value: Any) -> Any:
    """Decimals as strings, dates as ISO, models as dicts: the --json conventions."""
    if hasattr(value, "model_dump"):
        return to_json(value.model_dump(mode="json"))
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def print_json(value: Any) -> None:
    click.echo(json.dumps(to_json(value), indent=2, ensure_ascii=False, sort_keys=False))


def recorded(session: Session, result: Any, sentence: str) -> None:
    """Confirm a recording command: a sentence, or the recorded event as JSON."""
    event = result.event
    if session.as_json:
        print_json({
            "recorded": type(event).__name__,
            "handle": result.handle,
            "id": result.id,
            "stream_version": event.originator_version,
            "occurred_on": event.occurred_on,
            "digest": event.digest,
            "warnings": result.warnings,
        })
    else:
        echo(f"Recorded: {sentence} on {event.occurred_on} ({result.handle})")
    for warning in result.warnings:
        warn(warning)


def warn(message: str) -> None:
    """A `warning:` line on stderr (see `say`)."""
    say(f"warning: {message}")


def say(line: str) -> None:
    """One line on stderr, the only way tratos writes `error:` and `warning:` lines (ADR-54).

    The line is made one line (a message quoting a text with line breaks) and every character a
    terminal would not show as it is (bidirectional controls, zero-width and other invisible
    characters, controls, lone surrogates) is written as its escape (\\u202e): a message quotes
    what was typed, and `F\u202e100-6202-F` must not be reordered into another invoice number.
    A stderr that cannot take it changes nothing (the exit code still says).
    """
    shown = visible(" ".join(str(line).split()))
    with suppress(OSError):
        click.echo(shown, err=True)


def echo(text: Any = "", *, err: bool = False, lines: bool = False) -> None:
    """A line for people on stdout (or stderr), every text in it shown as recorded (ADR-73).

    `lines`: the text is lines tratos composed itself (an anchor note, a verification report),
    each shown on its own; otherwise the whole is one line, and a line break in it is `\\x0a`.
    """
    text = str(text)
    shown = "\n".join(map(visible, text.split("\n"))) if lines else visible(text)
    click.echo(shown, err=err)


def money(value: Any) -> str:
    """Money, or its JSON form {"amount": "8000.00", "currency": "EUR"}, as '8000.00 EUR'."""
    if not value:
        return ""
    if isinstance(value, dict):
        return f"{value['amount']} {value['currency']}"
    return f"{value.amount} {value.currency}"


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A table: rich on a terminal (colour unless NO_COLOR), aligned plain text when piped."""
    title = visible(title)
    cells = [["" if c is None else visible(str(c)) for c in row] for row in rows]  # a cell is one line
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        view = Table(title=Text(title), title_justify="left", header_style="bold cyan")
        for column in columns:
            view.add_column(column)
        for row in cells:
            view.add_row(*map(Text, row))  # a text's "[bold]" is what it says, not rich markup
        Console().print(view)
        return
    rows_of_text = [list(columns), *cells]
    widths = [max(map(len, column)) for column in zip(*rows_of_text, strict=True)]
    line = "  ".join(f"{{:<{w}}}" for w in widths).format  # one C call a row (10,000 for a portfolio)
    lines = [title] + [line(*row).rstrip() for row in rows_of_text]
    click.echo("\n".join(lines))  # one write: a 10,000-client portfolio is one call, not 10,000


def gives_verdict(command: Callable) -> Callable:
    """For a command whose exit code is its verdict (`audit verify`, `verifactu verify`, `verify`,
    `check`, `follow-up`): a reader that leaves (`| head -1`) does not cut it short.

    Elsewhere a closed pipe ends the command quietly with exit 0 (`tratos status | head -1`), but
    here that 0 would say "everything holds" of a store that was found broken, or not yet checked
    to the end. So the output that can no longer be read is dropped, and the command runs to its
    end: it finishes its checks, logs them where it logs them, and exits with its verdict, with
    its one `error:` line on stderr when something does not hold."""
    @functools.wraps(command)
    def checked(*args: Any, **kwargs: Any) -> Any:
        with _reader_may_leave():
            return command(*args, **kwargs)

    return checked


@contextmanager
def _reader_may_leave() -> Iterator[None]:
    shown = sys.stdout
    sys.stdout = _UntilTheReaderLeaves(shown)
    try:
        yield
    finally:
        sys.stdout = shown


class _UntilTheReaderLeaves:
    """Standard output that, once its reader has gone (a broken pipe), drops what is written to it.

    Its file descriptor is then the null device (as main does for SIGPIPE), so the interpreter's
    last flush of what is still buffered neither fails nor prints. It has no `buffer`: click writes
    through it, never around it."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.left = False

    def write(self, text: str) -> int:
        if not self.left:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._reader_left()
        return len(text)

    def flush(self) -> None:
        if not self.left:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._reader_left()

    def _reader_left(self) -> None:
        self.left = True
        with suppress(OSError, ValueError, AttributeError):  # no descriptor: in-process, the tests' streams
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:
        return self._stream.encoding

    @property
    def errors(self) -> str | None:
        return self._stream.errors

    @property
    def closed(self) -> bool:
        return self._stream.closed


# Where a write to standard output fails inside a verdict command (a full disk): `main.output_failed`.
WRITING = (_UntilTheReaderLeaves.write.__code__, _UntilTheReaderLeaves.flush.__code__)
