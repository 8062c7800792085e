"""Property: the read models answer with the model's rules, as the aggregate itself does.

For random histories recorded through the Application (terms published before or after the
contract, or only after its first invoices; invoices, partial payments, late marks, changes, hours, a second contract, the end),
`ReadModels.status(handle, today=D)` must say what `app.relationship(handle)` says on D, for
every rule that has one home in domain/model/: each contract's total, current end and hours
budget (contracts.py), each invoice's overdue flag, outstanding and late fee (balance.py,
late_fees.py), the balance per currency, and the public id of every event (public_ids.py).
Where the read side selects by a rule in SQL for speed (`portfolio`'s overdue, `unmarked_late`,
`actions`), its answer is held to the model's function too.

The days D include each invoice's due date and the day after, where overdue begins. Runs on
both backends; each example records a client of its own (and numbers its invoices in a series
of its own) in the test's one store.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.model.balance import Balance
from domain.model.errors import TratosError
from domain.model.late_fees import days_late, late_fee_claim
from domain.model.money import Money
from domain.model.public_ids import public_id
from domain.model.relationship import Relationship
from domain.model.streams import stream_id
from domain.model.values import Installment, LateFee, Party, Scope, Terms
from domain.services.application import Tratos
from projections import ReadModels

START = date(2025, 5, 1)  # histories cross 1 July 2025, when the table's rate went 3.15 -> 2.15
EXAMPLES = int(os.environ.get("TRATOS_RULES_EXAMPLES", "25"))
_examples = itertools.count(1)

fees = st.sampled_from([
    LateFee(kind="statutory-eu"), LateFee(kind="percent", percent=Decimal("2.5")),
    LateFee(kind="fixed", fixed=Money.of(40, "EUR")), LateFee(kind="none"),
])
rates = st.sampled_from([None, None, Decimal("4.50")])  # None: the half-year table's rate
MENU = ["invoice", "invoice", "pay", "pay", "time", "time", "late", "remind", "change", "change",
        "hours", "terms", "terms", "sign", "draft", "complete", "end"]


def as_json(amount: Money | None) -> dict[str, str] | None:
    """Money as the read models write it."""
    return None if amount is None else {"amount": str(amount.amount), "currency": amount.currency}


def in_money(owed: Balance | None, currency: str) -> dict[str, Any]:
    owed = owed or Balance(*[Decimal(0)] * 4)
    return {k: as_json(Money(amount=v, currency=currency)) for k, v in owed._asdict().items()}


class History:
    """One client's random history, recorded through the Application; refused commands are skipped."""

    def __init__(self, app: Tratos, draw: Any) -> None:
        n = next(_examples)
        self.app, self.draw = app, draw
        self.handle, self.series = f"rules-{n}", f"R{n}"
        self.today = START
        self.days: set[date] = {START}

    def attempt(self, command: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return command(self.handle, *args, **kwargs)
        except TratosError:
            return None

    @property
    def relationship(self) -> Relationship:
        return self.app.relationship(self.handle)

    def record(self) -> None:
        self.attempt(self.app.open_relationship, Party(name="Client"), on=self.today)
        terms = self.draw(st.sampled_from(["before", "after", "later"]), label="first terms published")
        if terms == "before":
            self.terms()
        self.contract()
        for party in self.draw(st.sampled_from([["us", "client"], ["us", "client"], ["us"]]), label="signed by"):
            self.attempt(self.app.sign_contract, party=party, signer="S", method="typed", on=self.today)
        if terms == "after":
            self.terms()
        for step in self.draw(st.lists(st.sampled_from(MENU), max_size=14), label="steps"):
            getattr(self, step)()
            self.days.add(self.today)

    def terms(self) -> None:
        self.attempt(self.app.publish_terms, Terms(late_fee=self.draw(fees), payment_days=self.draw(
            st.sampled_from([0, 10, 30])), reference_rate=self.draw(rates, label="reference rate")), on=self.today)

    def contract(self) -> None:
        price = Decimal(self.draw(st.sampled_from(["900", "1000.50", "7"]), label="price"))
        currency = self.draw(st.sampled_from(["EUR", "EUR", "USD"]), label="currency")
        parts = self.draw(st.integers(1, 3), label="installments")
        share = (price / parts).quantize(Decimal("0.01"))
        amounts = [share] * (parts - 1) + [price - share * (parts - 1)]
        installments = [Installment(n=i + 1, amount=Money.of(a, currency), due=self.today + timedelta(days=9 * i))
                        for i, a in enumerate(amounts)]
        self.attempt(self.app.draft_contract, title="Work", scope=Scope(description="Work"),
                     price=Money.of(price, currency), start=self.today,
                     end=self.today + timedelta(days=self.draw(st.sampled_from([0, 20, 60]))),
                     installments=installments, on=self.today,
                     hours_budget=self.draw(st.sampled_from([None, Decimal(10), Decimal("2.5")])))

    def draft(self) -> None:
        self.contract()

    def sign(self) -> None:
        self.attempt(self.app.sign_contract, party=self.draw(st.sampled_from(["us", "client"])), signer="S",
                     method="typed", on=self.today)

    def time(self) -> None:
        self.today += timedelta(days=self.draw(st.sampled_from([1, 9, 10, 31])))

    def invoice(self) -> None:
        contract = self.relationship.current_contract
        if contract is None:
            return
        billed = {i.installment for i in self.relationship.invoices.values() if i.contract_id == contract.id}
        n = next((i.n for i in contract.installments if i.n not in billed), None)
        due = self.draw(st.sampled_from([None, None, self.today, self.today + timedelta(days=3)]), label="due")
        if n is None or self.draw(st.booleans(), label="an amount"):
            self.attempt(self.app.issue_invoice, on=self.today, due=due, series=self.series,
                         amount=Money.of(self.draw(st.sampled_from(["50", "0.01"])), contract.price.currency))
        else:
            self.attempt(self.app.issue_invoice, on=self.today, due=due, installment=n, series=self.series)

    def _unpaid(self) -> list[str]:
        return [n for n, i in self.relationship.invoices.items() if i.outstanding.is_positive]

    def pay(self) -> None:
        unpaid = self._unpaid()
        if not unpaid:
            return
        number = self.draw(st.sampled_from(unpaid), label="invoice paid")
        owed = self.relationship.invoices[number].outstanding
        part = self.draw(st.sampled_from(["all", "half", "cent"]), label="part")
        amount = {"all": owed.amount, "half": (owed.amount / 2).quantize(Decimal("0.01")),
                  "cent": Decimal("0.01")}[part]
        self.attempt(self.app.record_payment, number, Money.of(amount, owed.currency), on=self.today)

    def late(self) -> None:
        if self.relationship.invoices:
            number = self.draw(st.sampled_from(sorted(self.relationship.invoices)), label="marked late")
            self.attempt(self.app.mark_late, number, on=self.today)

    def remind(self) -> None:
        unpaid = self._unpaid()
        if unpaid:
            self.attempt(self.app.send_reminder, self.draw(st.sampled_from(unpaid)), on=self.today)

    def change(self) -> None:
        changes = self.relationship.changes
        open_ = [c for c in changes.values() if c.state in ("requested", "quoted")]
        if not open_:
            self.attempt(self.app.request_change, "More", requested_by="client", on=self.today)
        elif open_[0].state == "requested":
            self.attempt(self.app.quote_change, open_[0].id, on=self.today,
                         price=Money.of(self.draw(st.sampled_from(["0", "150", "99.99"])),
                                        self.relationship.contracts[open_[0].contract_id].price.currency),
                         hours=self.draw(st.sampled_from([None, Decimal(2)])),
                         days=self.draw(st.sampled_from([None, 0, 3, 30])))
        else:
            decide = self.draw(st.sampled_from(["approve", "approve", "reject"]), label="decision")
            self.attempt(getattr(self.app, f"{decide}_change"), open_[0].id, on=self.today)

    def hours(self) -> None:
        self.attempt(self.app.log_hours, self.draw(st.sampled_from([Decimal("1.5"), Decimal(8)])), on=self.today)

    def complete(self) -> None:
        self.attempt(self.app.complete_contract, on=self.today)

    def end(self) -> None:
        if self.draw(st.integers(0, 2), label="end") == 0:
            self.attempt(self.app.end_relationship, reason="Done", ended_by="us", on=self.today)

    def days_to_check(self) -> list[date]:
        days = set(self.days) | {self.today + timedelta(days=d) for d in (1, 45, 400)}
        for invoice in self.relationship.invoices.values():
            days |= {invoice.due - timedelta(days=1), invoice.due, invoice.due + timedelta(days=1)}
        for contract in self.relationship.contracts.values():
            days |= {contract.current_end, contract.current_end + timedelta(days=1)}
        return sorted(days)


def agree_on(models: ReadModels, handle: str, relationship: Relationship, day: date) -> None:
    """What the read models say on `day` against what the aggregate says."""
    status = models.status(handle, today=day)
    where = f"{handle} on {day}"

    assert {c["id"] for c in status["contracts"]} == set(relationship.contracts), where
    for row in status["contracts"]:
        contract = relationship.contracts[row["id"]]
        assert row["total"] == as_json(contract.total), where
        assert row["end"] == contract.current_end.isoformat(), where
        available = None if row["hours_available"] is None else Decimal(row["hours_available"])
        assert available == contract.hours_available, where
        assert row["hours_over_budget"] == contract.is_over_budget, where

    assert {i["number"] for i in status["invoices"]} == set(relationship.invoices), where
    for row in status["invoices"]:
        invoice = relationship.invoices[row["number"]]
        overdue = invoice.is_overdue(day)
        assert row["late"] == overdue, (where, row["number"], row["due"])
        assert row["days_late"] == (days_late(invoice.due, day) if overdue else 0), where
        assert row["outstanding"] == as_json(invoice.outstanding), where
        assert row["terms_version"] == invoice.terms_version, where
        assert row["late_fee"] == as_json(late_fee_claim(relationship, invoice, day)), (where, row["number"])

    balances = relationship.balances(day)
    currency = status["currency"]
    assert status["balance"] == in_money(balances.get(currency), currency), where
    assert {b["currency"]: {k: v for k, v in b.items() if k != "currency"} for b in status["other_balances"]} \
        == {c: in_money(owed, c) for c, owed in balances.items() if c != currency}, where
    row = next(r for r in models.portfolio(today=day) if r["handle"] == handle)
    assert (row["outstanding"], row["overdue"]) == (status["balance"]["outstanding"],
                                                    status["balance"]["overdue"]), where

    unmarked = sorted(u["invoice"] for u in models.unmarked_late(day) if u["handle"] == handle)
    assert unmarked == sorted(n for n, i in relationship.invoices.items()
                              if i.is_overdue(day) and i.late_since is None), where

    actions = [a for a in models.actions(day) if a["handle"] == handle]
    late = {a["ref"]: (a["amount"], a["late_fee"]) for a in actions if a["kind"] == "late_payment"}
    assert late == {n: (as_json(i.outstanding), as_json(late_fee_claim(relationship, i, day)))
                    for n, i in relationship.invoices.items() if i.is_overdue(day)}, where
    past_end = {a["ref"]: a["date"] for a in actions if a["kind"] == "contract_past_end"}
    assert past_end == {c.id: c.current_end.isoformat() for c in relationship.contracts.values()
                        if c.state == "in_force" and c.current_end < day and relationship.ending is None}, where


def public_ids_agree(app: Tratos, models: ReadModels, handle: str) -> None:
    events = [app.mapper.to_domain_event(s) for s in app.recorder.select_events(stream_id(handle))]
    assert [(row["version"], row["ref"]) for row in models.timeline(handle)] \
        == [(e.originator_version, public_id(e)) for e in events]


@pytest.fixture
def models(app: Tratos) -> Iterator[ReadModels]:
    with ReadModels(app) as models:
        yield models


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_read_models_answer_with_the_models_rules(app: Tratos, models: ReadModels, data: st.DataObject) -> None:
    history = History(app, data.draw)
    history.record()
    models.catch_up()
    relationship = history.relationship
    for day in history.days_to_check():
        agree_on(models, history.handle, relationship, day)
    public_ids_agree(app, models, history.handle)


def test_terms_published_after_an_invoice_do_not_govern_it(app: Tratos, models: ReadModels) -> None:
    """A contract drafted before any terms: its invoice is governed by the terms published when it
    was issued, not by later ones, in `status` and in the reminder's claim alike (a case the
    random histories reach only now and then)."""
    handle, day = f"rules-terms-{next(_examples)}", START
    app.open_relationship(handle, Party(name="Client"), on=day)
    app.draft_contract(handle, title="Work", scope=Scope(description="Work"), price=Money.of(900, "EUR"),
                       start=day, end=day, installments=[Installment(n=1, amount=Money.of(900, "EUR"), due=day)],
                       on=day)
    for party in ("us", "client"):
        app.sign_contract(handle, party=party, signer="S", method="typed", on=day)
    app.publish_terms(handle, Terms(late_fee=LateFee(kind="fixed", fixed=Money.of(40, "EUR"))), on=day)
    number = app.issue_invoice(handle, installment=1, on=day, series=f"T{next(_examples)}").id
    app.publish_terms(handle, Terms(late_fee=LateFee(kind="percent", percent=Decimal(5))), on=day)
    models.catch_up()
    relationship, late = app.relationship(handle), day + timedelta(days=31)
    assert relationship.invoices[number].terms_version == 1
    assert late_fee_claim(relationship, relationship.invoices[number], late) == Money.of(40, "EUR")
    agree_on(models, handle, relationship, late)


def test_terms_without_a_rate_take_the_tables_in_status_and_in_the_reminder_alike(app: Tratos,
                                                                                  models: ReadModels) -> None:
    """Two invoices under terms that fix no reference rate, one due in June 2025 (the table's
    3.15 %) and one in July 2025 (2.15 %): the read models and the aggregate claim the same fees,
    worked out here by hand."""
    handle, day = f"rules-table-{next(_examples)}", START
    app.open_relationship(handle, Party(name="Client"), on=day)
    app.publish_terms(handle, Terms(late_fee=LateFee(kind="statutory-eu")), on=day)
    app.draft_contract(handle, title="Work", scope=Scope(description="Work"), price=Money.of(2000, "EUR"),
                       start=day, end=day, on=day,
                       installments=[Installment(n=1, amount=Money.of(1000, "EUR"), due=day),
                                     Installment(n=2, amount=Money.of(1000, "EUR"), due=day)])
    for party in ("us", "client"):
        app.sign_contract(handle, party=party, signer="S", method="typed", on=day)
    series = f"Y{next(_examples)}"
    june = app.issue_invoice(handle, installment=1, on=day, due=date(2025, 6, 30), series=series).id
    july = app.issue_invoice(handle, installment=2, on=day, due=date(2025, 7, 1), series=series).id
    models.catch_up()
    relationship, on = app.relationship(handle), date(2025, 7, 31)
    # June: 1000 x (3.15 + 8) % x 31/365 = 111.5 x 31/365 = 3456.5/365 = 9.4698 -> 9.47; + 40 = 49.47
    # July: 1000 x (2.15 + 8) % x 30/365 = 101.5 x 30/365 = 3045/365 = 8.3424 -> 8.34; + 40 = 48.34
    assert late_fee_claim(relationship, relationship.invoices[june], on) == Money.of("49.47", "EUR")
    assert late_fee_claim(relationship, relationship.invoices[july], on) == Money.of("48.34", "EUR")
    fees = {row["number"]: row["late_fee"] for row in models.status(handle, today=on)["invoices"]}
    assert fees == {june: {"amount": "49.47", "currency": "EUR"}, july: {"amount": "48.34", "currency": "EUR"}}
    agree_on(models, handle, relationship, on)
