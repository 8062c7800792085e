"""The store audit: every stream's hash chain, every chain head someone saw, every evidence file.

One streaming pass over the notification log (`select_notifications` in
pages), keeping a few fields of state per stream, so memory grows with the
number of streams, never with the number of events. For each stream it
finds the first version that does not hold and says what is wrong:

- content changed: a record's content does not match its digest;
- event missing: a version is not in the log;
- event inserted: an event sits where it was not recorded (the events after it
  carry digests made for lower versions, or it was written to the log after
  later versions);
- order changed: versions appear in the log out of the order they were written;
- truncated: someone saw a version (a document, an anchor note, the read models)
  that the log no longer holds;
- rewritten: someone saw a different digest at a version than the log holds now;
- evidence missing / evidence changed: a referenced evidence file is gone or
  no longer has its SHA-256;
- impossible history: a record whose chain holds but that the domain could never
  have made (a second RelationshipOpened, an opening whose handle is not its
  stream's: `domain.model.streams.impossible_record`), so it was sealed by hand;
  or an invoice issued after its issuer's first billing record that no record
  registers (`record_keeping`: its record was taken off the end of the chain).

The log order is the second witness besides the digests: within a stream,
eventsourcing writes versions in increasing notification order, and records
edited in place keep their notification id, so a renumbered or late-written
record shows up as a version out of place. The chain format is ADR-3.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from domain.adapters.evidence import sha256_of
from domain.adapters.invoice_numbers import InvoiceNumbers
from domain.adapters.record_keeping import RecordKeeping
from domain.adapters.stored_rows import row_problem
from domain.model.chain import GENESIS, digest_of, event_type
from domain.model.errors import BadInput, UnreadableRecord
from domain.model.invoices import series_id
from domain.model.streams import (
    EVENT_LOG,
    NUMBERINGS,
    RECORDS,
    SUBMISSIONS,
    events_id,
    impossible_record,
    records_id,
    submissions_id,
)
from domain.model.values import check_handle, stream_id

PAGE_SIZE = 1000

CONTENT_CHANGED = "content changed"
EVENT_MISSING = "event missing"
EVENT_INSERTED = "event inserted"
ORDER_CHANGED = "order changed"
TRUNCATED = "truncated"
REWRITTEN = "rewritten"
EVIDENCE_MISSING = "evidence missing"
EVIDENCE_CHANGED = "evidence changed"
IMPOSSIBLE = "impossible history"

ANCHOR_FORMAT = 1
# Numbers in a note are written with the digits 0-9 (`\d` would read Arabic-Indic digits too).
# A quoting prefix is fine (an email reply); after the digest, nothing but blanks (ADR-33).
_ANCHOR_LINE = re.compile(r"tratos-anchor v([0-9]{1,9}) (\S+) ([0-9]{1,18}) ([0-9a-f]{64})[ \t]*\Z")
SERIES_PREFIX = "invoices:"
RECORDS_PREFIX = "records:"  # an issuer's chain of Verifactu billing records, by NIF
SENT_PREFIX = "sent:"  # what an issuer sent the agency of them
EVENTS_PREFIX = "events:"  # an issuer's Verifactu event log (no-VERI*FACTU)
# The labels of streams that are not a client's (series, records, submissions, event logs, unnamed ones).
NOT_A_CLIENT = (SERIES_PREFIX, RECORDS_PREFIX, SENT_PREFIX, EVENTS_PREFIX, "stream:")

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Anchor:
    """A chain head someone saw: a stream's digest at a version (None: only that the version existed)."""

    stream: UUID
    version: int
    digest: str | None
    source: str
    label: str = ""


@dataclass(frozen=True, slots=True)
class Problem:
    version: int
    kind: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "kind": self.kind, "detail": self.detail}


@dataclass(slots=True)
class StreamAudit:
    """What the audit found in one stream (slots: the audit keeps one per client, 10,000 in a large store)."""

    stream: UUID
    label: str
    events: int = 0
    head_version: int = 0
    head_digest: str = GENESIS
    anchors_checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        return min(self.problems, key=lambda p: p.version) if self.problems else None

    def as_dict(self) -> dict[str, Any]:
        first = self.first
        return {
            "stream": str(self.stream), "label": self.label, "events": self.events,
            "head_version": self.head_version, "head_digest": self.head_digest, "ok": self.ok,
            "anchors_checked": self.anchors_checked,
            "first_broken_version": first.version if first else None,
            "problem": first.kind if first else None,
            "problems": [p.as_dict() for p in sorted(self.problems, key=lambda p: p.version)],
        }


