"""tratos send: email a document to the client, with proof of what left and the server's acceptance."""

from __future__ import annotations

from pathlib import Path

import click

from cli.options import business_date, handle_argument, not_empty, on_option, pass_session
from cli.output import echo
from cli.pdf import KINDS, LANGUAGES, _writable_output, printer
from cli.session import Session


@click.command()
@handle_argument
@click.argument("kind", type=click.Choice(KINDS), metavar="KIND")
@click.argument("ref", metavar="[ID]", required=False)
@click.option("--to", "to", multiple=True, callback=not_empty, metavar="ADDR",
              help="Recipient (repeatable; default: the client's email).")
@click.option("--cc", "cc", multiple=True, callback=not_empty, metavar="ADDR", help="Copy to (repeatable).")
@click.option("--subject", default=None, callback=not_empty, metavar="TEXT",
              help="Subject (default: the document's kind and id, and your name).")
@click.option("--message", default=None, callback=not_empty, metavar="TEXT",
              help="The cover text's paragraph (default: a short one for the kind of document).")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None,
              help="Language of the cover text and of a document printed for it (default: your documents').")
@click.option("--dry-run", is_flag=True, help="Write the .eml and send nothing, record nothing.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), metavar="FILE.eml", callback=_writable_output,
              help="Where to write the message (a dry run's default: CLIENT-KIND-ID-LANG.eml here).")
@click.option("--unsigned", is_flag=True, help="Attach a document printed without signing it.")
@on_option
@pass_session
def send(session: Session, handle: str, kind: str, ref: str | None, to: tuple[str, ...], cc: tuple[str, ...],
         subject: str | None, message: str | None, lang: str | None, dry_run: bool, output: str | None,
         unsigned: bool, on: str | None) -> None:
    """Email a document to the client and record it: recipients, Message-ID, the server's reply.

    KIND and ID as for `tratos pdf`. An ID already issued (`tratos pdf`, `tratos
    invoice issue --pdf`) is sent as it was issued; otherwise the document is printed
    and recorded as issued with the message. The exact message (.eml) is kept as
    evidence and its SHA-256 recorded. The SMTP settings are `tratos identity mail`'s;
    the password comes from TRATOS_SMTP_PASSWORD or the system keyring. A send that
    fails records nothing (exit 1).

    \b
    Example:
        tratos send acme invoice F-2026-001
        tratos send acme contract K1 --to laura@acme.test --cc legal@acme.test
        tratos send acme reminder F-2026-001 --lang en --dry-run
    """
    from documents.mail import compose, sent_at_now
    from domain.adapters.smtp import deliver, smtp_password
    from domain.services.sending import Envelope, send_document

    day = business_date(session, on)
    lang = lang or session.lang
    settings = session.mail_settings() if not dry_run else _settings_or_identity(session)
    bcc = [settings.from_address] if settings.bcc_self else []
    envelope = Envelope(settings.from_address, settings.from_name, list(to), list(cc), bcc)
    delivery = None
    if not dry_run:
        password = smtp_password(settings)

        def delivery(recipients, content):  # noqa: ANN001 - the Deliverer of domain/services/sending.py
            return deliver(settings, password, recipients, content)

    sent = send_document(session.app, printer(session, lang, unsigned), compose, delivery, handle, kind, ref,
                         envelope=envelope, on=day, sent_at=sent_at_now(), lang=lang, subject=subject,
                         message=message, output=Path(output) if output else None)
    if session.as_json:
        from cli.output import print_json

        print_json(sent.as_dict())
        return
    about = f"{kind} {sent.document_id}".strip()
    recipients = ", ".join(sent.to + sent.cc)
    if dry_run:
        echo(f"Wrote the message for {about} to {recipients} to {sent.eml_path}; nothing was sent or recorded")
        return
    echo(f"Sent {about} to {recipients}: the server replied \"{sent.server_reply}\"")
    echo(f"Recorded: document sent on {day} ({handle}), Message-ID {sent.message_id},"
               f" message kept as evidence {sent.eml_sha256}")


def _settings_or_identity(session: Session):  # noqa: ANN202
    """A dry run needs no server: the mail settings if there are some, else the identity's address."""
    from domain.adapters.smtp import KEYS, MailSettings
    from domain.model.errors import Refused

    if session.identity.get(KEYS["host"]):
        return session.mail_settings()
    if not session.identity.get("email"):
        raise Refused(f"no identity in {session.home} yet: run `tratos init --name N --email E` first")
    return MailSettings(host="", port=0, security="none", user="", from_address=session.identity["email"],
                        from_name=session.identity.get("name", ""))
