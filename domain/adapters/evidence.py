"""The evidence folder: files kept by SHA-256 (`evidence/ab/cdef…`), written once, never overwritten.

Every part of tratos that keeps, finds or checks an evidence file goes through here:
the commands that take --evidence, the copy of every issued PDF, export and import,
the dossier's evidence index and the audit. A file named with --evidence is hashed and
copied in a stream, never held whole in memory, and only if it is a regular file of at
most `FILE_LIMIT` bytes (ADR-30); the folder and its files are readable by their owner alone.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import mimetypes
import os
import re
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.adapters.files import (
    PARTIAL,
    CannotWrite,
    atomic_file,
    chunks,
    narrow,
    open_regular,
    read_regular,
    sweep_partials,
    write_atomically,
    write_output,
)
from domain.adapters.home import EVIDENCE_FOLDER
from domain.model.errors import BadInput
from domain.model.values import Evidence, check_text, visible

FOLDER = EVIDENCE_FOLDER  # home.py names the home's files
EML_HEADERS = ("From", "To", "Date", "Subject")
HEADER_LIMIT = 1000  # characters of one header an event cites (a To of many people is cut)
EML_HEAD = 256 * 1024  # an email's headers are read from its first bytes only


@dataclass(frozen=True)
class EvidenceFile:
    """A file named with --evidence: where it is and how it is cited; copied only when kept."""

    path: Path
    evidence: Evidence


def sha256_of(path: Path) -> str:
    """The SHA-256 of a kept file, read in blocks (evidence can be large); raises OSError, also for
    a FIFO or device put in its place (never opened: it could block the audit forever)."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise IsADirectoryError(f"{path} is not a regular file")
    with open(path, "rb") as source:
        return hashlib.file_digest(source, "sha256").hexdigest()


class EvidenceFolder:
    """A folder of files named by their SHA-256: the store's (`home/evidence`) or an export's copy."""

    def __init__(self, root: Path, *, private: bool = False, written_for: Path | None = None) -> None:
        self.root = Path(root)
        self.private = private  # the store's own: its folders are its owner's alone (ADR-30)
        # An export's copy, written for the store in this home: never into the home's own files (ADR-62).
        self.written_for = written_for

    @classmethod
    def of(cls, home: Path) -> EvidenceFolder:
        """The evidence folder of the store in `home`; one made readable by others (an older
        tratos, a copy made under another umask) is narrowed to its owner, like the store file."""
        folder = cls(Path(home) / FOLDER, private=True)
        narrow(folder.root)
        return folder

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:]

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def state(self, sha256: str) -> str:
        """'ok' if the kept copy still has its SHA-256, 'altered' if not, 'missing' if it is gone."""
        path = self.path(sha256)
        if not path.is_file():
            return "missing"
        return "ok" if sha256_of(path) == sha256 else "altered"

    def holds(self, sha256: str) -> bool:
        """Whether the file is here with its SHA-256 (False if missing, altered or unreadable)."""
        try:
            return sha256_of(self.path(sha256)) == sha256
        except OSError:
            return False

    def keep(self, content: bytes | EvidenceFile) -> Path | None:
        """Keep `content` (bytes, or a user's file copied in a stream) under its hash; returns its
        path if this call added it, None if it was kept already."""
        if isinstance(content, EvidenceFile):
            return self._copy(content)
        target = self.path(hashlib.sha256(content).hexdigest())
        self._narrow(target)
        if target.exists():
            return None
        if self.written_for is not None:
            return write_output(target, content, self.written_for)
        return write_atomically(target, content)

    def _narrow(self, target: Path) -> None:
        """The store's folders that will hold `target`, taken back to their owner if others may read them."""
        if self.private:
            narrow(self.root)
            narrow(target.parent)

    def _copy(self, source: EvidenceFile) -> Path | None:
        """Copy a user's file block by block, hashing as it goes: refused if it changed since it was
        described (the event would cite a hash the kept copy does not have)."""
        target = self.path(source.evidence.sha256)
        self._narrow(target)
        if target.exists():
            return None
        what = "evidence file"
        try:
            with open_regular(source.path, what) as reader, atomic_file(target) as out:
                digest = hashlib.sha256()
                for block in _read(reader, what, source.path):
                    digest.update(block)
                    try:
                        out.write(block)
                    except OSError as error:  # the store's disk, not the user's file (exit 1, ADR-31)
                        raise CannotWrite(f"cannot keep {what} {source.path} in {self.root}:"
                                          f" {error.strerror or error}; nothing was recorded") from None
                if digest.hexdigest() != source.evidence.sha256:
                    raise BadInput(f"{what} {source.path} changed while it was being kept; nothing was recorded")
        except BaseException:
            self._take_back(target)  # the folders the copy created
            raise
        return target

    @contextmanager
    def keeping(self, contents: Iterable[bytes | EvidenceFile]) -> Iterator[None]:
        """Keep files for something being recorded; if recording fails, take back the ones added. Not
        once it is recorded: a command stopped (Ctrl-C, a signal) just after its save keeps them, as
        the saved events cite them (`interruptions.saves`)."""
        from domain.adapters.interruptions import saves

        added: list[Path] = []
        sweep_partials(self.root, f"*/{PARTIAL}*")  # what a command killed while copying left
        saved = saves()
        try:  # a content that fails to come (unreadable, changed) takes back the ones kept before it too
            for content in contents:
                path = self.keep(content)
                if path is not None:
                    added.append(path)
            yield
        except BaseException:
            if saves() == saved:
                for path in added:
                    self._take_back(path)
            raise

    def take_back(self, paths: Iterable[Path]) -> None:
        """Remove files `keep` added (it returned their paths) for something that was not recorded."""
        for path in paths:
            self._take_back(path)

    def _take_back(self, path: Path) -> None:
        """Leave the folder as it was: the file, and the folders its keeping created."""
        path.unlink(missing_ok=True)
        for folder in (path.parent, path.parent.parent):
            try:
                folder.rmdir()
            except OSError:  # not empty (or already gone): it holds other evidence
                return