@dataclass(frozen=True)
class Witness:
    """What the read models have seen: their positions in the log, and each stream's head."""

    positions: Mapping[str, int]
    heads: Iterable[Anchor]


@dataclass
class AuditReport:
    streams: list[StreamAudit]
    records: int = 0
    documents: int = 0
    evidence_files: int = 0
    positions_checked: int = 0
    store_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.store_problems and all(s.ok for s in self.streams)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "records": self.records, "documents_checked": self.documents,
            "evidence_files_checked": self.evidence_files, "positions_checked": self.positions_checked,
            "store_problems": self.store_problems, "streams": [s.as_dict() for s in self.streams],
        }


# ------------------------------------------------------------- one stream


@dataclass(slots=True)
class _Gap:
    """A version skipped in log order; what it was is known when it shows up, or the stream ends."""

    missing: int
    seen: int
    renumbered_digest: str | None  # the record seen instead was the missing one, numbered `seen`


class StreamChain:
    """One stream's chain checked record by record in log order: the last version that holds and its digest.

    Used by the audit (over the store) and by import (over an export file).
    """

    # One per stream, so kept small: an audit of 10,000 clients holds 10,000 of these. The read
    # models' head of the stream (every stream has one) is three fields, not an Anchor in a dict.
    __slots__ = ("audit", "stream", "lookup", "before", "broken", "gap", "anchors", "documents",
                 "seen_version", "seen_digest", "seen_source", "opened_by")

    def __init__(self, stream: UUID, lookup: Callable[[UUID, int], str | None]) -> None:
        self.audit = StreamAudit(stream, "")
        self.stream = stream
        self.lookup = lookup
        self.before = GENESIS  # digest of the version before the head
        self.broken = False
        self.gap: _Gap | None = None
        self.anchors: dict[int, list[Anchor]] | None = None  # anchor notes, by version
        self.documents = 0
        self.seen_version = 0  # the read models' head: 0 when they saw none
        self.seen_digest: str | None = None
        self.seen_source = ""
        self.opened_by: str | None = None  # the type of the stream's first event

    def check_possible(self, version: int, kind: str, state: dict[str, Any]) -> None:
        """A record whose chain holds must also be one the domain could have made there."""
        wrong = impossible_record(self.stream, version, kind, state, self.opened_by)
        self.opened_by = self.opened_by or kind
        if wrong:
            self.audit.problems.append(Problem(version, IMPOSSIBLE, wrong))

    # -- the chain

    def feed(self, version: int, kind: str, state: dict[str, Any] | None) -> bool:
        """One record, in log order; True if it holds and extends the chain."""
        audit = self.audit
        audit.events += 1
        if self.gap is not None:
            self._resolve_gap(version, kind, state)
            return False
        if self.broken:
            return False
        expected = audit.head_version + 1
        stored = state.get("digest") if state else None
        if version < expected:
            self._break(version, ORDER_CHANGED,
                        f"version {version} comes again after version {audit.head_version} in the log")
        elif version > expected:
            fits = state is not None and stored == digest_of(audit.head_digest, self.stream, expected, kind, state)
            self.gap = _Gap(expected, version, stored if fits else None)
        elif state is None:
            self._break(version, CONTENT_CHANGED, "the record cannot be read (not JSON, or not decryptable)")
        elif stored == digest_of(audit.head_digest, self.stream, version, kind, state):
            self._advance(version, stored)
            self._check_document(version, kind, state)
            return True
        elif version > 1 and stored == digest_of(self.before, self.stream, version - 1, kind, state):
            # This record was sealed as version-1: whatever holds version-1 now was put in before it.
            audit.head_version, audit.head_digest = version - 2, self.before
            self._break(version - 1, EVENT_INSERTED,
                        f"version {version - 1} is not the event recorded there: the event after it was"
                        f" sealed as version {version - 1} and renumbered")
        else:
            self._break(version, CONTENT_CHANGED, "its content does not match its digest")
        return False

    def _advance(self, version: int, digest: str) -> None:
        self.before = self.audit.head_digest
        self.audit.head_version, self.audit.head_digest = version, digest
        if self.anchors:
            for anchor in self.anchors.pop(version, ()):
                self._compare(anchor, digest)
        if version == self.seen_version:
            self._compare(self._seen(), digest)

    def _break(self, version: int, kind: str, detail: str) -> None:
        self.broken = True
        self.audit.problems.append(Problem(version, kind, detail))

    def _resolve_gap(self, version: int, kind: str, state: dict[str, Any] | None) -> None:
        gap = self.gap
        assert gap is not None
        if version != gap.missing:
            return  # wait for the missing version, or the end of the stream
        self.gap = None
        stored = state.get("digest") if state else None
        if state is not None and stored == digest_of(self.audit.head_digest, self.stream, version, kind, state):
            moved = " and the events after it renumbered" if gap.renumbered_digest else ""
            self._break(version, EVENT_INSERTED,
                        f"version {version} fits the chain but was written to the log after version"
                        f" {gap.seen}: it was inserted later{moved}")
        elif (gap.renumbered_digest and state is not None
              and stored == digest_of(gap.renumbered_digest, self.stream, gap.seen, kind, state)):
            self._break(version, ORDER_CHANGED, f"versions {version} and {gap.seen} were swapped")
        else:
            self._break(version, ORDER_CHANGED,
                        f"version {version} comes after version {gap.seen} in the log and does not fit the chain")

    # -- chain heads others saw

    def expect(self, anchor: Anchor) -> None:
        """Check `anchor` when the chain reaches its version (or report it beyond the end)."""
        if anchor.version <= 0:
            return
        if anchor.version <= self.audit.head_version and not self.broken and self.gap is None:
            self._compare(anchor, self.lookup(self.stream, anchor.version))
            return
        if self.anchors is None:
            self.anchors = {}
        self.anchors.setdefault(anchor.version, []).append(anchor)

    def expect_head(self, head: Anchor) -> None:
        """`expect` for the read models' head of this stream, kept in three fields until checked."""
        if head.version <= 0:
            return
        if self.seen_version:
            self.expect(head)  # a second head of one stream: only a hand-made witness has that
            return
        if head.version <= self.audit.head_version and not self.broken and self.gap is None:
            self._compare(head, self.lookup(self.stream, head.version))
            return
        self.seen_version, self.seen_digest, self.seen_source = head.version, head.digest, head.source

    def _seen(self) -> Anchor:
        return Anchor(self.stream, self.seen_version, self.seen_digest, self.seen_source)

    def _pending(self) -> list[Anchor]:
        """Anchors not reached by the chain, by version."""
        pending = [anchor for anchors in (self.anchors or {}).values() for anchor in anchors]
        if self.seen_version > self.audit.head_version:
            pending.append(self._seen())
        return sorted(pending, key=lambda anchor: anchor.version)

    def _compare(self, anchor: Anchor, digest: str | None) -> None:
        self.audit.anchors_checked += 1
        if anchor.digest is None or anchor.digest == digest:
            return
        self.audit.problems.append(Problem(
            anchor.version, REWRITTEN,
            f"{anchor.source} saw version {anchor.version} with digest {anchor.digest[:16]}…, the log"
            f" holds {(digest or 'nothing')[:16]}… there: the stream was rewritten"))

    def _check_document(self, version: int, kind: str, state: dict[str, Any]) -> None:
        """A DocumentIssued record holds: the head it anchors must be the digest at that version."""
        if kind != "DocumentIssued":
            return
        self.documents += 1
        anchored, digest = state.get("chain_version"), state.get("chain_digest")
        what = f"the {state.get('kind', 'document')} {state.get('document_id') or ''} issued at version {version}"
        what = " ".join(what.split())
        if not isinstance(anchored, int) or not 0 < anchored < version:
            self.audit.problems.append(Problem(
                version, REWRITTEN, f"{what} anchors version {anchored}, which is not before it"))
            return
        on_chain = self.before if anchored == version - 1 else self.lookup(self.stream, anchored)
        if on_chain is not None:  # None: not at hand (an export file is read once, forward only)
            self._compare(Anchor(self.stream, anchored, digest, what), on_chain)

    # -- the end of the log

    def finish(self) -> StreamAudit:
        audit = self.audit
        if self.gap is not None:
            gap = self.gap
            renumbered = (f"; the event recorded as version {gap.missing} is now numbered {gap.seen}"
                          if gap.renumbered_digest else f" (the next one is version {gap.seen})")
            self._break(gap.missing, EVENT_MISSING, f"version {gap.missing} is not in the log{renumbered}")
        if not self.broken:
            for anchor in self._pending():
                audit.anchors_checked += 1
                if audit.head_version == 0:
                    detail = f"{anchor.source} saw version {anchor.version}; the log holds no event of this stream"
                else:
                    detail = (f"{anchor.source} saw version {anchor.version}; the log ends at version"
                              f" {audit.head_version}: the events after it were removed")
                audit.problems.append(Problem(audit.head_version + 1, TRUNCATED, detail))
        return audit


