"""The eighteenth adversarial run: what it found in runs cut short, fixed where each rule lives.

5. `follow-up` ended by SIGXCPU, SIGPWR, SIGVTALRM, SIGPROF, SIGIO, SIGSTKFLT, a real-time signal or
   SIGTRAP left its step claimed, never sent: every signal whose default action ends the process
   now stops it as Ctrl-C does, and the step is due again;
8. a refused `mail import` (a FIFO among a Maildir's messages) left the files it had kept for the
   messages before it in the evidence folder;
10. a verdict (`audit verify`, `verifactu verify`, `verify`) exited 0 when its reader closed the
    pipe (`| head -1`) before it had said that something did not hold.

Each refusal is one `error:` line, its exit code and the store unchanged, on both backends.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from backends import SCRIPT
from cli_support import (
    IN_FORCE,
    TODAY,
    copied,
    database_of,
    evidence_files,
    ok,
    recorded_template,
    refused,
    run,
    store_args,
    store_rows,
)

KEYED = {"TRATOS_KEY_PASSPHRASE": "s3cret passphrase"}

# ------------------------------------------------------------------ 5. follow-up and the ending signals

# acme with an email address, reminded one day after an invoice's due date: F-2026-001, due 2026-02-14,
# unpaid on TODAY (2026-03-31), so its `after-1` step is due (late).
REMINDED = [
    ("init", "--name", "Ana García", "--email", "ana@example.com"),
    ("identity", "invoicing", "--tax-id", "12345678Z", "--address", "Calle Mayor 1, 28013 Madrid", "--vat", "0%"),
    ("client", "open", "acme", "--name", "Acme Consulting SL", "--email", "laura@acme.test", "--on", "2026-01-05"),
    ("terms", "publish", "acme", "--rate", "60/h", "--payment-days", "30", "--remind-after", "1",
     "--on", "2026-01-05"),
    *IN_FORCE[4:],
    ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15"),
]


@pytest.fixture
def reminded(module_store, store) -> Iterator[Path]:
    with copied(recorded_template(module_store, store.backend, "reminded", REMINDED, KEYED), store) as home:
        yield home


@pytest.fixture
def silent_server() -> Iterator[socket.socket]:
    """An SMTP server that takes the connection and never says a word (no banner, no reply)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(60)
    try:
        yield listener
    finally:
        listener.close()


def _due(home: Path) -> list[tuple[str, str]]:
    done = ok(home, "--json", "follow-up", "--dry-run", "--lang", "en", env=KEYED)
    return [(line["about"], line["step"]) for line in json.loads(done.stdout)["due"]]


def _topics(home: Path) -> list[str]:
    return [topic.rsplit(":", 1)[1] for _, _, topic, _ in store_rows(home)]


@pytest.mark.parametrize("name", ["SIGXCPU", "SIGPWR", "SIGVTALRM", "SIGTRAP", "SIGRTMIN+3"])
def test_a_follow_up_ended_by_any_ending_signal_releases_its_step(reminded: Path, silent_server: socket.socket,
                                                                  name: str) -> None:
    number = signal.SIGRTMIN + 3 if name == "SIGRTMIN+3" else getattr(signal, name)
    ok(reminded, "identity", "mail", "--host", "127.0.0.1", "--port", str(silent_server.getsockname()[1]),
       "--security", "none")
    assert _due(reminded) == [("F-2026-001", "after-1")]
    before = _topics(reminded)
    process = subprocess.Popen([str(SCRIPT), *store_args(reminded), "follow-up", "--lang", "en"],
                               env={**os.environ, "TRATOS_TODAY": TODAY, **KEYED}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        connection, _ = silent_server.accept()  # the step is claimed: it waits for the server's greeting
        with connection:
            process.send_signal(number)
            out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 1, (process.returncode, err)
    assert err.splitlines() == ["error: aborted after it recorded acme: follow up failed; nothing more was done"]
    assert _topics(reminded)[len(before):] == ["FollowUpClaimed", "FollowUpFailed"]
    assert json.loads(store_rows(reminded)[-1][3])["reason"] == "stopped before it was sent (interrupted)"
    assert _due(reminded) == [("F-2026-001", "after-1")]  # the next run sends it


def test_the_signals_taken_are_those_whose_default_ends_the_process() -> None:
    from domain.adapters.interruptions import ending_signals

    taken = set(ending_signals())
    ending = {"SIGHUP", "SIGTERM", "SIGQUIT", "SIGALRM", "SIGUSR1", "SIGUSR2", "SIGIO", "SIGPROF", "SIGVTALRM",
              "SIGSTKFLT", "SIGPWR", "SIGXCPU", "SIGTRAP", "SIGABRT"}
    assert {getattr(signal, name) for name in ending if hasattr(signal, name)} <= taken
    assert set(range(signal.SIGRTMIN, signal.SIGRTMAX + 1)) & set(signal.valid_signals()) <= taken
    not_taken = {"SIGKILL", "SIGSTOP", "SIGINT", "SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGSYS", "SIGCHLD",
                 "SIGCONT", "SIGURG", "SIGWINCH", "SIGTSTP", "SIGTTIN", "SIGTTOU"}
    assert not taken & {getattr(signal, name) for name in not_taken if hasattr(signal, name)}


# ------------------------------------------------------------------ 8. a refused mail import keeps no file

def _maildir(folder: Path, *messages: bytes | None) -> Path:
    """A Maildir whose new/ holds `messages` as files 1, 2, …; None is a FIFO in that place."""
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True)
    for number, content in enumerate(messages, start=1):
        if content is None:
            os.mkfifo(folder / "new" / str(number))
        else:
            (folder / "new" / str(number)).write_bytes(content)
    return folder


