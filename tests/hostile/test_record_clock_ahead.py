"""A record clock set ahead (issue 19, tenth run, left open in ADR-68), decided in ADR-69.

A record clock more than a day ahead of today makes no record. A record made by a machine whose
date was wrong (both clocks ahead) is found by `verifactu verify` as anomaly 13 of the agency's list
(a record made after the system's time now), warned and logged once in the event log; the next
record, made before it, is refused until it is logged, and then follows it. The chain still holds:
a time going back is a traceability anomaly (11), warned, not a break; export and import keep it.

On both backends, each refusal one `error:` line, exit 1, the store unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import (
    IN_FORCE,
    copied,
    ok,
    recorded_template,
    refused,
    run,
    snapshot,
    use_database,
)

NOW = "2026-03-31T12:00:00+02:00"  # the record clock of every run: TRATOS_TODAY's noon, Madrid
KEYED = {"TRATOS_KEY_PASSPHRASE": "s3cret passphrase", "TRATOS_NOW": NOW}  # verify's "now" too
HISTORY = IN_FORCE + [
    ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15"),  # F-2026-001
]
AHEAD = "2099-03-31T12:00:00+02:00"  # a machine whose date is wrong: both its clocks say 2099
WRONG_MACHINE = {**KEYED, "TRATOS_TODAY": "2099-03-31", "TRATOS_NOW": AHEAD}


@pytest.fixture
def acme(module_store, store) -> Iterator[Path]:
    with copied(recorded_template(module_store, store.backend, "hostile-record-clock-ahead", HISTORY, KEYED),
                store) as home:
        yield home


def made_ahead(home: Path) -> None:
    """F-2026-002, dated 2026-03-31, recorded by a machine whose date says 2099."""
    ok(home, "invoice", "issue", "acme", "--amount", "100EUR", "--on", "2026-03-31", env=WRONG_MACHINE)


def logged_anomalies(home: Path, folder: Path) -> list[tuple[str, str]]:
    """(TipoAnomalia, NumSerieFactura) of every anomaly found in the event log's entries of 2026, each
    entry valid against the agency's EventosSIF.xsd."""
    from lxml import etree

    schema = etree.XMLSchema(etree.parse(str(Path(__file__).parents[1] / "fixtures" / "verifactu" / "EventosSIF.xsd")))
    ok(home, "verifactu", "events", "--year", "2026", "-o", str(folder), env=KEYED)
    found = []
    for path in sorted(folder.iterdir()):
        assert schema.validate(etree.parse(str(path))), schema.error_log
        text = path.read_text(encoding="utf-8")
        for kind in re.findall(r"<[\w:]*TipoAnomalia>(\d+)<", text):
            number = re.search(r"<[\w:]*NumSerieFactura>([^<]+)<", text)
            found.append((kind, number.group(1) if number else ""))
    return found


WAY_OUT = (f"error: your last billing record (F-2026-002, made at {AHEAD}) is ahead of this machine's clock ({NOW}):"
           " if the clock that made it was wrong, `tratos verifactu verify` logs it as anomaly 13 of the agency's"
           " list and the next record may follow it; else correct this clock. Nothing was recorded\n")
AHEAD_WARNING = (f"the registration record of F-2026-002: it was made at {AHEAD}, after this machine's clock now"
                 f" ({NOW}) (anomaly 13 of the agency's list")


def test_a_record_clock_a_year_ahead_of_today_makes_no_record(acme):
    refused(acme, ("invoice", "issue", "acme", "--amount", "5EUR"), 1,
            "error: the record clock (2027-03-31T12:00:00+02:00) is ahead of today (2026-03-31) by more than a day:"
            " a billing record is not made in the future; correct TRATOS_NOW or the clock, nothing was recorded\n",
            env={**KEYED, "TRATOS_NOW": "2027-03-31T12:00:00+02:00"})
    refused(acme, ("verifactu", "cancel", "F-2026-001"), 1, "is ahead of today (2026-03-31) by more than a day",
            env={**KEYED, "TRATOS_NOW": "2026-04-02T00:00:00+02:00"})
    ok(acme, "invoice", "issue", "acme", "--amount", "5EUR",  # tomorrow is not the future: time zones
       env={**KEYED, "TRATOS_NOW": "2026-04-01T23:59:59+02:00"})


