"""The email that carries a document: a short cover text in the client's language, the PDF attached.

The texts are the catalogs' (`mail.*`, es and en, ADR-23). The message is written with the
SMTP policy (CRLF line ends), so the bytes kept as evidence are the bytes the server receives
(smtplib sends CRLF text unchanged; its dot-stuffing is undone by the server). A Bcc to the
freelancer is an envelope recipient only: it never appears in the message's headers.
"""

from __future__ import annotations

import email.policy
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from documents.i18n import N_, Formatter
from domain.services.sending import Composed, Letter

KINDS_WITH_BODIES = (
    N_("mail.body.terms"), N_("mail.body.contract"), N_("mail.body.change"), N_("mail.body.incident"),
    N_("mail.body.reminder"), N_("mail.body.closing"), N_("mail.body.dossier"), N_("mail.body.invoice"),
)


def compose(letter: Letter) -> Composed:
    """The message as bytes (CRLF), its Message-ID, subject and Date."""
    fmt = Formatter(letter.lang)
    kind = fmt.labels.get(f"kind.{letter.kind}", letter.kind)
    subject = letter.subject or fmt.t("mail.subject", kind=kind, id=letter.document_id,
                                      name=letter.from_name or letter.from_address).unescape()
    body = letter.message or fmt.t(f"mail.body.{letter.kind}", kind=kind, id=letter.document_id).unescape()
    text = "\n\n".join([
        fmt.t("mail.greeting", client=letter.client_name).unescape(),
        body,
        fmt.t("mail.attached", file=letter.filename, sha=letter.sha256).unescape(),
        fmt.t("mail.closing").unescape() + "\n" + (letter.from_name or letter.from_address),
    ]) + "\n"
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = formataddr((letter.from_name, letter.from_address))
    message["To"] = ", ".join(letter.to)
    if letter.cc:
        message["Cc"] = ", ".join(letter.cc)
    message["Date"] = format_datetime(letter.sent_at)
    message_id = make_msgid(domain=letter.from_address.rpartition("@")[2] or None)
    message["Message-ID"] = message_id
    message["Subject"] = subject
    message.set_content(text, charset="utf-8")
    message.add_attachment(letter.attachment, maintype="application", subtype="pdf", filename=letter.filename)
    return Composed(message.as_bytes(), message_id, subject, letter.sent_at)


def sent_at_now() -> datetime:
    """The Date of a message: now, to the second, in UTC."""
    from datetime import UTC

    return datetime.now(UTC).replace(microsecond=0)
