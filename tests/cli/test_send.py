"""`tratos send` against a real SMTP server on 127.0.0.1 (aiosmtpd, STARTTLS, AUTH), on both backends.

What the server received is the .eml kept as evidence, byte for byte; the reply recorded is
the one it sent; a refused recipient, a refused login or a server that is down leave the store
(events and evidence) as it was, with one `error:` line; the password is nowhere tratos writes.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import IN_FORCE, copied, evidence_files, given, ok, run, store_rows

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for mail_server
from mail_server import PASSWORD, USER, MailServer, free_port  # noqa: E402

CLIENT = "laura@acme.test"
STORY = IN_FORCE + [
    ("client", "update", "acme", "--email", CLIENT, "--on", "2026-01-12"),
    ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15"),
]


def story(home: Path, _store: object) -> None:
    given(home, STORY)
    ok(home, "pdf", "invoice", "acme", "F-2026-001", "--unsigned", "--on", "2026-01-15",
       "-o", str(home.parent / "F-2026-001.pdf"))

ENV = {"TRATOS_SMTP_PASSWORD": PASSWORD}


@pytest.fixture
def acme(template, store, smtp: MailServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """acme with an invoice issued and printed, and mail settings pointing at the test server."""
    monkeypatch.chdir(tmp_path)
    with copied(template(store.backend, "sendable", story), store) as home:
        ok(home, "identity", "mail", "--host", "127.0.0.1", "--port", str(smtp.port), "--user", USER,
           "--bcc-self", "--trust", str(smtp.cert))
        yield home


def snapshot(home: Path) -> tuple:
    identity = home / "identity.json"
    return store_rows(home), evidence_files(home), identity.read_bytes()


def events_of(home: Path, kind: str) -> list[dict]:
    return [json.loads(state) for _, _, topic, state in store_rows(home) if topic.endswith(f":{kind}")]


class TestSending:
    def test_the_server_receives_the_kept_message_byte_for_byte(self, acme: Path, smtp: MailServer) -> None:
        done = ok(acme, "--json", "send", "acme", "invoice", "F-2026-001", "--on", "2026-01-16", env=ENV)
        shown = json.loads(done.stdout)
        assert done.stderr == ""
        [(sender, recipients, received)] = smtp.received
        assert sender == "ana@example.com" and recipients == [CLIENT, "ana@example.com"]  # Bcc to self
        kept = (acme / "evidence" / shown["eml_sha256"][:2] / shown["eml_sha256"][2:]).read_bytes()
        assert kept == received
        assert hashlib.sha256(received).hexdigest() == shown["eml_sha256"]
        [sent] = events_of(acme, "DocumentSent")
        assert sent["server_reply"] == smtp.handler.reply == shown["server_reply"]
        assert sent["evidence"][0]["sha256"] == shown["eml_sha256"]
        assert sent["to"] == [CLIENT] and sent["bcc"] == ["ana@example.com"]
        message = email.message_from_bytes(received, policy=email.policy.default)
        assert message["Message-ID"] == sent["message_id"] and "Bcc" not in message
        [issued] = events_of(acme, "DocumentIssued")  # the invoice printed before: sent as issued
        assert sent["document_sha256"] == issued["sha256"]
        [attachment] = list(message.iter_attachments())
        assert hashlib.sha256(attachment.get_content()).hexdigest() == issued["sha256"]
        assert "Hola, Acme Consulting SL:" in message.get_body(("plain",)).get_content()

    def test_status_timeline_and_dossier_show_what_was_sent(self, acme: Path, smtp: MailServer) -> None:
        ok(acme, "send", "acme", "invoice", "F-2026-001", "--on", "2026-01-16", env=ENV)
        status = json.loads(ok(acme, "--json", "status", "acme").stdout)
        [sent] = status["sent"]
        assert sent["to"] == [CLIENT] and sent["id"] == "F-2026-001" and sent["on"] == "2026-01-16"
        assert sent["server_reply"] == smtp.handler.reply
        timeline = ok(acme, "timeline", "acme").stdout
        assert f"Emailed: Invoice F-2026-001 to {CLIENT}; the server replied: {smtp.handler.reply}." in timeline
        from pypdf import PdfReader

        ok(acme, "pdf", "dossier", "acme", "--unsigned", "--lang", "en", "-o", "dossier.pdf")
        text = " ".join((page.extract_text() or "") for page in PdfReader("dossier.pdf").pages)
        text = " ".join(text.split())
        assert f"Emailed: Invoice F-2026-001 to {CLIENT}" in text
        assert smtp.handler.reply.split()[-1] in text  # the queue id of the server's acceptance
        assert sent["eml_sha256"] in text.replace(" ", "") or sent["eml_sha256"][:16] in text

    def test_a_document_not_issued_yet_is_printed_and_recorded_with_the_message(
            self, acme: Path, smtp: MailServer) -> None:
        before = len(store_rows(acme))
        done = ok(acme, "send", "acme", "contract", "K1", "--lang", "en", "--cc", "legal@acme.test",
                  "--subject", "Our contract", "--unsigned", env=ENV)
        assert "Sent contract K1 to laura@acme.test, legal@acme.test" in done.stdout
        rows = store_rows(acme)
        assert [topic.rsplit(":", 1)[1] for _, _, topic, _ in rows[before:]] == ["DocumentIssued", "DocumentSent"]
        [(_, recipients, received)] = smtp.received
        assert recipients == [CLIENT, "legal@acme.test", "ana@example.com"]
        message = email.message_from_bytes(received, policy=email.policy.default)
        assert message["Subject"] == "Our contract" and message["Cc"] == "legal@acme.test"
        assert message.get_body(("plain",)).get_content().startswith("Dear Acme Consulting SL,")

    def test_dry_run_writes_the_message_and_records_nothing(self, acme: Path, smtp: MailServer) -> None:
        before = snapshot(acme)
        done = ok(acme, "send", "acme", "invoice", "F-2026-001", "--dry-run", "--lang", "en")
        assert snapshot(acme) == before and smtp.received == []
        written = Path("acme-invoice-F-2026-001-es.eml")
        assert f"to {written}; nothing was sent or recorded" in done.stdout
        message = email.message_from_bytes(written.read_bytes(), policy=email.policy.default)
        assert message["To"] == CLIENT and message["Subject"] == "Invoice F-2026-001 from Ana García"
        assert "Please find attached invoice F-2026-001" in message.get_body(("plain",)).get_content()


@pytest.mark.parametrize("option, text, says", [
    ("--subject", "Pay\u202eexe.pdf", "the subject contains a bidirectional"),
    ("--subject", "x\nBcc: eve@example.com", "the subject"),
    ("--subject", "a\tb", "the subject"),
    ("--message", "a\x1b[31mred\x07", "the message contains control characters"),
    ("--message", "x\u202ey", "the message contains a bidirectional"),
])
def test_what_goes_to_the_client_meets_the_text_policy_even_in_a_dry_run(acme: Path, smtp: MailServer,
                                                                          option: str, text: str,
                                                                          says: str) -> None:
    before = snapshot(acme)
    outcome = run(acme, "send", "acme", "invoice", "F-2026-001", "--dry-run", option, text)
    assert outcome.code == 2 and len(outcome.stderr_lines) == 1, outcome.stderr
    assert outcome.stderr.startswith(f"error: {says}"), outcome.stderr
    assert snapshot(acme) == before and not list(Path(".").glob("*.eml")) and smtp.received == []


class TestFailures:
    def refused(self, home: Path, args: tuple[str, ...], message: str, env: dict | None = None) -> str:
        before = snapshot(home)
        outcome = run(home, *args, env=ENV if env is None else env)
        assert outcome.code == 1, outcome.stderr
        assert len(outcome.stderr_lines) == 1 and outcome.stderr.startswith("error: "), outcome.stderr
        assert message in outcome.stderr, outcome.stderr
        assert snapshot(home) == before
        return outcome.stderr

    def test_a_refused_recipient_records_nothing(self, acme: Path, smtp: MailServer) -> None:
        smtp.handler.refuse.add("nobody@acme.test")
        self.refused(acme, ("send", "acme", "invoice", "F-2026-001", "--to", CLIENT, "--to", "nobody@acme.test"),
                     "refused the recipient nobody@acme.test: 550 5.1.1")
        assert smtp.received == []

    def test_a_message_refused_after_its_body_records_nothing(self, acme: Path, smtp: MailServer) -> None:
        """The reply to the message is the verdict: a 554 there sent nothing (the thirteenth run)."""
        smtp.handler.reply = "554 5.7.1 no thanks"
        self.refused(acme, ("send", "acme", "invoice", "F-2026-001"), "refused the message: 554 5.7.1 no thanks;"
                                                                        " nothing was sent")
        assert not list(acme.rglob("*.eml"))  # no copy kept of a message that was not sent

    def test_a_message_accepted_then_a_421_to_quit_is_sent(self, acme: Path, smtp: MailServer) -> None:
        """The reply to QUIT takes nothing back: the message was accepted, and is recorded as sent."""
        smtp.handler.quit_reply = "421 4.3.2 closing"
        done = ok(acme, "send", "acme", "invoice", "F-2026-001", "--on", "2026-01-16", env=ENV)
        assert len(smtp.received) == 1, smtp.received
        assert "sent" in done.stdout.lower(), done.stdout

    def test_a_refused_login_records_nothing(self, acme: Path, smtp: MailServer) -> None:
        said = self.refused(acme, ("send", "acme", "invoice", "F-2026-001"), f"refused the login of {USER}: 535",
                            env={"TRATOS_SMTP_PASSWORD": "wrong-password"})
        assert "wrong-password" not in said and smtp.received == []

    def test_a_server_that_is_down_records_nothing(self, acme: Path) -> None:
        ok(acme, "identity", "mail", "--port", str(free_port()))
        self.refused(acme, ("send", "acme", "contract", "K1", "--unsigned"), "cannot reach the SMTP server 127.0.0.1:")

    def test_a_certificate_not_trusted_records_nothing(self, acme: Path, tmp_path: Path) -> None:
        from mail_server import make_certificate

        other, _ = make_certificate(tmp_path)
        ok(acme, "identity", "mail", "--trust", str(other))
        self.refused(acme, ("send", "acme", "invoice", "F-2026-001"), "no secure connection to the SMTP server")

    def test_no_password_anywhere_is_refused_before_anything(self, acme: Path) -> None:
        self.refused(acme, ("send", "acme", "invoice", "F-2026-001"), "set TRATOS_SMTP_PASSWORD, or keep it in",
                     env={"TRATOS_SMTP_PASSWORD": None, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})

    def test_security_none_only_to_127_0_0_1(self, acme: Path) -> None:
        before = snapshot(acme)
        outcome = run(acme, "identity", "mail", "--host", "smtp.example.com", "--security", "none")
        assert outcome.code == 2 and outcome.stderr.startswith("error: security `none`"), outcome.stderr
        assert snapshot(acme) == before


def test_the_password_from_the_keyring(acme: Path, smtp: MailServer) -> None:
    """With no TRATOS_SMTP_PASSWORD, the system keyring's password for USER@HOST logs in."""
    import keyring
    from keyring.backend import KeyringBackend

    class Memory(KeyringBackend):
        priority = 1
        kept: dict = {}  # noqa: RUF012

        def get_password(self, service, username):
            return self.kept.get((service, username))

        def set_password(self, service, username, password):
            self.kept[(service, username)] = password

        def delete_password(self, service, username):
            self.kept.pop((service, username), None)

    previous = keyring.get_keyring()
    keyring.set_keyring(Memory())
    try:
        keyring.set_password("tratos-smtp", f"{USER}@127.0.0.1", PASSWORD)
        ok(acme, "send", "acme", "invoice", "F-2026-001", env={"TRATOS_SMTP_PASSWORD": None})
    finally:
        keyring.set_keyring(previous)
    assert len(smtp.received) == 1


