"""Export → import into a fresh store → export gives the same event lines; bad files change nothing."""

from __future__ import annotations

import io
import json
import sqlite3
import tempfile
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from backends import StoreSpec, server_url, with_schema
from demo_story import record_story as record_demo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import ACME, record_story, tratos
from tax_profile import UNTAXED_PROFILE

from domain.adapters.transfer import FORMAT, export_store, import_store
from domain.model.chain import canonical_json, digest_of
from domain.model.money import Money
from domain.model.values import Installment, Party, Scope, Terms
from domain.services.application import Tratos


@pytest.fixture
def fresh(backend, tmp_path, request):
    """Make more empty stores of the test's backend (SQLite folders, or PostgreSQL schemas dropped after)."""
    schemas: list[str] = []

    def make(name: str) -> StoreSpec:
        home = tmp_path / name
        if backend == "sqlite":
            return StoreSpec("sqlite", str(home))
        import psycopg

        server = request.getfixturevalue("postgres_server")
        schema = f"tratos_test_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
        schemas.append(schema)
        return StoreSpec("postgres", str(home), with_schema(server, schema))

    yield make
    if schemas:
        import psycopg

        with psycopg.connect(server_url(), autocommit=True) as connection:
            for schema in schemas:
                connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def event_lines(path: Path) -> list[bytes]:
    lines = path.read_bytes().splitlines()
    assert json.loads(lines[0])["format"] == FORMAT
    return lines[1:]


def count(spec: StoreSpec) -> int:
    """How many events the store holds (0 for a store never opened)."""
    if spec.backend == "sqlite":
        database = Path(spec.home) / "tratos.sqlite"
        if not database.exists():
            return 0
        with sqlite3.connect(database) as connection:
            tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
            return connection.execute("SELECT count(*) FROM stored_events").fetchone()[0] \
                if "stored_events" in tables else 0
    app = spec.open()
    try:
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


class TestRoundTrip:
    def test_the_demo_store_goes_through_sqlite_and_back_with_the_same_lines(self, store, home, fresh, tmp_path):
        record_demo(home)
        first, evidence = tmp_path / "first.jsonl", tmp_path / "evidence"
        outcome = tratos(store, "export", str(first), "--with-evidence", str(evidence))
        assert outcome.code == 0, outcome.stderr
        kept = [p for p in (home / "evidence").rglob("*") if p.is_file()]
        assert kept and f"and {len(kept)} evidence files" in outcome.stdout

        lines = event_lines(first)
        assert json.loads(lines[-1]) == {"end": True, "events": len(lines) - 1, "format": FORMAT}
        assert all(line == canonical_json(json.loads(line)) for line in lines)

        hops = [StoreSpec("sqlite", str(tmp_path / "via-sqlite")), fresh("back")]
        previous = first
        for n, target in enumerate(hops):
            imported = tratos(target, "import", str(previous), "--with-evidence", str(evidence))
            assert imported.code == 0, imported.stderr
            assert tratos(target, "audit", "verify").code == 0
            assert tratos(target, "--json", "status", ACME).stdout == tratos(store, "--json", "status", ACME).stdout
            again = tmp_path / f"again-{n}.jsonl"
            assert tratos(target, "export", str(again)).code == 0
            assert event_lines(again) == lines
            previous = again

    def test_exporting_twice_gives_the_same_event_lines_and_a_new_header(self, app, home, store, tmp_path):
        record_story(app, home)
        one, two = tmp_path / "1.jsonl", tmp_path / "2.jsonl"
        assert tratos(store, "export", str(one)).code == 0
        assert tratos(store, "export", str(two)).code == 0
        assert event_lines(one) == event_lines(two)
        header = json.loads(one.read_bytes().splitlines()[0])
        assert set(header) == {"format", "format_version", "tratos_version", "exported_at"}
        assert header["format_version"] == 1


def _typed(text: str) -> bool:
    """A text the commands accept (the text policy, ADR-54's invisible characters included)."""
    from domain.model.errors import BadInput
    from domain.model.values import check_text

    try:
        check_text(text, "text")
    except BadInput:
        return False
    return True


texts = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cf")), min_size=1, max_size=40).filter(_typed)
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(99999), places=2)
steps = st.lists(st.tuples(st.sampled_from(["open", "note", "terms", "draft"]), st.integers(0, 3), texts, amounts),
                 min_size=1, max_size=25)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=steps)
def test_any_store_round_trips_with_the_same_lines(steps):
    """Generated stores (several clients, unicode names and notes, amounts) export, import, export identically."""
    with tempfile.TemporaryDirectory() as folder:
        source, target = Tratos(profile=UNTAXED_PROFILE, home=Path(folder) / "source"), Tratos(profile=UNTAXED_PROFILE, home=Path(folder) / "target")
        try:
            record_generated(source, steps)
            first = io.BytesIO()
            export_store(source, first)
            path = Path(folder) / "export.jsonl"
            path.write_bytes(first.getvalue())
            import_store(target, path)
            second = io.BytesIO()
            export_store(target, second)
            assert first.getvalue().splitlines()[1:] == second.getvalue().splitlines()[1:]
        finally:
            source.close()
            target.close()


