"""Hostile export files: whatever a forger puts in one, import refuses it whole and the store stays empty.

Each forged file is resealed (its chains recomputed, its end line recounted), so only the
rules the import replays can refuse it: the aggregates' fold, the read models' one client
per handle, the keys of a line. Both backends (the `store` fixture runs each test on each).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import test_export_import as round_trip
from forger import Forger, seal
from support import ACME, ACME_STREAM, NORTH, record_story, tratos

from domain.adapters.evidence import EvidenceFolder
from domain.adapters.transfer import FORMAT
from domain.model.chain import GENESIS, canonical_json, digest_of, event_type
from domain.model.values import stream_id

NORTH_STREAM = stream_id(NORTH)
exported, fresh, count = round_trip.exported, round_trip.fresh, round_trip.count  # the fixtures and the count
Record = dict[str, Any]


# ------------------------------------------------------------------ forging files


def records_of(path: Path) -> tuple[Record, list[Record], Record]:
    lines = [json.loads(line) for line in path.read_bytes().splitlines()]
    return lines[0], lines[1:-1], lines[-1]


def write(path: Path, header: Record, records: list[Record], end: Record | None = None) -> Path:
    """The file as export would write it: chains resealed, versions renumbered per stream, end recounted."""
    previous: dict[str, str] = {}
    versions: dict[str, int] = {}
    for record in records:
        stream = record["stream"]
        versions[stream] = record["version"] = versions.get(stream, 0) + 1
        state = record["state"]
        state["digest"] = digest_of(previous.get(stream, GENESIS), uuid.UUID(stream), record["version"],
                                    event_type(record["topic"]), state)
        previous[stream] = state["digest"]
    end = end or {"end": True, "events": len(records), "format": FORMAT}
    forged = path.with_name("forged.jsonl")
    forged.write_bytes(b"".join(canonical_json(line) + b"\n" for line in (header, *records, end)))
    return forged


def first(records: list[Record], stream: uuid.UUID, kind: str) -> Record:
    return next(r for r in records if r["stream"] == str(stream) and r["topic"].endswith(f":{kind}"))


def copy_of(record: Record) -> Record:
    return json.loads(json.dumps(record))


def second_opening_at_the_end(records: list[Record]) -> None:
    records.append(copy_of(first(records, ACME_STREAM, "RelationshipOpened")))


def second_opening_in_the_middle(records: list[Record]) -> None:
    records.insert(3, copy_of(first(records, ACME_STREAM, "RelationshipOpened")))


def second_opening_under_another_name(records: list[Record]) -> None:
    again = copy_of(first(records, ACME_STREAM, "RelationshipOpened"))
    again["state"]["handle"] = "acme-two"
    records.append(again)


def handle_renamed(records: list[Record]) -> None:
    first(records, ACME_STREAM, "RelationshipOpened")["state"]["handle"] = "acme-renamed"


def handle_renamed_to_an_invalid_one(records: list[Record]) -> None:
    first(records, ACME_STREAM, "RelationshipOpened")["state"]["handle"] = "ACME Corp"


def second_client_takes_the_handle(records: list[Record]) -> None:
    first(records, NORTH_STREAM, "RelationshipOpened")["state"]["handle"] = ACME


def stream_without_opening(records: list[Record]) -> None:
    records.remove(first(records, NORTH_STREAM, "RelationshipOpened"))


def invoice_number_in_a_client_stream(records: list[Record]) -> None:
    number = copy_of(next(r for r in records if r["topic"].endswith(":InvoiceNumberAssigned")))
    number["stream"] = str(ACME_STREAM)
    records.append(number)


def client_event_in_the_series(records: list[Record]) -> None:
    series = next(r for r in records if r["topic"].endswith(":InvoiceNumberAssigned"))["stream"]
    note = copy_of(first(records, ACME_STREAM, "NoteRecorded"))
    note["stream"] = series
    records.append(note)


def series_of_another_year(records: list[Record]) -> None:
    next(r for r in records if r["topic"].endswith(":InvoiceNumberAssigned"))["state"]["year"] = 2031


def payment_of_an_unknown_invoice(records: list[Record]) -> None:
    payment = copy_of(first(records, ACME_STREAM, "PaymentReceived"))
    payment["state"]["invoice_number"] = "F-2099-999"
    records.append(payment)


def hours_on_an_unknown_contract(records: list[Record]) -> None:
    hours = copy_of(first(records, ACME_STREAM, "HoursLogged"))
    hours["state"]["contract_id"] = "K9"
    records.append(hours)


def number_assigned_on_another_day(records: list[Record]) -> None:
    state = next(r for r in records if r["topic"].endswith(":InvoiceNumberAssigned"))["state"]
    state["occurred_on"] = "2026-01-16"  # F-2026-001 was issued on 2026-01-15


def invoice_without_lines(records: list[Record]) -> None:
    first(records, ACME_STREAM, "InvoiceIssued")["state"]["lines"] = []


def opening_copied_into_a_new_stream(records: list[Record]) -> None:
    copy = copy_of(first(records, ACME_STREAM, "RelationshipOpened"))
    copy["stream"], copy["state"]["handle"] = str(stream_id("initech")), "globex"
    records.append(copy)


def invoice_numbered_as_a_corrective(records: list[Record]) -> None:
    number = next(r for r in records if r["topic"].endswith(":InvoiceNumberAssigned"))
    number["topic"] = number["topic"].replace("InvoiceNumberAssigned", "CorrectiveNumberAssigned")


def corrective_number_in_an_invoice_series(records: list[Record]) -> None:
    number = copy_of(next(r for r in records if r["topic"].endswith(":InvoiceNumberAssigned")))
    number["topic"] = number["topic"].replace("InvoiceNumberAssigned", "CorrectiveNumberAssigned")
    records.append(number)


IMPOSSIBLE = {
    number_assigned_on_another_day: (1, "the series assigns F-2026-001 on 2026-01-16, but it was issued on 2026-01-15"),
    invoice_without_lines: (1, "has no lines: an invoice bills at least one"),
    invoice_numbered_as_a_corrective: (1, "the series numbers F-2026-001 as a corrective, but 'acme' issued an"
                                          " invoice with it"),
    corrective_number_in_an_invoice_series: (1, "version 2: a CorrectiveNumberAssigned in the stream of an invoice"
                                                " series: a series numbers one kind of invoice"),
    # forgery: (exit code, what the one error line says)
    second_opening_at_the_end: (1, f"stream {ACME_STREAM} version 11: a second RelationshipOpened"),
    second_opening_in_the_middle: (1, f"stream {ACME_STREAM} version 4: a second RelationshipOpened"),
    second_opening_under_another_name: (1, f"stream {ACME_STREAM} version 11: a second RelationshipOpened"),
    handle_renamed: (1, f"stream {ACME_STREAM} version 1: the opening names the handle 'acme-renamed',"
                        " whose stream is not this one"),
    handle_renamed_to_an_invalid_one: (1, f"stream {ACME_STREAM} version 1: the opening names the handle"
                                          " 'ACME Corp'"),
    second_client_takes_the_handle: (1, f"stream {NORTH_STREAM} version 1 opens the client 'acme', which"
                                        f" stream {ACME_STREAM} opened already"),
    stream_without_opening: (1, f"stream {NORTH_STREAM} version 1: the stream begins with"),
    invoice_number_in_a_client_stream: (1, f"stream {ACME_STREAM} version 11: a InvoiceNumberAssigned in the"
                                           " stream of a relationship"),
    client_event_in_the_series: (1, "version 2: a NoteRecorded in the stream of a invoice series"),
    series_of_another_year: (1, "version 1: the number belongs to the series F-2031"),
    payment_of_an_unknown_invoice: (1, f"stream {ACME_STREAM} version 11: PaymentReceived does not fit the"
                                       " events before it"),
    hours_on_an_unknown_contract: (1, f"stream {ACME_STREAM} version 11: HoursLogged does not fit the"
                                      " events before it"),
    opening_copied_into_a_new_stream: (1, "version 1: the opening names the handle 'globex', whose stream is"
                                          " not this one"),
}


def assert_refused(outcome: Any, code: int, says: str, target: Any) -> None:
    assert outcome.code == code, outcome
    lines = outcome.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), outcome.stderr
    assert says in lines[0], lines[0]
    assert "nothing was imported" in lines[0] or "regular file" in lines[0], lines[0]
    assert count(target) == 0
    assert not (Path(target.home) / "evidence").exists() or not any((Path(target.home) / "evidence").rglob("*"))


@pytest.mark.parametrize("forge", list(IMPOSSIBLE), ids=lambda forge: forge.__name__)
def test_a_history_the_domain_could_never_make_is_refused_whole(forge, exported, fresh):
    header, records, _ = records_of(exported)
    forge(records)
    target = fresh("target")
    code, says = IMPOSSIBLE[forge]
    assert_refused(tratos(target, "import", str(write(exported, header, records))), code, says, target)


def test_the_story_itself_still_imports(exported, fresh):
    """The resealing writer changes nothing of a true history: it imports, events and all."""
    header, records, _ = records_of(exported)
    target = fresh("target")
    outcome = tratos(target, "import", str(write(exported, header, records)))
    assert outcome.code == 0, outcome
    assert count(target) == len(records)


# ------------------------------------------------------------------ unknown keys


def key_in_a_record_line(header, records, end):
    records[4]["note"] = "hello"
    return header, records, end


def key_in_the_header(header, records, end):
    return {**header, "signed_by": "me"}, records, end


def key_in_the_end_line(header, records, end):
    return header, records, {**end, "checksum": "0"}


def key_in_an_event_state(header, records, end):
    first(records, ACME_STREAM, "NoteRecorded")["state"]["mood"] = "happy"
    return header, records, end


def key_in_a_payment_amount(header, records, end):
    first(records, ACME_STREAM, "PaymentReceived")["state"]["amount"]["rate"] = "1.1"
    return header, records, end


def key_in_the_client(header, records, end):
    first(records, ACME_STREAM, "RelationshipOpened")["state"]["client"]["iban"] = "ES00"
    return header, records, end


def key_in_an_evidence_reference(header, records, end):
    cited = next(r for r in records if r["state"].get("evidence"))["state"]
    cited["evidence"][0]["path"] = "/etc/passwd"
    return header, records, end


def key_in_a_series_number(header, records, end):
    next(r for r in records if r["topic"].endswith(":InvoiceNumberAssigned"))["state"]["prefix"] = "X"
    return header, records, end


UNKNOWN_KEYS = {
    key_in_a_record_line: (2, "line 6: the record has a key export never writes ('note')"),
    key_in_the_header: (2, "line 1: the header has a key export never writes ('signed_by')"),
    key_in_the_end_line: (2, "the end line has a key export never writes ('checksum')"),
    key_in_an_event_state: (1, "NoteRecorded v10 does not load with this tratos"),
    key_in_a_payment_amount: (1, "PaymentReceived v7 does not load with this tratos"),
    key_in_the_client: (1, "RelationshipOpened v1 does not load with this tratos"),
    key_in_an_evidence_reference: (1, "does not load with this tratos (evidence.0.path: a key tratos never writes"),
    key_in_a_series_number: (1, "InvoiceNumberAssigned v1 does not load with this tratos"),
}


@pytest.mark.parametrize("forge", list(UNKNOWN_KEYS), ids=lambda forge: forge.__name__)
def test_a_line_with_an_unknown_key_is_refused(forge, exported, fresh):
    header, records, end = forge(*records_of(exported))
    target = fresh("target")
    code, says = UNKNOWN_KEYS[forge]
    assert_refused(tratos(target, "import", str(write(exported, header, records, end))), code, says, target)


# ------------------------------------------------------------------ values tratos never writes


def _series_number(records):
    return next(r for r in records if r["topic"].endswith(":InvoiceNumberAssigned"))["state"]


def sequence_as_true(header, records, end):
    _series_number(records)["sequence"] = True  # Python: True == 1, and validation takes it
    return header, records, end


def sequence_as_float(header, records, end):
    state = _series_number(records)
    state["sequence"] = float(state["sequence"])
    return header, records, end


def year_as_text(header, records, end):
    state = _series_number(records)
    state["year"] = str(state["year"])
    return header, records, end


def amount_as_number(header, records, end):
    amount = first(records, ACME_STREAM, "PaymentReceived")["state"]["amount"]
    amount["amount"] = int(amount["amount"].split(".")[0])  # a float is refused by Money itself
    return header, records, end


def exported_at_as_a_number(header, records, end):
    return {**header, "exported_at": 1780000000}, records, end


def exported_at_without_zone(header, records, end):
    return {**header, "exported_at": "2026-06-01T10:00:00"}, records, end


def tratos_version_as_null(header, records, end):
    return {**header, "tratos_version": None}, records, end


def end_format_as_null(header, records, end):
    return header, records, {**end, "format": None}


LOOSE_VALUES = {
    sequence_as_true: (1, "has sequence = true, which is not how tratos writes it"),
    sequence_as_float: (1, "which is not how tratos writes it"),
    year_as_text: (1, "has year = \"20"),
    amount_as_number: (1, "PaymentReceived v7 has amount = "),
    exported_at_as_a_number: (2, "its header's exported_at is 1780000000"),
    exported_at_without_zone: (2, "not a UTC time as export writes it"),
    tratos_version_as_null: (2, "its header's tratos_version is None"),
    end_format_as_null: (2, "the end line's format is None"),
}


@pytest.mark.parametrize("forge", list(LOOSE_VALUES), ids=lambda forge: forge.__name__)
def test_a_value_tratos_never_writes_is_refused(forge, exported, fresh):
    """Validation is lenient (true for 1, "2026" for 2026); a file handed to import is held to the
    exact values export writes, so what goes into the store is what tratos would have recorded."""
    header, records, end = forge(*records_of(exported))
    target = fresh("target")
    code, says = LOOSE_VALUES[forge]
    assert_refused(tratos(target, "import", str(write(exported, header, records, end))), code, says, target)


# ------------------------------------------------------------------ half-valid files


@pytest.mark.parametrize("keep", [1, 5, 12], ids=lambda keep: f"valid-{keep}-then-broken")
def test_a_file_valid_up_to_its_last_lines_leaves_the_store_empty(keep, exported, fresh):
    """Many valid events, then one the fold refuses: nothing of the valid part is written."""
    header, records, _ = records_of(exported)
    broken = copy_of(first(records, ACME_STREAM, "RelationshipOpened"))
    records = [*records[:keep], broken]
    target = fresh("target")
    outcome = tratos(target, "import", str(write(exported, header, records)))
    assert outcome.code == 1 and len(outcome.stderr.splitlines()) == 1
    assert count(target) == 0


# ------------------------------------------------------------------ evidence and the commit


def test_evidence_is_in_place_before_the_events_are_committed(exported, fresh, tmp_path, monkeypatch):
    import domain.adapters.transfer as transfer

    folder = tmp_path / "evidence-copy"
    _export_evidence(exported, folder)
    target = fresh("target")
    seen: list[list[str]] = []
    inserter = transfer.event_inserter

    def watching(recorder, cursor):
        insert = inserter(recorder, cursor)

        def insert_and_look(events):
            seen.append(_evidence_files(target))
            return insert(events)

        return insert_and_look

    monkeypatch.setattr(transfer, "event_inserter", watching)
    outcome = tratos(target, "import", str(exported), "--with-evidence", str(folder))
    assert outcome.code == 0, outcome
    assert seen and all(files == _evidence_files(target) != [] for files in seen)


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), RuntimeError("killed")],
                         ids=["disk-full", "killed"])
def test_a_failed_commit_takes_back_the_evidence_it_copied(failure, exported, fresh, tmp_path, monkeypatch):
    import domain.adapters.transfer as transfer

    folder = tmp_path / "evidence-copy"
    _export_evidence(exported, folder)
    target = fresh("target")

    def failing(recorder, cursor):
        def insert(events):
            assert _evidence_files(target), "the evidence is copied before the events go in"
            raise failure

        return insert

    monkeypatch.setattr(transfer, "event_inserter", failing)
    outcome = tratos(target, "import", str(exported), "--with-evidence", str(folder))
    assert outcome.code == 1
    assert len(outcome.stderr.splitlines()) == 1 and outcome.stderr.startswith("error: ")
    assert count(target) == 0
    assert _evidence_files(target) == []


def test_evidence_the_store_already_had_is_not_taken_back(exported, fresh, tmp_path, monkeypatch):
    import domain.adapters.transfer as transfer

    folder = tmp_path / "evidence-copy"
    _export_evidence(exported, folder)
    target = fresh("target")
    kept = EvidenceFolder.of(Path(target.home))
    for file in folder.rglob("*"):
        if file.is_file():
            kept.keep(file.read_bytes())
    before = _evidence_files(target)

    def failing(recorder, cursor):
        def insert(events):
            raise OSError(28, "No space left on device")

        return insert

    monkeypatch.setattr(transfer, "event_inserter", failing)
    assert tratos(target, "import", str(exported), "--with-evidence", str(folder)).code == 1
    assert _evidence_files(target) == before != []


def _export_evidence(export: Path, folder: Path) -> None:
    """The evidence the export references, laid out as `export --with-evidence` lays it."""
    home = export.parent / "store"
    copy = EvidenceFolder(folder)
    for file in (home / "evidence").rglob("*"):
        if file.is_file():
            copy.keep(file.read_bytes())
    assert any(folder.rglob("*"))


def _evidence_files(target: Any) -> list[str]:
    folder = Path(target.home) / "evidence"
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# ------------------------------------------------------------------ not a regular file


def _tratos_script(store: Any, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """The real script in a process of its own: a command that hangs fails the test instead of the run."""
    script = Path(sys.executable).with_name("tratos")
    env = store.env({**os.environ, "TRATOS_TODAY": "2026-03-31"})
    env.pop("TRATOS_DEBUG", None)
    return subprocess.run([str(script), *args], env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("kind", ["fifo", "device", "folder-link"])
def test_import_of_a_special_file_is_refused_without_hanging(kind, fresh, tmp_path):
    target = fresh("target")
    special = tmp_path / "export.jsonl"
    if kind == "fifo":
        os.mkfifo(special)
    elif kind == "device":
        special.symlink_to("/dev/zero")
    else:
        special.symlink_to(tmp_path)
    done = _tratos_script(target, "import", str(special))
    assert done.returncode == 2, done
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert count(target) == 0


@pytest.mark.parametrize("kind, says", [
    ("unreadable", "cannot read the export file"),     # /proc/self/mem: a regular file whose read fails
    ("no-newline", "line 1 is longer than 16 MiB"),   # a sparse 20 GiB file: refused at its first line
], ids=["unreadable", "no-newline"])
def test_import_of_a_file_that_is_not_an_export_fails_in_one_line(kind, says, fresh, tmp_path):
    target = fresh("target")
    if kind == "unreadable":
        source = Path("/proc/self/mem")
    else:
        source = tmp_path / "export.jsonl"
        with source.open("wb") as sparse:
            sparse.truncate(20 * 1024**3)
    done = _tratos_script(target, "import", str(source))
    assert done.returncode == 2, done
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], done.stderr
    assert count(target) == 0


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_audit_of_an_anchor_file_that_is_not_a_regular_file_is_refused_without_hanging(kind, store, app, home,
                                                                                       tmp_path):
    record_story(app, home)
    before = Forger(app).all_rows()
    special = tmp_path / "anchor.txt"
    os.mkfifo(special) if kind == "fifo" else special.symlink_to("/dev/zero")
    done = _tratos_script(store, "audit", "verify", "--anchor-file", str(special))
    assert done.returncode == 2, done
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot read the anchor file ") and "regular file" in lines[0]
    assert Forger(app).all_rows() == before


def test_an_anchor_file_still_reads_from_stdin_and_from_a_file(store, app, home, tmp_path):
    record_story(app, home)
    note = tratos(store, "audit", "anchor").stdout
    (tmp_path / "note.txt").write_text(note, encoding="utf-8")
    assert tratos(store, "audit", "verify", "--anchor-file", str(tmp_path / "note.txt")).code == 0
    script = Path(sys.executable).with_name("tratos")
    env = store.env({**os.environ, "TRATOS_TODAY": "2026-03-31"})
    done = subprocess.run([str(script), "audit", "verify", "--anchor-file", "-"], env=env, input=note,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done


# ------------------------------------------------------------------ the audit of a forged store


def test_the_audit_reports_a_second_opening_written_into_the_store(store, app, home):
    record_story(app, home)
    forger = Forger(app)
    records = forger.records(ACME_STREAM)
    opening = records[0]
    forger.replace_stream(ACME_STREAM, seal(ACME_STREAM, [*records, (len(records) + 1, *opening[1:])]))
    outcome = tratos(store, "audit", "verify")
    assert outcome.code == 1
    assert f"v{len(records) + 1} impossible history: a second RelationshipOpened" in outcome.stdout


def test_the_audit_reports_a_renamed_handle_written_into_the_store(store, app, home):
    record_story(app, home)
    forger = Forger(app)
    records = forger.records(ACME_STREAM)
    version, topic, state = records[0]
    forger.replace_stream(ACME_STREAM, seal(ACME_STREAM, [(version, topic, {**state, "handle": "acme-renamed"}),
                                                          *records[1:]]))
    outcome = tratos(store, "audit", "verify", "--json")
    assert outcome.code == 1
    problems = next(s for s in outcome.json()["streams"] if s["stream"] == str(ACME_STREAM))["problems"]
    assert {"version": 1, "kind": "impossible history",
            "detail": "the opening names the handle 'acme-renamed', whose stream is not this one (renamed?)"} \
        in problems


def test_a_store_forged_with_a_second_opening_refuses_to_fold_the_client(store, app, home):
    """The aggregate's fold refuses the history too, naming the stream and the version."""
    from domain.model.errors import Refused

    record_story(app, home)
    forger = Forger(app)
    records = forger.records(ACME_STREAM)
    forger.replace_stream(ACME_STREAM, seal(ACME_STREAM, [*records, (len(records) + 1, *records[0][1:])]))
    with pytest.raises(Refused) as refused:
        store.open().relationship(ACME)
    assert str(refused.value) == (f"stream {ACME_STREAM} version {len(records) + 1}: a second RelationshipOpened:"
                                  " a relationship opens only once, at version 1")


