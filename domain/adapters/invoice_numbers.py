"""Every invoice number across streams: what a series assigned, what a client issued, what a billing
record registers or cancels, and what a client voided, must agree number by number.

Each stream is re-decided (import) or chained (audit) on its own (ADR-24), so a series that gives
acme's number to north-wind folds as well as the true one, and a stream deleted whole (a series, a
client, rows and head together) leaves every other chain holding. Only the numbers tell: the
series' numbers then have no invoice, an invoice no number, a billing record no invoice, and a
series started again gives a number twice. One pass over the log in order, a few
texts per number; used by import over the file and by the audit over the store (ADR-84). It reads
the states as stored, so both can use it; the caller's places (a file line, a stream version) are
given back with each problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.model.streams import NUMBERINGS

_INVOICES = frozenset({"InvoiceIssued", "InvoiceCorrected"})


@dataclass(frozen=True)
class NumberProblem:
    """A number the streams disagree on: where (the caller's place) and what."""

    place: Any
    problem: str


@dataclass
class _Side:
    """What one side (the series, or the client's stream) says of a number."""

    holder: str  # the client's handle
    place: Any
    on: str  # the business date, as stored
    corrective: bool


@dataclass
class InvoiceNumbers:
    """Fed every event of the log in order (`note`); says at the end where the numbers disagree.

    `in_order`: a billing record must follow its invoice (import: the file is the log as exported).
    The audit asks only that it have one: a stream rewritten by hand is appended to the log after
    the records that name its invoices, and saying so is the chains' and the anchors' work."""

    in_order: bool = True
    assigned: dict[str, _Side] = field(default_factory=dict)
    issued: dict[str, _Side] = field(default_factory=dict)
    voided: dict[str, tuple[str, Any]] = field(default_factory=dict)  # number -> (handle, place)
    registered: dict[str, Any] = field(default_factory=dict)  # number -> place of its registration record
    records_cancelled: set[str] = field(default_factory=set)
    early: list[NumberProblem] = field(default_factory=list)  # found as the log is read

    def note(self, kind: str, state: dict[str, Any], place: Any, holder: str) -> None:
        """`holder`: the handle of the client whose stream the event is on (for a client's events)."""
        number = str(state.get("invoice_number"))
        if kind in NUMBERINGS:
            if number in self.assigned:  # a series' stream removed and started again
                self.early.append(NumberProblem(place, f"the series assigns {number} a second time"))
            self.assigned[number] = _Side(str(state.get("handle")), place, str(state.get("occurred_on")),
                                          kind == "CorrectiveNumberAssigned")
        elif kind in _INVOICES:
            if number in self.issued:
                self.early.append(NumberProblem(place, f"{holder!r} issues {number}, which"
                                                       f" {self.issued[number].holder!r} issued already"))
            self.issued[number] = _Side(holder, place, str(state.get("occurred_on")), kind == "InvoiceCorrected")
        elif kind == "InvoiceCancelled":
            self.voided[number] = (holder, place)
        elif kind == "InvoiceRegistered":
            if number in self.registered:
                self.early.append(NumberProblem(place, f"the billing records register {number} a second time"))
            elif number not in self.issued and self.in_order:  # an invoice is saved before its record
                self.early.append(NumberProblem(place, f"the billing record of {number} records an invoice no"
                                                       " client issued before it"))
            self.registered[number] = place
        elif kind == "InvoiceRegistrationCancelled":
            self.records_cancelled.add(number)

    def problems(self) -> list[NumberProblem]:
        """Every disagreement, in the order of the places that say them (the series' first)."""
        found = []
        for number, side in self.assigned.items():
            issued = self.issued.get(number)
            if issued is None:
                found.append(NumberProblem(side.place, f"the series assigns {number} to {side.holder!r}, and no"
                                                       " client issued it"))
            elif issued.holder != side.holder:
                found.append(NumberProblem(side.place, f"the series assigns {number} to {side.holder!r}, but"
                                                       f" {issued.holder!r} issued it{_at(issued)}"))
            # the series orders invoice dates by their numbers: it must hold the invoice's own date
            elif issued.on != side.on:
                found.append(NumberProblem(side.place, f"the series assigns {number} on {side.on}, but it was"
                                                       f" issued on {issued.on}{_at(issued)}"))
            elif issued.corrective != side.corrective:
                numbered, made = ("a corrective", "an invoice") if side.corrective else (
                    "an invoice", "a corrective invoice")
                found.append(NumberProblem(side.place, f"the series numbers {number} as {numbered}, but"
                                                       f" {side.holder!r} issued {made} with it{_at(issued)}"))
        found += [NumberProblem(side.place, f"{side.holder!r} issued {number}, which no series assigned")
                  for number, side in self.issued.items() if number not in self.assigned]
        # an invoice is void only with its billing record cancelled, in the same transaction (ADR-66)
        found += [NumberProblem(place, f"{holder!r} cancels {number}, and no billing record cancels it")
                  for number, (holder, place) in self.voided.items() if number not in self.records_cancelled]
        if not self.in_order:
            found += [NumberProblem(place, f"the billing record of {number} records an invoice no client issued")
                      for number, place in self.registered.items() if number not in self.issued]
        return found + self.early


def _at(side: _Side) -> str:
    """Where the other side is, when it is a file line (import's); a stream version is its own line in the audit."""
    return f" (line {side.place})" if isinstance(side.place, int) else ""
