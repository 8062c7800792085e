"""Export a store's records as JSON Lines, and import such a file into an empty store, digests intact.

The format (docs/export-format.md): a header line, then one line per stored
record in log order (`stream`, `version`, `topic`, `state`: the stored JSON
object, digest included), then an end line with the count. Every line is
canonical JSON, so exporting the same records always gives the same bytes.

Import reads the file twice, one line at a time: first it checks everything
(format version, no unknown key in any line, every stream's chain, every event
loads, every event is decided again by the command that recorded it (domain/model/replay.py),
one client per handle, the end line) and refuses with one error before writing
anything; then it inserts the records through the recorder in one transaction,
each state re-encoded by the store's mapper (so a plain export can go into an
encrypted store and back), with the timestamps and digests that were exported.
The check holds each stream's folded aggregate, so its memory grows with the
store's domain state, like loading every client once (ADR-24).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.adapters.audit import StreamChain, label_of, notifications
from domain.adapters.files import megabytes, open_regular, regular
from domain.adapters.invoice_numbers import InvoiceNumbers
from domain.adapters.library_internals import event_inserter, inserts_with_notification
from domain.adapters.mapper import coerced_fields, event_from_state, missing_fields
from domain.adapters.record_keeping import RecordKeeping
from domain.adapters.storage import CONFLICT, classify
from domain.model.chain import ChainedAggregate, canonical_json, event_type
from domain.model.errors import BadInput, Refused, TratosError
from domain.model.streams import EVENT_LOG, NUMBERINGS, RECORDS, SUBMISSIONS
from domain.model.wording import validation_reason

if TYPE_CHECKING:
    from domain.adapters.evidence_import import ImportedEvidence

FORMAT = "tratos-export"
FORMAT_VERSION = 1
READABLE_VERSIONS = (1,)
# The keys of each kind of line, exactly: a line with another key was not written by `export`.
HEADER_KEYS = frozenset({"format", "format_version", "tratos_version", "exported_at"})
RECORD_KEYS = frozenset({"stream", "version", "topic", "state"})
END_KEYS = frozenset({"format", "end", "events"})
INSERT_CHUNK = 500
# How long after the export's exported_at a record may say it was recorded: an event committed
# while the export was reading (it writes its header first) has a later timestamp. A record of
# the future, or of another clock than UTC, is not one tratos wrote.
RECORDED_AFTER_EXPORT = timedelta(days=1)
# The longest line import reads: an event with a long note and its evidence list is a few KiB.
LINE_LIMIT = 16 * 1024 * 1024

Progress = Callable[[int, int], None]
# The events to save with the file's, in its transaction: given how many events the file holds and the
# last event of each billing-records and event-log stream in it (the Verifactu log's 07 entry, ADR-71).
Closing = Callable[[int, Mapping[UUID, Any]], list[Any]]


@dataclass
class Transferred:
    """What an export or import moved."""

    events: int = 0
    streams: int = 0
    evidence: set[str] = field(default_factory=set)  # SHA-256 of every evidence file referenced


def tratos_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tratos")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def header(now: datetime | None = None) -> dict[str, Any]:
    exported_at = (now or datetime.now(UTC)).astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "tratos_version": tratos_version(),
            "exported_at": exported_at}


def record_line(stream: UUID, version: int, topic: str, state: dict[str, Any]) -> bytes:
    return canonical_json({"stream": str(stream), "version": version, "topic": topic, "state": state}) + b"\n"


# ------------------------------------------------------------------ export


def export_store(app: Any, out: IO[bytes], *, now: datetime | None = None,
                 progress: Progress | None = None) -> Transferred:
    """Write every record of the store, in log order, to `out` (binary); one page in memory at a time."""
    out.write(canonical_json(header(now)) + b"\n")
    done, streams = Transferred(), set()
    total = (app.recorder.max_notification_id() or 0) if progress else 0
    for notification in notifications(app.recorder):
        stream = _uuid(notification.originator_id)
        state = app.mapper.record_state(notification)
        out.write(record_line(stream, notification.originator_version, notification.topic, state))
        done.events += 1
        streams.add(stream)
        _collect_evidence(state, done.evidence)
        if progress is not None and done.events % 1000 == 0:
            progress(done.events, total)
    out.write(canonical_json({"format": FORMAT, "end": True, "events": done.events}) + b"\n")
    done.streams = len(streams)
    if progress is not None:
        progress(done.events, total)
    return done


# ------------------------------------------------------------------ import


@dataclass(frozen=True)
class _Record:
    line: int
    stream: UUID
    version: int
    topic: str
    state: dict[str, Any]


def import_store(app: Any, path: Path, *, progress: Progress | None = None,
                 evidence: ImportedEvidence | None = None, closing: Closing | None = None) -> Transferred:
    """Re-record every record of the export file at `path` into the empty store of `app`.

    Refused (nothing written) if the file is not a regular file, the store has events,
    the format version is unknown, a line is malformed or has a key of its own, a chain
    does not hold, an event does not load, a stream's history is one its aggregate
    refuses, two clients claim one handle, the file lacks its end line, or (with
    `evidence`) a referenced evidence file is not there. The evidence files are kept
    before the events are committed and taken back if the commit fails. `closing`, once
    the file is checked and before anything is written, decides the events saved after the
    file's in the same transaction (the import's own entry in the Verifactu event log): what it
    refuses refuses the import. Read models are not touched: the caller rebuilds them.
    """
    regular(path, "the export file", limit=None)
    if app.recorder.max_notification_id():
        raise Refused("the store is not empty: import only into an empty store"
                      " (a new --home folder, or an empty database schema)")
    size = path.stat().st_size
    checked, fingerprint, tails = _check_file(path, progress, size)
    if evidence is not None:
        evidence.check(checked.evidence)
    closed = [app.mapper.to_stored_event(event) for event in (closing(checked.events, tails) if closing else ())]
    if evidence is None:
        _write(app, path, fingerprint, progress, size, closed)
        return checked
    with evidence.kept(checked.evidence):
        _write(app, path, fingerprint, progress, size, closed)
    return checked


def _check_file(path: Path, progress: Progress | None, size: int) -> tuple[Transferred, str, dict[UUID, Any]]:
    chains: dict[UUID, StreamChain] = {}
    tails: dict[UUID, Any] = {}  # the last event of each billing-records and event-log stream
    folds: dict[UUID, ChainedAggregate] = {}
    handles: dict[str, UUID] = {}
    labels: dict[UUID, str] = {}
    numbers = _Numbers(path)
    header: dict[str, Any] = {}
    done, digest = Transferred(), hashlib.sha256()
    for record in _records(path, digest, progress, size, 0, 2 * size, header):
        chain = chains.get(record.stream)
        if chain is None:
            chain = chains[record.stream] = StreamChain(record.stream, lambda _s, _v: None)
        holds = chain.feed(record.version, event_type(record.topic), record.state)
        if not holds and chain.audit.problems:
            _refuse_chain(path, labels.get(record.stream, str(record.stream)), chain)
        if record.stream not in labels and label_of(event_type(record.topic), record.state):
            labels[record.stream] = label_of(event_type(record.topic), record.state)
        event = _loaded(path, record)
        if event_type(record.topic) in RECORDS | EVENT_LOG:
            tails[record.stream] = event
        _complete(path, record, event)
        _recorded_before_export(path, record, event, header["exported_at"])
        if holds:  # else a version is missing: the chain names it when the stream ends
            _claim_handle(path, record, event, handles)
            _replay(path, record, event, folds)
            numbers.note(record, event, folds[record.stream], labels.get(record.stream, str(record.stream)))
        _collect_evidence(record.state, done.evidence)
        done.events += 1
    for stream, chain in chains.items():
        chain.finish()
        if chain.audit.problems:
            _refuse_chain(path, labels.get(stream, str(stream)), chain)
    numbers.check(path)
    done.streams = len(chains)
    return done, digest.hexdigest(), tails


def _refuse_chain(path: Path, label: str, chain: StreamChain) -> None:
    problem = chain.audit.first
    assert problem is not None
    raise Refused(f"{path.name}: the chain of {label} does not hold at version {problem.version}"
                  f" ({problem.kind}: {problem.detail}); nothing was imported")


def _loaded(path: Path, record: _Record) -> Any:
    """The event, which must load with this code (known type, not from a newer schema, valid fields only)."""
    try:
        event = event_from_state(record.topic, record.state, record.stream, record.version)
    except Exception as error:  # noqa: BLE001 - topic errors, upcasts, validation: all refuse the file
        reason = validation_reason(error)[:300]
        raise Refused(f"{path.name} line {record.line}: {event_type(record.topic)} v{record.version}"
                      f" does not load with this tratos ({reason}); nothing was imported") from None
    coerced = coerced_fields(event, record.state)
    if coerced:
        name, value = coerced[0]
        raise Refused(f"{path.name} line {record.line}: {event_type(record.topic)} v{record.version} has"
                      f" {name} = {json.dumps(value, ensure_ascii=False)[:80]}, which is not"
                      " how tratos writes it; nothing was imported")
    return event


def _complete(path: Path, record: _Record, event: Any) -> None:
    """An event of its class's current version carries every key export writes for it: a key left
    out would be filled with its default by validation, and a default is not what was recorded.
    (An older class version lacks the keys added since, which its upcast supplies.)"""
    missing = missing_fields(event, record.state)
    if missing:
        raise Refused(f"{path.name} line {record.line}: {event_type(record.topic)} v{record.version} lacks"
                      f" {', '.join(missing)}, which tratos writes in every such record; nothing was imported")


def _recorded_before_export(path: Path, record: _Record, event: Any, exported_at: datetime) -> None:
    """A record was written before the export that holds it, by a clock that says its zone (UTC)."""
    recorded = event.timestamp
    if recorded.tzinfo is None or recorded.utcoffset() is None:
        raise Refused(f"{path.name} line {record.line}: {event_type(record.topic)} v{record.version} was"
                      f" recorded at {record.state.get('timestamp')!r}, a time without its zone, which"
                      " tratos never writes; nothing was imported")
    if recorded > exported_at + RECORDED_AFTER_EXPORT:
        raise Refused(f"{path.name} line {record.line}: {event_type(record.topic)} v{record.version} was"
                      f" recorded at {recorded.isoformat()}, after the file was exported"
                      f" ({exported_at.isoformat()}); nothing was imported")


class _Numbers:
    """Every invoice number of the file, held across streams (`invoice_numbers`, shared with the
    audit); the invoices, for remaking each billing record from its own (`_check_record`); the
    billing records kept (`record_keeping`); and the latest business date."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.numbers = InvoiceNumbers()
        self.invoices: dict[str, Any] = {}  # number -> the event that issued it
        self.keeping = RecordKeeping()  # invoices after their issuer's first record need one (ADR-71)
        self.latest: tuple[Any, int] | None = None  # the latest business date in the file, and its line

    def note(self, record: _Record, event: Any, aggregate: Any, label: str) -> None:
        kind = event_type(record.topic)
        when = getattr(event, "occurred_on", None)
        if when is not None and (self.latest is None or when > self.latest[0]):
            self.latest = (when, record.line)
        self.keeping.note(kind, record.state, (record.line, getattr(aggregate, "handle", label)))
        self.numbers.note(kind, record.state, record.line, getattr(aggregate, "handle", label))
        if kind in ("InvoiceIssued", "InvoiceCorrected"):
            self.invoices[event.invoice_number] = event
        elif kind == "InvoiceRegistered":
            self._check_record(record, event, label)

    def check(self, path: Path) -> None:
        from domain.adapters.clock import business_today

        today = business_today()
        if self.latest is not None and self.latest[0] > today:  # as no command records after today (ADR-64)
            raise Refused(f"{path.name} line {self.latest[1]}: dated {self.latest[0]}, after today ({today} on this"
                          " machine): a backup holds what had happened when it was made; if this machine's date is"
                          " wrong, correct its clock. Nothing was imported")
        for wrong in self.numbers.problems():
            raise Refused(f"{path.name} line {wrong.place}: {wrong.problem}; nothing was imported")
        for batch in self.keeping.wrong_batches:
            line, _ = batch.sent_at
            raise Refused(f"{path.name} line {line}: {batch.problem}; nothing was imported")
        for missing in self.keeping.unrecorded():
            (line, handle), (began, _) = missing.issued_at, missing.began_at
            raise Refused(f"{path.name} line {line}: {handle!r} issued {missing.number} after the billing records"
                          f" of {missing.issuer_nif} began (line {began}), and no billing record registers it;"
                          " nothing was imported")

    def _check_record(self, record: _Record, registered: Any, label: str) -> None:
        """A billing record is made again from its invoice, which was saved before it in the same
        transaction (`billing_records.registration_disagrees`): each chain is re-decided on its own,
        like each client's stream, so a record forged with its fingerprints and tratos' digests
        recomputed would otherwise fold. (A record of no invoice: `InvoiceNumbers`, once every chain
        is known to hold: a chain broken before it comes first.)"""
        from domain.model.billing_records import registration_disagrees

        invoice = self.invoices.get(registered.invoice_number)
        if invoice is None:
            return
        corrects = getattr(invoice, "corrects", None)
        corrected = self.invoices.get(corrects) if corrects else None
        wrong = registration_disagrees(registered, invoice, corrected.occurred_on if corrected else None)
        if wrong:
            raise Refused(f"{self.path.name} line {record.line}: {label} version {record.version}: the billing"
                          f" record of {registered.invoice_number} {wrong}; nothing was imported")


