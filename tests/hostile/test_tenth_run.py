"""The tenth adversarial run (issue 19), sections 2, 3 and 10, fixed where each rule lives (ADR-67).

2. the book of issued invoices keeps a cancelled invoice's number, marked and counting nothing; the
   calendar leaves its due date out;
3. a new contract is not dated before the latest step of the contract it follows, nor a terms
   version before the version it follows;
10. installments are numbered as they fall due, and a contract does not start before the relationship.

Each refusal is one `error:` line, its exit code and the store unchanged, on both backends.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from cli_support import IN_FORCE, copied, ok, recorded_template, refused

KEYED = {"TRATOS_KEY_PASSPHRASE": "s3cret passphrase"}
HISTORY = [
    ("init", "--name", "Ana García", "--email", "ana@example.com"),
    ("identity", "invoicing", "--tax-id", "12345678Z", "--address", "Calle Mayor 1, 28013 Madrid", "--vat", "21%"),
    *IN_FORCE[2:],                                                                   # acme, K1 in force on 01-12
    ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15"),        # F-2026-001
    ("terms", "publish", "acme", "--payment-days", "10", "--on", "2026-02-01"),      # v2
    ("invoice", "issue", "acme", "--installment", "2", "--on", "2026-02-15"),        # F-2026-002
]
DRAFT = ("contract", "draft", "acme", "--title", "Phase2", "--scope", "S", "--price", "1000EUR")


@pytest.fixture
def acme(module_store, store) -> Iterator[Path]:
    with copied(recorded_template(module_store, store.backend, "hostile-tenth-run", HISTORY, KEYED), store) as home:
        yield home


# ------------------------------------------------------------------ 2. a cancelled invoice in the book and calendar

def book(home: Path) -> list[dict]:
    return json.loads(ok(home, "--json", "invoice", "book", "--year", "2026").stdout)["rows"]


def test_the_book_keeps_a_cancelled_invoice_marked_and_counting_nothing(acme):
    ok(acme, "verifactu", "cancel", "F-2026-002", env=KEYED)
    ok(acme, "invoice", "issue", "acme", "--installment", "2", "--on", "2026-03-31", env=KEYED)  # F-2026-003
    rows = book(acme)
    assert [row["number"] for row in rows] == ["001", "002", "003"]  # the series keeps its number
    first, cancelled, again = rows
    for row in (first, again):
        assert (row["income"], row["base"], row["vat"], row["total"]) == ("4000.00", "4000.00", "840.00", "4840.00")
        assert row["external_reference"] is None
    assert (cancelled["income"], cancelled["base"], cancelled["vat"], cancelled["total"]) == (
        "0.00", "0.00", "0.00", "0.00")
    assert cancelled["external_reference"] == "Anulada: registro de facturación anulado el 31/03/2026"
    totals = {key: sum(Decimal(row[key] or 0) for row in rows) for key in ("income", "base", "vat", "total")}
    assert totals == {"income": Decimal("8000.00"), "base": Decimal("8000.00"), "vat": Decimal("1680.00"),
                      "total": Decimal("9680.00")}


def test_the_book_as_csv_marks_the_cancelled_invoice(acme):
    ok(acme, "verifactu", "cancel", "F-2026-002", env=KEYED)
    target = acme.parent / "book.csv"
    ok(acme, "invoice", "book", "--year", "2026", "-o", str(target))
    [line] = [line for line in target.read_text(encoding="utf-8").splitlines() if ";F-2026;002;" in line]
    assert ";0,00;" in line and "4000,00" not in line and "4840,00" not in line
    assert line.endswith(";Anulada: registro de facturación anulado el 31/03/2026")


def test_the_calendar_leaves_out_a_cancelled_invoice(acme):
    def due_invoices() -> list[str]:
        events = json.loads(ok(acme, "--json", "calendar", "acme", "-o", str(acme.parent / "c.ics")).stdout)["events"]
        return sorted(e["uid"].split("@")[0].split(".")[2] for e in events if ".invoice-due." in e["uid"])

    assert due_invoices() == ["F-2026-001", "F-2026-002"]
    ok(acme, "verifactu", "cancel", "F-2026-002", env=KEYED)
    assert due_invoices() == ["F-2026-001"]
    assert "F-2026-002" not in (acme.parent / "c.ics").read_text(encoding="utf-8")


# ------------------------------------------------------------------ 3. a new contract or terms version follows the last

@pytest.mark.parametrize(("on", "message"), [
    ("2026-01-09", "2026-01-09 is before contract K1 came into force (2026-01-12)"),
    ("2026-01-11", "2026-01-11 is before contract K1 came into force (2026-01-12)"),
])
def test_a_contract_dated_before_the_one_it_follows_is_refused(acme, on, message):
    refused(acme, (*DRAFT, "--start", "2026-04-01", "--end", "2026-05-01", "--on", on), 1, message)


def test_a_contract_after_a_completed_one_follows_its_completion(acme):
    ok(acme, "contract", "complete", "acme", "--on", "2026-03-20")
    refused(acme, (*DRAFT, "--start", "2026-04-01", "--end", "2026-05-01", "--on", "2026-03-19"), 1,
            "2026-03-19 is before contract K1 was completed (2026-03-20)")
    ok(acme, *DRAFT, "--start", "2026-04-01", "--end", "2026-05-01", "--on", "2026-03-20")


def test_a_contract_on_the_day_the_one_before_came_into_force_is_accepted(acme):
    assert "contract K2" in ok(acme, *DRAFT, "--start", "2026-04-01", "--end", "2026-05-01",
                                "--on", "2026-01-12").stdout


def test_a_terms_version_dated_before_the_one_it_follows_is_refused(acme):
    refused(acme, ("terms", "publish", "acme", "--payment-days", "60", "--on", "2026-01-06"), 1,
            "2026-01-06 is before terms v2 were published (2026-02-01)")
    ok(acme, "terms", "publish", "acme", "--payment-days", "60", "--on", "2026-02-01")


# ------------------------------------------------------------------ 10. installments in order, a start after the opening

def test_installments_out_of_date_order_are_refused(acme):
    refused(acme, (*DRAFT, "--start", "2026-04-01", "--end", "2026-05-01", "--installment", "50%@2026-05-01",
                   "--installment", "50%@2026-04-01", "--on", "2026-03-31"), 1,
            "installment 2 is due on 2026-04-01, before installment 1 (2026-05-01): give the installments"
            " in the order they fall due")


def test_installments_due_the_same_day_are_accepted(acme):
    ok(acme, *DRAFT, "--start", "2026-04-01", "--end", "2026-05-01", "--installment", "50%@2026-04-01",
       "--installment", "50%@2026-04-01", "--on", "2026-03-31")


@pytest.mark.parametrize("start", ["1900-01-01", "2026-01-04"])
def test_a_contract_starting_before_the_opening_is_refused(acme, start):
    refused(acme, (*DRAFT, "--start", start, "--end", "2999-12-31", "--on", "2026-03-31"), 1,
            f"the contract starts on {start}, before the relationship with acme was opened (2026-01-05)")


def test_a_contract_starting_on_the_opening_day_is_accepted(acme):
    ok(acme, *DRAFT, "--start", "2026-01-05", "--end", "2026-05-01", "--on", "2026-03-31")