def _email(sender: str, subject: str, attachment: bytes | None = None) -> bytes:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "ana@example.com", subject
    message["Date"], message["Message-ID"] = "Mon, 12 Jan 2026 10:14:00 +0100", f"<{subject.replace(' ', '-')}@test>"
    message.set_content("Agreed.")
    if attachment is not None:
        message.add_attachment(attachment, maintype="application", subtype="pdf", filename="scope.pdf")
    return bytes(message)


def test_a_mail_import_refused_for_a_fifo_leaves_no_file_behind(kept: Path, tmp_path: Path) -> None:
    source = _maildir(tmp_path / "md", _email("Laura <laura@acme.test>", "Scope"), None)
    refused(kept, ("mail", "import", str(source), "--client", "acme"), 2, "it is a FIFO", env=KEYED)
    assert evidence_files(kept) == []


def test_a_file_kept_before_the_refused_import_stays(kept: Path, tmp_path: Path) -> None:
    first = _email("Laura <laura@acme.test>", "Scope")
    (tmp_path / "scope.eml").write_bytes(first)
    ok(kept, "note", "acme", "the scope, agreed", "--evidence", str(tmp_path / "scope.eml"), env=KEYED)
    source = _maildir(tmp_path / "md", first, _email("Laura <laura@acme.test>", "Dates"), None)
    refused(kept, ("mail", "import", str(source), "--client", "acme"), 2, "it is a FIFO", env=KEYED)
    assert len(evidence_files(kept)) == 2  # the note's file (its folder and itself), cited by the note


