"""Files read and written safely: user-named files read as regular files of bounded size, and files
written whole or not at all (a temporary file beside the target, fsync, then rename).

A crash or a full disk never leaves half a PDF, half an export or half a key behind; a FIFO, a
device or a folder named where a file is expected is refused before it is opened for reading, and
an output path that is a symlink is written through to its target (ADR-30). A file the user names
for tratos to write is never one of the home's own files, however it is reached (ADR-62): it is
checked when it is named (`output_path`, `output_folder`) and again when it is written
(`output_file`, `write_output`), which every user-named output goes through.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any, BinaryIO

from domain.adapters.home import OWN_FOLDERS, own_file
from domain.model.errors import BadInput, TratosError

PRIVATE = 0o600  # keys, identities, evidence, exports: for the freelancer's eyes only
PRIVATE_FOLDER = 0o700  # the home and the folders in it
PARTIAL = ".tratos-"  # a file being written: it becomes the target, or is removed (`atomic_file`)
# A partial file this old was left by a process killed while writing it: no write takes an hour.
STALE_SECONDS = 3600
# The largest file tratos reads or keeps: evidence, a PDF to verify, an identity, an anchor note.
# Large enough for a scanned contract or a video call's recording excerpt, small enough that a
# mistaken path (a disk image, /dev/zero) is refused at once instead of filling the disk (ADR-30).
FILE_LIMIT = 100 * 1024 * 1024
CHUNK = 1024 * 1024


class CannotWrite(TratosError):
    """A file could not be written whole (a full disk, a read-only folder); the old one is untouched."""

    exit_code = 1


def shareable(target: str | Path, home: Path) -> int:
    """The mode of a file meant to be sent (a document, a calendar, a message): what the umask
    allows, like any new file; private (and its new folders too) when it is written inside tratos's
    `home`, which is its owner's alone whatever the umask (ADR-30). Both are required: every
    output that is not private always says where it goes and whose home it must stay out of."""
    if _inside(destination(target), home):
        return PRIVATE
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MiB"


# ------------------------------------------------------------------ reading


def kind_of_file(mode: int) -> str:
    """What a non-regular file is, as people say it."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISREG(mode):
        return "a file"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def regular(path: str | Path, what: str = "file", *, limit: int | None = FILE_LIMIT) -> Path:
    """`path` if it is a regular file (through symlinks) of at most `limit` bytes; else `BadInput`.

    Looked at before anything opens it: a FIFO would block the command forever on open, a
    device like /dev/zero never ends. `limit=None` for files tratos streams whatever their
    size (an export).
    """
    source = Path(path)
    found = _stat_as(source, what, stat.S_ISREG, "a regular file")
    if limit is not None:
        _check_size(found.st_size, what, source, limit)
    return source


def _missing(what: str, source: Path) -> str:
    """"no anchor file nonexist": what the user named, said as missing (not "the anchor file not found")."""
    from domain.model.values import visible

    return f"no {what.removeprefix('the ')} {visible(str(source))}"


def folder_to_read(path: str | Path, what: str = "folder") -> Path:
    """`path` if it is a folder (through symlinks) that exists; else `BadInput` saying what it is
    (a FIFO, a device, a file): the same words as for a file named where a folder is expected."""
    source = Path(path)
    _stat_as(source, what, stat.S_ISDIR, "a folder")
    return source


def _stat_as(source: Path, what: str, is_kind: Callable[[int], bool], kind: str) -> os.stat_result:
    """`source`'s stat (through symlinks) if it is of `kind`; else `BadInput` naming what it is."""
    try:
        found = os.stat(source)
    except FileNotFoundError:
        raise BadInput(_missing(what, source)) from None
    except OSError as error:
        raise BadInput(f"cannot read {what} {source}: {error.strerror or error}") from None
    if not is_kind(found.st_mode):
        raise BadInput(f"cannot read {what} {source}: it is {kind_of_file(found.st_mode)}, not {kind}")
    return found


