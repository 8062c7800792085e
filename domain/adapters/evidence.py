"""The evidence folder: files kept by SHA-256 (`evidence/ab/cdef…`), written once, never overwritten.

Every part of tratos that keeps, finds or checks an evidence file goes through here:
the commands that take --evidence, the copy of every issued PDF, export and import,
the dossier's evidence index and the audit.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import mimetypes
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from domain.adapters.files import write_atomically
from domain.model.errors import BadInput
from domain.model.values import Evidence

FOLDER = "evidence"
EML_HEADERS = ("From", "To", "Date", "Subject")


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in blocks (evidence can be large); raises OSError."""
    with open(path, "rb") as source:
        return hashlib.file_digest(source, "sha256").hexdigest()


class EvidenceFolder:
    """A folder of files named by their SHA-256: the store's (`home/evidence`) or an export's copy."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @classmethod
    def of(cls, home: Path) -> EvidenceFolder:
        """The evidence folder of the store in `home`."""
        return cls(Path(home) / FOLDER)

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

    def keep(self, content: bytes) -> Path | None:
        """Keep `content` under its hash; returns its path if this call added it, None if it was kept already."""
        target = self.path(hashlib.sha256(content).hexdigest())
        if target.exists():
            return None
        return write_atomically(target, content)

    @contextmanager
    def keeping(self, contents: Iterable[bytes]) -> Iterator[None]:
        """Keep files for something being recorded; if recording fails, take back the ones added."""
        added: list[Path] = []
        try:  # a content that fails to come (unreadable, changed) takes back the ones kept before it too
            for content in contents:
                path = self.keep(content)
                if path is not None:
                    added.append(path)
            yield
        except BaseException:
            for path in added:
                self._take_back(path)
            raise

    def _take_back(self, path: Path) -> None:
        """Leave the folder as it was: the file, and the folders its keeping created."""
        path.unlink(missing_ok=True)
        for folder in (path.parent, path.parent.parent):
            try:
                folder.rmdir()
            except OSError:  # not empty (or already gone): it holds other evidence
                return


def read_evidence(path: str | Path) -> tuple[bytes, Evidence]:
    """Read a file and describe it, without keeping anything yet."""
    source = Path(path)
    try:
        content = source.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"evidence file not found: {source}") from None
    except (IsADirectoryError, PermissionError, OSError) as error:
        raise BadInput(f"cannot read evidence file {source}: {error.strerror or error}") from None
    return content, describe(source, content)


def describe(source: Path, content: bytes) -> Evidence:
    """How a file is cited as evidence: its hash, name, size, type (and an email's headers)."""
    media_type = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
    headers: dict[str, str] = {}
    if source.suffix.lower() == ".eml":
        media_type = "message/rfc822"
        message = email.message_from_bytes(content, policy=email.policy.default)
        headers = {name.lower(): str(message[name]) for name in EML_HEADERS if message[name]}
    return Evidence(sha256=hashlib.sha256(content).hexdigest(), name=source.name[:200],
                    size=len(content), media_type=media_type, headers=headers)


def gather(paths: Iterable[str | Path]) -> list[tuple[bytes, Evidence]]:
    """Read every evidence file first, so a missing one refuses the command before anything is kept."""
    return [read_evidence(path) for path in paths]
