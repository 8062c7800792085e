"""The demo story, recorded through the Application, for document and command tests.

acme: terms, an 8,000 EUR contract paid 50/50 and signed by both, change C1
(600 EUR, approved), mistake M1 (diagnosed, remedied by agreement, lesson
learned), invoice F-2026-001 paid, F-2026-002 late, hours, a note with evidence.
north-wind: a small contract delivered, paid and ended.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from domain.adapters.evidence import EvidenceFolder, read_evidence
from domain.model.money import Money
from domain.model.values import (
    Evidence,
    Installment,
    Issuer,
    LateFee,
    Party,
    Scope,
    TaxProfile,
    Terms,
)
from domain.services.application import Tratos

if TYPE_CHECKING:
    from backends import StoreSpec

IDENTITY = {
    "name": "Ana García Pérez",
    "email": "ana@garcia.example",
    "tax_id": "12345678Z",
    "address": "Calle Luna 5, 28004 Madrid",
    "currency": "EUR",
    "lang": "es",
    "iban": "ES91 2100 0418 4502 0005 1332",
}
ACME = "Acme Consulting SL"
NORTHWIND = "Northwind Traders Ltd"
TODAY = date(2026, 3, 31)
US_FINGERPRINT = "5f" * 32


def eur(amount: str | int) -> Money:
    return Money.of(amount, "EUR")


def terms() -> Terms:
    return Terms(
        rate=eur(60), weekly_hours=Decimal(30), response_days=2, payment_days=30, revisions=2,
        out_of_scope_rate=eur(75), late_fee=LateFee(kind="statutory-eu"),
        reference_rate=Decimal("2.15"), working_hours="Mon-Fri 09:00-17:00",
        confidentiality="Client data and unpublished designs stay confidential for 5 years after the end.",
    )


def evidence(home: Path, name: str, content: str) -> list[Evidence]:
    """Keep a file in the store's evidence folder, as `--evidence FILE` does."""
    source = home.parent / "incoming" / name
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(content)
    data, described = read_evidence(source)
    EvidenceFolder.of(home).keep(data)
    return [described]


