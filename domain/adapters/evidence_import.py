"""The evidence files an import brings: checked with the file, kept before its events are committed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from domain.adapters.evidence import EvidenceFolder
from domain.adapters.files import is_regular
from domain.model.errors import BadInput


class ImportedEvidence:
    """An export's evidence folder (`DIR/ab/cdef…`) going into the store's.

    The files are in place before the events that cite them are committed, and taken back
    if the commit fails: a store never holds an event whose evidence the import left behind.
    """

    def __init__(self, source: Path, home: Path) -> None:
        self.source = EvidenceFolder(source)
        self.target = EvidenceFolder.of(home)

    def check(self, wanted: Iterable[str]) -> None:
        """Before anything is written: every referenced file is in the folder, with its SHA-256."""
        for sha256 in sorted(wanted):
            if not (is_regular(self.source.path(sha256)) and self.source.holds(sha256)):
                raise BadInput(f"evidence {sha256} is missing from {self.source.root} or does not have"
                               " its SHA-256; nothing was imported")

    @contextmanager
    def kept(self, wanted: Iterable[str]) -> Iterator[int]:
        """Copy every file in (verified again by its hash), then run the commit; a failure takes them back."""
        wanted = sorted(wanted)
        with self.target.keeping(self._contents(wanted)):
            yield len(wanted)

    def _contents(self, wanted: list[str]) -> Iterator[bytes]:
        for sha256 in wanted:
            path = self.source.path(sha256)
            content = self.source.read(sha256) if is_regular(path) else b""
            if hashlib.sha256(content).hexdigest() != sha256:
                raise BadInput(f"evidence {sha256} in {self.source.root} changed while it was being"
                               " imported; nothing was imported")
            yield content
