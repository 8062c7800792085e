"""The seventh adversarial run (issue 19), what ADR-56 left: each rule fixed where it lives (ADR-61).

Each refusal is one `error:` line, its exit code and the store unchanged (event rows, evidence files,
identity.json), on both backends where a store is involved; what is accepted with a caveat says it
in exactly one `warning:` line.
"""

from __future__ import annotations

import json
import mailbox
import os
import random
import shutil
import stat
import subprocess
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from cli_support import (
    IN_FORCE,
    copied,
    ok,
    open_store,
    recorded_template,
    refused,
    run,
    snapshot,
    use_database,
    warned,
)

KEYED = {"TRATOS_KEY_PASSPHRASE": "s3cret passphrase"}
NIF = "12345678Z"
HISTORY = IN_FORCE + [
    ("client", "update", "acme", "--email", "laura@acme.test", "--on", "2026-01-12"),
    ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15"),        # F-2026-001
    ("invoice", "correct", "acme", "F-2026-001", "--reason", "One day billed twice", "--amount", "-100EUR",
     "--on", "2026-01-20"),                                                           # R-2026-001
    ("mistake", "report", "acme", "Contact form mails never arrive", "--by", "client", "--on", "2026-02-02"),
    ("mistake", "ack", "acme", "M1", "--apology", "Sorry, on it", "--on", "2026-02-03"),
    ("mistake", "diagnose", "acme", "M1", "--fault", "ours", "--cause", "Staging mail server", "--on", "2026-02-03"),
    ("mistake", "propose", "acme", "M1", "Fix every form", "--cost", "0EUR", "--hours", "2", "--on", "2026-02-03"),
    ("mistake", "choose", "acme", "M1", "O1", "--agreed", "--on", "2026-02-04"),
    ("mistake", "resolve", "acme", "M1", "--on", "2026-02-05"),
]


def template(module_store, backend: str):
    """acme in force with a signing key, an invoice, its correction and a resolved mistake: once per backend."""
    return recorded_template(module_store, backend, "hostile-seventh-run", HISTORY, KEYED)


@pytest.fixture
def acme(module_store, store) -> Iterator[Path]:
    """The template's private copy per test and backend."""
    with copied(template(module_store, store.backend), store) as home:
        yield home


def edit_identity(home: Path, **fields: str | None) -> None:
    """identity.json as a hand editor leaves it: `fields` set (None: taken out)."""
    path = home / "identity.json"
    identity = json.loads(path.read_text(encoding="utf-8"))
    identity.update(fields)
    path.write_text(json.dumps({k: v for k, v in identity.items() if v is not None}), encoding="utf-8")


def certificate_pem(home: Path) -> bytes:
    return (home / "certificate.pem").read_bytes()


# ------------------------------------------------- 1: identity mail --trust holds certificates


def not_certificates(folder: Path) -> dict[str, Path]:
    """Files that are not certificates, each as a user may name one by mistake."""
    made = {"text": folder / "notes.txt", "empty": folder / "empty.pem", "random": folder / "random.der",
            "key": folder / "key.pem", "pem-cut": folder / "cut.pem", "folder": folder / "certs"}
    made["text"].write_text("Laura's phone: 600 000 000\n")
    made["empty"].write_bytes(b"")
    made["random"].write_bytes(random.Random(7).randbytes(2048))
    made["key"].write_text("-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n"
                           "-----END PRIVATE KEY-----\n")
    made["pem-cut"].write_text("-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n")
    made["folder"].mkdir()
    return made


@pytest.mark.parametrize("kind", ["text", "empty", "random", "key", "pem-cut"])
def test_trusting_a_file_that_holds_no_certificate_is_refused_naming_it(acme: Path, tmp_path: Path, kind) -> None:
    path = not_certificates(tmp_path)[kind]
    said = refused(acme, ("identity", "mail", "--host", "smtp.example.com", "--trust", str(path)), 2,
                   "holds no readable certificate (PEM or DER X.509)")
    assert str(path) in said


