"""The tratos home: the files tratos keeps there, named in this one place, and the two rules about
them (ADR-62).

- No output is ever one of them: a file the user names for tratos to write (`pdf -o`, `export`,
  `calendar -o`, a folder of `verifactu events -o`...) that is, or resolves to, or is a hard link
  of the store, the read models, the identity, the signing key, a certificate or evidence is
  refused before anything is written or recorded (`own_file`, used by files.py's output checks).
  The rest of the home is the user's: the demo's `pdf/`, the anchors' `anchors/`, a calendar
  written there on purpose.
- A command that is refused leaves the home as it found it: the store files it made (and the
  home folder, if it made it) are removed again, as long as no event is in them (`HomeAsFound`).

Every module that names one of these files takes its name from here.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

STORE_FILE = "tratos.sqlite"
# An encrypted store's read models: an SQLCipher database in the home, whatever the backend (ADR-57).
READ_MODELS_FILE = "read-models.sqlite"
IDENTITY_FILE = "identity.json"
KEY_FILE = "identity.p12"
CERTIFICATE_FILE = "certificate.pem"
TSA_ROOTS_FILE = "tsa-roots.pem"
CERTIFICATES_FOLDER = "certificates"
EVIDENCE_FOLDER = "evidence"
# What SQLite (and our stream locks, storage.FileRangeLocks) keep beside a database.
COMPANIONS = ("-wal", "-shm", "-journal", "-locks")


def _family(database: str) -> tuple[str, ...]:
    return (database, *(database + tail for tail in COMPANIONS))


STORE_FILES = _family(STORE_FILE)
READ_MODEL_FILES = _family(READ_MODELS_FILE)
# Each of the home's own files, and what it is, as the refusal names it.
OWN_FILES: dict[str, str] = {
    **dict.fromkeys(STORE_FILES, "the store"),
    **dict.fromkeys(READ_MODEL_FILES, "the read models"),
    IDENTITY_FILE: "your identity",
    KEY_FILE: "your signing key",
    CERTIFICATE_FILE: "your certificate",
    TSA_ROOTS_FILE: "the time-stamping authority's roots",
}
# The home's own folders: everything in them is tratos's.
OWN_FOLDERS: dict[str, str] = {EVIDENCE_FOLDER: "the evidence folder", CERTIFICATES_FOLDER: "the certificates folder"}


# ------------------------------------------------------------------ no output is the home's own


@dataclass(frozen=True)
class OwnFile:
    """One of the home's own files (or folders), as a refusal names it."""

    path: Path
    what: str


def own_file(target: str | Path, home: Path) -> OwnFile | None:
    """The home's own file that writing `target` would write, or None.

    `target` is resolved as a write goes (through every symlink, `..` and the working folder) and
    compared with the home's names; the home is also recognised by its (st_dev, st_ino), so a bind
    mount or another spelling of it is the home too. An existing target is also compared by
    (st_dev, st_ino) with the home's own files, so a hard link of the store elsewhere is caught:
    the user means the store's file, and replacing the link would not touch it, only break it.
    """
    resolved = Path(os.path.realpath(target))
    inside = _within(resolved, home)
    if inside is not None:
        base, parts = inside
        if parts and parts[0].casefold() in _FOLDER_KEYS:
            first = _FOLDER_KEYS[parts[0].casefold()]
            return OwnFile(base / first, OWN_FOLDERS[first])
        if len(parts) == 1 and parts[0].casefold() in _FILE_KEYS:
            name = _FILE_KEYS[parts[0].casefold()]
            return OwnFile(base / name, OWN_FILES[name])
    try:
        found = os.stat(resolved)
    except OSError:
        return None
    return _same_file(found, home)


_FILE_KEYS = {name.casefold(): name for name in OWN_FILES}
_FOLDER_KEYS = {name.casefold(): name for name in OWN_FOLDERS}