def _claim_handle(path: Path, record: _Record, event: Any, handles: dict[str, UUID]) -> None:
    """The read models' rule: one client per handle (their client list is keyed by it)."""
    handle = getattr(event, "handle", None) if event_type(record.topic) == "RelationshipOpened" else None
    if handle is None:
        return
    claimed = handles.setdefault(handle, record.stream)
    if claimed != record.stream:
        raise Refused(f"{path.name} line {record.line}: stream {record.stream} version {record.version} opens"
                      f" the client {handle!r}, which stream {claimed} opened already: one handle is one"
                      " client; nothing was imported")


def _replay(path: Path, record: _Record, event: Any, folds: dict[UUID, ChainedAggregate]) -> None:
    """Re-decide the event on its stream's aggregate: the command that recorded it must record it again.

    `domain.model.replay.redecide` calls that command with the event's fields and folds the
    stored event only if the command's rules accept it and it would record it field for field.
    """
    from domain.model.billing_records import BillingRecords, Submissions
    from domain.model.event_log import EventLog
    from domain.model.invoices import InvoiceSeries
    from domain.model.relationship import Relationship
    from domain.model.replay import redecide

    aggregate = folds.get(record.stream)
    if aggregate is None:
        kind = event_type(record.topic)
        kind = (InvoiceSeries if kind in NUMBERINGS else BillingRecords if kind in RECORDS
                else Submissions if kind in SUBMISSIONS else EventLog if kind in EVENT_LOG else Relationship)
        aggregate = folds[record.stream] = kind(record.stream)
    try:
        redecide(aggregate, event)
    except TratosError as error:
        raise Refused(f"{path.name} line {record.line}: {error}; nothing was imported") from None
    except Exception as error:  # noqa: BLE001 - a fold that breaks: the event does not fit its history
        reason = validation_reason(error)[:200]
        raise Refused(f"{path.name} line {record.line}: stream {record.stream} version {record.version}:"
                      f" {event_type(record.topic)} does not fit the events before it ({reason});"
                      " nothing was imported") from None


