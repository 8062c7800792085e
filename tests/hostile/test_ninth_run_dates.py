"""The ninth adversarial run (issue 19), sections 1, 2, 8 and 11: each rule fixed where it lives (ADR-64).

1. a step of a change, a mistake, a contract or the relationship is not dated before the step it follows;
2. an installment is not due before the relationship with the client was opened;
8. nothing is decided, signed or recorded from a stream whose hash chain does not hold;
11. both sides of a switch (`--agreed --not-agreed`) is a usage error, not the last one winning.

Each refusal is one `error:` line, its exit code and the store unchanged (event rows, evidence
files, identity.json), on both backends.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import IN_FORCE, copied, ok, open_store, recorded_template, refused, run, snapshot

HISTORY = IN_FORCE + [
    ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15"),           # F-2026-001, v6
    ("payment", "record", "acme", "F-2026-001", "1000EUR", "--on", "2026-02-01"),       # v7
    ("change", "request", "acme", "Shop", "--by", "client", "--on", "2026-03-01"),
    ("change", "quote", "acme", "C1", "--price", "100EUR", "--hours", "2", "--days", "1", "--on", "2026-03-20"),
    # M1: a remedy proposed on 03-25
    ("mistake", "report", "acme", "Broke prod", "--by", "client", "--on", "2026-03-10"),
    ("mistake", "ack", "acme", "M1", "--apology", "Sorry", "--on", "2026-03-11"),
    ("mistake", "diagnose", "acme", "M1", "--fault", "ours", "--cause", "X", "--on", "2026-03-12"),
    ("mistake", "propose", "acme", "M1", "Fix", "--cost", "5EUR", "--on", "2026-03-25"),
    # M2: a remedy chosen on 03-26
    ("mistake", "report", "acme", "Slow site", "--by", "client", "--on", "2026-03-10"),
    ("mistake", "ack", "acme", "M2", "--on", "2026-03-11"),
    ("mistake", "diagnose", "acme", "M2", "--fault", "ours", "--cause", "Y", "--on", "2026-03-12"),
    ("mistake", "propose", "acme", "M2", "Cache", "--cost", "0EUR", "--on", "2026-03-12"),
    ("mistake", "choose", "acme", "M2", "O1", "--agreed", "--on", "2026-03-26"),
    # M3: acknowledged on 03-20, diagnosed on 03-31 (the report's case)
    ("mistake", "report", "acme", "Broke mail", "--by", "client", "--on", "2026-03-10"),
    ("mistake", "ack", "acme", "M3", "--on", "2026-03-20"),
    ("mistake", "diagnose", "acme", "M3", "--fault", "ours", "--cause", "Z", "--on", "2026-03-31"),
    # zeta: a contract drafted on 03-31, not signed
    ("client", "open", "zeta", "--name", "Zeta SL", "--on", "2026-01-05"),
    ("terms", "publish", "zeta", "--rate", "50/h", "--on", "2026-01-05"),
    ("contract", "draft", "zeta", "--title", "T", "--scope", "S", "--price", "1000EUR", "--start", "2026-04-01",
     "--end", "2026-05-01", "--installment", "100%@2026-04-30", "--on", "2026-03-31"),
]
PAYMENT_VERSION = 7


@pytest.fixture
def acme(module_store, store) -> Iterator[Path]:
    """The template's private copy per test and backend."""
    with copied(recorded_template(module_store, store.backend, "hostile-ninth-run-dates", HISTORY), store) as home:
        yield home


# ------------------------------------------------- 1: a step is not dated before the step it follows

@pytest.mark.parametrize(("args", "message"), [
    (("change", "approve", "acme", "C1", "--on", "2026-03-02"), "2026-03-02 is before change C1 was quoted (2026-03-20)"),
    (("change", "reject", "acme", "C1", "--on", "2026-03-19"), "2026-03-19 is before change C1 was quoted (2026-03-20)"),
    (("change", "withdraw", "acme", "C1", "--on", "2026-03-02"), "2026-03-02 is before change C1 was quoted (2026-03-20)"),
    (("mistake", "propose", "acme", "M3", "Fix", "--cost", "5EUR", "--on", "2026-03-21"),
     "2026-03-21 is before mistake M3 was diagnosed (2026-03-31)"),
    (("mistake", "diagnose", "acme", "M3", "--fault", "ours", "--cause", "Z", "--on", "2026-03-19"),
     "mistake M3 is diagnosed: cannot diagnose it again"),  # the state is said first, as before
    (("mistake", "propose", "acme", "M1", "Other", "--cost", "5EUR", "--on", "2026-03-24"),
     "2026-03-24 is before remedy O1 of mistake M1 was proposed (2026-03-25)"),
    (("mistake", "choose", "acme", "M1", "O1", "--agreed", "--on", "2026-03-24"),
     "2026-03-24 is before remedy O1 of mistake M1 was proposed (2026-03-25)"),
    (("mistake", "resolve", "acme", "M2", "--on", "2026-03-10"),
     "2026-03-10 is before remedy O1 of mistake M2 was chosen (2026-03-26)"),
    (("mistake", "lesson", "acme", "M2", "L", "--on", "2026-03-25"),
     "2026-03-25 is before remedy O1 of mistake M2 was chosen (2026-03-26)"),
    (("end", "acme", "--reason", "Early", "--by", "us", "--on", "2026-01-06"),
     "2026-01-06 is before the latest event recorded with acme (2026-03-31)"),
    (("contract", "draft", "zeta", "--title", "T2", "--scope", "S", "--price", "1000EUR", "--start", "2026-04-01",
      "--end", "2026-05-01", "--installment", "100%@2026-04-30", "--on", "2026-01-10"),
     "2026-01-10 is before contract K1 was drafted (2026-03-31)"),
], ids=["approve", "reject", "withdraw", "propose-before-diagnosis", "diagnose-again", "propose-before-remedy",
        "choose", "resolve", "lesson", "end", "supersede"])
