"""Several OS processes writing one store at once lose nothing (SPEC §7, issue 8).

Spawned children each open their own `Tratos` on the test's store (SQLite file
or PostgreSQL schema), wait at a barrier so they really start together, and
report only the commands that returned; now and then each catches the read
models up, as reading commands would. The store is then read back raw, the
real `tratos audit verify` must pass on it, and the read models caught up
incrementally must equal a rebuild from scratch, row for row.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections import Counter
from decimal import Decimal

import pytest
import store_workers
from backends import StoreSpec, audit_verify
from read_models import caught_up, rebuilt
from store_workers import DAY

from domain.model.chain import event_type, verify_chain
from domain.model.invoices import invoice_number, series_id
from domain.model.money import Money
from domain.model.values import Installment, Party, Scope, stream_id

WORKERS = 8
NOTES = 200  # per worker: half on the shared client, half on its own
INVOICES = 25  # per worker, each on its own client
NOTES_PER_CATCH_UP = 20  # each worker catches the read models up after this many notes
INVOICES_PER_CATCH_UP = 5
DEADLINE = 240  # seconds; a hung child fails the test instead of hanging it


def run_concurrently(target: str, arguments: list[tuple]) -> list[dict]:
    """Run store_workers.<target>(*args) in one spawned process per args, all started together."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(len(arguments))
    results = context.Queue()
    processes = [context.Process(target=store_workers.run_child, args=(target, i, args, start, results))
                 for i, args in enumerate(arguments)]
    for process in processes:
        process.start()
    collected: dict[int, dict] = {}
    deadline = time.monotonic() + DEADLINE
    try:
        while len(collected) < len(processes):
            if time.monotonic() > deadline:
                pytest.fail(f"children still running after {DEADLINE}s")
            try:
                index, result = results.get(timeout=1)
            except queue.Empty:
                dead = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
                if dead:
                    pytest.fail(f"a child died without reporting (exit codes {dead})")
                continue
            collected[index] = result
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    crashed = [result["crashed"] for result in collected.values() if "crashed" in result]
    assert not crashed, crashed[0]
    return [collected[i] for i in range(len(processes))]


def stream_records(app, stream) -> list:
    records = list(app.raw_records(stream))
    versions = [record.version for record in records]
    assert versions == list(range(1, len(records) + 1)), f"versions of {stream} are not contiguous"
    return records


def check_audit_and_read_models(store: StoreSpec, app, events: int, rows_above: int | None = None) -> None:
    """The real `tratos audit verify` passes (every chain, and the read models' positions and
    heads the workers left); the read models, caught up from there, equal a rebuild (which has
    more rows than `rows_above`: by default the events, each of which makes a row or more)."""
    report = audit_verify(store)
    assert report["records"] == events, report["records"]
    assert report["positions_checked"] > 0, "the workers' catch-ups left no position to check"
    incremental, scratch = caught_up(app), rebuilt(app)
    assert sum(len(rows) for rows in scratch.values()) > (events if rows_above is None else rows_above)
    assert incremental == scratch, "read models caught up incrementally differ from a rebuild"


def retries_of(results: list[dict]) -> Counter:
    total: Counter = Counter()
    for result in results:
        total.update(result["retries"])
    return total


def test_eight_processes_recording_notes_lose_nothing_and_duplicate_nothing(store: StoreSpec, make_app):
    setup = make_app()
    setup.open_relationship("shared", Party(name="Shared Ltd"), on=DAY)
    own = [f"own-{worker}" for worker in range(WORKERS)]
    for handle in own:
        setup.open_relationship(handle, Party(name=f"Client {handle}"), on=DAY)

    began = time.perf_counter()
    results = run_concurrently(
        "record_notes", [(store, worker, NOTES, "shared", own[worker], True, NOTES_PER_CATCH_UP)
                         for worker in range(WORKERS)])
    elapsed = time.perf_counter() - began

    acknowledged = Counter(pair for result in results for pair in result["acknowledged"])
    reported = [conflict for result in results for conflict in result["conflicts"]]
    print(f"\n{store.backend}: {WORKERS}x{NOTES} notes in {elapsed:.1f}s,"
          f" retried saves {dict(retries_of(results))} (at most"
          f" {max(r['most_retries'] for r in results)} in one command), reported conflicts {len(reported)}")

    reader = make_app()
    stored: Counter = Counter()
    for handle in ["shared", *own]:
        report = reader.verify(handle)
        assert report.ok, f"{handle}: {report.broken}"
        for record in stream_records(reader, stream_id(handle)):
            if event_type(record.topic) == "NoteRecorded":
                stored[(handle, record.state["text"])] += 1

    duplicated = [pair for pair, count in stored.items() if count > 1]
    assert not duplicated, f"recorded more than once: {duplicated[:5]}"
    missing = [pair for pair in acknowledged if pair not in stored]
    assert not missing, f"acknowledged but not in the store: {missing[:5]}"
    assert stored == acknowledged, "the store holds notes no command acknowledged"
    assert not reported, f"{len(reported)} commands gave up under contention: {reported[:3]}"
    assert sum(acknowledged.values()) == WORKERS * NOTES
    assert stored[("shared", "w0-n000")] == 1 and len(stream_records(reader, stream_id("shared"))) == 1 + WORKERS * NOTES // 2
    check_audit_and_read_models(store, reader, events=1 + WORKERS + WORKERS * NOTES)


