"""Reading client emails from a file or folder: one .eml, an mbox, or a Maildir, a message at a time.

The standard library's `mailbox` reads an mbox by offsets (a table of where each message
starts) and a Maildir by file, so a mailbox of any size is read one message at a time: memory
holds one message, never the mailbox (issue 22, ADR-47). Each message is given as the
exact bytes the mailbox holds; `read_message` says what an event cites of it.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

from domain.adapters.evidence import as_written, cited_name, describe
from domain.adapters.files import (
    FILE_LIMIT,
    is_regular,
    megabytes,
    open_regular,
    read_regular,
    regular,
)
from domain.adapters.library_internals import mbox_message_span
from domain.model.errors import BadInput
from domain.model.values import Evidence, visible

HEADER_LIMIT = 1000
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}")


@dataclass(frozen=True)
class ReadMessage:
    """One email as an event cites it, and the files it brings (the .eml, then each attachment)."""

    message_id: str
    sender: str
    sender_address: str
    to: list[str]
    cc: list[str]
    sent_at: datetime | None
    subject: str
    evidence: list[Evidence]
    contents: list[bytes]  # in the order of `evidence`
    problem: str | None = None  # why it is no email at all (`not_an_email`): then it is listed, never filed

    @property
    def sha256(self) -> str:
        return self.evidence[0].sha256

    def summary(self) -> dict[str, str | None]:
        return {"message_id": self.message_id, "from": self.sender, "subject": self.subject,
                "date": self.sent_at.isoformat() if self.sent_at else None, "sha256": self.sha256}


def messages(source: str | Path) -> Iterator[bytes]:
    """The messages of `source`, in order: a Maildir (a folder with cur/ and new/), an mbox (a
    file starting `From `), or one .eml. Anything else is bad input (exit 2)."""
    path = Path(source)
    if path.is_dir():
        if not ((path / "cur").is_dir() and (path / "new").is_dir()):
            raise BadInput(f"{path} is a folder but not a Maildir (it has no cur/ and new/)")
        # each message a file of cur/ or new/ (not a dot file), read as any file the user names:
        # a FIFO or a link to a device among them is refused, never waited on
        entries = [entry for folder in ("cur", "new") for entry in (path / folder).iterdir()
                   if not entry.name.startswith(".")]
        entries.sort(key=lambda e: e.name)
        for entry in entries:  # one too big is refused before any is read, and so before any is filed
            if is_regular(entry):
                regular(entry, "email file", limit=FILE_LIMIT)
        for entry in entries:
            yield read_regular(entry, "email file", limit=FILE_LIMIT)
        return
    with open_regular(path, "mail file", limit=None) as probe:  # a read that fails is one line
        start = probe.read(5)
    if start == b"From ":
        box = mailbox.mbox(path, factory=None, create=False)
        try:
            keys = list(box.iterkeys())
            _refuse_a_message_too_big(box, keys, path)
            for key in keys:
                yield box.get_bytes(key)
        except OSError as error:  # mailbox opens the file itself: the same words as `open_regular`
            raise BadInput(f"cannot read mail file {path}: {error.strerror or error}") from None
        finally:
            box.close()
        return
    yield read_regular(path, "email file", limit=FILE_LIMIT)


def _refuse_a_message_too_big(box: mailbox.mbox, keys: list, path: Path) -> None:
    """An mbox's message larger than an .eml may be (`FILE_LIMIT`) is refused before any is read:
    its size is known from the mailbox's table of offsets, so it is never read whole into memory,
    and nothing of the mailbox is filed (the same limit as for an .eml or a Maildir's file)."""
    for number, key in enumerate(keys, start=1):
        start, stop = mbox_message_span(box, key)
        if stop - start > FILE_LIMIT:
            raise BadInput(f"message {number} of {path} is {megabytes(stop - start)}: tratos reads emails of at"
                           f" most {megabytes(FILE_LIMIT)}; nothing was filed")


def read_message(raw: bytes, number: int) -> ReadMessage:
    """What an event cites of the message `raw` (the `number`th of its mailbox, for names)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    sha = hashlib.sha256(raw).hexdigest()
    eml = describe(Path(f"message-{sha[:16]}.eml"), raw)
    evidence, contents = [eml], [raw]
    for n, part in enumerate(_attachments(message), start=1):
        content = part.get_payload(decode=True)
        if not isinstance(content, bytes):
            continue
        evidence.append(Evidence(sha256=hashlib.sha256(content).hexdigest(), name=_name(part, n, sha),
                                 size=len(content), media_type=_media_type(part)))
        contents.append(content)
    senders = _addresses(message, "From")
    return ReadMessage(
        message_id=_header(message, "Message-ID"), sender=_header(message, "From"),
        sender_address=senders[0] if senders else "", to=_addresses(message, "To"),
        cc=_addresses(message, "Cc"), sent_at=_date(message), subject=_header(message, "Subject"),
        evidence=evidence, contents=contents, problem=not_an_email(raw, message, senders))


def not_an_email(raw: bytes, message: email.message.Message, senders: list[str]) -> str | None:
    """Why `raw` is no email at all, or None. An email has headers, and a From with an address
    (RFC 5322 3.6: every message has one), which is also what files it with a client: an empty
    file, a PDF, random bytes or a text without headers named by mistake is not filed as evidence
    of anything (ADR-61). A message that is an email but matches no client is another case:
    it is listed as unmatched."""
    if not raw.strip():
        return "it is empty"
    if not message.keys():
        return "it has no email headers"
    if not senders:
        return "its From header holds no address tratos can read" if _header(message, "From") else "it has no From address"
    return None


def _attachments(message: email.message.Message) -> Iterator[email.message.Message]:
    try:
        yield from message.iter_attachments()
    except (AttributeError, KeyError, TypeError):  # not a MIME message of email's EmailMessage
        return


def _header(message: email.message.Message, name: str) -> str:
    """A header as one visible line, at most 1000 characters; '' if missing or unreadable."""
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - a malformed header is the sender's, and still evidence: as written
        value = next(iter(as_written(message, name)), None)
    if value is None:
        return ""
    text = visible(re.sub(r"\r?\n[ \t]*", " ", str(value)).strip())
    return text if len(text) <= HEADER_LIMIT else text[:HEADER_LIMIT - 1] + "…"


def _addresses(message: email.message.Message, name: str) -> list[str]:
    """The plain addresses of a header (`laura@acme.test`), lower-cased, as they match clients."""
    try:
        values = [str(v) for v in message.get_all(name, [])]
    except Exception:  # noqa: BLE001 - a display name decoding to a line break: the address as written
        values = as_written(message, name)
    found = []
    for _, address in getaddresses(values):
        address = visible(address.strip().lower())[:HEADER_LIMIT]
        if address and "@" in address and address not in found:
            found.append(address)
    return found


def _date(message: email.message.Message) -> datetime | None:
    text = _header(message, "Date")
    try:
        when = parsedate_to_datetime(text) if text else None
    except (TypeError, ValueError, IndexError):
        return None
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when


def _name(part: email.message.Message, n: int, sha: str) -> str:
    """An attachment's file name as cited, or `attachment-N` when it has none that shows as it is."""
    given = part.get_filename() or ""
    try:
        name = Path(str(given)).name
        if name:
            return cited_name(Path(name))
    except (BadInput, ValueError):
        pass
    return f"message-{sha[:16]}-attachment-{n}"


def _media_type(part: email.message.Message) -> str:
    media_type = part.get_content_type()
    return media_type if _MEDIA_TYPE.fullmatch(media_type) else "application/octet-stream"
