"""The follow-up schedule of the terms, and the steps it gives (issue 22, ADR-48).

A schedule says, in days relative to an invoice's due date, when to remind the client before
(`remind_before`) and after (`remind_after`) it falls due, and after how many days a contract
draft waiting for the client's signature or a quoted change waiting for approval is chased
(`chase_after`). A step is named by what it follows and its offset (`F-2026-001/after-7`), so
it can be sent once; its tone escalates: friendly before the due date and on the first step
after, firm in between, and a final notice with the itemized statutory claim on the last.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.model.calendar import days_after
from domain.model.errors import BadInput

MAX_DAYS = 365
MAX_STEPS = 12
TONES = ("friendly", "firm", "final", "chase")


@dataclass(frozen=True)
class Schedule:
    remind_before: tuple[int, ...] = ()
    remind_after: tuple[int, ...] = ()
    chase_after: int | None = None
    since: date = date.min  # the day it was published: no step falls before it

    @property
    def empty(self) -> bool:
        return not (self.remind_before or self.remind_after or self.chase_after)


@dataclass(frozen=True, order=True)
class Step:
    """One message of the schedule: on which day, about what, which step, in which tone."""

    on: date
    subject: str  # the invoice number, or the contract (K1) or change (C1) chased
    step: str     # before-3, after-7, chase-5
    tone: str

    @property
    def key(self) -> str:
        return f"{self.subject}/{self.step}"


def check_follow_up_schedule(remind_before: Iterable[int], remind_after: Iterable[int],
                   chase_after: int | None) -> Schedule:
    """Days from 1 to 365, each once, at most 12 steps a side; kept in order."""
    sides = []
    for days, what in ((remind_before, "--remind-before"), (remind_after, "--remind-after")):
        days = list(days)
        if len(days) > MAX_STEPS:
            raise BadInput(f"{what} gives at most {MAX_STEPS} steps, not {len(days)}")
        for day in days:
            if not (type(day) is int and 1 <= day <= MAX_DAYS):
                raise BadInput(f"{what} days are 1 to {MAX_DAYS}, not {day!r}")
        if len(set(days)) != len(days):
            raise BadInput(f"{what} names a day twice: {days}")
        sides.append(tuple(sorted(days)))
    if chase_after is not None and not (type(chase_after) is int and 1 <= chase_after <= MAX_DAYS):
        raise BadInput(f"--chase-after is 1 to {MAX_DAYS} days, not {chase_after!r}")
    return Schedule(sides[0], sides[1], chase_after)


def invoice_steps(number: str, due: date, schedule: Schedule) -> list[Step]:
    """Every step of an invoice's reminders, in date order, with its tone."""
    steps = [Step(days_after(due, -days), number, f"before-{days}", "friendly")
             for days in sorted(schedule.remind_before, reverse=True)]
    after = schedule.remind_after
    for n, days in enumerate(after):
        tone = "final" if n == len(after) - 1 and len(after) > 1 else "friendly" if n == 0 else "firm"
        steps.append(Step(days_after(due, days), number, f"after-{days}", tone))
    return steps


def chase_step(subject: str, since: date, schedule: Schedule) -> Step | None:
    """The one chase of a draft or a quote waiting for the client since `since`, if the schedule has one."""
    if schedule.chase_after is None:
        return None
    return Step(days_after(since, schedule.chase_after), subject, f"chase-{schedule.chase_after}", "chase")


def due_steps(relationship: Any, today: date) -> Iterator[Step]:
    """The steps of `relationship` due by `today` and not yet sent nor claimed, oldest first.

    The schedule is the latest terms': how the freelancer follows up is a practice, not a clause a
    contract pins (the late fee it claims is the governing terms', `late_fees.invoice_claim`), so
    a schedule published later applies to the invoices still unpaid. An invoice settled or voided
    has no more steps; a step dated before the schedule was published is none (the schedule did not
    exist: nothing was missed); a draft signed by the client, or a change decided or withdrawn, is no
    longer chased.
    """
    latest = relationship.schedule_for(None)
    if latest is None:
        return
    found: list[Step] = []
    for invoice in relationship.invoices.values():
        if not invoice.voided and invoice.outstanding.is_positive:
            found += invoice_steps(invoice.number, invoice.due, latest)
    if latest.chase_after is not None:
        for contract in relationship.contracts.values():
            if contract.state in ("drafted", "signed_by_us"):
                found.append(chase_step(contract.id, contract.drafted_on, latest))
        for change in relationship.changes.values():
            if change.state == "quoted" and change.quoted_on is not None:
                found.append(chase_step(change.id, change.quoted_on, latest))
    for step in sorted(s for s in found if s is not None):
        if latest.since <= step.on <= today and step.key not in relationship.follow_ups:
            yield step
