"""The daily check: mark late payments once, list what needs action today, and say when the
reference-rate table of this release is older than today's half-year."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from domain.model.chain import BrokenChain
from domain.model.errors import Refused
from domain.model.reference_rates import HALF_YEAR_RATES, LAST_HALF_YEAR, half_year_of

if TYPE_CHECKING:
    from domain.services.application import Tratos


class Outstanding(Protocol):
    """What the check reads: the read models (projections/), passed in by the caller."""

    def unmarked_late(self, today: date) -> list[dict[str, Any]]: ...

    def actions(self, today: date) -> list[dict[str, Any]]: ...

    def rate_table_clients(self) -> list[str]: ...

    def catch_up(self) -> Any: ...

    def as_it_stood(self, day: date) -> AbstractContextManager[Outstanding]: ...

    def latest_on(self) -> date | None: ...


def run_check(app: Tratos, models: Outstanding, today: date) -> dict[str, Any]:
    """Record PaymentLate once per overdue invoice not yet marked, then list what needs action.

    Idempotent: an invoice marked late is never marked again, so a second run on the same
    day records nothing. Events dated after `today` (an old store, an import) do not count.
    A client whose chain does not verify is not marked (nothing is decided on an edited history,
    ADR-64) and is named in `broken`, which the command says as its error: the list is still shown.
    """
    marked, broken = [], {}
    with models.as_it_stood(today) as record:
        overdue = record.unmarked_late(today)
    for item in overdue:
        if item["handle"] in broken:
            continue
        try:
            app.mark_late(item["handle"], item["invoice"], on=today)
        except BrokenChain as error:
            broken[item["handle"]] = str(error)
            continue
        except Refused:  # another process marked it (or paid it) since the read models were read
            continue
        marked.append(item)
    if marked:
        models.catch_up()
    with models.as_it_stood(today) as record:
        return {"today": today.isoformat(), "marked_late": marked, "actions": record.actions(today),
                "warnings": _rate_table_warnings(record, today) + _later_warnings(models),
                "broken": [{"handle": handle, "detail": detail} for handle, detail in broken.items()]}


def _later_warnings(models: Outstanding) -> list[dict[str, Any]]:
    """A warning when the store holds events dated after this machine's today (ADR-26): today's list
    leaves them out, while a command that records counts them (a payment dated later is received)."""
    from domain.adapters.clock import business_today

    today = business_today()
    latest = models.latest_on()
    if latest is None or latest <= today:
        return []
    return [{
        "kind": "dated_after_today", "latest": latest.isoformat(),
        "detail": f"the store holds events dated after {today.isoformat()}, up to {latest.isoformat()}:"
                  f" this list leaves them out, the commands that record count them; if this machine's"
                  " date is behind, correct its clock",
    }]


def _rate_table_warnings(record: Outstanding, today: date) -> list[dict[str, Any]]:
    """A warning when `today`'s half-year is later than the table's last and some terms use the
    table: invoices falling due now accrue interest at a rate that may no longer be the ECB's."""
    current = half_year_of(today)
    if current <= LAST_HALF_YEAR:
        return []
    clients = record.rate_table_clients()
    if not clients:
        return []
    rate = HALF_YEAR_RATES[-1][1]
    return [{
        "kind": "reference_rate_table", "table_ends": LAST_HALF_YEAR.isoformat(),
        "half_year": current.isoformat(), "rate": str(rate), "clients": clients,
        "detail": f"the reference-rate table ends with the half-year of {LAST_HALF_YEAR.isoformat()}, and"
                  f" {today.isoformat()} is in the one of {current.isoformat()}: statutory interest for"
                  f" {', '.join(clients)} uses its last rate ({rate}%) for invoices due since then;"
                  " update tratos, or publish terms with --reference-rate",
    }]
