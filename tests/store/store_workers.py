"""Child-process side of the concurrency and crash tests (spawned, so importable by name).

Each child opens its own `Tratos` on the shared store, exactly as a separate
`tratos` process would, and reports only what returned successfully. Now and
then a child also catches the read models up, as a reading command would, so
that read models are updated while others write (and, in the crash test, a
kill may land in the middle of a catch-up).
"""

from __future__ import annotations

import os
import time
import traceback
from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

from backends import StoreSpec
from eventsourcing.persistence import IntegrityError, OperationalError
from read_models import catch_up

from domain.adapters.storage import StreamLocks
from domain.model.errors import ConcurrencyConflict
from domain.model.money import Money

DAY = date(2026, 3, 2)
START_TIMEOUT = 120  # seconds for all children to open the store


def count_failed_saves(app: Any) -> Counter:
    """Count the optimistic-concurrency conflicts `_update` retries (instrumentation only)."""
    failed: Counter = Counter()
    save = app.save

    def counting_save(*aggregates: Any, **kwargs: Any) -> Any:
        try:
            return save(*aggregates, **kwargs)
        except (IntegrityError, OperationalError) as error:
            failed[type(error).__name__] += 1
            raise

    app.save = counting_save
    return failed


def run_child(target: str, index: int, args: tuple, start: Any, results: Any) -> None:
    """Process entry point: open, wait for everyone, run `target`, send back (index, result)."""
    try:
        result = globals()[target](*args, start=start)
        results.put((index, result))
    except BaseException:  # report, never hang the parent
        results.put((index, {"crashed": traceback.format_exc()}))


def record_notes(spec: StoreSpec, worker: int, count: int, shared: str, own: str | None = None,
                 take_turns: bool = True, catch_up_every: int = 0, *, start: Any) -> dict:
    """`count` notes, alternating between `shared` and `own` (all on `shared` without `own`).
    `take_turns=False` drops the per-stream locks: optimistic retries alone. With
    `catch_up_every=N` the read models are caught up after every N commands."""
    app = spec.open(actor=f"worker-{worker}")
    if not take_turns:
        app.stream_locks.close()
        app.stream_locks = StreamLocks()
    failed = count_failed_saves(app)
    acknowledged: list[tuple[str, str]] = []
    conflicts: list[tuple[str, str, str]] = []
    most = 0  # the most retries one command needed
    start.wait(START_TIMEOUT)
    began = time.perf_counter()
    for i in range(count):
        handle = shared if i % 2 == 0 or own is None else own
        text = f"w{worker}-n{i:03d}"
        before = sum(failed.values())
        try:
            app.record_note(handle, text, on=DAY)
        except ConcurrencyConflict as error:
            conflicts.append((handle, text, str(error)))
        else:
            acknowledged.append((handle, text))
        most = max(most, sum(failed.values()) - before)
        if catch_up_every and i % catch_up_every == catch_up_every - 1:
            catch_up(app)
    elapsed = time.perf_counter() - began
    app.close()
    return {"acknowledged": acknowledged, "conflicts": conflicts, "retries": dict(failed),
            "most_retries": most, "seconds": elapsed}


def issue_invoices(spec: StoreSpec, worker: int, count: int, handle: str, catch_up_every: int = 0,
                   *, start: Any) -> dict:
    app = spec.open(actor=f"worker-{worker}")
    failed = count_failed_saves(app)
    acknowledged: list[str] = []
    corrected: list[str] = []  # every third invoice is corrected at once: the R series races too
    conflicts: list[str] = []
    most = 0  # the most retries one command needed
    start.wait(START_TIMEOUT)
    began = time.perf_counter()
    for i in range(count):
        before = sum(failed.values())
        try:
            recorded = app.issue_invoice(handle, on=DAY, amount=Money.of(Decimal("100"), "EUR"))
            acknowledged.append(recorded.id)
            if i % 3 == 2:
                corrected.append(app.correct_invoice(handle, recorded.id, on=DAY, reason="One euro off",
                                                     amount=Money.of(Decimal("-1"), "EUR")).id)
        except ConcurrencyConflict as error:
            conflicts.append(str(error))
        most = max(most, sum(failed.values()) - before)
        if catch_up_every and i % catch_up_every == catch_up_every - 1:
            catch_up(app)
    elapsed = time.perf_counter() - began
    app.close()
    return {"acknowledged": acknowledged, "corrected": corrected, "conflicts": conflicts,
            "retries": dict(failed), "most_retries": most, "seconds": elapsed}


def record_until_killed(spec: StoreSpec, side_file: str, run: int, handles: tuple[str, ...],
                        invoice_handle: str, ready: Any) -> None:
    """Record notes (and now and then an invoice) forever; append each acknowledged id to
    `side_file`, flushed and fsynced, only after the command returned. Every third command
    is followed by a catch-up of the read models, as a reading command would do."""
    app = spec.open(actor=f"crash-{run}")
    with open(side_file, "a", encoding="utf-8") as side:
        ready.set()
        i = 0
        while True:
            if i % 5 == 4:
                recorded = app.issue_invoice(invoice_handle, on=DAY,
                                             amount=Money.of(Decimal("10"), "EUR"))
                line = f"invoice {invoice_handle} {recorded.id}\n"
            else:
                handle = handles[i % len(handles)]
                text = f"r{run}-n{i:04d}"
                app.record_note(handle, text, on=DAY)
                line = f"note {handle} {text}\n"
            side.write(line)
            side.flush()
            os.fsync(side.fileno())
            if i % 3 == 2:
                catch_up(app)
            i += 1
