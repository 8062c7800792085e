"""tratos follow-up: send the reminders and chases the terms' schedule gives for today, each once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
    with _stopped_as_interrupted():
        report = _run(session, day, dry_run, lang or session.lang)
    if session.as_json:
        from cli.output import print_json

        print_json({"today": day, "dry_run": dry_run, **report.as_dict()})
    else:
        _say(report, day, dry_run)
    if report.failed:  # after saying what was sent: the exit status tells cron that something was not
        raise Refused(f"{len(report.failed)} follow-up step(s) were not sent: {report.failed[0]['why']}")


@contextmanager
def _stopped_as_interrupted() -> Iterator[None]:
    """Every signal that would end the process stops a run as Ctrl-C does: the step being sent is
    released for the next run (ADR-80), not left claimed and never sent (ADR-82, ADR-83).

    Those are the signals whose default action (signal(7)) terminates the process or dumps core:
    SIGTERM (cron's `timeout`, a stopped service), SIGHUP (a closed terminal, a dropped ssh
    session), SIGQUIT, SIGUSR1/2, SIGALRM, SIGXCPU (a CPU limit reached), SIGPWR, SIGVTALRM,
    SIGPROF, SIGIO, SIGSTKFLT, SIGTRAP, SIGABRT and every real-time signal. They are derived from
    `signal.valid_signals()` less `_NOT_ENDING` and `_LEFT_ALONE`, so a platform's own (SIGEMT) is
    covered too. Left as they are: one the caller ignores or handles (not SIG_DFL), SIGINT (Python's
    KeyboardInterrupt already), SIGKILL and SIGSTOP (nothing catches them), and the synchronous
    faults SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGSYS: a handler that returns from a real fault
    re-runs the faulting instruction, in a loop, instead of ending."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = {}
    for number in ending_signals():
        if signal.getsignal(number) is signal.SIG_DFL:  # one the shell or a caller ignores stays ignored
            try:
                previous[number] = signal.signal(number, interrupted)
            except (OSError, ValueError):  # one this platform reserves (glibc's threads): not ours to take
                continue
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


# Signals whose default action does not end the process (ignored, or stop and continue).
_NOT_ENDING = ("SIGCHLD", "SIGCLD", "SIGCONT", "SIGURG", "SIGWINCH", "SIGINFO", "SIGSTOP", "SIGTSTP", "SIGTTIN",
               "SIGTTOU")
# Ending ones not handled: uncatchable, Ctrl-C's own, and the synchronous faults (see above).
_LEFT_ALONE = ("SIGKILL", "SIGINT", "SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGSYS")


def ending_signals() -> list[int]:
    """The signals `_stopped_as_interrupted` turns into an interruption, in number order."""
    import signal

    skipped = {getattr(signal, name) for name in (*_NOT_ENDING, *_LEFT_ALONE) if hasattr(signal, name)}
    return sorted(int(number) for number in signal.valid_signals() if number not in skipped)


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
