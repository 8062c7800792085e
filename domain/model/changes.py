"""A change to the scope: requested, quoted, then approved or rejected, in writing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from domain.model.errors import Refused
from domain.model.money import Money
from domain.model.values import Evidence

CHANGE_STATES = ("requested", "quoted", "approved", "rejected", "withdrawn")


@dataclass
class Change:
    id: str
    contract_id: str
    description: str
    requested_by: str
    requested_on: date
    state: str = "requested"
    price: Money | None = None
    hours: Decimal | None = None
    days: int | None = None
    decided_on: date | None = None
    quoted_on: date | None = None
    evidence: list[Evidence] = field(default_factory=list)

    def check_quotable(self) -> None:
        if self.state != "requested":
            raise Refused(f"change {self.id} is {self.state}: only a requested change can be quoted")

    def check_decidable(self, verb: str) -> None:
        if self.state != "quoted":
            hint = ": quote it first" if self.state == "requested" else ""
            raise Refused(f"change {self.id} is {self.state}, not quoted: cannot {verb} it{hint}")

    def check_withdrawable(self) -> None:
        if self.state not in ("requested", "quoted"):
            raise Refused(f"change {self.id} is {self.state}: only an open change can be withdrawn")

    @property
    def is_open(self) -> bool:
        return self.state in ("requested", "quoted")

    @property
    def last_step(self) -> tuple[str, date]:
        """What the next step follows, and its day: the quote, else the request."""
        if self.quoted_on is not None:
            return f"change {self.id} was quoted", self.quoted_on
        return f"change {self.id} was requested", self.requested_on
