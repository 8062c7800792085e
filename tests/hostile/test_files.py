"""Hostile files and a hostile disk: private modes, a full or read-only store, symlinks, FIFOs, devices.

Issue 19, kinds 5, 6, 7, 9 (/dev/zero), 10 and 11 (ADR-30, ADR-31). Every refused case checks the
exit code, exactly one `error:` line on stderr, and the store unchanged (event rows and evidence
files), on both backends where a store is involved.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from cli_support import (  # noqa: E402
    OPENED,
    TODAY,
    evidence_files,
    given,
    ok,
    run,
    store_rows,
    write_eml,
)

from domain.adapters.files import FILE_LIMIT  # noqa: E402

SCRIPT = Path(sys.executable).parent / "tratos"
EXTRA_LINE = "error: PostgreSQL needs the postgres extra: pip install 'tratos[postgres]'"



@pytest.fixture
def acme(cli_home: Path) -> Path:
    """A store with the freelancer's identity and one client, acme."""
    given(cli_home, OPENED)
    return cli_home


@pytest.fixture
def deadline() -> Iterator[None]:
    """A FIFO that blocked a read would hang the test: fail it after 20 seconds instead."""
    def expired(*_: object) -> None:
        raise TimeoutError("blocked on a special file")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def snapshot(home: Path) -> tuple[list, list]:
    return store_rows(home), evidence_files(home)


def assert_refused(outcome, code: int, *phrases: str) -> None:
    assert outcome.code == code, outcome.stderr
    assert len(outcome.stderr_lines) == 1, outcome.stderr
    assert outcome.stderr_lines[0].startswith("error: "), outcome.stderr
    for phrase in phrases:
        assert phrase in outcome.stderr_lines[0], outcome.stderr


def script_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRATOS_")}
    return env | {"TRATOS_TODAY": TODAY} | extra


# ------------------------------------------------------------- kind 5: private modes


def test_nothing_in_the_home_is_readable_by_others_under_umask_022(store, tmp_path):
    """The real script, run with umask 022, leaves nothing group- or world-readable in the home."""
    home = tmp_path / "new" / "home"
    url = ["--database-url", store.database_url] if store.database_url else []
    email = write_eml(tmp_path / "ok.eml", "Agreed")
    steps = [("init", "--name", "Ana García", "--email", "ana@example.com"),
             ("client", "open", "acme", "--name", "Acme SL", "--on", "2026-01-05"),
             ("note", "acme", "they agreed", "--evidence", str(email), "--on", "2026-01-06"),
             ("pdf", "dossier", "acme", "-o", str(tmp_path / "dossier.pdf")),
             ("pdf", "dossier", "acme", "-o", str(home / "pdf" / "dossier.pdf"))]  # inside the home: private
    for step in steps:
        done = subprocess.run([str(SCRIPT), "--home", str(home), *url, *step], capture_output=True,
                              text=True, timeout=120, env=script_env(TRATOS_KEY_PASSPHRASE="s3cret"),
                              preexec_fn=lambda: os.umask(0o022))
        assert done.returncode == 0, (step, done.stderr)
    shared = [f"{oct(stat.S_IMODE(path.stat().st_mode))} {path}" for path in [home, *home.rglob("*")]
              if path.stat().st_mode & 0o077]
    assert shared == []
    assert {p.name for p in home.iterdir()} >= {"identity.json", "evidence", "pdf"}
    if not store.database_url:
        assert (home / "tratos.sqlite").exists()
    # a document sent to the client keeps the umask's mode, outside the home
    assert stat.S_IMODE((tmp_path / "dossier.pdf").stat().st_mode) == 0o644


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_store_files_stay_private_while_open(acme):
    """The -wal and -shm files exist only while a connection is open: they take the store's mode."""
    from cli_support import open_store

    old = os.umask(0o022)
    try:
        app = open_store(acme)
        try:
            app.recorder.select_notifications(start=1, limit=1)
            names = [p for p in acme.iterdir() if p.name.startswith("tratos.sqlite")]
            assert {p.name for p in names} >= {"tratos.sqlite", "tratos.sqlite-wal", "tratos.sqlite-shm"}
            assert [p.name for p in names if p.stat().st_mode & 0o077] == []
        finally:
            app.close()
    finally:
        os.umask(old)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_store_made_readable_by_an_older_tratos_is_narrowed(acme):
    database = acme / "tratos.sqlite"
    database.chmod(0o644)
    ok(acme, "status")
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


