"""Which stream a client or an invoice series lives in: ids derived from names, no lookup needed.

Kept free of pydantic, so commands that only read (status, timeline) find a client's
stream without building the domain's models.
"""

from __future__ import annotations

import re
import uuid

from domain.model.errors import BadInput

TRATOS_NAMESPACE = uuid.UUID("5b7c3f0e-8d1a-4a57-9a53-7f1d2f7f6a01")
_HANDLE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")


def check_handle(handle: str) -> str:
    if not _HANDLE.match(handle or ""):
        raise BadInput(
            f"invalid client handle {handle!r}: use lowercase letters, digits and dashes"
            " (like 'acme' or 'north-wind'), at most 40 characters"
        )
    return handle


def stream_id(handle: str) -> uuid.UUID:
    """The relationship's stream id: UUID5 of its handle, so commands need no lookup."""
    return uuid.uuid5(TRATOS_NAMESPACE, f"relationship:{handle}")


def series_id(series: str, year: int) -> uuid.UUID:
    """The invoice series' stream id: one stream per series and year (F-2026)."""
    return uuid.uuid5(TRATOS_NAMESPACE, f"invoice-series:{series}-{year}")
