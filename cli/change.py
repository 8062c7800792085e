"""tratos change: scope changes in writing, requested, quoted, then approved or rejected."""

from __future__ import annotations

import click

from cli.options import (
    Count,
    business_date,
    contract_option,
    evidence_option,
    handle_argument,
    kept_evidence,
    on_option,
    pass_session,
)
from cli.output import money, recorded
from cli.session import Session
from domain.model.wording import counted


def change_argument(function):
    return click.argument("change_id", metavar="CHANGE")(function)


@click.group()
def change() -> None:
    """Scope changes in writing, with their price and time."""


@change.command("request")
@handle_argument
@click.argument("description", metavar="WHAT")
@click.option("--by", "requested_by", type=click.Choice(["client", "us"]), default="client",
              show_default=True, help="Who asked for the change.")
@contract_option
@evidence_option
@on_option
@pass_session
def request(session: Session, handle: str, description: str, requested_by: str,
            contract_id: str | None, evidence: tuple[str, ...], on: str | None) -> None:
    """Record a requested change to the contract in force; prints its id (C1, C2…).

    \b
    Example:
        tratos change request acme "Add a blog section" --evidence request.eml
    """
    day = business_date(session, on)
    with kept_evidence(session, evidence) as files:
        result = session.app.request_change(handle, description, requested_by=requested_by, on=day,
                                            contract_id=contract_id, evidence=files)
    recorded(session, result, f"change {result.id} requested by {requested_by}")


@change.command("quote")
@handle_argument
@change_argument
@click.option("--price", required=True, metavar="600EUR", help="What the change costs (0 if free).")
@click.option("--hours", metavar="10", help="Hours it adds to the budget.")
@click.option("--days", type=Count(0, 3650), help="Days it adds to the end date.")
@on_option
@pass_session
def quote(session: Session, handle: str, change_id: str, price: str, hours: str | None,
          days: int | None, on: str | None) -> None:
    """Quote a requested change: its price and its impact on hours and dates.

    \b
    Example:
        tratos change quote acme C1 --price 600EUR --hours 10 --days 5
    """
    from cli.notation import parse_money, parse_number
    from domain.model.errors import BadInput

    extra_hours = parse_number(hours, "a number of hours") if hours is not None else None
    if extra_hours is not None and extra_hours < 0:
        raise BadInput(f"hours of a change cannot be negative: {hours!r}")
    result = session.app.quote_change(handle, change_id, price=parse_money(price, session.currency),
                                      hours=extra_hours, days=days, on=business_date(session, on))
    event = result.event
    impact = [money(event.price)]
    if event.hours is not None:
        impact.append(f"{event.hours} h")
    if event.days is not None:
        impact.append(counted(event.days, "day"))
    recorded(session, result, f"change {event.change_id} quoted ({', '.join(impact)})")


def _decided(session: Session, verb: str, handle: str, change_id: str, evidence: tuple[str, ...],
             on: str | None) -> None:
    day = business_date(session, on)
    with kept_evidence(session, evidence) as files:
        result = getattr(session.app, f"{verb}_change")(handle, change_id, on=day, evidence=files)
    past = {"reject": "rejected", "withdraw": "withdrawn"}[verb]
    recorded(session, result, f"change {result.id} {past}")


@change.command("approve")
@handle_argument
@change_argument
@evidence_option
@click.option("--signed-pdf", metavar="FILE",
              help="The change order PDF (from `tratos pdf change`) the client returned signed.")
@on_option
@pass_session
def approve(session: Session, handle: str, change_id: str, evidence: tuple[str, ...],
            signed_pdf: str | None, on: str | None) -> None:
    """Record the client's approval of a quoted change; its price, hours and days join the contract.

    With --signed-pdf, the client's PAdES signature is checked first: the file
    must be the change order this store issued, unchanged, with an intact
    signature added that covers the whole file; it is kept as evidence.

    \b
    Example:
        tratos change approve acme C1 --evidence approval.eml
        tratos change approve acme C1 --signed-pdf change-C1-signed.pdf
    """
    from cli.signatures import PdfSignatureChecks, evidence_files, returned_pdf
    from domain.services.countersignatures import approve_change

    signed = returned_pdf(signed_pdf) if signed_pdf else None
    result = approve_change(session.app, PdfSignatureChecks(session), handle, change_id,
                            on=business_date(session, on), evidence=evidence_files(evidence), signed=signed)
    recorded(session, result, f"change {result.id} approved")


@change.command("reject")
@handle_argument
@change_argument
@evidence_option
@on_option
@pass_session
def reject(session: Session, handle: str, change_id: str, evidence: tuple[str, ...], on: str | None) -> None:
    """Record that the client rejected a quoted change.

    \b
    Example:
        tratos change reject acme C1
    """
    _decided(session, "reject", handle, change_id, evidence, on)


@change.command("withdraw")
@handle_argument
@change_argument
@evidence_option
@on_option
@pass_session
def withdraw(session: Session, handle: str, change_id: str, evidence: tuple[str, ...], on: str | None) -> None:
    """Withdraw a change that is still open (requested or quoted).

    \b
    Example:
        tratos change withdraw acme C2
    """
    _decided(session, "withdraw", handle, change_id, evidence, on)