def is_regular(path: str | Path) -> bool:
    """Whether `path` is a regular file (through symlinks), without opening it."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


@contextmanager
def open_regular(path: str | Path, what: str = "file", *, limit: int | None = FILE_LIMIT) -> Iterator[BinaryIO]:
    """`path` opened for reading if it is a regular file of at most `limit` bytes; else `BadInput`.

    The path is looked at (stat) before it is opened, so a FIFO never blocks and a device is never
    read; it is then opened non-blocking and looked at again through the open descriptor, in case
    it was swapped in between. The caller still reads at most `limit` bytes (a file may grow).
    """
    source = Path(path)
    regular(source, what, limit=limit)
    try:
        descriptor = os.open(source, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise BadInput(_missing(what, source)) from None
    except OSError as error:
        raise BadInput(f"cannot read {what} {source}: {error.strerror or error}") from None
    try:
        opened = os.fstat(descriptor)
        if not stat.S_ISREG(opened.st_mode):
            raise BadInput(f"cannot read {what} {source}: it is {kind_of_file(opened.st_mode)}, not a regular file")
        if limit is not None:
            _check_size(opened.st_size, what, source, limit)
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
        raw = _UserFile(descriptor, "r")
    except BaseException:
        os.close(descriptor)
        raise
    raw.said_as = f"cannot read {what} {source}"
    with io.BufferedReader(raw) as reader:
        yield reader


class _UserFile(io.FileIO):
    """A user's file opened by `open_regular`, whose reads fail as that file's problem in one line
    (`BadInput`, exit 2), whoever reads it: a regular file can still fail to read (/proc/self/mem,
    EIO on a failing disk), and every reader (an XML parser, a mailbox probe, a copy) then says so
    in the same words instead of an OSError."""

    said_as = "cannot read the file"

    def readinto(self, buffer: Any) -> int | None:
        try:
            return super().readinto(buffer)
        except OSError as error:
            raise BadInput(f"{self.said_as}: {error.strerror or error}") from None

    def readall(self) -> bytes:
        try:
            return super().readall()
        except OSError as error:
            raise BadInput(f"{self.said_as}: {error.strerror or error}") from None

    def read(self, size: int | None = -1) -> bytes | None:
        try:
            return super().read(size)
        except OSError as error:
            raise BadInput(f"{self.said_as}: {error.strerror or error}") from None


def _check_size(size: int, what: str, source: Path, limit: int) -> None:
    if size > limit:
        raise BadInput(f"{what} {source} is {megabytes(size)}: tratos reads files of at most {megabytes(limit)}")


def chunks(reader: BinaryIO, what: str, source: str | Path, *, limit: int = FILE_LIMIT) -> Iterator[bytes]:
    """The bytes of an `open_regular` file in blocks, refusing it if it grows past `limit`."""
    total = 0
    while block := reader.read(CHUNK):
        total += len(block)
        _check_size(total, what, Path(source), limit)
        yield block


def read_regular(path: str | Path, what: str = "file", *, limit: int = FILE_LIMIT) -> bytes:
    """The content of a user-named regular file of at most `limit` bytes, or `BadInput` in one line.

    Every file a user names and tratos reads whole goes through here (`verify`, `identity import`,
    `contract sign --file`, evidence described before it is kept); evidence itself is copied in a
    stream by domain/adapters/evidence.py through `open_regular`.
    """
    with open_regular(path, what, limit=limit) as reader:
        try:
            return b"".join(chunks(reader, what, path, limit=limit))
        except OSError as error:
            raise BadInput(f"cannot read {what} {path}: {error.strerror or error}") from None


def read_regular_text(path: str | Path, what: str = "file", *, limit: int = FILE_LIMIT) -> str:
    """The same, decoded as UTF-8 (an anchor note, an import line file)."""
    content = read_regular(path, what, limit=limit)
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"cannot read {what} {path}: it is not UTF-8 text") from None


# ------------------------------------------------------------------ writing


# What a failed write of a path means: the path names no place a file can be (exit 2, ADR-30), or
# the place refuses (read-only, no permission, full: exit 1, as the store's own "read-only" is, ADR-31).
_NO_SUCH_PLACE = {errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG, errno.ELOOP, errno.EISDIR, errno.EINVAL}


# A write the machine refused: no room (a full disk, a quota, a file-size limit as `ulimit -f` sets,
# which Python turns from SIGXFSZ into EFBIG), or a folder this process may not write.
REFUSED_WRITES = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM})


class ScratchFailed(CannotWrite):
    """A document's renderer could not write its temporary files (WeasyPrint keeps the fonts it
    embeds in a folder of the system's temporary folder): the document was not made, nothing was
    written. Said as the file the user asked for (`writing`) once it is known."""

    def __init__(self, error: OSError, target: str | Path | None = None) -> None:
        import tempfile

        from domain.model.values import visible

        self.error = error
        name = visible(str(target)) if target is not None else "the PDF"
        super().__init__(f"cannot write {name}: {error.strerror or error} (in the temporary folder"
                         f" {visible(tempfile.gettempdir())}, while making it); nothing was written")

    def writing(self, target: str | Path) -> ScratchFailed:
        return ScratchFailed(self.error, target)


def cannot_write(target: str | Path, error: OSError) -> TratosError:
    """The one line a failed write says, with the exit code its cause deserves."""
    from domain.model.values import visible

    message = f"cannot write {visible(str(target))}: {error.strerror or error}; nothing was written"
    return BadInput(message) if error.errno in _NO_SUCH_PLACE else CannotWrite(message)


def destination(target: str | Path) -> Path:
    """Where writing `target` really goes: through a symlink (or a chain of them) to its target,
    so the link is kept; refused if that is anything but a regular file or nothing yet.

    Looked at through every link with `stat` first, so a magic link (/dev/stdout to a pipe) is
    seen for what it points at."""
    target = Path(target)
    try:
        found = os.stat(target)
    except FileNotFoundError:
        found = None
    except OSError as error:
        raise cannot_write(target, error) from None
    if found is not None and not stat.S_ISREG(found.st_mode):
        from domain.model.values import visible

        raise BadInput(f"cannot write {visible(str(target))}: it is {kind_of_file(found.st_mode)}, not a regular file;"
                       " nothing was written")
    return Path(os.path.realpath(target)) if os.path.islink(target) else target


def not_the_homes(target: str | Path, home: Path, *, into: bool = False) -> None:
    """Refuse (exit 2) a `target` to write (`into`: a folder to write files into) that is one of
    `home`'s own files or folders, or in one of its folders (home.py `own_file`: through symlinks,
    `..`, the working folder and hard links)."""
    own = own_file(target, home)
    if own is None:
        return
    from domain.model.values import visible

    folder = own.path.name in OWN_FOLDERS
    kind = "folders" if folder else "files"
    where = "is in" if folder and os.path.realpath(target) != os.path.realpath(own.path) else "is"
    doing = "write into" if into else "write"
    raise BadInput(f"cannot {doing} {visible(str(target))}: it {where} {own.what} ({visible(str(own.path))}),"
                   f" one of the tratos home's own {kind}; name another"
                   f" {'folder' if into else 'file'}, nothing was written")


def output_path(target: str | Path, *, home: Path) -> Path:
    """A file the user names for tratos to write (`pdf -o`, `remind -o`, `export`), checked before
    anything is recorded or printed: a name that shows as it is (no control, line break, bidi or
    invisible character: it is echoed in the confirmation), none of the `home`'s own files
    (`not_the_homes`), in a folder that exists (a typo in a folder is not a reason to create one;
    inside tratos's own `home` it makes what it needs, as the demo's pdf/), at a regular file or
    nothing yet (`destination`; a dangling symlink still creates its target). `-` is not standard
    output here: tratos writes a file and says so."""
    from domain.model.values import visible

    text = str(target)
    if not text.strip():
        raise BadInput("the output file name is empty: name the file to write")
    if text == "-":
        raise BadInput("- is not a file name here: tratos writes a file and says so on standard output;"
                       " name the file (./- for one called -)")
    if visible(text) != text:
        raise BadInput(f"cannot write {visible(text)}: the name holds a control, line break, bidirectional or"
                       " invisible character; choose another name, nothing was written")
    not_the_homes(target, home)
    folder = destination(target).parent  # a symlink's target's folder: a dangling link creates no folders
    if not folder.is_dir() and not _inside(folder, home):
        raise BadInput(f"cannot write {text}: there is no folder {visible(str(folder))}; create it first,"
                       " nothing was written")
    return Path(target)


def output_folder(target: str | Path, *, home: Path) -> Path:
    """A folder the user names for tratos to write files into (`export --with-evidence`), checked
    before anything is written: a name that shows as it is, none of the `home`'s own (its evidence
    or certificates, or in them), a folder already or nothing yet in a folder that exists (as
    `output_path`), never a file, a device or a path through a file. Each file written into it is
    checked again (`output_file`)."""
    from domain.model.values import visible

    text = str(target)
    if not text.strip():
        raise BadInput("the folder name is empty: name the folder to write")
    if visible(text) != text:
        raise BadInput(f"cannot write into {visible(text)}: the name holds a control, line break, bidirectional"
                       " or invisible character; choose another name, nothing was written")
    not_the_homes(target, home, into=True)
    try:
        found = os.stat(target)
    except FileNotFoundError:
        found = None
    except OSError as error:  # a path through a file: "Not a directory"
        raise BadInput(f"cannot write into {visible(text)}: {error.strerror or error}; nothing was written") from None
    if found is not None and not stat.S_ISDIR(found.st_mode):
        raise BadInput(f"cannot write into {visible(text)}: it is {kind_of_file(found.st_mode)}, not a folder;"
                       " nothing was written")
    folder = Path(os.path.realpath(target)).parent
    if found is None and not folder.is_dir():
        raise BadInput(f"cannot write into {visible(text)}: there is no folder {visible(str(folder))}; create it"
                       " first, nothing was written")
    return Path(target)


def _inside(path: str | Path, folder: Path) -> bool:
    """Whether `path` lies in `folder`, however either is spelled (relative, through symlinks)."""
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder))


@contextmanager
def atomic_file(target: Path, *, mode: int = PRIVATE) -> Iterator[IO[bytes]]:
    """A binary file that appears at `target` only when the block ends without an error: the home's
    own files, and what `output_file` has checked (a file the user names goes through that).

    A symlink at `target` is written through (its target replaced atomically, the link kept); a
    device, FIFO, socket or folder there is refused. Folders created for a private file are
    private too (the home's evidence folders).
    """
    final = destination(target)
    folder = final.parent if str(final.parent) else Path(".")
    try:
        _make_folders(folder, PRIVATE_FOLDER if mode & 0o077 == 0 else 0o777)
        sweep_partials(folder)
    except OSError as error:
        raise cannot_write(target, error) from None
    # The partial file is named before it is made, so that however the block ends, even by a signal
    # the instant it was made (`tempfile.mkstemp` would not yet have said its name), it is removed.
    temporary: Path | None = _partial_name(folder)
    try:
        try:
            handle = _made(temporary)
        except OSError as error:
            if isinstance(error, FileExistsError):
                temporary = None  # another process's, not this one's to remove
            raise cannot_write(target, error) from None
        with os.fdopen(handle, "wb") as out:
            yield out
            try:
                out.flush()
                os.fsync(out.fileno())
            except OSError as error:  # a full disk shows here at the latest
                raise CannotWrite(f"cannot write {target}: {error.strerror or error}; nothing was written") from None
        os.chmod(temporary, mode)
        os.replace(temporary, final)
    except OSError as error:
        raise CannotWrite(f"cannot write {target}: {error.strerror or error}; nothing was written") from None
    finally:
        if temporary is not None and os.path.lexists(temporary):
            os.unlink(temporary)


_CREATED = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _made(partial: Path) -> int:
    """`partial` made, empty and private, if nothing has that name; its descriptor."""
    return os.open(partial, _CREATED, 0o600)


def _partial_name(folder: Path) -> Path:
    """A name for a partial file in `folder` that nothing has (random, as `tempfile.mkstemp`'s)."""
    import secrets

    while True:
        candidate = folder / f"{PARTIAL}{secrets.token_hex(6)}"
        if not os.path.lexists(candidate):
            return candidate


@contextmanager
def output_file(target: str | Path, home: Path, *, shared: bool = False) -> Iterator[IO[bytes]]:
    """A file the user named, written whole (`atomic_file`), never one of `home`'s own: checked
    again here, where it is written, so no way of reaching it (a symlink planted since, a file
    among many written into a folder) overwrites the store, the key or the evidence. `shared`: a
    document meant to be sent, with the umask's mode outside the home (`shareable`); else private."""
    not_the_homes(target, home)
    with atomic_file(Path(target), mode=shareable(target, home) if shared else PRIVATE) as out:
        yield out


def write_output(target: str | Path, content: bytes, home: Path, *, shared: bool = False) -> Path:
    """`content` written to the file the user named, as `output_file`; returns the path written to."""
    with output_file(target, home, shared=shared) as out:
        out.write(content)
    return destination(target)


@contextmanager
def whole_or_nothing(folder: str | Path) -> Iterator[None]:
    """Files written into `folder`, a folder the user named (`verifactu events -o`, `export
    --with-evidence`), stay only if the block ends without an error (README: written whole or not
    at all). On one, what the block made there is removed: the folder itself if it was not there
    before, else the files and folders in it that were not (what was there stays, even rewritten:
    each file is written whole, `atomic_file`)."""
    import shutil

    folder = Path(folder)
    existed = os.path.lexists(folder)
    before = set(_entries(folder)) if existed else set()
    try:
        yield
    except BaseException:
        if not existed:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            for made in sorted(set(_entries(folder)) - before, reverse=True):  # what is in a folder first
                with suppress(OSError):
                    if made.is_dir() and not made.is_symlink():
                        made.rmdir()
                    else:
                        made.unlink()
        raise


def _entries(folder: Path) -> Iterator[Path]:
    """The files and folders in `folder`, at any depth (a link to a folder is not followed)."""
    for root, folders, files in os.walk(folder):
        for name in (*folders, *files):
            yield Path(root) / name


def sweep_partials(folder: Path, pattern: str = f"{PARTIAL}*") -> None:
    """Remove what a killed process left half written (an hour old or more): `atomic_file` removes
    its partial file on any error, but a SIGKILL leaves it, up to the size of the evidence copied."""
    import time

    stale = time.time() - STALE_SECONDS
    for partial in folder.glob(pattern):
        with suppress(OSError):
            if partial.lstat().st_mtime < stale and stat.S_ISREG(partial.lstat().st_mode):
                partial.unlink()


def _make_folders(folder: Path, mode: int) -> None:
    """`folder` and its missing parents, each created with `mode` (the umask may narrow it)."""
    if folder.is_dir():
        return
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for created in reversed(missing):
        with suppress(FileExistsError):
            created.mkdir(mode=mode)


def private_folder(folder: Path) -> Path:
    """`folder` (and missing parents) created readable by its owner alone. An existing folder is
    left as it is: `--home` may name a folder the user shares on purpose (its files stay private)."""
    _make_folders(folder, PRIVATE_FOLDER)
    return folder


def narrow(path: Path) -> None:
    """Take away group and other access from a file or folder of ours, if it has any."""
    try:
        found = os.stat(path)
        if found.st_mode & 0o077 and found.st_uid == os.geteuid():
            os.chmod(path, stat.S_IMODE(found.st_mode) & ~0o077)
    except OSError:
        pass  # not ours, or a read-only file system: left as it is


def write_atomically(target: Path, content: bytes, *, mode: int = PRIVATE) -> Path:
    """Write `content` to `target` whole, replacing what was there; returns the path written to
    (a symlink's target: the file to take back if what it was written for fails). For the home's
    own files: a file the user names is written with `write_output`."""
    final = destination(target)
    with atomic_file(final, mode=mode) as out:
        out.write(content)
    return final
