"""Verifactu billing records kept with the invoices: one chain per issuer NIF across clients, both
series and years, written in the invoice's own transaction; cancellations after, never deletions.

Both backends, through the Application. Fingerprints are recomputed here with hashlib from the
agency's formula, not with the code under test.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta, timezone

import pytest
from store_story import eur, open_and_sign
from tax_profile import SPANISH_PROFILE

from domain.model.errors import BadInput, Refused, UnknownReference
from domain.model.streams import records_id
from domain.model.values import Party

NIF = "12345678Z"  # SPANISH_PROFILE's issuer
MADRID = timezone(timedelta(hours=1))


def huella(record) -> str:
    previous = record.previous.fingerprint if record.previous else ""
    if type(record).__name__ == "InvoiceRegistered":
        text = (f"IDEmisorFactura={record.issuer_nif}&NumSerieFactura={record.invoice_number}"
                f"&FechaExpedicionFactura={record.issued_on}&TipoFactura={record.invoice_type}"
                f"&CuotaTotal={record.tax_total}&ImporteTotal={record.total}&Huella={previous}"
                f"&FechaHoraHusoGenRegistro={record.generated_at}")
    else:
        text = (f"IDEmisorFacturaAnulada={record.issuer_nif}&NumSerieFacturaAnulada={record.invoice_number}"
                f"&FechaExpedicionFacturaAnulada={record.issued_on}&Huella={previous}"
                f"&FechaHoraHusoGenRegistro={record.generated_at}")
    return hashlib.sha256(text.encode()).hexdigest().upper()


def stored_records(app) -> list:
    return [app.mapper.to_domain_event(e) for e in app.recorder.select_events(records_id(NIF))]


class Ticking:
    """A clock that moves one second per record, from 2026-06-01 10:00:00+01:00, after the invoices here
    (a record is not made before its invoice's date, ADR-66)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 6, 1, 10, 0, 0, tzinfo=MADRID)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def taxed(app):
    app.profile = SPANISH_PROFILE
    app.record_clock = Ticking()
    for handle in ("acme", "north"):
        open_and_sign(app, handle)
        app.change_client_details(handle, Party(name=f"{handle.title()} SL", tax_id="B12345674", country="ES",
                                                address="Gran Vía 1, 28013 Madrid"), on=date(2026, 1, 14))
    return app


def test_an_invoice_is_registered_in_its_own_transaction_the_first_with_no_previous(taxed):
    invoice = taxed.issue_invoice("acme", installment=1, on=date(2026, 1, 15)).event
    [record] = stored_records(taxed)
    assert (record.issuer_nif, record.issuer_name, record.invoice_number, record.issued_on, record.invoice_type) == (
        NIF, "Ana García", invoice.invoice_number, "15-01-2026", "F1")
    # base 4000.00 at 21 %: VAT 840.00, total 4840.00 (the IRPF withheld is not deducted from ImporteTotal)
    assert (record.tax_total, record.total) == ("840.00", "4840.00")
    [detail] = record.breakdown
    assert (detail.tax, detail.regime, detail.qualification, detail.rate, detail.base, detail.vat) == (
        "01", "01", "S1", "21.00", "4000.00", "840.00")
    assert record.recipient.nif == "B12345674" and record.recipient.name == "Acme SL"
    assert record.previous is None and record.generated_at == "2026-06-01T10:00:01+01:00"
    assert record.fingerprint_type == "01" and record.fingerprint == huella(record)
    assert record.system.name == "tratos" and record.system.producer_nif == NIF


def test_the_chain_runs_across_clients_and_both_series(taxed):
    first = taxed.issue_invoice("acme", installment=1, on=date(2026, 1, 15)).event
    second = taxed.issue_invoice("north", installment=1, on=date(2026, 1, 16)).event
    corrective = taxed.correct_invoice("acme", first.invoice_number, on=date(2026, 1, 20), reason="Discount agreed",
                                       amount=eur("-100")).event
    records = stored_records(taxed)
    assert [r.invoice_number for r in records] == [first.invoice_number, second.invoice_number,
                                                   corrective.invoice_number]
    for before, after in zip(records, records[1:], strict=False):
        assert after.previous.fingerprint == before.fingerprint
        assert (after.previous.number, after.previous.issued_on) == (before.invoice_number, before.issued_on)
    assert all(r.fingerprint == huella(r) for r in records)
    rectifying = records[2]
    # -100.00 at 21 %: VAT -21.00, total -121.00, by differences, ground art. 80 (R1)
    assert (rectifying.invoice_type, rectifying.tax_total, rectifying.total) == ("R1", "-21.00", "-121.00")
    assert [(c.number, c.issued_on) for c in rectifying.corrected] == [(first.invoice_number, "15-01-2026")]
    assert rectifying.description == "Discount agreed"


def test_a_corrective_invoice_for_a_bad_debt_is_an_r3(taxed):
    first = taxed.issue_invoice("acme", installment=1, on=date(2026, 1, 15)).event
    taxed.correct_invoice("acme", first.invoice_number, on=date(2026, 6, 1), reason="Uncollectable", void=True,
                          ground="R3")
    assert [r.invoice_type for r in stored_records(taxed)] == ["F1", "R3"]
    with pytest.raises(BadInput, match="unknown ground"):
        taxed.correct_invoice("acme", first.invoice_number, on=date(2026, 6, 1), reason="x", void=True, ground="R9")


def test_a_refused_invoice_leaves_no_record(taxed):
    taxed.issue_invoice("acme", installment=1, on=date(2026, 1, 15))
    with pytest.raises(Refused):
        taxed.issue_invoice("acme", installment=1, on=date(2026, 1, 16))  # billed already
    assert len(stored_records(taxed)) == 1


def test_a_cancelled_record_stays_with_its_cancellation_after_it(taxed):
    first = taxed.issue_invoice("acme", installment=1, on=date(2026, 1, 15)).event
    taxed.issue_invoice("north", installment=1, on=date(2026, 1, 16))
    taxed.cancel_record(NIF, first.invoice_number, on=date(2026, 1, 17))
    records = stored_records(taxed)
    assert [type(r).__name__ for r in records] == ["InvoiceRegistered", "InvoiceRegistered",
                                                   "InvoiceRegistrationCancelled"]
    cancellation = records[2]
    assert (cancellation.invoice_number, cancellation.issued_on) == (first.invoice_number, "15-01-2026")
    assert cancellation.previous.fingerprint == records[1].fingerprint
    assert cancellation.fingerprint == huella(cancellation)
    with pytest.raises(Refused, match="cancelled already"):
        taxed.cancel_record(NIF, first.invoice_number, on=date(2026, 1, 18))
    with pytest.raises(UnknownReference, match="no registration record"):
        taxed.cancel_record(NIF, "F-2026-999", on=date(2026, 1, 18))
    after = taxed.issue_invoice("acme", installment=2, on=date(2026, 2, 15)).event
    last = stored_records(taxed)[-1]
    assert last.invoice_number == after.invoice_number and last.previous.fingerprint == cancellation.fingerprint


def test_a_store_without_records_starts_its_chain_at_the_next_invoice(taxed):
    """Invoices recorded before billing records have none: the chain starts empty at the next one."""
    chain = taxed.records(NIF)
    assert chain.version == 0 and chain.last is None
    with pytest.raises(UnknownReference, match="no registration record"):
        taxed.cancel_record(NIF, "F-2026-001", on=date(2026, 1, 17))


def test_a_new_tax_id_starts_a_new_chain_and_says_so(taxed):
    taxed.issue_invoice("acme", installment=1, on=date(2026, 1, 15))
    issuer = SPANISH_PROFILE.issuer.model_copy(update={"tax_id": "87654321X"})
    taxed.profile = SPANISH_PROFILE.model_copy(update={"issuer": issuer})
    done = taxed.issue_invoice("north", installment=1, on=date(2026, 1, 16))
    assert done.warnings == ["your tax id is now 87654321X: its billing records start a new chain; the records"
                             " issued as 12345678Z stay in theirs"]
    [record] = [taxed.mapper.to_domain_event(e) for e in taxed.recorder.select_events(records_id("87654321X"))]
    assert record.previous is None and record.issuer_nif == "87654321X" and record.fingerprint == huella(record)
    assert taxed.issue_invoice("north", installment=2, on=date(2026, 2, 16)).warnings == []
