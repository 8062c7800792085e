"""`tratos mail import`: client emails (.eml, mbox, Maildir) filed as evidence, once, streamed.

Each message goes to the client whose address it is from (received) or to (sent by us), kept
byte for byte with its attachments; the same Message-ID is filed once however often it is
imported; a message that matches no client is listed; a big mbox is read one message at a time.
"""

from __future__ import annotations

import hashlib
import json
import mailbox
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest
from backends import SCRIPT
from cli_support import OPENED, copied, evidence_files, given, ok, run, store_rows

STORY = OPENED + [
    ("client", "update", "acme", "--email", "laura@acme.test", "--on", "2026-01-05"),
    ("client", "open", "north", "--name", "North Wind SL", "--email", "ops@north.test", "--on", "2026-01-06"),
]


def message(n: int, sender: str, to: str, *, attachment: bytes | None = None, message_id: str | None = None,
            body: str = "") -> EmailMessage:
    made = EmailMessage()
    made["From"] = sender
    made["To"] = to
    made["Date"] = f"Mon, {1 + n % 28:02d} Feb 2026 10:{n % 60:02d}:00 +0100"
    made["Subject"] = f"Message {n} ñ"
    made["Message-ID"] = message_id or f"<m{n}@mail.test>"
    made.set_content(body or f"Body of message {n}.\n")
    if attachment is not None:
        made.add_attachment(attachment, maintype="application", subtype="pdf", filename=f"scan-{n}.pdf")
    return made


def story_message(n: int) -> EmailMessage:
    """Message n of a generated mailbox: mostly acme's, some north's, some of ours, some strangers'."""
    kind = n % 10
    if kind == 7:
        return message(n, "Spam <offers@elsewhere.test>", "ana@example.com")
    if kind == 8:
        return message(n, "Ana García <ana@example.com>", "Laura Pérez <laura@acme.test>")
    if kind == 9:
        return message(n, "ops@north.test", "ana@example.com", attachment=b"PDF north " + str(n).encode())
    return message(n, "Laura Pérez <LAURA@acme.test>", "ana@example.com")


def write_mbox(path: Path, count: int, make=story_message) -> Path:
    box = mailbox.mbox(path)
    box.lock()
    for n in range(count):
        box.add(make(n))
    box.flush()
    box.unlock()
    box.close()
    return path