RACED = ("another command recorded in the store while this import ran: import only into an empty store;"
         " nothing was imported")


def _write(app: Any, path: Path, fingerprint: str, progress: Progress | None, size: int,
           closed: list[StoredEvent]) -> None:
    """The file's records, then `closed`, in one transaction."""
    digest = hashlib.sha256()
    encode = app.mapper.encode_state
    try:
        with _one_transaction(app) as insert:
            chunk: list[StoredEvent] = []
            for record in _records(path, digest, progress, size, size, 2 * size):
                chunk.append(StoredEvent(originator_id=record.stream, originator_version=record.version,
                                         topic=record.topic, state=encode(record.state)))
                if len(chunk) == INSERT_CHUNK:
                    insert(chunk)
                    chunk = []
            if chunk:
                insert(chunk)
            if closed:
                insert(closed)
            if digest.hexdigest() != fingerprint:
                raise Refused(f"{path.name} changed while it was being imported; nothing was imported")
            # Read on another connection, with this transaction's writes holding the store's write lock
            # (SQLite) or its events table (PostgreSQL): what another command saved since the store was
            # found empty is committed and seen here, and nothing else can be saved before this commits.
            if app.recorder.max_notification_id():
                raise Refused(RACED)
    except Exception as error:
        if classify(error) != CONFLICT:
            raise
        # Another import into the same empty store committed first (PostgreSQL: its rows hold the
        # keys this one inserts): not a conflict to try again, an import that cannot be.
        raise Refused(RACED) from None


