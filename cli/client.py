"""tratos client: open a relationship, list clients, show one."""

from __future__ import annotations

import click

from cli.options import business_date, handle_argument, on_option, pass_session
from cli.output import money, print_json, recorded, table
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
    from domain.model.values import Party, check_handle

    party = Party(name=name, email=email, tax_id=tax_id, address=address)
    result = session.app.open_relationship(check_handle(handle), party, on=business_date(session, on))
    recorded(session, result, f"client {handle} ({party.name}) opened")


@client.command("list")
@pass_session
def list_(session: Session) -> None:
    """List every client with its state and what it owes.

    \b
    Example:
        tratos client list
    """
    portfolio = session.models.portfolio()  # today: only what is dated up to it (ADR-26)
    if session.as_json:
        print_json(portfolio)
        return
    if not portfolio:
        click.echo("No clients yet: open one with `tratos client open HANDLE --name NAME`.")
        return
    table("Clients", ["client", "name", "state", "contract total", "outstanding", "overdue"],
          [(row["handle"], row["name"], row["state"], money(row.get("contract_total")),
            money(row.get("outstanding")), money(row.get("overdue"))) for row in portfolio])


@client.command("show")
@handle_argument
@pass_session
def show(session: Session, handle: str) -> None:
    """Show one client: who they are and where the relationship stands (`status` has the detail).

    \b
    Example:
        tratos client show acme
    """
    from domain.model.errors import UnknownClient
    from domain.model.values import check_handle

    models = session.models
    if check_handle(handle) not in models.handles():
        raise UnknownClient(f"no client {handle!r}", handle)
    status = models.status(handle)  # today: only what is dated up to it (ADR-26)
    if session.as_json:
        print_json(status)
        return
    contract = status.get("contract") or {}
    balance = status.get("balance") or {}
    rows = [
        ("client", status["handle"]),
        ("name", status["name"]),
        *[(key.replace("_", " "), status[key]) for key in ("email", "tax_id", "address", "opened_on")
          if status.get(key)],
        ("state", status["state"]),
        ("contract", f"{contract['id']} \"{contract['title']}\", {contract['state'].replace('_', ' ')}"
         if contract else "none yet"),
        ("total", money(contract.get("total"))),
        ("outstanding", money(balance.get("outstanding"))),
        ("overdue", money(balance.get("overdue"))),
    ]
    table(f"Client {handle}", ["field", "value"], rows)
