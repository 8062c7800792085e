"""Sending a document by email: print (or reuse) it, compose the message, deliver it, record it.

The order makes a failed send record nothing (issue 22, ADR-45): everything the record
will state is decided first (a dry run of the aggregate's rule), the message is kept in the
evidence folder, then delivered; only a message the server accepted is recorded, as
`DocumentSent` (with the document's `DocumentIssued` when it was printed for this message),
in one save. A delivery that fails takes the kept message back. Composing (documents/mail.py),
printing and delivering (domain/adapters/smtp.py) are passed in: the domain imports neither.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.adapters.evidence import EvidenceFolder, describe
from domain.adapters.files import write_output
from domain.model.errors import BadInput, Refused, TratosError
from domain.model.mailing import check_recipients
from domain.model.values import check_text

if TYPE_CHECKING:
    from domain.services.application import Recorded, Tratos
    from domain.services.documents import Printer


@dataclass(frozen=True)
class Letter:
    """What the message says and carries, before it is written."""

    kind: str
    document_id: str
    lang: str
    client_name: str
    from_address: str
    from_name: str
    to: list[str]
    cc: list[str]
    subject: str | None
    message: str | None
    attachment: bytes
    filename: str
    sha256: str
    sent_at: datetime


@dataclass(frozen=True)
class Composed:
    """The message as its exact bytes, and what the record cites of it."""

    content: bytes
    message_id: str
    subject: str
    sent_at: datetime


Composer = Callable[[Letter], Composed]
# deliver(recipients, content) -> the server's reply to the message; raises SendFailed
Deliverer = Callable[[Sequence[str], bytes], str]


@dataclass(frozen=True)
class Envelope:
    """Who sends, to whom: From, To, Cc and Bcc (the Bcc only on the envelope)."""

    from_address: str
    from_name: str
    to: list[str]
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Sent:
    """A message sent (or, dry run, only written): the facts recorded, where the .eml is."""

    handle: str
    kind: str
    document_id: str
    to: list[str]
    cc: list[str]
    bcc: list[str]
    subject: str
    message_id: str
    sent_at: datetime
    eml_sha256: str
    document_sha256: str
    server_reply: str | None
    eml_path: Path | None
    issued_now: bool
    recorded_version: int | None

    def as_dict(self) -> dict[str, Any]:
        return {"handle": self.handle, "kind": self.kind, "id": self.document_id, "to": self.to, "cc": self.cc,
                "bcc": self.bcc, "subject": self.subject, "message_id": self.message_id,
                "sent_at": self.sent_at.isoformat(), "server_reply": self.server_reply,
                "eml_sha256": self.eml_sha256, "document_sha256": self.document_sha256,
                "eml": str(self.eml_path) if self.eml_path else None, "issued_now": self.issued_now,
                "recorded": self.recorded_version is not None, "stream_version": self.recorded_version}


def send_document(app: Tratos, print_document: Printer, compose: Composer, deliver: Deliverer | None,
                  handle: str, kind: str, ref: str | None, *, envelope: Envelope, on: date, sent_at: datetime,
                  lang: str, subject: str | None = None, message: str | None = None,
                  output: Path | None = None) -> Sent:
    """Send document `kind` (`ref`) of `handle` as `envelope` says; `deliver` None is a dry run:
    the .eml is written to `output` and nothing is sent, kept or recorded."""
    subject = None if subject is None else check_text(subject, "the subject", limit=300)
    message = None if message is None else check_text(message, "the message", multiline=True)
    relationship = app.relationship(handle)
    to, cc, bcc = check_recipients(envelope.to or _client_email(relationship), envelope.cc, envelope.bcc)
    reused = relationship.issued(kind, ref) if ref else None
    folder = EvidenceFolder.of(app.home)
    printed = None
    if reused is not None and folder.holds(reused.sha256):
        pdf, document_id, sha = folder.read(reused.sha256), reused.document_id, reused.sha256
        filename = f"{handle}-{kind}-{document_id}-{reused.lang or lang}.pdf"
    else:
        printed = print_document(handle, kind, ref, on=on)
        pdf, document_id, filename = printed.content, printed.document_id, printed.filename
        sha = hashlib.sha256(pdf).hexdigest()
    letter = Letter(kind, document_id, lang, relationship.client.name if relationship.client else handle,
                    envelope.from_address, envelope.from_name, to, cc, subject, message, pdf, filename, sha,
                    sent_at)
    composed = compose(letter)
    eml_name = Path(filename).with_suffix(".eml").name
    eml_sha = hashlib.sha256(composed.content).hexdigest()
    document = None if printed is None else {
        "sha256": sha, "chain_version": printed.chain_version, "chain_digest": printed.chain_digest,
        "document_id": printed.document_id, "lang": printed.lang}
    facts = {"document_id": document_id, "document_sha256": sha, "lang": lang, "to": to, "cc": cc, "bcc": bcc,
             "subject": composed.subject, "message_id": composed.message_id, "sent_at": composed.sent_at,
             "evidence": [describe(Path(eml_name), composed.content)]}
    _decide_first(relationship, kind, document, facts, on)  # a dry run refuses what a send would
    eml_path = None
    if output is not None or deliver is None:
        target = output or Path(eml_name)
        eml_path = write_output(target, composed.content, app.home, shared=True)

    def result(reply: str | None, recorded: Recorded | None) -> Sent:
        return Sent(handle, kind, document_id, to, cc, bcc, composed.subject, composed.message_id,
                    composed.sent_at, eml_sha, sha, reply, eml_path, printed is not None,
                    recorded.event.originator_version if recorded else None)

    if deliver is None:
        return result(None, None)
    try:
        with folder.keeping([composed.content]):  # taken back if the server does not take the message
            reply = deliver([*to, *cc, *bcc], composed.content)
    except BaseException:
        if eml_path is not None:
            eml_path.unlink(missing_ok=True)
        raise
    try:
        recorded = app.send_document(handle, kind, on=on, document=document,
                                     sent={**facts, "server_reply": reply})
    except TratosError as error:  # it has left: say so, and keep the message as the proof of it
        raise Refused(f"the message was sent ({reply}) but could not be recorded: {error}; it is kept as"
                      f" evidence {eml_sha}") from error
    return result(reply, recorded)


def _client_email(relationship: Any) -> list[str]:
    email = relationship.client.email if relationship.client else ""
    if not email:
        raise BadInput(f"{relationship.handle} has no email address: give --to ADDRESS"
                       f" (or record it with `tratos client update {relationship.handle} --email ...`)")
    return [email]


def _decide_first(relationship: Any, kind: str, document: dict[str, Any] | None, facts: dict[str, Any],
                  on: date) -> None:
    """Every rule the record obeys, checked before anything leaves (on a copy that is never saved);
    the server's reply is the one fact not known yet."""
    if document is not None:
        relationship.issue_document(kind, on=on, **document)
    relationship.send_document(kind, on=on, server_reply="250 (not sent yet)", **facts)