@contextmanager
def _one_transaction(app: Any) -> Iterator[Callable[[list[StoredEvent]], None]]:
    """Insert through the recorder in chunks, all in one transaction: the import is all or nothing.

    The recorders' public `insert_events` commits per call, so their insert step is
    called on one transaction of our own (what `insert_events` itself does per call).
    """
    from domain.adapters.interruptions import counted_save

    recorder = app.recorder
    datastore = recorder.datastore
    with ExitStack() as committed:
        if inserts_with_notification(recorder):  # PostgreSQL: lock, notify, insert
            with datastore.get_connection() as connection, connection.transaction(), \
                    connection.cursor() as cursor:
                yield event_inserter(recorder, cursor)
                committed.enter_context(counted_save())  # the commit and its count, one step (ADR-87)
            return
        with datastore.transaction(commit=True) as cursor:
            yield event_inserter(recorder, cursor)
            committed.enter_context(counted_save())


def _records(path: Path, digest: Any, progress: Progress | None, size: int, offset: int,
             total: int, header: dict[str, Any] | None = None) -> Iterator[_Record]:
    """The file's record lines, after checking its header (copied into `header`, if given); its
    end line must match the count."""
    with open_regular(path, "the export file", limit=None) as source:
        lines = _lines(path, source)
        first = next(lines, b"")
        digest.update(first)
        checked = _check_header(path, first)
        if header is not None:
            header.update(checked)
        read = len(first)
        for number, raw in enumerate(lines, 2):
            digest.update(raw)
            read += len(raw)
            value = _parse(path, number, raw)
            if value.get("end") is True:
                _check_end(path, number, value)
                if next(lines, b""):
                    raise BadInput(f"{path.name} line {number + 1}: nothing may follow the end line")
                return
            yield _record(path, number, value)
            if progress is not None and number % 1000 == 0:
                progress(offset + read, total)
        raise BadInput(f"{path.name} has no end line: the file is incomplete (cut short?); nothing was imported")