def test_a_record_made_ahead_holds_the_next_one_until_verify_logs_it(acme, tmp_path):
    made_ahead(acme)
    refused(acme, ("invoice", "issue", "acme", "--amount", "5EUR"), 1, WAY_OUT, env=KEYED)
    refused(acme, ("verifactu", "cancel", "F-2026-002"), 1, WAY_OUT, env=KEYED)

    checked = run(acme, "verifactu", "verify", env=KEYED)
    assert checked.code == 0, checked.stderr
    assert checked.stderr_lines == [f"warning: records:12345678Z record 2, {AHEAD_WARNING}: the chain holds)"]
    assert "records:12345678Z  2 records  OK" in checked.stdout
    ok(acme, "verifactu", "verify", env=KEYED)  # logged once, however often it is found
    assert logged_anomalies(acme, tmp_path / "log") == [("13", "F-2026-002")]

    done = ok(acme, "invoice", "issue", "acme", "--amount", "5EUR", env=KEYED)  # F-2026-003 follows it
    assert "F-2026-003" in done.stdout
    checked = run(acme, "verifactu", "verify", env=KEYED)
    assert checked.code == 0, checked.stderr
    assert checked.stderr_lines == [f"warning: records:12345678Z record 2, {AHEAD_WARNING}: the chain holds)"]
    assert "records:12345678Z  3 records  OK" in checked.stdout
    audited = run(acme, "audit", "verify", env=KEYED)
    assert audited.code == 0, audited.stderr
    assert audited.stderr_lines == checked.stderr_lines
    assert audited.stdout.endswith("Verdict: OK, every chain holds\n")
    assert logged_anomalies(acme, tmp_path / "log2") == [("13", "F-2026-002")]  # 11 of F-2026-003: explained
    refused(acme, ("invoice", "issue", "acme", "--amount", "5EUR"), 1,  # before F-2026-003 too, not logged
            "error: your last billing record (F-2026-003, made at 2026-03-31T12:00:00+02:00) is ahead of this"
            " machine's clock (2026-03-31T11:00:00+02:00)", env={**KEYED, "TRATOS_NOW": "2026-03-31T11:00:00+02:00"})


def test_a_record_made_ahead_and_not_logged_holds_every_command_that_makes_one(acme):
    made_ahead(acme)
    before = snapshot(acme)
    for args in (("invoice", "issue", "acme", "--amount", "5EUR"),
                 ("invoice", "correct", "acme", "F-2026-001", "--reason", "Less", "--amount", "-5EUR")):
        refused(acme, args, 1, "is ahead of this machine's clock", env=KEYED)
    assert snapshot(acme) == before


def test_the_exported_year_verifies_with_the_time_going_back_warned(acme, tmp_path):
    made_ahead(acme)
    ok(acme, "verifactu", "verify", env=KEYED)
    ok(acme, "invoice", "issue", "acme", "--amount", "5EUR", env=KEYED)
    out = tmp_path / "v.xml"
    ok(acme, "verifactu", "export", "--year", "2026", "-o", str(out), env=KEYED)
    text = out.read_text(encoding="utf-8")
    assert re.findall(r"<sf:IDFactura>.*?<sf:NumSerieFactura>([^<]+)<", text, re.S) == [
        "F-2026-001", "F-2026-002", "F-2026-003"]  # the record of 2099 stands in the year's run
    checked = run(acme, "verifactu", "verify", str(out), env=KEYED)
    assert checked.code == 0, checked.stderr
    assert "v.xml  3 records  OK" in checked.stdout
    assert checked.stderr_lines == [
        f"warning: v.xml record 2, {AHEAD_WARNING}: the chain holds)",
        f"warning: v.xml record 3, the registration record of F-2026-003: it was made at {NOW}, before the record"
        f" before it ({AHEAD}) (anomaly 11 of the agency's list: the chain holds)"]


