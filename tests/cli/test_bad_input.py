"""Bad input and refused commands: one clear line, the right exit code, and nothing stored.

One store with a realistic history is recorded once per backend through the
CLI; each case runs on a private copy of its folder and compares every row of
the stored events table (and the evidence folder, and identity.json) before
and after. On sqlite the copy includes the database file; on postgres every
case works on the one schema the history was recorded in (each case checks
that it changed nothing, so none can hide behind another).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from backends import StoreSpec
from cli_support import IN_FORCE, evidence_files, run, store_rows, use_database, write_eml

CLIENT_EML = "client.eml"

HISTORY = IN_FORCE + [
    ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15"),            # F-2026-001
    ("change", "request", "acme", "Requested only", "--on", "2026-01-20"),              # C1 requested
    ("change", "request", "acme", "Quoted", "--on", "2026-01-20"),                      # C2 quoted
    ("change", "quote", "acme", "C2", "--price", "300EUR", "--on", "2026-01-21"),
    ("change", "request", "acme", "Approved", "--on", "2026-01-20"),                    # C3 approved
    ("change", "quote", "acme", "C3", "--price", "600EUR", "--hours", "10", "--on", "2026-01-21"),
    ("change", "approve", "acme", "C3", "--on", "2026-01-22"),
    ("change", "request", "acme", "Rejected", "--on", "2026-01-20"),                    # C4 rejected
    ("change", "quote", "acme", "C4", "--price", "100EUR", "--on", "2026-01-21"),
    ("change", "reject", "acme", "C4", "--on", "2026-01-22"),
    ("change", "request", "acme", "Withdrawn", "--on", "2026-01-20"),                   # C5 withdrawn
    ("change", "withdraw", "acme", "C5", "--on", "2026-01-21"),
    ("mistake", "report", "acme", "Reported", "--by", "client", "--on", "2026-02-02"),   # M1 reported
    ("mistake", "report", "acme", "Acked", "--by", "client", "--on", "2026-02-02"),      # M2 acknowledged
    ("mistake", "ack", "acme", "M2", "--on", "2026-02-02"),
    ("mistake", "report", "acme", "Diagnosed", "--by", "us", "--on", "2026-02-02"),      # M3 diagnosed
    ("mistake", "ack", "acme", "M3", "--on", "2026-02-02"),
    ("mistake", "diagnose", "acme", "M3", "--fault", "ours", "--cause", "c", "--on", "2026-02-03"),
    ("mistake", "report", "acme", "Proposed", "--by", "us", "--on", "2026-02-02"),       # M4 remedy_proposed
    ("mistake", "ack", "acme", "M4", "--on", "2026-02-02"),
    ("mistake", "diagnose", "acme", "M4", "--fault", "shared", "--cause", "c", "--on", "2026-02-03"),
    ("mistake", "propose", "acme", "M4", "Option one", "--on", "2026-02-03"),
    ("mistake", "report", "acme", "Chosen", "--by", "us", "--on", "2026-02-02"),         # M5 remedy_chosen
    ("mistake", "ack", "acme", "M5", "--on", "2026-02-02"),
    ("mistake", "diagnose", "acme", "M5", "--fault", "client", "--cause", "c", "--on", "2026-02-03"),
    ("mistake", "propose", "acme", "M5", "Option one", "--on", "2026-02-03"),
    ("mistake", "choose", "acme", "M5", "O1", "--agreed", "--on", "2026-02-04"),
    ("mistake", "report", "acme", "Resolved", "--by", "us", "--on", "2026-02-02"),       # M6 resolved + lesson
    ("mistake", "ack", "acme", "M6", "--on", "2026-02-02"),
    ("mistake", "diagnose", "acme", "M6", "--fault", "ours", "--cause", "c", "--on", "2026-02-03"),
    ("mistake", "propose", "acme", "M6", "Option one", "--on", "2026-02-03"),
    ("mistake", "choose", "acme", "M6", "O1", "--agreed", "--on", "2026-02-04"),
    ("mistake", "resolve", "acme", "M6", "--on", "2026-02-05"),
    ("mistake", "lesson", "acme", "M6", "Check twice", "--on", "2026-02-05"),
    ("payment", "record", "acme", "F-2026-001", "4000EUR", "--on", "2026-02-10"),
    ("invoice", "issue", "acme", "--installment", "2", "--on", "2026-02-15"),            # F-2026-002 open
    ("hours", "log", "acme", "5", "--on", "2026-02-16"),
    # beta: K1 superseded by K2, which only we signed
    ("client", "open", "beta", "--name", "Beta SA", "--on", "2026-01-05"),
    ("contract", "draft", "beta", "--title", "One", "--scope", "S", "--price", "100EUR",
     "--start", "2026-02-01", "--end", "2026-02-28", "--on", "2026-01-10"),
    ("contract", "draft", "beta", "--title", "Two", "--scope", "S", "--price", "200EUR",
     "--start", "2026-02-01", "--end", "2026-02-28", "--on", "2026-01-11"),
    ("contract", "sign", "beta", "--by", "us", "--contract", "K2", "--on", "2026-01-12"),
    # omega: completed, paid and ended
    ("client", "open", "omega", "--name", "Omega Ltd", "--on", "2026-01-05"),
    ("terms", "publish", "omega", "--payment-days", "15", "--on", "2026-01-05"),
    ("contract", "draft", "omega", "--title", "Logo", "--scope", "S", "--price", "1000EUR",
     "--start", "2026-01-10", "--end", "2026-01-31", "--on", "2026-01-06"),
    ("contract", "sign", "omega", "--by", "us", "--on", "2026-01-07"),
    ("contract", "sign", "omega", "--by", "client", "--on", "2026-01-07"),
    ("contract", "complete", "omega", "--on", "2026-01-31"),
    ("invoice", "issue", "omega", "--installment", "1", "--on", "2026-02-20"),           # F-2026-003
    ("payment", "record", "omega", "F-2026-003", "1000EUR", "--on", "2026-02-25"),
    ("end", "omega", "--reason", "Done", "--on", "2026-03-01"),
]

DRAFT = ("contract", "draft", "acme", "--title", "Next", "--scope", "S", "--start", "2026-04-01",
         "--end", "2026-04-30")
LONG = "x" * 10_000

# (id, args, exit code, a phrase the message must contain or None). `{missing}`,
# `{folder}`, `{eml}` are replaced by paths in the case's own temp folder.
CASES = [
    # --- money notation
    ("money-letters", ("payment", "record", "acme", "F-2026-002", "abc"), 2, "not an amount"),
    ("money-unknown-currency", ("payment", "record", "acme", "F-2026-002", "100XYZ"), 2, "unknown currency 'XYZ'"),
    ("money-three-decimals", ("payment", "record", "acme", "F-2026-002", "1.000,125€"), 2, "at most 2 decimals"),
    ("money-four-decimals", ("payment", "record", "acme", "F-2026-002", "10.1234EUR"), 2, "at most 2 decimals"),
    ("money-negative", ("payment", "record", "acme", "F-2026-002", "--", "-5EUR"), 2, "positive"),
    ("money-negative-unescaped", ("payment", "record", "acme", "F-2026-002", "-5EUR"), 2,
     "-5EUR is negative: amounts, hours and quantities are positive numbers"),  # ADR-65
    ("money-zero-payment", ("payment", "record", "acme", "F-2026-002", "0EUR"), 2, "positive"),
    ("money-bad-grouping", DRAFT + ("--price", "8.000.5EUR"), 2, "not an amount"),
    ("money-two-currencies", DRAFT + ("--price", "EUR8000USD"), 2, "two currencies"),
    ("money-zero-price", DRAFT + ("--price", "0EUR"), 2, "price must be positive"),
    ("money-negative-cost", ("mistake", "propose", "acme", "M3", "x", "--cost", "-5EUR"), 2, "positive"),
    ("money-unknown-currency-installment", DRAFT + ("--price", "100EUR", "--installment", "100XYZ@2026-04-01"),
     2, "unknown currency"),
    # --- dates
    ("date-february-30", DRAFT[:-4] + ("--price", "100", "--start", "2026-02-30", "--end", "2026-04-30"),
     2, "no such date"),
    ("date-month-13", DRAFT[:-2] + ("--price", "100", "--end", "2026-13-01"), 2, "no such date"),
    ("date-not-iso", DRAFT[:-4] + ("--price", "100", "--start", "15/01/2026", "--end", "2026-04-30"),
     2, "not a date"),
    ("date-tomorrow", ("note", "acme", "x", "--on", "tomorrow"), 2, "not a date"),
    ("date-on-impossible", ("note", "acme", "x", "--on", "2026-02-29"), 2, "no such date"),
    ("date-end-before-start", DRAFT[:-2] + ("--price", "100", "--end", "2026-03-01"), 2, "before it starts"),
    ("date-before-opening", ("note", "acme", "x", "--on", "2026-01-01"), 1, "before the relationship"),
    ("date-invoice-due-before-issue", ("invoice", "issue", "acme", "--amount", "100", "--due", "2026-01-01"),
     2, "before it is issued"),
    ("date-invoice-before-previous-number", ("invoice", "issue", "acme", "--amount", "100", "--on", "2026-02-01"),
     1, "invoice dates must follow"),
    ("date-payment-before-invoice", ("payment", "record", "acme", "F-2026-002", "100", "--on", "2026-02-01"),
     1, "before invoice F-2026-002"),
    # --- installments
    ("installments-short", DRAFT + ("--price", "8000EUR", "--installment", "50%@2026-04-01"),
     1, "4000.00 EUR short of the price"),
    ("installments-over", DRAFT + ("--price", "8000EUR", "--installment", "60%@2026-04-01",
                                   "--installment", "60%@2026-04-30"), 1, "1600.00 EUR over the price"),
    ("installment-no-date", DRAFT + ("--price", "100", "--installment", "50%"), 2, "needs a date"),
    ("installment-over-100", DRAFT + ("--price", "100", "--installment", "150%@2026-04-01"), 2, "between 0% and 100%"),
    ("installment-bad-date", DRAFT + ("--price", "100", "--installment", "100%@2026-04-31"), 2, "no such date"),
    ("hours-budget-negative", DRAFT + ("--price", "100", "--hours", "-5"), 2, "hours budget must be positive"),
    # --- unknown ids
    ("unknown-client", ("note", "nobody", "x"), 2, "no client 'nobody'"),
    ("unknown-client-typo", ("change", "request", "acmee", "x"), 2, "no client 'acmee'"),
    ("unknown-change", ("change", "quote", "acme", "C9", "--price", "1"), 2, "no change C9"),
    ("unknown-change-hours", ("hours", "log", "acme", "2", "--change", "C9"), 2, "no change C9"),
    ("unknown-change-invoice", ("invoice", "issue", "acme", "--for", "C9"), 2, "no change C9"),
    ("unknown-mistake", ("mistake", "ack", "acme", "M9"), 2, "no mistake M9"),
    ("unknown-option", ("mistake", "choose", "acme", "M4", "O9", "--agreed"), 2, "no option O9"),
    ("unknown-invoice", ("payment", "record", "acme", "F-2026-999", "1"), 2, "no invoice F-2026-999"),
    ("unknown-contract", ("contract", "complete", "acme", "--contract", "K9"), 2, "no contract K9"),
    ("unknown-contract-mistake", ("mistake", "report", "acme", "x", "--by", "us", "--contract", "K9"),
     2, "no contract K9"),
    # --- refused lifecycle transitions
    ("open-existing-client", ("client", "open", "acme", "--name", "Acme again"), 1, "already exists"),
    ("sign-in-force-contract", ("contract", "sign", "acme", "--by", "us"), 1, "already signed by both"),
    ("sign-superseded-draft", ("contract", "sign", "beta", "--by", "client", "--contract", "K1"), 1, "superseded"),
    ("sign-twice-by-us", ("contract", "sign", "beta", "--by", "us"), 1, "already signed by us"),
    ("complete-unsigned-contract", ("contract", "complete", "beta"), 1, "signed by us: cannot complete"),
    ("change-on-unsigned-contract", ("change", "request", "beta", "x"), 1, "cannot request a change"),
    ("quote-quoted-change", ("change", "quote", "acme", "C2", "--price", "1"), 1, "only a requested change"),
    ("approve-unquoted-change", ("change", "approve", "acme", "C1"), 1, "quote it first"),
    ("reject-approved-change", ("change", "reject", "acme", "C3"), 1, "not quoted"),
    ("withdraw-approved-change", ("change", "withdraw", "acme", "C3"), 1, "only an open change"),
    ("approve-rejected-change", ("change", "approve", "acme", "C4"), 1, "rejected, not quoted"),
    ("quote-withdrawn-change", ("change", "quote", "acme", "C5", "--price", "1"), 1, "withdrawn"),
    ("ack-twice", ("mistake", "ack", "acme", "M2"), 1, "cannot acknowledge it again"),
    ("diagnose-unacknowledged", ("mistake", "diagnose", "acme", "M1", "--fault", "ours", "--cause", "c"),
     1, "not acknowledged yet"),
    ("propose-undiagnosed", ("mistake", "propose", "acme", "M2", "x"), 1, "not diagnosed"),
    ("choose-twice", ("mistake", "choose", "acme", "M5", "O1", "--agreed"), 1, "cannot choose another"),
    ("resolve-without-choice", ("mistake", "resolve", "acme", "M4"), 1, "choose a remedy before"),
    ("lesson-undiagnosed", ("mistake", "lesson", "acme", "M2", "x"), 1, "a lesson needs the cause"),
    ("lesson-twice", ("mistake", "lesson", "acme", "M6", "again"), 1, "already has its lesson"),
    ("invoice-installment-twice", ("invoice", "issue", "acme", "--installment", "1"), 1, "already invoiced"),
    ("invoice-unsigned-contract", ("invoice", "issue", "beta", "--installment", "1"), 1, "cannot be invoiced yet"),
    ("invoice-unapproved-change", ("invoice", "issue", "acme", "--amount", "100", "--for", "C2"), 1, "not approved"),
    ("invoice-unknown-installment", ("invoice", "issue", "acme", "--installment", "3"), 1, "no installment 3"),
    ("pay-more-than-outstanding", ("payment", "record", "acme", "F-2026-002", "5000EUR"), 1, "4000.00 EUR outstanding"),
    ("pay-other-currency", ("payment", "record", "acme", "F-2026-002", "4000USD"), 1, "in EUR"),
    ("pay-settled-invoice", ("payment", "record", "acme", "F-2026-001", "1EUR"), 1, "0.00 EUR outstanding"),
    ("quote-other-currency", ("change", "quote", "acme", "C1", "--price", "100USD"), 1, "in EUR"),
    ("mistake-after-end", ("mistake", "report", "omega", "x", "--by", "client"), 1, "ended on 2026-03-01"),
    ("draft-after-end", ("contract", "draft", "omega", "--title", "More", "--scope", "S", "--price", "10",
                         "--start", "2026-04-01", "--end", "2026-04-02"), 1, "only payments"),
    ("hours-on-completed-contract", ("hours", "log", "omega", "2"), 1, "is completed"),
    ("terms-after-end", ("terms", "publish", "omega"), 1, "only payments"),
    ("end-twice", ("end", "omega", "--reason", "again"), 1, "already ended"),
    ("init-twice", ("init", "--name", "Eve", "--email", "eve@example.com"), 1, "--force"),
    # --- texts
    ("note-empty", ("note", "acme", ""), 2, "note is empty"),
    ("note-blank", ("note", "acme", "   "), 2, "note is empty"),
    ("note-10000-characters", ("note", "acme", LONG), 2, "10000 characters long"),
    ("note-control-character", ("note", "acme", "ring\x07bell"), 2, "control characters"),
    ("change-empty", ("change", "request", "acme", ""), 2, "change description is empty"),
    ("mistake-10000-characters", ("mistake", "report", "acme", LONG, "--by", "us"), 2, "limit is 5000"),
    ("title-empty", DRAFT[:4] + ("", "--scope", "S", "--price", "100", "--start", "2026-04-01",
                                 "--end", "2026-04-30"), 2, "contract title is empty"),
    ("scope-control-character", ("contract", "draft", "acme", "--title", "T", "--scope", "a\x1b[31mb",
                                 "--price", "100", "--start", "2026-04-01", "--end", "2026-04-30"),
     2, "scope contains control characters"),
    ("client-name-empty", ("client", "open", "newco", "--name", " "), 2, "name is empty"),
    ("client-name-escape", ("client", "open", "newco", "--name", "Evil\x1b[2J"), 2, "control characters"),
    ("end-reason-empty", ("end", "acme", "--reason", ""), 2, "reason is empty"),
    ("confidentiality-control", ("terms", "publish", "acme", "--confidentiality", "a\x00b"), 2, "control characters"),
    # --- handles
    ("handle-with-space", ("client", "open", "ac me", "--name", "X"), 2, "invalid client handle"),
    ("handle-dotdot", ("client", "open", "../etc", "--name", "X"), 2, "invalid client handle"),
    ("handle-uppercase", ("note", "ACME", "x"), 2, "invalid client handle"),
    ("handle-too-long", ("client", "open", "a" * 41, "--name", "X"), 2, "at most 40 characters"),
    # --- evidence files
    ("evidence-missing", ("note", "acme", "x", "--evidence", "{missing}"), 2, "no evidence file"),
    ("evidence-directory", ("note", "acme", "x", "--evidence", "{folder}"), 2, "cannot read evidence file"),
    ("evidence-missing-second", ("change", "request", "acme", "x", "--evidence", "{eml}",
                                 "--evidence", "{missing}"), 2, "no evidence file"),
    ("evidence-refused-command", ("change", "approve", "acme", "C1", "--evidence", "{eml}"), 1, "quote it first"),
    ("sign-email-without-file", ("contract", "sign", "beta", "--by", "client", "--method", "email"),
     2, "needs the evidence file"),
    ("sign-pades-without-file", ("contract", "sign", "beta", "--by", "client", "--method", "pades"),
     2, "in the PDF it returned"),
    ("sign-file-without-method", ("contract", "sign", "beta", "--by", "client", "--file", "{eml}"),
     2, "say how the file was signed"),
    # --- other values and options
    ("hours-letters", ("hours", "log", "acme", "abc"), 2, "not a number of hours"),
    ("hours-zero", ("hours", "log", "acme", "0"), 2, "hours must be positive"),
    ("hours-over-a-day", ("hours", "log", "acme", "25"), 2, "at most 24 a day"),
    ("hours-bad-minutes", ("hours", "log", "acme", "3:75"), 2, "not a duration"),
    ("rate-without-per-hour", ("terms", "publish", "acme", "--rate", "60"), 2, "not an hourly rate"),
    ("late-fee-nonsense", ("terms", "publish", "acme", "--late-fee", "lots"), 2, "not an amount"),
    ("late-fee-over-100", ("terms", "publish", "acme", "--late-fee", "150%"), 2, "between 0% and 100%"),
    ("late-fee-zero-fixed", ("terms", "publish", "acme", "--late-fee", "0EUR"), 2, "positive amount"),
    ("payment-days-negative", ("terms", "publish", "acme", "--payment-days", "-1"), 2, "-1"),
    ("reference-rate-letters", ("terms", "publish", "acme", "--reference-rate", "abc"), 2, "not a percentage"),
    ("weekly-hours-too-many", ("terms", "publish", "acme", "--weekly-hours", "200"), 2, "at most 168"),
    ("quote-negative-days", ("change", "quote", "acme", "C1", "--price", "1", "--days", "-1"), 2, "-1"),
    ("quote-negative-hours", ("change", "quote", "acme", "C1", "--price", "1", "--hours", "-3"), 2, "negative"),
    ("choose-without-agreement", ("mistake", "choose", "acme", "M4", "O1"), 2, "--agreed or --not-agreed"),
    ("diagnose-unknown-fault", ("mistake", "diagnose", "acme", "M2", "--fault", "nobody", "--cause", "c"),
     2, "nobody"),
    ("report-without-by", ("mistake", "report", "acme", "x"), 2, "--by"),
    ("sign-by-nobody", ("contract", "sign", "acme", "--by", "them"), 2, "them"),
    ("invoice-installment-and-amount", ("invoice", "issue", "acme", "--installment", "2", "--amount", "100"),
     2, "not both"),
    ("invoice-nothing", ("invoice", "issue", "acme"), 2, "say what to invoice"),
    ("invoice-zero-amount", ("invoice", "issue", "acme", "--amount", "0"), 2, "positive amount"),
    ("open-without-name", ("client", "open", "newco"), 2, "--name"),
    ("init-unknown-currency", ("init", "--name", "Eve", "--email", "e@x.test", "--currency", "EUROS", "--force"),
     2, "unknown currency"),
    ("init-unknown-language", ("init", "--name", "Eve", "--email", "e@x.test", "--lang", "fr", "--force"), 2, "fr"),
    ("init-bad-email", ("init", "--name", "Eve", "--email", "not an email", "--force"), 2, "not an email address"),
    ("unknown-command", ("frobnicate",), 2, "frobnicate"),
    ("unknown-subcommand", ("change", "frobnicate", "acme", "C1"), 2, "frobnicate"),
    ("identity-import-missing-file", ("identity", "import", "{missing}"), 2, None),
]


@pytest.fixture
def history(template, backend: str, request: pytest.FixtureRequest) -> StoreSpec:
    if backend == "postgres":
        request.getfixturevalue("postgres_server")  # skips (or fails under CI) with how to start it
    return template(backend, "history", HISTORY)


@pytest.fixture
def home(history: StoreSpec, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the history's folder, its events in the history's schema on postgres."""
    home = tmp_path / "tratos"
    shutil.copytree(history.home, home)
    with use_database(home, history.database_url):
        yield home


