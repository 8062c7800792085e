"""tratos end: close a relationship with dignity; the balance stays collectible."""

from __future__ import annotations

import click

from cli.options import business_date, handle_argument, on_option, pass_session
from cli.output import recorded
from cli.session import Session


@click.command()
@handle_argument
@click.option("--reason", required=True, help="Why the relationship ends.")
@click.option("--by", "ended_by", type=click.Choice(["us", "client"]), default="us", show_default=True,
              help="Who ended it.")
@click.option("--confidentiality", default="", help="Confidentiality that continues (default: from the terms).")
@on_option
@pass_session
def end(session: Session, handle: str, reason: str, ended_by: str, confidentiality: str, on: str | None) -> None:
    """End the relationship with a client. Afterwards only payments, notes and documents are recorded.

    \b
    Example:
        tratos end acme --reason "Project delivered" --by us
    """
    result = session.app.end_relationship(handle, reason=reason, ended_by=ended_by,
                                          on=business_date(session, on), confidentiality=confidentiality)
    owed = ", ".join(f"{m.amount} {m.currency}" for m in result.event.outstanding)
    recorded(session, result, f"relationship with {handle} ended by {ended_by}"
             + (f", {owed} still outstanding" if owed else ""))
