"""`tratos calendar`: the .ics parses back with icalendar, holds exactly the expected events, and a
newer export imported into a calendar updates the same UIDs instead of adding them again."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from cli_support import IN_FORCE, copied, ok, run
from icalendar import Calendar

STORY = IN_FORCE + [
    ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15"),
    ("mistake", "report", "acme", "Contact form mails never arrive", "--by", "client", "--on", "2026-02-02"),
    ("change", "request", "acme", "Add a blog", "--on", "2026-02-03"),
    ("change", "quote", "acme", "C1", "--price", "600EUR", "--days", "5", "--on", "2026-02-04"),
    ("client", "open", "north", "--name", "North Wind SL", "--on", "2026-02-01"),
    ("contract", "draft", "north", "--title", "Logo", "--scope", "A logo", "--price", "1000EUR",
     "--start", "2026-03-01", "--end", "2026-04-30", "--installment", "100%@2026-04-30", "--on", "2026-02-05"),
]
ACME = {  # uid -> (day, summary), as the terms and the story say
    "acme.contract-end.K1@tratos": (date(2026, 3, 15), "acme: contract K1 ends (Website relaunch)"),
    "acme.installment.K1-1@tratos": (date(2026, 1, 15), "acme: installment 1 of contract K1: €4,000.00"),
    "acme.installment.K1-2@tratos": (date(2026, 2, 15), "acme: installment 2 of contract K1: €4,000.00"),
    "acme.invoice-due.F-2026-001@tratos": (date(2026, 2, 14),
                                           "acme: invoice F-2026-001 falls due: €4,000.00 outstanding"),
    "acme.mistake-answer.M1@tratos": (date(2026, 2, 4),  # reported + the terms' 2 response days
                                      "acme: answer mistake M1 by today: Contact form mails never arrive"),
}
NORTH = {
    "north.contract-end.K1@tratos": (date(2026, 4, 30), "north: contract K1 ends (Logo)"),
    "north.installment.K1-1@tratos": (date(2026, 4, 30), "north: installment 1 of contract K1: €1,000.00"),
}


@pytest.fixture
def stored(template, store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    with copied(template(store.backend, "calendar", STORY), store) as home:
        yield home


def events(path: Path) -> dict[str, tuple[date, str, int]]:
    calendar = Calendar.from_ical(path.read_bytes())
    found = {}
    for event in calendar.walk("VEVENT"):
        start, end = event.decoded("dtstart"), event.decoded("dtend")
        assert end - start == timedelta(days=1)  # all-day
        assert str(event["uid"]) not in found, "a UID twice in one file"
        found[str(event["uid"])] = (start, str(event["summary"]), int(event["sequence"]))
    return found


def test_the_file_holds_exactly_the_expected_events(stored: Path) -> None:
    done = ok(stored, "calendar", "--lang", "en", "-o", "all.ics")
    assert done.stdout == f"Wrote {len(ACME) + len(NORTH)} events to all.ics\n"
    found = events(Path("all.ics"))
    assert {uid: (day, summary) for uid, (day, summary, _) in found.items()} == ACME | NORTH


def test_one_client_and_its_language(stored: Path) -> None:
    shown = json.loads(ok(stored, "--json", "calendar", "acme").stdout)
    assert shown["file"] == "acme.ics" and {e["uid"] for e in shown["events"]} == set(ACME)
    found = events(Path("acme.ics"))
    assert found["acme.installment.K1-1@tratos"][1] == "acme: plazo 1 del contrato K1: 4.000,00\xa0€"


def test_a_newer_export_updates_the_same_events_in_a_calendar(stored: Path) -> None:
    """A calendar keeps one event per UID and takes an import whose SEQUENCE is not older (RFC 5545)."""
    held: dict[str, tuple[date, str, int]] = {}

    def import_into_calendar(path: Path) -> None:
        for uid, event in events(path).items():
            if uid not in held or event[2] >= held[uid][2]:
                held[uid] = event

    ok(stored, "calendar", "-o", "first.ics", "--lang", "en")
    ok(stored, "calendar", "-o", "again.ics", "--lang", "en")
    assert Path("first.ics").read_bytes() == Path("again.ics").read_bytes()  # same store, same file
    import_into_calendar(Path("first.ics"))
    import_into_calendar(Path("again.ics"))
    assert set(held) == set(ACME | NORTH)
    ok(stored, "change", "approve", "acme", "C1", "--on", "2026-02-06")  # K1 now ends 5 days later
    ok(stored, "payment", "record", "acme", "F-2026-001", "1000EUR", "--on", "2026-02-07")
    ok(stored, "calendar", "-o", "later.ics", "--lang", "en")
    import_into_calendar(Path("later.ics"))
    assert set(held) == set(ACME | NORTH)  # updated, not duplicated
    assert held["acme.contract-end.K1@tratos"][0] == date(2026, 3, 20)
    assert held["acme.invoice-due.F-2026-001@tratos"][1].endswith("€3,000.00 outstanding")
    assert held["acme.contract-end.K1@tratos"][2] > events(Path("first.ics"))["acme.contract-end.K1@tratos"][2]


def test_an_unknown_client_is_one_error_line(stored: Path) -> None:
    outcome = run(stored, "calendar", "nobody")
    assert outcome.code == 2 and outcome.stderr.startswith("error: no client 'nobody'")
    assert len(outcome.stderr_lines) == 1 and not Path("nobody.ics").exists()


def test_follow_up_steps_are_in_the_calendar(stored: Path) -> None:
    ok(stored, "terms", "publish", "acme", "--late-fee", "statutory-eu", "--remind-before", "3",
       "--remind-after", "1,7,30", "--chase-after", "5", "--on", "2026-02-05")
    ok(stored, "calendar", "acme", "--lang", "en", "-o", "acme.ics")
    steps = {uid: (day, summary) for uid, (day, summary, _) in events(Path("acme.ics")).items() if ".follow-up." in uid}
    assert steps == {
        "acme.follow-up.F-2026-001-before-3@tratos": (date(2026, 2, 11), "acme: follow-up F-2026-001 before-3 (friendly)"),
        "acme.follow-up.F-2026-001-after-1@tratos": (date(2026, 2, 15), "acme: follow-up F-2026-001 after-1 (friendly)"),
        "acme.follow-up.F-2026-001-after-7@tratos": (date(2026, 2, 21), "acme: follow-up F-2026-001 after-7 (firm)"),
        "acme.follow-up.F-2026-001-after-30@tratos": (date(2026, 3, 16),
                                                      "acme: follow-up F-2026-001 after-30 (final notice)"),
        "acme.follow-up.C1-chase-5@tratos": (date(2026, 2, 9), "acme: follow-up C1 chase-5 (chase)"),
    }
