"""Hostile input: dates after today, text that shows otherwise than it is stored, digits other than 0-9.

Each bad input is refused with one `error:` line and the right exit code, and leaves the stored
events, the evidence folder and identity.json as they were, on both backends (ADR-26). The
accepted-with-a-warning case (an invoice beyond the contract) prints exactly one `warning:` line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import (
    IN_FORCE,
    TODAY,
    copied,
    recorded_template,  # noqa: E402
    refused,
    run,
    snapshot,
    store_args,
    store_rows,
)

HISTORY = IN_FORCE + [
    ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15"),        # F-2026-001, 4000 EUR
    ("change", "request", "acme", "More pages", "--on", "2026-01-20"),              # C1
    ("mistake", "report", "acme", "Broken link", "--by", "client", "--on", "2026-02-02"),  # M1
]
AFTER_TODAY = "is after today (2026-03-31 on this machine)"
HEX = "ab" * 32


@pytest.fixture
def acme(module_store, store) -> Iterator[Path]:
    """acme in force, one invoice, one change, one mistake: a private copy per test and backend."""
    with copied(recorded_template(module_store, store.backend, "hostile-inputs", HISTORY), store) as home:
        yield home


# --------------------------------------------------------------- 3: business dates after today

FUTURE = [
    ("payment", "record", "acme", "F-2026-001", "4000EUR", "--on", "2099-01-01"),
    ("note", "acme", "Called Laura", "--on", "2999-12-31"),
    ("client", "open", "north", "--name", "North Wind SL", "--on", "2030-01-01"),
    ("invoice", "issue", "acme", "--installment", "2", "--on", "2027-01-05"),
    ("hours", "log", "acme", "3", "--on", "2026-04-01"),
    ("change", "request", "acme", "A blog", "--on", "2026-04-01"),
    ("mistake", "report", "acme", "Typo", "--by", "client", "--on", "2026-12-31"),
    ("mistake", "ack", "acme", "M1", "--on", "2026-04-02"),
    ("terms", "publish", "acme", "--rate", "70/h", "--on", "2026-06-01"),
    ("contract", "complete", "acme", "--on", "2026-05-01"),
    ("end", "acme", "--reason", "Done", "--on", "2026-04-30"),
    ("check", "--today", "2026-04-01"),
]


@pytest.mark.parametrize("args", FUTURE, ids=lambda a: "-".join(a[:2]))
def test_a_business_date_after_today_is_refused(acme: Path, args: tuple[str, ...]) -> None:
    refused(acme, args, 1, AFTER_TODAY)


def test_planned_dates_have_their_own_fields(acme: Path) -> None:
    """A due date, like a contract's start, end and installments, is not the date of the event."""
    outcome = run(acme, "invoice", "issue", "acme", "--installment", "2", "--due", "2026-12-31")
    assert outcome.code == 0, outcome.stderr


def test_todays_status_never_counts_what_is_dated_after_today(acme: Path) -> None:
    """A payment dated 2099 (recorded on a machine whose clock said so) does not pay today's invoice."""
    later = run(acme, "payment", "record", "acme", "F-2026-001", "4000EUR", "--on", "2099-01-01",
                env={"TRATOS_TODAY": "2099-01-01"})
    assert later.code == 0, later.stderr
    for command in (("status", "acme"), ("status",)):
        plain = json.loads(run(acme, "--json", *command).stdout)
        as_of_today = json.loads(run(acme, "--json", *command, "--as-of", TODAY).stdout)
        assert plain == as_of_today
    invoice = json.loads(run(acme, "--json", "status", "acme").stdout)["invoices"][0]
    assert invoice["number"] == "F-2026-001" and invoice["paid"]["amount"] == "0.00"


