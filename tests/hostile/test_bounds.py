"""Hostile input at the edges: dates at the end of the calendar, numbers Python reads too kindly,
empty values, invisible characters, texts tratos prints but did not write, and output paths.

The third adversarial run of issue 19 (D1-D16): each bad input is refused with exactly one
`error:` line, the exit code README promises, and the stored events, the evidence folder and
identity.json as they were, on both backends where a store is involved.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from cli_support import (
    IN_FORCE,
    copied,
    database_of,
    given,
    ok,
    passphrase_by_default,
    recorded_template,  # noqa: E402
    refused,
    run,
    snapshot,
    store_rows,
    use_database,
)

from cli.notation import parse_hours, parse_number
from domain.model import calendar, contracts
from domain.model.contracts import current_end
from domain.model.errors import BadInput
from domain.model.values import check_text, visible
from domain.model.wording import shown

KEYED = {"TRATOS_KEY_PASSPHRASE": "s3cret passphrase"}
HISTORY = IN_FORCE + [
    ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15"),        # F-2026-001
    ("change", "request", "acme", "More pages", "--on", "2026-01-20"),              # C1
]
OUT_OF_RANGE = "is out of range: tratos keeps dates from 1900 to 2999"


@pytest.fixture(scope="module", autouse=True)
def _keyed() -> Iterator[None]:
    """The store has a signing key: each invoice signs its billing record with it (ADR-59)."""
    with passphrase_by_default(KEYED["TRATOS_KEY_PASSPHRASE"]):
        yield


def template(module_store, backend: str):
    """acme in force with a signing key, one invoice, one change requested: once per backend."""
    return recorded_template(module_store, backend, "hostile-bounds", HISTORY, KEYED)


@pytest.fixture
def acme(module_store, store) -> Iterator[Path]:
    """The template's private copy per test and backend."""
    with copied(template(module_store, store.backend), store) as home:
        yield home


# --------------------------------------------------------------- D1, D4: the calendar's edges

DATES = [
    ("contract", "draft", "acme", "--title", "T", "--scope", "S", "--price", "100", "--start", "2026-01-01",
     "--end", "9999-12-31"),
    ("contract", "draft", "acme", "--title", "T", "--scope", "S", "--price", "100", "--start", "2026-01-01",
     "--end", "3000-01-01"),
    ("contract", "draft", "acme", "--title", "T", "--scope", "S", "--price", "100", "--start", "1899-12-31",
     "--end", "2026-12-31"),
    ("contract", "draft", "acme", "--title", "T", "--scope", "S", "--price", "100", "--start", "2026-01-01",
     "--end", "2026-12-31", "--installment", "100%@9999-12-31"),
    ("invoice", "issue", "acme", "--installment", "2", "--due", "9999-12-31"),
    ("note", "acme", "Called Laura", "--on", "0001-01-01"),
    ("status", "acme", "--as-of", "9999-12-31"),
    ("timeline", "acme", "--as-of", "0001-01-01"),
]


@pytest.mark.parametrize("args", DATES, ids=lambda a: "-".join(a[:2]) + "-" + a[-1])
def test_a_date_beyond_the_calendar_is_refused_up_front(acme: Path, args: tuple[str, ...]) -> None:
    refused(acme, args, 2, OUT_OF_RANGE)


@pytest.mark.parametrize("today, args, says", [
    ("9999-12-31", ("invoice", "issue", "acme", "--amount", "1"), "TRATOS_TODAY 9999-12-31 " + OUT_OF_RANGE),
    ("0001-01-01", ("note", "acme", "x", "--on", "yesterday"), "TRATOS_TODAY 0001-01-01 " + OUT_OF_RANGE),
    ("1900-01-01", ("note", "acme", "x", "--on", "yesterday"), "yesterday 1899-12-31 " + OUT_OF_RANGE),
    ("3000-01-01", ("status",), "TRATOS_TODAY 3000-01-01 " + OUT_OF_RANGE),
    ("", ("note", "acme", "x"), "TRATOS_TODAY is set but empty"),
    ("", ("status",), "TRATOS_TODAY is set but empty"),
    (" 2026-03-31", ("note", "acme", "x"), "TRATOS_TODAY is not a date"),
], ids=["9999-invoice", "0001-yesterday", "1900-yesterday", "3000-status", "empty-note", "empty-status", "space"])
def test_todays_date_is_within_the_calendar(acme: Path, today: str, args: tuple[str, ...], says: str) -> None:
    refused(acme, args, 2, says, env={"TRATOS_TODAY": today})