def test_the_table_is_large_and_distinct():
    ids = [case[0] for case in CASES]
    assert len(ids) == len(set(ids)) >= 60
    assert len({case[1] for case in CASES}) == len(CASES)


@pytest.mark.parametrize(("args", "code", "phrase"), [case[1:] for case in CASES], ids=[c[0] for c in CASES])
def test_bad_input_changes_nothing(home, tmp_path, args, code, phrase):
    files = {"missing": str(tmp_path / "no-such-file.eml"), "folder": str(tmp_path),
             "eml": str(write_eml(tmp_path / CLIENT_EML, "Please add this"))}
    argv = [arg.format(**files) if "{" in arg else arg for arg in args]
    before = (store_rows(home), evidence_files(home), (home / "identity.json").read_bytes())

    outcome = run(home, *argv, env={"TRATOS_KEY_PASSPHRASE": "secret"})

    assert outcome.code == code, outcome.stderr
    assert len(outcome.stderr_lines) == 1, outcome.stderr
    assert outcome.stderr.startswith("error: ")
    assert "Traceback" not in outcome.stderr + outcome.stdout
    if phrase:
        assert phrase in outcome.stderr
    after = (store_rows(home), evidence_files(home), (home / "identity.json").read_bytes())
    assert after == before
    assert len(before[0]) > 50  # the history really is there


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_evidence_file(home, tmp_path):
    secret = write_eml(tmp_path / "secret.eml", "Hidden")
    secret.chmod(0)
    before = store_rows(home)
    outcome = run(home, "note", "acme", "x", "--evidence", str(secret))
    assert (outcome.code, outcome.stderr_lines) == (2, [f"error: cannot read evidence file {secret}: Permission denied"])
    assert store_rows(home) == before


def test_a_refused_command_removes_the_evidence_it_had_copied(history, home, tmp_path):
    """The evidence folder is part of the store: a refusal must not leave a file behind."""
    mail = write_eml(tmp_path / "new.eml", "Fresh content nobody stored before")
    outcome = run(home, "change", "approve", "acme", "C1", "--evidence", str(mail))
    assert outcome.code == 1
    assert evidence_files(home) == evidence_files(Path(history.home))
