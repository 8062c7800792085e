"""The eighteenth adversarial run (issue 19): a disk that refuses a write, said for what it is.

6. a file-size limit (`ulimit -f`: EFBIG, which Python gets instead of SIGXFSZ) showed an exception
   name: WeasyPrint writes the fonts it embeds into the system's temporary folder while it renders,
   and that error went up as it was (and SQLite, which says EFBIG as "disk I/O error", now has the
   limit named beside it);
7. a full disk was said to be a read-only store by `client open` and `rebuild`: on a nearly full
   disk the store is opened read-only on purpose, and only a command's own save said so;
9. `verifactu events -o DIR` (and `export --with-evidence DIR`) left the folder it made behind when
   a file in it could not be written.

Each refusal is one `error:` line, its exit code, no exception name and the store unchanged, on both
backends where the store is not the full disk itself.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from cli_support import TODAY, ok, refused, run, snapshot, store_args, year_of_the_log

KEYED = {"TRATOS_KEY_PASSPHRASE": "s3cret passphrase"}
SCRIPT = Path(sys.executable).with_name("tratos")
EXCEPTION_NAME = re.compile(r"\b[A-Z]\w+(Error|Exception)\b|Traceback|Errno")
# Below the fonts WeasyPrint writes while it renders (each over 150 KiB), above what a command writes
# into the SQLite store's log.
FILE_SIZE_LIMIT = 128 * 1024


def limited(home: Path, *args: str, cwd: Path, limit: int = FILE_SIZE_LIMIT) -> subprocess.CompletedProcess:
    """The real `tratos` script on `home`'s store under a file-size limit of `limit` bytes (`ulimit -f`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRATOS_")}
    env |= {"TRATOS_TODAY": TODAY, **KEYED}
    return subprocess.run([str(SCRIPT), *store_args(home), *args], capture_output=True, text=True, timeout=180,
                          cwd=cwd, env=env,
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))


def one_line(done: subprocess.CompletedProcess, code: int, start: str, *phrases: str) -> str:
    lines = done.stderr.splitlines()
    assert done.returncode == code, done.stderr
    assert len(lines) == 1 and lines[0].startswith(start), done.stderr
    assert not EXCEPTION_NAME.search(done.stderr), done.stderr
    for phrase in phrases:
        assert phrase in lines[0], done.stderr
    return lines[0]


# ------------------------------------------------------------------ 6. a file-size limit


@pytest.mark.parametrize("kind", ["dossier", "contract"])
def test_a_file_size_limit_is_said_as_a_file_that_could_not_be_written(kept: Path, tmp_path: Path,
                                                                         kind: str) -> None:
    before = snapshot(kept)
    done = limited(kept, "pdf", kind, "acme", "-o", "d.pdf", cwd=tmp_path)
    one_line(done, 1, "error: cannot write d.pdf: File too large", "nothing was written")
    assert not (tmp_path / "d.pdf").exists()
    assert snapshot(kept) == before


def test_an_invoice_recorded_whose_pdf_met_the_file_size_limit_says_both(kept: Path, tmp_path: Path) -> None:
    rows = len(snapshot(kept)[0])
    out = tmp_path / "out"
    out.mkdir()
    done = limited(kept, "invoice", "issue", "acme", "--installment", "2", "--on", "2026-02-15", "--pdf", cwd=out)
    one_line(done, 1, "error: invoice F-2026-002 is recorded, but its PDF was not printed: cannot write the PDF:"
             " File too large", "print it with `tratos pdf invoice acme F-2026-002`")
    assert "Recorded: invoice F-2026-002" in done.stdout
    assert len(snapshot(kept)[0]) > rows  # the invoice stands (ADR-43)
    assert list(out.iterdir()) == []


def test_a_store_that_cannot_grow_under_a_file_size_limit_says_the_limit(kept: Path, store, tmp_path: Path) -> None:
    """SQLite says EFBIG as "disk I/O error" (its log grows by 4 KB pages): the limit is named beside it."""
    if store.backend != "sqlite":
        pytest.skip("a PostgreSQL store's files are the server's")
    before = snapshot(kept)
    done = limited(kept, "note", "acme", "hello", "--on", "2026-03-01", cwd=tmp_path, limit=4 * 1024)
    one_line(done, 1, f"error: the store at {kept / 'tratos.sqlite'} failed: disk I/O error (with a file-size limit"
             " of 4 KB set: `ulimit -f`); nothing was recorded")
    assert snapshot(kept) == before


