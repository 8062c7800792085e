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
from typing import TYPE_CHECKING

from documents.i18n import N_, Formatter
from domain.services.sending import Composed, Letter

if TYPE_CHECKING:
    from domain.services.follow_up import FollowUpLetter

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


FOLLOW_UP_TEXTS = (
    N_("follow.subject.friendly"), N_("follow.subject.firm"), N_("follow.subject.final"),
    N_("follow.subject.chase"), N_("follow.body.before"), N_("follow.body.friendly"), N_("follow.body.firm"),
    N_("follow.body.final"), N_("follow.body.chase_contract"), N_("follow.body.chase_change"),
)


def compose_follow_up(letter: FollowUpLetter) -> Composed:
    """A follow-up step's message: its tone's subject and text, the amounts, and, on the final
    notice, the itemized statutory claim; a step sent after its day says so."""
    fmt = Formatter(letter.lang)
    step = letter.step
    words = {"id": step.subject, "title": letter.title, "name": letter.from_name or letter.from_address,
             "due": fmt.date(letter.due) if letter.due else "",
             "amount": fmt.money(letter.outstanding) if letter.outstanding is not None else "",
             "kind": fmt.labels.get(f"kind.{letter.kind}", letter.kind)}
    tone = "chase" if step.tone == "chase" else step.tone
    subject = fmt.t(f"follow.subject.{tone}", **words).unescape()
    if step.tone == "chase":
        body_key = f"follow.body.chase_{letter.kind}"
    elif step.step.startswith("before-"):
        body_key = "follow.body.before"
    else:
        body_key = f"follow.body.{step.tone}"
    paragraphs = [fmt.t("mail.greeting", client=letter.client_name).unescape(), fmt.t(body_key, **words).unescape()]
    if letter.claim is not None:
        paragraphs.append(_claim_text(fmt, letter.claim))
    if letter.today > step.on:
        paragraphs.append(fmt.t("follow.late", scheduled=fmt.date(step.on), today=fmt.date(letter.today)).unescape())
    paragraphs.append(fmt.t("mail.closing").unescape() + "\n" + (letter.from_name or letter.from_address))
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = formataddr((letter.from_name, letter.from_address))
    message["To"] = ", ".join(letter.to)
    sent_at = sent_at_now()
    message["Date"] = format_datetime(sent_at)
    message_id = make_msgid(domain=letter.from_address.rpartition("@")[2] or None)
    message["Message-ID"] = message_id
    message["Subject"] = subject
    message.set_content("\n\n".join(paragraphs) + "\n", charset="utf-8")
    return Composed(message.as_bytes(), message_id, subject, sent_at)


def _claim_text(fmt: Formatter, claim) -> str:  # noqa: ANN001 - domain.model.late_fees.Claim
    lines = [fmt.t("follow.claim.principal", amount=fmt.amount(claim.principal, claim.currency)).unescape()]
    if claim.interest:
        rate = fmt.percent(claim.rate) if claim.rate is not None else ""
        lines.append(fmt.t("follow.claim.interest", days=claim.days, rate=rate,
                           amount=fmt.amount(claim.interest, claim.currency)).unescape())
    if claim.compensation:
        lines.append(fmt.t("follow.claim.compensation",
                           amount=fmt.amount(claim.compensation, claim.currency)).unescape())
    lines.append(fmt.t("follow.claim.total", amount=fmt.amount(claim.total, claim.currency)).unescape())
    return "\n".join(lines)


def sent_at_now() -> datetime:
    """The Date of a message: now, to the second, in UTC."""
    from datetime import UTC

    return datetime.now(UTC).replace(microsecond=0)
