"""The twenty-first adversarial run (ADR-89): what it found, fixed where each lives.

1. a home the system will not look into (a folder name over 255 bytes, a folder this account may
   not enter) showed `OSError: [Errno 36]` / `PermissionError`, exit 1: the home is checked when it
   is named (cli/session.py `_usable`), one line, exit 2;
2. a signal just after a command had written its confirmation ended the process with status 143
   and nothing on stderr, though it had recorded (a script retrying on failure records twice): the
   console script keeps the signals taken until the process ends (`stopped_as_interrupted(for_good=True)`),
   so a recorded command exits 0, or 1 saying what it recorded;
3. on a nearly full disk, a reading command whose read models were behind the log (after a
   `verifactu export`, which logs an entry) said "the store is read-only here" and advised running
   the command that had just failed: it says the disk is full;
4. a store file emptied (`: > tratos.sqlite`) beside an evidence folder its records had filled
   passed `audit verify` ("Checked 0 records… OK"): a store with no record whose evidence folder
   holds files is NOT OK.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from backends import SCRIPT
from cli_support import ok, refused, run, store_args, store_rows

KEYED = {"TRATOS_KEY_PASSPHRASE": "s3cret passphrase"}
TODAY = "2026-02-20"


@pytest.mark.parametrize("args", [("init", "--name", "A", "--email", "a@b.test"), ("client", "open", "zz", "--name", "Z"),
                                  ("status",), ("audit", "verify")], ids=["init", "client-open", "status", "audit"])
def test_a_home_whose_name_is_too_long_is_refused_in_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    home = tmp_path / ("a" * 300)
    outcome = run(home, *args)
    assert outcome.code == 2, outcome.stderr
    assert outcome.stderr_lines == [f"error: the home {home} cannot be used: File name too long"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root enters every folder")
def test_a_home_this_account_may_not_enter_is_refused_in_one_line(tmp_path: Path) -> None:
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o000)
    try:
        outcome = run(closed / "h", "client", "open", "zz", "--name", "Z")
        assert (outcome.code, outcome.stderr_lines) == (
            2, [f"error: the home {closed / 'h'} cannot be used: Permission denied"])
    finally:
        closed.chmod(0o700)


def test_a_home_inside_a_file_is_still_said_missing(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    outcome = run(tmp_path / "file" / "h", "status")
    assert outcome.code == 2 and len(outcome.stderr_lines) == 1 and "no tratos home" in outcome.stderr


def test_a_signal_at_any_moment_leaves_an_exit_code_that_says_what_was_recorded(kept: Path) -> None:
    """SIGTERM sent from before the command records to after it has confirmed: a note that is in the
    store is confirmed (exit 0) or named by "aborted after it recorded" (exit 1), never the shell's
    143 of a process killed; one that is not says "aborted" (or, sent while Python itself starts,
    before any code of tratos runs, is the system's 143)."""
    env = {**os.environ, "TRATOS_TODAY": TODAY, **KEYED}
    took = 0.0
    for _ in range(2):  # the second, warm: as the notes below run
        started = time.monotonic()
        subprocess.run([str(SCRIPT), *store_args(kept), "note", "acme", "how long a note takes"], env=env, check=True,
                       capture_output=True)
        took = time.monotonic() - started
    outcomes = set()
    for step in range(24):
        before = len(store_rows(kept))
        process = subprocess.Popen([str(SCRIPT), *store_args(kept), "note", "acme", f"note {step}"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        time.sleep(took * (0.6 + step * 0.025))
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
        recorded = len(store_rows(kept)) > before
        outcomes.add((process.returncode, recorded))
        if recorded:
            assert (process.returncode, err) in ((0, ""), (1, "error: aborted after it recorded acme: note recorded;"
                                                              " nothing more was done\n")), (step, out, err)
            assert process.returncode == 1 or out.startswith("Recorded: note on acme")
        else:
            assert (process.returncode, err) in ((1, "error: aborted\n"), (-signal.SIGTERM, "")), (step, out, err)
    assert run(kept, "audit", "verify", env=KEYED).code == 0
    assert (-signal.SIGTERM, True) not in outcomes


# ------------------------------------------------------------------ 3. full, not read-only, when behind


def test_a_reader_behind_the_log_on_a_full_disk_says_full(kept: Path, store, tmp_path: Path) -> None:
    from test_eighteenth_run_storage import filled, home_on_a_disk

    with home_on_a_disk(kept, store, tmp_path, "4m") as home:
        ok(home, "verifactu", "export", "--year", "2026", "-o", str(tmp_path / "records.xml"), env=KEYED)
        filled(home.parent, leave=100 * 1024)
        for args in (("status", "acme"), ("check",)):
            line = refused(home, args, 1, "are behind its log and the disk holding it is full (less than 256 KB"
                                          " free): free some space on it, then run this again", env=KEYED)
            assert "read-only" not in line


# ------------------------------------------------------------------ 4. an emptied store beside its evidence


def test_an_emptied_store_beside_its_evidence_does_not_verify(kept: Path, store, tmp_path: Path) -> None:
    if store.backend != "sqlite":
        pytest.skip("emptying the SQLite file")
    (tmp_path / "call.txt").write_text("what was said")
    ok(kept, "note", "acme", "the call", "--evidence", str(tmp_path / "call.txt"), env=KEYED)
    (kept / "tratos.sqlite").write_bytes(b"")
    for name in ("tratos.sqlite-wal", "tratos.sqlite-shm"):
        (kept / name).unlink(missing_ok=True)
    audit = run(kept, "audit", "verify", env=KEYED)
    assert audit.code == 1, audit.stdout
    assert "store: the store holds no record, yet its evidence folder holds 1 file" in audit.stdout
    assert "Verdict: NOT OK, the log lost events" in audit.stdout and "no events yet" not in audit.stdout
    assert audit.stderr_lines == ["error: the store does not verify: the log lost events; restore it from your"
                                  " latest export (`tratos import` into an empty store) or from a backup"]


def test_a_new_store_verifies(tmp_path: Path) -> None:
    ok(tmp_path / "new", "init", "--name", "Ana", "--email", "ana@example.com")
    audit = run(tmp_path / "new", "audit", "verify")
    assert audit.code == 0 and "Verdict: OK" in audit.stdout, audit.stdout
