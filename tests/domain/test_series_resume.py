"""The invoice series loads from its last event (`InvoiceSeries.resume`), not by replaying the year.

The Application gets the series that way for every invoice (domain/services/application.py `_series`);
this pins that the one event gives the same series as the whole stream, through the store
and its mapper, and that numbers and the hash chain carry on exactly as after a replay.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.model.chain import RawRecord, stored_state, verify_chain
from domain.model.errors import Refused
from domain.model.events import stored_topic
from domain.model.invoices import InvoiceSeries, series_id
from domain.model.money import Money
from domain.model.values import Installment, Party, Scope, stream_id

KEY = series_id("F", 2026)


def _state(series: InvoiceSeries) -> dict:
    return {k: v for k, v in vars(series).items() if k not in ("_pending", "last_saved")}


def _numbered(count: int) -> InvoiceSeries:
    series = InvoiceSeries(KEY)
    for n in range(count):
        series.assign("F", f"client-{n % 3}", date(2026, 1, 1 + n // 2), actor="Ana")
    return series


@pytest.mark.parametrize("count", [1, 2, 7, 40])
def test_the_last_event_gives_the_state_of_the_whole_replay(count: int) -> None:
    series = _numbered(count)
    events = series.collect_events()
    replayed = InvoiceSeries.project(None, events)
    resumed = InvoiceSeries.resume(events[-1])
    assert _state(resumed) == _state(replayed)
    assert resumed.assign("F", "acme", date(2026, 2, 1), "Ana") == replayed.assign("F", "acme", date(2026, 2, 1), "Ana")
    after_resume, after_replay = resumed.collect_events()[0], replayed.collect_events()[0]
    moment = {"timestamp", "digest"}  # the clock differs; the digest covers it
    assert after_resume.model_dump(exclude=moment) == after_replay.model_dump(exclude=moment)
    chain = [RawRecord(e.originator_version, stored_topic(type(e)), stored_state(e)) for e in [*events, after_resume]]
    assert verify_chain(KEY, chain).ok  # the next number is chained to the last digest


def test_a_resumed_series_still_refuses_an_earlier_date() -> None:
    events = _numbered(3).collect_events()
    resumed = InvoiceSeries.resume(events[-1])
    with pytest.raises(Refused):
        resumed.assign("F", "acme", date(2025, 12, 31), "Ana")


def test_invoices_through_the_application_number_on_and_chain(app) -> None:
    eur = lambda amount: Money.of(amount, "EUR")  # noqa: E731
    app.open_relationship("acme", Party(name="Acme SL"), on=date(2026, 1, 5))
    app.draft_contract("acme", title="Site", scope=Scope(description="A site."), price=eur(3000),
                       start=date(2026, 1, 10), end=date(2026, 6, 30), on=date(2026, 1, 6),
                       installments=[Installment(n=i, amount=eur(1000), due=date(2026, i, 15)) for i in (1, 2, 3)])
    app.sign_contract("acme", party="us", signer="Ana", method="typed", on=date(2026, 1, 7))
    app.sign_contract("acme", party="client", signer="Bo", method="typed", on=date(2026, 1, 8))
    numbers = [app.issue_invoice("acme", installment=i, on=date(2026, i, 15)).id for i in (1, 2, 3)]
    numbers.append(app.issue_invoice("acme", amount=Money(amount=Decimal(5), currency="EUR"),
                                     on=date(2026, 3, 20)).id)
    assert numbers == ["F-2026-001", "F-2026-002", "F-2026-003", "F-2026-004"]

    replayed = app.repository.get(KEY, projector_func=InvoiceSeries.project)
    assert _state(app._series("F", 2026)) == _state(replayed)
    assert app._series("F", 2027).version == 0  # a new year starts a new series
    report = verify_chain(KEY, app.raw_records(KEY))
    assert report.ok and report.head_version == 4
    assert app.verify("acme").ok
    assert stream_id("acme") != KEY
