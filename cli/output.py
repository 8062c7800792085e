"""Printing for people (short sentences, tables) and for scripts (--json).

rich is imported only when a table goes to a terminal; piped output is plain
text, so scripts and the benchmarks never pay for it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from contextlib import suppress
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click

from cli.session import Session


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
        click.echo(f"Recorded: {sentence} on {event.occurred_on} ({result.handle})")
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
    from domain.model.values import visible

    shown = visible(" ".join(str(line).split()))
    with suppress(OSError):
        click.echo(shown, err=True)


def money(value: Any) -> str:
    """Money, or its JSON form {"amount": "8000.00", "currency": "EUR"}, as '8000.00 EUR'."""
    if not value:
        return ""
    if isinstance(value, dict):
        return f"{value['amount']} {value['currency']}"
    return f"{value.amount} {value.currency}"


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A table: rich on a terminal (colour unless NO_COLOR), aligned plain text when piped."""
    cells = [["" if c is None else str(c) for c in row] for row in rows]
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        view = Table(title=title, title_justify="left", header_style="bold cyan")
        for column in columns:
            view.add_column(column)
        for row in cells:
            view.add_row(*row)
        Console().print(view)
        return
    rows_of_text = [list(columns), *cells]
    widths = [max(map(len, column)) for column in zip(*rows_of_text, strict=True)]
    line = "  ".join(f"{{:<{w}}}" for w in widths).format  # one C call a row (10,000 for a portfolio)
    lines = [title] + [line(*row).rstrip() for row in rows_of_text]
    click.echo("\n".join(lines))  # one write: a 10,000-client portfolio is one call, not 10,000
