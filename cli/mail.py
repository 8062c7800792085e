"""tratos mail import: file client emails (.eml, mbox, Maildir) as evidence of their relationship."""

from __future__ import annotations

import click

from cli.options import business_date, on_option, pass_session
from cli.output import echo
from cli.session import Session


@click.group()
def mail() -> None:
    """Client emails as evidence."""


@mail.command("import")
@click.argument("source", metavar="FILE.eml|FILE.mbox|MAILDIR")
@click.option("--client", "client", default=None, metavar="CLIENT",
              help="File every message with this client (default: by the client's email address).")
@click.option("--dry-run", is_flag=True, help="Say what would be filed; keep and record nothing.")
@on_option
@pass_session
def import_(session: Session, source: str, client: str | None, dry_run: bool, on: str | None) -> None:
    """File each email with the client whose address it is from (or to, for yours), as evidence.

    An email from the client is recorded as received, one from your address as sent, with its
    From, To, Date, Subject and Message-ID; the message and its attachments are kept in the
    evidence folder. An email already on the record (the same Message-ID) is skipped; one that
    matches no client is listed, never dropped. What is not an email (empty, no headers, no
    From) is listed as `not a message` with a warning and never filed; a source holding
    nothing else is refused (exit 2). Running it again files only what is new.

    \b
    Example:
        tratos mail import ~/Mail/acme.mbox
        tratos mail import laura-reply.eml --client acme
        tratos mail import ~/Maildir/.Clients --dry-run
    """
    from domain.adapters.mailboxes import messages
    from domain.adapters.smtp import KEYS
    from domain.model.wording import counted
    from domain.services.filing import Filing, file_messages

    day = business_date(session, on)
    identity = session.identity
    ours = {address.lower() for address in (identity.get("email"), identity.get(KEYS["from_address"])) if address}
    clients = {} if client else session.models.addresses()
    report = Filing()  # a save failing after others: its error says how many emails those filed (cli/main.py)
    session.recorded_so_far = lambda: f"{counted(report.total, 'email')} {'was' if report.total == 1 else 'were'} filed"
    file_messages(session.app, messages(source), ours=ours, clients=clients, client=client, on=day, dry_run=dry_run,
                  report=report)
    if report.only_not_messages:  # named by mistake (a PDF, an empty file): nothing in it was filed
        from domain.model.errors import BadInput

        first = report.not_messages[0]
        what = (f"{source} is not an email" if len(report.not_messages) == 1
                else f"none of the {len(report.not_messages)} messages in {source} is an email")
        raise BadInput(f"{what} ({first['problem']}): nothing was filed")
    if report.not_messages:
        from cli.output import warn

        count = len(report.not_messages)
        warn(f"{count} of the messages in {source} {'is' if count == 1 else 'are'} not email"
             " (listed as `not a message`): not filed")
    if session.as_json:
        from cli.output import print_json

        print_json({"source": source, "dry_run": dry_run, **report.as_dict()})
        return
    per_client = ", ".join(f"{handle} {count}" for handle, count in report.filed.items())
    verb = "Would file" if dry_run else "Filed"
    echo(f"{verb} {report.total} emails" + (f" ({per_client})" if per_client else "")
               + f"; {len(report.skipped)} already on the record; {len(report.unmatched)} matched no client"
               + (f"; {len(report.not_messages)} not email" if report.not_messages else "")
               + ("; nothing was recorded" if dry_run else ""))
    for message in report.unmatched:
        echo(f"unmatched: {message['message_id'] or message['sha256']} from {message['from'] or '?'},"
                   f" \"{message['subject']}\" ({message['date'] or 'no date'})")
    for junk in report.not_messages:
        echo(f"not a message: number {junk['number']} of {source} ({junk['size']} bytes,"
                   f" SHA-256 {junk['sha256'][:16]}…): {junk['problem']}")