# ------------------------------------------------------------ evidence


class _EvidenceCheck:
    """Each referenced evidence file checked once: present, and still with its SHA-256."""

    def __init__(self, locate: Callable[[str], Path] | None) -> None:
        self.locate = locate
        self.results: dict[str, tuple[str, str] | None] = {}

    def check(self, chain: StreamChain, version: int, kind: str, state: dict[str, Any]) -> None:
        if self.locate is None:
            return
        cited = [(item.get("sha256"), item.get("name") or "", True)
                 for item in state.get("evidence") or () if isinstance(item, dict)]
        # The copy kept of a PDF issued: none in a store from before copies were kept, nor after an import
        # without them, but one that is there must be the PDF issued.
        if kind == "DocumentIssued":
            cited.append((state.get("sha256"), f"the {state.get('kind')} PDF issued", False))
        for sha256, name, required in cited:
            if not isinstance(sha256, str) or not sha256:
                continue
            if not required and sha256 not in self.results and not os.path.lexists(self.locate(sha256)):
                continue  # not kept: nothing to hold it to
            if sha256 not in self.results:
                self.results[sha256] = self._verify(sha256, name)
            found = self.results[sha256]
            if found is not None:
                chain.audit.problems.append(Problem(version, *found))

    def files_kept(self) -> int:
        """How many files the evidence folder holds (folder/ab/cdef…, `EvidenceFolder.path`): asked
        of a store without a record, where there should be none."""
        if self.locate is None:
            return 0
        root = self.locate("0" * 64).parent.parent
        return sum(len(files) for _, _, files in os.walk(root))

    def _verify(self, sha256: str, name: str) -> tuple[str, str] | None:
        path = self.locate(sha256)
        what = f"evidence {name} ({sha256[:16]}…)" if name else f"evidence {sha256[:16]}…"
        try:
            actual = sha256_of(path)
        except FileNotFoundError:
            return EVIDENCE_MISSING, f"{what} is not in the evidence folder ({path})"
        except OSError as error:
            return EVIDENCE_MISSING, f"{what} cannot be read: {error.strerror or error}"
        if actual != sha256:
            return EVIDENCE_CHANGED, f"{what} no longer has its SHA-256 (now {actual[:16]}…)"
        return None


