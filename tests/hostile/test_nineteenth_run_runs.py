"""The nineteenth adversarial run: runs cut short or too big, fixed where each rule lives.

A. A command other than `follow-up` ended by SIGTERM, SIGHUP, SIGUSR1 or SIGXCPU left what it was
   writing: part of an export's evidence folder and its `.tratos-*` temporary file, `.tratos-*`
   files in the evidence folder and evidence no event cites. Every command now stops on an ending
   signal as on Ctrl-C (domain/adapters/interruptions.py `stopped_as_interrupted`): its cleanup runs, "error: aborted";
B. `mail import` failing on a later batch (`ulimit -f`) said "nothing was recorded" when earlier
   batches were: it now says how many emails were filed before the failure;
C. a message of an mbox larger than an .eml may be (100 MiB) was read whole into memory and filed:
   it is refused from the mailbox's offsets before any message is read, and so nothing is filed
   (a Maildir's file too).

Each refusal is one `error:` line, its exit code and the store unchanged, on both backends.
"""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from backends import SCRIPT
from cli_support import (
    TODAY,
    database_of,
    evidence_files,
    ok,
    refused,
    run,
    snapshot,
    store_args,
    store_rows,
)

KEYED = {"TRATOS_KEY_PASSPHRASE": "s3cret passphrase"}
MB = 1024 * 1024