# ------------------------------------------------------------------ lifecycles the commands refuse
#
# A resealed file whose every event loads and folds, but whose lifecycle no command would have
# recorded: import re-decides each event with the command that recorded it (domain/model/replay.py).

LIVED_NOTE = "Logo colour fixed"


@pytest.fixture
def lived(app, home, store, tmp_path) -> Path:
    """The audit story, then a change approved, a mistake lived to its lesson, a late invoice, north-wind ended."""
    from datetime import date
    from decimal import Decimal

    from support import ACME_NAME, eur

    from domain.model.values import Party

    record_story(app, home)
    app.request_change(ACME, "Add a blog section", requested_by="client", on=date(2026, 2, 5))
    app.quote_change(ACME, "C1", price=eur(1200), hours=Decimal(20), days=10, on=date(2026, 2, 6))
    app.approve_change(ACME, "C1", on=date(2026, 2, 7))
    app.report_mistake(ACME, "The logo is in the old colour", reported_by="client", on=date(2026, 2, 10))
    app.acknowledge_mistake(ACME, "M1", apology="Sorry about that", on=date(2026, 2, 11))
    app.diagnose_mistake(ACME, "M1", fault="ours", cause="We used the old brand guide", category="Branding",
                         on=date(2026, 2, 12))
    app.propose_remedy(ACME, "M1", "Redo the logo in every template", hours=Decimal(2), on=date(2026, 2, 13))
    app.choose_remedy(ACME, "M1", "O1", agreed=True, on=date(2026, 2, 14))
    app.issue_invoice(ACME, installment=2, on=date(2026, 2, 15))
    app.resolve_mistake(ACME, "M1", on=date(2026, 2, 20))
    app.record_lesson(ACME, "M1", "Ask for the current brand guide at kick-off", on=date(2026, 2, 21))
    app.mark_late(ACME, "F-2026-002", on=date(2026, 3, 20))
    app.send_reminder(ACME, "F-2026-002", on=date(2026, 3, 25))
    app.end_relationship(NORTH, reason="The project was cancelled", ended_by="client", on=date(2026, 2, 1))
    app.change_client_details(ACME, Party(name=ACME_NAME, email="billing@acme.example"), on=date(2026, 3, 26))
    path = tmp_path / "lived.jsonl"
    assert tratos(store, "export", str(path)).code == 0
    return path