def test_batches_recorded_before_the_refusal_keep_the_files_they_cite(kept: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from domain.services import filing

    monkeypatch.setattr(filing, "BATCH", 2)
    ok(kept, "client", "open", "bravo", "--name", "Bravo SL", "--email", "b@bravo.test", "--on", "2026-01-20",
       env=KEYED)
    ok(kept, "client", "open", "carol", "--name", "Carol SL", "--email", "c@carol.test", "--on", "2026-01-20",
       env=KEYED)
    shared = b"%PDF-1.4 the same attachment in two messages"
    source = _maildir(tmp_path / "md",
                      _email("Carol <c@carol.test>", "Scope for Carol", shared),  # kept first, waits
                      _email("Bravo <b@bravo.test>", "Scope for Bravo", shared),  # cites it: recorded with the next
                      _email("Bravo <b@bravo.test>", "Dates for Bravo"),
                      None)
    before = len(store_rows(kept))
    outcome = run(kept, "mail", "import", str(source), env=KEYED)
    assert outcome.code == 2 and outcome.stderr.startswith("error: cannot read email file")
    assert _topics(kept)[before:] == ["MessageReceived", "MessageReceived"]  # bravo's batch
    cited = {evidence["sha256"] for _, _, topic, state in store_rows(kept)[before:]
             for evidence in json.loads(state)["evidence"]}
    kept_files = {path.replace("/", "") for path in evidence_files(kept) if "/" in path}
    assert kept_files == cited  # carol's message went back; the attachment bravo's cites stayed
    assert ok(kept, "audit", "verify", env=KEYED).code == 0


# ------------------------------------------------------------------ 10. a verdict whose reader left

def _to_a_reader_gone(home: Path, *args: str) -> subprocess.CompletedProcess:
    """The real script with its standard output a pipe nobody reads any more (`| head -1` once it left)."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return subprocess.run([str(SCRIPT), *store_args(home), *args], stdout=writer, stderr=subprocess.PIPE,
                              env={**os.environ, "TRATOS_TODAY": TODAY, **KEYED}, text=True, timeout=120)
    finally:
        os.close(writer)


def _execute(home: Path, statement: str, *params: object) -> None:
    """One SQL statement on the stored events table ({table}), as someone with the database would."""
    url = database_of(home)
    if url is None:
        import sqlite3

        with sqlite3.connect(home / "tratos.sqlite") as connection:
            connection.execute(statement.format(table="stored_events"), params)
        return
    import psycopg

    from domain.adapters.storage import PostgresLocation

    location = PostgresLocation.parse(url)
    schema = location.schema or "public"
    with psycopg.connect(**location.connect_kwargs(), autocommit=True) as connection:
        [(table,)] = connection.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s"
                                        " AND table_name LIKE %s", (schema, "%\\_events")).fetchall()
        connection.execute(statement.replace("?", "%s").format(table=f'"{schema}"."{table}"'), params)


def _stream_of(home: Path, topic: str) -> tuple[object, int]:
    """The id and head version of the stream whose first event is `topic`."""
    rows = store_rows(home)
    stream = next(row[0] for row in rows if row[2].endswith(":" + topic))
    return stream, max(row[1] for row in rows if row[0] == stream)


def _forge(home: Path, topic: str, **fields: object) -> None:
    """The head event of the stream that starts with `topic`, its fields rewritten in the table."""
    stream, head = _stream_of(home, topic)
    [state] = [row[3] for row in store_rows(home) if row[0] == stream and row[1] == head]
    forged = json.dumps({**json.loads(state), **fields}).encode()
    _execute(home, "UPDATE {table} SET state = ? WHERE originator_id = ? AND originator_version = ?", forged,
             stream, head)


def test_audit_verify_of_a_rewritten_event_fails_when_its_reader_left(kept: Path) -> None:
    _forge(kept, "RelationshipOpened", digest="0" * 64)
    done = _to_a_reader_gone(kept, "audit", "verify")
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines()[-1].startswith("error: the store does not verify: acme broken at")
    assert _to_a_reader_gone(kept, "--json", "audit", "verify").returncode == 1


def test_audit_verify_of_a_truncated_stream_fails_when_its_reader_left(kept: Path) -> None:
    if database_of(kept):
        pytest.skip("a copied PostgreSQL store has no read-model positions to tell a truncation by")
    stream, head = _stream_of(kept, "RelationshipOpened")
    _execute(kept, "DELETE FROM {table} WHERE originator_id = ? AND originator_version = ?", stream, head)
    done = _to_a_reader_gone(kept, "audit", "verify")
    assert done.returncode == 1, done.stderr
    assert "acme broken at v6 (truncated)" in done.stderr


def test_verifactu_verify_of_a_forged_record_fails_when_its_reader_left(kept: Path) -> None:
    _forge(kept, "InvoiceRegistered", fingerprint="0" * 64)
    logged = len(store_rows(kept))
    done = _to_a_reader_gone(kept, "verifactu", "verify")
    assert done.returncode == 1, done.stderr
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("error: the billing records do not verify")
    assert len(store_rows(kept)) > logged  # its checks logged in the event log, as when the output is read


def test_verify_of_a_pdf_the_store_did_not_issue_fails_when_its_reader_left(kept: Path, tmp_path: Path) -> None:
    printed = tmp_path / "invoice.pdf"
    ok(kept, "pdf", "invoice", "acme", "F-2026-001", "-o", str(printed), env=KEYED)
    content = bytearray(printed.read_bytes())
    content[len(content) // 3] ^= 1  # one bit of the signed revision
    printed.write_bytes(bytes(content))
    done = _to_a_reader_gone(kept, "verify", str(printed))
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("error: ") and len(done.stderr.splitlines()) == 1


def test_what_holds_and_a_plain_read_are_quiet_when_the_reader_left(kept: Path) -> None:
    for args in (("audit", "verify"), ("verifactu", "verify"), ("status",), ("timeline", "acme")):
        done = _to_a_reader_gone(kept, *args)
        assert (done.returncode, done.stderr) == (0, ""), args


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_a_verdict_on_a_full_disk_says_its_output_was_lost(kept: Path) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run([str(SCRIPT), *store_args(kept), "audit", "verify"], stdout=full,
                              stderr=subprocess.PIPE, env={**os.environ, "TRATOS_TODAY": TODAY, **KEYED}, text=True,
                              timeout=120)
    assert (done.returncode, done.stderr) == (1, "error: cannot write the output: No space left on device\n")
