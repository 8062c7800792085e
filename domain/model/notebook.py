"""What recording a note needs of a relationship: its opening and the head of its chain.

Notes are what a freelancer records most, and the one rule over a note is that it
cannot predate the relationship (notes are still welcome after the end). So a note
does not replay the stream, which grows for years: the first event gives the
opening, the last one the head the note is chained to, exactly as the whole
`Relationship` would chain it (tests/domain/test_notebook.py compares the two).
A rule over notes that needs more of the history belongs in `Relationship`, with
`Tratos.record_note` going back to a full replay.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from domain.model import events as ev
from domain.model.anchors import anchor_timestamp
from domain.model.calendar import check_day
from domain.model.chain import ChainedAggregate
from domain.model.errors import Refused
from domain.model.values import Evidence, check_text


def check_opened(handle: str, opened_on: date | None, on: date) -> None:
    """Nothing is recorded before the relationship was opened."""
    if opened_on and on < opened_on:
        raise Refused(f"{on} is before the relationship with {handle} was opened ({opened_on})")


class Notebook(ChainedAggregate):
    """A relationship as a note sees it: opened when, and where its chain stands."""

    def __init__(self, opened: ev.RelationshipOpened, last: ev.RelationshipEvent) -> None:
        super().__init__(opened.originator_id)
        self.handle = opened.handle
        self.opened_on = opened.occurred_on
        self.version = last.originator_version
        self.head_digest = last.digest
        self.warnings: list[str] = []

    def record_note(self, text: str, *, on: date, evidence: list[Evidence] = (), actor: str = "") -> ev.NoteRecorded:
        check_opened(self.handle, self.opened_on, on)
        return self._record(ev.NoteRecorded, occurred_on=on, actor=actor, text=check_text(text, "note", multiline=True),
                            evidence=list(evidence))

    def timestamp_anchor(self, *, chain_version: int, chain_digest: str, note_sha256: str, token_sha256: str,
                         timestamped_at: datetime, authority: str, tsa_url: str, on: date,
                         evidence: list[Evidence] = (), actor: str = "") -> ev.AnchorTimestamped:
        """A TSA's token over an anchor note: like a note, it needs only the opening and the head."""
        check_day(on, "the business date")
        check_opened(self.handle, self.opened_on, on)
        fields = anchor_timestamp(self.version, chain_version=chain_version, chain_digest=chain_digest,
                                  note_sha256=note_sha256, token_sha256=token_sha256,
                                  timestamped_at=timestamped_at, authority=authority, tsa_url=tsa_url)
        return self._record(ev.AnchorTimestamped, occurred_on=on, actor=actor, **fields, evidence=list(evidence))

    def when(self, event: Any) -> None:
        """A note changes nothing a next note needs but the chain's head, which `apply` moves."""