def in_force_until(home: Path, end: str) -> None:
    given(home, [
        ("client", "open", "zz", "--name", "ZZ Co", "--on", "2026-01-05"),
        ("contract", "draft", "zz", "--title", "T", "--scope", "S", "--price", "100", "--start", "2026-01-06",
         "--end", end, "--on", "2026-01-06"),
        ("contract", "sign", "zz", "--by", "us", "--on", "2026-01-07"),
        ("contract", "sign", "zz", "--by", "client", "--signer", "Bob", "--on", "2026-01-07"),
        ("change", "request", "zz", "More", "--on", "2026-01-08"),
        ("change", "quote", "zz", "C1", "--price", "1", "--days", "2", "--on", "2026-01-08"),
    ])


def test_a_change_never_moves_an_end_past_the_calendar(acme: Path) -> None:
    in_force_until(acme, "2999-12-30")
    refused(acme, ("change", "approve", "zz", "C1"), 1, "would move the end of contract K1 from 2999-12-30 past"
            " 2999-12-31")


def test_a_store_holding_an_end_at_9999_still_reads(acme: Path, monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    """Recorded before the calendar had bounds (here: with them lifted), the D1 story reads:
    status, check and the dossier print, where they used to fail with OverflowError."""
    with monkeypatch.context() as lifted:
        lifted.setattr(calendar, "LATEST", date.max)
        lifted.setattr(contracts, "LATEST", date.max)
        in_force_until(acme, "9999-12-31")
        ok(acme, "change", "approve", "zz", "C1")
    assert run(acme, "change", "approve", "zz", "C1").code != 0  # bounds back in force
    status = json.loads(ok(acme, "--json", "status", "zz").stdout)
    assert status["contract"]["end"] == "9999-12-31"  # the last day Python has: the end stops there
    ok(acme, "check")
    ok(acme, "status")
    ok(acme, "pdf", "dossier", "zz", "-o", str(tmp_path / "dossier.pdf"), env=KEYED)
    assert (tmp_path / "dossier.pdf").stat().st_size > 1000


def test_date_arithmetic_never_overflows() -> None:
    assert current_end(date(9999, 12, 31), 1) == date.max
    assert calendar.days_after(date.min, -1) == date.min
    assert calendar.days_after(date(2026, 3, 31), 30) == date(2026, 4, 30)
    with pytest.raises(BadInput, match="out of range"):
        calendar.check_day(date(3000, 1, 1))
    assert calendar.check_day(date(2999, 12, 31)) == date(2999, 12, 31)


# --------------------------------------------------------------- D4: no internal exception names

def test_a_file_name_too_long_is_bad_input(acme: Path, tmp_path: Path) -> None:
    refused(acme, ("pdf", "terms", "acme", "-o", str(tmp_path / ("a" * 300 + ".pdf"))), 2, "File name too long",
            env=KEYED)


def test_a_pdf_whose_appended_revision_breaks_the_parser_is_not_readable(acme: Path, tmp_path: Path) -> None:
    signed = tmp_path / "terms.pdf"
    ok(acme, "pdf", "terms", "acme", "-o", str(signed), env=KEYED)
    data = signed.read_bytes()
    tail = (b"1 0 obj\n<< /Type /Catalog >>\nendobj\nxref\n0 1\n0000000000 65535 f \ntrailer\n"
            b"<< /Size 2 /Root 1 0 R >>\nstartxref\n" + str(len(data) + 1).encode() + b"\n%%EOF\n")
    broken = tmp_path / "incr.pdf"
    broken.write_bytes(data + tail)
    refused(acme, ("verify", str(broken)), 2, "not a readable PDF")


# --------------------------------------------------------------- D6: numbers read as meant

@pytest.mark.parametrize("text, value", [
    ("1.234.567", "1234567"), ("8.000,50", "8000.50"),
    ("0.005", "0.005"), ("0,125", "0.125"), ("1234.567", "1234.567"), ("00.001", "0.001"), ("8000,5", "8000.5"),
])
def test_a_lone_separator_groups_thousands_only_after_a_first_group(text: str, value: str) -> None:
    assert parse_number(text) == Decimal(value)


@pytest.mark.parametrize("text", ["8.000", "8,000", "1.500"])
def test_a_lone_separator_before_three_digits_after_a_first_group_is_ambiguous(text: str) -> None:
    """Thousands to some, decimals to others: refused in every number (ADR-65)."""
    for read in (parse_number, parse_hours):
        with pytest.raises(BadInput, match="is ambiguous"):
            read(text)


@pytest.mark.parametrize("text", ["0.123.456", "1.2.3", "12.34.567"])
def test_a_grouping_that_is_none_is_refused(text: str) -> None:
    with pytest.raises(BadInput, match="not a number"):
        parse_number(text)


@pytest.mark.parametrize("text, hours", [("1.50", "1.50"), ("3:30", "3.5"), ("0:01", "0.02"), ("0:20", "0.33"),
                                         ("10:00", "10"), ("1,5", "1.5"), ("2.50h", "2.50")])
def test_hours_of_one_day_never_group_thousands(text: str, hours: str) -> None:
    assert parse_hours(text) == Decimal(hours)
    if ":" in text:  # minutes become hours written as short as they are; a decimal stays as typed
        assert str(parse_hours(text)) == hours


NUMBERS = [
    (("hours", "log", "acme", "0.001"), "kept to the hundredth of an hour"),
    (("hours", "log", "acme", "0.004"), "kept to the hundredth of an hour"),
    (("hours", "log", "acme", "1.999"), "'1.999' is ambiguous"),  # ADR-65
    (("hours", "log", "acme", "0,125"), "kept to the hundredth of an hour"),
    (("hours", "log", "acme", "0:00"), "hours must be positive"),
    (("payment", "record", "acme", "F-2026-001", "0.005"), "EUR amounts have at most 2 decimals"),
    (("payment", "record", "acme", "F-2026-001", "0.125"), "EUR amounts have at most 2 decimals"),
    (("invoice", "issue", "acme", "--amount", "1234.567"), "EUR amounts have at most 2 decimals"),
]


@pytest.mark.parametrize("args, says", NUMBERS, ids=lambda a: "-".join(a) if isinstance(a, tuple) else "")
def test_a_third_decimal_is_not_thousands(acme: Path, args: tuple[str, ...], says: str) -> None:
    refused(acme, args, 2, says)


def last_state(home: Path, topic: str) -> dict:
    """The stored JSON of the last event of a type, read raw."""
    rows = [row for row in store_rows(home) if row[2].endswith(topic)]
    state = rows[-1][3]
    return json.loads(bytes(state).decode("utf-8") if not isinstance(state, str) else state)


def test_a_minute_is_logged_to_the_hundredth(acme: Path) -> None:
    ok(acme, "hours", "log", "acme", "0:01")
    assert last_state(acme, "HoursLogged")["hours"] == "0.02"


# --------------------------------------------------------------- D10: counts are digits only

COUNTS = [
    ("terms", "publish", "acme", "--payment-days", "{}"),
    ("terms", "publish", "acme", "--response-days", "{}"),
    ("terms", "publish", "acme", "--revisions", "{}"),
    ("change", "quote", "acme", "C1", "--price", "300EUR", "--days", "{}"),
    ("invoice", "issue", "acme", "--installment", "{}"),
]


@pytest.mark.parametrize("count", ["1_0", "+30", " 30", "30 ", "-0", "0x1e", "3e1", ""])
@pytest.mark.parametrize("args", COUNTS, ids=lambda a: a[3] if a[0] != "change" else "days")
def test_a_count_is_written_with_digits_only(acme: Path, args: tuple[str, ...], count: str) -> None:
    typed = tuple(count if a == "{}" else a for a in args)
    if args[0] == "invoice" and count == "":
        pytest.skip("an empty --installment is click's own 'requires an argument'")  # pragma: no cover
    refused(acme, typed, 2, "digits 0-9")


@pytest.mark.parametrize("day", ["2026-03-01 ", " 2026-03-01", " yesterday", "today\u00a0"])
def test_a_date_is_written_without_spaces(acme: Path, day: str) -> None:
    refused(acme, ("note", "acme", "Called Laura", "--on", day), 2, "a date")


# --------------------------------------------------------------- D11: empty is not the default

def without_run_s_home(home: Path, args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """`tratos ARGS` as `run` would, but without the --home it passes; its exit code and stderr."""
    from click.testing import CliRunner

    from cli.main import main

    before = snapshot(home)
    settings = {"TRATOS_TODAY": "2026-03-31", "TRATOS_DATABASE_URL": database_of(home), **env}
    with CliRunner().isolation(env=settings) as (out, err, _):
        with pytest.raises(SystemExit) as done:
            main(list(args))  # click consumes the list it is given
        stderr = err.getvalue().decode()
    assert stderr.splitlines() == [stderr.strip()] and stderr.startswith("error: "), stderr
    assert snapshot(home) == before
    return done.value.code, stderr


@pytest.mark.parametrize("args", [["--home", "", "status"], ["--home", "", "note", "acme", "x"]])
def test_an_empty_home_is_not_the_default_home(acme: Path, args: list[str]) -> None:
    code, stderr = without_run_s_home(acme, args, {"TRATOS_HOME": str(acme)})
    assert code == 2 and "--home is empty" in stderr


def test_an_empty_tratos_home_is_not_the_default_home(acme: Path) -> None:
    code, stderr = without_run_s_home(acme, ["note", "acme", "x"], {"TRATOS_HOME": ""})
    assert code == 2 and "TRATOS_HOME is set but empty" in stderr


# --------------------------------------------------------------- D13: nothing invisible

INVISIBLE = {"zwsp": "\u200b", "zwnj": "\u200c", "zwj": "\u200d", "word-joiner": "\u2060", "bom": "\ufeff",
             "soft-hyphen": "\u00ad", "tag-a": "\U000e0041", "invisible-times": "\u2062"}


@pytest.mark.parametrize("kind", INVISIBLE)
@pytest.mark.parametrize("command, what", [
    (lambda t: ("client", "open", "north", "--name", t), "name"),
    (lambda t: ("client", "open", "north", "--name", "North", "--address", t), "address"),
    (lambda t: ("note", "acme", t), "note"),
    (lambda t: ("change", "request", "acme", t), "change description"),
    (lambda t: ("contract", "draft", "acme", "--title", t, "--scope", "S", "--price", "100",
                "--start", "2026-04-01", "--end", "2026-05-01"), "contract title"),
    (lambda t: ("contract", "sign", "acme", "--by", "client", "--signer", t), "signer"),
], ids=["name", "address", "note", "change", "title", "signer"])
def test_an_invisible_character_is_refused_in_every_text(acme: Path, kind: str, command, what: str) -> None:
    refused(acme, command(f"Ac{INVISIBLE[kind]}me"), 2, f"{what} contains an invisible formatting character")


@pytest.mark.parametrize("email, says", [
    (" ", "--email is empty"), ("laura", "not an email address"), ("laura at acme.test", "not an email address"),
    ("Laura <laura@acme.test>", "not an email address"), ("a@b@c", "not an email address"),
    ("@acme.test", "not an email address"), ("laura@", "not an email address"),
    ("la\u200bura@acme.test", "email contains an invisible formatting character"),
    ("laura@acme.test\u202e", "email contains a bidirectional control character"),
])
def test_an_email_is_checked_as_an_email(acme: Path, email: str, says: str) -> None:
    refused(acme, ("client", "open", "north", "--name", "North", "--email", email), 2, says)


@pytest.mark.parametrize("args", [("client", "open", "north", "--name", "North", "--address", "  "),
                                  ("terms", "publish", "acme", "--hours", " ")], ids=["address", "hours"])
def test_a_text_given_blank_is_not_a_text_left_out(acme: Path, args: tuple[str, ...]) -> None:
    refused(acme, args, 2, "--address is empty" if "--address" in args else "--hours is empty")


@pytest.mark.parametrize("args", [
    ("client", "open", "parsa", "--name", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 SL"),  # ZWNJ in Persian
    ("note", "acme", "Laura \U0001f469\u200d\U0001f4bb sent the files"),                         # an emoji sequence
    ("client", "open", "north", "--name", "North", "--email", "laura@acme.test"),
], ids=["persian-zwnj", "emoji-zwj", "email"])
def test_joiners_where_scripts_need_them_are_kept(acme: Path, args: tuple[str, ...]) -> None:
    ok(acme, *args)


def test_the_text_policy_reads_what_was_recorded_before_it() -> None:
    from domain.model.values import texts_as_recorded

    with texts_as_recorded():
        assert check_text("Ac\u200bme", "name") == "Ac\u200bme"
        assert check_text("  ", "email", required=False) == ""


# --------------------------------------------------------------- D7: certificates nobody checked

HOSTILE_CN = "Evil\u202e\x1b[31m\nName"


def hostile_identity(tmp_path: Path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOSTILE_CN)])
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=300))
                   .add_extension(x509.KeyUsage(
                       digital_signature=True, content_commitment=True, key_encipherment=False,
                       data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                       encipher_only=False, decipher_only=False), critical=True)
                   .sign(key, hashes.SHA256()))
    path = tmp_path / "ctrlcn.p12"
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"evil", key, certificate, None, serialization.BestAvailableEncryption(KEYED["TRATOS_KEY_PASSPHRASE"].encode())))
    return path, key, certificate