def test_todays_check_never_counts_what_is_dated_after_today(acme: Path) -> None:
    """The same payment dated 2099: today's check still lists F-2026-001 as a late payment.

    (It does not mark it late: the aggregate judges "overdue" on the whole record, and refuses.)
    """
    later = run(acme, "payment", "record", "acme", "F-2026-001", "4000EUR", "--on", "2099-01-01",
                env={"TRATOS_TODAY": "2099-01-01"})
    assert later.code == 0, later.stderr
    checked = json.loads(run(acme, "--json", "check").stdout)
    late = [a for a in checked["actions"] if a["kind"] == "late_payment"]
    assert [(a["ref"], a["amount"]["amount"]) for a in late] == [("F-2026-001", "4000.00")]
    # and it says why `remind` and `payment record` see it paid: they count the whole record
    outcome = run(acme, "check")
    assert outcome.stderr_lines == [
        f"warning: the store holds events dated after {TODAY}, up to 2099-01-01: this list leaves them out,"
        " the commands that record count them; if this machine's date is behind, correct its clock"], outcome.stderr


# --------------------------------------------------------------- 9: what the environment says

@pytest.mark.parametrize("pinned", ["garbage", "2026-02-30", "2026-3-1", "31/03/2026", "٢٠٢٦-٠٣-٣١"])
@pytest.mark.parametrize("args", [("status", "acme"), ("note", "acme", "Called Laura")], ids=["status", "note"])
def test_a_today_that_is_not_a_date_is_bad_input(acme: Path, pinned: str, args: tuple[str, ...]) -> None:
    refused(acme, args, 2, "TRATOS_TODAY is", env={"TRATOS_TODAY": pinned})


NOT_UTF8 = [
    (b"note", b"acme", b"caf\xe9 con Laura"),
    (b"client", b"open", b"north", b"--name", b"North \xff Wind"),
    (b"client", b"open", b"n\xf6rth", b"--name", b"North"),
    (b"change", b"request", b"acme", b"\xc3\x28 more"),
]


@pytest.mark.parametrize("args", NOT_UTF8, ids=lambda a: a[0].decode() + "-" + a[1].decode())
def test_an_argument_that_is_not_utf8_is_bad_input(acme: Path, args: tuple[bytes, ...]) -> None:
    """The real console script, given bytes (Python keeps them as lone surrogates)."""
    before = snapshot(acme)
    script = Path(sys.executable).with_name("tratos")
    env = {**os.environ, "TRATOS_TODAY": TODAY, "LC_ALL": "C.UTF-8", "PYTHONUTF8": "1"}
    env.pop("TRATOS_DEBUG", None)
    done = subprocess.run([bytes(script), *(a.encode() for a in store_args(acme)), *args],
                          env=env, capture_output=True, timeout=120)
    stderr = done.stderr.decode("utf-8")
    assert done.returncode == 2, stderr
    assert len(stderr.splitlines()) == 1 and stderr.startswith("error: an argument is not UTF-8 text")
    assert snapshot(acme) == before


# --------------------------------------------------------------- 12: one text policy

BAD_TEXT = {
    "newline": ("North\nWind", "is one line"),
    "tab": ("North\tWind", "is one line"),
    "line-separator": ("North\u2028Wind", "is one line"),
    "rlo": ("North\u202eWind", "contains a bidirectional control character (U+202E)"),
    "lre": ("North\u202aWind", "contains a bidirectional control character (U+202A)"),
    "rli": ("North\u2067Wind", "contains a bidirectional control character (U+2067)"),
    "pdi": ("North\u2069Wind", "contains a bidirectional control character (U+2069)"),
    "rlm": ("North\u200fWind", "contains a bidirectional control character (U+200F)"),
    "alm": ("North\u061cWind", "contains a bidirectional control character (U+061C)"),
    "escape": ("North\x1b[31mWind", "contains control characters"),
    "c1-csi": ("North\x9b31mWind", "contains control characters"),
    "nul": ("North\x00Wind", "contains control characters"),
}


@pytest.mark.parametrize("kind", BAD_TEXT)
def test_a_name_shows_as_it_is_stored(acme: Path, kind: str) -> None:
    text, message = BAD_TEXT[kind]
    refused(acme, ("client", "open", "north", "--name", text), 2, f"name {message}")


