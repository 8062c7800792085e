"""The hash chain that makes every stream tamper-evident.

Each stored event carries
``digest = sha256(canonical_json({previous, stream, version, type, occurred_on,
recorded_at, payload}))``. The payload is exactly the JSON that is stored, so
the chain can be recomputed from the raw records without any of our classes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self
from uuid import UUID

from pydantic import BaseModel

from domain.model.errors import RESTORE, ImpossibleHistory, Refused, TratosError
from domain.model.streams import impossible_record

GENESIS = "0" * 64
# Stored next to the payload but not part of it: they are hashed on their own
# (occurred_on, recorded_at) or are the hash itself (digest).
_ENVELOPE = frozenset({"digest", "timestamp", "occurred_on", "originator_id", "originator_version"})
# What a command never decides: the stream, the place in it, the clock and the seal.
_SEAL = frozenset({"originator_id", "originator_version", "timestamp", "digest"})
_NOTHING = object()


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8; Decimals and dates must already be strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def stored_state(event: BaseModel) -> dict[str, Any]:
    """The JSON object stored for an event (its id and version live in columns)."""
    state = event.model_dump(mode="json", exclude={"originator_id", "originator_version"})
    class_version = getattr(type(event), "class_version", 1)
    if class_version > 1:
        state["class_version"] = class_version
    return state


def digest_of(previous: str, stream: UUID | str, version: int, kind: str, state: dict) -> str:
    """Digest of one stored event, chained to the digest before it."""
    payload = {k: v for k, v in state.items() if k not in _ENVELOPE}
    return hashlib.sha256(
        canonical_json(
            {
                "previous": previous,
                "stream": str(stream),
                "version": version,
                "type": kind,
                "occurred_on": state.get("occurred_on"),
                "recorded_at": state.get("timestamp"),
                "payload": payload,
            }
        )
    ).hexdigest()


def event_type(topic: str) -> str:
    """'domain.events:ChangeQuoted' -> 'ChangeQuoted' (survives moved modules)."""
    return topic.rpartition(":")[2].rpartition(".")[2]


@dataclass(frozen=True)
class RawRecord:
    """One stored event as the recorder holds it, state already decoded to JSON."""

    version: int
    topic: str
    state: dict[str, Any]


@dataclass(frozen=True)
class ChainBreak:
    version: int
    problem: str


@dataclass(frozen=True)
class ChainReport:
    stream: str
    events: int
    head_version: int
    head_digest: str
    broken: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def verify_chain(stream: UUID | str, records: Iterable[RawRecord]) -> ChainReport:
    """Recompute a stream's chain; report the first version that does not hold."""
    previous, expected, count = GENESIS, 1, 0
    for record in records:
        count += 1
        if record.version != expected:
            problem = (
                f"version {expected} is missing" if record.version > expected
                else f"version {record.version} is out of order"
            )
            return ChainReport(str(stream), count, expected - 1, previous,
                               ChainBreak(min(expected, record.version), problem))
        stored = record.state.get("digest")
        computed = digest_of(previous, stream, record.version, event_type(record.topic), record.state)
        if stored != computed:
            return ChainReport(str(stream), count, expected - 1, previous,
                               ChainBreak(record.version, "content does not match its digest"))
        previous, expected = stored, expected + 1
    return ChainReport(str(stream), count, expected - 1, previous, None)


class BrokenChain(Refused):
    """A stream whose hash chain does not hold: nothing is decided, signed or recorded on top of it."""


def check_unbroken(handle: str, report: ChainReport) -> None:
    """Refuse to decide from a stream that fails `verify_chain`: what it says may have been edited,
    and a document or event built on it would carry the edit as true (ADR-64)."""
    if report.broken is not None:
        raise BrokenChain(f"the history of {handle} does not verify: broken at v{report.broken.version}"
                          f" ({report.broken.problem}), nothing was recorded; {RESTORE}")