def test_an_output_file_over_the_file_size_limit_is_not_written(tmp_path: Path) -> None:
    """An output written whole (`write_output`) says EFBIG as it says a full disk, and leaves no partial file."""
    code = ("import sys\nfrom pathlib import Path\nfrom domain.adapters.files import write_output\n"
            "from domain.model.errors import TratosError\n"
            "try:\n    write_output(Path('big.pdf'), b'x' * 200_000, Path('home'))\n"
            "except TratosError as error:\n    print(type(error).__name__, error.exit_code, error)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536)))
    assert done.stdout.strip() == "CannotWrite 1 cannot write big.pdf: File too large; nothing was written", done
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ a real full disk


def mounted(folder: Path, size: str) -> Path:
    """A tmpfs of `size` at `folder`, or the test skipped: only root may mount one."""
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a real full disk needs a tmpfs, which only root may mount")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                      capture_output=True).returncode:
        pytest.skip("this machine does not let the tests mount a tmpfs")
    return folder


def filled(disk: Path, leave: int = 0) -> None:
    """`disk` filled to its last `leave` bytes."""
    with open(disk / "filler", "wb") as filler, suppress(OSError):  # full before the last byte: as asked
        filler.write(b"\0" * max(shutil.disk_usage(disk).free - leave, 0))


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MB disk with no byte free (a tmpfs), for what a command writes outside the home."""
    disk = mounted(tmp_path / "full", "1m")
    try:
        filled(disk)
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


@contextmanager
def home_on_a_disk(kept: Path, store, tmp_path: Path, size: str) -> Iterator[Path]:
    """A copy of the SQLite home `kept` on a real disk of `size` (a tmpfs, unmounted after): its
    folder is `disk/store`, for `filled(home.parent, …)`."""
    if store.backend != "sqlite":
        pytest.skip("a PostgreSQL store's disk is the server's")
    disk = mounted(tmp_path / "disk", size)
    try:
        home = disk / "store"
        shutil.copytree(kept, home)
        yield home
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


@pytest.fixture
def home_on_a_full_disk(kept: Path, store, tmp_path: Path) -> Iterator[Path]:
    """acme's SQLite home on a real 4 MB disk filled to its last 100 KB."""
    with home_on_a_disk(kept, store, tmp_path, "4m") as home:
        filled(home.parent, leave=100 * 1024)
        yield home


# ------------------------------------------------------------------ 7. full, not read-only

FULL = "is full (the disk holding it has less than 256 KB free)"


@pytest.mark.parametrize("args", [("client", "open", "newc", "--name", "New Client", "--on", "2026-03-01"),
                                  ("note", "acme", "Hello", "--on", "2026-03-01")], ids=["client-open", "note"])
def test_a_full_disk_is_full_for_every_command_that_records(home_on_a_full_disk: Path, args) -> None:
    line = refused(home_on_a_full_disk, args, 1, f"the store at {home_on_a_full_disk / 'tratos.sqlite'} {FULL}:"
                                                 " nothing was recorded", env=KEYED)
    assert "read-only" not in line


def test_a_rebuild_on_a_full_disk_says_full(home_on_a_full_disk: Path) -> None:
    line = refused(home_on_a_full_disk, ("rebuild",), 1, f"the store at {home_on_a_full_disk / 'tratos.sqlite'} {FULL}",
                   env=KEYED)
    assert "read-only" not in line and "nothing was recorded" not in line


def test_read_only_is_still_read_only_when_the_disk_has_room(tmp_path: Path) -> None:
    """SQLite's "read-only" is taken for a full disk only where the disk is full and the folder writable."""
    import sqlite3

    from domain.adapters.storage import storage_failure

    database = tmp_path / "ro.sqlite"
    sqlite3.connect(database).close()
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        connection.execute("CREATE TABLE t (x)")
    except sqlite3.Error as error:
        failure = storage_failure(error, str(database), folder=tmp_path)
    finally:
        connection.close()
    assert str(failure) == f"the store at {database} is read-only: nothing was recorded"


# ------------------------------------------------------------------ 9. a folder written whole or not at all


def test_the_event_log_s_folder_is_not_left_behind(kept: Path, full_disk: Path) -> None:
    year = str(year_of_the_log(kept))
    refused(kept, ("verifactu", "events", "--year", year, "-o", str(full_disk / "eventos")), 1,
            f"cannot write {full_disk / 'eventos'}", env=KEYED)
    assert not (full_disk / "eventos").exists()
    existing = full_disk / "before"
    existing.mkdir()  # a folder takes no block on a tmpfs
    (existing / "mine.txt").touch()
    refused(kept, ("verifactu", "events", "--year", year, "-o", str(existing)), 1, "No space left on device",
            env=KEYED)
    assert [p.name for p in existing.iterdir()] == ["mine.txt"]  # the folder was there: it stays, as it was


def test_the_evidence_folder_of_an_export_is_not_left_behind(kept: Path, full_disk: Path, tmp_path: Path) -> None:
    proof = tmp_path / "proof.txt"
    proof.write_text("they agreed\n" * 1000, encoding="utf-8")
    ok(kept, "note", "acme", "they agreed", "--evidence", str(proof), "--on", "2026-02-01", env=KEYED)  # to copy
    before = snapshot(kept)
    outcome = run(kept, "export", str(tmp_path / "all.jsonl"), "--with-evidence", str(full_disk / "evidence"),
                  env=KEYED)
    assert outcome.code == 1 and len(outcome.stderr_lines) == 1, outcome.stderr
    assert outcome.stderr.startswith(f"error: cannot write {full_disk / 'evidence'}"), outcome.stderr
    assert "No space left on device; nothing was written" in outcome.stderr
    assert not (full_disk / "evidence").exists() and not (tmp_path / "all.jsonl").exists()
    assert snapshot(kept) == before
