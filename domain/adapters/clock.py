"""Today's business date: the machine's calendar, or the one TRATOS_TODAY pins (tests, demos)."""

from __future__ import annotations

import os
import re
from datetime import date, datetime, time

from domain.model.errors import BadInput

TODAY_VARIABLE = "TRATOS_TODAY"


def business_today() -> date:
    """The freelancer's today; a TRATOS_TODAY that is not a real ISO date is bad input, not a traceback.

    Set but empty is bad input too, not the machine's date: `TRATOS_TODAY=$DAY` with DAY unset in a
    script would otherwise record on another day than the one it meant. A pinned date lies within
    the calendar of records (1900-2999), so every date computed from it exists.
    """
    from domain.model.calendar import check_day

    pinned = os.environ.get(TODAY_VARIABLE)
    if pinned is None:
        return date.today()
    if not pinned:
        raise BadInput(f"{TODAY_VARIABLE} is set but empty: set it to a date such as 2026-01-15, or unset it")
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", pinned):
        raise BadInput(f"{TODAY_VARIABLE} is not a date: {pinned!r} (use 2026-01-15, or unset it)")
    try:
        day = date.fromisoformat(pinned)
    except ValueError:
        raise BadInput(f"{TODAY_VARIABLE} is no such date: {pinned!r} (use 2026-01-15, or unset it)") from None
    try:
        return check_day(day, TODAY_VARIABLE)
    except BadInput as error:
        raise BadInput(f"{error} (or unset it)") from None


NOW_VARIABLE = "TRATOS_NOW"
RECORD_ZONE = "Europe/Madrid"  # the time zone a Verifactu record states its generation time in


def record_moment() -> datetime:
    """When a billing record is generated, in Spain's peninsular time zone (FechaHoraHusoGenRegistro).

    TRATOS_NOW pins it (an ISO 8601 time with its offset, for tests and demos); else a pinned
    TRATOS_TODAY gives that day at noon, so a pinned run records the same fingerprints every time;
    else the machine's clock.
    """
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(RECORD_ZONE)
    pinned = os.environ.get(NOW_VARIABLE)
    if pinned is not None:
        try:
            moment = datetime.fromisoformat(pinned)
        except ValueError:
            moment = None
        if moment is None or moment.utcoffset() is None:
            raise BadInput(f"{NOW_VARIABLE} is not a time with its zone: {pinned!r}"
                           " (use 2026-01-15T10:30:00+01:00, or unset it)")
        return moment
    if os.environ.get(TODAY_VARIABLE) is not None:
        return datetime.combine(business_today(), time(12), tzinfo=zone)
    return datetime.now(zone)


def latest_now() -> datetime:
    """The latest it can be now, what a record's time is checked against (anomaly 13, ADR-69): TRATOS_NOW
    when pinned; else the machine's clock, or the last second of a pinned TRATOS_TODAY if that is later.
    Not TRATOS_TODAY alone: a day pinned in the past (a demo, a test's story) would find every record made
    on the machine's clock since "made after now"."""
    from zoneinfo import ZoneInfo

    if os.environ.get(NOW_VARIABLE) is not None:
        return record_moment()
    machine = datetime.now(ZoneInfo(RECORD_ZONE))
    if os.environ.get(TODAY_VARIABLE) is not None:
        return max(machine, record_moment().replace(hour=23, minute=59, second=59))
    return machine
