"""Values and validation errors as a freelancer reads them, in messages about a history or a file.

`Money(amount=Decimal('1.00'), currency='EUR')` and `datetime.date(2026, 3, 20)` are Python's
words, and pydantic's "[type=date_from_datetime_parsing, …] For further information visit …"
is a library's: a message says `1.00 EUR`, `2026-03-20`, "occurred_on: Input should be a valid
date (given "x")" (issue 19).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

LIMIT = 120
# pydantic's wording where it speaks of Python rather than of the record
_WORDS = {"extra_forbidden": "a key tratos never writes", "missing": "missing"}


def counted(n: int, noun: str) -> str:
    """'1 day', '3 days': a count with its noun, singular for one (nouns that take an s)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def shown(value: Any) -> str:
    """A field's value in a message, as tratos prints it (cut short)."""
    text = _plain(value)
    return text if len(text) <= LIMIT else text[:LIMIT - 3] + "..."


def _plain(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_plain(item) for item in value) + "]"
    if hasattr(value, "model_dump"):
        if type(value).__name__ == "Money":  # not imported: this module stays below the model
            return str(value)
        return json.dumps(value.model_dump(mode="json"), ensure_ascii=False, separators=(", ", ": "))
    return str(value)


def validation_reason(error: Exception) -> str:
    """A pydantic ValidationError as one plain clause (its first problem, and how many more);
    any other error as its own message on one line."""
    problems = getattr(error, "errors", None)
    if callable(problems):
        try:
            found = problems(include_url=False)
        except TypeError:
            found = []
        if found:
            first = found[0]
            where = ".".join(str(part) for part in first.get("loc", ())) or "the record"
            given = first.get("input")
            text = f"{where}: {_WORDS.get(first.get('type', ''), first.get('msg', 'not valid'))}"
            if "input" in first and not isinstance(given, dict | list):
                text += f" (given {shown(given)})"
            more = len(found) - 1
            return text + (f", and {more} more problem{'s' if more > 1 else ''}" if more else "")
    return " ".join(str(error).split()) or "it cannot be read"