def record_generated(app: Tratos, steps: list) -> None:
    handles: list[str] = []
    day = date(2026, 1, 1)
    for kind, who, text, amount in steps:
        day += timedelta(days=1)
        if kind == "open" or not handles:
            handles.append(f"client-{len(handles)}")
            app.open_relationship(handles[-1], Party(name=text.strip()), on=day)
            continue
        handle = handles[who % len(handles)]
        if kind == "note":
            app.record_note(handle, text, on=day)
        elif kind == "terms":
            app.publish_terms(handle, Terms(rate=Money.of(amount, "EUR")), on=day)
        else:
            price = Money.of(amount, "EUR")
            app.draft_contract(handle, title=text.strip(), scope=Scope(description="Generated work"),
                               price=price, start=day, end=day,
                               installments=[Installment(n=1, amount=price, due=day)], on=day)


# ------------------------------------------------------------------ refusals


@pytest.fixture
def exported(app, home, store, tmp_path) -> Path:
    record_story(app, home)
    path = tmp_path / "story.jsonl"
    assert tratos(store, "export", str(path)).code == 0
    return path


def rewrite(path: Path, edit) -> Path:
    lines = path.read_bytes().splitlines()
    edited = path.with_name("edited.jsonl")
    edited.write_bytes(b"\n".join(edit(lines)) + b"\n")
    return edited


class TestRefusals:
    def test_a_store_that_is_not_empty(self, exported, store):
        before = count(store)
        outcome = tratos(store, "import", str(exported))
        assert outcome.code == 1
        assert outcome.stderr == "error: the store is not empty: import only into an empty store" \
                                 " (a new --home folder, or an empty database schema)\n"
        assert count(store) == before

    def test_a_broken_chain(self, exported, fresh):
        target = fresh("target")
        edited = rewrite(exported, lambda lines: [
            line.replace(b'"amount":"4000.00"', b'"amount":"400.00"') if b"PaymentReceived" in line else line
            for line in lines])
        outcome = tratos(target, "import", str(edited))
        assert outcome.code == 1
        assert "the chain of acme does not hold at version 7 (content changed" in outcome.stderr
        assert "nothing was imported" in outcome.stderr
        assert count(target) == 0

    def test_a_missing_line(self, exported, fresh):
        target = fresh("target")
        edited = rewrite(exported, lambda lines: [
            line for n, line in enumerate(lines) if n != 4] [:-1] + [
            canonical_json({"end": True, "events": len(lines) - 3, "format": FORMAT})])
        outcome = tratos(target, "import", str(edited))
        assert outcome.code == 1
        assert "version 4 (event missing" in outcome.stderr
        assert count(target) == 0

    def test_an_unknown_format_version(self, exported, fresh):
        target = fresh("target")
        edited = rewrite(exported, lambda lines: [
            lines[0].replace(b'"format_version":1', b'"format_version":2'), *lines[1:]])
        outcome = tratos(target, "import", str(edited))
        assert outcome.code == 2
        assert "export format version 2, which this tratos (0.1.0) cannot read (it reads version 1)" \
            in outcome.stderr
        assert count(target) == 0

    def test_a_file_cut_short(self, exported, fresh):
        target = fresh("target")
        edited = rewrite(exported, lambda lines: lines[:-3])
        outcome = tratos(target, "import", str(edited))
        assert outcome.code == 2
        assert "has no end line: the file is incomplete" in outcome.stderr
        assert count(target) == 0

    def test_an_event_from_a_newer_schema(self, exported, fresh):
        target = fresh("target")

        def newer(lines):
            # A ContractDrafted v3, resealed so that its chain holds: only the schema check can refuse it.
            out, previous = [lines[0]], {}
            for line in lines[1:-1]:
                record = json.loads(line)
                state, stream = record["state"], uuid.UUID(record["stream"])
                if record["topic"].endswith(":ContractDrafted"):
                    state["class_version"] = 3
                kind = record["topic"].rpartition(":")[2]
                state["digest"] = digest_of(previous.get(stream, "0" * 64), stream, record["version"], kind, state)
                previous[stream] = state["digest"]
                out.append(canonical_json(record))
            return [*out, lines[-1]]

        outcome = tratos(target, "import", str(rewrite(exported, newer)))
        assert outcome.code == 1
        assert "ContractDrafted v3 does not load with this tratos (ContractDrafted version 3 is newer" \
            in outcome.stderr
        assert count(target) == 0

    def test_evidence_missing_from_the_folder(self, exported, fresh, tmp_path):
        target = fresh("target")
        empty = tmp_path / "no-evidence"
        empty.mkdir()
        outcome = tratos(target, "import", str(exported), "--with-evidence", str(empty))
        assert outcome.code == 2
        assert "is missing from" in outcome.stderr and "nothing was imported" in outcome.stderr
        assert count(target) == 0

    def test_a_failure_while_writing_leaves_the_store_empty(self, exported, fresh, monkeypatch):
        import domain.adapters.transfer

        monkeypatch.setattr(domain.adapters.transfer, "INSERT_CHUNK", 2)
        target = fresh("target").open()
        try:
            encode, calls = target.mapper.encode_state, []

            def failing(state):
                calls.append(state)
                if len(calls) == 9:
                    raise OSError("disk full")
                return encode(state)

            monkeypatch.setattr(target.mapper, "encode_state", failing)
            with pytest.raises(OSError):
                import_store(target, exported)
            assert (target.recorder.max_notification_id() or 0) == 0
        finally:
            target.close()
