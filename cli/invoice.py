"""tratos invoice: bill an installment, an approved change, or an amount."""

from __future__ import annotations

import click

from cli.options import (
    Count,
    business_date,
    contract_option,
    handle_argument,
    on_option,
    pass_session,
)
from cli.output import money, recorded
from cli.session import Session


@click.group()
def invoice() -> None:
    """Invoices, numbered F-2026-001… across all clients."""


@invoice.command("issue")
@handle_argument
@click.option("--installment", type=Count(1, 1000), metavar="N",
              help="Bill installment N of the contract.")
@click.option("--amount", metavar="600EUR", help="Bill this amount instead of an installment.")
@click.option("--for", "change_id", metavar="C1",
              help="The approved change the amount bills (without --amount: its quoted price).")
@click.option("--due", metavar="DATE", help="Due date (default: issue date + the payment days of the terms).")
@click.option("--concept", default="", metavar="TEXT", help="What the invoice is for, in words.")
@contract_option
@on_option
@pass_session
def issue(session: Session, handle: str, installment: int | None, amount: str | None,
          change_id: str | None, due: str | None, concept: str, contract_id: str | None,
          on: str | None) -> None:
    """Issue an invoice; prints its number.

    \b
    Example:
        tratos invoice issue acme --installment 1
        tratos invoice issue acme --for C1 --due 2026-04-30
    """
    from cli.notation import parse_date, parse_money

    billed = parse_money(amount, session.currency) if amount is not None else None
    result = session.app.issue_invoice(
        handle, on=business_date(session, on), installment=installment, amount=billed,
        change_id=change_id, contract_id=contract_id,
        due=parse_date(due, session.today()) if due is not None else None, concept=concept)
    event = result.event
    what = (f"installment {event.installment} of {event.contract_id}" if event.installment
            else f"change {event.change_id}" if event.change_id else event.contract_id)
    recorded(session, result, f"invoice {event.invoice_number} for {money(event.amount)} ({what}),"
             f" due {event.due}")