def _random_file(path: Path, size: int) -> Path:
    with open(path, "wb") as out:
        for _ in range(size // MB):
            out.write(os.urandom(MB))
    return path


def _temporary_files(*folders: Path) -> list[Path]:
    return [found for folder in folders if folder.exists() for found in folder.rglob(".tratos-*")]


def _stopped(home: Path, args: tuple[str, ...], started: Callable[[], bool], number: int) -> tuple[int, str]:
    """The real script run with `args`, sent signal `number` once `started()` holds: its exit code and stderr."""
    process = subprocess.Popen([str(SCRIPT), *store_args(home), *args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env={**os.environ, "TRATOS_TODAY": TODAY, **KEYED}, text=True)
    try:
        deadline = time.monotonic() + 120
        while not started():
            assert process.poll() is None, f"it ended before it was stopped: {process.stderr.read()}"
            assert time.monotonic() < deadline, "it never started writing"
            time.sleep(0.002)
        assert process.poll() is None, "it ended before the signal was sent: the test's work is too short"
        process.send_signal(number)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, err


# ------------------------------------------------------------------ A. every command stops as on Ctrl-C

@pytest.fixture
def heavy(kept: Path, tmp_path: Path) -> Iterator[Path]:
    """`kept` with four notes, each citing a 24 MiB file: an export of its evidence takes a while."""
    for n in range(4):
        ok(kept, "note", "acme", f"recording {n}", "--evidence", str(_random_file(tmp_path / f"call-{n}.bin", 24 * MB)),
           env=KEYED)
        (tmp_path / f"call-{n}.bin").unlink()
    yield kept


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_an_export_with_evidence_ended_by_a_signal_leaves_nothing(heavy: Path, tmp_path: Path, name: str) -> None:
    target, folder = tmp_path / "out" / "backup.jsonl", tmp_path / "out" / "evidence"
    target.parent.mkdir()
    code, err = _stopped(heavy, ("export", str(target), "--with-evidence", str(folder)),
                         lambda: folder.exists() and any(folder.rglob("*")), getattr(signal, name))
    assert (code, err.splitlines()) == (1, ["error: aborted"])
    assert list((tmp_path / "out").iterdir()) == []  # no partial folder, no export, no .tratos-* file


@pytest.mark.parametrize("name", ["SIGTERM", "SIGUSR1", "SIGXCPU"])
def test_a_note_ended_by_a_signal_while_keeping_its_evidence_keeps_nothing(kept: Path, tmp_path: Path,
                                                                          name: str) -> None:
    big = _random_file(tmp_path / "recording.bin", 95 * MB)
    before = snapshot(kept)
    code, err = _stopped(kept, ("note", "acme", "the call", "--evidence", str(big)),
                         lambda: bool(_temporary_files(kept / "evidence")), getattr(signal, name))
    assert (code, err.splitlines()) == (1, ["error: aborted"])
    assert _temporary_files(kept) == []
    assert snapshot(kept) == before  # no event, no evidence file nothing cites


def _aborted_after(filed: int) -> str:
    """What a stopped `mail import` says (ADR-88): what its batches filed stays."""
    if not filed:
        return "error: aborted"
    return f"error: aborted after {filed} email{'s were' if filed > 1 else ' was'} filed; nothing more was done"


def _email(number: int, attachment: bytes) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Laura <laura@acme.test>", "ana@example.com", f"n{number}"
    message["Date"], message["Message-ID"] = "Mon, 12 Jan 2026 10:14:00 +0100", f"<n{number}@acme.test>"
    message.set_content("Agreed.")
    message.add_attachment(attachment, maintype="application", subtype="octet-stream", filename=f"a{number}.bin")
    return bytes(message)


def _emails(numbers: range, attachment: Callable[[int], bytes]) -> Iterator[bytes]:
    """`_email(n, attachment(n))` for each n, made fast: the first is made by `email`, the rest are
    its bytes with the number, the attachment's base64 and the MIME boundary put in (hundreds of
    messages through `email`'s generator took most of a test's time). The same bytes `_email`
    gives, but for the random boundary (test_the_fast_emails_are_the_emails)."""
    model = _email(0, b"\0")
    boundary = model.split(b'boundary="', 1)[1].split(b'"', 1)[0]
    head, _, tail = model.partition(base64.encodebytes(b"\0"))
    head = head.replace(boundary, b"{boundary}").replace(b"n0", b"n{number}").replace(b"a0.bin", b"a{number}.bin")
    tail = tail.replace(boundary, b"{boundary}")
    for number in numbers:
        mark = b"=" * 15 + b"%019d" % random.randrange(sys.maxsize) + b"=="
        filled = head.replace(b"{boundary}", mark).replace(b"{number}", str(number).encode())
        yield filled + base64.encodebytes(attachment(number)) + tail.replace(b"{boundary}", mark)


def test_the_fast_emails_are_the_emails() -> None:
    made = _email(12, b"%PDF-1.4 " + b"12" * 40)
    [fast] = _emails(range(12, 13), lambda n: b"%PDF-1.4 " + str(n).encode() * 40)
    boundary = made.split(b'boundary="', 1)[1].split(b'"', 1)[0]
    fast_boundary = fast.split(b'boundary="', 1)[1].split(b'"', 1)[0]
    assert fast.replace(fast_boundary, boundary) == made
    big = os.urandom(300 * 1024 + 7)
    [fast] = _emails(range(5, 6), lambda n: big)
    made = _email(5, big)
    assert fast.replace(fast.split(b'boundary="', 1)[1].split(b'"', 1)[0],
                        made.split(b'boundary="', 1)[1].split(b'"', 1)[0]) == made


def _mbox(path: Path, messages: Iterator[bytes]) -> Path:
    with open(path, "wb") as out:
        for raw in messages:
            out.write(b"From laura@acme.test Mon Jan 12 10:14:00 2026\n" + raw.replace(b"\r\n", b"\n") + b"\n")
    return path


def test_a_mail_import_ended_by_a_signal_keeps_only_what_its_batches_cite(kept: Path, tmp_path: Path) -> None:
    box = _mbox(tmp_path / "big.mbox", _emails(range(600), lambda n: os.urandom(256 * 1024)))
    before = len(store_rows(kept))
    code, err = _stopped(kept, ("mail", "import", str(box), "--client", "acme"),
                         lambda: len(evidence_files(kept)) > 40, signal.SIGTERM)
    assert (code, err.splitlines()) == (1, [_aborted_after(len(store_rows(kept)) - before)])
    assert _temporary_files(kept) == []
    cited = {evidence["sha256"] for _, _, topic, state in store_rows(kept)[before:]
             for evidence in json.loads(state)["evidence"]}
    kept_files = {path.replace("/", "") for path in evidence_files(kept) if "/" in path}
    assert kept_files == cited  # a batch recorded keeps its files; the rest went back
    assert ok(kept, "audit", "verify", env=KEYED).code == 0


def test_a_command_run_in_process_gives_the_signals_back_as_it_found_them(kept: Path) -> None:
    from domain.adapters.interruptions import ending_signals

    def mine(signum: int, frame: object) -> None:
        pass

    found = {number: signal.getsignal(number) for number in ending_signals()}
    previous = signal.signal(signal.SIGUSR2, mine)
    try:
        ok(kept, "status")
        refused(kept, ("note", "nobody", "x"), 2, "no client")
        assert signal.getsignal(signal.SIGUSR2) is mine  # a caller's own handler is left alone
        assert {number: signal.getsignal(number) for number in ending_signals() if number != signal.SIGUSR2} == {
            number: handler for number, handler in found.items() if number != signal.SIGUSR2}
    finally:
        signal.signal(signal.SIGUSR2, previous)


def test_follow_up_takes_no_signals_of_its_own() -> None:
    import cli.follow_up

    assert not hasattr(cli.follow_up, "_stopped_as_interrupted")
    assert not hasattr(cli.follow_up, "ending_signals")


# ------------------------------------------------------------------ B. what was filed before a failure

def test_a_mail_import_failing_after_a_batch_says_what_was_filed(kept: Path, tmp_path: Path) -> None:
    if database_of(kept):
        pytest.skip("a file-size limit is the SQLite file's")
    import resource

    # three batches (filing.BATCH, 200 messages): the first fits the limit, a later one does not
    box = _mbox(tmp_path / "many.mbox", _emails(range(600), lambda n: b"%PDF-1.4 " + str(n).encode() * 40))
    limit = max(path.stat().st_size for path in kept.rglob("*") if path.is_file()) + 400 * 1024

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run([str(SCRIPT), *store_args(kept), "mail", "import", str(box), "--client", "acme"],
                          capture_output=True, text=True, env={**os.environ, "TRATOS_TODAY": TODAY, **KEYED}, preexec_fn=limited,
                          timeout=300)
    assert done.returncode == 1, done.stderr
    [line] = done.stderr.splitlines()
    filed = sum(1 for _, _, topic, _ in store_rows(kept) if topic.endswith(":MessageReceived"))
    assert 0 < filed < 600, line
    assert line.startswith("error: the store at ") and "`ulimit -f`" in line, line
    assert line.endswith(f"; {filed} emails were filed before it; nothing more was recorded"), line
    again = json.loads(ok(kept, "--json", "mail", "import", str(box), "--client", "acme", "--dry-run",
                          env=KEYED).stdout)
    assert (again["filed"], len(again["skipped"])) == (600 - filed, filed)


def test_a_failure_after_recording_never_says_nothing_was_recorded() -> None:
    from domain.adapters.storage import StoreFailure, said_after_recording

    failure = StoreFailure("the store at /h/tratos.sqlite is full: nothing was recorded")
    assert str(said_after_recording(failure, "1 email was filed")) == (
        "the store at /h/tratos.sqlite is full: 1 email was filed before it; nothing more was recorded")
    assert str(said_after_recording(failure)) == (
        "the store at /h/tratos.sqlite is full: what was recorded before it stays; nothing more was recorded")
    assert type(said_after_recording(failure)) is StoreFailure


# ------------------------------------------------------------------ C. a message too big for memory

def test_an_mbox_message_over_the_limit_is_refused_before_anything_is_read(kept: Path, tmp_path: Path) -> None:
    box = tmp_path / "huge.mbox"
    _mbox(box, iter([_email(1, b"small")]))
    with open(box, "ab") as out:
        out.write(b"From laura@acme.test Mon Jan 12 10:14:00 2026\nFrom: Laura <laura@acme.test>\n"
                  b"Subject: huge\nMessage-ID: <huge@acme.test>\n\n")
        line = b"x" * 1023 + b"\n"
        for _ in range(101 * 1024):
            out.write(line)
    refused(kept, ("mail", "import", str(box), "--client", "acme"), 2,
            f"message 2 of {box} is 101 MiB: tratos reads emails of at most 100 MiB; nothing was filed", env=KEYED)
    assert evidence_files(kept) == []


@pytest.fixture
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """An email may be at most 4000 bytes, and each message is a batch of its own."""
    from domain.adapters import mailboxes
    from domain.services import filing

    monkeypatch.setattr(mailboxes, "FILE_LIMIT", 4000)
    monkeypatch.setattr(filing, "BATCH", 1)


def test_a_later_mbox_message_over_the_limit_files_none_before_it(kept: Path, tmp_path: Path,
                                                                  small_limits: None) -> None:
    box = _mbox(tmp_path / "box.mbox", iter([_email(1, b"a"), _email(2, b"b"), _email(3, b"c" * 5000)]))
    refused(kept, ("mail", "import", str(box), "--client", "acme"), 2, f"message 3 of {box} is 0 MiB", env=KEYED)


def test_a_later_maildir_file_over_the_limit_files_none_before_it(kept: Path, tmp_path: Path,
                                                                  small_limits: None) -> None:
    folder = tmp_path / "md"
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True)
    for number, content in enumerate([_email(1, b"a"), _email(2, b"b"), _email(3, b"c" * 5000)], start=1):
        (folder / "new" / str(number)).write_bytes(content)
    refused(kept, ("mail", "import", str(folder), "--client", "acme"), 2, f"email file {folder / 'new' / '3'} is 0 MiB", env=KEYED)


def test_messages_within_the_limit_are_still_filed(kept: Path, tmp_path: Path, small_limits: None) -> None:
    box = _mbox(tmp_path / "box.mbox", iter([_email(1, b"a"), _email(2, b"b")]))
    assert "Filed 2 emails (acme 2)" in ok(kept, "mail", "import", str(box), "--client", "acme", env=KEYED).stdout


@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT"])
def test_a_signal_just_after_a_batch_is_saved_takes_none_of_its_files_back(kept: Path, tmp_path: Path,
                                                                          name: str) -> None:
    """The twentieth run: the save committed, the files it cites not yet noted as its own, and the
    signal's clean-up took them back (evidence missing). A save and its count are one step now
    (domain/adapters/interruptions.py, ADR-87)."""
    box = _mbox(tmp_path / "box.mbox", _emails(range(600), lambda n: os.urandom(64 * 1024)))
    before = len(store_rows(kept))
    code, err = _stopped(kept, ("mail", "import", str(box), "--client", "acme"),
                         lambda: len(store_rows(kept)) > before, getattr(signal, name))
    assert (code, err.splitlines()) == (1, [_aborted_after(len(store_rows(kept)) - before)])
    assert len(store_rows(kept)) > before  # a batch was filed before the signal came
    audit = run(kept, "audit", "verify", env=KEYED)
    assert audit.code == 0, audit.stdout  # every file a filed email cites is there ("evidence missing" else)


def test_an_aborted_demo_says_so_in_one_line(tmp_path: Path) -> None:
    """The twentieth run: the demo's steps went through click's `main`, which wrote an empty line
    before turning the signal into its Abort (two stderr lines)."""
    home = tmp_path / "demo"
    process = subprocess.Popen([str(SCRIPT), "--home", str(home), "demo"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True,
                               env={**{k: v for k, v in os.environ.items() if k != "TRATOS_DATABASE_URL"},
                                    "TRATOS_TODAY": TODAY})
    try:
        deadline = time.monotonic() + 120
        while not (home / "identity.json").exists():  # a step or two in
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert (process.returncode, err.splitlines()) == (1, ["error: aborted"])


def test_ctrl_c_while_tratos_loads_is_one_line(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """The twentieth run: Ctrl-C in the first tenth of a second, while Python imports the command
    line, printed the import's traceback (cli/entry.py). The interruption comes here as the import
    runs (a real signal's moment depends on the machine's load; before Python's own start-up is
    done, no code of tratos runs at all)."""
    import cli.entry

    class Interrupting:  # a finder that is Ctrl-C arriving while the command line is imported
        def find_spec(self, name: str, path: object = None, target: object = None) -> None:
            if name == "cli.main":
                raise KeyboardInterrupt

    monkeypatch.delitem(sys.modules, "cli.main")
    monkeypatch.setattr(sys, "meta_path", [Interrupting(), *sys.meta_path])
    with pytest.raises(SystemExit) as ended:
        cli.entry.run()
    assert ended.value.code == 1
    assert capsys.readouterr().err == "error: aborted\n"
