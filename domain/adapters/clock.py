"""Today's business date: the machine's calendar, or the one TRATOS_TODAY pins (tests, demos)."""

from __future__ import annotations

import os
import re
from datetime import date

from domain.model.errors import BadInput

TODAY_VARIABLE = "TRATOS_TODAY"


def business_today() -> date:
    """The freelancer's today; a TRATOS_TODAY that is not a real ISO date is bad input, not a traceback."""
    pinned = os.environ.get(TODAY_VARIABLE)
    if not pinned:
        return date.today()
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", pinned.strip()):
        raise BadInput(f"{TODAY_VARIABLE} is not a date: {pinned!r} (use 2026-01-15, or unset it)")
    try:
        return date.fromisoformat(pinned.strip())
    except ValueError:
        raise BadInput(f"{TODAY_VARIABLE} is no such date: {pinned!r} (use 2026-01-15, or unset it)") from None