def kind_of(record: Record) -> str:
    return record["topic"].rpartition(":")[2]


def event(records: list[Record], kind: str, stream: uuid.UUID = ACME_STREAM, nth: int = 0) -> Record:
    return [r for r in records if r["stream"] == str(stream) and kind_of(r) == kind][nth]


def after(records: list[Record], record: Record, copy: Record) -> Record:
    records.insert(records.index(record) + 1, copy)
    return copy


def second_lesson(records):
    return after(records, event(records, "LessonRecorded"), copy_of(event(records, "LessonRecorded")))


def approval_of_a_change_never_quoted(records):
    records.remove(event(records, "ChangeQuoted"))
    return event(records, "ChangeApproved")


def contract_signed_twice_by_us(records):
    return after(records, event(records, "ContractSigned"), copy_of(event(records, "ContractSigned")))


def installment_billed_twice(records):
    again = copy_of(event(records, "InvoiceIssued"))
    again["state"]["invoice_number"] = "F-2026-009"
    records.append(again)
    return again


def payment_above_the_outstanding(records):
    payment = event(records, "PaymentReceived")
    payment["state"]["amount"]["amount"] = "4500.00"
    return payment


def resolved_before_a_remedy_was_chosen(records):
    records.remove(event(records, "RemedyChosen"))
    return event(records, "MistakeResolved")


