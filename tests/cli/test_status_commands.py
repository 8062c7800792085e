"""tratos status / timeline / lessons / check / rebuild, run as a user would (in-process CLI)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from cli_support import run

sys.path.insert(0, str(Path(__file__).parent.parent / "projections"))
from projection_story import D, acme_story, eur, in_force  # noqa: E402


def tratos(store, *args: str):
    """The CLI on this test's store (either backend); today is pinned by cli_support."""
    extra = ["--database-url", store.database_url] if store.database_url else []
    return run(Path(store.home), *extra, *args)


def events(app) -> int:
    return len(app.recorder.select_notifications(start=None, limit=1_000_000))


@pytest.fixture
def story(app):
    number = acme_story(app)
    return app, number


def test_check_marks_each_overdue_invoice_late_once_and_is_idempotent(store, story):
    app, number = story
    before = events(app)
    first = tratos(store, "--json", "check", "--today", "2026-03-16")
    assert first.code == 0, first.stderr
    after_first = events(app)
    for _ in range(2):
        again = tratos(store, "--json", "check", "--today", "2026-03-16")
        assert again.code == 0, again.stderr
        assert json.loads(again.stdout)["marked_late"] == []
    assert events(app) == after_first == before + 1  # one PaymentLate, recorded once
    report = json.loads(first.stdout)
    assert report["today"] == "2026-03-16"
    assert report["marked_late"] == [{"handle": "acme", "invoice": number}]
    late = [a for a in report["actions"] if a["kind"] == "late_payment"]
    assert late == [{
        "handle": "acme", "kind": "late_payment", "ref": number, "date": "2026-02-14",
        "amount": {"amount": "3000.00", "currency": "EUR"},
        "late_fee": {"amount": "65.03", "currency": "EUR"},  # 3000 x 10.15 % x 30/365 + 40
        "days": 30, "detail": "3000.00 EUR unpaid, 30 days late, late fee 65.03 EUR",
    }]
    # M1 was acknowledged (late, but acknowledged), C1 approved, K1 ends 03-20: only money to chase.
    assert {a["kind"] for a in report["actions"]} == {"late_payment", "to_invoice"}
    timeline = json.loads(tratos(store, "--json", "timeline", "acme").stdout)
    assert [row["kind"] for row in timeline].count("PaymentLate") == 1


def test_check_before_anything_is_due_records_nothing(store, story):
    app, _ = story
    before = events(app)
    outcome = tratos(store, "check", "--today", "2026-01-20")
    assert outcome.code == 0, outcome.stderr
    assert events(app) == before
    assert "Recorded" not in outcome.stdout
    assert "to invoice" not in outcome.stdout  # installment 2 is billable from 02-15


def test_check_prints_a_plain_table_when_piped(store, story):
    outcome = tratos(store, "check", "--today", "2026-03-16")
    assert outcome.code == 0, outcome.stderr
    lines = outcome.stdout.splitlines()
    assert lines[0] == "Recorded: invoice F-2026-001 of acme is late on 2026-03-16"
    assert lines[1] == "Needs action on 2026-03-16"
    assert any(line.startswith("acme") and "late payment" in line and "65.03 EUR" in line for line in lines)
    assert any("to invoice" in line and "--installment 2" in line for line in lines)
    assert not any(ch in outcome.stdout for ch in "┏━│╭")  # no rich box drawing when piped


def test_status_json_has_the_spec_keys_and_as_of(store, story):
    outcome = tratos(store, "--json", "status", "acme")
    assert outcome.code == 0, outcome.stderr
    status = json.loads(outcome.stdout)
    assert status["as_of"] == "2026-03-31"  # cli_support pins today
    assert status["balance"]["outstanding"] == {"amount": "3000.00", "currency": "EUR"}
    assert status["contract"]["total"] == {"amount": "8600.00", "currency": "EUR"}
    past = json.loads(tratos(store, "--json", "status", "acme", "--as-of", "2026-01-20").stdout)
    assert past["as_of"] == "2026-01-20"
    assert past["changes"] == [] and past["contract"]["total"]["amount"] == "8000.00"
    assert past["balance"]["paid"] == {"amount": "1000.00", "currency": "EUR"}


def test_status_of_one_client_in_plain_text(store, story):
    outcome = tratos(store, "status", "acme")
    assert outcome.code == 0, outcome.stderr
    text = outcome.stdout
    assert text.startswith("acme: Acme SL (active), as of 2026-03-31")
    assert "Balance: invoiced 4000.00 EUR, paid 1000.00 EUR, outstanding 3000.00 EUR, overdue 3000.00 EUR" in text
    assert "Installments" in text and "Changes" in text and "Mistakes" in text