def test_a_certificate_whose_subject_would_not_show_as_it_is_is_not_imported(acme: Path, tmp_path: Path) -> None:
    p12, _, _ = hostile_identity(tmp_path)
    key_files = {p.name: p.read_bytes() for p in acme.iterdir() if p.suffix in (".p12", ".pem")}
    stderr = refused(acme, ("identity", "import", str(p12), "--force"), 2, "CN=Evil\\u202e\\x1b[31m\\x0aName",
                     env=KEYED)
    assert "\x1b" not in stderr and "\u202e" not in stderr
    assert {p.name: p.read_bytes() for p in acme.iterdir() if p.suffix in (".p12", ".pem")} == key_files


def test_verify_shows_a_stranger_s_certificate_escaped(acme: Path, tmp_path: Path) -> None:
    """A PDF someone else signed: their certificate's subject is their text, printed escaped."""
    from pyhanko.keys.internal import (
        translate_pyca_cryptography_cert_to_asn1,
        translate_pyca_cryptography_key_to_asn1,
    )
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    unsigned = tmp_path / "terms.pdf"
    ok(acme, "pdf", "terms", "acme", "--unsigned", "-o", str(unsigned))
    _, key, certificate = hostile_identity(tmp_path)
    signer = signers.SimpleSigner(signing_cert=translate_pyca_cryptography_cert_to_asn1(certificate),
                                  signing_key=translate_pyca_cryptography_key_to_asn1(key), cert_registry=None)
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(unsigned.read_bytes())),
                           signers.PdfSignatureMetadata(field_name="Evil\u202eField",
                                                        subfilter=fields.SigSeedSubFilter.PADES), signer=signer)
    signed = tmp_path / "signed.pdf"
    signed.write_bytes(out.getvalue())
    outcome = run(acme, "verify", str(signed))
    assert "CN=Evil\\u202e\\x1b[31m\\x0aName" in outcome.stdout, outcome.stdout
    assert "Evil\\u202eField" in outcome.stdout
    for raw in ("\x1b", "\u202e"):
        assert raw not in outcome.stdout + outcome.stderr
    assert len(outcome.stderr_lines) <= 1