def _lines(path: Path, source: IO[bytes]) -> Iterator[bytes]:
    """The file's lines, each of at most LINE_LIMIT bytes: one event is small, a file without
    newlines (a disk image, a binary) is refused before it fills the memory."""
    number = 0
    while True:
        number += 1
        try:
            line = source.readline(LINE_LIMIT + 1)
        except OSError as error:
            raise BadInput(f"cannot read the export file {path}: {error.strerror or error}") from None
        if not line:
            return
        if len(line) > LINE_LIMIT:
            raise BadInput(f"{path.name} line {number} is longer than {megabytes(LINE_LIMIT)}: no export"
                           " writes such a line; nothing was imported")
        yield line


def _check_header(path: Path, line: bytes) -> dict[str, Any]:
    value = _parse(path, 1, line) if line.strip() else {}
    if value.get("format") != FORMAT:
        raise BadInput(f"{path.name} is not a tratos export (its first line has no \"format\": \"{FORMAT}\")")
    version = value.get("format_version")
    if not _whole_number(version):
        raise BadInput(f"{path.name}: its header's format_version is {version!r}, not a whole number;"
                       " nothing was imported")
    if version not in READABLE_VERSIONS:
        readable = ", ".join(str(v) for v in READABLE_VERSIONS)
        raise BadInput(f"{path.name} has export format version {version!r}, which this tratos"
                       f" ({tratos_version()}) cannot read (it reads version {readable})")
    _only_keys(path, 1, value, HEADER_KEYS, "the header")
    if not isinstance(value.get("tratos_version"), str):
        raise BadInput(f"{path.name}: its header's tratos_version is {value.get('tratos_version')!r},"
                       " not a version; nothing was imported")
    if not _instant(value.get("exported_at")):
        raise BadInput(f"{path.name}: its header's exported_at is {value.get('exported_at')!r}, not a"
                       " UTC time as export writes it; nothing was imported")
    return {**value, "exported_at": datetime.fromisoformat(value["exported_at"][:-1] + "+00:00")}


