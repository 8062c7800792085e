"""The audit tests' story and CLI runner, on whichever backend the `store` fixture gives.

`record_story(app, home)` writes acme's relationship (10 events, one evidence
file, one DocumentIssued anchoring version 7), north-wind's (2 events) and the
invoice series (1 event) through the Application. `tratos(store, *args)` runs
the real console entry point in-process on that store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from cli.main import main
from domain.adapters.evidence import EvidenceFolder, read_evidence
from domain.model.money import Money
from domain.model.values import Installment, Party, Scope, Terms, stream_id

TODAY = "2026-03-31"
ACME, NORTH = "acme", "north-wind"
ACME_STREAM = stream_id(ACME)
ACME_NAME = "Acme Consulting SL"
NOTE_TEXT = "Client confirmed the launch date by phone"
# backend -> tamper case -> detected; printed at the end of the run (tests/integrity/conftest.py)
MATRIX: dict[str, dict[str, bool]] = {}
# acme's versions, as recorded by record_story
OPENED, TERMS, DRAFTED, SIGNED_US, SIGNED_CLIENT, INVOICED, PAID, DOCUMENT, HOURS, NOTE = range(1, 11)


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def tratos(store: Any, *args: str, env: dict[str, str | None] | None = None) -> Outcome:
    """`tratos [store options] ARGS…` in-process: exit code, stdout, stderr."""
    settings: dict[str, str | None] = {"TRATOS_TODAY": TODAY, "TRATOS_DEBUG": None}
    if store.database_url is None:  # a SQLite store, even while the test's own store is PostgreSQL
        settings["TRATOS_DATABASE_URL"] = None
    settings.update(env or {})
    with CliRunner().isolation(env=settings) as (out, err, _):
        try:
            main([*store.cli_args(), *args])
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    return Outcome(code, out.getvalue().decode(), err.getvalue().decode())


def eur(amount: int | str) -> Money:
    return Money.of(amount, "EUR")


def record_story(app: Any, home: Path) -> None:
    acceptance = home.parent / "acceptance.eml"
    acceptance.write_text("From: laura@acme.example\nSubject: Contract K1\n\nWe accept contract K1.\n")
    content, evidence = read_evidence(acceptance)
    EvidenceFolder.of(home).keep(content)

    app.open_relationship(ACME, Party(name=ACME_NAME, email="legal@acme.example"), on=date(2026, 1, 5))
    app.publish_terms(ACME, Terms(rate=eur(60), payment_days=30), on=date(2026, 1, 5))
    app.draft_contract(ACME, title="Website redesign", scope=Scope(description="Redesign the public website"),
                       price=eur(8000), start=date(2026, 1, 15), end=date(2026, 3, 15),
                       installments=[Installment(n=1, amount=eur(4000), due=date(2026, 1, 15)),
                                     Installment(n=2, amount=eur(4000), due=date(2026, 2, 15))],
                       on=date(2026, 1, 8))
    app.sign_contract(ACME, party="us", signer="Ana García", method="typed", on=date(2026, 1, 12))
    app.sign_contract(ACME, party="client", signer="Laura Martín", method="email", on=date(2026, 1, 13),
                      evidence=[evidence])
    app.issue_invoice(ACME, installment=1, on=date(2026, 1, 15))
    app.record_payment(ACME, "F-2026-001", eur(4000), on=date(2026, 2, 1))
    head = app.relationship(ACME)
    app.issue_document(ACME, "contract", sha256="c0" * 32, chain_version=head.version,
                       chain_digest=head.head_digest, on=date(2026, 2, 1), document_id="K1", lang="en")
    app.log_hours(ACME, Decimal("6.5"), note="Templates", on=date(2026, 2, 2))
    app.record_note(ACME, NOTE_TEXT, on=date(2026, 2, 3))
    app.open_relationship(NORTH, Party(name="Northwind Traders Ltd"), on=date(2026, 1, 10))
    app.record_note(NORTH, "First call", on=date(2026, 1, 11))