def test_visible_escapes_what_a_terminal_would_not_show_as_it_is() -> None:
    assert visible("Evil\u202e\x1b[31m\nName\u200b") == "Evil\\u202e\\x1b[31m\\x0aName\\u200b"
    assert visible("Pérez \U0001f469\u200d\U0001f4bb") == "Pérez \U0001f469\u200d\U0001f4bb"
    assert visible("a\u200db") == "a\\u200db"


# --------------------------------------------------------------- D8: email headers kept visible

def test_an_email_s_headers_are_cited_escaped(acme: Path, tmp_path: Path) -> None:
    mail = tmp_path / "evil.eml"
    mail.write_bytes(b"From: Evil \x1b[31m <e@x.test>\r\nTo: ana@example.com\r\n"
                     b"Subject: =?utf-8?b?4oCuZXZpbA==?=\r\nDate: Mon, 2 Mar 2026 10:00:00 +0000\r\n\r\nbody\r\n")
    ok(acme, "note", "acme", "An email", "--evidence", str(mail))
    headers = last_state(acme, "NoteRecorded")["evidence"][0]["headers"]
    assert headers["subject"] == "\\u202eevil"
    assert "\x1b" not in headers["from"] and "\\x1b" in headers["from"]
    timeline = run(acme, "timeline", "acme").stdout
    assert "\u202e" not in timeline and "\x1b" not in timeline