def record_story(home: Path, store: StoreSpec | None = None) -> Path:
    """Record the whole story in a store at `home` (or in `store`, a tests/backends.StoreSpec of
    that home: SQLite or PostgreSQL); write identity.json; return `home`."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "identity.json").write_text(json.dumps(IDENTITY, ensure_ascii=False))
    app = store.open(actor=IDENTITY["name"]) if store else Tratos(home=home, actor=IDENTITY["name"])
    # its billing records made on the story's last day, as the CLI tests' pinned TRATOS_TODAY makes theirs
    # (a record is never made before the one it follows, ADR-66): not on the machine's date
    app.record_clock = lambda: datetime(2026, 3, 31, 12, tzinfo=ZoneInfo("Europe/Madrid"))
    # invoices name the freelancer as identity.json does; at 0 % VAT, so the story's amounts stand
    app.profile = TaxProfile(issuer=Issuer(**{k: IDENTITY[k] for k in ("name", "email", "tax_id", "address",
                                                                         "iban")}, country="ES"),
                             vat_rate=Decimal(0))
    try:
        _acme(app, home)
        _northwind(app)
    finally:
        app.close()
    return home


def _acme(app: Tratos, home: Path) -> None:
    acme = "acme"
    app.open_relationship(acme, Party(name=ACME, email="legal@acme.example", tax_id="B12345678",
                                      address="Calle Mayor 1, 28013 Madrid"), on=date(2026, 1, 5))
    app.publish_terms(acme, terms(), on=date(2026, 1, 5))
    app.draft_contract(
        acme, title="Website redesign",
        scope=Scope(description="Redesign of the public website: new visual identity, page templates"
                                " and a content migration of the existing 40 pages.",
                    deliverables=["Design system", "Five page templates", "Content migration",
                                  "Two weeks of launch support"]),
        price=eur(8000), hours_budget=Decimal(120), start=date(2026, 1, 15), end=date(2026, 3, 15),
        installments=[
            Installment(n=1, amount=eur(4000), due=date(2026, 1, 15), percent=Decimal(50)),
            Installment(n=2, amount=eur(4000), due=date(2026, 2, 15), percent=Decimal(50)),
        ],
        our_duties=["Deliver a working preview every Friday", "Answer within two working days"],
        client_duties=["Pay each invoice within 30 days", "Give feedback on previews within 3 days",
                       "Provide the texts of every page"],
        on=date(2026, 1, 8),
    )
    app.sign_contract(acme, party="us", signer=IDENTITY["name"], method="pades", on=date(2026, 1, 12),
                      certificate_subject=f"CN={IDENTITY['name']}, E={IDENTITY['email']}",
                      certificate_fingerprint=US_FINGERPRINT, document_sha256="a1" * 32)
    app.sign_contract(acme, party="client", signer="Laura Martín", method="email", on=date(2026, 1, 13),
                      evidence=evidence(home, "acceptance.eml",
                                        "From: laura@acme.example\nTo: ana@garcia.example\n"
                                        "Date: Tue, 13 Jan 2026 10:00:00 +0100\n"
                                        "Subject: Contract K1 accepted\n\nWe accept contract K1.\n"))
    app.issue_invoice(acme, installment=1, on=date(2026, 1, 15))  # F-2026-001
    app.request_change(acme, "Add a blog section with three article templates", requested_by="client",
                       on=date(2026, 1, 20),
                       evidence=evidence(home, "blog-request.eml",
                                         "From: laura@acme.example\nSubject: Blog\n\nCan you add a blog?\n"))
    app.quote_change(acme, "C1", price=eur(600), hours=Decimal(10), days=5, on=date(2026, 1, 21))
    app.approve_change(acme, "C1", on=date(2026, 1, 22))
    app.log_hours(acme, Decimal(6), note="Design system", on=date(2026, 1, 30))
    app.report_mistake(acme, "The contact form sends the messages to an old address; we lost two enquiries.",
                       reported_by="client", on=date(2026, 2, 2),
                       evidence=evidence(home, "form-screenshot.png", "PNG screenshot of the form"))
    app.acknowledge_mistake(acme, "M1", apology="I am sorry: the mistake is mine and I am fixing it today.",
                            on=date(2026, 2, 3))
    app.diagnose_mistake(acme, "M1", fault="ours", cause="The form's recipient was copied from the staging"
                         " configuration.", category="configuration", on=date(2026, 2, 3))
    app.propose_remedy(acme, "M1", "Fix the recipient and forward the two lost enquiries", cost=eur(0),
                       hours=Decimal(2), on=date(2026, 2, 3))
    app.propose_remedy(acme, "M1", "Fix the recipient and add a monthly delivery test", cost=eur(150),
                       hours=Decimal(3), on=date(2026, 2, 3))
    app.choose_remedy(acme, "M1", "O1", agreed=True, on=date(2026, 2, 4))
    app.resolve_mistake(acme, "M1", on=date(2026, 2, 5))
    app.record_lesson(acme, "M1", "Check the production configuration against a checklist before each release.",
                      on=date(2026, 2, 5))
    app.record_payment(acme, "F-2026-001", eur(4000), on=date(2026, 2, 10))
    app.issue_invoice(acme, installment=2, on=date(2026, 2, 15))  # F-2026-002, due 17 March
    app.mark_late(acme, "F-2026-002", on=date(2026, 3, 20))
    app.record_note(acme, "Laura called: the payment of F-2026-002 is waiting for their CFO.",
                    on=date(2026, 3, 23),
                    evidence=evidence(home, "call-notes.txt", "23 March, 10:15, call with Laura Martín.\n"))


def _northwind(app: Tratos) -> None:
    north = "north-wind"
    app.open_relationship(north, Party(name=NORTHWIND, email="ops@northwind.example",
                                       address="1 Harbour Street, Bristol BS1 4XX"), on=date(2026, 1, 10))
    app.publish_terms(north, terms(), on=date(2026, 1, 10))
    app.draft_contract(
        north, title="Logo and brand guide",
        scope=Scope(description="A logo and a short brand guide.", deliverables=["Logo", "Brand guide"]),
        price=eur(1200), start=date(2026, 1, 20), end=date(2026, 2, 28),
        installments=[Installment(n=1, amount=eur(1200), due=date(2026, 2, 27), percent=Decimal(100))],
        on=date(2026, 1, 12),
    )
    app.sign_contract(north, party="us", signer=IDENTITY["name"], method="typed", on=date(2026, 1, 14))
    app.sign_contract(north, party="client", signer="Tom Baker", method="typed", on=date(2026, 1, 15))
    app.complete_contract(north, on=date(2026, 2, 27))
    app.issue_invoice(north, installment=1, on=date(2026, 2, 27))  # F-2026-003
    app.record_payment(north, "F-2026-003", eur(1200), on=date(2026, 3, 5))
    app.end_relationship(north, reason="The project was delivered and no further work is planned.",
                         ended_by="us", on=date(2026, 3, 10))