# ---------------------------------------------------------------- the pass


def notifications(recorder: Any, page_size: int = PAGE_SIZE, *, damaged: bool = False) -> Iterator[Any]:
    """Every record of the log in notification order, one page in memory at a time.

    `damaged`: rows damaged by hand too, as the database holds them (stored_rows.CheckedRows),
    for the audit, which reports each; every other reader is refused at the first."""
    select = getattr(recorder, "select_raw_notifications", None) if damaged else None
    select = select or recorder.select_notifications
    position = 0
    while True:
        page = select(start=position, limit=page_size, inclusive_of_start=False)
        yield from page
        if len(page) < page_size:
            return
        position = page[-1].id


def audit_store(app: Any, *, streams: Collection[UUID] | None = None, anchors: Iterable[Anchor] = (),
                witness: Witness | None = None, evidence_file: Callable[[str], Path] | None = None,
                names_of: Callable[[list[UUID]], Mapping[UUID, str]] | None = None, page_size: int = PAGE_SIZE,
                progress: Progress | None = None) -> AuditReport:
    """Audit the store of `app` (its recorder and mapper) in one pass over the log.

    `streams` limits the audit to those streams (the log is still read once, other
    records are skipped undecoded). `anchors` are chain heads seen outside the store
    (anchor notes); `witness` is what the read models saw; `evidence_file` maps a
    SHA-256 to where its evidence file must be (None: evidence is not checked); `names_of`
    names the streams whose first event (which says the handle) is gone.
    """
    decode = app.mapper.decode_state
    recorder = app.recorder
    chains: dict[UUID, StreamChain] = {}

    def lookup(stream: UUID, version: int) -> str | None:
        try:
            found = recorder.select_events(stream, gt=version - 1, lte=version, limit=1)
        except UnreadableRecord:  # damaged there: the pass over the log reports it
            return None
        state = _decoded(decode, found[0].state) if found else None
        return state.get("digest") if state else None

    def chain_of(stream: UUID) -> StreamChain:
        chain = chains.get(stream)
        if chain is None:
            chain = chains[stream] = StreamChain(stream, lookup)
        return chain

    wanted = set(streams) if streams is not None else None
    for anchor in anchors:
        if wanted is None or anchor.stream in wanted:
            chain = chain_of(anchor.stream)
            chain.expect(anchor)
            chain.audit.label = chain.audit.label or anchor.label
    for head in witness.heads if witness else ():  # read page by page: one per stream
        if wanted is None or head.stream in wanted:
            chain_of(head.stream).expect_head(head)
    positions = {} if witness is None or wanted is not None else {
        name: position for name, position in witness.positions.items() if position > 0}
    wanted_positions, found_positions = set(positions.values()), set()
    evidence = _EvidenceCheck(evidence_file)
    keeping = RecordKeeping() if wanted is None else None  # needs every invoice and record (ADR-71)
    numbers = InvoiceNumbers(in_order=False) if wanted is None else None  # every number across streams (ADR-84)
    report = AuditReport([])
    total = (recorder.max_notification_id() or 0) if progress else 0
    last_id = 0
    for notification in notifications(recorder, page_size, damaged=True):
        report.records += 1
        last_id = notification.id
        if notification.id in wanted_positions:
            found_positions.add(notification.id)
        if progress is not None and report.records % page_size == 0:
            progress(report.records, total)
        damage = row_problem(notification)
        if not isinstance(notification.originator_id, UUID) or (
                damage is not None and not isinstance(notification.originator_version, int)):
            if wanted is None:  # no stream or no place in one: the log itself is damaged there
                report.store_problems.append(UnreadableRecord(
                    notification.originator_id, notification.originator_version, damage or "").what
                    + f" (notification {notification.id})")
            continue
        stream = notification.originator_id
        if wanted is not None and stream not in wanted:
            continue
        chain = chain_of(stream)
        if damage is not None:  # no event type, no content, a version below 1: its chain breaks there
            chain.feed(notification.originator_version, "", None)
            continue
        kind = event_type(notification.topic)
        state = _decoded(decode, notification.state)
        holds = chain.feed(notification.originator_version, kind, state)
        if holds:
            chain.check_possible(notification.originator_version, kind, state)
        if state is not None and not chain.audit.label:
            chain.audit.label = label_of(kind, state)
        if holds and keeping is not None and numbers is not None:
            keeping.note(kind, state, (stream, notification.originator_version))
            numbers.note(kind, state, (stream, notification.originator_version), chain.audit.label)
        if state is not None:
            evidence.check(chain, notification.originator_version, kind, state)
    if progress is not None:
        progress(report.records, total)

    for name, position in positions.items():
        report.positions_checked += 1
        if position not in found_positions:
            beyond = f" (the log ends at notification {last_id})" if position > last_id else ""
            report.store_problems.append(
                f"the {name.replace('_', ' ')} have seen notification {position}, which is not in the log"
                f" any more{beyond}: events were removed after they were read")
    for wrong in keeping.wrong_batches if keeping is not None else ():
        stream, version = wrong.sent_at
        chains[stream].audit.problems.append(Problem(version, IMPOSSIBLE, wrong.problem))
    for missing in keeping.unrecorded() if keeping is not None else ():
        stream, version = missing.issued_at
        chains[stream].audit.problems.append(Problem(version, IMPOSSIBLE, (
            f"{missing.number} was issued after the billing records of {missing.issuer_nif} began, and no"
            " billing record registers it")))
    unnamed = [stream for stream, chain in chains.items() if not chain.audit.label]
    names = names_of(unnamed) if names_of is not None and unnamed else {}
    for stream in sorted(chains, key=str):
        chain = chains[stream]
        audit = chain.finish()
        audit.label = audit.label or names.get(stream) or f"stream:{stream}"
        report.documents += chain.documents
        report.streams.append(audit)
    if numbers is not None and all(audit.ok for audit in report.streams):  # else the break is what to mend
        for wrong_number in numbers.problems():
            stream, version = wrong_number.place
            chains[stream].audit.problems.append(Problem(version, IMPOSSIBLE, wrong_number.problem))
    report.streams.sort(key=lambda s: (s.label.startswith(NOT_A_CLIENT),
                                       s.label))
    report.evidence_files = len(evidence.results)
    kept = evidence.files_kept() if wanted is None and not report.records else 0
    if kept:
        report.store_problems.append(
            f"the store holds no record, yet its evidence folder holds {kept} file{'s' if kept > 1 else ''} that"
            " only records put there: the store was emptied or replaced after they were recorded (restore it"
            " from an export with `tratos import`)")
    return report


