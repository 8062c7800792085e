"""The store written by the version-1 schema (tests/fixtures/store-v1.sqlite) still loads, verifies and shows.

The fixture was made by tests/fixtures/make_store_v1.py run from the commit
before `ContractDrafted` became version 2; it is copied, never opened in place.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from backends import StoreSpec
from support import tratos
from tax_profile import UNTAXED_PROFILE

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


def stored_drafts(path: Path) -> list[dict]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT state FROM stored_events WHERE topic = 'domain.events:ContractDrafted'").fetchall()
    return [json.loads(state) for (state,) in rows]


def test_the_fixture_holds_version_1_records():
    drafts = stored_drafts(FIXTURE)
    assert len(drafts) == 2
    assert all("class_version" not in d and "payment_method" not in d for d in drafts)


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
