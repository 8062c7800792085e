"""Invoices of a relationship, and the business-wide series that numbers them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from functools import singledispatchmethod

from domain.model.balance import is_overdue
from domain.model.chain import ChainedAggregate
from domain.model.choices import DEFAULT_SERIES  # noqa: F401  (re-exported)
from domain.model.errors import CurrencyMismatch, Refused
from domain.model.events import (
    Billed,
    CorrectiveNumberAssigned,
    InvoiceCorrected,
    InvoiceNumberAssigned,
)
from domain.model.money import Money
from domain.model.streams import series_id  # noqa: F401  (re-exported)


@dataclass
class Invoice:
    """An issued invoice: `amount` is what it made payable, `base` what it billed before taxes;
    corrective invoices change what is payable on it (`payable`), never the invoice itself."""

    number: str
    contract_id: str
    amount: Money
    issued_on: date
    due: date
    installment: int | None = None
    change_id: str | None = None
    concept: str = ""
    payments: list[tuple[date, Money]] = field(default_factory=list)
    late_since: date | None = None
    reminders: list[date] = field(default_factory=list)
    terms_version: int | None = None  # the terms that govern it (`late_fees.governing_terms`)
    base: Money | None = None
    issued: Billed | None = None  # the event, as the documents print it
    corrections: list[InvoiceCorrected] = field(default_factory=list)
    cancelled_on: date | None = None  # its billing record was cancelled: issued in error, void (ADR-66)

    @property
    def voided(self) -> bool:
        return any(correction.void for correction in self.corrections)

    @property
    def payable(self) -> Money:
        if self.cancelled_on is not None:  # issued in error: it never owed anything
            return Money.zero(self.amount.currency)
        total = self.amount
        for correction in self.corrections:
            total = total + correction.amount
        return total

    @property
    def billed_base(self) -> Money:
        """The tax base billed, corrections included: what counts against a contract or a change."""
        if self.cancelled_on is not None:
            return Money.zero(self.amount.currency)
        total = self.base if self.base is not None else self.amount
        for correction in self.corrections:
            for vat in correction.taxes:
                total = total + vat.base
        return total

    @property
    def paid(self) -> Money:
        total = Money.zero(self.amount.currency)
        for _, amount in self.payments:
            total = total + amount
        return total

    @property
    def outstanding(self) -> Money:
        return self.payable - self.paid

    @property
    def is_settled(self) -> bool:
        return self.outstanding.is_zero

    def is_overdue(self, on: date) -> bool:
        return is_overdue(self.due, self.outstanding.amount, on)

    def check_live(self) -> None:
        """A cancelled invoice is void: nothing is recorded against it any more."""
        if self.cancelled_on is not None:
            raise Refused(f"the billing record of {self.number} was cancelled on {self.cancelled_on}: the invoice"
                          " is void, no payment, reminder, correction or PDF can be recorded against it")

    def reached_client(self) -> str:
        """How the relationship shows the invoice reached the client, "" if it does not (ADR-66)."""
        if self.payments:
            return f"a payment of it was received on {self.payments[0][0]}"
        if self.reminders:
            return f"a reminder of it was sent on {self.reminders[0]}"
        if self.corrections:
            return f"it is corrected by {self.corrections[0].invoice_number}"
        return ""

    def check_payment(self, amount: Money, on: date) -> None:
        if amount.currency != self.amount.currency:
            raise CurrencyMismatch(
                f"invoice {self.number} is in {self.amount.currency}; a payment in"
                f" {amount.currency} cannot settle it"
            )
        if not amount.is_positive:
            raise Refused("a payment must be a positive amount")
        if on < self.issued_on:
            raise Refused(f"payment dated {on}, before invoice {self.number} was issued ({self.issued_on})")
        if amount > self.outstanding:
            raise Refused(
                f"payment of {amount} is more than the {self.outstanding} outstanding on {self.number}"
            )

    def check_late(self, on: date) -> None:
        if self.late_since is not None:
            raise Refused(f"invoice {self.number} is already marked late since {self.late_since}")
        if not self.is_overdue(on):
            raise Refused(f"invoice {self.number} is not overdue on {on} (due {self.due})")

    def check_remindable(self, on: date) -> None:
        self.check_live()
        if self.voided:
            raise Refused(f"invoice {self.number} was voided: no reminder to send")
        if not self.is_overdue(on):
            state = "paid" if not self.outstanding.is_positive else f"not due until {self.due}"
            raise Refused(f"invoice {self.number} is {state}: no reminder to send")


def invoice_number(series: str, year: int, sequence: int) -> str:
    return f"{series}-{year}-{sequence:03d}"


class InvoiceSeries(ChainedAggregate):
    """Correlative numbers for one series and year, with no gaps, across all clients.

    Saved in the same transaction as the relationship that issues the invoice,
    so a refused or conflicting command never consumes a number.
    """

    def __init__(self, id: uuid.UUID) -> None:
        super().__init__(id)
        self.last_sequence = 0
        self.last_date: date | None = None

    @classmethod
    def resume(cls, last: InvoiceNumberAssigned) -> InvoiceSeries:
        """The series as its last event left it, without replaying the events before it.

        A series numbers every invoice of a year across all clients, so its stream grows with
        the whole business (120,000 events for 10,000 clients billed monthly), and replaying it
        for each invoice made `invoice issue` ten times slower on a store of a million events.
        Everything the series knows is in its last event (number, date, version, digest), so
        folding that one event gives the same state as folding them all: keep it that way (a
        field that depends on earlier events needs a real snapshot), tests/domain/test_series_resume.py
        checks it. The hash chain is not affected: the next number is chained to the last digest.
        """
        series = cls(last.originator_id)
        series.version = last.originator_version - 1
        series.apply(last)
        return series

    def assign(self, series: str, handle: str, on: date, actor: str, *, corrective: bool = False) -> str:
        numbering = CorrectiveNumberAssigned if corrective else InvoiceNumberAssigned
        if self.opened_by is not None and self.opened_by != numbering.__name__:
            used, asked = ("invoices", "corrective invoices") if corrective else ("corrective invoices", "invoices")
            raise Refused(f"the series {series}-{on.year} numbers {used} already; {asked} need a series of"
                          " their own (tratos identity invoicing)")
        if self.last_date and on < self.last_date:
            raise Refused(
                f"invoice dated {on} would precede {invoice_number(series, on.year, self.last_sequence)}"
                f" of {self.last_date}: invoice dates must follow their numbers"
            )
        sequence = self.last_sequence + 1
        number = invoice_number(series, on.year, sequence)
        self._record(numbering, series=series, year=on.year, sequence=sequence,
                     invoice_number=number, handle=handle, occurred_on=on, actor=actor)
        return number

    @singledispatchmethod
    def when(self, event: object) -> None:
        raise TypeError(f"unexpected event {type(event).__name__}")

    @when.register
    def _(self, event: InvoiceNumberAssigned) -> None:
        self.last_sequence = event.sequence
        self.last_date = event.occurred_on