def test_the_password_is_nowhere_tratos_writes(acme: Path, smtp: MailServer, tmp_path: Path) -> None:
    """Grep of the store, the evidence, identity.json, an export, a dossier, the output and --json."""
    outputs = [ok(acme, "--json", "send", "acme", "invoice", "F-2026-001", env=ENV),
               ok(acme, "send", "acme", "contract", "K1", "--unsigned", env=ENV),
               run(acme, "send", "acme", "contract", "K1", env={"TRATOS_SMTP_PASSWORD": PASSWORD + "x"}),
               ok(acme, "--json", "status", "acme"), ok(acme, "--json", "timeline", "acme"),
               ok(acme, "--json", "identity", "show"),
               ok(acme, "export", str(tmp_path / "export.jsonl")),
               ok(acme, "pdf", "dossier", "acme", "--unsigned", "-o", str(tmp_path / "dossier.pdf"))]
    secret = PASSWORD.encode()
    for outcome in outputs:
        assert PASSWORD not in outcome.stdout + outcome.stderr
    assert PASSWORD[:12] not in outputs[2].stderr
    files = [p for p in [*acme.rglob("*"), *tmp_path.rglob("*")] if p.is_file()]
    assert len(files) > 5
    assert [p for p in files if secret in p.read_bytes()] == []
    rows = store_rows(acme)
    assert all(secret not in bytes(state) for *_, state in rows)