def acknowledged_twice(records):
    return after(records, event(records, "MistakeAcknowledged"), copy_of(event(records, "MistakeAcknowledged")))


def approved_twice(records):
    return after(records, event(records, "ChangeApproved"), copy_of(event(records, "ChangeApproved")))


def remedy_chosen_that_was_never_proposed(records):
    chosen = event(records, "RemedyChosen")
    chosen["state"]["option_id"] = "O9"
    return chosen


def hours_beyond_a_day(records):
    hours = event(records, "HoursLogged")
    hours["state"]["hours"] = "25"
    return hours


def payment_before_the_invoice(records):
    payment = event(records, "PaymentReceived")
    payment["state"]["occurred_on"] = "2026-01-14"
    return payment


def signature_by_email_without_its_evidence(records):
    signed = event(records, "ContractSigned", nth=1)
    signed["state"]["evidence"] = []
    return signed


def terms_after_the_end(records):
    terms = copy_of(event(records, "TermsPublished"))
    terms["stream"], terms["state"]["occurred_on"] = str(NORTH_STREAM), "2026-02-02"
    records.append(terms)
    return terms


def document_anchoring_a_version_to_come(records):
    document = event(records, "DocumentIssued")
    document["state"]["chain_version"] = 40
    return document


def control_character_in_a_note(records):
    note = event(records, "NoteRecorded")
    note["state"]["text"] = "Client confirmed\x01 the launch date"
    return note


