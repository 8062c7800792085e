"""The daily check: mark late payments once, and list what needs action today."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from domain.model.errors import Refused

if TYPE_CHECKING:
    from domain.services.application import Tratos


class Outstanding(Protocol):
    """What the check reads: the read models (projections/), passed in by the caller."""

    def unmarked_late(self, today: date) -> list[dict[str, Any]]: ...

    def actions(self, today: date) -> list[dict[str, Any]]: ...

    def catch_up(self) -> Any: ...

    def as_it_stood(self, day: date) -> AbstractContextManager[Outstanding]: ...


def run_check(app: Tratos, models: Outstanding, today: date) -> dict[str, Any]:
    """Record PaymentLate once per overdue invoice not yet marked, then list what needs action.

    Idempotent: an invoice marked late is never marked again, so a second run on the same
    day records nothing. Events dated after `today` (an old store, an import) do not count.
    """
    marked = []
    with models.as_it_stood(today) as record:
        overdue = record.unmarked_late(today)
    for item in overdue:
        try:
            app.mark_late(item["handle"], item["invoice"], on=today)
        except Refused:  # another process marked it (or paid it) since the read models were read
            continue
        marked.append(item)
    if marked:
        models.catch_up()
    with models.as_it_stood(today) as record:
        return {"today": today.isoformat(), "marked_late": marked, "actions": record.actions(today)}
