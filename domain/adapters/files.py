"""Files written whole or not at all: a temporary file beside the target, fsync, then rename.

A crash or a full disk never leaves half a PDF, half an export or half a key behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from domain.model.errors import BadInput

PRIVATE = 0o600  # keys, identities, evidence, exports: for the freelancer's eyes only


def shareable() -> int:
    """The mode of a file meant to be sent (a document): what the umask allows, like any new file."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def atomic_file(target: Path, *, mode: int = PRIVATE) -> Iterator[IO[bytes]]:
    """A binary file that appears at `target` only when the block ends without an error."""
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tratos-")
    except OSError as error:
        raise BadInput(f"cannot write {target}: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_atomically(target: Path, content: bytes, *, mode: int = PRIVATE) -> Path:
    """Write `content` to `target` whole, replacing what was there."""
    with atomic_file(target, mode=mode) as out:
        out.write(content)
    return Path(target)
