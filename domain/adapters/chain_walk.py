"""Reading a stored Verifactu chain to its first break: the one walk both chains take (the billing
records and the event log), so a record that cannot be read breaks either chain the same way."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from domain.model.errors import UnreadableRecord


@dataclass(frozen=True)
class Unreadable:
    """A stored record (or log entry) that cannot be read at all: the chain is broken there."""

    position: int
    why: str
    unit: str = "record"
    anomaly: str = "03"  # the agency's list L1E: integrity, other
    record: None = None  # no record or entry to name: it could not be read
    event: None = None

    @property
    def problem(self) -> str:
        return f"it cannot be read ({self.why})"

    def __str__(self) -> str:
        return f"{self.unit} {self.position}: {self.problem}"


@dataclass(frozen=True)
class ChainCheck:
    """One chain verified (an issuer's billing records, its event log, or exported files): whose,
    how many entries held, the last fingerprint, and the first break (a RecordBreak, an EventBreak,
    an Unreadable), and the traceability anomalies noted on the way, which break nothing (ADR-69)."""

    source: str  # records:NIF, events:NIF, or the files read
    count: int
    last: str
    broken: Any
    noted: tuple[Any, ...] = ()  # RecordBreaks of type 11 or 13

    @property
    def ok(self) -> bool:
        return self.broken is None

    @property
    def records(self) -> int:
        return self.count

    @property
    def events(self) -> int:
        return self.count


def check_streams(kind: str, streams: Iterable[Any], read: Callable[[Any], Iterable[Any]],
                  first_break: Callable[[Iterator[Any]], tuple[int, Any]], unit: str,
                  streams_of: dict[Any, str]) -> list[ChainCheck]:
    """Each stream's chain walked (`walk`) and named (`source_name`)."""
    checks = []
    for stream in streams:
        walked = walk(read(stream), first_break, unit)
        checks.append(ChainCheck(source_name(kind, stream, walked, streams_of), walked.count,
                                 walked.last.fingerprint if walked.last else "", walked.broken))
    return checks


@dataclass(frozen=True)
class Walked:
    """How many entries held, the first break, and the last entry read (None for an empty chain)."""

    count: int
    broken: Any
    last: Any


def source_name(kind: str, stream: Any, walked: Walked, streams_of: dict[Any, str]) -> str:
    """`records:NIF` or `events:NIF`: the issuer its entries name, else the one whose stream it is
    (`streams_of`, stream id -> NIF: the first entry may be the unreadable one), else the stream id."""
    nif = walked.last.issuer_nif if walked.last else streams_of.get(stream, str(stream))
    return f"{kind}:{nif}"


def walk(entries: Iterable[Any], first_break: Callable[[Iterator[Any]], tuple[int, Any]],
         unit: str = "record") -> Walked:
    """`first_break` run over `entries` as they are read; one that cannot be read is the break,
    not an error of the check (the audit goes on to say what else holds)."""
    last: list[Any] = []
    read = 0

    def kept() -> Iterator[Any]:
        nonlocal read
        for entry in entries:
            read += 1
            last[:] = [entry]
            yield entry

    try:
        count, broken = first_break(kept())
    except UnreadableRecord as error:
        count, broken = read, Unreadable(read + 1, error.why, unit)
    return Walked(count, broken, last[0] if last else None)