class ChainedAggregate:
    """A consistency boundary whose events form one hash chain.

    Commands decide (and raise) first, then call `_record`, which builds the
    event, seals it with its digest and applies it through `when`. Under
    `expecting(stored)` a command is re-decided instead: `_record` checks that it
    would record the stored event, and folds that one (domain/model/replay.py).
    """

    def __init__(self, id: UUID) -> None:
        self.id = id
        self.version = 0
        self.head_digest = GENESIS
        self._pending: list[BaseModel] = []
        self.last_saved: list[BaseModel] = []
        self.opened_by: str | None = None  # the type of the stream's first event, once folded
        self._expected: Any = None  # the stored event a command is re-deciding, while `expecting` it

    def _record(self, event_class: type[BaseModel], **fields: Any) -> Any:
        if self._expected is not None:
            return self._recorded_already(event_class, fields)
        draft = event_class(
            originator_id=self.id,
            originator_version=self.version + 1,
            timestamp=fields.pop("timestamp", None) or datetime.now(UTC),
            **fields,
        )
        sealed = draft.model_copy(
            update={"digest": digest_of(self.head_digest, self.id, draft.originator_version,
                                        event_class.__name__, stored_state(draft))}
        )
        self.apply(sealed)
        self._pending.append(sealed)
        return sealed

    @contextmanager
    def expecting(self, stored: Any) -> Iterator[None]:
        """Re-decide `stored`: the command run inside must record exactly it, or nothing is folded.

        Whatever the command refuses, or a field it would record otherwise than stored, is an
        `ImpossibleHistory` naming this stream and the stored version. No copy of the state is
        made: a refusal leaves the aggregate as it was (commands decide before they record).
        """
        version = stored.originator_version
        self._check_place(stored)  # where it stands first: a misplaced event is not asked of a command
        self._expected = stored
        try:
            yield
        except ImpossibleHistory:
            raise
        except TratosError as error:
            raise ImpossibleHistory(f"stream {self.id} version {version}: {type(stored).__name__} does not fit"
                                    f" the events before it ({error})") from None
        finally:
            unrecorded, self._expected = self._expected, None
        if unrecorded is stored:
            raise ImpossibleHistory(f"stream {self.id} version {version}: the command records no"
                                    f" {type(stored).__name__}")

    def _recorded_already(self, event_class: type[BaseModel], fields: dict[str, Any]) -> Any:
        """The stored event, if it is what the command decided (its class and every field), folded."""
        stored, self._expected = self._expected, _NOTHING  # one event per expectation
        if stored is _NOTHING:
            raise ImpossibleHistory(f"stream {self.id}: the command records more than the one stored event")
        where = f"stream {self.id} version {stored.originator_version}"
        if event_class is not type(stored):
            raise ImpossibleHistory(f"{where}: the command records a {event_class.__name__},"
                                    f" not the stored {type(stored).__name__}")
        fields.pop("timestamp", None)
        model_fields = event_class.model_fields
        unknown = set(fields) - set(model_fields)
        if unknown:
            raise TypeError(f"{event_class.__name__} has no field {', '.join(sorted(unknown))}")
        for name, info in model_fields.items():
            if name in _SEAL:
                continue
            decided = fields[name] if name in fields else info.get_default(call_default_factory=True)
            if getattr(stored, name) != decided:
                raise ImpossibleHistory(f"{where}: {event_class.__name__} records {name} {_shown(getattr(stored, name))},"
                                        f" where the domain would record {_shown(decided)}")
        self.apply(stored)
        return stored

    def apply(self, event: Any) -> None:
        """Fold one event; a history the domain could never have made is refused, not folded."""
        kind = self._check_place(event)
        self.opened_by = self.opened_by or kind
        self.when(event)
        self.version = event.originator_version
        self.head_digest = event.digest

    def _check_place(self, event: Any) -> str:
        """The event's type, if it may stand next in this stream (`streams.impossible_record`)."""
        if event.originator_version != self.version + 1:
            raise ValueError(
                f"event version {event.originator_version} does not follow {self.version}"
            )
        kind = type(event).__name__
        wrong = impossible_record(self.id, event.originator_version, kind, vars(event), self.opened_by)
        if wrong:
            raise ImpossibleHistory(f"stream {self.id} version {event.originator_version}: {wrong}")
        return kind

    def when(self, event: Any) -> None:  # overridden with singledispatchmethod
        raise NotImplementedError

    def collect_events(self) -> list[BaseModel]:
        self.last_saved, self._pending = self._pending, []
        return self.last_saved

    @classmethod
    def project(cls, aggregate: Self | None, events: Iterable[Any]) -> Self | None:
        """Replay stored events (eventsourcing's projector function)."""
        for event in events:
            if aggregate is None:
                aggregate = cls(event.originator_id)
            aggregate.apply(event)
        return aggregate


def _shown(value: Any) -> str:
    """A field's value in a message, as tratos prints it (`1.00 EUR`, `2026-03-20`), cut short."""
    from domain.model.wording import shown

    return shown(value)


def records_of(rows: Iterable[tuple[int, str, dict[str, Any]]]) -> Iterator[RawRecord]:
    for version, topic, state in rows:
        yield RawRecord(version, topic, state)
