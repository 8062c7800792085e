"""tratos status / timeline / lessons: where things stand, read from the projections."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import click

from cli.options import as_of_date, pass_session
from cli.output import echo, print_json, table
from cli.session import Session
from domain.model.wording import counted

AS_OF_HELP = "Show it as it stood at the end of DATE (events after it are ignored)."


def amount(value: dict[str, str] | None) -> str:
    """{"amount": "8000.00", "currency": "EUR"} -> '8000.00 EUR'."""
    return "" if not value else f"{value['amount']} {value['currency']}"


def _days(n: int) -> str:
    return counted(n, "day")


@click.command()
@click.argument("handle", metavar="[CLIENT]", required=False)
@click.option("--as-of", "as_of", metavar="DATE", default=None, help=AS_OF_HELP)
@pass_session
def status(session: Session, handle: str | None, as_of: str | None) -> None:
    """Where a relationship stands; without CLIENT, every client on one line.

    Overdue invoices and late fees are computed for today's business date
    (or for --as-of).

    \b
    Examples:
        tratos status acme
        tratos status acme --as-of 2026-02-01 --json
        tratos status
    """
    day = as_of_date(session, as_of)
    models = session.models
    if handle is None:
        rows = models.portfolio(as_of=day)  # without --as-of: today, ADR-26
        if session.as_json:
            print_json(rows)
        else:
            _portfolio(rows, day)
            _ahead(session, day)
        return
    result = models.status(handle, as_of=day)
    if session.as_json:
        print_json(result)
    else:
        _relationship(result)
        _ahead(session, day)


def _ahead(session: Session, day: Any) -> None:
    """A day after today is a forecast, not a record: said under what it shows (a read may look
    ahead, ADR-26), lest late fees that have not accrued be read as owed."""
    if day is not None and day > session.today():
        echo(f"{day} is after today ({session.today()}): this is a forecast, as things will stand then"
                   " if nothing more is recorded")


def _portfolio(rows: list[dict[str, Any]], as_of: Any) -> None:
    if not rows:
        echo("No clients yet: open one with `tratos client open HANDLE --name NAME`.")
        return
    title = "Clients" + (f" as of {as_of}" if as_of else "")
    table(title, ["client", "state", "contract", "total", "outstanding", "overdue", "changes", "mistakes"],
          [(r["handle"], r["state"], r["contract"] or "", amount(r["contract_total"]),
            amount(r["outstanding"]) + "".join(f" + {amount(m)}" for m in r["other_outstanding"]),
            amount(r["overdue"]) if Decimal(r["overdue"]["amount"]) else "", r["open_changes"] or "",
            r["open_mistakes"] or "") for r in rows])


def _relationship(s: dict[str, Any]) -> None:
    echo(f"{s['handle']}: {s['name']} ({s['state']}), as of {s['as_of']}")
    contract = s["contract"]
    if contract:
        hours = contract["hours_logged"] + (f"/{contract['hours_available']}" if contract["hours_available"] else "")
        echo(
            f"Contract {contract['id']} \"{contract['title']}\": {contract['state'].replace('_', ' ')},"
            f" {amount(contract['price'])} + {amount(contract['approved_changes_total'])} in changes"
            f" = {amount(contract['total'])}; {contract['start']} to {contract['end']}; {hours} h;"
            f" signed by {', '.join(contract['signed_by']) or 'nobody yet'}")
    balance = s["balance"]
    echo(f"Balance: invoiced {amount(balance['invoiced'])}, paid {amount(balance['paid'])},"
               f" outstanding {amount(balance['outstanding'])}, overdue {amount(balance['overdue'])}")
    for other in s["other_balances"]:
        echo(f"         in {other['currency']}: outstanding {amount(other['outstanding'])},"
                   f" overdue {amount(other['overdue'])}")
    if s["ended"]:
        ended = s["ended"]
        echo(f"Ended on {ended['on']} by {ended['by']}: {ended['reason']}")
    if s["installments"]:
        table("Installments", ["contract", "n", "amount", "due", "invoice", "paid", "state"],
              [(i["contract"], i["n"], amount(i["amount"]), i["due"], i["invoice"] or "", amount(i["paid"]),
                i["state"].replace("_", " ")) for i in s["installments"]])
    if s["invoices"]:
        table("Invoices", ["number", "amount", "due", "paid", "outstanding", "late", "late fee"],
              [(i["number"], amount(i["amount"]), i["due"], amount(i["paid"]), amount(i["outstanding"]),
                f"cancelled {i['cancelled_on']}" if i.get("cancelled_on") else _days(i["days_late"]) if i["late"]
                else "", amount(i["late_fee"])) for i in s["invoices"]])
    if s["changes"]:
        table("Changes", ["id", "state", "price", "hours", "days", "what"],
              [(c["id"], c["state"], amount(c["price"]), c["hours"] or "", c["days"] if c["days"] is not None
                else "", c["description"]) for c in s["changes"]])
    if s["mistakes"]:
        table("Mistakes", ["id", "state", "fault", "category", "acknowledged after", "what"],
              [(m["id"], m["state"].replace("_", " "), m["fault"] or "", m["category"] or "",
                "" if m["acknowledged_after_days"] is None else _days(m["acknowledged_after_days"])
                + (" (late)" if m["acknowledged_late"] else ""), m["description"]) for m in s["mistakes"]])
    sent = [(d["on"], f"{d['kind']} {d['id']}".strip(), ", ".join(d["to"] + d["cc"]), d["server_reply"])
            for d in s.get("sent", [])]
    follow_up = s.get("follow_up") or {}
    sent += [(f["scheduled_on"], f"follow-up {f['about']} {f['step']} ({f['tone']})", ", ".join(f["to"]),
              f["server_reply"]) for f in follow_up.get("sent", [])]
    if sent:
        table("Sent by email", ["on", "what", "to", "server's reply"], sorted(sent))


@click.command()
@click.argument("handle", metavar="CLIENT")
@click.option("--as-of", "as_of", metavar="DATE", default=None, help=AS_OF_HELP)
@pass_session
def timeline(session: Session, handle: str, as_of: str | None) -> None:
    """Everything that happened with a client, one sentence per event.

    \b
    Example:
        tratos timeline acme --as-of 2026-02-01
    """
    day = as_of_date(session, as_of)
    from documents.i18n import Formatter
    from projections.sentences import with_sentences

    # In English, as everything the terminal prints: the identity's language is its documents'.
    rows = with_sentences(session.models.timeline(handle, as_of=day), Formatter("en"), us=session.actor)
    if session.as_json:
        print_json(rows)
        return
    table(f"Timeline of {handle}" + (f" as of {day}" if day else ""), ["#", "date", "what", "by"],
          [(r["version"], r["occurred_on"], r["sentence"], r["actor"]) for r in rows])
    _ahead(session, day)


@click.command()
@pass_session
def lessons(session: Session) -> None:
    """Lessons learned from mistakes across all clients, by category; recurring ones flagged.

    \b
    Example:
        tratos lessons
    """
    groups = session.models.lessons()
    if session.as_json:
        print_json(groups)
        return
    if not groups:
        echo("No lessons yet: record one with `tratos mistake lesson CLIENT M1 \"prevention\"`.")
        return
    rows = []
    for group in groups:
        flag = f"RECURRING ({group['mistakes']} mistakes)" if group["recurring"] else ""
        if not group["lessons"]:
            rows.append((group["category"], flag, "", "", "no lesson recorded yet"))
        for lesson in group["lessons"]:
            rows.append((group["category"], flag, lesson["handle"], lesson["mistake"], lesson["lesson"]))
    table("Lessons", ["category", "", "client", "mistake", "lesson"], rows)