def contract_id_of_its_own(records):
    drafted = event(records, "ContractDrafted")
    drafted["state"]["contract_id"] = "K7"
    return drafted


def supersedes_a_contract_it_did_not(records):
    drafted = event(records, "ContractDrafted")
    drafted["state"]["supersedes"] = "K0"
    return drafted


def terms_version_skipped(records):
    terms = event(records, "TermsPublished")
    terms["state"]["terms_version"] = 3
    return terms


def installment_billed_for_more(records):
    invoice = event(records, "InvoiceIssued")
    invoice["state"]["amount"]["amount"] = "5000.00"
    return invoice


def late_with_another_outstanding(records):
    late = event(records, "PaymentLate")
    late["state"]["outstanding"]["amount"] = "400.00"
    return late


def reminder_counting_other_days(records):
    reminder = event(records, "ReminderSent")
    reminder["state"]["days_late"] = 99
    return reminder


def ended_owing_what_was_never_billed(records):
    ended = event(records, "RelationshipEnded", NORTH_STREAM)
    ended["state"]["outstanding"] = [{"amount": "100.00", "currency": "EUR"}]
    return ended


def invoice_number_out_of_sequence(records):
    number = next(r for r in records if kind_of(r) == "InvoiceNumberAssigned")
    number["state"]["sequence"], number["state"]["invoice_number"] = 5, "F-2026-005"
    return number


