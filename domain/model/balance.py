"""What a client owes: invoiced, paid, outstanding, and what of it is overdue on a given day.

The rules work on plain Decimals and dates, so the read models apply them to their rows
without building the domain's pydantic models (ADR-16); the aggregate's invoices apply the
same ones to `Money`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import NamedTuple


def is_overdue(due: date, outstanding: Decimal, on: date) -> bool:
    """An invoice is overdue from the day after its due date for as long as anything is unpaid."""
    return on > due and outstanding > 0


class Balance(NamedTuple):
    """The money of one currency: what was invoiced and paid, what is owed, and how much of it late."""

    invoiced: Decimal
    paid: Decimal
    outstanding: Decimal
    overdue: Decimal


def balance(invoices: Iterable[tuple[Decimal, Decimal, bool]]) -> Balance:
    """The balance of invoices given as (amount, paid, overdue) in one currency.

    Overdue is what the client is late paying less what they paid above an invoice (one voided
    or lowered after it was paid): the credit is set off against the arrears first, and overdue
    is never negative. The client list works it out the same way from its totals
    (`projections.views.portfolio`). Late fees are a claim, not part of the balance until
    invoiced themselves (SPEC §3).
    """
    invoiced = paid = overdue = credit = Decimal(0)
    for amount, paid_on_it, late in invoices:
        invoiced += amount
        paid += paid_on_it
        if late:
            overdue += amount - paid_on_it
        elif paid_on_it > amount:
            credit += paid_on_it - amount
    return Balance(invoiced, paid, invoiced - paid, max(overdue - credit, Decimal(0)))
