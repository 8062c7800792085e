"""The fourteenth adversarial run (issue 19, ADR-80): what it found, fixed where each rule lives.

1. an address outside ASCII, which no SMTP server without SMTPUTF8 takes, crashed `send` and
   `follow-up` (and lost the reminder it had claimed): refused when typed, a failed sending when
   recorded before, and a follow-up step is released whatever stops its sending;
2. `identity mail` wrote a value with its trailing line break, as typed, not as checked;
3. a correction after a change of tax id named the new NIF as the corrected invoice's issuer;
4. amounts of thirteen digits, which no billing record can state, were accepted;
5. a port and a year in other digits than 0-9 (`５８７`, `2_026`) were read as numbers;
6. a module missing from the installation was a Python exception name.

Each refusal is one `error:` line, its exit code and the store unchanged, on both backends.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from cli_support import IN_FORCE, copied, ok, open_store, recorded_template, refused, run

HISTORY = IN_FORCE + [
    ("client", "update", "acme", "--email", "laura@acme.test", "--on", "2026-01-12"),
    ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15"),  # F-2026-001, due 2026-02-14
]


@pytest.fixture
def acme(module_store, store) -> Iterator[Path]:
    with copied(recorded_template(module_store, store.backend, "hostile-fourteenth-run", HISTORY), store) as home:
        yield home


# ------------------------------------------------------------------ 1. addresses outside ASCII

@pytest.mark.parametrize("args", [
    ("client", "update", "acme", "--email", "läura@acme.test"),
    ("client", "update", "acme", "--email", "laura@äcme.de"),
    ("identity", "mail", "--host", "smtp.example.com", "--user", "ana", "--from", "ä@c.d"),
    ("send", "acme", "invoice", "F-2026-001", "--to", "ä@c.d", "--dry-run", "-o", "x.eml"),
], ids=["client-local", "client-domain", "mail-from", "send-to"])
def test_an_address_outside_ascii_is_refused_when_typed(acme: Path, args: tuple[str, ...]) -> None:
    refused(acme, args, 2, "an email address tratos can send to is in ASCII letters")


def test_an_address_outside_ascii_recorded_before_is_a_sending_that_failed(tmp_path: Path) -> None:
    from mail_server import MailServer

    from domain.adapters.smtp import MailSettings, SendFailed, deliver

    server = MailServer(tmp_path, tls=False).start()
    try:
        settings = MailSettings(host="127.0.0.1", port=server.port, security="none", user="",
                                from_address="ana@example.com")
        with pytest.raises(SendFailed, match="'läura@acme.test' is not in ASCII letters.*nothing was sent"):
            deliver(settings, None, ["läura@acme.test"], b"Subject: x\r\n\r\nx\r\n")
        assert server.received == []
    finally:
        server.stop()


def test_a_follow_up_step_is_released_whatever_stops_its_sending(acme: Path) -> None:
    from domain.services.follow_up import run_follow_up

    ok(acme, "terms", "publish", "acme", "--rate", "60/h", "--payment-days", "30", "--remind-before", "3",
       "--on", "2026-01-16")

    def broken(letter):  # noqa: ANN001, ANN202 - a composition that fails as no TratosError does
        raise ValueError("Header values may not contain linefeed or carriage return characters")

    def never(recipients, content):  # noqa: ANN001, ANN202
        raise AssertionError("nothing is delivered")

    app = open_store(acme)
    try:
        with pytest.raises(ValueError):
            run_follow_up(app, ["acme"], broken, never, from_address="ana@example.com", from_name="Ana",
                          lang="en", today=date(2026, 2, 11))
    finally:
        app.close()
    due = run(acme, "--json", "follow-up", "--dry-run", "--today", "2026-02-11")
    assert due.code == 0 and json.loads(due.stdout)["due"], due.stdout  # released: due again, not taken


# ------------------------------------------------------------------ 2. identity mail writes what it checked

@pytest.mark.parametrize("option, key", [("--from-name", "mail_from_name"), ("--user", "smtp_user"),
                                         ("--from", "mail_from")])
def test_identity_mail_keeps_a_value_as_checked(acme: Path, option: str, key: str) -> None:
    value = "ana@example.com" if option != "--from-name" else "Ana García"
    ok(acme, "identity", "mail", "--host", "smtp.example.com", option, value + "\n")
    assert json.loads((acme / "identity.json").read_text(encoding="utf-8"))[key] == value


# ------------------------------------------------------------------ 3. a correction's issuer

def test_a_correction_is_issued_by_whoever_issued_the_invoice(acme: Path) -> None:
    ok(acme, "identity", "invoicing", "--tax-id", "B12345674")
    refused(acme, ("invoice", "correct", "acme", "F-2026-001", "--reason", "x", "--amount", "-10EUR", "--on",
                   "2026-01-20"), 1, "F-2026-001 was issued as 12345678Z, and your tax id is now B12345674")


# ------------------------------------------------------------------ 4. twelve digits

@pytest.mark.parametrize("billed", [("--amount", "1000000000000EUR"),
                                    ("--line", "Work", "--quantity", "1000", "--unit-price", "1000000000EUR")],
                         ids=["amount", "lines"])
def test_an_invoice_stays_within_what_a_billing_record_states(acme: Path, billed: tuple[str, ...]) -> None:
    refused(acme, ("invoice", "issue", "acme", *billed, "--on", "2026-01-20"), 2,
            "an invoice's amounts stay under 1,000,000,000,000")


# ------------------------------------------------------------------ 5. digits 0-9

@pytest.mark.parametrize("args", [
    ("identity", "mail", "--host", "smtp.example.com", "--port", "５８７"),
    ("identity", "mail", "--host", "smtp.example.com", "--port", "5_87"),
    ("verifactu", "export", "--year", "２０２６", "-o", "x.xml"),
    ("verifactu", "export", "--year", "2_026", "-o", "x.xml"),
    ("verifactu", "export", "--year", "+2026", "-o", "x.xml"),
    ("verifactu", "events", "--year", "２０２６", "-o", "folder"),
], ids=["port-fullwidth", "port-underscore", "year-fullwidth", "year-underscore", "year-plus", "events-year"])
def test_a_number_is_written_with_the_digits_0_to_9(acme: Path, args: tuple[str, ...]) -> None:
    refused(acme, args, 2, "the digits 0-9")


@pytest.mark.parametrize("host", ["256.1.1.1", "1.2.3.4.5", "0x7f.1"])
def test_a_host_name_does_not_end_in_a_number(acme: Path, host: str) -> None:
    refused(acme, ("identity", "mail", "--host", host), 2, f"not a host name: {host!r}")


# ------------------------------------------------------------------ 6. a module missing

def test_a_module_missing_from_the_installation_is_named(acme: Path, monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # as if it were not installed: importing it fails
    refused(acme, ("invoice", "book", "--year", "2026", "-o", str(tmp_path / "book.xlsx")), 1,
            "this installation of tratos lacks the module openpyxl, which it needs: install tratos again")