@pytest.fixture
def clients(template, store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    with copied(template(store.backend, "two-clients", STORY), store) as home:
        yield home


def filed(home: Path) -> list[tuple[str, dict]]:
    return [(topic.rsplit(":", 1)[1], json.loads(state)) for _, _, topic, state in store_rows(home)
            if topic.endswith((":MessageReceived", ":MessageSent"))]


def test_one_eml_with_its_attachment_is_filed_byte_for_byte(clients: Path, tmp_path: Path) -> None:
    eml = tmp_path / "reply.eml"
    eml.write_bytes(message(1, "Laura Pérez <laura@acme.test>", "ana@example.com", attachment=b"%PDF-1.7 signed",
                            message_id="<reply-1@acme.test>").as_bytes())
    done = ok(clients, "mail", "import", str(eml))
    assert done.stdout == "Filed 1 emails (acme 1); 0 already on the record; 0 matched no client\n"
    [(kind, event)] = filed(clients)
    assert kind == "MessageReceived" and event["message_id"] == "<reply-1@acme.test>"
    assert event["sender"] == "Laura Pérez <laura@acme.test>" and event["to"] == ["ana@example.com"]
    assert event["subject"] == "Message 1 ñ" and event["sent_at"] == "2026-02-02T10:01:00+01:00"
    [kept, attached] = event["evidence"]
    assert kept["sha256"] == hashlib.sha256(eml.read_bytes()).hexdigest() and kept["media_type"] == "message/rfc822"
    assert attached["name"] == "scan-1.pdf" and attached["sha256"] == hashlib.sha256(b"%PDF-1.7 signed").hexdigest()
    for cited in (kept, attached):
        assert (clients / "evidence" / cited["sha256"][:2] / cited["sha256"][2:]).is_file()
    timeline = ok(clients, "timeline", "acme").stdout
    assert "Email from Laura Pérez <laura@acme.test> filed as evidence: “Message 1 ñ” (1 attachments)." in timeline
    again = ok(clients, "mail", "import", str(eml), "--client", "acme")
    assert again.stdout.startswith("Filed 0 emails; 1 already on the record")
    assert len(filed(clients)) == 1
    assert ok(clients, "audit", "verify").code == 0


def test_an_mbox_of_1000_imported_twice_files_each_once_and_lists_the_unmatched(clients: Path,
                                                                                tmp_path: Path) -> None:
    box = write_mbox(tmp_path / "all.mbox", 1000)
    # the same message twice in the mailbox is one message
    with open(box, "ab") as more:
        more.write(b"\n" + mailbox.mboxMessage(story_message(3)).as_bytes(unixfrom=True))
    first = json.loads(ok(clients, "--json", "mail", "import", str(box)).stdout)
    assert first["by_client"] == {"acme": 800, "north": 100}  # 700 received + 100 of ours; 100 north's
    assert first["filed"] == 900 and len(first["unmatched"]) == 100
    assert {m["from"] for m in first["unmatched"]} == {"Spam <offers@elsewhere.test>"}
    assert [m["message_id"] for m in first["skipped"]] == ["<m3@mail.test>"]
    events = filed(clients)
    assert len(events) == 900 and len({e["message_id"] for _, e in events}) == 900
    assert sum(kind == "MessageSent" for kind, _ in events) == 100
    files = evidence_files(clients)
    second = ok(clients, "mail", "import", str(box))
    assert second.stdout.splitlines()[0] == "Filed 0 emails; 901 already on the record; 100 matched no client"
    assert len(second.stdout.splitlines()) == 101 and second.stdout.splitlines()[1].startswith("unmatched: <m7@")
    assert len(filed(clients)) == 900 and evidence_files(clients) == files


def test_a_maildir_and_a_dry_run(clients: Path, tmp_path: Path) -> None:
    folder = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for n in range(10):
        folder.add(story_message(n))
    before = (store_rows(clients), evidence_files(clients))
    dry = ok(clients, "mail", "import", str(tmp_path / "Maildir"), "--dry-run")
    assert dry.stdout.splitlines()[0] == ("Would file 9 emails (acme 8, north 1); 0 already on the record;"
                                          " 1 matched no client; nothing was recorded")
    assert (store_rows(clients), evidence_files(clients)) == before
    ok(clients, "mail", "import", str(tmp_path / "Maildir"))
    assert len(filed(clients)) == 9


@pytest.mark.parametrize("special", ["fifo", "link to /dev/zero"])
def test_a_maildir_entry_that_is_no_file_is_refused_not_waited_on(clients: Path, tmp_path: Path, store,
                                                                  special: str) -> None:
    import os

    folder = mailbox.Maildir(tmp_path / "Maildir", create=True)
    folder.add(story_message(1))
    entry = tmp_path / "Maildir" / "new" / "1700000000.M1P1.host"
    os.mkfifo(entry) if special == "fifo" else entry.symlink_to("/dev/zero")
    before = (store_rows(clients), evidence_files(clients))
    outcome = subprocess.run([str(SCRIPT), "--home", str(clients), "mail", "import", str(tmp_path / "Maildir")],
                             capture_output=True, text=True, timeout=60,  # a wait would fail here, not hang
                             env=store.env() | {"TRATOS_TODAY": "2026-03-31"})
    assert outcome.returncode == 2 and outcome.stderr.count("\n") == 1, outcome.stderr
    assert outcome.stderr.startswith("error: ") and "email file" in outcome.stderr, outcome.stderr
    assert (store_rows(clients), evidence_files(clients)) == before


@pytest.mark.parametrize(("source", "message"), [
    ("missing.mbox", "error: no mail file"),
    ("folder", "is a folder but not a Maildir"),
])
def test_what_is_not_a_mailbox_is_one_error_line(clients: Path, tmp_path: Path, source: str, message: str) -> None:
    (tmp_path / "folder").mkdir()
    before = store_rows(clients)
    outcome = run(clients, "mail", "import", str(tmp_path / source))
    assert outcome.code == 2 and len(outcome.stderr_lines) == 1 and message in outcome.stderr, outcome.stderr
    assert store_rows(clients) == before


def test_an_unknown_client_is_refused_before_anything(clients: Path, tmp_path: Path) -> None:
    box = write_mbox(tmp_path / "few.mbox", 3)
    outcome = run(clients, "mail", "import", str(box), "--client", "nobody")
    assert outcome.code == 2 and outcome.stderr.startswith("error: no client 'nobody'")
    assert filed(clients) == [] and evidence_files(clients) == []


def _peak_memory(home: Path, source: Path) -> int:
    """The most memory (max RSS, KiB) a `tratos mail import` process held, measured by its parent."""
    probe = ("import resource, subprocess, sys\n"
             "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", probe, str(SCRIPT), "--home", str(home), "mail", "import",
                           str(source)], capture_output=True, text=True, check=True,
                          env={"TRATOS_TODAY": "2026-03-31", "PATH": "/usr/bin:/bin"})
    return int(done.stdout)


def test_memory_stays_flat_with_the_mbox_size(tmp_path: Path) -> None:
    """An mbox 8 times bigger (4 MiB -> 32 MiB) costs the import far less than the difference:
    it is read a message at a time."""
    home = tmp_path / "store"
    given(home, STORY)
    blob = bytes(range(256)) * 400  # 100 KiB, base64 in the message
    small = write_mbox(tmp_path / "small.mbox", 40, lambda n: story_message_with(n, blob))
    big = write_mbox(tmp_path / "big.mbox", 320, lambda n: story_message_with(n + 1000, blob))
    grown = big.stat().st_size - small.stat().st_size
    assert grown > 25 * 1024 * 1024
    small_peak = _peak_memory(home, small)
    big_peak = _peak_memory(home, big)
    assert (big_peak - small_peak) * 1024 < grown / 4, (small_peak, big_peak, grown)


def story_message_with(n: int, blob: bytes) -> EmailMessage:
    return message(n, "laura@acme.test", "ana@example.com", attachment=blob + str(n).encode())
