"""Filing client emails as evidence: each message with the relationship it belongs to, once.

Messages are read one at a time (domain/adapters/mailboxes.py); each is matched to a client by
address (its From for an email received, its To/Cc for one we sent; `--client` names one),
kept in the evidence folder with its attachments, and recorded as `MessageReceived` or
`MessageSent` in saves of up to `BATCH` messages per relationship. One already on the record
(the same Message-ID, or the same bytes when it has none; also a message tratos sent) is
skipped; one that matches no client is listed, never dropped silently; what is no email at all
(empty, no headers, no From: `mailboxes.not_an_email`) is listed with why and never filed. An
import that fails (a batch that fails to record, a message that cannot be read, an interruption)
takes back every file it kept for messages not recorded; batches recorded before it stay, with the
files they cite, and running the import again files only what is missing (ADR-47). A file that was
in the folder before the import is never taken back: a recorded event may cite it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.adapters.evidence import EvidenceFolder
from domain.adapters.mailboxes import ReadMessage, read_message
from domain.model.mailing import filed_key

if TYPE_CHECKING:
    from domain.services.application import Tratos

BATCH = 200  # messages a save records: a few saves for a big mailbox, a bounded memory for each


@dataclass
class Filing:
    """What an import did: filed (per client), skipped as already filed, matched no client, and
    what was no email at all (listed with why, never filed)."""

    filed: dict[str, int] = field(default_factory=dict)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    not_messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.filed.values())

    def as_dict(self) -> dict[str, Any]:
        return {"filed": self.total, "by_client": self.filed, "skipped": self.skipped,
                "unmatched": self.unmatched, "not_messages": self.not_messages}

    @property
    def only_not_messages(self) -> bool:
        """Whether everything read was no email: the source was named by mistake."""
        return bool(self.not_messages) and not (self.filed or self.skipped or self.unmatched)


class _Pending:
    """One client's messages kept and waiting to be recorded."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []


def file_messages(app: Tratos, raw_messages: Iterable[bytes], *, ours: set[str], clients: Mapping[str, str],
                  client: str | None, on: date, dry_run: bool = False, report: Filing | None = None) -> Filing:
    """File every message of `raw_messages`; `ours` are the freelancer's addresses (direction),
    `clients` maps a client's address to its handle, `client` files everything with that one.
    `report`, if given, is filled as the import goes: what was filed before a failure is in it."""
    report = Filing() if report is None else report
    known: dict[str, set[str]] = {}  # handle -> what is on its record already (and filed by this run)
    pending: dict[str, _Pending] = {}
    folder = EvidenceFolder.of(app.home)
    if client is not None:
        app.relationship(client)  # an unknown --client is refused before any message is read
    added: set[Path] = set()  # files this import put in the folder that no recorded event cites yet
    try:
        for number, raw in enumerate(raw_messages, start=1):
            message = read_message(raw, number)
            if message.problem is not None:
                report.not_messages.append({"number": number, "sha256": message.sha256, "size": len(raw),
                                            "problem": message.problem})
                continue
            direction = "sent" if message.sender_address in ours else "received"
            handle = client or _match(message, direction, clients)
            if handle is None:
                report.unmatched.append(message.summary())
                continue
            if handle not in known:
                known[handle] = set(app.relationship(handle).filed)
            key = filed_key(message.message_id, message.sha256)
            if key in known[handle]:
                report.skipped.append({"client": handle, **message.summary()})
                continue
            known[handle].add(key)
            if dry_run:
                report.filed[handle] = report.filed.get(handle, 0) + 1
                continue
            waiting = pending.setdefault(handle, _Pending())
            added.update(path for content in message.contents if (path := folder.keep(content)) is not None)
            waiting.messages.append(_fields(message, direction))
            if len(waiting.messages) >= BATCH:
                _record(app, folder, handle, pending.pop(handle), on, report, added)
        while pending:
            handle = next(iter(pending))
            _record(app, folder, handle, pending.pop(handle), on, report, added)
    except BaseException:  # unreadable message, failed save, Ctrl-C: the folder as it was, but for what
        folder.take_back(added)  # the batches recorded cite
        raise
    return report


def _match(message: ReadMessage, direction: str, clients: Mapping[str, str]) -> str | None:
    candidates = [message.sender_address] if direction == "received" else [*message.to, *message.cc]
    return next((clients[address] for address in candidates if address in clients), None)


def _fields(message: ReadMessage, direction: str) -> dict[str, Any]:
    return {"direction": direction, "message_id": message.message_id, "sender": message.sender,
            "to": message.to, "cc": message.cc, "sent_at": message.sent_at, "subject": message.subject,
            "evidence": message.evidence}


def _record(app: Tratos, folder: EvidenceFolder, handle: str, waiting: _Pending, on: date, report: Filing,
            added: set[Path]) -> None:
    """Record one client's batch; the files its messages cite are then the record's, never taken back."""
    from domain.adapters.interruptions import held

    with held():  # saved and noted as one step: a signal just after the save takes back none of its files,
        # and "aborted" counts what it filed
        recorded, skipped = app.file_messages(handle, waiting.messages, on=on)  # failing: the caller takes back
        for message in waiting.messages:
            added.difference_update(folder.path(evidence.sha256) for evidence in message["evidence"])
        report.filed[handle] = report.filed.get(handle, 0) + len(recorded.events)
    for message in skipped:  # filed by another process meanwhile
        report.skipped.append({"client": handle, "message_id": message["message_id"], "from": message["sender"],
                               "subject": message["subject"], "sha256": message["evidence"][0].sha256})
