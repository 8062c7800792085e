"""The evidence folder: files kept by SHA-256 (`evidence/ab/cdef…`), written once, never overwritten."""

from __future__ import annotations

import email
import email.policy
import hashlib
import mimetypes
import os
import tempfile
from pathlib import Path

from domain.model.errors import BadInput
from domain.model.values import Evidence

EML_HEADERS = ("From", "To", "Date", "Subject")


def evidence_path(home: Path, sha256: str) -> Path:
    return home / "evidence" / sha256[:2] / sha256[2:]


def read_evidence(path: str | Path) -> tuple[bytes, Evidence]:
    """Read a file and describe it, without storing anything yet."""
    source = Path(path)
    try:
        content = source.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"evidence file not found: {source}") from None
    except (IsADirectoryError, PermissionError, OSError) as error:
        raise BadInput(f"cannot read evidence file {source}: {error.strerror or error}") from None
    media_type = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
    headers: dict[str, str] = {}
    if source.suffix.lower() == ".eml":
        media_type = "message/rfc822"
        message = email.message_from_bytes(content, policy=email.policy.default)
        headers = {name.lower(): str(message[name]) for name in EML_HEADERS if message[name]}
    return content, Evidence(sha256=hashlib.sha256(content).hexdigest(), name=source.name[:200],
                             size=len(content), media_type=media_type, headers=headers)


def keep(home: Path, content: bytes, evidence: Evidence) -> Path:
    """Write the file under its hash atomically (temp file + rename); an existing copy is kept."""
    return write_once(evidence_path(home, evidence.sha256), content)


def write_once(target: Path, content: bytes) -> Path:
    """Write `content` to `target` atomically (temp file, fsync, rename) unless it already exists."""
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return target


def gather(paths: tuple[str, ...]) -> list[tuple[bytes, Evidence]]:
    """Read every --evidence file first, so a missing one refuses the command before anything is kept."""
    return [read_evidence(path) for path in paths]
