"""tratos mistake: act fast, find the cause, agree a remedy, keep the lesson."""

from __future__ import annotations

import click

from cli.options import (
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
from domain.model.choices import FAULTS


def mistake_argument(function):
    return click.argument("mistake_id", metavar="MISTAKE")(function)


@click.group()
def mistake() -> None:
    """Mistakes: report, acknowledge, diagnose, remedy, learn."""


@mistake.command("report")
@handle_argument
@click.argument("description", metavar="WHAT")
@click.option("--by", "reported_by", type=click.Choice(["us", "client"]), required=True,
              help="Who reported it.")
@contract_option
@evidence_option
@on_option
@pass_session
def report(session: Session, handle: str, description: str, reported_by: str, contract_id: str | None,
           evidence: tuple[str, ...], on: str | None) -> None:
    """Record a mistake as it was reported, ideally in the client's own words; prints its id (M1…).

    \b
    Example:
        tratos mistake report acme "Contact form mails go nowhere" --by client --evidence complaint.eml
    """
    day = business_date(session, on)
    with kept_evidence(session, evidence) as files:
        result = session.app.report_mistake(handle, description, reported_by=reported_by, on=day,
                                            contract_id=contract_id, evidence=files)
    recorded(session, result, f"mistake {result.id} reported by {reported_by}")


@mistake.command("ack")
@handle_argument
@mistake_argument
@click.option("--apology", default="", metavar="TEXT", help="What you told the client.")
@on_option
@pass_session
def ack(session: Session, handle: str, mistake_id: str, apology: str, on: str | None) -> None:
    """Acknowledge a mistake (the time it took is measured against your response days).

    \b
    Example:
        tratos mistake ack acme M1 --apology "Sorry, we are on it today"
    """
    result = session.app.acknowledge_mistake(handle, mistake_id, on=business_date(session, on),
                                             apology=apology)
    recorded(session, result, f"mistake {result.id} acknowledged")


@mistake.command("diagnose")
@handle_argument
@mistake_argument
@click.option("--fault", type=click.Choice(FAULTS), required=True,
              help="Whose fault, if anyone's (unassigned is fine).")
@click.option("--cause", required=True, metavar="TEXT", help="The root cause.")
@click.option("--category", default="", metavar="C", help="A category to spot recurring mistakes.")
@on_option
@pass_session
def diagnose(session: Session, handle: str, mistake_id: str, fault: str, cause: str, category: str,
             on: str | None) -> None:
    """Record the root cause of a mistake and, if you want, whose fault it was.

    \b
    Example:
        tratos mistake diagnose acme M1 --fault ours --cause "SMTP left in test mode" --category deployment
    """
    result = session.app.diagnose_mistake(handle, mistake_id, fault=fault, cause=cause,
                                          category=category, on=business_date(session, on))
    recorded(session, result, f"mistake {result.id} diagnosed, fault {fault}")


@mistake.command("propose")
@handle_argument
@mistake_argument
@click.argument("description", metavar="OPTION")
@click.option("--cost", metavar="0EUR", help="What the remedy costs the client (0 if free).")
@click.option("--hours", metavar="4", help="Hours the remedy takes.")
@on_option
@pass_session
def propose(session: Session, handle: str, mistake_id: str, description: str, cost: str | None,
            hours: str | None, on: str | None) -> None:
    """Propose a remedy option for a diagnosed mistake; prints its id (O1, O2…).

    \b
    Example:
        tratos mistake propose acme M1 "Fix and re-test the form, free of charge" --cost 0EUR --hours 3
    """
    from cli.notation import parse_money, parse_number
    from domain.model.errors import BadInput

    amount = parse_money(cost, session.currency) if cost is not None else None
    effort = parse_number(hours, "a number of hours") if hours is not None else None
    if effort is not None and effort < 0:
        raise BadInput(f"a remedy's hours cannot be negative: {hours!r}")
    result = session.app.propose_remedy(handle, mistake_id, description, cost=amount, hours=effort,
                                        on=business_date(session, on))
    priced = f" ({money(amount)})" if amount is not None else ""
    recorded(session, result, f"remedy {result.id} proposed for mistake {mistake_id}{priced}")


@mistake.command("choose")
@handle_argument
@mistake_argument
@click.argument("option_id", metavar="OPTION")
@click.option("--agreed/--not-agreed", default=None,
              help="Whether the client agreed to this remedy (required: say it either way).")
@on_option
@pass_session
def choose(session: Session, handle: str, mistake_id: str, option_id: str, agreed: bool | None,
           on: str | None) -> None:
    """Record which remedy option was chosen, and whether the client agreed to it.

    \b
    Example:
        tratos mistake choose acme M1 O1 --agreed
    """
    from domain.model.errors import BadInput

    if agreed is None:
        raise BadInput("say whether the client agreed to the remedy: --agreed or --not-agreed")
    result = session.app.choose_remedy(handle, mistake_id, option_id, agreed=agreed,
                                       on=business_date(session, on))
    with_whom = "with the client's agreement" if agreed else "without the client's agreement"
    recorded(session, result, f"remedy {option_id} chosen for mistake {mistake_id} {with_whom}")


@mistake.command("resolve")
@handle_argument
@mistake_argument
@on_option
@pass_session
def resolve(session: Session, handle: str, mistake_id: str, on: str | None) -> None:
    """Record that the chosen remedy was carried out.

    \b
    Example:
        tratos mistake resolve acme M1
    """
    result = session.app.resolve_mistake(handle, mistake_id, on=business_date(session, on))
    recorded(session, result, f"mistake {result.id} resolved")


@mistake.command("lesson")
@handle_argument
@mistake_argument
@click.argument("lesson", metavar="PREVENTION")
@on_option
@pass_session
def lesson(session: Session, handle: str, mistake_id: str, lesson: str, on: str | None) -> None:
    """Keep the lesson of a diagnosed mistake, so it does not happen again.

    \b
    Example:
        tratos mistake lesson acme M1 "Send a test mail from production before every delivery"
    """
    result = session.app.record_lesson(handle, mistake_id, lesson, on=business_date(session, on))
    recorded(session, result, f"lesson of mistake {result.id} kept")