# ---------------------------------------------------------- kind 6: storage errors


def real_sqlite_error(kind: str) -> sqlite3.Error:
    """The error SQLite itself raises when its disk is full or its file is read-only."""
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "t.sqlite"
        with closing(sqlite3.connect(database)) as connection:
            connection.execute("CREATE TABLE t (x)")
            connection.commit()
            if kind == "full":
                connection.execute("PRAGMA max_page_count = 2")
                try:
                    connection.execute("INSERT INTO t VALUES (zeroblob(100000))")
                except sqlite3.Error as error:
                    return error
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as readonly:
            try:
                readonly.execute("INSERT INTO t VALUES (1)")
            except sqlite3.Error as error:
                return error
    raise AssertionError(f"SQLite raised no {kind} error")


def driver_error(backend: str, kind: str) -> BaseException:
    """The driver's error for `kind` on `backend`, as eventsourcing wraps it (the driver's is its cause)."""
    from eventsourcing.persistence import OperationalError

    if backend == "sqlite":
        cause: BaseException = real_sqlite_error(kind) if kind in ("full", "readonly") \
            else sqlite3.OperationalError("database is locked")
    else:
        import psycopg

        cause = {"full": psycopg.errors.DiskFull('could not extend file "base/16384/16385": No space left on device'),
                 "readonly": psycopg.errors.ReadOnlySqlTransaction("cannot execute INSERT in a read-only transaction"),
                 "locked": psycopg.errors.LockNotAvailable("canceling statement due to lock timeout")}[kind]
    error = OperationalError(str(cause))
    error.__cause__ = cause
    return error


@pytest.fixture
def failing_disk(monkeypatch, store):
    """fail(kind): every insert of events raises the driver's error for `kind` on this backend."""
    def fail(kind: str) -> None:
        if store.backend == "sqlite":
            from eventsourcing.sqlite import SQLiteApplicationRecorder as Recorder
        else:
            from eventsourcing.postgres import PostgresApplicationRecorder as Recorder

        def insert_events(*_: object, **__: object) -> None:
            raise driver_error(store.backend, kind)

        monkeypatch.setattr(Recorder, "insert_events", insert_events)

    return fail


RECORDING = [
    ("note", ("note", "acme", "a note", "--evidence", "{eml}")),
    ("client-open", ("client", "open", "beta", "--name", "Beta SA", "--on", "2026-01-05")),
    ("terms", ("terms", "publish", "acme", "--rate", "60/h", "--on", "2026-01-06")),
    ("note-dated", ("note", "acme", "dated", "--on", "2026-01-06")),
    ("two-evidence", ("note", "acme", "two", "--evidence", "{eml}", "--evidence", "{other}")),
    ("mistake", ("mistake", "report", "acme", "typo", "--by", "client", "--on", "2026-01-06")),
    ("end", ("end", "acme", "--reason", "done", "--on", "2026-01-07")),
]


def fill(args: tuple[str, ...], tmp_path: Path) -> tuple[str, ...]:
    eml = write_eml(tmp_path / "agreed.eml", "Agreed")
    other = write_eml(tmp_path / "other.eml", "Also agreed")
    return tuple(a.replace("{eml}", str(eml)).replace("{other}", str(other)) for a in args)


@pytest.mark.parametrize(("name", "args"), RECORDING, ids=[c[0] for c in RECORDING])
def test_a_full_disk_is_not_a_conflict(acme, failing_disk, tmp_path, name, args):
    before = snapshot(acme)
    failing_disk("full")
    outcome = run(acme, *fill(args, tmp_path))
    assert_refused(outcome, 1, "is full: nothing was recorded")
    assert "kept changing" not in outcome.stderr and "OperationalError" not in outcome.stderr
    assert snapshot(acme) == before


