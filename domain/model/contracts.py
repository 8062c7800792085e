"""A contract: one project with a client, its price, schedule and signatures.

Its total, current end and hours budget are rules on plain values (`contract_total`,
`current_end`, `hours_available`, `over_budget`), so the read models apply them to their rows
without building pydantic models (ADR-16); `Contract` applies the same ones. This module imports
no pydantic model for that reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from domain.model.calendar import LATEST, days_after
from domain.model.errors import BadInput, Refused

if TYPE_CHECKING:
    from domain.model.money import Money
    from domain.model.values import Evidence, Installment, Scope

MAX_INSTALLMENTS = 1000  # as `invoice issue --installment` counts them
CONTRACT_STATES = ("drafted", "signed_by_us", "signed_by_client", "in_force", "completed", "superseded")


def contract_total(price: Decimal, changes_total: Decimal | None) -> Decimal:
    """The contract is its base price plus every approved change (SPEC §1)."""
    return price if changes_total is None else price + changes_total


def current_end(end: date, extra_days: int) -> date:
    """The end date as approved changes moved it (a stored end near the calendar's end stops there)."""
    return days_after(end, extra_days)


HOUR_HUNDREDTH = Decimal("0.01")  # 36 seconds: the precision hours are logged with


def check_hours(hours: Decimal, what: str = "hours") -> Decimal:
    """Hours logged are kept to the hundredth of an hour, as an invoice line's quantity is printed:
    a third decimal (1.999) is a typo or a paste far more often than a timing to 3.6 seconds."""
    exponent = hours.normalize().as_tuple().exponent if hours.is_finite() else 0
    if isinstance(exponent, int) and exponent < -2:
        raise BadInput(f"{what} are kept to the hundredth of an hour (36 seconds), not {hours}: round it,"
                       " or write minutes as 0:45")
    return hours


def hours_and_minutes(hours: int, minutes: int) -> Decimal:
    """3:20 as hours, rounded half-up to the hundredth (0:20 is 0.33 h, 0:01 is 0.02 h, 3:30 is 3.5 h)."""
    value = (Decimal(hours) + Decimal(minutes) / 60).quantize(HOUR_HUNDREDTH, rounding=ROUND_HALF_UP)
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def hours_available(budget: Decimal | None, extra_hours: Decimal) -> Decimal | None:
    """The paid hours: the budget plus the hours of approved changes; None without a budget."""
    return None if budget is None else budget + extra_hours


def over_budget(logged: Decimal, available: Decimal | None) -> bool:
    """Hours logged beyond the paid ones, which call for a change request."""
    return available is not None and logged > available


@dataclass
class Signature:
    party: str
    signer: str
    method: str
    on: date
    certificate_subject: str = ""
    certificate_fingerprint: str = ""
    document_sha256: str = ""
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class Contract:
    id: str
    title: str
    scope: Scope
    price: Money
    hours_budget: Decimal | None
    start: date
    end: date
    installments: list[Installment]
    our_duties: list[str]
    client_duties: list[str]
    terms_version: int | None
    drafted_on: date
    payment_method: str = "bank transfer"
    state: str = "drafted"
    signatures: dict[str, Signature] = field(default_factory=dict)
    approved_changes: list[str] = field(default_factory=list)
    changes_total: Money | None = None
    extra_hours: Decimal = Decimal(0)
    extra_days: int = 0
    hours_logged: Decimal = Decimal(0)
    completed_on: date | None = None

    @property
    def total(self) -> Money:
        """Base price plus every approved change."""
        from domain.model.money import Money  # loaded by then: the price is one

        changes = self.changes_total.amount if self.changes_total is not None else None
        return Money(amount=contract_total(self.price.amount, changes), currency=self.price.currency)

    @property
    def hours_available(self) -> Decimal | None:
        return hours_available(self.hours_budget, self.extra_hours)

    @property
    def is_over_budget(self) -> bool:
        return over_budget(self.hours_logged, self.hours_available)

    @property
    def current_end(self) -> date:
        return current_end(self.end, self.extra_days)

    @property
    def in_force_on(self) -> date | None:
        """The day the second signature put the contract in force."""
        if len(self.signatures) < 2:
            return None
        return max(signature.on for signature in self.signatures.values())

    @property
    def last_step(self) -> tuple[str, date]:
        """What a contract drafted after it follows, and its day: its latest step (the draft, a
        signature, the completion), so a new contract is not dated inside the old one's life (ADR-67)."""
        if self.completed_on is not None:
            return f"contract {self.id} was completed", self.completed_on
        if self.in_force_on is not None:
            return f"contract {self.id} came into force", self.in_force_on
        steps = [(f"contract {self.id} was drafted", self.drafted_on)]
        steps += [(f"contract {self.id} was signed by {_side(s.party)}", s.on) for s in self.signatures.values()]
        return max(steps, key=lambda step: step[1])  # the draft on a tie: it came first

    @property
    def is_open_for_work(self) -> bool:
        return self.state == "in_force"

    def installment(self, n: int) -> Installment:
        for installment in self.installments:
            if installment.n == n:
                return installment
        numbers = ", ".join(str(i.n) for i in self.installments)
        raise Refused(f"contract {self.id} has no installment {n} (it has {numbers})")

    def check_signable(self, party: str) -> None:
        if self.state == "superseded":
            raise Refused(
                f"contract {self.id} was superseded by a newer draft and can no longer be signed"
            )
        if self.state in ("in_force", "completed"):
            raise Refused(f"contract {self.id} is already signed by both parties")
        if party in self.signatures:
            raise Refused(f"contract {self.id} is already signed by {_side(party)}")

    def sign(self, signature: Signature) -> None:
        self.signatures[signature.party] = signature
        self.state = "in_force" if len(self.signatures) == 2 else f"signed_by_{signature.party}"

    def check_in_force(self, doing: str) -> None:
        if self.state != "in_force":
            raise Refused(f"contract {self.id} is {self.state.replace('_', ' ')}: cannot {doing}")

    def check_extension(self, change_id: str, days: int | None) -> None:
        """Approving a change never moves the end beyond the calendar (domain/model/calendar.py)."""
        if days and days_after(self.current_end, days) > LATEST:
            raise Refused(f"change {change_id} would move the end of contract {self.id} from {self.current_end}"
                          f" past {LATEST}, beyond the dates tratos keeps")

    def add_change(self, change_id: str, price: Money, hours: Decimal | None, days: int | None) -> None:
        self.approved_changes.append(change_id)
        self.changes_total = price if self.changes_total is None else self.changes_total + price
        self.extra_hours += hours or 0
        self.extra_days += days or 0


def check_schedule(price: Money, installments: list[Installment]) -> None:
    """Installments must add up to the price exactly, in its currency."""
    if not installments:
        raise Refused("a contract needs at least one installment")
    numbers = [i.n for i in installments]
    if len(set(numbers)) != len(numbers) or min(numbers) < 1 or max(numbers) > MAX_INSTALLMENTS:
        raise Refused(
            f"installments must be numbered 1, 2, 3… once each, not {', '.join(map(str, numbers))}"
        )
    for installment in installments:
        if installment.amount.currency != price.currency:
            raise Refused(
                f"installment {installment.n} is in {installment.amount.currency},"
                f" the price in {price.currency}"
            )
        if not installment.amount.is_positive:
            raise Refused(f"installment {installment.n} must be a positive amount")
    scheduled = sum((i.amount.amount for i in installments), Decimal(0))
    gap = price.amount - scheduled
    if gap:
        direction = "short of" if gap > 0 else "over"
        raise Refused(
            f"installments add up to {scheduled} {price.currency}, {abs(gap)} {price.currency}"
            f" {direction} the price of {price}"
        )


def check_due_order(installments: list[Installment]) -> None:
    """Installments are numbered as they fall due: installment 2 is not due before installment 1 (ADR-67)."""
    ordered = sorted(installments, key=lambda i: i.n)
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if later.due < earlier.due:
            raise Refused(f"installment {later.n} is due on {later.due}, before installment {earlier.n}"
                          f" ({earlier.due}): give the installments in the order they fall due")


def _side(party: str) -> str:
    return "us" if party == "us" else "the client"
