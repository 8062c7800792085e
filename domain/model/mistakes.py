"""A mistake, ours or the client's: acknowledged, diagnosed, remedied, learned from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from domain.model.errors import Refused, UnknownReference
from domain.model.money import Money
from domain.model.values import Evidence

MISTAKE_STATES = (
    "reported", "acknowledged", "diagnosed", "remedy_proposed", "remedy_chosen", "resolved",
)


@dataclass
class RemedyOption:
    id: str
    description: str
    cost: Money | None
    hours: Decimal | None
    proposed_on: date


@dataclass
class Mistake:
    id: str
    contract_id: str | None
    description: str
    reported_by: str
    reported_on: date
    evidence: list[Evidence] = field(default_factory=list)
    state: str = "reported"
    acknowledged_on: date | None = None
    apology: str = ""
    fault: str | None = None
    cause: str = ""
    category: str = ""
    options: dict[str, RemedyOption] = field(default_factory=dict)
    chosen: str | None = None
    agreed: bool | None = None
    resolved_on: date | None = None
    lesson: str = ""
    last_step: tuple[str, date] | None = None  # what the next step follows, and its day (`step`)

    def __post_init__(self) -> None:
        self.last_step = self.last_step or (f"mistake {self.id} was reported", self.reported_on)

    def step(self, what: str, on: date) -> None:
        """Fold a step of its life: the latest one is what the next must not be dated before."""
        if self.last_step is None or on >= self.last_step[1]:
            self.last_step = (what, on)

    def _require(self, states: tuple[str, ...], doing: str) -> None:
        self._not_resolved(f"cannot {doing}")
        if self.state not in states:
            raise Refused(f"mistake {self.id} is {self.state.replace('_', ' ')}: cannot {doing}")

    def _not_resolved(self, then: str) -> None:
        """A resolved mistake is closed: said with the day it was, whatever was asked of it."""
        if self.state == "resolved":
            raise Refused(f"mistake {self.id} was already resolved on {self.resolved_on}: {then}")

    def check_acknowledgeable(self) -> None:
        self._require(("reported",), "acknowledge it again")

    def check_diagnosable(self) -> None:
        if self.state == "reported":
            raise Refused(f"mistake {self.id} is not acknowledged yet: acknowledge it before the diagnosis")
        self._require(("acknowledged",), "diagnose it again")

    def check_proposable(self) -> None:
        if self.state in ("reported", "acknowledged"):
            raise Refused(f"mistake {self.id} is not diagnosed: find the cause before proposing remedies")
        self._require(("diagnosed", "remedy_proposed"), "propose more remedies")

    def check_choosable(self, option_id: str) -> None:
        if option_id not in self.options:
            known = ", ".join(self.options) or "none yet"
            if not (option_id or "").strip():
                raise UnknownReference(f"an option id is empty (proposed: {known})")
            raise UnknownReference(f"mistake {self.id} has no option {option_id} (proposed: {known})")
        self._require(("remedy_proposed",), "choose another remedy")

    def check_resolvable(self) -> None:
        self._not_resolved("there is nothing left to resolve")
        if self.state != "remedy_chosen":
            raise Refused(
                f"mistake {self.id} is {self.state.replace('_', ' ')}: choose a remedy before resolving it"
            )

    def check_lesson(self) -> None:
        if self.state in ("reported", "acknowledged"):
            raise Refused(f"mistake {self.id} is not diagnosed: a lesson needs the cause first")
        if self.lesson:
            raise Refused(f"mistake {self.id} already has its lesson")

    @property
    def is_open(self) -> bool:
        return self.state != "resolved"

    def days_to_acknowledge(self) -> int | None:
        return None if self.acknowledged_on is None else (self.acknowledged_on - self.reported_on).days