MULTILINE_BAD = ["rlo", "rli", "rlm", "escape", "c1-csi"]


@pytest.mark.parametrize("kind", MULTILINE_BAD)
@pytest.mark.parametrize("command", [
    lambda t: ("note", "acme", t),
    lambda t: ("change", "request", "acme", t),
    lambda t: ("mistake", "report", "acme", t, "--by", "client"),
    lambda t: ("mistake", "ack", "acme", "M1", "--apology", t),
], ids=["note", "change", "mistake", "apology"])
def test_a_longer_text_shows_as_it_is_stored_too(acme: Path, kind: str, command) -> None:
    text, message = BAD_TEXT[kind]
    refused(acme, command(text), 2, message)


@pytest.mark.parametrize("args, what", [
    (("invoice", "issue", "acme", "--installment", "2", "--concept", "Phase\n2"), "concept"),
    (("terms", "publish", "acme", "--hours", "9-17\nMon-Fri"), "working hours"),
    (("contract", "sign", "acme", "--by", "client", "--signer", "Laura\nPérez"), "signer"),
    (("client", "open", "north", "--name", "North", "--email", "a@b.c\u202e"), "email"),
])
def test_every_single_line_field_follows_the_policy(acme: Path, args: tuple[str, ...], what: str) -> None:
    refused(acme, args, 2, what)


def test_a_multiline_note_keeps_its_lines(acme: Path) -> None:
    outcome = run(acme, "note", "acme", "Called Laura.\nShe agreed to the new date.")
    assert outcome.code == 0, outcome.stderr


# --------------------------------------------------------------- 12: digits are 0-9

DIGITS = [
    ("invoice", "issue", "acme", "--amount", "٤٠٠٠EUR"),
    ("invoice", "issue", "acme", "--amount", "４０００EUR"),
    ("invoice", "issue", "acme", "--amount", "۴۰۰۰ EUR"),
    ("payment", "record", "acme", "F-2026-001", "٤٠٠٠€"),
    ("note", "acme", "Called Laura", "--on", "٢٠٢٦-٠٣-٠١"),
    ("note", "acme", "Called Laura", "--on", "２０２６-０３-０１"),
    ("hours", "log", "acme", "٣"),
    ("hours", "log", "acme", "３:３０"),
    ("invoice", "issue", "acme", "--installment", "٢"),
    ("terms", "publish", "acme", "--payment-days", "٣٠"),
    ("terms", "publish", "acme", "--weekly-hours", "３０"),
    ("terms", "publish", "acme", "--rate", "٦٠/h"),
    ("change", "quote", "acme", "C1", "--price", "300EUR", "--days", "٣"),
    ("invoice", "issue", "acme", "--amount", "100EUR", "--due", "٢٠٢٦-٠٥-٠١"),
    ("status", "acme", "--as-of", "٢٠٢٦-٠٣-٠١"),
]


@pytest.mark.parametrize("args", DIGITS, ids=lambda a: "-".join(a[:2]) + "-" + a[-1])
def test_numbers_are_written_with_the_digits_0_to_9(acme: Path, args: tuple[str, ...]) -> None:
    refused(acme, args, 2, "with the digits 0-9")


# --------------------------------------------------------------- 12: notations hold no control characters

