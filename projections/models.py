"""`ReadModels`: the read side of tratos, caught up from the event log on demand.

    models = ReadModels(app)   # tables in the same database as the events, created on first use
                               # (an encrypted store's: in their own SQLCipher file, ADR-57)
    models.catch_up()          # applies what is new, page by page, exactly once
    models.status("acme")      # dicts ready for --json

Catch-up reads `app.recorder.select_notifications(start=position, limit=page,
inclusive_of_start=False)` in pages, decodes each with `app.mapper`, and for
each page writes all the rows it changed plus the tracking record in one
transaction (see `projections/store.py`). Nothing is ever loaded whole: memory
holds one page of events and the rows they touch. A rebuild
(`projections/rebuild.py`) takes five pages a transaction, and writes one
transaction while it projects the next.

Time travel (`as_of=`) runs the very same projection code over the stream's
events up to that date, into a scratch in-memory SQLite store, then reads it
with `today = as_of`: the same answer a store that only ever held those
events would give.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

from domain.adapters.clock import business_today
from domain.model.errors import UnknownClient, UnknownReference
from domain.model.streams import check_handle, stream_id
from projections import views
from projections.schema import TABLES
from projections.store import Batch, ReadModelRecorder, SQLiteReadModelRecorder, open_recorder

PAGE_SIZE = 1000
Progress = Callable[[int, int], None]


def _unknown(handle: str) -> UnknownClient:
    return UnknownClient(f"no client {handle!r}: open it with `tratos client open {handle}`", handle)


class ReadModels:
    """Read models of one store: catch-up, rebuild and the queries the CLI and documents use."""

    def __init__(self, app: Any, *, page_size: int = PAGE_SIZE,
                 recorder: ReadModelRecorder | None = None, warn: Callable[[str], None] | None = None) -> None:
        self.app = app
        self.page_size = page_size
        self.warn = warn  # says that damaged read models were thrown away (ADR-63)
        self.recorder = recorder if recorder is not None else open_recorder(app)
        self._ready = getattr(self.recorder, "owns_datastore", False)  # scratch: copied from the template
        self._mending = False
        self._removed(getattr(self.recorder, "removed", ""))

    @classmethod
    def scratch(cls, app: Any, *, page_size: int = PAGE_SIZE) -> ReadModels:
        """Read models of `app`'s log kept in a private in-memory database (close() when done)."""
        return cls(app, page_size=page_size, recorder=SQLiteReadModelRecorder.scratch())

    def close(self) -> None:
        self.recorder.close()

    def __enter__(self) -> ReadModels:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ensure(self) -> None:
        if not self._ready:
            self.recorder.ensure_schema()
            self._ready = True

    # ------------------------------------------------------------- damage (ADR-63)

    def _guarded(self, operation: Callable[..., Any], *args: Any, rebuilds: bool = False) -> Any:
        """`operation(*args)`, on read models that are a cache of the log: if it finds them damaged
        (`recorder.damage`: an encrypted store's file that SQLite no longer reads), they are thrown
        away and made again from the log, and it runs once more (`rebuilds`: it projects the whole
        log itself). Whatever else their database says is said naming them (`recorder.failure`)."""
        if self._mending:
            return operation(*args)
        try:
            try:
                return operation(*args)
            except Exception as error:
                why = self.recorder.damage(error)
                if why is None:
                    raise
            self._mend(why, catch_up=not rebuilds)
            return operation(*args)
        except Exception as error:
            failure = self.recorder.failure(error)
            if failure is None:
                raise
            raise failure from error

    def _mend(self, why: str, *, catch_up: bool) -> None:
        self._mending = True
        try:
            self.recorder = self.recorder.discarded()  # type: ignore[attr-defined]
            self._ready = False
            self._removed(why)
            if catch_up:
                self.catch_up()
        finally:
            self._mending = False

    def _removed(self, why: str) -> None:
        if why and self.warn is not None:
            where = getattr(self.recorder, "path", "the read models")
            self.warn(f"{where} was damaged ({why}): it was removed and is rebuilt from the log")

    # ------------------------------------------------------------- writing

    def catch_up(self) -> int:
        """Apply every notification recorded since the last catch-up (`_catch_up`)."""
        return self._guarded(self._catch_up)

    def _catch_up(self) -> int:
        """Apply every notification recorded since the last catch-up, a page per transaction;
        returns how many. Only one page of events is ever in memory.

        A backlog of a rebuild's size (the first command after the read models' schema changed,
        a store written by another program) is projected as a rebuild projects the log: five
        pages a transaction, written while the next are projected, by two processes from
        `rebuild.HELPER_FROM` events (ADR-20).
        """
        with self._writing_to_catch_up():
            self._ensure()
        decode = self.app.mapper.to_domain_event
        applied = 0
        position = self.recorder.position()
        while True:
            # Read before taking the write lock: nothing new, no transaction.
            page = self.app.recorder.select_notifications(start=position, limit=self.page_size,
                                                          inclusive_of_start=False)
            if not page:
                return applied
            if applied == 0 and len(page) == self.page_size:
                from projections import rebuild

                total = self.app.recorder.max_notification_id() or 0
                if total - position >= rebuild.HELPER_FROM:
                    with self._writing_to_catch_up():
                        return rebuild.rebuild(self, None, total, None)
            with self._writing_to_catch_up():
                done = self._apply_page(position, page[-1].id, [decode(n) for n in page])
            if not done:
                position = self.recorder.position()  # another process applied it meanwhile: go on from there
                continue
            applied += len(page)
            position = page[-1].id
            if len(page) < self.page_size:
                return applied

    def _writing_to_catch_up(self) -> Any:
        """Where catching up writes: a store read-only for this role (or this process) says that
        the read models are behind and who may bring them up to date (ADR-75), not only that it
        is read-only. Reading them needs no write: caught-up read models are read by anyone."""
        from domain.adapters.storage import catching_up

        return catching_up(getattr(self.app, "location", None))

    def _apply_page(self, expected: int, last: int, events: Sequence[Any]) -> bool:
        """Project `events` and record `last` as the position, in one transaction; False if the read
        models are no longer at `expected`."""
        # Imported only when there is something to apply: it imports every event class, and a
        # read of caught-up read models (most `status` runs) needs none of them.
        from projections.projector import project_page

        with self.recorder.writing() as writer:
            if writer.position() != expected:
                return False
            batch = Batch(writer)
            project_page(batch, events)
            batch.write(writer)
            writer.track(last)
        return True

    def apply(self, events: Iterable[Any]) -> int:
        """Project already-decoded events (time travel, tests), numbering them after the position."""
        self._ensure()
        count = 0
        page: list[Any] = []
        for event in events:
            page.append(event)
            if len(page) == self.page_size:
                count += self._apply_numbered(page)
                page = []
        if page:
            count += self._apply_numbered(page)
        return count

    def _apply_numbered(self, page: list[Any]) -> int:
        position = self.recorder.position()
        self._apply_page(position, position + len(page), page)
        return len(page)

    def rebuild(self, progress: Progress | None = None, *, heads: Any = None) -> int:
        """Drop every read model and project the whole log again; returns the events applied.
        Read models too damaged to be dropped (an encrypted store's file) are thrown away first.

        `heads` (a `StreamHeads`) are settled from the same decoded events once the read models
        are rebuilt, so one read of the log rebuilds both, and a rebuild that fails leaves them as
        they were (ADR-63); call its `catch_up()` afterwards for whatever was recorded meanwhile.
        `progress(done, total)` is called as transactions are written.
        """
        return self._guarded(self._rebuild, progress, heads, rebuilds=True)

    def _rebuild(self, progress: Progress | None, heads: Any) -> int:
        from projections import rebuild
        from projections.heads import HeadsSeen

        with self.recorder.rebuilding():
            self._ready = True
            total = self.app.recorder.max_notification_id() or 0
            if progress is not None:
                progress(0, total)
            seen = HeadsSeen()
            count = rebuild.rebuild(self, progress, total, seen.feed if heads is not None else None)
        if heads is not None:
            heads.settle(seen)
        return count

    # ------------------------------------------------------------- reading

    def _read(self, function: Callable[..., Any], *args: Any) -> Any:
        return self._guarded(self._read_now, function, *args)

    def _read_now(self, function: Callable[..., Any], *args: Any) -> Any:
        self._ensure()
        with self.recorder.reading() as reader:
            return function(reader, *args)

    def handles(self) -> list[str]:
        return [row["handle"] for row in self._read(
            lambda r: r.rows("SELECT handle FROM {t}relationships ORDER BY handle"))]

    def addresses(self) -> dict[str, str]:
        """Each client's email address (lower-cased) and its handle, for filing emails by sender."""
        rows = self._read(lambda r: r.rows(
            "SELECT handle, email FROM {t}relationships WHERE email IS NOT NULL AND email != '' ORDER BY handle"))
        found: dict[str, str] = {}
        for row in rows:
            found.setdefault(row["email"].lower(), row["handle"])
        return found

    def status(self, handle: str, *, today: date | None = None, as_of: date | None = None) -> dict[str, Any]:
        """Where the relationship stands: SPEC §6 keys; overdue and late fees computed for `today`.

        Without `today`, for the business date of today, from the events dated up to it: events
        dated after today (a clock that was wrong) do not count yet (ADR-26). A `today` given is
        a day to evaluate the whole record on.

        With `as_of`, the relationship as it stood at the end of that business date (from the stream,
        ignoring events that occurred after it), with overdue computed for that date.
        """
        stream = stream_id(check_handle(handle)).hex
        if today is None and as_of is None and self._read(views.dated_after, business_today(), stream):
            as_of = business_today()  # today's status never counts what is dated after today (ADR-26)
        today = today or business_today()
        if as_of is not None:
            with self.as_of(as_of, handle) as past, self._not_yet(handle, as_of):
                return past.status(handle, today=as_of)
        result = self._read(views.status, stream, today)
        if result is None:
            raise _unknown(handle)
        return result

    def portfolio(self, *, today: date | None = None, as_of: date | None = None) -> list[dict[str, Any]]:
        """Every client on one line: state, contract total, outstanding, overdue, open changes and mistakes."""
        if today is None and as_of is None and self._read(views.dated_after, business_today()):
            as_of = business_today()  # as in `status`: nothing dated after today counts today
        today = today or business_today()
        if as_of is not None:
            with self.as_of(as_of) as past:
                return past.portfolio(today=as_of)
        return self._read(views.portfolio, today)

    def timeline(self, handle: str, *, as_of: date | None = None) -> list[dict[str, Any]]:
        """One row per event of the relationship, oldest first, each with what it said (to word with
        `projections.sentences.describe`)."""
        stream = stream_id(check_handle(handle)).hex
        if as_of is not None:
            with self.as_of(as_of, handle) as past, self._not_yet(handle, as_of):
                return past.timeline(handle)
        rows = self._read(views.timeline, stream)
        if not rows:
            raise _unknown(handle)
        return rows

    @contextmanager
    def _not_yet(self, handle: str, day: date) -> Iterator[None]:
        """A client unknown on `day` but opened later is said so (not 'did you mean…')."""
        try:
            yield
        except UnknownClient:
            if self.app.exists(handle):
                raise UnknownReference(f"{handle} was not a client yet on {day}") from None
            raise

    @contextmanager
    def as_it_stood(self, day: date) -> Iterator[ReadModels]:
        """These read models, or, when an event is dated after `day`, the record as it stood at the
        end of `day` (what `check` lists for a day must not count what happened after it, ADR-26)."""
        if not self._read(views.dated_after, day):
            yield self
            return
        with self.as_of(day) as past:
            yield past

    def latest_on(self) -> date | None:
        """The latest business date of any event: after today only where a clock was wrong (ADR-26)."""
        row = self._read(lambda r: r.one("SELECT max(last_on) AS latest FROM {t}relationships"))
        return date.fromisoformat(row["latest"]) if row and row["latest"] else None

    def lessons(self) -> list[dict[str, Any]]:
        return self._read(views.lessons)

    def unmarked_late(self, today: date | None = None) -> list[dict[str, Any]]:
        """Invoices overdue on `today` that no PaymentLate has marked yet: what `check` marks."""
        return self._read(views.unmarked_late, today or business_today())

    def rate_table_clients(self) -> list[str]:
        """The clients whose terms take the reference rate from the half-year table: what `check`
        warns about when the table is out of date."""
        return self._read(views.rate_table_clients)

    def actions(self, today: date | None = None) -> list[dict[str, Any]]:
        """What needs action on `today`: late payments, installments to invoice, changes waiting,
        mistakes not acknowledged within the response time, contracts past their end."""
        return self._read(views.actions, today or business_today())

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every read model, sorted: for comparing two sets of read models."""
        def read(reader: Any) -> dict[str, list[tuple[Any, ...]]]:
            result = {}
            for name, table in TABLES.items():
                rows = reader.rows(f"SELECT {', '.join(table.columns)} FROM {{t}}{name}")
                result[name] = sorted((tuple(row[c] for c in table.columns) for row in rows), key=repr)
            return result

        return self._read(read)

    # ------------------------------------------------------------- time travel

    def as_of(self, day: date, handle: str | None = None) -> ReadModels:
        """The read models as they stood at the end of `day` (one client's, or everyone's), in a
        scratch store: use as a context manager, and pass `today=day` to what depends on the date.

        The same projection code over the events that occurred on or before `day` (in their
        recorded order): what a store that only ever held those events would show.
        """
        past = ReadModels.scratch(self.app)
        try:
            past.apply(e for e in self._events(handle) if e.occurred_on <= day)
        except BaseException:
            past.close()
            raise
        return past

    def _events(self, handle: str | None) -> Iterable[Any]:
        decode = self.app.mapper.to_domain_event
        if handle is not None:
            for stored in self.app.recorder.select_events(stream_id(check_handle(handle))):
                yield decode(stored)
            return
        position = 0
        while True:
            page = self.app.recorder.select_notifications(start=position, limit=self.page_size,
                                                          inclusive_of_start=False)
            for notification in page:
                yield decode(notification)
            if len(page) < self.page_size:
                return
            position = page[-1].id
