"""Property: for any sequence of commands, the read models agree with the log.

A hypothesis state machine drives random valid and invalid Application
commands over three clients, with business dates that move forward and are
sometimes backdated, and after every step asserts:

(a) the read models caught up incrementally equal read models rebuilt from
    scratch from the same log, row for row (every table);
(b) outstanding is never negative and equals invoiced minus paid, per
    relationship and currency, per invoice, and in the portfolio;
(c) the relationship as of a past date D (status, timeline and portfolio)
    equals what a fresh store holding only the events with occurred_on <= D
    shows, caught up from its own notifications.

One rule draws the next command from a weighted menu (money and follow-ups
often, contracts and endings rarely), so a short run still reaches payments,
late invoices, approved changes and lessons; wrong ids, backdating, work on
ended relationships and overpayments provide the invalid commands.

It runs on SQLite only (in a tmpfs folder when there is one): a fresh
PostgreSQL schema per example would multiply the run time for no extra
coverage, since the projection code and SQL are the same and the PostgreSQL
path is covered by the other projection tests.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from eventsourcing.persistence import StoredEvent
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from projection_story import eur
from tax_profile import UNTAXED_PROFILE

from domain.model.errors import TratosError, UnknownReference
from domain.model.money import Money
from domain.model.values import Installment, LateFee, Party, Scope, Terms
from domain.services.application import Tratos
from projections import ReadModels
from projections.store import SQLiteReadModelRecorder

HANDLES = ("acme", "beta", "gamma")
START = date(2026, 1, 1)
TMP = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
EXAMPLES = int(os.environ.get("TRATOS_PROPERTY_EXAMPLES", "200"))

handles = st.sampled_from(HANDLES)
backdate = st.sampled_from([0, 0, 0, 1, 4])  # mostly today, sometimes backdated
fees = st.sampled_from([
    LateFee(kind="statutory-eu"), LateFee(kind="percent", percent=Decimal(5)),
    LateFee(kind="fixed", fixed=Money.of(40, "EUR")), LateFee(kind="none"),
])
# What the next step does, weighted by repetition.
MENU = (["pay", "change", "mistake", "time", "invoice", "chase"] * 3
        + ["hours", "note", "terms", "lifecycle", "lifecycle"])


def money(amount: Any, currency: str) -> Money:
    return Money.of(str(amount), currency)


class ReadModelsAgreeWithTheLog(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="tratos-prop-", dir=TMP))
        self.app = Tratos(profile=UNTAXED_PROFILE, home=self.folder / "live")
        self.fresh = Tratos(profile=UNTAXED_PROFILE, home=self.folder / "fresh")
        self.models = ReadModels(self.app)
        self.today = START
        self.steps = 0
        self.invoices: list[tuple[str, str]] = []  # (handle, number) issued so far
        self.changes: list[tuple[str, str]] = []
        self.mistakes: list[tuple[str, str]] = []

    def teardown(self) -> None:
        self.models.close()
        self.app.close()
        self.fresh.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def on(self, back: int) -> date:
        return self.today - timedelta(days=back)

    def attempt(self, command, *args, **kwargs):
        try:
            return command(*args, **kwargs)
        except TratosError:  # refused or invalid: nothing recorded
            return None

    def _currency(self, handle: str) -> str:
        try:
            contract = self.app.relationship(handle).current_contract
        except UnknownReference:
            return "EUR"
        return contract.price.currency if contract else "EUR"

    # ---------------------------------------------------------------- setup

    @initialize(page_size=st.sampled_from([1, 3, 1000]), terms=st.lists(fees, min_size=3, max_size=3),
                states=st.lists(st.sampled_from(["in force"] * 4 + ["drafted", "prospect"]),
                                min_size=3, max_size=3))
    def clients(self, page_size: int, terms: list[LateFee], states: list[str]) -> None:
        """Three clients opened a month earlier, with terms, most with a contract in force."""
        self.models.page_size = page_size
        self.today = START - timedelta(days=30)
        for handle, fee, state in zip(HANDLES, terms, states, strict=True):
            self.attempt(self.app.open_relationship, handle, Party(name=handle.title()), on=self.today)
            self.attempt(self.app.publish_terms, handle, Terms(late_fee=fee, payment_days=30, response_days=2),
                         on=self.today)
            if state != "prospect":
                self.draft(handle, "1000.50", 3, "EUR", 0)
            if state == "in force":
                self.sign(handle, "us")
                self.sign(handle, "client")
        self.today = START

    def draft(self, handle: str, price: str, parts: int, currency: str, back: int) -> None:
        total = Decimal(price)
        share = (total / parts).quantize(Decimal("0.01"))
        amounts = [share] * (parts - 1) + [total - share * (parts - 1)]
        installments = [Installment(n=i + 1, amount=money(a, currency), due=self.today + timedelta(days=20 * i))
                        for i, a in enumerate(amounts)]
        self.attempt(self.app.draft_contract, handle, title="Work", scope=Scope(description="Work"),
                     price=money(price, currency), start=self.today, end=self.today + timedelta(days=45),
                     installments=installments, hours_budget=Decimal(10), on=self.on(back))

    def sign(self, handle: str, party: str) -> None:
        self.attempt(self.app.sign_contract, handle, party=party, signer="Someone", method="typed", on=self.today)

    # ---------------------------------------------------------------- steps

    @rule(data=st.data())
    def act(self, data: st.DataObject) -> None:
        kind = data.draw(st.sampled_from(MENU), label="command")
        getattr(self, f"_{kind}")(data.draw)

    def _time(self, draw: Any) -> None:
        self.today += timedelta(days=draw(st.sampled_from([15, 40, 5, 1])))

    def _terms(self, draw: Any) -> None:
        self.attempt(self.app.publish_terms, draw(handles),
                     Terms(late_fee=draw(fees), payment_days=draw(st.sampled_from([0, 10, 30])),
                           response_days=draw(st.integers(0, 3))), on=self.today)

    def _lifecycle(self, draw: Any) -> None:
        """Rarer moves: a new contract, signatures, completion, the end, an existing client reopened."""
        handle = draw(handles)
        action = draw(st.sampled_from(["draft", "sign", "sign", "complete", "end", "open"]))
        if action == "draft":
            self.draft(handle, draw(st.sampled_from(["900", "1000.50", "7"])), draw(st.integers(1, 3)),
                       draw(st.sampled_from(["EUR", "EUR", "USD"])), draw(backdate))
        elif action == "sign":
            self.sign(handle, draw(st.sampled_from(["us", "client"])))
        elif action == "complete":
            self.attempt(self.app.complete_contract, handle, on=self.today)
        elif action == "end":
            self.attempt(self.app.end_relationship, handle, reason="Over", ended_by="us", on=self.today)
        else:
            self.attempt(self.app.open_relationship, handle, Party(name="Again"), on=self.today)

    def _invoice(self, draw: Any) -> None:
        handle = draw(handles)
        installment = draw(st.sampled_from(["next", "next", "next", 1, 2, None]))
        if installment == "next":
            installment = self._next_installment(handle)
        if installment is None:
            result = self.attempt(self.app.issue_invoice, handle, on=self.on(draw(backdate)),
                                  amount=money(draw(st.sampled_from(["50", "0.01"])), self._currency(handle)))
        else:
            result = self.attempt(self.app.issue_invoice, handle, installment=installment,
                                  on=self.on(draw(backdate)))
        if result is not None:
            self.invoices.append((handle, result.id))

    def _next_installment(self, handle: str) -> int | None:
        """The first installment of the current contract not invoiced yet (None: bill an amount)."""
        try:
            relationship = self.app.relationship(handle)
        except UnknownReference:
            return 1
        contract = relationship.current_contract
        if contract is None:
            return 1
        billed = {i.installment for i in relationship.invoices.values() if i.contract_id == contract.id}
        return next((i.n for i in contract.installments if i.n not in billed), None)

    def _pay(self, draw: Any) -> None:
        if not self.invoices:
            return self._invoice(draw)
        relationships = {h: self.app.relationship(h) for h in {h for h, _ in self.invoices}}
        unpaid = [(h, n) for h, n in self.invoices if relationships[h].invoices[n].outstanding.is_positive]
        if not unpaid:
            return self._invoice(draw)
        handle, number = draw(st.sampled_from(unpaid))
        owed = relationships[handle].invoices[number].outstanding
        part = draw(st.sampled_from(["all", "all", "half", "cent", "too much"]))
        amount = {"all": owed.amount, "half": (owed.amount / 2).quantize(Decimal("0.01")),
                  "cent": Decimal("0.01"), "too much": owed.amount + 1}[part]
        self.attempt(self.app.record_payment, handle, number, money(amount, owed.currency),
                     on=self.on(draw(backdate)))

    def _chase(self, draw: Any) -> None:
        if not self.invoices:
            return self._time(draw)
        handle, number = draw(st.sampled_from(self.invoices))
        if draw(st.booleans()):
            self.attempt(self.app.mark_late, handle, number, on=self.today)
        else:
            self.attempt(self.app.send_reminder, handle, number, on=self.today, late_fee=eur(40))

    def _change(self, draw: Any) -> None:
        """A new change request, or the next step of one (sometimes a step out of order)."""
        if not self.changes or draw(st.integers(0, 3)) == 3:  # (hypothesis favours 0: the next step)
            handle = draw(handles)
            result = self.attempt(self.app.request_change, handle, "More", requested_by="client",
                                  on=self.on(draw(backdate)))
            if result is not None:
                self.changes.append((handle, result.id))
            return
        handle, change = draw(st.sampled_from(self.changes))
        state = self.app.relationship(handle).changes[change].state
        step = draw(st.sampled_from(["next"] * 4 + ["quote", "approve", "withdraw"]))
        if step == "next":
            step = "quote" if state == "requested" else draw(st.sampled_from(["approve", "approve", "reject",
                                                                              "withdraw"]))
        if step == "quote":
            self.attempt(self.app.quote_change, handle, change,
                         price=money(draw(st.sampled_from(["0", "150", "99.99"])), self._currency(handle)),
                         hours=draw(st.sampled_from([None, Decimal(2)])), days=draw(st.sampled_from([None, 0, 3])),
                         on=self.on(draw(backdate)))
        else:
            self.attempt(getattr(self.app, f"{step}_change"), handle, change, on=self.on(draw(backdate)))

    def _mistake(self, draw: Any) -> None:
        """A new mistake, or the next step of one: ack, diagnose, propose, choose, resolve, lesson."""
        if not self.mistakes or draw(st.integers(0, 3)) == 3:
            handle = draw(handles)
            result = self.attempt(self.app.report_mistake, handle, "Oops", reported_by="client",
                                  on=self.on(draw(backdate)))
            if result is not None:
                self.mistakes.append((handle, result.id))
            return
        handle, mistake = draw(st.sampled_from(self.mistakes))
        state = self.app.relationship(handle).mistakes[mistake].state
        step = draw(st.sampled_from(["next"] * 5 + ["ack", "choose", "lesson"]))
        if step == "next":
            step = {"reported": "ack", "acknowledged": "diagnose", "diagnosed": "propose",
                    "remedy_proposed": "choose", "remedy_chosen": "resolve"}.get(state, "lesson")
        app, on = self.app, self.today + timedelta(days=draw(st.sampled_from([0, 0, 3])))
        if step == "ack":
            self.attempt(app.acknowledge_mistake, handle, mistake, on=on)
        elif step == "diagnose":
            self.attempt(app.diagnose_mistake, handle, mistake, fault=draw(st.sampled_from(["ours", "client"])),
                         cause="Haste", category=draw(st.sampled_from(["deployment", "branding", ""])), on=on)
        elif step == "propose":
            self.attempt(app.propose_remedy, handle, mistake, "Redo", cost=eur(0), on=on)
        elif step == "choose":
            self.attempt(app.choose_remedy, handle, mistake, "O1", agreed=draw(st.booleans()), on=on)
        elif step == "resolve":
            self.attempt(app.resolve_mistake, handle, mistake, on=on)
        else:
            self.attempt(app.record_lesson, handle, mistake, "Slow down", on=on)

    def _hours(self, draw: Any) -> None:
        self.attempt(self.app.log_hours, draw(handles), draw(st.sampled_from([Decimal("1.5"), Decimal(8), Decimal(30)])),
                     on=self.on(draw(backdate)))

    def _note(self, draw: Any) -> None:
        self.attempt(self.app.record_note, draw(handles), "Call", on=self.on(draw(backdate)))

    # ---------------------------------------------------------- invariants

    @invariant()
    def incremental_equals_rebuilt(self) -> None:
        self.steps += 1
        self.models.catch_up()
        with ReadModels.scratch(self.app) as rebuilt:
            rebuilt.catch_up()
            assert self.models.dump() == rebuilt.dump()

    @invariant()
    def outstanding_is_invoiced_minus_paid_and_never_negative(self) -> None:
        portfolio = {row["handle"]: row for row in self.models.portfolio(today=self.today)}
        for handle in self.models.handles():
            status = self.models.status(handle, today=self.today)
            for balance in [status["balance"], *status["other_balances"]]:
                invoiced, paid, outstanding, overdue = (
                    Decimal(balance[k]["amount"]) for k in ("invoiced", "paid", "outstanding", "overdue"))
                assert outstanding == invoiced - paid
                assert 0 <= overdue <= outstanding
            for invoice in status["invoices"]:
                owed = Decimal(invoice["outstanding"]["amount"])
                assert owed >= 0
                assert owed == Decimal(invoice["amount"]["amount"]) - Decimal(invoice["paid"]["amount"])
            assert portfolio[handle]["outstanding"] == status["balance"]["outstanding"]
            assert portfolio[handle]["overdue"] == status["balance"]["overdue"]

    @invariant()
    def as_of_equals_a_store_that_only_ever_held_those_events(self) -> None:
        span = (self.today - START).days + 31
        day = START - timedelta(days=30) + timedelta(days=(self.steps * 7) % span)
        self._record_only_until(day)
        # Its read models start empty too: a private database, caught up from its notifications.
        with ReadModels(self.fresh, recorder=SQLiteReadModelRecorder.scratch()) as fresh:
            fresh.catch_up()
            handles = fresh.handles()
            with self.models.as_of(day) as past:  # what `status --as-of` (no client) computes
                assert past.handles() == handles
                assert past.portfolio(today=day) == fresh.portfolio(today=day)
                for handle in handles:
                    assert past.status(handle, today=day) == fresh.status(handle, today=day)
                    assert past.timeline(handle) == fresh.timeline(handle)
            if handles:  # and `status CLIENT --as-of` (one stream), one client per step in turn
                handle = handles[self.steps % len(handles)]
                assert self.models.status(handle, as_of=day) == fresh.status(handle, today=day)

    def _record_only_until(self, day: date) -> None:
        """Make `self.fresh` a store holding exactly the events that occurred on or before `day`."""
        with self.fresh.factory.datastore.transaction(commit=True) as cursor:
            cursor.execute("DELETE FROM stored_events")
        kept = [
            StoredEvent(originator_id=n.originator_id, originator_version=n.originator_version,
                        topic=n.topic, state=n.state)
            for n in self.app.recorder.select_notifications(start=None, limit=1_000_000)
            if date.fromisoformat(self.app.mapper.decode_state(n.state)["occurred_on"]) <= day
        ]
        if kept:
            self.fresh.recorder.insert_events(kept)


ReadModelsAgreeWithTheLog.TestCase.settings = settings(
    max_examples=EXAMPLES, stateful_step_count=6, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_read_models_agree_with_the_log = ReadModelsAgreeWithTheLog.TestCase