def test_status_without_a_client_is_the_portfolio(store, story):
    app, _ = story
    in_force(app, "beta")
    outcome = tratos(store, "status")
    assert outcome.code == 0, outcome.stderr
    lines = outcome.stdout.splitlines()
    assert lines[0] == "Clients"
    assert lines[2].split()[:3] == ["acme", "active", "K1"]
    assert lines[3].split()[:3] == ["beta", "active", "K1"]
    rows = json.loads(tratos(store, "--json", "status").stdout)
    assert [r["handle"] for r in rows] == ["acme", "beta"]
    assert rows[0]["overdue"] == {"amount": "3000.00", "currency": "EUR"}


def test_timeline_and_timeline_as_of(store, story):
    outcome = tratos(store, "timeline", "acme", "--as-of", "2026-01-12")
    assert outcome.code == 0, outcome.stderr
    lines = outcome.stdout.splitlines()
    assert lines[0] == "Timeline of acme as of 2026-01-12"
    assert len(lines) == 2 + 5  # title, header, five events up to the signatures
    assert "Acme SL signs contract K1 (Laura, typed name)." in lines[-1]


@pytest.mark.parametrize("command", [("status", "acme"), ("status",), ("timeline", "acme")])
def test_a_day_after_today_is_shown_as_a_forecast(store, story, command):
    """Reads may look ahead (ADR-26); what they show then is said to be a forecast, not a record."""
    from cli_support import TODAY

    ahead = tratos(store, *command, "--as-of", "2099-01-01")
    assert ahead.code == 0, ahead.stderr
    assert ahead.stdout.splitlines()[-1] == (f"2099-01-01 is after today ({TODAY}): this is a forecast, as things"
                                             " will stand then if nothing more is recorded")
    assert "forecast" not in tratos(store, *command, "--as-of", TODAY).stdout
    assert "forecast" not in tratos(store, "--json", *command, "--as-of", "2099-01-01").stdout


def test_lessons_flag_recurring_categories(store, story):
    app, _ = story
    in_force(app, "beta")
    app.report_mistake("beta", "Form broken", reported_by="client", on=D("2026-02-10"))
    app.acknowledge_mistake("beta", "M1", on=D("2026-02-10"))
    app.diagnose_mistake("beta", "M1", fault="ours", cause="Config", category="deployment", on=D("2026-02-11"))
    outcome = tratos(store, "lessons")
    assert outcome.code == 0, outcome.stderr
    assert "RECURRING (2 mistakes)" in outcome.stdout
    groups = json.loads(tratos(store, "--json", "lessons").stdout)
    assert groups[0]["category"] == "deployment" and groups[0]["recurring"] is True


def test_rebuild_reports_events_per_second_and_changes_no_answer(store, story):
    app, _ = story
    app.record_payment("acme", "F-2026-001", eur(500), on=D("2026-02-20"))
    before = tratos(store, "--json", "status", "acme").stdout
    outcome = tratos(store, "rebuild")
    assert outcome.code == 0, outcome.stderr
    assert outcome.stdout.startswith(f"Rebuilt the read models from {events(app)} events in ")
    assert outcome.stdout.rstrip().endswith("events/s)")
    assert tratos(store, "--json", "status", "acme").stdout == before
    report = json.loads(tratos(store, "--json", "rebuild").stdout)
    assert report["events"] == events(app) and report["events_per_second"] > 0


def test_unknown_client_and_bad_date_are_one_line_errors(store, story):
    unknown = tratos(store, "status", "nobody")
    assert unknown.code == 2 and unknown.stderr.count("\n") == 1 and "nobody" in unknown.stderr
    bad = tratos(store, "status", "acme", "--as-of", "someday")
    assert bad.code == 2 and bad.stderr.startswith("error: ")
    missing = tratos(store, "timeline", "nobody")
    assert missing.code == 2


def test_check_warns_when_terms_use_a_rate_table_older_than_the_half_year(store, story):
    """The table this release ships ends with the half-year of 2026-01-01 (reference_rates.py)."""

    def check(today: str, *options: str):
        extra = ["--database-url", store.database_url] if store.database_url else []
        return run(Path(store.home), *extra, *options, "check", "--today", today, env={"TRATOS_TODAY": "2027-01-10"})

    fixed = check("2026-07-02")  # acme's terms fix 2.15 %: no warning
    assert fixed.code == 0 and "warning" not in fixed.stderr, fixed.stderr
    published = tratos(store, "terms", "publish", "acme", "--late-fee", "statutory-eu", "--on", "2026-03-20")
    assert published.code == 0, published.stderr
    within = check("2026-06-30")
    assert within.code == 0 and "warning" not in within.stderr, within.stderr
    later = check("2026-07-02")
    assert later.code == 0, later.stderr
    assert later.stderr.startswith("warning: the reference-rate table ends with the half-year of 2026-01-01,"
                                   " and 2026-07-02 is in the one of 2026-07-01")
    assert "for acme" in later.stderr and "--reference-rate" in later.stderr
    report = json.loads(check("2027-01-10", "--json").stdout)
    assert [(w["kind"], w["table_ends"], w["half_year"], w["rate"], w["clients"]) for w in report["warnings"]] == [
        ("reference_rate_table", "2026-01-01", "2027-01-01", "2.15", ["acme"])]
