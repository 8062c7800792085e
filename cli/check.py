"""tratos check: mark late payments once, and list what needs action today."""

from __future__ import annotations

import click

from cli.options import business_date, pass_session
from cli.output import echo, gives_verdict, print_json, table, warn
from cli.session import Session

KINDS = {
    "late_payment": "late payment",
    "to_invoice": "to invoice",
    "change_awaiting_approval": "change awaiting approval",
    "change_to_quote": "change to quote",
    "mistake_not_acknowledged": "mistake not acknowledged",
    "contract_past_end": "contract past its end",
}


@click.command()
@click.option("--today", "today", metavar="DATE", default=None,
              help="The day to check for (default: today's business date).")
@pass_session
@gives_verdict
def check(session: Session, today: str | None) -> None:
    """Mark overdue invoices as late (once) and list what needs action.

    Lists late payments with their late fee, installments due and not yet
    invoiced, changes waiting for the client, mistakes not acknowledged within
    the response time of the terms, and contracts past their end date. Warns
    when terms take the ECB reference rate from this release's half-year table
    and today's half-year is later than the table's last.

    \b
    Example:
        tratos check
        tratos check --today 2026-03-31 --json
    """
    from domain.services.check import run_check

    day = business_date(session, today)
    result = run_check(session.app, session.models, day)
    if session.as_json:
        print_json(result)
        _refuse_broken(result)
        return
    for warning in result["warnings"]:
        warn(f"{warning['detail']}")
    for item in result["marked_late"]:
        echo(f"Recorded: invoice {item['invoice']} of {item['handle']} is late on {day}")
    actions = result["actions"]
    if not actions:
        echo(f"Nothing needs action on {day}.")
    else:
        table(f"Needs action on {day}", ["client", "what", "ref", "since", "detail"],
              [(a["handle"], KINDS.get(a["kind"], a["kind"]), a["ref"], a["date"] or "", a["detail"])
               for a in actions])
    _refuse_broken(result)


def _refuse_broken(result: dict) -> None:
    """The list is shown, then the check fails (exit 1) if a client's late invoices could not be
    marked because its history does not verify: one line for them all."""
    from domain.model.errors import Refused

    broken = result["broken"]
    if broken:
        first = broken[0]["detail"].replace(", nothing was recorded", "")
        more = f" (and {', '.join(b['handle'] for b in broken[1:])}'s too)" if len(broken) > 1 else ""
        raise Refused(f"{first}{more}: its late invoices were not marked; `tratos audit verify` says what broke")