def test_a_chain_that_went_back_in_time_is_exported_and_imported(acme, tmp_path, store, module_store):
    made_ahead(acme)
    ok(acme, "verifactu", "verify", env=KEYED)
    ok(acme, "invoice", "issue", "acme", "--amount", "5EUR", env=KEYED)
    export = tmp_path / "all.jsonl"
    ok(acme, "export", str(export))
    target = module_store(store.backend, "record-clock-ahead-import")  # empty: only this test imports into it
    with use_database(Path(target.home), target.database_url) as home:
        imported = run(home, "import", str(export), env=KEYED)
        assert imported.code == 0, imported.stderr
        checked = run(home, "verifactu", "verify", env=KEYED)
        assert checked.code == 0, checked.stderr
        assert "records:12345678Z  3 records  OK" in checked.stdout


def test_a_time_going_back_is_noted_not_a_break_unless_the_record_before_is_logged_ahead():
    from datetime import datetime

    from domain.model.fingerprints import RecordTexts, first_break

    def record(number: str, at: str, before: RecordTexts | None) -> RecordTexts:
        texts = RecordTexts(False, "12345678Z", number, "31-03-2026", "F1", "0.00", "5.00",
                            before.fingerprint if before else "", before.number if before else "", at, "")
        return RecordTexts(**{**texts.__dict__, "fingerprint": texts.computed()})

    first = record("F-2026-001", NOW, None)
    ahead = record("F-2026-002", AHEAD, first)
    back = record("F-2026-003", NOW, ahead)
    now = datetime.fromisoformat("2026-04-01T00:00:00+02:00")
    noted: list = []
    assert first_break([first, ahead, back], chained_from="", noted=noted, now=now) == (3, None)
    assert [(n.position, n.anomaly) for n in noted] == [(2, "13"), (3, "11")]
    noted.clear()
    assert first_break([first, ahead, back], noted=noted, now=now,
                       logged_ahead={("F-2026-002", "31-03-2026")}) == (3, None)
    assert [(n.position, n.anomaly) for n in noted] == [(2, "13")]  # found still, its 11 explained
    edited = RecordTexts(**{**back.__dict__, "generated_at": "2026-03-31T12:00:01+02:00"})
    assert first_break([first, ahead, edited])[1].anomaly == "01"  # an edited time is an edit


# ------------------------------------------------------------------ VERI*FACTU mode: no log to explain it

IN_VERIFACTU_MODE = IN_FORCE + [
    ("identity", "invoicing", "--verifactu-mode", "verifactu"),
    ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15"),  # F-2026-001
]


@pytest.fixture
def sent_as_made(module_store, store) -> Iterator[Path]:
    with copied(recorded_template(module_store, store.backend, "hostile-record-clock-ahead-verifactu",
                                  IN_VERIFACTU_MODE, KEYED), store) as home:
        yield home


def test_in_verifactu_mode_a_record_far_ahead_is_followed_with_a_warning(sent_as_made):
    made_ahead(sent_as_made)
    done = run(sent_as_made, "invoice", "issue", "acme", "--amount", "5EUR")
    assert done.code == 0, done.stderr
    assert "F-2026-003" in done.stdout
    assert done.stderr_lines == [
        f"warning: your last billing record (F-2026-002, made at {AHEAD}) is 26663 days ahead of this machine's"
        f" clock ({NOW}): the clock that made it was wrong; this record follows it at the right time, and the"
        " agency will read a record made before the one before it (anomaly 11 of its list)"]
    checked = run(sent_as_made, "verifactu", "verify")
    assert checked.code == 0 and "records:12345678Z  3 records  OK" in checked.stdout, checked.stderr


def test_in_verifactu_mode_a_record_less_than_a_day_ahead_is_waited_for(sent_as_made):
    ok(sent_as_made, "invoice", "issue", "acme", "--amount", "100EUR", env={"TRATOS_NOW": "2026-03-31T20:00:00+02:00"})
    said = refused(sent_as_made, ("invoice", "issue", "acme", "--amount", "5EUR"), 1,
            "error: your last billing record (F-2026-002, made at 2026-03-31T20:00:00+02:00) is ahead of this"
            f" machine's clock ({NOW})")
    assert said.endswith("correct this clock, or wait until it passes that time. Nothing was recorded\n")