def test_a_step_dated_before_the_step_it_follows_is_refused(acme: Path, args: tuple[str, ...], message: str) -> None:
    refused(acme, args, 1, message)


def test_a_step_on_the_day_of_the_step_it_follows_is_accepted(acme: Path) -> None:
    ok(acme, "change", "approve", "acme", "C1", "--on", "2026-03-20")
    ok(acme, "mistake", "choose", "acme", "M1", "O1", "--not-agreed", "--on", "2026-03-25")
    ok(acme, "mistake", "resolve", "acme", "M2", "--on", "2026-03-26")
    ok(acme, "mistake", "lesson", "acme", "M2", "Cache first", "--on", "2026-03-26")
    ok(acme, "end", "acme", "--reason", "Done", "--by", "us", "--on", "2026-03-31")


# ------------------------------------------------- 2: an installment is not due before the relationship opened

@pytest.mark.parametrize("due", ["1900-01-01", "2025-01-01", "2026-01-04"])
def test_an_installment_due_before_the_opening_is_refused(acme: Path, due: str) -> None:
    refused(acme, ("contract", "draft", "zeta", "--title", "T", "--scope", "S", "--price", "1000EUR",
                   "--start", "2026-04-01", "--end", "2026-05-01", "--installment", f"30%@{due}",
                   "--installment", "70%@2026-05-01", "--on", "2026-03-31"),
            1, f"installment 1 is due on {due}, before the relationship with zeta was opened (2026-01-05)")


def test_an_installment_due_on_the_opening_day_is_accepted(acme: Path) -> None:
    ok(acme, "contract", "draft", "zeta", "--title", "T", "--scope", "S", "--price", "1000EUR",
       "--start", "2026-04-01", "--end", "2026-05-01", "--installment", "30%@2026-01-05",
       "--installment", "70%@2026-05-01", "--on", "2026-03-31")


# ------------------------------------------------- 8: nothing is built on a chain that does not hold

def edit_the_payment(home: Path) -> None:
    """A stored payment of 1000.00 made 100.00 behind tratos's back, its digest left as it was."""
    from forger import Forger

    from domain.model.values import stream_id

    app = open_store(home)
    try:
        Forger(app).edit(stream_id("acme"), "PaymentReceived", b'"1000.00"', b'"100.00"')
    finally:
        app.close()


BROKEN = (f"error: the history of acme does not verify: broken at v{PAYMENT_VERSION} (content does not match"
          " its digest), nothing was recorded; restore it from your latest export")


@pytest.mark.parametrize("args", [
    ("remind", "acme", "F-2026-001", "-o", "reminder.pdf"),
    ("pdf", "contract", "acme", "-o", "contract.pdf"),
    ("payment", "record", "acme", "F-2026-001", "3000EUR"),
    ("change", "approve", "acme", "C1"),
    ("end", "acme", "--reason", "Early", "--by", "us"),
], ids=["remind", "pdf", "payment", "change", "end"])
def test_a_command_on_an_edited_stream_is_refused(acme: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  args: tuple[str, ...]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    edit_the_payment(acme)
    stderr = refused(acme, args, 1, BROKEN)
    assert stderr.startswith(BROKEN), stderr
    assert list(out.iterdir()) == []  # no document written


def test_the_other_stream_and_the_read_side_still_work_after_an_edit(acme: Path) -> None:
    edit_the_payment(acme)
    audit = run(acme, "audit", "verify")
    assert audit.code == 1 and f"acme broken at v{PAYMENT_VERSION}" in audit.stderr, audit.stderr
    ok(acme, "rebuild")
    ok(acme, "status", "acme")
    before = snapshot(acme)
    ok(acme, "hours", "log", "zeta", "2", "--on", "2026-03-31")  # zeta's chain holds
    assert snapshot(acme) != before


# ------------------------------------------------- 11: both sides of a switch

@pytest.mark.parametrize(("args", "message"), [
    (("mistake", "choose", "acme", "M1", "O1", "--agreed", "--not-agreed"), "--agreed and --not-agreed contradict"),
    (("mistake", "choose", "acme", "M1", "O1", "--not-agreed", "--agreed"), "--agreed and --not-agreed contradict"),
    (("identity", "mail", "--bcc-self", "--no-bcc-self"), "--bcc-self and --no-bcc-self contradict"),
    (("identity", "tsa", "none", "--no-lta", "--lta"), "--lta and --no-lta contradict"),
], ids=["agreed", "not-agreed-first", "bcc-self", "lta"])
def test_both_sides_of_a_switch_are_a_usage_error(acme: Path, args: tuple[str, ...], message: str) -> None:
    refused(acme, args, 2, message)


def test_one_side_of_a_switch_given_twice_is_that_side(acme: Path) -> None:
    outcome = ok(acme, "mistake", "choose", "acme", "M1", "O1", "--agreed", "--agreed", "--on", "2026-03-31")
    assert "with the client's agreement" in outcome.stdout