@pytest.mark.parametrize(("kind", "is_what"), [("fifo", "a FIFO (named pipe)"), ("device", "a device"),
                                               ("folder", "a folder")])
def test_trusting_what_is_not_a_regular_file_says_so(acme: Path, tmp_path: Path, kind: str, is_what: str) -> None:
    path = {"fifo": tmp_path / "fifo", "device": Path("/dev/zero"), "folder": not_certificates(tmp_path)["folder"]}[kind]
    if kind == "fifo":
        os.mkfifo(path)
    refused(acme, ("identity", "mail", "--host", "smtp.example.com", "--trust", str(path)), 2,
            f"it is {is_what}, not a regular file")


def test_trusting_a_missing_file_is_refused(acme: Path, tmp_path: Path) -> None:
    refused(acme, ("identity", "mail", "--host", "smtp.example.com", "--trust", str(tmp_path / "ca.pem")), 2,
            f"no certificates file to trust {tmp_path / 'ca.pem'}")


@pytest.mark.parametrize("form", ["pem", "der"])
def test_a_pem_or_der_certificate_is_trusted_and_read_as_such_when_sending(acme: Path, tmp_path: Path, form) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from domain.adapters.smtp import MailSettings, _tls_context

    certificate = x509.load_pem_x509_certificate(certificate_pem(acme))
    path = tmp_path / f"ca.{form}"
    path.write_bytes(certificate.public_bytes(Encoding.PEM if form == "pem" else Encoding.DER))
    ok(acme, "identity", "mail", "--host", "smtp.example.com", "--trust", str(path))
    settings = MailSettings.from_identity(json.loads((acme / "identity.json").read_text(encoding="utf-8")))
    assert settings.trust == str(path.resolve())
    import ssl

    plain = ssl.create_default_context().cert_store_stats()["x509"]
    assert _tls_context(settings).cert_store_stats()["x509"] == plain + 1  # this certificate, loaded


def test_a_trusted_file_swapped_for_a_fifo_fails_the_send_in_a_line_not_a_wait(acme: Path, tmp_path: Path) -> None:
    from domain.adapters.smtp import MailSettings, SendFailed, _tls_context

    path = tmp_path / "ca.pem"
    path.write_bytes(certificate_pem(acme))
    ok(acme, "identity", "mail", "--host", "smtp.example.com", "--trust", str(path))
    path.unlink()
    os.mkfifo(path)
    settings = MailSettings.from_identity(json.loads((acme / "identity.json").read_text(encoding="utf-8")))
    with pytest.raises(SendFailed, match="FIFO .named pipe., not a regular file; nothing was sent"):
        _tls_context(settings)


# ------------------------------------------------- 2, 3: identity.json fields, each named when damaged

DAMAGED_FIELDS = [
    ("withholding", "1e999999999", "withholding is not a professional withholding rate"),
    ("withholding", "-1e999999999", "withholding is not a professional withholding rate"),
    ("withholding", "99", "withholding is not a professional withholding rate"),
    ("vat_rate", "1e999999999", "vat_rate is not a Spanish VAT rate"),
    ("vat_rate", "9" * 400, "vat_rate is not a Spanish VAT rate"),
    ("vat_rate", "21.123456789", "vat_rate is not a Spanish VAT rate"),
    ("vat_rate", "Infinity", "vat_rate is not a Spanish VAT rate"),
    ("vat_rate", "0x15", "vat_rate is not a Spanish VAT rate"),
    ("vat_rate", "２１", "vat_rate is not a Spanish VAT rate"),
    ("smtp_port", "9" * 40, "smtp_port is not a port (1 to 65535)"),
    ("smtp_port", "0", "smtp_port is not a port (1 to 65535)"),
    ("smtp_port", "1e3", "smtp_port is not a port (1 to 65535)"),
    ("verifactu_mode", "bogus", "verifactu_mode is not one of no-verifactu, verifactu"),
    ("verifactu_mode", "", "verifactu_mode is not one of no-verifactu, verifactu"),
    ("name", "", "name is empty"),
    ("name", "   ", "name is empty"),
    ("email", "", "email is empty"),
    ("lang", "fr", "lang is not one of es, en"),
    ("currency", "EURO", "currency is not an ISO 4217 currency code"),
    ("series", "f1", "series is not 1 to 5 capital letters"),
    ("smtp_security", "tls", "smtp_security is not one of starttls, ssl, none"),
    ("mail_bcc_self", "true", "mail_bcc_self is not one of yes, no"),
    ("tsa_lta", "1", "tsa_lta is not one of yes, no"),
]


