"""tratos contract: draft a project's contract, record both signatures, complete it."""

from __future__ import annotations

import click

from cli.options import (
    business_date,
    contract_option,
    handle_argument,
    on_option,
    pass_session,
)
from cli.output import money, recorded
from cli.session import Session
from domain.model.choices import SIGN_METHODS
from domain.model.wording import counted


@click.group()
def contract() -> None:
    """Draft, sign and complete contracts, one per project."""


@contract.command("draft")
@handle_argument
@click.option("--title", required=True, help="Short name of the project.")
@click.option("--scope", required=True, metavar="TEXT", help="What the work covers, in plain words.")
@click.option("--deliverable", "deliverables", multiple=True, metavar="D", help="A deliverable; repeatable.")
@click.option("--price", required=True, metavar="8000EUR", help="The fixed price.")
@click.option("--hours", "hours_budget", metavar="120", help="Hours the price includes.")
@click.option("--start", required=True, metavar="DATE", help="First day of the work.")
@click.option("--end", required=True, metavar="DATE", help="Last day of the work.")
@click.option("--installment", "installments", multiple=True, metavar="50%@DATE",
              help="A part of the price and when it becomes billable (50%@2026-01-15 or"
                   " 4000EUR@2026-01-15); repeatable, must add up to the price."
                   " Default: 100% on the end date.")
@click.option("--our-duty", "our_duties", multiple=True, metavar="TEXT", help="What you commit to; repeatable.")
@click.option("--client-duty", "client_duties", multiple=True, metavar="TEXT",
              help="What the client commits to (e.g. answer within 3 days); repeatable.")
@click.option("--payment-method", default="bank transfer", show_default=True, metavar="TEXT",
              help="How the client pays (bank transfer, card, PayPal...).")
@on_option
@pass_session
def draft(session: Session, handle: str, title: str, scope: str, deliverables: tuple[str, ...],
          price: str, hours_budget: str | None, start: str, end: str, installments: tuple[str, ...],
          our_duties: tuple[str, ...], client_duties: tuple[str, ...], payment_method: str,
          on: str | None) -> None:
    """Draft a contract; a new draft before signing supersedes the previous one.

    \b
    Example:
        tratos contract draft acme --title "Website relaunch" --scope "New site, 5 pages" \\
            --price 8000EUR --hours 120 --start 2026-01-15 --end 2026-03-15 \\
            --installment 50%@2026-01-15 --installment 50%@2026-02-15
    """
    from cli.notation import parse_date, parse_installments, parse_money, parse_number
    from domain.model.errors import BadInput
    from domain.model.values import Scope

    today = session.today()
    total = parse_money(price, session.currency)
    budget = parse_number(hours_budget, "a number of hours") if hours_budget is not None else None
    if budget is not None and budget <= 0:
        raise BadInput(f"the hours budget must be positive, not {hours_budget!r}")
    first, last = parse_date(start, today), parse_date(end, today)
    schedule = list(installments) or [f"100%@{last.isoformat()}"]
    result = session.app.draft_contract(
        handle, title=title, scope=Scope(description=scope, deliverables=list(deliverables)),
        price=total, start=first, end=last,
        installments=parse_installments(schedule, total, today), hours_budget=budget,
        our_duties=list(our_duties), client_duties=list(client_duties), payment_method=payment_method,
        on=business_date(session, on))
    event = result.event
    plan = (f"no installments given, so one of 100% due on the end date ({event.end})"
            if not installments else counted(len(event.installments), "installment"))
    superseding = f", superseding {event.supersedes}" if event.supersedes else ""
    recorded(session, result, f"contract {event.contract_id} \"{event.title}\" drafted for"
             f" {money(event.price)}, {plan}{superseding}")


@contract.command("sign")
@handle_argument
@click.option("--by", "party", type=click.Choice(["us", "client"]), required=True, help="Who signed.")
@click.option("--method", type=click.Choice(SIGN_METHODS), default=None,
              help="pades (signed PDF), email (acceptance by email), ink (scan), typed."
                   "  [default: typed without --file]")
@click.option("--file", "file", metavar="F", help="The signed PDF, the acceptance email or the scan.")
@click.option("--signer", metavar="NAME", help="Who signed (default: you, or the client's legal name).")
@contract_option(default="the latest, being drafted or signed")
@on_option
@pass_session
def sign(session: Session, handle: str, party: str, method: str | None, file: str | None,
         signer: str | None, contract_id: str | None, on: str | None) -> None:
    """Record a signature of the contract by you or by the client.

    \b
    Example:
        tratos contract sign acme --by us --method typed
        tratos contract sign acme --by client --method email --file acceptance.eml
        tratos contract sign acme --by us --method pades      # the PDF from `tratos pdf contract`
        tratos contract sign acme --by client --method pades --file returned.pdf
    """
    from domain.model.errors import BadInput

    if method is None:
        if file:
            raise BadInput("say how the file was signed: --method pades, email or ink")
        method = "typed"
    if method == "pades" and party == "client" and not file:
        raise BadInput("the client's PAdES signature is in the PDF it returned: --file returned.pdf")
    from cli.signatures import PdfSignatureChecks, evidence_files, returned_pdf
    from domain.services.countersignatures import sign_contract

    day = business_date(session, on)
    given = None
    if file:
        given = returned_pdf(file) if method == "pades" else evidence_files((file,))[0]
    done = sign_contract(session.app, PdfSignatureChecks(session), handle, party=party, method=method, on=day,
                         contract_id=contract_id, signer=signer, our_name=session.identity.get("name", ""),
                         file=given)
    event = done.recorded.event
    side = "us" if party == "us" else "the client"
    state = "now in force" if done.in_force else "waiting for the other party"
    recorded(session, done.recorded, f"contract {event.contract_id} signed by {side} ({event.signer}, {method}),"
             f" {state}")


@contract.command("complete")
@handle_argument
@contract_option
@on_option
@pass_session
def complete(session: Session, handle: str, contract_id: str | None, on: str | None) -> None:
    """Record that the project is delivered and over.

    \b
    Example:
        tratos contract complete acme --contract K1
    """
    result = session.app.complete_contract(handle, on=business_date(session, on), contract_id=contract_id)
    recorded(session, result, f"contract {result.event.contract_id} completed")
