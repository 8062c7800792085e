"""The Verifactu tests' story and helpers: two clients invoiced, a corrective invoice, a cancelled record;
the vendored schemas; an identity keeping its records (no-verifactu) or sending them.

Shared by test_verifactu.py, test_verifactu_signed.py and test_verifactu_events.py; their fixtures
(`billed`, `key`, `signed`) are in this folder's conftest.py.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from lxml import etree
from support import tratos as run_tratos

from domain.model.billing import Line
from domain.model.money import Money
from domain.model.values import Installment, Party, Scope

FIXTURES = Path(__file__).parents[1] / "fixtures" / "verifactu"
SF = ("{https://www2.agenciatributaria.gob.es/static_files/common/internet/dep/aplicaciones/es/aeat/tike/cont/ws/"
      "SuministroInformacion.xsd}")
NIF = "12345678Z"  # the test profile's issuer
MADRID = timezone(timedelta(hours=1))


def eur(amount: str | int) -> Money:
    return Money(amount=Decimal(amount), currency="EUR")


class Ticking:
    """A clock that moves one second per record, from a day after the stories' invoices (a record is
    not made before its invoice's date, ADR-66)."""

    def __init__(self, start: datetime = datetime(2026, 3, 1, 9, 0, 0, tzinfo=MADRID)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def client(app, handle: str) -> None:
    app.open_relationship(handle, Party(name=f"{handle.title()} SL", tax_id="B12345674", country="ES"),
                          on=date(2026, 1, 2))
    app.draft_contract(handle, title="Support", scope=Scope(description="Support"), price=eur(100000),
                       start=date(2026, 1, 5), end=date(2026, 12, 31),
                       installments=[Installment(n=1, amount=eur(100000), due=date(2026, 12, 31))],
                       on=date(2026, 1, 3))
    app.sign_contract(handle, party="us", signer="Ana", method="typed", on=date(2026, 1, 4))
    app.sign_contract(handle, party="client", signer="Laura", method="typed", on=date(2026, 1, 4))


def invoice(app, handle: str, on: date, amount: str) -> str:
    return app.issue_invoice(handle, on=on, lines=[Line("Support hours", Decimal(1), eur(amount))]).event.invoice_number


def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(FIXTURES / "SuministroLR.xsd")))


def valid(path: Path) -> None:
    check = schema()
    document = etree.parse(str(path))
    assert check.validate(document), check.error_log


def bill(app):
    """Two clients; an invoice each, a corrective invoice, one record cancelled, one more invoice."""
    app.record_clock = Ticking()
    client(app, "acme")
    client(app, "north")
    first = invoice(app, "acme", date(2026, 1, 10), "1000")
    invoice(app, "north", date(2026, 1, 11), "250.50")
    app.correct_invoice("acme", first, on=date(2026, 1, 12), reason="Hours billed twice", amount=eur("-100"))
    cancelled = invoice(app, "north", date(2026, 1, 13), "99.99")
    app.cancel_record(NIF, cancelled, on=date(2026, 1, 13))
    invoice(app, "acme", date(2026, 1, 14), "10")
    return app


def identity_file(home: Path, **more: str) -> None:

    home.mkdir(parents=True, exist_ok=True)
    (home / "identity.json").write_text(json.dumps({"name": "Ana García", "tax_id": NIF,
                                                    "address": "Calle Mayor 1, 28013 Madrid"} | more))



GOLDEN_RECORDS = Path(__file__).parents[1] / "fixtures" / "records-v1.sqlite"  # ADR-59's golden store
PASSPHRASE = "a long passphrase for tests"
KEYED = {"TRATOS_KEY_PASSPHRASE": PASSPHRASE}
UNKEYED = {"TRATOS_KEY_PASSPHRASE": None}


def keyed_tratos(store, *args: str, env: dict | None = None):
    """`tratos` with the key's passphrase at hand (TRATOS_KEY_PASSPHRASE), as a freelancer who keeps it
    in their environment: the checks and exports log themselves in the signed event log (ADR-60)."""
    return run_tratos(store, *args, env={**KEYED, **(env or {})})
