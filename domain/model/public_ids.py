"""The short id people type for what an event is about (O2, F-2026-001, C1, M1, K1)."""

from __future__ import annotations

from typing import Any

# The first of these an event has (and fills) names it: a remedy option before its mistake, an
# invoice before the change it bills, a change or mistake before its contract.
ID_FIELDS = ("option_id", "invoice_number", "change_id", "mistake_id", "contract_id")

_FIELDS_OF: dict[type, tuple[str, ...]] = {}


def public_id(event: Any) -> str | None:
    """The id of what `event` is about, as commands confirm it, the timeline shows it and the
    dossier's evidence index cites it; None for events about the relationship as a whole."""
    cls = type(event)
    fields = _FIELDS_OF.get(cls)
    if fields is None:
        declared = getattr(cls, "model_fields", None)
        fields = tuple(f for f in ID_FIELDS if declared is None or f in declared)
        if declared is not None:  # an event class: the same fields for every instance
            _FIELDS_OF[cls] = fields
    for name in fields:
        value = getattr(event, name, None)
        if value:
            return value
    return None
