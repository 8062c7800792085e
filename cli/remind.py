"""tratos remind: record a payment reminder, with the late fee the terms allow, and print it."""

from __future__ import annotations

from pathlib import Path

import click

from cli.options import business_date, handle_argument, on_option, pass_session
from cli.output import echo, warn
from cli.pdf import document_options, printer, stamp_dict, stamp_words
from cli.session import Session
from domain.model.wording import counted


@click.command()
@handle_argument
@click.argument("invoice", metavar="INVOICE")
@document_options
@on_option
@pass_session
def remind(session: Session, handle: str, invoice: str, lang: str | None, output: str | None,
           unsigned: bool, no_timestamp: bool, on: str | None) -> None:
    """Send a courteous payment reminder for an overdue invoice: record it and write the PDF.

    The late fee is computed from the terms the invoice's contract pinned
    (fixed, percent, or Directive 2011/7/EU) for the days late on the date.

    \b
    Example:
        tratos remind acme F-2026-002
        tratos remind acme F-2026-002 --lang en -o reminder.pdf
    """
    from domain.services.reminders import send_reminder

    day = business_date(session, on)
    made = printer(session, lang, unsigned, no_timestamp)
    done = send_reminder(session.app, made, handle, invoice, on=day,
                         output=Path(output) if output else None)
    event, issued, fee = done.reminder, done.issued, done.late_fee
    reference = done.claim.reference if done.claim else None
    if reference is not None and reference.stale:
        warn(f"{event.invoice_number} fell due in a half-year the reference-rate table of this"
                   f" tratos does not reach; its interest uses the rate of {reference.half_year} ({reference.rate}%):"
                   " update tratos, or publish terms with --reference-rate")
    if session.as_json:
        from cli.output import print_json

        print_json({
            "recorded": "ReminderSent", "handle": handle, "id": event.invoice_number,
            "days_late": event.days_late, "late_fee": event.late_fee,
            "stream_version": event.originator_version, "document": issued.as_dict(),
            "timestamp": stamp_dict(made),
        })
        return
    fee_text = f", late fee {fee.amount} {fee.currency}" if fee else ""
    echo(f"Recorded: reminder for {event.invoice_number}, {counted(event.days_late, 'day')} late{fee_text},"
               f" on {day} ({handle})")
    signed = ("signed" + stamp_words(made)) if issued.signed else "NOT signed"
    echo(f"Wrote the reminder ({issued.lang}, {signed}) to {issued.path}; document issued,"
               f" SHA-256 {issued.sha256}")