def _decoded(decode: Callable[[bytes], Any], data: bytes) -> dict[str, Any] | None:
    try:
        state = decode(data)
    except Exception:  # noqa: BLE001 - an unreadable record is a finding, not a crash
        return None
    return state if isinstance(state, dict) else None


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def label_of(kind: str, state: dict[str, Any]) -> str:
    """How people name a stream: its client's handle, or `invoices:SERIES-YEAR` ('' if not this event)."""
    if kind == "RelationshipOpened" and isinstance(state.get("handle"), str):
        return state["handle"]
    if kind in NUMBERINGS:
        return f"{SERIES_PREFIX}{state.get('series')}-{state.get('year')}"
    if kind in RECORDS:
        return f"{RECORDS_PREFIX}{state.get('issuer_nif')}"
    if kind in SUBMISSIONS:
        return f"{SENT_PREFIX}{state.get('issuer_nif')}"
    if kind in EVENT_LOG:
        return f"{EVENTS_PREFIX}{state.get('issuer_nif')}"
    return ""


# ------------------------------------------------------------ anchor notes


def stream_of_label(label: str) -> UUID:
    """`acme` -> its relationship stream; `invoices:F-2026` -> that invoice series; `records:NIF` -> that
    issuer's billing records; `stream:UUID`."""
    if label.startswith(RECORDS_PREFIX):
        return records_id(label.removeprefix(RECORDS_PREFIX))
    if label.startswith(SENT_PREFIX):
        return submissions_id(label.removeprefix(SENT_PREFIX))
    if label.startswith(EVENTS_PREFIX):
        return events_id(label.removeprefix(EVENTS_PREFIX))
    if label.startswith(SERIES_PREFIX):
        series, _, year = label.removeprefix(SERIES_PREFIX).rpartition("-")
        if series and year.isascii() and year.isdigit():
            return series_id(series, int(year))
        raise BadInput(f"invalid invoice series {label!r} in the anchor: expected invoices:SERIES-YEAR")
    if label.startswith("stream:"):
        try:
            return UUID(label.removeprefix("stream:"))
        except ValueError:
            raise BadInput(f"invalid stream id in the anchor: {label!r}") from None
    return stream_id(check_handle(label))


