"""tratos follow-up: send the reminders and chases the terms' schedule gives for today, each once."""

from __future__ import annotations

import click

from cli.options import pass_session
from cli.output import echo, gives_verdict
from cli.session import Session
from domain.model.wording import counted


@click.command("follow-up")
@click.option("--today", "today", metavar="DATE", default=None,
              help="The day to run for: 2026-03-01 (default: today). Steps due by then and not sent are sent.")
@click.option("--dry-run", is_flag=True, help="List the steps due; send and record nothing.")
@click.option("--lang", type=click.Choice(("es", "en")), default=None,
              help="Language of the messages (default: your documents').")
@pass_session
@gives_verdict
def follow_up(session: Session, today: str | None, dry_run: bool, lang: str | None) -> None:
    """Send what the follow-up schedule gives for today: reminders before and after each unpaid
    invoice's due date, and a chase of drafts and quotes waiting for the client.

    Each step is sent once, however often this runs and even two runs at once (from cron or a
    systemd timer); a step whose day passed while nothing ran is sent once, late, and says so.
    The tone escalates: friendly, firm, and a final notice with the itemized statutory claim.
    The schedule comes from the terms (`terms publish --remind-before 3 --remind-after 1,7,14,30
    --chase-after 5`); the mail settings from `tratos identity mail`.

    \b
    Example:
        tratos follow-up
        tratos follow-up --today 2026-03-01 --dry-run
    """
    from cli.notation import parse_date
    from domain.model.errors import Refused

    day = session.today() if today is None else parse_date(today, session.today())
    if day > session.today():
        raise Refused(f"{day} is after today ({session.today()}): follow-ups are sent on their day, not before")
    report = _run(session, day, dry_run, lang or session.lang)  # ended by a signal: as Ctrl-C (cli/main.py)
    if session.as_json:
        from cli.output import print_json

        print_json({"today": day, "dry_run": dry_run, **report.as_dict()})
    else:
        _say(report, day, dry_run)
    if report.failed:  # after saying what was sent: the exit status tells cron that something was not
        raise Refused(f"{len(report.failed)} follow-up step(s) were not sent: {report.failed[0]['why']}")


def _say(report, day, dry_run: bool) -> None:  # noqa: ANN001
    for line in report.due:
        echo(f"due:     {_said(line)}")
    for line in report.sent:
        echo(f"sent:    {_said(line)} to {', '.join(line['to'])}: {line['server_reply']}")
    for line in report.skipped:
        echo(f"skipped: {_said(line)}: {line['why']}")
    for line in report.failed:
        echo(f"failed:  {_said(line)}: {line['why']}")
    verb = "due" if dry_run else "sent"
    echo(f"Follow-up of {day}: {len(report.due if dry_run else report.sent)} {verb},"
               f" {len(report.skipped)} skipped, {len(report.failed)} failed"
               + ("; nothing was sent or recorded" if dry_run else ""))


def _said(line: dict) -> str:
    late = f" ({counted(line['days_late'], 'day')} late, due {line['scheduled_on']})" if line["days_late"] else ""
    return f"{line['client']} {line['about']} {line['step']} ({line['tone']}){late}"


def _run(session: Session, day, dry_run: bool, lang: str):  # noqa: ANN001, ANN202
    from documents.mail import compose_follow_up
    from domain.adapters.smtp import deliver, smtp_password
    from domain.services.follow_up import run_follow_up

    handles = session.models.handles()
    looked = run_follow_up(session.app, handles, compose_follow_up, None, from_address=session.identity.get("email", ""),
                           from_name=session.identity.get("name", ""), lang=lang, today=day, dry_run=True)
    if dry_run or not looked.due:  # nothing to send: no mail settings or password needed (cron on a quiet day)
        return looked
    settings = session.mail_settings()
    password = smtp_password(settings)

    def delivery(recipients, content):  # noqa: ANN001, ANN202
        return deliver(settings, password, [*recipients, *([settings.from_address] if settings.bcc_self else [])],
                       content)

    due_to = list(dict.fromkeys(line["client"] for line in looked.due))  # only the relationships with a step due
    return run_follow_up(session.app, due_to, compose_follow_up, delivery, from_address=settings.from_address,
                         from_name=settings.from_name, lang=lang, today=day)
