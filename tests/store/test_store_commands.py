"""Every command of the Application on a real SQLite file, read back as a new process would."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest
from forger import Forger
from store_story import ACME_NOW, EVIDENCE, HANDLE, eur, open_and_sign, state_of, whole_story

from domain.model import events as ev
from domain.model.errors import BadInput, CurrencyMismatch, Refused, UnknownClient, UnknownReference
from domain.model.invoices import InvoiceSeries, series_id
from domain.model.money import Money
from domain.model.relationship import Relationship
from domain.model.streams import records_id
from domain.model.values import Party, stream_id
from domain.services.application import Tratos


def _rows(app: Tratos) -> list[tuple]:
    """Every stored record of every stream, read under the Application."""
    return Forger(app).all_rows()


class TestEveryCommandRoundTrips:
    def test_opening_a_client_stores_one_record(self, app):
        app.open_relationship(HANDLE, Party(name="Acme"), on=date(2026, 1, 5))
        [(stream, version, topic, _)] = _rows(app)
        assert (UUID(stream), version, topic) == (stream_id(HANDLE), 1, "domain.events:RelationshipOpened")

    def test_every_event_kind_is_stored_and_read_back_unchanged(self, app):
        from datetime import datetime
        from zoneinfo import ZoneInfo

        # the records are made at the story's last day (not the machine's): the agency accepts them that day
        app.record_clock = lambda: datetime(2026, 3, 31, 12, tzinfo=ZoneInfo("Europe/Madrid"))
        recorded = [e for r in whole_story(app) for e in r.events]
        stored = list(app.repository.event_store.get(stream_id(HANDLE)))
        assert stored == recorded
        kinds = {type(e) for e in stored}
        kinds |= {type(e) for series in ("F", "R") for e in app.repository.event_store.get(series_id(series, 2026))}
        open_and_sign(app, "north", "North SL")  # an invoice issued in error, never sent: cancelled (ADR-66)
        wrong = app.issue_invoice("north", installment=1, on=date(2026, 3, 31)).event.invoice_number
        app.cancel_record("12345678Z", wrong, on=date(2026, 3, 31))  # the billing records' command
        kinds |= {type(e) for e in app.repository.event_store.get(records_id("12345678Z"))}
        kinds |= {type(e) for e in app.repository.event_store.get(stream_id("north"))}
        from domain.adapters.verifactu_xml import SentRecord, stored_fields
        from domain.model.billing_records import texts_of
        from domain.model.record_values import AnomalyScan
        from domain.model.streams import events_id, submissions_id

        chain = list(app.repository.event_store.get(records_id("12345678Z")))
        app.record_sent("12345678Z", [SentRecord(texts_of(r), stored_fields(r)) for r in chain], file_sha256="e" * 64,
                        reference="A-1", on=date(2026, 3, 31))
        kinds |= {type(e) for e in app.repository.event_store.get(submissions_id("12345678Z"))}
        app.log_events("12345678Z", "Ana García", [{"event_type": "03", "scan": AnomalyScan(fingerprints=3)}],
                       on=date(2026, 3, 31))  # the event log's command (no-VERI*FACTU)
        kinds |= {type(e) for e in app.repository.event_store.get(events_id("12345678Z"))}
        declared = {c for c in vars(ev).values()
                    if isinstance(c, type) and issubclass(c, ev.DomainEvent)
                    and c not in (ev.DomainEvent, ev.RelationshipEvent)}
        assert kinds == declared

    def test_each_command_reports_its_public_id(self, app):
        ids = [r.id for r in whole_story(app)]
        for expected in ("K1", "C1", "C2", "C3", "M1", "O1", "F-2026-001", "F-2026-002"):
            assert expected in ids

    def test_the_stored_state_folds_to_what_the_commands_decided(self, app):
        recorded = [e for r in whole_story(app) for e in r.events]
        in_memory = Relationship.project(None, recorded)
        assert state_of(app.relationship(HANDLE)) == state_of(in_memory)

    def test_the_story_ends_as_told(self, app):
        whole_story(app)
        r = app.relationship(HANDLE)
        assert r.state == "ended"
        assert r.client == ACME_NOW
        contract = r.contracts["K1"]
        assert (contract.state, contract.total, contract.hours_logged) == ("completed", eur(8600), Decimal("3.5"))
        assert set(contract.signatures) == {"us", "client"}
        assert contract.signatures["client"].evidence == [EVIDENCE]
        assert {c.id: c.state for c in r.changes.values()} == {
            "C1": "approved", "C2": "rejected", "C3": "withdrawn"}
        m1 = r.mistakes["M1"]
        assert (m1.state, m1.chosen, m1.agreed, m1.lesson) == (
            "resolved", "O1", True, "Check the brand guide before delivery")
        assert r.invoice("F-2026-001").is_settled
        late = r.invoice("F-2026-002")
        assert (late.late_since, late.reminders, late.outstanding) == (
            date(2026, 3, 18), [date(2026, 3, 20)], eur("3999.99"))  # R-2026-001 took a cent off
        assert [c.invoice_number for c in late.corrections] == ["R-2026-001"]
        assert r.notes[0].evidence == [EVIDENCE]
        assert r.documents[0].kind == "dossier"
        assert r.ending.outstanding == [eur(4000)]  # as it stood when the relationship ended


class TestASecondInstanceReconstructsTheSameState:
    def test_a_new_application_on_the_same_file_sees_identical_aggregates(self, make_app):
        first = make_app()
        whole_story(first)
        open_and_sign(first, "globex", "Globex SA")
        first.issue_invoice("globex", installment=1, on=date(2026, 3, 1))

        second = make_app()
        for handle in (HANDLE, "globex"):
            mine, theirs = first.relationship(handle), second.relationship(handle)
            assert state_of(theirs) == state_of(mine)
            assert (theirs.version, theirs.head_digest) == (mine.version, mine.head_digest)
            assert second.verify(handle).ok
        series = [app.repository.get(series_id("F", 2026), projector_func=InvoiceSeries.project)
                  for app in (first, second)]
        assert state_of(series[0]) == state_of(series[1])
        assert series[1].last_sequence == 3

    def test_the_second_instance_continues_where_the_first_stopped(self, make_app):
        first = make_app()
        open_and_sign(first)
        first.issue_invoice(HANDLE, installment=1, on=date(2026, 1, 15))

        second = make_app()
        recorded = second.issue_invoice(HANDLE, installment=2, on=date(2026, 2, 15))
        assert recorded.id == "F-2026-002"
        assert set(first.relationship(HANDLE).invoices) == {"F-2026-001", "F-2026-002"}


REFUSED = {
    "open twice": (lambda app: app.open_relationship(HANDLE, Party(name="Again"), on=date(2026, 1, 5)),
                   Refused),
    "sign in force": (lambda app: app.sign_contract(HANDLE, party="us", signer="Ana", method="typed",
                                                    on=date(2026, 1, 20)), Refused),
    "sign unknown": (lambda app: app.sign_contract(HANDLE, party="us", signer="Ana", method="typed",
                                                   contract_id="K9", on=date(2026, 1, 20)), UnknownReference),
    "approve unknown": (lambda app: app.approve_change(HANDLE, "C1", on=date(2026, 1, 20)), UnknownReference),
    "pay in USD": (lambda app: app.record_payment(HANDLE, "F-2026-001", Money.of(10, "USD"),
                                                  on=date(2026, 1, 20)), CurrencyMismatch),
    "overpay": (lambda app: app.record_payment(HANDLE, "F-2026-001", eur("4000.01"), on=date(2026, 1, 20)),
                Refused),
    "invoice twice": (lambda app: app.issue_invoice(HANDLE, installment=1, on=date(2026, 1, 20)), Refused),
    "due before issue": (lambda app: app.issue_invoice(HANDLE, installment=2, on=date(2026, 1, 20),
                                                       due=date(2026, 1, 19)), BadInput),
    "before opening": (lambda app: app.record_note(HANDLE, "Before we met", on=date(2026, 1, 1)), Refused),
    "25 hours": (lambda app: app.log_hours(HANDLE, Decimal(25), on=date(2026, 1, 20)), BadInput),
    "unknown client": (lambda app: app.record_note("nobody", "x", on=date(2026, 1, 20)), UnknownClient),
}


class TestRefusedCommandsChangeNothing:
    def test_the_store_is_untouched(self, app):
        # One store for all cases (a store per case costs a schema per backend).
        open_and_sign(app)
        app.issue_invoice(HANDLE, installment=1, on=date(2026, 1, 15))
        before = _rows(app)
        for name, (command, error) in REFUSED.items():
            with pytest.raises(error) as refusal:
                command(app)
            assert type(refusal.value) is error, name
            assert _rows(app) == before, f"{name} changed the store"

    def test_a_refused_command_after_the_end_leaves_it_ended(self, app):
        open_and_sign(app)
        app.end_relationship(HANDLE, reason="Done", ended_by="client", on=date(2026, 2, 1))
        before = _rows(app)
        with pytest.raises(Refused, match="ended"):
            app.request_change(HANDLE, "One more thing", requested_by="client", on=date(2026, 2, 2))
        with pytest.raises(Refused, match="already ended"):
            app.end_relationship(HANDLE, reason="Again", ended_by="us", on=date(2026, 2, 2))
        assert _rows(app) == before
        assert app.relationship(HANDLE).state == "ended"


class TestConcurrentWriters:
    """Behaviour only: how writers are serialised or retried is the Application's business."""

    def test_two_instances_writing_at_once_lose_nothing(self, make_app):
        import threading

        first, second = make_app(), make_app()
        open_and_sign(first)

        def write(app, who):
            for i in range(15):
                app.record_note(HANDLE, f"{who} {i}", on=date(2026, 1, 20))

        threads = [threading.Thread(target=write, args=(a, w)) for a, w in ((first, "a"), (second, "b"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        texts = sorted(n.text for n in make_app().relationship(HANDLE).notes)
        assert texts == sorted([f"a {i}" for i in range(15)] + [f"b {i}" for i in range(15)])
        assert first.verify(HANDLE).ok