def category_not_as_the_command_writes_it(records):
    diagnosed = event(records, "MistakeDiagnosed")
    diagnosed["state"]["category"] = "Branding"
    return diagnosed


def mistake_outside_the_contract_in_force(records):
    reported = event(records, "MistakeReported")
    reported["state"]["contract_id"] = None
    return reported


def option_numbered_by_the_forger(records):
    proposed = event(records, "RemedyProposed")
    proposed["state"]["option_id"] = "O2"
    return proposed


REFUSED_LIFECYCLES = {
    # forgery: what the one error line says after "stream S version V: "
    second_lesson: "LessonRecorded does not fit the events before it (mistake M1 already has its lesson)",
    approval_of_a_change_never_quoted: "(change C1 is requested, not quoted: cannot approve it",
    contract_signed_twice_by_us: "(contract K1 is already signed by us)",
    installment_billed_twice: "(installment 1 of K1 is already invoiced as F-2026-001)",
    payment_above_the_outstanding: "(payment of 4500.00 EUR is more than the 4000.00 EUR outstanding",
    resolved_before_a_remedy_was_chosen: "choose a remedy before resolving it",
    acknowledged_twice: "cannot acknowledge it again",
    approved_twice: "(change C1 is approved, not quoted: cannot approve it)",
    remedy_chosen_that_was_never_proposed: "mistake M1 has no option O9",
    hours_beyond_a_day: "hours must be more than 0 and at most 24 a day",
    payment_before_the_invoice: "before invoice F-2026-001 was issued",
    signature_by_email_without_its_evidence: "a signature by email needs the evidence file",
    terms_after_the_end: "the relationship with north-wind ended on 2026-02-01",
    document_anchoring_a_version_to_come: "chain head version 40 is beyond the end of the stream",
    control_character_in_a_note: "note contains control characters",
    contract_id_of_its_own: "ContractDrafted records contract_id \"K7\", where the domain would record \"K1\"",
    supersedes_a_contract_it_did_not: "records supersedes \"K0\", where the domain would record none",
    terms_version_skipped: "TermsPublished records terms_version 3, where the domain would record 1",
    installment_billed_for_more: "InvoiceIssued records amount",
    late_with_another_outstanding: "PaymentLate records outstanding",
    reminder_counting_other_days: "ReminderSent records days_late 99, where the domain would record 8",
    ended_owing_what_was_never_billed: "RelationshipEnded records outstanding",
    invoice_number_out_of_sequence: "InvoiceNumberAssigned records sequence 5, where the domain would record 1",
    category_not_as_the_command_writes_it: "records category \"Branding\", where the domain would record \"branding\"",
    mistake_outside_the_contract_in_force: "records contract_id none, where the domain would record \"K1\"",
    option_numbered_by_the_forger: "records option_id \"O2\", where the domain would record \"O1\"",
}