# --------------------------------------------------------------- D14, D15: where output goes

OUTPUTS = {
    "missing-folder": ("{tmp}/nowhere/x.pdf", 2, "there is no folder"),
    "dash": ("-", 2, "- is not a file name here"),
    "newline": ("{tmp}/a\nb.pdf", 2, "cannot write {tmp}/a\\x0ab.pdf: the name holds"),
    "bidi": ("{tmp}/fdp.\u202eexe.pdf", 2, "the name holds"),
    "empty": ("", 2, "is empty"),  # "--output is empty" (every option, ADR-54); export's FILE: "the output file name"
    "too-long": ("{tmp}/" + "b" * 300 + ".pdf", 2, "File name too long"),
    "folder": ("{tmp}", 2, "is a directory"),
}


@pytest.mark.parametrize("case", OUTPUTS)
@pytest.mark.parametrize("command", [("pdf", "terms", "acme"), ("remind", "acme", "F-2026-001")],
                         ids=["pdf", "remind"])
def test_an_output_path_is_checked_before_anything_is_recorded(acme: Path, tmp_path: Path, case: str,
                                                               command: tuple[str, ...]) -> None:
    path, code, says = OUTPUTS[case]
    folder = tmp_path / "out"
    folder.mkdir()
    refused(acme, (*command, "-o", path.format(tmp=folder)), code, says.format(tmp=folder), env=KEYED)
    assert sorted(p.name for p in folder.iterdir()) == []