@pytest.mark.parametrize(("field", "value", "says"), DAMAGED_FIELDS,
                         ids=[f"{f}={v[:12]!r}" for f, v, _ in DAMAGED_FIELDS])
def test_a_field_holding_what_tratos_never_writes_is_named(acme: Path, field: str, value: str, says: str) -> None:
    edit_identity(acme, **{field: value}, smtp_host="smtp.example.com")
    said = refused(acme, ("invoice", "issue", "acme", "--amount", "10EUR", "--on", "2026-03-02"), 1,
                   f"identity.json is damaged (its {says}")
    assert "999" not in said and "Overflow" not in said


@pytest.mark.parametrize("command", [("status",), ("identity", "show"), ("note", "acme", "Called"),
                                     ("pdf", "terms", "acme"), ("send", "acme", "invoice", "F-2026-001", "--dry-run")],
                         ids=["status", "identity-show", "note", "pdf", "send"])
def test_an_absurd_exponent_is_the_damaged_line_for_every_reader(acme: Path, tmp_path: Path, command) -> None:
    edit_identity(acme, withholding="1e999999999")
    output = ("-o", str(tmp_path / "out")) if command[0] in ("pdf", "send") else ()
    refused(acme, (*command, *output), 1, "(its withholding is not a professional withholding rate: 15, 7 or 0)",
            env=KEYED)
    assert not (tmp_path / "out").exists()


def test_a_name_taken_out_is_damage_not_no_identity_yet(acme: Path) -> None:
    edit_identity(acme, name=None)
    said = refused(acme, ("identity", "invoicing", "--vat", "21%"), 1, "identity.json is damaged (it has no name)")
    assert "no identity" not in said


def test_an_empty_name_is_damage_for_identity_invoicing_too(acme: Path) -> None:
    edit_identity(acme, name="")
    refused(acme, ("identity", "invoicing", "--vat", "21%"), 1, "(its name is empty)")


@pytest.mark.parametrize(("field", "value", "mend"), [
    ("vat_rate", "1e999999999", ("identity", "invoicing", "--vat", "21%")),
    ("withholding", "7.5", ("identity", "invoicing", "--withholding", "none")),
    ("verifactu_mode", "bogus", ("identity", "invoicing", "--verifactu-mode", "no-verifactu")),
    ("smtp_port", "99999999999", ("identity", "mail", "--port", "587")),
    ("smtp_security", "tls", ("identity", "mail", "--security", "starttls")),
], ids=["vat", "withholding", "mode", "port", "security"])
def test_the_command_the_line_names_mends_the_field(acme: Path, field: str, value: str, mend) -> None:
    edit_identity(acme, **{"smtp_host": "smtp.example.com", "smtp_port": "587", field: value})
    said = refused(acme, ("status",), 1, f"(its {field} ")
    assert f"`tratos {' '.join(mend[:3])}" in said
    ok(acme, *mend)
    assert run(acme, "status").stderr == ""


@pytest.mark.parametrize(("field", "value", "mend"), [
    ("tsa_lta", "1", ("identity", "tsa", "none")),
    ("name", "", ("init", "--force", "--name", "Ana García", "--email", "ana@example.com")),
    ("lang", "fr", ("init", "--force", "--name", "Ana García", "--email", "ana@example.com", "--lang", "en")),
], ids=["tsa", "name", "lang"])
def test_the_other_setting_commands_mend_their_fields_too(acme: Path, field: str, value: str, mend) -> None:
    edit_identity(acme, **{field: value})
    refused(acme, ("status",), 1, f"(its {field} ")
    ok(acme, *mend, env=KEYED)
    assert run(acme, "status").stderr == ""


