"""What a document sent by email must state to be recorded (issue 22, ADR-45).

The message itself is made and sent outside the domain (documents/mail.py composes it,
domain/adapters/smtp.py delivers it); these rules hold the record to what a sent message
is: a document this relationship issued, at least one recipient, a Message-ID, the server's
2xx reply, and the exact message kept as evidence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from domain.model.errors import BadInput
from domain.model.values import Evidence, check_email, check_text

MAX_RECIPIENTS = 50
MESSAGE_MEDIA_TYPE = "message/rfc822"
_MESSAGE_ID = re.compile(r"<[^<>@\s]{1,200}@[^<>@\s]{1,200}>")
_REPLY = re.compile(r"2[0-9][0-9]( .*)?", re.DOTALL)


def check_recipients(to: Sequence[str], cc: Sequence[str], bcc: Sequence[str]) -> tuple[list[str], ...]:
    """Each address a plain email address (`laura@acme.test`), at least one To, at most 50 in all."""
    if not to:
        raise BadInput("a message goes to someone: give --to ADDRESS (or the client's email)")
    if len(to) + len(cc) + len(bcc) > MAX_RECIPIENTS:
        raise BadInput(f"a message goes to at most {MAX_RECIPIENTS} addresses")
    checked = []
    for addresses in (to, cc, bcc):
        listed = []
        for address in addresses:
            if not address or not address.strip():
                raise BadInput("an empty email address: give an address, or leave the option out")
            listed.append(check_email(address))
        checked.append(listed)
    return tuple(checked)


def check_message_id(message_id: str) -> str:
    if not _MESSAGE_ID.fullmatch(message_id or ""):
        raise BadInput(f"not a Message-ID: {message_id!r} (such as <id@example.com>)")
    return message_id


def check_reply(reply: str) -> str:
    """The server's reply to the message: a 2xx acceptance (anything else was not sent)."""
    reply = check_text(reply, "the server's reply", limit=1000)
    if not _REPLY.fullmatch(reply):
        raise BadInput(f"the server did not accept the message: {reply!r}")
    return reply


def check_message_evidence(evidence: Sequence[Evidence]) -> list[Evidence]:
    """The message as sent: exactly one file, an email (.eml)."""
    if len(evidence) != 1 or evidence[0].media_type != MESSAGE_MEDIA_TYPE:
        raise BadInput("a sent message is kept as exactly one .eml file (message/rfc822)")
    return list(evidence)


HEADER_LIMIT = 1000


def filed_key(message_id: str, eml_sha256: str) -> str:
    """What tells one email from another on the record: its Message-ID, else its bytes' SHA-256."""
    return message_id or f"sha256:{eml_sha256}"


def check_header(value: str, what: str) -> str:
    """A header as an event cites it: one line of at most 1000 characters (empty allowed)."""
    return check_text(value, f"the {what} header", required=False, limit=HEADER_LIMIT)


def check_filed_evidence(evidence: Sequence[Evidence]) -> list[Evidence]:
    """An email filed: its .eml first (message/rfc822), then its attachments, each kept."""
    if not evidence or evidence[0].media_type != MESSAGE_MEDIA_TYPE:
        raise BadInput("an email is filed with its .eml first (message/rfc822)")
    return list(evidence)
