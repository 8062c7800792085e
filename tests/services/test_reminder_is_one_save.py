"""A reminder and its document are recorded together or not at all, on both backends.

`send_reminder` records `ReminderSent` and the reminder's `DocumentIssued` in one
save: when the second is refused or the save fails, nothing of the first is left
(no event, no PDF, no evidence copy). The printer is a stand-in: this is about the
transaction, not about WeasyPrint.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest

from domain.adapters.evidence import EvidenceFolder
from domain.model.errors import Refused
from domain.model.money import Money
from domain.model.values import Installment, LateFee, Party, Scope, Terms
from domain.services.documents import Printed
from domain.services.reminders import send_reminder

ACME = "acme"
LATE_DAY = date(2026, 3, 1)
CONTENT = b"%PDF-1.7\n% a stand-in reminder\n"
FEE = Money.of(40, "EUR")  # the fixed late fee of the terms: what the reminder claims


def eur(amount: int) -> Money:
    return Money.of(amount, "EUR")


def overdue_invoice(app) -> str:
    app.open_relationship(ACME, Party(name="Acme Consulting SL"), on=date(2026, 1, 5))
    app.publish_terms(ACME, Terms(rate=eur(60), payment_days=30,
                                         late_fee=LateFee(kind="fixed", fixed=FEE)), on=date(2026, 1, 5))
    app.draft_contract(ACME, title="Website", scope=Scope(description="Build it"), price=eur(1000),
                       start=date(2026, 1, 15), end=date(2026, 1, 30),
                       installments=[Installment(n=1, amount=eur(1000), due=date(2026, 1, 15))],
                       on=date(2026, 1, 8))
    app.sign_contract(ACME, party="us", signer="Ana", method="typed", on=date(2026, 1, 12))
    app.sign_contract(ACME, party="client", signer="Laura", method="typed", on=date(2026, 1, 13))
    return app.issue_invoice(ACME, installment=1, on=date(2026, 1, 15)).event.invoice_number


def printer(app, *, beyond: int = 0):
    """A printer that prints the stream's head as it stands (plus `beyond`, to be refused)."""
    def print_document(handle: str, kind: str, ref: str | None, *, on: date) -> Printed:
        head = app.relationship(handle)
        return Printed(CONTENT, kind, ref or "", "en", f"{handle}-{kind}-{ref}-en.pdf",
                       head.version + beyond, head.head_digest, signed=False)
    return print_document


def stream_names(app) -> list[str]:
    return [type(e).__name__ for e in app.repository.event_store.get(app.relationship(ACME).id)]


def kept_copy(app) -> Path:
    return EvidenceFolder.of(app.home).path(hashlib.sha256(CONTENT).hexdigest())


def test_the_reminder_and_its_document_are_one_save(app, tmp_path):
    number = overdue_invoice(app)
    before = app.relationship(ACME).version
    out = tmp_path / "reminder.pdf"
    done = send_reminder(app, printer(app), ACME, number, on=LATE_DAY, output=out)
    assert stream_names(app)[before:] == ["ReminderSent", "DocumentIssued"]
    assert done.reminder.originator_version == before + 1 and done.issued.recorded_version == before + 2
    assert done.issued.chain_version == before  # the PDF shows the head before the reminder
    assert done.reminder.late_fee == FEE
    assert out.read_bytes() == CONTENT and kept_copy(app).read_bytes() == CONTENT


def test_a_refused_document_leaves_no_reminder_file_or_evidence(app, tmp_path):
    number = overdue_invoice(app)
    before = stream_names(app)
    out = tmp_path / "reminder.pdf"
    with pytest.raises(Refused, match="beyond the end of the stream"):
        send_reminder(app, printer(app, beyond=5), ACME, number, on=LATE_DAY,
                      output=out)
    assert stream_names(app) == before  # no ReminderSent either
    assert not out.exists() and not kept_copy(app).exists()
    assert not (app.home / "evidence").exists() or not any((app.home / "evidence").iterdir())


def test_a_failed_save_leaves_no_reminder_file_or_evidence(app, tmp_path, monkeypatch):
    number = overdue_invoice(app)
    before = stream_names(app)
    out = tmp_path / "reminder.pdf"
    saved = []

    def failing_save(*objects, **kwargs):
        saved.append([type(e).__name__ for o in objects for e in getattr(o, "_pending", ())])
        raise OSError("disk full")

    monkeypatch.setattr(app, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        send_reminder(app, printer(app), ACME, number, on=LATE_DAY, output=out)
    monkeypatch.undo()
    assert saved == [["ReminderSent", "DocumentIssued"]]  # both events went to the one save that failed
    assert stream_names(app) == before
    assert not out.exists() and not kept_copy(app).exists()