def _within(resolved: Path, home: Path) -> tuple[Path, tuple[str, ...]] | None:
    """(the home, `resolved`'s parts below it) if `resolved` lies in the home, else None."""
    real_home = Path(os.path.realpath(home))
    if resolved.is_relative_to(real_home):
        return Path(home), resolved.relative_to(real_home).parts
    try:
        home_id = _identity(os.stat(real_home))
    except OSError:
        return None  # no home yet: nothing of it to overwrite
    for depth, folder in enumerate(resolved.parents):
        with suppress(OSError):
            if _identity(os.stat(folder)) == home_id:
                return Path(home), resolved.parts[len(resolved.parts) - depth - 1:]
    return None


def _identity(found: os.stat_result) -> tuple[int, int]:
    return found.st_dev, found.st_ino


def _same_file(found: os.stat_result, home: Path) -> OwnFile | None:
    """The home's own file that is the file `found` (a hard link of it, a bind-mounted copy)."""
    if not stat.S_ISREG(found.st_mode):
        return None
    wanted = _identity(found)
    for path, what in _own_files(home, deep=found.st_nlink > 1):
        with suppress(OSError):
            if _identity(os.stat(path)) == wanted:
                return OwnFile(path, what)
    return None


def _own_files(home: Path, *, deep: bool) -> Iterator[tuple[Path, str]]:
    """The home's own files there are; `deep`: the evidence and certificates too (a hard link is
    the only way a file outside the home is one of them, and its link count says so)."""
    for name, what in OWN_FILES.items():
        yield home / name, what
    if deep:
        for folder, what in OWN_FOLDERS.items():
            for root, _folders, files in os.walk(home / folder):
                for name in files:
                    yield Path(root) / name, what


# ------------------------------------------------------------------ a refused command leaves it as found


@dataclass(frozen=True)
class HomeAsFound:
    """What a home held before a command touched it: whether it (and its parents) were there, and
    which store files. A command that is refused then removes what it made of a store
    (`restore`): an empty store file and its companions, the read models, the home's folders."""

    home: Path
    made: tuple[Path, ...]  # the home and the parents of it that were not there, innermost first
    files: frozenset[str]

    @classmethod
    def look(cls, home: Path) -> HomeAsFound:
        made = []
        folder = Path(home)
        while not os.path.lexists(folder) and folder != folder.parent:
            made.append(folder)
            folder = folder.parent
        present = frozenset() if made else frozenset(
            name for name in (*STORE_FILES, *READ_MODEL_FILES) if os.path.lexists(Path(home) / name))
        return cls(Path(home), tuple(made), present)

    def restore(self) -> list[Path]:
        """Remove what was made since `look`, and return it: the store's files, only while the store
        holds no event and no other process has it open (`storage.unused_store`); the read models
        (made from the log, made again at need); then the folders made, if nothing else is in them."""
        from domain.adapters.storage import unused_store

        removed: list[Path] = []
        if STORE_FILE not in self.files and os.path.lexists(self.home / STORE_FILE):
            with unused_store(self.home / STORE_FILE) as unused:
                if unused and not _holds_events(self.home / STORE_FILE):
                    removed += self._remove(STORE_FILES)
        if READ_MODELS_FILE not in self.files:
            removed += self._remove(READ_MODEL_FILES)
        for folder in self.made:
            for root, folders, _files in os.walk(folder, topdown=False):  # empty folders made in it
                for name in folders:
                    with suppress(OSError):
                        os.rmdir(Path(root) / name)
            try:
                os.rmdir(folder)
            except OSError:
                break  # something else is there now: it and its parents stay
            removed.append(folder)
        return removed

    def _remove(self, names: tuple[str, ...]) -> list[Path]:
        removed = []
        for name in names:
            path = self.home / name
            if name in self.files or not os.path.lexists(path):
                continue
            with suppress(OSError):
                path.unlink()
                removed.append(path)
        return removed


def _holds_events(database: Path) -> bool:
    """Whether the SQLite store at `database` holds an event (True when in doubt: it is kept)."""
    import sqlite3
    from urllib.parse import quote

    try:
        connection = sqlite3.connect(f"file:{quote(str(database.absolute()))}?mode=ro", uri=True)
    except sqlite3.Error:
        return True
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return any(connection.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone() for table in tables
                   if table.endswith("events"))
    except sqlite3.Error:
        return True
    finally:
        connection.close()
