"""tratos hours: time spent, checked against the contract's hours budget."""

from __future__ import annotations

import click

from cli.options import business_date, contract_option, handle_argument, on_option, pass_session
from cli.output import recorded
from cli.session import Session


@click.group()
def hours() -> None:
    """Hours worked, against the contract's hours budget."""


@hours.command("log")
@handle_argument
@click.argument("amount", metavar="HOURS")
@click.option("--note", default="", metavar="TEXT", help="What the time was spent on.")
@click.option("--change", "change_id", metavar="C1", help="The change the work belongs to.")
@contract_option
@on_option
@pass_session
def log(session: Session, handle: str, amount: str, note: str, change_id: str | None,
        contract_id: str | None, on: str | None) -> None:
    """Log hours worked (3.5, 3,5, 3h or 3:30); warns beyond the hours budget.

    \b
    Example:
        tratos hours log acme 3.5 --note "Home page layout"
    """
    from cli.notation import parse_hours

    result = session.app.log_hours(handle, parse_hours(amount), on=business_date(session, on), note=note,
                                   contract_id=contract_id, change_id=change_id)
    event = result.event
    on_what = f"change {event.change_id} of {event.contract_id}" if event.change_id else event.contract_id
    recorded(session, result, f"{event.hours} h on {on_what}")
