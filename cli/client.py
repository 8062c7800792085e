"""tratos client: open a relationship, list clients, show one."""

from __future__ import annotations

import click

from cli.options import business_date, handle_argument, not_empty, on_option, pass_session
from cli.output import echo, money, print_json, recorded, table
from cli.session import Session


@click.group()
def client() -> None:
    """Open client relationships and look them up."""


@client.command("open")
@handle_argument
@click.option("--name", required=True, help="The client's legal name, as on contracts.")
@click.option("--email", default=None, callback=not_empty, help="Contact email.")
@click.option("--tax-id", default=None, callback=not_empty,
              help="Tax id: a Spanish NIF/CIF, or an EU VAT number (DE…).")
@click.option("--address", default=None, callback=not_empty, help="Postal address.")
@click.option("--country", default="ES", show_default=True, metavar="CC", callback=not_empty,
              help="Country (ISO code): decides how its invoices are taxed.")
@on_option
@pass_session
def open_(session: Session, handle: str, name: str, email: str | None, tax_id: str | None, address: str | None,
          country: str, on: str | None) -> None:
    """Open the relationship with a client; CLIENT is a short handle such as acme.

    A client in Spain is invoiced with VAT (and withholding if it is a business and your profile
    withholds); an EU business with a valid VAT number by reverse charge; a client outside the
    EU as not subject. The tax id is checked for the country.

    \b
    Example:
        tratos client open acme --name "Acme Consulting SL" --email ops@acme.test --tax-id B12345674
        tratos client open north --name "Nordwind GmbH" --country DE --tax-id DE136695976
    """
    from domain.model.values import Party, check_handle

    party = Party(name=name, email=email or "", tax_id=tax_id or "", address=address or "", country=country)
    result = session.app.open_relationship(check_handle(handle), party, on=business_date(session, on))
    recorded(session, result, f"client {handle} ({party.name}) opened")


@client.command("update")
@handle_argument
@click.option("--name", default=None, callback=not_empty, help="The client's legal name.")
@click.option("--email", default=None, callback=not_empty, help="Contact email.")
@click.option("--tax-id", default=None, callback=not_empty, help="Tax id: a Spanish NIF/CIF, or an EU VAT number.")
@click.option("--address", default=None, callback=not_empty, help="Postal address.")
@click.option("--country", default=None, metavar="CC", callback=not_empty, help="Country (ISO code).")
@on_option
@pass_session
def update(session: Session, handle: str, name: str | None, email: str | None, tax_id: str | None,
           address: str | None, country: str | None, on: str | None) -> None:
    """Change the client's details for the invoices from now on (issued ones keep theirs).

    \b
    Example:
        tratos client update acme --tax-id B12345674 --address "Gran Vía 1, Madrid"
    """
    from domain.model.values import Party, check_handle

    status = session.models.status(check_handle(handle))
    current = {"name": status["name"], "email": status.get("email") or "", "tax_id": status.get("tax_id") or "",
               "address": status.get("address") or "", "country": status.get("country") or "ES"}
    given = {"name": name, "email": email, "tax_id": tax_id, "address": address, "country": country}
    party = Party(**{**current, **{key: value for key, value in given.items() if value is not None}})
    result = session.app.change_client_details(handle, party, on=business_date(session, on))
    recorded(session, result, f"details of {handle} ({party.name}) changed")


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
        echo("No clients yet: open one with `tratos client open HANDLE --name NAME`.")
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
