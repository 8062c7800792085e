"""Reminding a client of an overdue invoice: the reminder and the PDF that carries it, recorded together.

`ReminderSent` and the reminder's `DocumentIssued` are saved in one transaction:
a reminder is never recorded without its document, nor a document without its reminder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.model.late_fees import Claim, invoice_claim, late_fee_claim
from domain.services.documents import Issued, Printer, issue_document

if TYPE_CHECKING:
    from domain.model.money import Money
    from domain.services.application import Recorded, Tratos

@dataclass(frozen=True)
class Reminded:
    """The reminder recorded (its `ReminderSent` event), its document, and the claim it makes."""

    reminder: Any
    issued: Issued
    late_fee: Money | None
    claim: Claim | None = None


def send_reminder(app: Tratos, print_document: Printer, handle: str, number: str, *, on: date,
                  output: Path | None = None) -> Reminded:
    """Check the invoice can be reminded, print the reminder, then record both in one save.

    The late fee is claimed once, before printing, so the PDF and the event state the same fee.
    """
    relationship = app.relationship(handle)
    unpaid = relationship.invoice(number)
    unpaid.check_remindable(on)
    fee = late_fee_claim(relationship, unpaid, on)
    claim = invoice_claim(relationship, unpaid, on)

    def record(**document: Any) -> Recorded:
        return app.send_reminder(handle, unpaid.number, on=on, late_fee=fee, document=document)

    issued, recorded = issue_document(app, print_document, handle, "reminder", unpaid.number, on=on,
                                      output=output, record=record)
    return Reminded(recorded.events[0], issued, fee, claim)
