"""Issuing a document: write the printed PDF, keep a copy as evidence, record `DocumentIssued`.

The printing itself (rendering, signing) is not the domain's: the caller passes a
`Printer`. What the domain guarantees is the whole: if recording fails, neither the
file nor its evidence copy is left behind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from domain.adapters.evidence import EvidenceFolder
from domain.adapters.files import ScratchFailed, write_output

if TYPE_CHECKING:
    from domain.services.application import Recorded, Tratos


@dataclass(frozen=True)
class Printed:
    """A document rendered (and signed, if there was a key), not yet written or recorded."""

    content: bytes
    kind: str
    document_id: str
    lang: str
    filename: str
    chain_version: int
    chain_digest: str
    signed: bool


class Printer(Protocol):
    """Renders (and signs) document `kind` about `ref` of a client's stream, as it stands now."""

    def __call__(self, handle: str, kind: str, ref: str | None, *, on: date) -> Printed: ...


@dataclass(frozen=True)
class Issued:
    """A document written and recorded: where, what, from which chain head."""

    path: Path
    kind: str
    document_id: str
    lang: str
    handle: str
    sha256: str
    chain_version: int
    chain_digest: str
    signed: bool
    recorded_version: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path), "kind": self.kind, "id": self.document_id, "lang": self.lang,
            "handle": self.handle, "sha256": self.sha256, "signed": self.signed,
            "chain_version": self.chain_version, "chain_digest": self.chain_digest,
            "recorded_version": self.recorded_version,
        }


# Records what was issued (the `DocumentIssued` facts as keywords) and returns what was recorded.
Recorder = Callable[..., "Recorded"]


def issue_document(app: Tratos, print_document: Printer, handle: str, kind: str, ref: str | None, *,
                   on: date, output: Path | None = None,
                   record: Recorder | None = None) -> tuple[Issued, Recorded]:
    """Print, write the file, keep a copy in evidence, record; nothing is left if recording fails.

    The evidence copy is what a returned, countersigned PDF is checked against.
    `record` records the document (default: `DocumentIssued` alone); a reminder
    records itself and its document in one save through it.
    """
    try:
        printed = print_document(handle, kind, ref, on=on)
    except ScratchFailed as failed:  # said as the file the user named
        if output is None:
            raise
        raise failed.writing(output) from None
    if record is None:
        def record(**facts: Any) -> Recorded:
            return app.issue_document(handle, printed.kind, on=on, **facts)

    target = output or Path(printed.filename)
    path = write_output(target, printed.content, app.home, shared=True)
    digest = hashlib.sha256(printed.content).hexdigest()
    try:
        with EvidenceFolder.of(app.home).keeping([printed.content]):
            recorded = record(sha256=digest, chain_version=printed.chain_version,
                              chain_digest=printed.chain_digest, document_id=printed.document_id,
                              lang=printed.lang)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    issued = Issued(path, printed.kind, printed.document_id, printed.lang, handle, digest,
                    printed.chain_version, printed.chain_digest, printed.signed,
                    recorded.event.originator_version)
    return issued, recorded