def _check_end(path: Path, number: int, value: dict[str, Any]) -> None:
    _only_keys(path, number, value, END_KEYS, "the end line")
    if value.get("format") != FORMAT:
        raise BadInput(f"{path.name} line {number}: the end line's format is {value.get('format')!r},"
                       f" not {FORMAT!r}; nothing was imported")
    counted = value.get("events")
    if not _whole_number(counted):
        raise BadInput(f"{path.name}: the end line's event count is {counted!r}, not a whole"
                       " number; nothing was imported")
    if counted != number - 2:
        raise BadInput(f"{path.name}: the end line counts {counted!r} events,"
                       f" the file holds {number - 2}; nothing was imported")


def _instant(value: Any) -> bool:
    """An ISO 8601 UTC time ending in Z, as `header` writes `exported_at`."""
    if not isinstance(value, str) or not value.endswith("Z"):
        return False
    try:
        datetime.fromisoformat(value[:-1] + "+00:00")
    except ValueError:
        return False
    return True


def _whole_number(value: Any) -> bool:
    """A JSON integer, as export writes counts and versions: not true (== 1), 1.0 or "1"."""
    return type(value) is int


def _parse(path: Path, number: int, raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw, object_pairs_hook=_one_value_per_key)
    except _DuplicateKey as duplicate:
        raise BadInput(f"{path.name} line {number} gives the key {duplicate.args[0]!r} twice: export writes"
                       " each key once; nothing was imported") from None
    except ValueError:
        raise BadInput(f"{path.name} line {number} is not JSON; nothing was imported") from None
    except RecursionError:  # "[[[[…" nested beyond the parser's depth: no export writes that
        raise BadInput(f"{path.name} line {number} is not JSON (nested too deeply); nothing was"
                       " imported") from None
    if not isinstance(value, dict):
        raise BadInput(f"{path.name} line {number} is not a JSON object; nothing was imported")
    if b"\\ud" in raw.lower() and not _text(value):  # only an escape makes a lone surrogate: UTF-8 bytes cannot
        raise BadInput(f"{path.name} line {number} holds a text that is not valid UTF-8 text (a lone"
                       " surrogate escape such as \\ud800, which no export writes); nothing was imported")
    return value


def _text(value: dict[str, Any]) -> bool:
    """Whether every string in `value` is text UTF-8 can hold (no lone surrogate from a \\ud800 escape)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _DuplicateKey(ValueError):
    """A JSON object with one key twice (`json` keeps the last silently)."""


def _one_value_per_key(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        raise _DuplicateKey(next(key for key, _ in pairs if key in seen or seen.add(key)))
    return value


def _only_keys(path: Path, number: int, value: dict[str, Any], keys: frozenset[str], what: str) -> None:
    unknown = sorted(set(value) - keys)
    if unknown:
        raise BadInput(f"{path.name} line {number}: {what} has a key export never writes"
                       f" ({', '.join(map(repr, unknown))}); nothing was imported")


def _record(path: Path, number: int, value: dict[str, Any]) -> _Record:
    _only_keys(path, number, value, RECORD_KEYS, "the record")
    try:
        stream = UUID(value["stream"])
        version, topic, state = value["version"], value["topic"], value["state"]
    except (KeyError, TypeError, ValueError, AttributeError):
        raise BadInput(f"{path.name} line {number} is not a record (stream, version, topic, state);"
                       " nothing was imported") from None
    if not (_whole_number(version) and version > 0 and isinstance(topic, str) and isinstance(state, dict)):
        raise BadInput(f"{path.name} line {number} has a malformed version, topic or state;"
                       " nothing was imported")
    return _Record(number, stream, version, topic, state)


def _collect_evidence(state: dict[str, Any], found: set[str]) -> None:
    for item in state.get("evidence") or ():
        if isinstance(item, dict) and isinstance(item.get("sha256"), str):
            found.add(item["sha256"])


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))