def anchor_lines(report: AuditReport) -> list[str]:
    """`tratos-anchor v1 LABEL VERSION DIGEST`, one line per stream with events."""
    return [f"tratos-anchor v{ANCHOR_FORMAT} {s.label} {s.head_version} {s.head_digest}"
            for s in report.streams if s.head_version > 0]


def parse_anchors(text: str, source: str = "the anchor note") -> list[Anchor]:
    """Every `tratos-anchor` line in `text` (quoted in an email reply is fine); other lines are ignored."""
    found: list[Anchor] = []
    for line in text.splitlines():
        match = _ANCHOR_LINE.search(line)
        if match is None:
            if "tratos-anchor" in line:
                raise BadInput(f"unreadable anchor line: {line.strip()!r} (expected `tratos-anchor v1 LABEL"
                               " VERSION DIGEST`, its numbers in the digits 0-9)")
            continue
        fmt, label, version, digest = match.groups()
        if int(fmt) != ANCHOR_FORMAT:
            raise BadInput(f"anchor format v{fmt} is not known to this tratos (it reads v{ANCHOR_FORMAT})")
        if int(version) < 1:  # version 0 is the empty chain: an anchor of it would check nothing
            raise BadInput(f"the anchor of {label!r} names version {version}: versions start at 1")
        found.append(Anchor(stream_of_label(label), int(version), digest, source, label))
    if not found:
        what = "is empty" if not text.strip() else "has no `tratos-anchor v1 …` line"
        raise BadInput(f"{source} {what}: give what `tratos audit anchor` printed")
    return found
