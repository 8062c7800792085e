"""What the read models answer: SPEC §6 status, money shape, late fees, time travel, portfolio, lessons."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from projection_story import D, acme_story, eur, in_force, open_client

from domain.model.errors import BadInput, UnknownClient, UnknownReference
from domain.model.money import Money
from domain.model.values import LateFee
from projections import ReadModels

MONEY = re.compile(r"-?\d+(\.\d+)?\Z")


@pytest.fixture
def models(app):
    models = ReadModels(app)
    yield models
    models.close()


def money_values(value: Any) -> list[dict]:
    """Every money dict anywhere in a JSON-ready value."""
    found = []
    if isinstance(value, dict):
        if "amount" in value and "currency" in value and len(value) == 2:
            return [value]
        for item in value.values():
            found += money_values(item)
    elif isinstance(value, list):
        for item in value:
            found += money_values(item)
    return found


def test_status_has_the_spec_keys_and_money_in_one_shape(app, models):
    number = acme_story(app)
    models.catch_up()
    status = models.status("acme", today=D("2026-03-16"))
    assert {"handle", "name", "state", "contract", "balance", "installments", "changes", "mistakes",
            "ended"} <= set(status)
    assert status["handle"] == "acme" and status["state"] == "active" and status["ended"] is None
    contract = status["contract"]
    assert {"title", "price", "approved_changes_total", "total", "hours_budget", "hours_logged", "start",
            "end", "signed_by"} <= set(contract)
    assert contract["price"] == {"amount": "8000.00", "currency": "EUR"}
    assert contract["approved_changes_total"] == {"amount": "600.00", "currency": "EUR"}
    assert contract["total"] == {"amount": "8600.00", "currency": "EUR"}
    assert contract["hours_budget"] == "120" and contract["hours_logged"] == "3.5"
    assert contract["hours_available"] == "130"
    assert (contract["start"], contract["end"]) == ("2026-01-15", "2026-03-20")  # +5 days of C1
    assert contract["signed_by"] == ["us", "client"]
    assert status["balance"] == {
        "invoiced": {"amount": "4000.00", "currency": "EUR"},
        "paid": {"amount": "1000.00", "currency": "EUR"},
        "outstanding": {"amount": "3000.00", "currency": "EUR"},
        "overdue": {"amount": "3000.00", "currency": "EUR"},
    }
    first, second = status["installments"]
    assert {"n", "amount", "due", "invoice", "paid", "late"} <= set(first)
    assert (first["n"], first["invoice"], first["late"], first["paid"]["amount"]) == (1, number, True, "1000.00")
    assert (second["n"], second["invoice"], second["state"]) == (2, None, "to_invoice")
    assert status["changes"] == [{
        "id": "C1", "contract": "K1", "description": "Add a blog", "state": "approved",
        "requested_by": "client", "requested_on": "2026-01-21", "price": {"amount": "600.00", "currency": "EUR"},
        "hours": "10", "days": 5, "quoted_on": "2026-01-22", "decided_on": "2026-02-03",
    }]
    (mistake,) = status["mistakes"]
    assert {"id", "state", "fault", "acknowledged_after_days"} <= set(mistake)
    assert (mistake["id"], mistake["state"], mistake["fault"], mistake["acknowledged_after_days"]) == \
        ("M1", "diagnosed", "ours", 4)
    assert mistake["acknowledged_late"] is True  # 4 days > the 2 promised
    assert mistake["category"] == "deployment" and mistake["lesson"].startswith("Send a test")
    for value in money_values(status):
        assert MONEY.match(value["amount"]) and value["currency"] == "EUR", value


def test_statutory_eu_late_fee_matches_a_hand_computed_example(app, models):
    number = acme_story(app)
    models.catch_up()
    # 3000.00 EUR unpaid since 2026-02-14; on 2026-03-16 that is 30 days late.
    # Interest: (2.15 % reference + 8 points) = 10.15 % a year -> 3000 * 0.1015 * 30 / 365 = 25.0274 -> 25.03
    # plus the 40 EUR fixed compensation of Directive 2011/7/EU: 65.03 EUR.
    invoice = models.status("acme", today=D("2026-03-16"))["invoices"][0]
    assert invoice["number"] == number
    assert (invoice["late"], invoice["days_late"]) == (True, 30)
    assert invoice["late_fee"] == {"amount": "65.03", "currency": "EUR"}
    # The day it falls due nothing is late yet; the day after, one day of interest plus 40.
    assert models.status("acme", today=D("2026-02-14"))["invoices"][0]["late_fee"] is None
    assert models.status("acme", today=D("2026-02-15"))["invoices"][0]["late_fee"] == \
        {"amount": "40.83", "currency": "EUR"}  # 3000 * 0.1015 / 365 = 0.834 -> 0.83


@pytest.mark.parametrize(("fee", "expected"), [
    (LateFee(kind="fixed", fixed=Money.of(25, "EUR")), "25.00"),
    (LateFee(kind="percent", percent=Decimal(5)), "150.00"),  # 5 % of 3000
    (LateFee(kind="none"), None),
])
def test_fixed_and_percent_late_fees(app, models, fee, expected):
    acme_story(app, late_fee=fee)
    models.catch_up()
    invoice = models.status("acme", today=D("2026-03-16"))["invoices"][0]
    assert (invoice["late_fee"] or {}).get("amount") == expected


def test_unknown_and_invalid_handles(app, models):
    acme_story(app)
    models.catch_up()
    for read in (lambda: models.status("nobody"), lambda: models.timeline("nobody"),
                 lambda: models.status("nobody", as_of=D("2026-02-01"))):
        with pytest.raises(UnknownClient) as unknown:  # the CLI suggests the closest handle
            read()
        assert unknown.value.handle == "nobody"
    with pytest.raises(BadInput):
        models.status("Not A Handle")
    for read in (lambda: models.status("acme", as_of=D("2026-01-04")),
                 lambda: models.timeline("acme", as_of=D("2026-01-04"))):
        with pytest.raises(UnknownReference, match="acme was not a client yet on 2026-01-04") as early:
            read()
        assert not isinstance(early.value, UnknownClient)


def test_status_as_of_a_date_ignores_what_happened_after_it(app, models):
    acme_story(app)
    models.catch_up()
    before = models.status("acme", as_of=D("2026-02-02"))
    assert before["as_of"] == "2026-02-02"
    assert before["contract"]["total"] == {"amount": "8000.00", "currency": "EUR"}  # C1 approved on 02-03
    assert before["changes"][0]["state"] == "quoted"
    assert before["mistakes"][0]["state"] == "reported"
    assert before["balance"]["paid"] == {"amount": "1000.00", "currency": "EUR"}
    assert before["balance"]["overdue"] == {"amount": "0.00", "currency": "EUR"}  # due 02-14
    assert before["contract"]["hours_logged"] == "0"
    later = models.status("acme", as_of=D("2026-03-16"))
    assert later["balance"]["overdue"] == {"amount": "3000.00", "currency": "EUR"}
    assert later == models.status("acme", today=D("2026-03-16"))
    timeline = models.timeline("acme", as_of=D("2026-01-12"))
    assert [row["kind"] for row in timeline] == ["RelationshipOpened", "TermsPublished", "ContractDrafted",
                                                 "ContractSigned", "ContractSigned"]


def test_as_of_ignores_a_backdated_event_recorded_later_only_if_it_is_after_the_date(app, models):
    in_force(app)
    app.record_note("acme", "Recorded late, about January", on=D("2026-01-13"))
    models.catch_up()
    assert [r["kind"] for r in models.timeline("acme", as_of=D("2026-01-12"))][-1] == "ContractSigned"
    assert [r["kind"] for r in models.timeline("acme", as_of=D("2026-01-13"))][-1] == "NoteRecorded"


def test_portfolio_has_every_client_with_state_total_outstanding_overdue_and_open_items(app, models):
    acme_story(app)
    open_client(app, "beta")
    in_force(app, "gamma", price="2000")
    app.request_change("gamma", "More pages", requested_by="client", on=D("2026-01-20"))
    app.report_mistake("gamma", "Typo", reported_by="client", on=D("2026-01-20"))
    app.end_relationship("gamma", reason="Done", ended_by="us", on=D("2026-02-01"))
    models.catch_up()
    rows = {row["handle"]: row for row in models.portfolio(today=D("2026-03-16"))}
    assert list(rows) == ["acme", "beta", "gamma"]
    assert rows["acme"]["state"] == "active"
    assert rows["acme"]["contract_total"] == {"amount": "8600.00", "currency": "EUR"}
    assert rows["acme"]["outstanding"] == {"amount": "3000.00", "currency": "EUR"}
    assert rows["acme"]["overdue"] == {"amount": "3000.00", "currency": "EUR"}
    assert (rows["acme"]["open_changes"], rows["acme"]["open_mistakes"]) == (0, 1)
    assert rows["beta"]["state"] == "prospect" and rows["beta"]["contract_total"] is None
    assert rows["gamma"]["state"] == "ended" and rows["gamma"]["ended_on"] == "2026-02-01"
    assert (rows["gamma"]["open_changes"], rows["gamma"]["open_mistakes"]) == (1, 1)
    assert rows["acme"]["overdue"] == {"amount": "3000.00", "currency": "EUR"}
    assert models.portfolio(today=D("2026-02-14"))[0]["overdue"] == {"amount": "0.00", "currency": "EUR"}
    past = {row["handle"]: row for row in models.portfolio(as_of=D("2026-01-10"))}
    assert list(past) == ["acme", "beta", "gamma"] and past["acme"]["state"] == "drafted"


def test_lessons_are_grouped_by_category_across_clients_and_recurring_ones_are_flagged(app, models):
    acme_story(app)
    in_force(app, "beta")
    app.report_mistake("beta", "Form broken again", reported_by="client", on=D("2026-02-10"))
    app.acknowledge_mistake("beta", "M1", on=D("2026-02-10"))
    app.diagnose_mistake("beta", "M1", fault="ours", cause="Config", category="Deployment", on=D("2026-02-11"))
    app.record_lesson("beta", "M1", "Automate the production smoke test", on=D("2026-02-12"))
    app.report_mistake("beta", "Wrong colour", reported_by="client", on=D("2026-02-10"))
    app.acknowledge_mistake("beta", "M2", on=D("2026-02-10"))
    app.diagnose_mistake("beta", "M2", fault="misunderstanding", cause="Two palettes", category="branding",
                         on=D("2026-02-11"))
    models.catch_up()
    groups = models.lessons()
    assert [g["category"] for g in groups] == ["deployment"]  # branding has one mistake, no lesson
    (deployment,) = groups
    assert deployment["recurring"] is True and deployment["mistakes"] == 2
    assert [(lesson["handle"], lesson["mistake"]) for lesson in deployment["lessons"]] == \
        [("acme", "M1"), ("beta", "M1")]


def test_actions_list_what_needs_doing(app, models):
    acme_story(app)
    in_force(app, "beta")
    app.request_change("beta", "New logo", requested_by="client", on=D("2026-03-01"))
    app.request_change("beta", "Dark mode", requested_by="client", on=D("2026-03-01"))
    app.quote_change("beta", "C2", price=eur(300), on=D("2026-03-02"))
    app.report_mistake("beta", "Slow page", reported_by="client", on=D("2026-03-10"))
    models.catch_up()
    actions = models.actions(D("2026-03-16"))
    kinds = {(a["handle"], a["kind"], a["ref"]) for a in actions}
    assert kinds == {
        ("acme", "late_payment", "F-2026-001"),
        ("acme", "to_invoice", "K1/2"),
        ("beta", "to_invoice", "K1/1"),
        ("beta", "to_invoice", "K1/2"),
        ("beta", "change_to_quote", "C1"),
        ("beta", "change_awaiting_approval", "C2"),
        ("beta", "mistake_not_acknowledged", "M1"),
        ("beta", "contract_past_end", "K1"),
    }  # acme's K1 is not past its end: C1 moved it from 03-15 to 03-20; beta's ended on 03-15
    late = next(a for a in actions if a["kind"] == "late_payment")
    assert late["late_fee"] == {"amount": "65.03", "currency": "EUR"}
    assert models.unmarked_late(D("2026-03-16")) == [{"handle": "acme", "invoice": "F-2026-001"}]
    assert models.unmarked_late(D("2026-02-14")) == []