@pytest.mark.parametrize(("name", "args"), RECORDING[:4], ids=[c[0] for c in RECORDING[:4]])
def test_a_read_only_store_says_so_at_once(acme, failing_disk, tmp_path, name, args):
    before = snapshot(acme)
    failing_disk("readonly")
    outcome = run(acme, *fill(args, tmp_path))
    assert_refused(outcome, 1, "is read-only: nothing was recorded")
    assert snapshot(acme) == before


def test_a_store_locked_too_long_is_not_called_a_conflict(acme, failing_disk, monkeypatch):
    import domain.services.application as application

    monkeypatch.setattr(application, "ATTEMPTS", 3)
    before = snapshot(acme)
    failing_disk("locked")
    outcome = run(acme, "note", "acme", "x")
    assert_refused(outcome, 1, "stayed locked by another process")
    assert snapshot(acme) == before


@pytest.mark.parametrize(("kind", "meaning"), [("full", "full"), ("readonly", "read-only"), ("locked", "busy")])
@pytest.mark.parametrize("driver", ["sqlite", "postgres"])
def test_storage_errors_are_classified_from_the_drivers_code(driver, kind, meaning):
    from domain.adapters.storage import classify

    assert classify(driver_error(driver, kind)) == meaning


def test_errors_of_files_are_not_called_storage_errors():
    from domain.adapters.storage import classify

    assert classify(PermissionError(13, "Permission denied")) is None
    assert classify(OSError(28, "No space left on device")) is None


@pytest.fixture
def read_only(monkeypatch, acme) -> Path:
    """acme's store as one this process may not write (root writes whatever the mode: the check is
    what tratos asks, and then SQLite's own ?mode=ro refuses every write)."""
    import domain.adapters.storage as storage

    monkeypatch.setattr(storage, "writable", lambda path: False)
    return acme


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_read_only_store_can_be_verified(read_only):
    before = snapshot(read_only)
    outcome = run(read_only, "audit", "verify")
    assert outcome.code == 0 and "Verdict: OK" in outcome.stdout, outcome.stderr
    assert snapshot(read_only) == before


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_read_only_store_can_be_exported(read_only, tmp_path):
    before = snapshot(read_only)
    outcome = run(read_only, "export", str(tmp_path / "backup.jsonl"))
    assert outcome.code == 0, outcome.stderr
    assert (tmp_path / "backup.jsonl").read_text().count("\n") >= 3
    assert snapshot(read_only) == before


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("args", [("note", "acme", "x"), ("client", "open", "beta", "--name", "Beta SA")],
                         ids=["note", "client-open"])
def test_a_read_only_store_refuses_to_record_in_one_line(read_only, args):
    before = snapshot(read_only)
    outcome = run(read_only, *args)
    assert_refused(outcome, 1, f"the store at {read_only / 'tratos.sqlite'} is read-only: nothing was recorded")
    assert snapshot(read_only) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes files whatever their mode: covered by `read_only`")
@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_store_in_a_read_only_folder_can_be_verified(acme):
    os.chmod(acme / "tratos.sqlite", 0o400)
    os.chmod(acme, 0o500)
    try:
        assert run(acme, "audit", "verify").code == 0
        assert_refused(run(acme, "note", "acme", "x"), 1, "is read-only: nothing was recorded")
    finally:
        os.chmod(acme, 0o700)


# ------------------------------------------------------- kind 7: no postgres extra


@pytest.mark.parametrize("args", [("status",), ("client", "open", "acme", "--name", "Acme"),
                                  ("audit", "verify"), ("export", "x.jsonl")],
                         ids=["status", "client-open", "audit", "export"])
