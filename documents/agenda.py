"""The calendar of what is due, as an iCalendar file (.ics, RFC 5545) any calendar imports.

One all-day event per date a freelancer must act on or watch: each installment's date, each
invoice's due date, each contract's end (with the days its approved changes added), and the
day by which each reported mistake must be answered (the terms' response time). Every event
has a UID made of the client's handle, what it is about and its id, the same on every export,
and a SEQUENCE that is the relationship's stream version: importing a newer file updates the
events a calendar holds instead of adding them again (ADR-46). Read from the projections'
status only; the words are the catalog's (`cal.*`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from documents.i18n import N_, Formatter

PRODID = "-//tratos//calendar of what is due//EN"
UID_DOMAIN = "tratos"
TEXTS = (N_("cal.contract_end"), N_("cal.installment"), N_("cal.invoice_due"), N_("cal.mistake_answer"),
         N_("cal.follow_up"))


@dataclass(frozen=True)
class Due:
    """One event of the calendar: its stable UID, its day, what it says."""

    uid: str
    day: date
    summary: str
    description: str
    sequence: int

    def as_dict(self) -> dict[str, Any]:
        return {"uid": self.uid, "date": self.day.isoformat(), "summary": self.summary,
                "description": self.description, "sequence": self.sequence}


def uid(handle: str, what: str, ref: str) -> str:
    return f"{handle}.{what}.{ref}@{UID_DOMAIN}"


def dues(status: dict[str, Any], fmt: Formatter) -> list[Due]:
    """What is due in one relationship (its `status` view), in date order."""
    handle, version = status["handle"], status["version"]
    name = status["name"]
    found: list[Due] = []

    def add(what: str, ref: str, day: str, key: str, **words: Any) -> None:
        text = fmt.t(key, client=name, **words).unescape()
        found.append(Due(uid(handle, what, ref), date.fromisoformat(day), f"{handle}: {text}", text, version))

    for contract in status["contracts"]:
        if contract["state"] != "superseded":
            add("contract-end", contract["id"], contract["end"], "cal.contract_end", contract=contract["id"],
                title=contract["title"])
    for installment in status["installments"]:
        add("installment", f"{installment['contract']}-{installment['n']}", installment["due"], "cal.installment",
            n=installment["n"], contract=installment["contract"], amount=_money(fmt, installment["amount"]))
    for invoice in status["invoices"]:
        if not any(c["void"] for c in invoice["corrections"]) and not invoice.get("cancelled_on"):  # void: not due
            add("invoice-due", invoice["number"], invoice["due"], "cal.invoice_due", invoice=invoice["number"],
                amount=_money(fmt, invoice["outstanding"]))
    for step in follow_up_steps(status):
        add("follow-up", f"{step.subject}-{step.step}", step.on.isoformat(), "cal.follow_up", about=step.subject,
            step=step.step, tone=fmt.t(f"tone.{step.tone}"))
    for mistake in status["mistakes"]:
        add("mistake-answer", mistake["id"], mistake["answer_by"], "cal.mistake_answer", mistake=mistake["id"],
            description=mistake["description"][:80])
    return sorted(found, key=lambda d: (d.day, d.uid))


def follow_up_steps(status: dict[str, Any]) -> list[Any]:
    """The steps of the latest terms' follow-up schedule (domain/model/follow_up.py): each unpaid
    invoice's reminders, each draft's and quote's chase, from the day the schedule was published."""
    from domain.model.follow_up import Schedule, chase_step, invoice_steps

    shown = status.get("follow_up")
    if not shown:
        return []
    since = date.fromisoformat(shown["since"])
    schedule = Schedule(tuple(shown["remind_before"]), tuple(shown["remind_after"]), shown["chase_after"], since)
    steps = []
    for invoice in status["invoices"]:
        if Decimal(invoice["outstanding"]["amount"]) > 0 and not any(c["void"] for c in invoice["corrections"]):
            steps += invoice_steps(invoice["number"], date.fromisoformat(invoice["due"]), schedule)
    for contract in status["contracts"]:
        if contract["state"] in ("drafted", "signed_by_us"):
            steps.append(chase_step(contract["id"], date.fromisoformat(contract["drafted_on"]), schedule))
    for change in status["changes"]:
        if change["state"] == "quoted" and change["quoted_on"]:
            steps.append(chase_step(change["id"], date.fromisoformat(change["quoted_on"]), schedule))
    return [step for step in steps if step is not None and step.on >= since]


def _money(fmt: Formatter, value: dict[str, str]) -> str:
    return fmt.amount(Decimal(value["amount"]), value["currency"])


def calendar_file(dues_: Iterable[Due], *, name: str, stamp: date) -> bytes:
    """The .ics bytes; `stamp` (the business date) is every event's DTSTAMP, so the same store
    and date give the same file."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    stamped = datetime.combine(stamp, time(0, 0), tzinfo=UTC)
    for due in dues_:
        event = Event()
        event.add("uid", due.uid)
        event.add("dtstamp", stamped)
        event.add("sequence", due.sequence)
        event.add("dtstart", due.day)
        event.add("dtend", due.day + timedelta(days=1))
        event.add("summary", due.summary)
        event.add("description", due.description)
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()