@pytest.mark.parametrize("case", ["missing-folder", "dash", "newline", "too-long", "folder"])
def test_an_export_path_is_checked_the_same_way(acme: Path, tmp_path: Path, case: str) -> None:
    path, code, says = OUTPUTS[case]
    folder = tmp_path / "out"
    folder.mkdir()
    refused(acme, ("export", path.format(tmp=folder)), code, says.format(tmp=folder))
    assert sorted(p.name for p in folder.iterdir()) == []


def test_export_to_a_pipe_says_it_is_one(acme: Path, tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "stdout"
    link.symlink_to(fifo)  # what /dev/stdout is when piped: a link to a pipe
    refused(acme, ("export", str(link)), 2, "it is a FIFO (named pipe), not a regular file")


def test_a_read_only_place_is_exit_1_as_a_read_only_store_is(acme: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Root writes anywhere, so the file system's answer is played: EROFS when the file is made."""
    import errno

    from domain.adapters import files

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(files, "_made", read_only)
    refused(acme, ("pdf", "terms", "acme", "-o", str(tmp_path / "t.pdf")), 1, "Read-only file system; nothing was"
            " written", env=KEYED)
    refused(acme, ("export", str(tmp_path / "e.jsonl")), 1, "Read-only file system")
    refused(acme, ("init", "--force", "--name", "Ana", "--email", "ana@example.com"), 1, "Read-only file system")


# --------------------------------------------------------------- D16: import in plain words

def test_values_in_messages_are_shown_as_tratos_prints_them() -> None:
    from domain.model.money import Money

    assert shown(Money.of("1.00", "EUR")) == "1.00 EUR"
    assert shown(date(2026, 3, 20)) == "2026-03-20"
    assert shown([Money.of("1", "EUR")]) == "[1.00 EUR]"
    assert shown([]) == "[]" and shown(None) == "none" and shown(Decimal("2.50")) == "2.50"


IMPORTS = {
    "date-garbage": (("occurred_on",), "x", "occurred_on: Input should be a valid date"),
    "timestamp-garbage": (("timestamp",), "x", "timestamp: Input should be a valid datetime"),
    "extra-key": (("extra",), 1, "extra: a key tratos never writes (given 1)"),
    "nested-extra": (("client", "extra"), "x", "client.extra: a key tratos never writes"),
}


@pytest.fixture
def exported(module_store, store, tmp_path: Path) -> list[str]:
    """The template's export, line by line; the test's own store stays empty, to import into."""
    spec = template(module_store, store.backend)
    path = tmp_path / "all.jsonl"
    with use_database(Path(spec.home), spec.database_url) as home:
        ok(home, "export", str(path))
    return path.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("case", IMPORTS)
def test_an_import_that_does_not_load_says_why_in_plain_words(exported: list[str], store, tmp_path: Path,
                                                               case: str) -> None:
    from uuid import UUID

    from forger import seal

    where, value, says = IMPORTS[case]
    header, records, end = exported[0], [json.loads(line) for line in exported[1:-1]], exported[-1]
    stream = records[0]["stream"]
    mine = [r for r in records if r["stream"] == stream]
    target = mine[0]["state"]  # the opening of acme
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    resealed = seal(UUID(stream), [(r["version"], r["topic"], {k: v for k, v in r["state"].items() if k != "digest"})
                                   for r in mine])
    for record, (_, _, state) in zip(mine, resealed, strict=True):
        record["state"] = state
    path = tmp_path / "forged.jsonl"
    path.write_text("\n".join([header, *(json.dumps(r, ensure_ascii=False) for r in records), end]) + "\n",
                    encoding="utf-8")
    with use_database(Path(store.home), store.database_url) as empty:
        stderr = refused(empty, ("import", str(path)), 1, says)
    assert "forged.jsonl line 2: RelationshipOpened v1" in stderr
    assert "validation error" not in stderr and "pydantic" not in stderr and "[type=" not in stderr
