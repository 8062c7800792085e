"""tratos payment: money received against an invoice."""

from __future__ import annotations

import click

from cli.options import business_date, handle_argument, on_option, pass_session
from cli.output import money, recorded
from cli.session import Session


@click.group()
def payment() -> None:
    """Payments received, always against an invoice."""


@payment.command("record")
@handle_argument
@click.argument("number", metavar="INVOICE")
@click.argument("amount", metavar="AMOUNT")
@on_option
@pass_session
def record(session: Session, handle: str, number: str, amount: str, on: str | None) -> None:
    """Record a payment received for an invoice (partial payments add up).

    \b
    Example:
        tratos payment record acme F-2026-001 4000EUR --on 2026-02-10
    """
    from cli.notation import parse_money
    from domain.model.errors import BadInput

    received = parse_money(amount, session.currency)
    if not received.is_positive:
        raise BadInput(f"a payment must be a positive amount, not {amount!r}")
    result = session.app.record_payment(handle, number, received, on=business_date(session, on))
    recorded(session, result, f"payment of {money(result.event.amount)} for {number}")