@pytest.mark.parametrize("how", ["option", "environment"])
def test_postgres_without_its_extra_names_the_extra(tmp_path, args, how):
    url = "postgresql://ana@127.0.0.1:5432/tratos"
    boot = "import sys; sys.modules['psycopg'] = None; from cli.main import main; main()"
    given = ["--database-url", url] if how == "option" else []
    env = script_env(**({"TRATOS_DATABASE_URL": url} if how == "environment" else {}))
    done = subprocess.run([sys.executable, "-c", boot, "--home", str(tmp_path / "home"), *given, *args],
                          capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert (done.returncode, done.stderr.splitlines()) == (2, [EXTRA_LINE])
    assert not (tmp_path / "home").exists() and not (tmp_path / "x.jsonl").exists()


# ------------------------------------------------ kind 10: output through symlinks


def test_pdf_through_a_symlink_writes_its_target_and_keeps_the_link(acme, tmp_path):
    target, link = tmp_path / "dossier.pdf", tmp_path / "latest.pdf"
    target.write_bytes(b"old")
    link.symlink_to(target.name)
    ok(acme, "pdf", "dossier", "acme", "-o", str(link))
    assert link.is_symlink() and os.readlink(link) == target.name
    assert target.read_bytes().startswith(b"%PDF")


def test_export_through_a_dangling_symlink_creates_its_target(acme, tmp_path):
    link, target = tmp_path / "backup.jsonl", tmp_path / "backups" / "2026.jsonl"
    target.parent.mkdir()  # a link into a folder that is not there is refused as any missing folder (ADR-54)
    link.symlink_to(target)
    ok(acme, "export", str(link))
    assert link.is_symlink() and target.is_file()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def special_output(kind: str, tmp_path: Path) -> Path:
    if kind == "fifo":
        os.mkfifo(tmp_path / "pipe")
        return tmp_path / "pipe"
    if kind == "device":
        return Path("/dev/null")
    if kind == "link-to-device":
        (tmp_path / "null").symlink_to("/dev/null")
        return tmp_path / "null"
    if kind == "link-to-folder":
        (tmp_path / "folder").mkdir()
        (tmp_path / "out").symlink_to(tmp_path / "folder")
        return tmp_path / "out"
    if kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(tmp_path / "sock"))
        return tmp_path / "sock"
    raise AssertionError(kind)


SPECIAL_OUTPUTS = ["fifo", "device", "link-to-device", "link-to-folder", "socket"]


@pytest.mark.parametrize("kind", SPECIAL_OUTPUTS)
@pytest.mark.parametrize("command", ["pdf", "export"])
def test_output_never_replaces_a_special_file(acme, tmp_path, deadline, kind, command):
    path = special_output(kind, tmp_path)
    before, mode = snapshot(acme), os.stat(path).st_mode
    args = ("pdf", "dossier", "acme", "-o", str(path)) if command == "pdf" else ("export", str(path))
    outcome = run(acme, *args)
    assert_refused(outcome, 2, *(() if kind == "link-to-folder" else ("not a regular file",)))
    assert os.stat(path).st_mode == mode  # still the device, FIFO, socket or folder
    assert snapshot(acme) == before


# ------------------------------------ kind 11 (and 9): user-named files, regular and bounded


def special_input(kind: str, tmp_path: Path) -> Path:
    if kind == "fifo":
        os.mkfifo(tmp_path / "pipe.eml")
        return tmp_path / "pipe.eml"
    if kind == "dev-zero":
        return Path("/dev/zero")
    if kind == "dev-null":
        return Path("/dev/null")
    if kind == "folder":
        (tmp_path / "mails").mkdir()
        return tmp_path / "mails"
    if kind == "link-to-fifo":
        os.mkfifo(tmp_path / "pipe")
        (tmp_path / "mail.eml").symlink_to(tmp_path / "pipe")
        return tmp_path / "mail.eml"
    if kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(tmp_path / "sock"))
        return tmp_path / "sock"
    if kind == "too-large":
        path = tmp_path / "huge.pdf"
        with path.open("wb") as sparse:
            sparse.truncate(FILE_LIMIT + 1)
        return path
    raise AssertionError(kind)