def _contract_in_force(app, handle: str) -> None:
    app.open_relationship(handle, Party(name=f"Client {handle}"), on=DAY)
    price = Money.of(Decimal("2500"), "EUR")
    app.draft_contract(handle, title="Retainer", scope=Scope(description="Monthly work"), price=price,
                       start=DAY, end=DAY.replace(month=12),
                       installments=[Installment(n=1, amount=price, due=DAY)], on=DAY)
    for party in ("us", "client"):
        app.sign_contract(handle, party=party, signer=f"{party} signer", method="typed", on=DAY)


def test_concurrent_invoices_are_numbered_without_gaps_or_duplicates(store: StoreSpec, make_app):
    setup = make_app()
    handles = [f"billed-{worker}" for worker in range(WORKERS)]
    for handle in handles:
        _contract_in_force(setup, handle)

    began = time.perf_counter()
    results = run_concurrently(
        "issue_invoices", [(store, worker, INVOICES, handles[worker], INVOICES_PER_CATCH_UP)
                           for worker in range(WORKERS)])
    elapsed = time.perf_counter() - began
    reported = [conflict for result in results for conflict in result["conflicts"]]
    print(f"\n{store.backend}: {WORKERS}x{INVOICES} invoices in {elapsed:.1f}s,"
          f" retried saves {dict(retries_of(results))} (at most"
          f" {max(r['most_retries'] for r in results)} in one command), reported conflicts {len(reported)}")

    reader = make_app()
    issued: Counter = Counter()
    corrections: Counter = Counter()
    for handle in handles:
        report = reader.verify(handle)
        assert report.ok, f"{handle}: {report.broken}"
        for record in stream_records(reader, stream_id(handle)):
            if event_type(record.topic) == "InvoiceIssued":
                issued[(handle, record.state["invoice_number"])] += 1
            if event_type(record.topic) == "InvoiceCorrected":
                corrections[(handle, record.state["invoice_number"])] += 1
    series = series_id("F", DAY.year)
    assert verify_chain(series, reader.raw_records(series)).ok
    assigned = Counter((record.state["handle"], record.state["invoice_number"])
                       for record in stream_records(reader, series))

    expected = [invoice_number("F", DAY.year, n) for n in range(1, WORKERS * INVOICES + 1)]
    numbers = sorted(number for _, number in issued.elements())
    assert numbers == expected, "invoice numbers have gaps or duplicates"
    assert assigned == issued, "the series and the relationships disagree"
    acknowledged = sorted(number for result in results for number in result["acknowledged"])
    assert acknowledged == expected
    assert not reported, f"{len(reported)} invoices gave up under contention: {reported[:3]}"
    # the corrective series: as gapless, and numbered for the clients that corrected
    corrective = series_id("R", DAY.year)
    assert verify_chain(corrective, reader.raw_records(corrective)).ok
    per_worker = INVOICES // 3
    expected_r = [invoice_number("R", DAY.year, n) for n in range(1, WORKERS * per_worker + 1)]
    assert sorted(number for _, number in corrections.elements()) == expected_r
    assert Counter((record.state["handle"], record.state["invoice_number"])
                   for record in stream_records(reader, corrective)) == corrections
    assert sorted(n for result in results for n in result["corrected"]) == expected_r
    # one chain of billing records across both series and every client: each number once, each
    # record chained to the one saved before it (ADR-49)
    from domain.adapters.verifactu_xml import chain_records, verify_store
    from domain.model.streams import records_id

    registered = [r.invoice_number for r in chain_records(reader, records_id("12345678Z"))]
    assert sorted(registered) == sorted(numbers + expected_r)
    assert [(c.records, c.ok) for c in verify_store(reader)] == [(len(registered), True)]
    # per client: opened, drafted, signed twice, its invoices and corrections; plus a series record
    # and a billing record each (a correction changes its invoice's row rather than adding one)
    check_audit_and_read_models(store, reader, events=WORKERS * (4 + INVOICES + per_worker)
                                + 2 * WORKERS * (INVOICES + per_worker), rows_above=WORKERS * (4 + 2 * INVOICES))


def test_without_taking_turns_optimistic_retries_alone_still_lose_and_duplicate_nothing(
        store: StoreSpec, make_app):
    """The per-stream locks only save work: with them off, every writer races on one stream,
    conflicts are retried (or reported), and still nothing is lost or recorded twice."""
    setup = make_app()
    setup.open_relationship("hot", Party(name="Hot Ltd"), on=DAY)
    per_worker = 20
    results = run_concurrently(
        "record_notes", [(store, worker, per_worker, "hot", None, False) for worker in range(WORKERS)])
    acknowledged = Counter(pair for result in results for pair in result["acknowledged"])
    reported = {(handle, text) for result in results for handle, text, _ in result["conflicts"]}
    retries = retries_of(results)
    print(f"\n{store.backend}: {WORKERS}x{per_worker} racing notes, retried saves {dict(retries)},"
          f" reported conflicts {len(reported)}")

    reader = make_app()
    assert reader.verify("hot").ok
    stored = Counter(("hot", record.state["text"]) for record in stream_records(reader, stream_id("hot"))
                     if event_type(record.topic) == "NoteRecorded")
    assert stored == acknowledged, "lost, duplicated or unacknowledged notes"
    assert not reported & set(stored), "a command reported as failed was recorded"
    assert len(acknowledged) + len(reported) == WORKERS * per_worker
    assert sum(retries.values()) > 0, "the writers never raced: this test proves nothing"