def test_an_export_with_a_sent_document_imports_into_a_new_store(acme: Path, smtp: MailServer,
                                                                  tmp_path: Path) -> None:
    """Import re-decides `DocumentSent` (domain/model/replay.py) and brings its .eml along."""
    ok(acme, "send", "acme", "contract", "K1", "--unsigned", env=ENV)
    ok(acme, "export", str(tmp_path / "export.jsonl"), "--with-evidence", str(tmp_path / "kept"))
    fresh = tmp_path / "fresh"
    ok(fresh, "import", str(tmp_path / "export.jsonl"), "--with-evidence", str(tmp_path / "kept"))
    [sent] = events_of(fresh, "DocumentSent")
    kept = fresh / "evidence" / sent["evidence"][0]["sha256"][:2] / sent["evidence"][0]["sha256"][2:]
    assert kept.read_bytes() == smtp.received[0][2]
    assert ok(fresh, "audit", "verify").code == 0


def test_status_says_what_was_sent(acme: Path, smtp: MailServer) -> None:
    ok(acme, "send", "acme", "invoice", "F-2026-001", "--on", "2026-01-16", env=ENV)
    lines = ok(acme, "status", "acme").stdout.splitlines()
    at = lines.index("Sent by email")
    assert lines[at + 1].split() == ["on", "what", "to", "server's", "reply"]
    assert lines[at + 2].split()[:5] == ["2026-01-16", "invoice", "F-2026-001", CLIENT, "250"]
    assert lines[at + 2].endswith(smtp.handler.reply)