SPECIAL_INPUTS = ["fifo", "dev-zero", "dev-null", "folder", "link-to-fifo", "socket", "too-large"]
READERS = {
    "note": ("note", "acme", "x", "--evidence", "{file}"),
    "mistake": ("mistake", "report", "acme", "x", "--by", "client", "--evidence", "{file}", "--on", "2026-01-06"),
    "contract-sign-email": ("contract", "sign", "acme", "--by", "client", "--method", "email",
                            "--file", "{file}"),
    "contract-sign-pades": ("contract", "sign", "acme", "--by", "client", "--method", "pades",
                            "--file", "{file}"),
}


@pytest.mark.parametrize("kind", SPECIAL_INPUTS)
@pytest.mark.parametrize("reader", list(READERS))
def test_evidence_must_be_a_regular_file_of_bounded_size(acme, tmp_path, deadline, reader, kind):
    path = special_input(kind, tmp_path)
    before = snapshot(acme)
    outcome = run(acme, *(a.replace("{file}", str(path)) for a in READERS[reader]))
    message = "tratos reads files of at most 100 MiB" if kind == "too-large" else "not a regular file"
    assert_refused(outcome, 2, message)
    assert snapshot(acme) == before


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder", "too-large"])
@pytest.mark.parametrize("command", ["verify", "identity-import"])
def test_pdfs_and_identities_must_be_regular_files_of_bounded_size(acme, tmp_path, deadline, kind, command):
    path = special_input(kind, tmp_path)
    before = snapshot(acme), (acme / "identity.json").read_bytes()
    args = ("verify", str(path)) if command == "verify" else ("identity", "import", str(path))
    outcome = run(acme, *args, env={"TRATOS_KEY_PASSPHRASE": "s3cret"})
    assert outcome.code == 2, outcome.stderr
    assert len(outcome.stderr_lines) == 1 and outcome.stderr_lines[0].startswith("error: ")
    assert (snapshot(acme), (acme / "identity.json").read_bytes()) == before


def test_evidence_is_kept_in_a_stream_with_its_email_headers(acme, tmp_path):
    from domain.adapters.evidence import examine

    body = "x" * (3 * 1024 * 1024)
    email = write_eml(tmp_path / "long.eml", "Signed off", body=body)
    ok(acme, "note", "acme", "signed off", "--evidence", str(email))
    described = examine(email)
    assert described.evidence.headers["subject"] == "Signed off"
    assert described.evidence.size == email.stat().st_size
    kept = acme / "evidence" / described.evidence.sha256[:2] / described.evidence.sha256[2:]
    assert kept.read_bytes() == email.read_bytes()
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600


def test_evidence_changed_while_kept_is_refused(acme, tmp_path, monkeypatch):
    """The event would cite a hash the kept copy does not have: refused, nothing kept."""
    import domain.adapters.evidence as evidence

    email = write_eml(tmp_path / "a.eml", "Agreed")
    examine = evidence.examine

    def examine_then_change(path):
        described = examine(path)
        Path(path).write_text("rewritten after it was read")
        return described

    monkeypatch.setattr(evidence, "examine", examine_then_change)
    before = snapshot(acme)
    outcome = run(acme, "note", "acme", "x", "--evidence", str(email))
    assert_refused(outcome, 2, "changed while it was being kept")
    assert snapshot(acme) == before


def test_a_copy_left_half_written_by_a_killed_command_is_swept_later(acme, tmp_path):
    """A SIGKILL during an evidence copy leaves `.tratos-…` behind (up to the file's size): the next
    command that keeps evidence removes it once it is an hour old; a younger one may be a copy under way."""
    import time

    first = tmp_path / "first.txt"
    first.write_text("the brief")
    ok(acme, "note", "acme", "brief", "--evidence", str(first))
    folder = next(p for p in (acme / "evidence").iterdir() if p.is_dir())
    stale, fresh = folder / ".tratos-k1ll3d", folder / ".tratos-4ctive"
    for partial in (stale, fresh):
        partial.write_bytes(b"\0" * 4096)
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    second = tmp_path / "second.txt"
    second.write_text("the sign-off")
    ok(acme, "note", "acme", "signed off", "--evidence", str(second))
    assert not stale.exists() and fresh.exists()
    assert ok(acme, "audit", "verify").code == 0
