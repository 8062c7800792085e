"""Invoices, payments, lateness and reminders; and the business-wide invoice series."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from domain_builders import (
    MIDPOINT,
    SIGNED,
    START,
    draft,
    drafted,
    eur,
    in_force,
    invoiced,
    new_events,
    refuses,
    with_quoted_change,
)
from tax_profile import UNTAXED_PROFILE

from domain.model import events as ev
from domain.model.errors import BadInput, CurrencyMismatch, Refused, UnknownReference
from domain.model.invoices import InvoiceSeries, invoice_number, series_id
from domain.model.money import Money

NUMBER = "F-2026-001"
DUE = START + timedelta(days=30)  # the terms give 30 payment days
DECIDED = date(2026, 1, 22)  # after C1 was requested and quoted (builders)


class TestIssueInvoice:
    def test_an_installment_is_invoiced_due_after_the_payment_days(self):
        relationship = in_force()
        event = relationship.issue_invoice(NUMBER, installment=1, on=START, profile=UNTAXED_PROFILE)

        assert isinstance(event, ev.InvoiceIssued)
        assert (event.invoice_number, event.contract_id, event.installment) == (NUMBER, "K1", 1)
        assert event.amount == eur(4000)
        assert event.due == DUE
        invoice = relationship.invoice(NUMBER)
        assert (invoice.issued_on, invoice.due, invoice.outstanding) == (START, DUE, eur(4000))
        assert relationship.outstanding() == [eur(4000)]

    def test_an_explicit_due_date_wins(self):
        relationship = in_force()
        event = relationship.issue_invoice(NUMBER, installment=2, on=MIDPOINT, due=MIDPOINT, profile=UNTAXED_PROFILE)
        assert event.due == MIDPOINT

    def test_an_approved_change_is_invoiced_by_amount(self):
        relationship = with_quoted_change()
        relationship.approve_change("C1", on=date(2026, 1, 22))
        event = relationship.issue_invoice(NUMBER, amount=eur(600), change_id="C1", on=date(2026, 1, 23), profile=UNTAXED_PROFILE)
        assert (event.amount, event.change_id, event.installment) == (eur(600), "C1", None)

    def test_a_completed_contract_can_still_be_invoiced(self):
        relationship = in_force()
        relationship.complete_contract(MIDPOINT)
        relationship.issue_invoice(NUMBER, installment=2, on=MIDPOINT, profile=UNTAXED_PROFILE)
        assert relationship.invoice(NUMBER).installment == 2

    def test_a_second_invoice_for_the_same_installment_is_refused(self):
        relationship = invoiced()
        with refuses(relationship, Refused, match=f"already invoiced as {NUMBER}"):
            relationship.issue_invoice("F-2026-002", installment=1, on=START, profile=UNTAXED_PROFILE)

    def test_an_unknown_installment_is_refused(self):
        relationship = in_force()
        with refuses(relationship, Refused, match="no installment 3"):
            relationship.issue_invoice(NUMBER, installment=3, on=START, profile=UNTAXED_PROFILE)

    @pytest.mark.parametrize("signatures", [(), ("us",), ("client",)])
    def test_a_contract_not_in_force_cannot_be_invoiced(self, signatures):
        relationship = drafted()
        for party in signatures:
            relationship.sign_contract(party=party, signer="X", method="typed", on=START)
        with refuses(relationship, Refused):
            relationship.issue_invoice(NUMBER, installment=1, on=START, profile=UNTAXED_PROFILE)

    def test_an_unapproved_change_cannot_be_invoiced(self):
        relationship = with_quoted_change()
        with refuses(relationship, Refused, match="not approved"):
            relationship.issue_invoice(NUMBER, amount=eur(600), change_id="C1", on=START, profile=UNTAXED_PROFILE)

    def test_a_change_cannot_be_invoiced_beyond_its_price(self):
        relationship = with_quoted_change()
        relationship.approve_change("C1", on=DECIDED)
        relationship.issue_invoice(NUMBER, amount=eur(400), change_id="C1", on=DECIDED, profile=UNTAXED_PROFILE)
        relationship.issue_invoice("F-2026-002", amount=eur(200), change_id="C1", on=DECIDED, profile=UNTAXED_PROFILE)
        with refuses(relationship, Refused, match="600"):
            relationship.issue_invoice("F-2026-003", amount=eur("0.01"), change_id="C1", on=DECIDED, profile=UNTAXED_PROFILE)

    def test_an_invoice_for_a_change_belongs_to_the_changes_contract(self):
        relationship = with_quoted_change()
        relationship.approve_change("C1", on=DECIDED)
        draft(relationship, title="Second project", on=SIGNED)  # K2 is now the current contract
        event = relationship.issue_invoice(NUMBER, amount=eur(600), change_id="C1", on=DECIDED, profile=UNTAXED_PROFILE)
        assert event.contract_id == "K1"

    def test_a_change_cannot_be_billed_on_another_contract(self):
        relationship = with_quoted_change()
        relationship.approve_change("C1", on=DECIDED)
        draft(relationship, title="Second project", on=SIGNED)
        relationship.sign_contract(party="us", signer="Ana", method="typed", on=DECIDED)
        relationship.sign_contract(party="client", signer="Carlos", method="typed", on=DECIDED)
        with refuses(relationship, Refused, match="belongs to K1"):
            relationship.issue_invoice(NUMBER, amount=eur(600), change_id="C1", contract_id="K2",
                                       on=DECIDED, profile=UNTAXED_PROFILE)

    def test_an_amount_in_another_currency_than_the_contract_is_refused(self):
        relationship = in_force()
        with refuses(relationship, CurrencyMismatch):
            relationship.issue_invoice(NUMBER, amount=Money.of(100, "USD"), on=START, profile=UNTAXED_PROFILE)

    def test_installment_and_amount_together_are_bad_input(self):
        relationship = in_force()
        with refuses(relationship, BadInput):
            relationship.issue_invoice(NUMBER, installment=1, amount=eur(1), on=START, profile=UNTAXED_PROFILE)

    def test_nothing_to_invoice_is_bad_input(self):
        relationship = in_force()
        with refuses(relationship, BadInput):
            relationship.issue_invoice(NUMBER, on=START, profile=UNTAXED_PROFILE)

    def test_a_zero_amount_is_bad_input(self):
        relationship = in_force()
        with refuses(relationship, BadInput):
            relationship.issue_invoice(NUMBER, amount=eur(0), on=START, profile=UNTAXED_PROFILE)

    def test_due_before_the_issue_date_is_bad_input(self):
        relationship = in_force()
        with refuses(relationship, BadInput, match="before it is issued"):
            relationship.issue_invoice(NUMBER, installment=1, on=START, due=START - timedelta(days=1), profile=UNTAXED_PROFILE)

    def test_an_unknown_contract_is_an_unknown_reference(self):
        relationship = in_force()
        with refuses(relationship, UnknownReference):
            relationship.issue_invoice(NUMBER, installment=1, on=START, contract_id="K5", profile=UNTAXED_PROFILE)


class TestRecordPayment:
    def test_a_partial_then_a_full_payment_settle_the_invoice(self):
        relationship = invoiced()
        event = relationship.record_payment(NUMBER, eur("1500.50"), on=START + timedelta(days=3))
        assert isinstance(event, ev.PaymentReceived)
        assert relationship.invoice(NUMBER).outstanding == eur("2499.50")

        relationship.record_payment(NUMBER, eur("2499.50"), on=START + timedelta(days=10))
        invoice = relationship.invoice(NUMBER)
        assert invoice.paid == eur(4000)
        assert invoice.is_settled
        assert relationship.outstanding() == []

    def test_a_payment_in_another_currency_is_refused(self):
        relationship = invoiced()
        with refuses(relationship, CurrencyMismatch, match="USD"):
            relationship.record_payment(NUMBER, Money.of(4000, "USD"), on=START)

    def test_an_overpayment_is_refused_naming_the_outstanding_amount(self):
        relationship = invoiced()
        relationship.record_payment(NUMBER, eur(1000), on=START)
        with refuses(relationship, Refused) as refusal:
            relationship.record_payment(NUMBER, eur("3000.01"), on=START)
        assert "3000.00 EUR" in str(refusal.value)

    def test_paying_a_settled_invoice_again_is_refused(self):
        relationship = invoiced()
        relationship.record_payment(NUMBER, eur(4000), on=START)
        with refuses(relationship, Refused, match="0.00 EUR"):
            relationship.record_payment(NUMBER, eur(1), on=START)

    @pytest.mark.parametrize("amount", ["0", "-10"])
    def test_a_payment_must_be_positive(self, amount):
        relationship = invoiced()
        with refuses(relationship, Refused):
            relationship.record_payment(NUMBER, eur(amount), on=START)

    def test_a_payment_before_the_invoice_date_is_refused(self):
        relationship = in_force()
        relationship.issue_invoice(NUMBER, installment=2, on=MIDPOINT, profile=UNTAXED_PROFILE)
        with refuses(relationship, Refused, match="before invoice"):
            relationship.record_payment(NUMBER, eur(4000), on=MIDPOINT - timedelta(days=1))

    def test_a_payment_for_an_unknown_invoice_is_an_unknown_reference(self):
        relationship = invoiced()
        with refuses(relationship, UnknownReference, match="F-2026-009"):
            relationship.record_payment("F-2026-009", eur(1), on=START)


class TestMarkLate:
    def test_an_overdue_invoice_is_marked_late_with_what_is_outstanding(self):
        relationship = invoiced()
        relationship.record_payment(NUMBER, eur(1000), on=START)
        event = relationship.mark_late(NUMBER, on=DUE + timedelta(days=1))

        assert isinstance(event, ev.PaymentLate)
        assert (event.due, event.outstanding) == (DUE, eur(3000))
        assert relationship.invoice(NUMBER).late_since == DUE + timedelta(days=1)

    def test_on_the_due_date_it_is_not_late_yet(self):
        relationship = invoiced()
        with refuses(relationship, Refused, match="not overdue"):
            relationship.mark_late(NUMBER, on=DUE)

    def test_a_paid_invoice_is_never_late(self):
        relationship = invoiced()
        relationship.record_payment(NUMBER, eur(4000), on=START)
        with refuses(relationship, Refused):
            relationship.mark_late(NUMBER, on=DUE + timedelta(days=10))

    def test_an_invoice_is_marked_late_only_once(self):
        relationship = invoiced()
        relationship.mark_late(NUMBER, on=DUE + timedelta(days=1))
        with refuses(relationship, Refused, match="already marked late"):
            relationship.mark_late(NUMBER, on=DUE + timedelta(days=2))


class TestSendReminder:
    def test_a_reminder_records_the_days_late_and_the_fee(self):
        relationship = invoiced()
        event = relationship.send_reminder(NUMBER, on=DUE + timedelta(days=30), late_fee=eur("73.37"))

        assert isinstance(event, ev.ReminderSent)
        assert (event.days_late, event.late_fee) == (30, eur("73.37"))
        assert relationship.invoice(NUMBER).reminders == [DUE + timedelta(days=30)]

    def test_reminders_can_be_repeated(self):
        relationship = invoiced()
        relationship.send_reminder(NUMBER, on=DUE + timedelta(days=1))
        relationship.send_reminder(NUMBER, on=DUE + timedelta(days=15))
        assert len(relationship.invoice(NUMBER).reminders) == 2

    def test_no_reminder_before_the_due_date(self):
        relationship = invoiced()
        with refuses(relationship, Refused, match="not due until"):
            relationship.send_reminder(NUMBER, on=DUE)

    def test_no_reminder_for_a_paid_invoice(self):
        relationship = invoiced()
        relationship.record_payment(NUMBER, eur(4000), on=START)
        with refuses(relationship, Refused, match="paid"):
            relationship.send_reminder(NUMBER, on=DUE + timedelta(days=5))


class TestInvoiceSeries:
    def test_numbers_are_correlative_in_the_series_and_year(self):
        series = InvoiceSeries(series_id("F", 2026))
        first = series.assign("F", "acme", date(2026, 1, 15), "tester")
        second = series.assign("F", "globex", date(2026, 1, 15), "tester")

        assert (first, second) == ("F-2026-001", "F-2026-002")
        events = new_events(series)
        assert all(isinstance(e, ev.InvoiceNumberAssigned) for e in events)
        assert [(e.sequence, e.handle, e.year, e.series) for e in events] == [
            (1, "acme", 2026, "F"), (2, "globex", 2026, "F")]
        assert series.version == 2

    def test_a_number_dated_before_the_previous_one_is_refused(self):
        series = InvoiceSeries(series_id("F", 2026))
        series.assign("F", "acme", date(2026, 3, 1), "tester")
        with refuses(series, Refused, match="F-2026-001"):
            series.assign("F", "acme", date(2026, 2, 28), "tester")

    def test_each_series_and_year_is_its_own_stream(self):
        assert series_id("F", 2026) != series_id("F", 2027)
        assert series_id("F", 2026) != series_id("R", 2026)
        assert invoice_number("R", 2027, 12) == "R-2027-012"

    def test_the_series_replays_to_the_same_position(self):
        series = InvoiceSeries(series_id("F", 2026))
        for day in (1, 2, 3):
            series.assign("F", "acme", date(2026, 1, day), "")
        replayed = InvoiceSeries.project(None, series.collect_events())
        assert (replayed.last_sequence, replayed.last_date, replayed.version) == (3, date(2026, 1, 3), 3)
        assert replayed.assign("F", "acme", date(2026, 1, 3), "") == "F-2026-004"
