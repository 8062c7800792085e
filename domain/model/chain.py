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
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self
from uuid import UUID

from pydantic import BaseModel

from domain.model.errors import Refused
from domain.model.streams import impossible_record

GENESIS = "0" * 64
# Stored next to the payload but not part of it: they are hashed on their own
# (occurred_on, recorded_at) or are the hash itself (digest).
_ENVELOPE = frozenset({"digest", "timestamp", "occurred_on", "originator_id", "originator_version"})


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


class ChainedAggregate:
    """A consistency boundary whose events form one hash chain.

    Commands decide (and raise) first, then call `_record`, which builds the
    event, seals it with its digest and applies it through `when`.
    """

    def __init__(self, id: UUID) -> None:
        self.id = id
        self.version = 0
        self.head_digest = GENESIS
        self._pending: list[BaseModel] = []
        self.last_saved: list[BaseModel] = []
        self.opened_by: str | None = None  # the type of the stream's first event, once folded

    def _record(self, event_class: type[BaseModel], **fields: Any) -> Any:
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

    def apply(self, event: Any) -> None:
        """Fold one event; a history the domain could never have made is refused, not folded."""
        if event.originator_version != self.version + 1:
            raise ValueError(
                f"event version {event.originator_version} does not follow {self.version}"
            )
        kind = type(event).__name__
        wrong = impossible_record(self.id, event.originator_version, kind, vars(event), self.opened_by)
        if wrong:
            raise Refused(f"stream {self.id} version {event.originator_version}: {wrong}")
        self.opened_by = self.opened_by or kind
        self.when(event)
        self.version = event.originator_version
        self.head_digest = event.digest

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


def records_of(rows: Iterable[tuple[int, str, dict[str, Any]]]) -> Iterator[RawRecord]:
    for version, topic, state in rows:
        yield RawRecord(version, topic, state)
