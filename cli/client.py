"""tratos client: open a relationship, list clients, show one."""

from __future__ import annotations

import click

from cli.options import business_date, handle_argument, on_option, pass_session
from cli.output import recorded
from cli.session import Session


@click.group()
def client() -> None:
    """Open client relationships and look them up."""


@client.command("open")
@handle_argument
@click.option("--name", required=True, help="The client's legal name, as on contracts.")
@click.option("--email", default="", help="Contact email.")
@click.option("--tax-id", default="", help="VAT or tax id.")
@click.option("--address", default="", help="Postal address.")
@on_option
@pass_session
def open_(session: Session, handle: str, name: str, email: str, tax_id: str, address: str,
          on: str | None) -> None:
    """Open the relationship with a client; CLIENT is a short handle such as acme.

    \b
    Example:
        tratos client open acme --name "Acme Consulting SL" --email ops@acme.test
    """
    from domain.values import Party, check_handle

    party = Party(name=name, email=email, tax_id=tax_id, address=address)
    result = session.app.open_relationship(check_handle(handle), party, on=business_date(session, on))
    recorded(session, result, f"client {handle} ({party.name}) opened")
