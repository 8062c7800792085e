"""The store written by the version-1 schema (tests/fixtures/store-v1.sqlite) still loads, verifies and shows.

The fixture was made by tests/fixtures/make_store_v1.py run from the commit
before `ContractDrafted` became version 2; it is copied, never opened in place. It holds
`TermsPublished` version 1 too (the schema before the half-year rate table), so it is
that version's golden store as well.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest
from backends import StoreSpec
from support import tratos
from tax_profile import UNTAXED_PROFILE

from domain.model.late_fees import late_fee_claim
from domain.model.money import Money
from domain.services.application import Tratos

FIXTURE = Path(__file__).parents[1] / "fixtures" / "store-v1.sqlite"


@pytest.fixture
def golden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StoreSpec:
    monkeypatch.delenv("TRATOS_DATABASE_URL", raising=False)
    monkeypatch.delenv("TRATOS_ENCRYPTION_KEY", raising=False)
    home = tmp_path / "golden"
    home.mkdir()
    shutil.copyfile(FIXTURE, home / "tratos.sqlite")
    return StoreSpec("sqlite", str(home))


def stored(path: Path, kind: str) -> list[dict]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT state FROM stored_events WHERE topic = ?", (f"domain.events:{kind}",)).fetchall()
    return [json.loads(state) for (state,) in rows]


def stored_drafts(path: Path) -> list[dict]:
    return stored(path, "ContractDrafted")


def test_the_fixture_holds_version_1_records():
    drafts = stored_drafts(FIXTURE)
    assert len(drafts) == 2
    assert all("class_version" not in d and "payment_method" not in d for d in drafts)


def test_the_fixture_holds_version_1_terms_stating_their_rate():
    terms = stored(FIXTURE, "TermsPublished")
    assert len(terms) == 1
    assert "class_version" not in terms[0] and terms[0]["terms"]["reference_rate"] == "2.15"


def test_version_1_terms_keep_their_rate_as_one_they_fix():
    """TermsPublished v2 reads a null rate as the half-year table's: a v1 rate is never that."""
    from domain.adapters.mapper import event_from_state

    state = stored(FIXTURE, "TermsPublished")[0]
    stated = event_from_state("domain.events:TermsPublished", state, uuid4(), 2)
    assert stated.terms.reference_rate == Decimal("2.15")
    without = json.loads(json.dumps(state))
    del without["terms"]["reference_rate"]  # not written by any tratos, but it meant the default
    assert event_from_state("domain.events:TermsPublished", without, uuid4(), 2).terms.reference_rate == Decimal("2.15")
    assert "reference_rate" not in without["terms"]  # the state read is left as it was
    typed = json.loads(json.dumps(state))
    typed["terms"]["reference_rate"] = "4.50"
    assert event_from_state("domain.events:TermsPublished", typed, uuid4(), 2).terms.reference_rate == Decimal("4.50")


def test_the_version_1_store_claims_the_late_fees_it_claimed_before(golden):
    """Shown by tratos before TermsPublished v2, on this fixture: F-2026-002 (4000 EUR due 17 Mar
    2026) at 2.15 % + 8 points, 44 days late on 30 Apr 2026 and 289 on 31 Dec 2026."""
    for day, fee in (("2026-04-30", "88.94"), ("2026-12-31", "361.46")):
        shown = tratos(golden, "--json", "status", "acme", "--as-of", day).json()
        late = {i["number"]: i["late_fee"] for i in shown["invoices"]}
        assert late == {"F-2026-001": None, "F-2026-002": {"amount": fee, "currency": "EUR"}}, day
    app = Tratos(home=Path(golden.home))
    try:
        relationship = app.relationship("acme")
        assert relationship.terms[1].reference_rate == Decimal("2.15")
        invoice = relationship.invoices["F-2026-002"]
        assert late_fee_claim(relationship, invoice, date(2026, 12, 31)) == Money.of("361.46", "EUR")
    finally:
        app.close()


def test_the_current_code_loads_the_version_1_store_and_upcasts(golden):
    app = Tratos(profile=UNTAXED_PROFILE, home=Path(golden.home))
    try:
        relationship = app.relationship("acme")
        assert relationship.version == 23
        assert relationship.contracts["K1"].payment_method == "bank transfer"
        assert relationship.contracts["K1"].state == "in_force"
        assert app.verify("acme").ok and app.verify("north-wind").ok
    finally:
        app.close()


def test_the_version_1_store_verifies_and_shows_its_status(golden):
    audit = tratos(golden, "--json", "audit", "verify")
    assert audit.code == 0, audit.stdout
    report = audit.json()
    assert {s["label"]: s["events"] for s in report["streams"]} == {
        "acme": 23, "north-wind": 8, "invoices:F-2026": 3}
    assert report["documents_checked"] == 1

    status = tratos(golden, "--json", "status", "acme")
    assert status.code == 0, status.stderr
    shown = status.json()
    assert shown["state"] == "active"
    assert shown["contract"]["total"] == {"amount": "8600.00", "currency": "EUR"}
    assert shown["balance"]["paid"] == {"amount": "4000.00", "currency": "EUR"}
    assert tratos(golden, "--json", "status", "north-wind").json()["state"] == "ended"


def test_new_events_go_on_the_old_chain_as_version_2(golden):
    drafted = tratos(golden, "contract", "draft", "acme", "--title", "Maintenance", "--scope", "Monthly care",
                     "--price", "900EUR", "--start", "2026-04-01", "--end", "2026-06-30",
                     "--payment-method", "card", "--on", "2026-03-31")
    assert drafted.code == 0, drafted.stderr
    newest = stored_drafts(Path(golden.home) / "tratos.sqlite")[-1]
    assert newest["class_version"] == 2 and newest["payment_method"] == "card"
    assert tratos(golden, "audit", "verify").code == 0


def test_new_terms_on_the_old_chain_are_version_2_and_may_leave_the_rate_to_the_table(golden):
    published = tratos(golden, "terms", "publish", "acme", "--late-fee", "statutory-eu", "--on", "2026-03-31")
    assert published.code == 0, published.stderr
    newest = stored(Path(golden.home) / "tratos.sqlite", "TermsPublished")[-1]
    assert newest["class_version"] == 2 and newest["terms"]["reference_rate"] is None
    assert tratos(golden, "audit", "verify").code == 0


def test_the_fixture_is_never_changed(golden):
    """Golden stores are evidence of an old schema: tests work on copies (sha256 committed beside it)."""
    tratos(golden, "status")
    recorded = (FIXTURE.parent / "store-v1.sqlite.sha256").read_text().split()[0]
    assert hashlib.sha256(FIXTURE.read_bytes()).hexdigest() == recorded


def test_the_version_1_store_exports_and_imports_with_every_event_decided_again(golden, tmp_path):
    """Import re-decides each event with today's commands (ADR-24): a store tratos 0.1 wrote still passes."""
    exported = tmp_path / "golden.jsonl"
    assert tratos(golden, "export", str(exported)).code == 0
    target = StoreSpec("sqlite", str(tmp_path / "target"))
    outcome = tratos(target, "import", str(exported))
    assert outcome.code == 0, outcome
    imported, original = tratos(target, "audit", "verify"), tratos(golden, "audit", "verify")
    assert imported.code == 0, imported
    chains = [line for line in original.stdout.splitlines() if "events  head v" in line]
    assert chains and chains == [line for line in imported.stdout.splitlines() if "events  head v" in line]
