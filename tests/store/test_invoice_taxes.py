"""Invoices a tax office accepts, worked out by hand: VAT per rate, IRPF withholding, reverse
charge, corrective invoices, and what the client then owes. Both backends, through the
Application and the read models (`status`), so the aggregate and the projection must agree.

Every expected figure below is computed by hand in its comment, not by the code under test.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from store_story import eur, open_and_sign
from tax_profile import SPANISH_PROFILE

from domain.model.billing import Line
from domain.model.errors import BadInput, Refused, UnknownReference
from domain.model.values import Party
from projections import ReadModels

ISSUED = date(2026, 1, 15)


@pytest.fixture
def taxed(app):
    """acme, a Spanish business (CIF B12345674), with K1 of 8000 EUR in force; we are a professional
    at 21 % VAT who withholds 15 % IRPF."""
    app.profile = SPANISH_PROFILE
    open_and_sign(app)
    app.change_client_details("acme", Party(name="Acme Consulting SL", tax_id="B12345674", country="ES",
                                            address="Gran Vía 1, 28013 Madrid"), on=date(2026, 1, 14))
    return app


def invoice(app, number: str, today: date = date(2026, 3, 31)) -> dict:
    models = ReadModels(app)
    try:
        models.catch_up()
        found = models.status("acme", today=today)
    finally:
        models.close()
    return next(i for i in found["invoices"] if i["number"] == number), found


def amounts(view: dict, *keys: str) -> tuple[str, ...]:
    return tuple(view[key]["amount"] for key in keys)


def test_a_domestic_invoice_carries_vat_and_withholding(taxed):
    # base 4000.00; VAT 21 % = 840.00; IRPF 15 % of the base = 600.00;
    # total 4000 + 840 = 4840.00; payable 4840 - 600 = 4240.00
    event = taxed.issue_invoice("acme", installment=1, on=ISSUED).event
    assert (event.taxes[0].base.amount, event.taxes[0].vat.amount) == (Decimal("4000.00"), Decimal("840.00"))
    assert (event.withholding.amount, event.total.amount, event.amount.amount) == (
        Decimal("600.00"), Decimal("4840.00"), Decimal("4240.00"))
    shown, status = invoice(taxed, event.invoice_number)
    assert amounts(shown, "base", "vat", "withholding", "total", "payable") == (
        "4000.00", "840.00", "600.00", "4840.00", "4240.00")
    assert status["balance"]["invoiced"]["amount"] == "4240.00"  # balances are on amounts payable


def test_a_late_payment_accrues_statutory_interest_on_the_amount_payable(taxed):
    # Due 2026-02-14 (30 days); on 2026-03-31 it is 45 days late. Reference rate 2.15 % + 8 = 10.15 %
    # a year on the payable 4240.00: 4240 * 0.1015 * 45 / 365 = 53.0589... -> 53.06; plus 40 EUR = 93.06
    taxed.issue_invoice("acme", installment=1, on=ISSUED)
    shown, _ = invoice(taxed, "F-2026-001")
    assert shown["outstanding"]["amount"] == "4240.00"
    assert shown["days_late"] == 45
    assert shown["late_fee"]["amount"] == "93.06"


def test_an_eu_business_is_invoiced_by_reverse_charge(taxed):
    # A German client with a valid VAT number: no VAT, no withholding; payable = base = 600.00
    taxed.change_client_details("acme", Party(name="Acme GmbH", tax_id="DE136695976", country="DE"),
                                on=date(2026, 1, 14))
    event = taxed.issue_invoice("acme", amount=eur(600), on=ISSUED).event
    assert event.taxation == "reverse-charge"
    assert (event.taxes[0].rate, event.taxes[0].vat.amount, event.withholding.amount, event.amount.amount) == (
        Decimal(0), Decimal("0.00"), Decimal("0.00"), Decimal("600.00"))
    shown, _ = invoice(taxed, event.invoice_number)
    assert shown["taxation"] == "reverse-charge" and shown["vat"]["amount"] == "0.00"


def test_a_mixed_rate_invoice_has_one_base_and_vat_per_rate(taxed):
    # 10 h x 60.00 at 21 % = 600.00 -> VAT 126.00; 3 x 33.33 at 10 % = 99.99 -> VAT 9.999 -> 10.00
    # base 699.99; VAT 136.00; total 835.99; IRPF 15 % of 699.99 = 104.9985 -> 105.00; payable 730.99
    event = taxed.issue_invoice("acme", on=ISSUED, lines=[
        Line("Development", Decimal(10), eur(60), Decimal(21)),
        Line("Printed manuals", Decimal(3), eur("33.33"), Decimal(10)),
    ]).event
    assert [(t.rate, t.base.amount, t.vat.amount) for t in event.taxes] == [
        (Decimal(21), Decimal("600.00"), Decimal("126.00")), (Decimal(10), Decimal("99.99"), Decimal("10.00"))]
    assert (event.withholding.amount, event.total.amount, event.amount.amount) == (
        Decimal("105.00"), Decimal("835.99"), Decimal("730.99"))
    shown, _ = invoice(taxed, event.invoice_number)
    assert amounts(shown, "base", "vat", "total", "payable") == ("699.99", "136.00", "835.99", "730.99")
    assert [line["vat_rate"] for line in shown["lines"]] == ["21", "10"]


def test_a_corrective_invoice_voids_one_and_leaves_the_balance_right(taxed):
    # F-2026-001 payable 4240.00, F-2026-002 payable 4240.00; R-2026-001 voids F-2026-001:
    # -4000.00 base, -840.00 VAT, +600.00 withholding, payable -4240.00. Owed: 4240.00 (F-2026-002).
    taxed.issue_invoice("acme", installment=1, on=ISSUED)
    taxed.issue_invoice("acme", installment=2, on=date(2026, 2, 15))
    corrective = taxed.correct_invoice("acme", "F-2026-001", on=date(2026, 2, 20), reason="Issued twice",
                                       void=True).event
    assert corrective.invoice_number == "R-2026-001" and corrective.corrects == "F-2026-001"
    assert (corrective.total.amount, corrective.withholding.amount, corrective.amount.amount) == (
        Decimal("-4840.00"), Decimal("-600.00"), Decimal("-4240.00"))
    voided, status = invoice(taxed, "F-2026-001")
    assert amounts(voided, "payable", "outstanding") == ("0.00", "0.00")
    assert not voided["late"] and voided["late_fee"] is None
    assert status["balance"]["outstanding"]["amount"] == "4240.00"


def test_a_correction_by_difference_lowers_what_is_owed(taxed):
    # -500.00 of base at 21 %: VAT -105.00, IRPF -75.00, payable -530.00; 4240.00 - 530.00 = 3710.00
    taxed.issue_invoice("acme", installment=1, on=ISSUED)
    taxed.correct_invoice("acme", "F-2026-001", on=date(2026, 1, 20), reason="Fewer pages", amount=eur(-500))
    shown, _ = invoice(taxed, "F-2026-001")
    assert amounts(shown, "base", "vat", "withholding", "payable") == ("3500.00", "735.00", "525.00", "3710.00")
    assert [c["number"] for c in shown["corrections"]] == ["R-2026-001"]


@pytest.mark.parametrize("asked, error, says", [
    (lambda a: a.correct_invoice("acme", "F-2026-009", on=date(2026, 2, 1), reason="x", void=True),
     UnknownReference, "has no invoice F-2026-009"),
    (lambda a: a.correct_invoice("acme", "F-2026-001", on=date(2026, 2, 1), reason="x", amount=eur(-5000)),
     Refused, "cannot become negative overall"),
    (lambda a: a.issue_invoice("acme", amount=eur(100), on=ISSUED, vat_rate=Decimal(7)),
     BadInput, "7% is not a Spanish VAT rate"),
    (lambda a: a.issue_invoice("acme", amount=eur(100), on=ISSUED, withholding=Decimal(12)),
     BadInput, "12% is not a professional withholding rate"),
], ids=["unknown-invoice", "negative-overall", "vat-rate", "withholding-rate"])
def test_what_a_tax_office_would_refuse_is_refused_and_consumes_no_number(taxed, asked, error, says):
    taxed.issue_invoice("acme", installment=1, on=ISSUED)
    with pytest.raises(error, match=says):
        asked(taxed)
    # the next invoice still takes the next number: nothing refused took one
    assert taxed.issue_invoice("acme", installment=2, on=date(2026, 2, 15)).event.invoice_number == "F-2026-002"


def test_withholding_for_a_client_abroad_is_refused(taxed):
    taxed.change_client_details("acme", Party(name="Acme Inc", country="US"), on=date(2026, 1, 14))
    with pytest.raises(BadInput, match="withholding .IRPF. applies only to clients in Spain"):
        taxed.issue_invoice("acme", amount=eur(100), on=ISSUED, withholding=Decimal(15))
    assert taxed.issue_invoice("acme", amount=eur(100), on=ISSUED).event.taxation == "not-subject"


def test_an_invalid_vat_number_is_refused_naming_the_check(taxed):
    with pytest.raises(BadInput, match="not a valid DE VAT number: its check digits are wrong"):
        taxed.change_client_details("acme", Party(name="Acme GmbH", tax_id="DE123456789", country="DE"),
                                    on=date(2026, 1, 14))


def test_invoicing_without_our_address_is_refused(taxed):
    taxed.profile = SPANISH_PROFILE.model_copy(update={"issuer": SPANISH_PROFILE.issuer.model_copy(
        update={"address": ""})})
    with pytest.raises(BadInput, match="an invoice needs your address"):
        taxed.issue_invoice("acme", installment=1, on=ISSUED)


def test_hours_are_billed_once(taxed):
    # 3.5 h + 2 h at the terms' 60.00/h: one line each, base 210.00 + 120.00 = 330.00
    taxed.log_hours("acme", Decimal("3.5"), on=date(2026, 1, 20), note="Templates")
    taxed.log_hours("acme", Decimal(2), on=date(2026, 1, 21), note="Forms")
    event = taxed.issue_invoice("acme", on=date(2026, 1, 31), hours=(date(2026, 1, 1), date(2026, 1, 31))).event
    assert [line.hours for line in event.lines] == [[1], [2]]
    assert event.taxes[0].base.amount == Decimal("330.00")
    with pytest.raises(Refused, match="left to bill"):
        taxed.issue_invoice("acme", on=date(2026, 1, 31), hours=(date(2026, 1, 1), date(2026, 1, 31)))


def test_a_line_billing_hours_bills_exactly_them(taxed):
    # entry 1 logged 3.5 h on K1: a line naming it must bill 3.5, once, on K1 (an import could say otherwise)
    taxed.log_hours("acme", Decimal("3.5"), on=date(2026, 1, 20), note="Templates")
    wrong_quantity = Line("Templates", Decimal(2), eur(60), None, (1,))
    with pytest.raises(Refused, match="has the quantity 2, not the hours they logged"):
        taxed.issue_invoice("acme", on=date(2026, 1, 31), lines=[wrong_quantity])
    twice = [Line("Templates", Decimal("3.5"), eur(60), None, (1,))] * 2
    with pytest.raises(Refused, match="already billed"):
        taxed.issue_invoice("acme", on=date(2026, 1, 31), lines=twice)


def test_a_correction_is_taxed_at_the_rates_of_the_invoice_it_corrects(taxed):
    taxed.issue_invoice("acme", installment=1, on=ISSUED)  # at 21 %
    with pytest.raises(Refused, match="was taxed at 21%: a correction of it cannot be taxed at 10%"):
        taxed.correct_invoice("acme", "F-2026-001", on=date(2026, 1, 20), reason="x",
                              lines=[Line("Less", Decimal(1), eur(-100), Decimal(10))])
