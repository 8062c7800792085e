"""The calendar a freelancer's records live in: business dates from 1900 to 2999, arithmetic that never overflows.

Python's dates stop at 9999-12-31, so a contract ending that day and moved by one approved change
made every reader fail (`OverflowError`). Every date typed or decided is held to `EARLIEST` ..
`LATEST` (`check_day`); dates a store holds from before are moved with `days_after`, which stops
at the end of the calendar instead of raising, so such a store still reads (ADR-26, issue 19).
"""

from __future__ import annotations

from datetime import date

from domain.model.errors import BadInput, Refused

EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)


def check_day(day: date, what: str = "a date") -> date:
    """`day` if it lies within the calendar of business records; else `BadInput`, in one line."""
    if not EARLIEST <= day <= LATEST:
        raise BadInput(f"{what} {day.isoformat()} is out of range: tratos keeps dates from"
                       f" {EARLIEST.year} to {LATEST.year}")
    return day


def days_after(day: date, days: int) -> date:
    """`day` moved by `days` (negative: before), stopping at Python's first or last date."""
    ordinal = day.toordinal() + days
    return date.fromordinal(min(max(ordinal, date.min.toordinal()), date.max.toordinal()))


def not_before(on: date, since: date | None, what: str) -> None:
    """A step of an entity's life cannot be dated before the entity existed."""
    if since is not None and on < since:
        raise Refused(f"{on} is before {what} ({since})")