@pytest.mark.parametrize("forge", list(REFUSED_LIFECYCLES), ids=lambda forge: forge.__name__)
def test_a_lifecycle_no_command_would_record_is_refused_whole(forge, lived, fresh):
    header, records, _ = records_of(lived)
    forged = forge(records)
    path = write(lived, header, records)  # renumbers: the forged record's version is its place now
    line = records.index(forged) + 2
    says = f"line {line}: stream {forged['stream']} version {forged['version']}: "
    target = fresh("target")
    outcome = tratos(target, "import", str(path))
    assert_refused(outcome, 1, says, target)
    assert REFUSED_LIFECYCLES[forge] in outcome.stderr, outcome.stderr


def test_the_lived_story_imports_and_verifies(lived, fresh):
    """Every command of the story re-decides its own event: the true file imports whole and verifies."""
    header, records, _ = records_of(lived)
    target = fresh("target")
    outcome = tratos(target, "import", "--with-evidence", str(Path(lived).parent / "store" / "evidence"),
                     str(write(lived, header, records)))
    assert outcome.code == 0, outcome
    assert count(target) == len(records)
    assert tratos(target, "audit", "verify").code == 0


# (after acme's version 7, which a DocumentIssued anchors: forging before it breaks that anchor)
def as_written_by_0_1(state, concept):
    """An invoice as tratos 0.1 recorded it (InvoiceIssued v1: no lines, no taxes), with `concept`."""
    for key in ("lines", "taxation", "exemption", "taxes", "withholding_rate", "withholding", "total",
                "issuer", "recipient", "class_version"):
        state.pop(key, None)
    state["concept"] = concept


def without_billing_records(records):
    """tratos 0.1 kept no Verifactu records: a record made from a 0.1 invoice would not be the one
    the invoice makes today (import makes each record again from its invoice), so there is none."""
    records[:] = [r for r in records if kind_of(r) not in ("InvoiceRegistered", "InvoiceRegistrationCancelled",
                                                           "BillingRecordsSent")]


def tab_in_an_invoice_concept(records):
    without_billing_records(records)
    as_written_by_0_1(event(records, "InvoiceIssued", nth=1)["state"], "Installment\t2")


def line_break_in_an_invoice_concept(records):
    without_billing_records(records)
    as_written_by_0_1(event(records, "InvoiceIssued", nth=1)["state"], "Second\ninstallment")


def c1_control_in_an_apology(records):
    event(records, "MistakeAcknowledged")["state"]["apology"] = "Sorry\x85about that"


def bidi_mark_in_a_lesson(records):
    event(records, "LessonRecorded")["state"]["lesson"] = "Ask for the brand guide \u200f at kick-off"


def zero_width_space_in_a_new_email(records):
    event(records, "ClientDetailsChanged")["state"]["client"]["email"] = "billing\u200b@acme.example"


def test_a_text_no_tratos_before_the_policy_wrote_meets_it_whole(lived, fresh):
    """ClientDetailsChanged came after ADR-26: no store holds one that the policy would refuse."""
    header, records, _ = records_of(lived)
    zero_width_space_in_a_new_email(records)
    target = fresh("target")
    outcome = tratos(target, "import", str(write(lived, header, records)))
    assert outcome.code == 1 and len(outcome.stderr.splitlines()) == 1, outcome
    assert "invisible" in outcome.stderr and "nothing was imported" in outcome.stderr, outcome.stderr
    assert count(target) == 0


def hangul_filler_in_a_new_client_name(records):
    """Typed before ADR-54 refused the fillers, in an event held to the whole policy (ADR-41)."""
    event(records, "ClientDetailsChanged")["state"]["client"]["name"] = "Acme\ufe0f \u3164"


def combining_mark_first_in_a_note(records):
    event(records, "NoteRecorded")["state"]["text"] = "\u0301\u034f note"


@pytest.mark.parametrize("forge", [tab_in_an_invoice_concept, line_break_in_an_invoice_concept,
                                   c1_control_in_an_apology, bidi_mark_in_a_lesson,
                                   hangul_filler_in_a_new_client_name, combining_mark_first_in_a_note],
                         ids=lambda forge: forge.__name__)
def test_a_text_tratos_0_1_accepted_still_imports(forge, lived, fresh):
    """Texts are re-decided by the rules every version had, not by ADR-26's later ones (ADR-24)."""
    header, records, _ = records_of(lived)
    forge(records)
    target = fresh("target")
    outcome = tratos(target, "import", str(write(lived, header, records)))
    assert outcome.code == 0, outcome
    assert count(target) == len(records)


# ------------------------------------------------------------------ values no command records (D2, D3)
#
# Each forged value is resealed; each must leave the store empty with one `error:` line. A value
# beyond what a store column holds (days 2**63) used to commit the events and then fail the
# rebuild, leaving a store every read refused.


def days_beyond_a_store_integer(records):
    event(records, "ChangeQuoted")["state"]["days"] = 2**63


def days_beyond_ten_years(records):
    event(records, "ChangeQuoted")["state"]["days"] = 3651


def change_hours_beyond_any_project(records):
    event(records, "ChangeQuoted")["state"]["hours"] = "1000000000000000"


def reminder_claiming_more(records):
    event(records, "ReminderSent")["state"]["late_fee"] = {"amount": "9999.00", "currency": "EUR"}


def reminder_claiming_a_cent(records):
    event(records, "ReminderSent")["state"]["late_fee"] = {"amount": "0.01", "currency": "EUR"}


def reminder_claiming_in_dollars(records):
    event(records, "ReminderSent")["state"]["late_fee"] = {"amount": "40.00", "currency": "USD"}