def test_a_mending_command_names_what_it_does_not_mend(acme: Path) -> None:
    edit_identity(acme, vat_rate="1e999999999", smtp_host="smtp.example.com", smtp_port="587")
    refused(acme, ("identity", "mail", "--port", "25"), 1, "(its vat_rate is not a Spanish VAT rate")


@pytest.mark.parametrize(("field", "value"), [("vat_rate", "1E+1"), ("vat_rate", "21.00"), ("withholding", "-0"),
                                              ("withholding", "15")])
def test_rates_as_an_earlier_tratos_wrote_them_still_read(acme: Path, field: str, value: str) -> None:
    edit_identity(acme, **{field: value})
    outcome = run(acme, "status")
    assert outcome.code == 0 and outcome.stderr == ""


# ------------------------------------------------- 4: every file written inside the home is private


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.parametrize("command", [("calendar", "acme"), ("send", "acme", "invoice", "F-2026-001", "--dry-run")],
                         ids=["calendar", "send-dry-run"])
def test_an_output_inside_the_home_is_private_outside_it_keeps_the_umask(acme: Path, tmp_path: Path, umask_022,
                                                                        command) -> None:
    inside, outside = acme / "out" / "new" / "file", tmp_path / "file"
    for target in (inside, outside):
        ok(acme, *command, "-o", str(target), env=KEYED)
    assert stat.S_IMODE(inside.stat().st_mode) == 0o600
    assert stat.S_IMODE(inside.parent.stat().st_mode) == stat.S_IMODE(inside.parent.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(outside.stat().st_mode) == 0o644


def test_the_home_reached_another_way_is_still_the_home(acme: Path, tmp_path: Path, umask_022,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    link = tmp_path / "home-link"
    link.symlink_to(acme)
    monkeypatch.chdir(acme)
    ok(acme, "calendar", "-o", str(link / "linked.ics"))
    ok(acme, "calendar", "acme")  # the default name, in the working folder: the home
    for written in (acme / "linked.ics", acme / "acme.ics"):
        assert stat.S_IMODE(written.stat().st_mode) == 0o600


def test_no_writer_can_leave_out_where_the_home_is() -> None:
    import inspect

    from domain.adapters.files import shareable

    assert all(p.default is inspect.Parameter.empty for p in inspect.signature(shareable).parameters.values())


# ------------------------------------------------- 5: mail import files email, nothing else


def junk(folder: Path) -> dict[str, Path]:
    made = {name: folder / name for name in ("empty.eml", "random.eml", "scan.pdf", "note.txt", "no-from.eml")}
    made["empty.eml"].write_bytes(b"")
    made["random.eml"].write_bytes(random.Random(19).randbytes(4096))  # its first line is no header
    made["scan.pdf"].write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n")
    made["note.txt"].write_text("Call Laura back about the invoice.\nShe agreed to the new date.\n")
    made["no-from.eml"].write_text("To: ana@example.com\nSubject: Hello\n\nNo sender here.\n")
    return made


JUNK = [("empty.eml", "it is empty"), ("random.eml", "it has no email headers"),
        ("scan.pdf", "it has no email headers"), ("note.txt", "it has no email headers"),
        ("no-from.eml", "it has no From address")]


@pytest.mark.parametrize("client", [False, True], ids=["by-address", "with-client"])
@pytest.mark.parametrize(("name", "why"), JUNK, ids=[name for name, _ in JUNK])
def test_a_file_that_is_no_email_is_refused_and_nothing_is_filed(acme: Path, tmp_path: Path, name: str, why: str,
                                                                 client: bool) -> None:
    path = junk(tmp_path)[name]
    args = ("mail", "import", str(path), *(("--client", "acme") if client else ()))
    refused(acme, args, 2, f"{path} is not an email ({why}): nothing was filed")


def test_a_mailbox_holding_no_email_is_refused(acme: Path, tmp_path: Path) -> None:
    box = mailbox.mbox(tmp_path / "junk.mbox")
    box.add(b"just words\n")
    box.add(b"\x00\x01\x02 more bytes\n")
    box.flush()
    refused(acme, ("mail", "import", str(tmp_path / "junk.mbox")), 2,
            f"none of the 2 messages in {tmp_path / 'junk.mbox'} is an email (it has no email headers)")


def email_from(sender: str, n: int) -> EmailMessage:
    made = EmailMessage()
    made["From"], made["To"], made["Subject"] = sender, "ana@example.com", f"Message {n}"
    made["Date"], made["Message-ID"] = "Mon, 02 Feb 2026 10:00:00 +0100", f"<m{n}@acme.test>"
    made.set_content(f"Body {n}\n")
    return made


@pytest.mark.parametrize("dry_run", [False, True], ids=["filed", "dry-run"])
def test_a_mailbox_with_some_junk_files_the_emails_and_lists_the_rest(acme: Path, tmp_path: Path,
                                                                      dry_run: bool) -> None:
    box = mailbox.mbox(tmp_path / "mixed.mbox")
    box.add(email_from("Laura <laura@acme.test>", 1))
    box.add(b"Subject: only\n\nno sender\n")
    box.add(b"")
    box.add(email_from("Laura <laura@acme.test>", 2))
    box.flush()
    before = snapshot(acme)
    outcome = run(acme, "mail", "import", str(tmp_path / "mixed.mbox"), *(("--dry-run",) if dry_run else ()))
    assert outcome.code == 0 and len(outcome.stderr_lines) == 1, outcome.stderr
    assert outcome.stderr == (f"warning: 2 of the messages in {tmp_path / 'mixed.mbox'} are not email"
                              " (listed as `not a message`): not filed\n")
    assert outcome.stdout.startswith(f"{'Would file' if dry_run else 'Filed'} 2 emails (acme 2);")
    assert "; 2 not email" in outcome.stdout
    listed = [line for line in outcome.stdout.splitlines() if line.startswith("not a message: number ")]
    assert [line.split(":")[-1].strip() for line in listed] == ["it has no From address", "it is empty"]
    after = snapshot(acme)
    if dry_run:
        assert after == before
    else:
        kept = [name for name in set(after[1]) - set(before[1]) if "/" in name]  # evidence/ab/cdef…: files
        assert len(kept) == 2 and len(after[0]) > len(before[0])  # the two emails, nothing of the junk
        again = run(acme, "mail", "import", str(tmp_path / "mixed.mbox"))
        assert "Filed 0 emails; 2 already on the record" in again.stdout and snapshot(acme) == after


# ------------------------------------------------- 6: an unreadable record: what to do, not a loop


def damage(home: Path, stream, version: int) -> None:
    from forger import Forger

    app = open_store(home)
    try:
        Forger(app).write_state(stream, version, b'{"not json')
    finally:
        app.close()


@pytest.mark.parametrize("version", [1, 2])
def test_an_unreadable_billing_record_says_restore_not_run_the_audit(acme: Path, version: int) -> None:
    from domain.model.streams import records_id

    damage(acme, records_id(NIF), version)
    audit = run(acme, "audit", "verify", env=KEYED)  # the check and its anomaly are logged (ADR-60)
    assert audit.code == 1 and len(audit.stderr_lines) == 1, audit.stderr
    assert audit.stderr.endswith(f"broken at v{version} (content changed); restore it from your latest export"
                                 " (`tratos import` into an empty store) or from a backup\n")
    assert "run `tratos audit verify`" not in audit.stderr
    # the report goes on past the record, to what else holds
    assert f"BROKEN at record {version}: it cannot be read (not JSON)" in audit.stdout
    assert f"not checked from record {version} on (it cannot be read)" in audit.stdout
    assert f"events:{NIF}: " in audit.stdout
    verify = run(acme, "verifactu", "verify", env=KEYED)
    assert verify.code == 1 and verify.stdout.count("it cannot be read") == 2, verify.stdout


def test_an_unreadable_log_entry_breaks_the_log_there(acme: Path) -> None:
    from domain.model.streams import events_id

    damage(acme, events_id(NIF), 1)
    verify = run(acme, "verifactu", "verify", env=KEYED)
    assert verify.code == 1, verify.stderr
    assert f"events:{NIF}  0 events  BROKEN at entry 1: it cannot be read (not JSON)" in verify.stdout
    warning, error = verify.stderr_lines  # a log that cannot be read takes no entry: the check says so
    assert warning.startswith("warning: this check is not in the Verifactu event log: the record ")
    assert error.startswith(f"error: the event log does not verify: events:{NIF} entry 1: it cannot be read")


def test_other_readers_still_send_the_user_to_the_audit(acme: Path, tmp_path: Path) -> None:
    from domain.model.streams import records_id

    damage(acme, records_id(NIF), 1)
    refused(acme, ("export", str(tmp_path / "all.jsonl")), 1, "cannot be read (not JSON): run `tratos audit verify`")


def test_a_damaged_first_record_is_not_called_encrypted(acme: Path) -> None:
    from uuid import UUID

    app = open_store(acme)
    try:
        [first] = app.recorder.select_notifications(start=None, limit=1)
    finally:
        app.close()
    damage(acme, UUID(str(first.originator_id)), 1)
    for command in (("audit", "verify"), ("status",)):
        said = refused(acme, command, 1, "cannot be read (not JSON): the store is damaged; restore it")
        assert "encrypted" not in said and "run `tratos audit verify`" not in said


# ------------------------------------------------- 7: wordings


@pytest.mark.parametrize("args", [("send", "acme", "dossier", "x", "--dry-run"), ("pdf", "dossier", "acme", "K1"),
                                  ("pdf", "closing", "acme", "x"), ("send", "acme", "closing", "", "--dry-run")],
                         ids=["send-dossier", "pdf-dossier", "pdf-closing", "send-closing-empty"])
def test_a_document_of_the_whole_relationship_takes_no_id(acme: Path, tmp_path: Path, args) -> None:
    kind = args[2] if args[0] == "send" else args[1]
    refused(acme, (*args, "-o", str(tmp_path / "out")), 2, f"a {kind} takes no id", env=KEYED)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("args", "then"), [
    (("mistake", "resolve", "acme", "M1"), "there is nothing left to resolve"),
    (("mistake", "ack", "acme", "M1"), "cannot acknowledge it again"),
    (("mistake", "diagnose", "acme", "M1", "--fault", "ours", "--cause", "x"), "cannot diagnose it again"),
    (("mistake", "propose", "acme", "M1", "Again", "--hours", "1"), "cannot propose more remedies"),
    (("mistake", "choose", "acme", "M1", "O1", "--agreed"), "cannot choose another remedy"),
], ids=["resolve", "ack", "diagnose", "propose", "choose"])
def test_a_resolved_mistake_says_when_it_was_resolved(acme: Path, args, then: str) -> None:
    refused(acme, args, 1, f"mistake M1 was already resolved on 2026-02-05: {then}")


@pytest.mark.parametrize("args", [
    ("payment", "record", "acme", "R-2026-001", "100EUR"),
    ("invoice", "correct", "acme", "R-2026-001", "--reason", "Again", "--amount", "-10EUR"),
    ("remind", "acme", "R-2026-001"),
    ("pdf", "reminder", "acme", "R-2026-001"),
], ids=["payment", "correct", "remind", "pdf-reminder"])
def test_a_corrective_number_where_an_invoice_is_needed_says_which_to_use(acme: Path, tmp_path: Path, args) -> None:
    output = ("-o", str(tmp_path / "r.pdf")) if args[0] in ("remind", "pdf") else ()
    refused(acme, (*args, *output), 2, "R-2026-001 is a corrective invoice of F-2026-001:", env=KEYED)


@pytest.fixture
def exported(module_store, store, tmp_path: Path) -> Path:
    """The template's export; the test's own store stays empty, to import into."""
    spec = template(module_store, store.backend)
    with use_database(Path(spec.home), spec.database_url) as home:
        ok(home, "export", str(tmp_path / "all.jsonl"))
    return tmp_path / "all.jsonl"


@pytest.mark.parametrize(("kind", "is_what"), [("fifo", "it is a FIFO (named pipe), not a folder"),
                                               ("device", "it is a device, not a folder"),
                                               ("file", "it is a file, not a folder"),
                                               ("missing", "no evidence folder")])
def test_import_with_evidence_names_a_folder(exported: Path, tmp_path: Path, store, kind: str, is_what: str) -> None:
    folder = {"fifo": tmp_path / "fifo", "device": Path("/dev/null"), "file": exported,
              "missing": tmp_path / "nowhere"}[kind]
    if kind == "fifo":
        os.mkfifo(folder)
    with use_database(Path(store.home), store.database_url) as empty:
        refused(empty, ("import", str(exported), "--with-evidence", str(folder)), 2,
                f"cannot read the evidence folder {folder}: {is_what}" if kind != "missing" else is_what)


@pytest.mark.parametrize(("args", "typed"), [
    (("identity", "invoicing", "--vat", "21.123456789%"), "21.123456789%"),
    (("identity", "invoicing", "--withholding", "15.001%"), "15.001%"),
    (("invoice", "issue", "acme", "--amount", "10EUR", "--vat", "21.00000000000001%", "--on", "2026-03-02"),
     "21.00000000000001%"),
    (("contract", "draft", "acme", "--title", "T", "--scope", "S", "--price", "900EUR", "--hours", "10",
      "--start", "2026-04-01", "--end", "2026-05-01", "--installment", "33.333%@2026-04-01",
      "--installment", "66.667%@2026-05-01"), "33.333%"),
    (("terms", "publish", "acme", "--rate", "60/h", "--payment-days", "30", "--late-fee", "1.125%"), "1.125%"),
], ids=["vat", "withholding", "invoice-vat", "installment", "late-fee"])
def test_a_percentage_has_at_most_two_decimals(acme: Path, args, typed: str) -> None:
    refused(acme, args, 2, f"a percentage has at most 2 decimals: {typed!r}")  # never thousands: at most 100


# ------------------------------------------------- 8: the Verifactu mode for a year; bytes after %%EOF


def test_the_verifactu_mode_cannot_change_within_a_year_of_records(acme: Path) -> None:
    refused(acme, ("identity", "invoicing", "--verifactu-mode", "verifactu"), 1,
            "the Verifactu mode holds for a calendar year: your billing records of 2026 were made in no-verifactu mode")


def test_after_a_hand_edit_the_mode_the_records_say_is_no_switch(acme: Path) -> None:
    edit_identity(acme, verifactu_mode="verifactu")  # the records say no-verifactu (ADR-78): back to it
    ok(acme, "identity", "invoicing", "--verifactu-mode", "no-verifactu")
    assert json.loads((acme / "identity.json").read_text(encoding="utf-8"))["verifactu_mode"] == "no-verifactu"


def test_the_verifactu_mode_may_change_from_the_next_year_and_stays_when_named_again(acme: Path) -> None:
    ok(acme, "identity", "invoicing", "--verifactu-mode", "no-verifactu")  # the mode it has: no change
    ok(acme, "identity", "invoicing", "--verifactu-mode", "verifactu", env={"TRATOS_TODAY": "2027-01-01"})
    assert json.loads((acme / "identity.json").read_text(encoding="utf-8"))["verifactu_mode"] == "verifactu"


def signed_template(module_store, backend: str) -> tuple[object, Path]:
    """The template with acme's terms issued as a signed PDF (`tratos pdf terms`), and that PDF: rendered
    and signed once per module and backend, not once per test that damages a copy of it."""
    from backends import copy_store

    spec = module_store(backend, "hostile-seventh-run-signed-terms")
    printed = Path(spec.home).parent / "terms.pdf"
    if not printed.exists():
        copy_store(template(module_store, backend), spec)
        with use_database(Path(spec.home), spec.database_url) as home:
            ok(home, "pdf", "terms", "acme", "-o", str(printed), env=KEYED)
    return spec, printed


@pytest.fixture
def signed(module_store, store, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """acme (as `acme`) whose terms were issued as a signed PDF, and a private copy of that PDF."""
    spec, printed = signed_template(module_store, store.backend)
    with copied(spec, store) as home:
        yield home, Path(shutil.copyfile(printed, tmp_path / "terms.pdf"))


@pytest.mark.parametrize("tail", [b"JUNK", b"<script>alert(1)</script>\n", b"PK\x03\x04" + bytes(range(256)),
                                  b"\n%%junk\n"], ids=["word", "script", "zip", "percent"])
def test_bytes_after_the_last_eof_are_a_warning_the_verdict_stands(signed: tuple[Path, Path], tail) -> None:
    acme, signed_terms = signed
    signed_terms.write_bytes(signed_terms.read_bytes() + tail)
    before = snapshot(acme)
    line = warned(acme, "verify", str(signed_terms))
    assert f"{len(tail)} bytes follow the document's last revision" in line and "not the one issued" in line
    outcome = run(acme, "--json", "verify", str(signed_terms))
    report = json.loads(outcome.stdout)
    assert report["ok"] and report["trailing_bytes"] == len(tail) and len(report["warnings"]) == 1
    assert snapshot(acme) == before


@pytest.mark.parametrize("tail", ["copy", b"\n%%EOF\n", b"%%EOF"], ids=["second-copy", "lone-eof", "bare-eof"])
def test_what_follows_the_document_a_reader_shows_is_the_same_warning(signed: tuple[Path, Path], tail) -> None:
    """pdfsig reads each of these files as the document signed; so does verify, and it warns of the rest."""
    acme, signed_terms = signed
    issued = signed_terms.read_bytes()
    tail = issued if tail == "copy" else tail
    signed_terms.write_bytes(issued + tail)
    before = snapshot(acme)
    line = warned(acme, "verify", str(signed_terms))
    assert f"{len(tail)} bytes follow the document's last revision" in line
    report = json.loads(run(acme, "--json", "verify", str(signed_terms)).stdout)
    assert report["ok"] and report["trailing_bytes"] == len(tail) and report["issued_by_store"]
    assert snapshot(acme) == before
    if shutil.which("pdfsig"):  # the independent reader reads the signature of the same document
        read = subprocess.run(["pdfsig", str(signed_terms)], capture_output=True, text=True)
        assert "Signature Validation: Signature is Valid." in read.stdout, read.stdout + read.stderr


def test_a_last_startxref_naming_nothing_is_no_readable_pdf(signed: tuple[Path, Path]) -> None:
    """pdfsig cannot read it either ("Couldn't read xref table"): no document to warn about."""
    acme, signed_terms = signed
    signed_terms.write_bytes(signed_terms.read_bytes() + b"startxref\n0\n%%EOF\n")
    before = snapshot(acme)
    outcome = run(acme, "verify", str(signed_terms))
    assert outcome.code == 2 and outcome.stderr.startswith("error: not a readable PDF")
    assert snapshot(acme) == before


@pytest.mark.parametrize("tail", [b"", b"\n", b"\r\n \x00\x00\n"], ids=["none", "newline", "padding"])
def test_blank_padding_after_the_last_eof_is_no_warning(signed: tuple[Path, Path], tail) -> None:
    acme, signed_terms = signed
    signed_terms.write_bytes(signed_terms.read_bytes() + tail)
    outcome = run(acme, "verify", str(signed_terms))
    assert outcome.code == 0 and outcome.stderr == "" and "After the document's last revision" not in outcome.stdout
