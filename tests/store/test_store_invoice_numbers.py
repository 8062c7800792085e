"""Invoice numbers: correlative per series and year across all clients, never consumed by a refusal."""

from __future__ import annotations

from datetime import date

import pytest
from forger import Forger
from store_story import HANDLE, eur, open_and_sign

from domain.model.errors import BadInput, Refused, UnknownReference
from domain.model.invoices import InvoiceSeries, series_id


def _series(app, year: int = 2026) -> InvoiceSeries:
    return app.repository.get(series_id("F", year), projector_func=InvoiceSeries.project)


@pytest.fixture
def two_clients(app):
    open_and_sign(app, HANDLE, "Acme Consulting SL")
    open_and_sign(app, "globex", "Globex SA")
    return app


class TestInvoiceNumbers:
    def test_numbers_run_across_clients_without_gaps(self, two_clients):
        app = two_clients
        numbers = [
            app.issue_invoice(HANDLE, installment=1, on=date(2026, 1, 15)).id,
            app.issue_invoice("globex", installment=1, on=date(2026, 1, 16)).id,
            app.issue_invoice(HANDLE, installment=2, on=date(2026, 2, 15)).id,
        ]
        assert numbers == ["F-2026-001", "F-2026-002", "F-2026-003"]
        assert set(app.relationship(HANDLE).invoices) == {"F-2026-001", "F-2026-003"}
        assert set(app.relationship("globex").invoices) == {"F-2026-002"}
        assigned = [(e.sequence, e.handle) for e in app.repository.event_store.get(series_id("F", 2026))]
        assert assigned == [(1, HANDLE), (2, "globex"), (3, HANDLE)]

    def test_the_series_is_saved_with_the_invoice_in_one_transaction(self, two_clients):
        app = two_clients
        app.issue_invoice(HANDLE, installment=1, on=date(2026, 1, 15))
        assert _series(app).version == 1
        assert app.relationship(HANDLE).invoice("F-2026-001").amount == eur(4000)

    def test_a_refused_invoice_consumes_no_number(self, two_clients):
        app = two_clients
        app.issue_invoice(HANDLE, installment=1, on=date(2026, 1, 15))
        before = Forger(app).all_rows()
        refusals = {
            "same installment": (lambda: app.issue_invoice(HANDLE, installment=1, on=date(2026, 1, 20)),
                                 Refused),
            "unknown installment": (lambda: app.issue_invoice(HANDLE, installment=7, on=date(2026, 1, 20)),
                                    Refused),
            "due before issue": (lambda: app.issue_invoice(HANDLE, installment=2, on=date(2026, 1, 20),
                                                           due=date(2026, 1, 1)), BadInput),
            "unknown change": (lambda: app.issue_invoice(HANDLE, amount=eur(100), change_id="C1",
                                                         on=date(2026, 1, 20)), UnknownReference),
            "dated before the last number": (
                lambda: app.issue_invoice(HANDLE, installment=2, on=date(2026, 1, 10)), Refused),
        }
        for name, (refused, error) in refusals.items():
            with pytest.raises(error) as refusal:
                refused()
            assert type(refusal.value) is error, name
            assert Forger(app).all_rows() == before, f"{name} changed the store"
        assert _series(app).last_sequence == 1
        assert app.issue_invoice("globex", installment=1, on=date(2026, 1, 20)).id == "F-2026-002"

    def test_an_invoice_after_the_end_consumes_no_number(self, two_clients):
        app = two_clients
        app.end_relationship(HANDLE, reason="Cancelled", ended_by="client", on=date(2026, 1, 14))
        with pytest.raises(Refused, match="ended"):
            app.issue_invoice(HANDLE, installment=1, on=date(2026, 1, 15))
        assert app.issue_invoice("globex", installment=1, on=date(2026, 1, 15)).id == "F-2026-001"

    def test_a_new_year_starts_a_new_series(self, two_clients, monkeypatch):
        from datetime import datetime
        from zoneinfo import ZoneInfo

        app = two_clients
        # records made after the last invoice's date, whatever the machine's date (ADR-66), on the
        # story's today: a record clock more than a day ahead of today makes none (ADR-69)
        monkeypatch.setenv("TRATOS_TODAY", "2027-01-03")
        app.record_clock = lambda: datetime(2027, 1, 3, 12, tzinfo=ZoneInfo("Europe/Madrid"))
        assert app.issue_invoice(HANDLE, installment=1, on=date(2026, 12, 30)).id == "F-2026-001"
        assert app.issue_invoice("globex", installment=1, on=date(2027, 1, 2)).id == "F-2027-001"
        assert app.issue_invoice(HANDLE, installment=2, on=date(2027, 1, 3)).id == "F-2027-002"
        assert _series(app, 2026).last_sequence == 1
        assert _series(app, 2027).last_sequence == 2

    def test_a_second_instance_continues_the_numbering(self, two_clients, make_app):
        two_clients.issue_invoice(HANDLE, installment=1, on=date(2026, 1, 15))
        other = make_app()
        assert other.issue_invoice("globex", installment=1, on=date(2026, 1, 15)).id == "F-2026-002"