def number_assigned_to_another_client(records):
    numbers = [r for r in records if kind_of(r) == "InvoiceNumberAssigned"]
    numbers[1]["state"]["handle"] = NORTH


def document_digest_not_a_digest(records):
    event(records, "DocumentIssued")["state"]["sha256"] = "zz"


def document_of_an_unknown_kind(records):
    event(records, "DocumentIssued")["state"]["kind"] = "nope"


def document_in_french(records):
    event(records, "DocumentIssued")["state"]["lang"] = "fr"


def pades_signature_without_certificate(records):
    event(records, "ContractSigned")["state"]["method"] = "pades"


def evidence_of_negative_size(records):
    event(records, "ContractSigned", nth=1)["state"]["evidence"][0]["size"] = -1


def evidence_larger_than_any_disk(records):
    event(records, "ContractSigned", nth=1)["state"]["evidence"][0]["size"] = 10**30


def evidence_media_type_that_recolours_a_terminal(records):
    event(records, "ContractSigned", nth=1)["state"]["evidence"][0]["media_type"] = "\x1b[31m"


def evidence_name_with_an_escape(records):
    event(records, "ContractSigned", nth=1)["state"]["evidence"][0]["name"] = "accept\x1b[2J.eml"


def actor_with_a_nul(records):
    event(records, "NoteRecorded")["state"]["actor"] = "\x00"


def recorded_in_2099(records):
    state = event(records, "NoteRecorded")["state"]
    state["timestamp"] = "2099" + state["timestamp"][4:]  # as tratos writes a time, in 2099


def recorded_without_a_zone(records):
    event(records, "NoteRecorded")["state"]["timestamp"] = "2026-02-03T10:00:00"


def invoice_without_its_concept(records):
    del event(records, "InvoiceIssued")["state"]["concept"]


def opening_without_its_actor(records):
    del event(records, "RelationshipOpened")["state"]["actor"]


def quote_without_its_days(records):
    del event(records, "ChangeQuoted")["state"]["days"]


FORGED_VALUES = {
    days_beyond_a_store_integer: "the days a change adds are 0 to 3650, not 9223372036854775808",
    days_beyond_ten_years: "the days a change adds are 0 to 3650, not 3651",
    change_hours_beyond_any_project: "the hours of a change must be 0 or more and at most 100000",
    reminder_claiming_more: "the terms of F-2026-002 claim a late fee of nothing on 2026-03-25, not 9999.00 EUR",
    reminder_claiming_a_cent: "not 0.01 EUR",
    reminder_claiming_in_dollars: "not 40.00 USD",
    number_assigned_to_another_client: "the series assigns F-2026-002 to 'north-wind', but 'acme' issued it",
    document_digest_not_a_digest: "the document SHA-256 is not a SHA-256 digest: 'zz'",
    document_of_an_unknown_kind: "unknown document kind 'nope'",
    document_in_french: "documents are written in es or en, not 'fr'",
    pades_signature_without_certificate: "a PAdES signature names its certificate",
    evidence_of_negative_size: "an evidence file's size is 0 to",
    evidence_larger_than_any_disk: "not 1000000000000000000000000000000",
    evidence_media_type_that_recolours_a_terminal: "not a media type",
    evidence_name_with_an_escape: "the evidence file name",
    actor_with_a_nul: "contains control characters",
    recorded_in_2099: "NoteRecorded v10 was recorded at 2099-",
    recorded_without_a_zone: "a time without its zone",
    invoice_without_its_concept: "InvoiceIssued v6 lacks concept",
    opening_without_its_actor: "RelationshipOpened v1 lacks actor",
    quote_without_its_days: "lacks days",
}


@pytest.mark.parametrize("forge", list(FORGED_VALUES), ids=lambda forge: forge.__name__)
def test_a_value_no_command_records_is_refused_whole(forge, lived, fresh):
    header, records, _ = records_of(lived)
    forge(records)
    target = fresh("target")
    outcome = tratos(target, "import", str(write(lived, header, records)))
    assert_refused(outcome, 1, FORGED_VALUES[forge], target)


def test_a_key_given_twice_in_a_line_is_refused(lived, fresh):
    """`json` keeps the last of two equal keys: a forger's actor would hide behind the true one."""
    header, records, _ = records_of(lived)
    path = write(lived, header, records)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"state":{', b'"state":{"actor":"Evil",', 1)
    path.write_bytes(b"".join(lines))
    target = fresh("target")
    assert_refused(tratos(target, "import", str(path)), 2, "line 3 gives the key 'actor' twice", target)


def test_a_rebuild_that_fails_after_the_commit_leaves_a_store_that_reads(lived, fresh, monkeypatch):
    """The events are committed before the read models are rebuilt: if the rebuild fails (a full
    disk), the import says so and the next reading command catches the read models up."""
    from projections import ReadModels

    header, records, _ = records_of(lived)
    target = fresh("target")

    def full_disk(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(ReadModels, "rebuild", full_disk)
        outcome = tratos(target, "import", str(write(lived, header, records)))
    assert outcome.code == 0, outcome
    assert [line for line in outcome.stderr.splitlines() if "read models" in line] == [
        f"warning: imported {len(records)} events, but the read models could not be rebuilt ([Errno 28] No space"
        " left on device); the next command that reads catches them up, or run `tratos rebuild`"]
    assert count(target) == len(records)
    status = tratos(target, "status", ACME)
    assert status.code == 0 and "F-2026-002" in status.stdout, status