NOTATIONS = [
    (("terms", "publish", "acme", "--rate", "60/h\n"), "an hourly rate contains a control character (U+000A)"),
    (("terms", "publish", "acme", "--rate", "60\t/h"), "contains a control character (U+0009)"),
    (("terms", "publish", "acme", "--late-fee", "statutory\n"), "a late fee contains a control character"),
    (("terms", "publish", "acme", "--late-fee", "5%\r"), "contains a control character (U+000D)"),
    (("terms", "publish", "acme", "--reference-rate", "3%\n"), "a reference rate contains a control character"),
    (("invoice", "issue", "acme", "--amount", "100EUR\n"), "an amount contains a control character"),
    (("invoice", "issue", "acme", "--amount", "100\u200bEUR"), "contains a control character (U+200B)"),
    (("payment", "record", "acme", "F-2026-001", "\x1b[31m4000EUR"), "contains a control character (U+001B)"),
    (("hours", "log", "acme", "3\n"), "hours contains a control character"),
    (("note", "acme", "Called Laura", "--on", "2026-03-01\n"), "a date contains a control character"),
    (("status", "acme", "--as-of", "2026-03-01\t"), "a date contains a control character"),
    (("change", "quote", "acme", "C1", "--price", "300EUR\u2028", "--days", "3"), "control character (U+2028)"),
]


@pytest.mark.parametrize("args, says", NOTATIONS, ids=[f"notation-{n}" for n in range(len(NOTATIONS))])
def test_a_notation_with_a_control_character_is_refused_not_stripped(acme: Path, args: tuple[str, ...],
                                                                      says: str) -> None:
    """One rule for every notation: spaces around it are forgiven, a newline or escape is not."""
    refused(acme, args, 2, says)


# --------------------------------------------------------------- 14: empty signer, anchors

@pytest.mark.parametrize("signer", ["", "   "])
def test_an_empty_signer_is_not_the_default_signer(acme: Path, signer: str) -> None:
    refused(acme, ("contract", "sign", "acme", "--by", "client", "--signer", signer), 2, "signer is empty")


@pytest.mark.parametrize("anchor, broken", [
    (f"tratos-anchor v1 acme 99 {HEX}", "acme broken at v"),
    (f"tratos-anchor v1 ghost 3 {HEX}", "ghost broken at v1"),
], ids=["version-beyond-the-log", "unknown-client"])
def test_an_anchor_the_store_does_not_hold_fails_with_an_error_line(acme: Path, anchor: str, broken: str) -> None:
    """Nothing of the record changes; the Verifactu checks the audit ran are logged (no-verifactu, ADR-60)."""
    from domain.model.streams import events_id

    def recorded() -> list:
        return [row for row in store_rows(acme) if str(row[0]).replace("-", "") != events_id("12345678Z").hex]

    before, logged = recorded(), len(store_rows(acme)) - len(recorded())
    outcome = run(acme, "audit", "verify", "--anchor", anchor)
    assert (outcome.code, outcome.stderr) == (1, f"error: the store does not verify: {broken}"
                                                 f"{outcome.stderr.partition(broken)[2]}")
    assert len(outcome.stderr_lines) == 1
    assert recorded() == before
    assert len(store_rows(acme)) - len(before) == logged + 2  # the records' check (03) and the log's (05)


# --------------------------------------------------------------- 15: invoices beyond the contract

def test_an_invoice_far_above_the_contract_is_recorded_with_a_warning(acme: Path) -> None:
    before = len(store_rows(acme))
    outcome = run(acme, "invoice", "issue", "acme", "--amount", "99999999EUR")
    assert outcome.code == 0, outcome.stderr
    contract, unsigned = outcome.stderr_lines  # this store has no signing key (UNSIGNED below)
    assert contract.startswith("warning: invoices of K1 now total") and unsigned == UNSIGNED.format(acme)
    assert "beyond its total of 8000.00 EUR" in outcome.stderr
    assert len(store_rows(acme)) > before


# This store was made without a signing key: each billing record is kept unsigned, and says so (ADR-59).
UNSIGNED = ("warning: no signing key in {}/identity.p12: the Verifactu record is kept unsigned, which the"
            " no-verifactu mode does not allow (set one up with `tratos init` or `tratos identity import`)")


def test_invoicing_up_to_the_contract_total_says_nothing(acme: Path) -> None:
    outcome = run(acme, "invoice", "issue", "acme", "--installment", "2")
    assert outcome.code == 0 and outcome.stderr_lines == [UNSIGNED.format(acme)]  # nothing of the contract