def read_evidence(path: str | Path) -> tuple[bytes, Evidence]:
    """Read a file (regular, at most `FILE_LIMIT` bytes) and describe it, without keeping anything yet."""
    source = Path(path)
    cited_name(source)
    content = read_regular(source, "evidence file")
    return content, describe(source, content)


def _read(reader: Any, what: str, source: Path) -> Iterator[bytes]:
    """The blocks of a user's file; a failing read is that file's problem (bad input, exit 2)."""
    try:
        yield from chunks(reader, what, source)
    except OSError as error:
        raise BadInput(f"cannot read {what} {source}: {error.strerror or error}") from None


def examine(path: str | Path) -> EvidenceFile:
    """Describe a user's file for an event by reading it once in blocks (regular files of at most
    `FILE_LIMIT` bytes; a FIFO or device is refused without being opened for reading)."""
    source, what = Path(path), "evidence file"
    cited_name(source)
    digest, size, head = hashlib.sha256(), 0, b""
    with open_regular(source, what) as reader:
        try:
            for block in chunks(reader, what, source):
                digest.update(block)
                size += len(block)
                if len(head) < EML_HEAD:
                    head += block[:EML_HEAD - len(head)]
        except OSError as error:
            raise BadInput(f"cannot read {what} {source}: {error.strerror or error}") from None
    return EvidenceFile(source, _evidence(source, digest.hexdigest(), size, head))


def cited_name(source: Path) -> str:
    """The name a user's file is cited by: one line shown as it is stored (the text policy of
    single-line fields, ADR-26), else refused before it is read. Checked here, where a file is
    described, not in `Evidence`: stores holding such names from before must still load (ADR-33)."""
    name = source.name[:200]
    try:
        check_text(name, f"the evidence file name {name!r}", required=False, limit=200)
    except BadInput as problem:
        raise BadInput(f"{problem}: rename the file and give it again; nothing was recorded") from None
    return name


def describe(source: Path, content: bytes) -> Evidence:
    """How a file is cited as evidence: its hash, name, size, type (and an email's headers)."""
    return _evidence(source, hashlib.sha256(content).hexdigest(), len(content), content[:EML_HEAD])


def _evidence(source: Path, sha256: str, size: int, head: bytes) -> Evidence:
    media_type = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
    headers: dict[str, str] = {}
    if source.suffix.lower() == ".eml":
        media_type = "message/rfc822"
        message = email.message_from_bytes(head, policy=email.policy.default)
        headers = {name.lower(): _header(value) for name in EML_HEADERS if (value := _header_of(message, name))}
    return Evidence(sha256=sha256, name=cited_name(source), size=size, media_type=media_type, headers=headers)


def _header_of(message: email.message.Message, name: str) -> object:
    """A header as the parser reads it (encoded words decoded), else as written: a display name that
    decodes to a line break ("=?utf-8?b?TGF1cmEKQmNjOiB4?=") makes the parser raise, and the header
    is still the sender's, cited as it stands in the file."""
    try:
        return message[name]
    except Exception:  # noqa: BLE001 - the standard library's ValueError, or worse, for a sender's header
        return next(iter(as_written(message, name)), None)


def as_written(message: email.message.Message, name: str) -> list[str]:
    """Every `name` header as it stands in the file, undecoded: what is read when parsing it fails."""
    return [value for key, value in message.raw_items() if key.lower() == name.lower()]


def _header(value: object) -> str:
    """An email header as the event cites it: unfolded, and shown as it is. A header is its
    sender's text (an ESC in From, a right-to-left override in an encoded Subject): what the text
    policy refuses in a typed one-line text is kept visible as its escape (\\u202e), not dropped,
    since the header saying so is part of the evidence; the file itself is kept unchanged."""
    text = visible(re.sub(r"\r?\n[ \t]*", " ", str(value)).strip())
    return text if len(text) <= HEADER_LIMIT else text[:HEADER_LIMIT - 1] + "…"


def gather(paths: Iterable[str | Path]) -> list[EvidenceFile]:
    """Describe every evidence file first, so a missing one refuses the command before anything is kept."""
    return [examine(path) for path in paths]

