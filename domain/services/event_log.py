"""The Application's Verifactu event log (no-VERI*FACTU): entries logged by the commands that make them.

A mixin of `Tratos`, beside `BillingRecordsKeeping`: the log is a stream per issuer NIF (`EventLog`,
ADR-60). `log_events` logs what a check, an export or an import did, a start (01) first when the log
is not running; `_log_started` logs that start in the same save as the first billing record made
while the identity keeps its records. Entries are signed as the records are (`_sign_record`).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from domain.model.streams import events_id

AHEAD = "13"  # L1E: a record whose generation time is after the system's time now

if TYPE_CHECKING:
    from domain.model.event_log import EventLog
    from domain.services.application import Recorded


class EventLogKeeping:
    """What `Tratos` does with the event log; it uses `BillingRecordsKeeping`'s signing and software."""

    def event_log(self, issuer_nif: str) -> list[Any]:
        """An issuer's whole event log (empty if none was kept)."""
        from domain.adapters.verifactu_events import log_entries

        return list(log_entries(self, events_id(issuer_nif)))

    def logged_anomalies(self, issuer_nif: str, anomaly_type: str | None = None) -> set[tuple[str, str, str]]:
        """The billing records the issuer's log says an anomaly was found in (04): (type, number, date),
        of `anomaly_type` only if given. How `verify` logs an 11 or a 13 once, and knows a record made
        ahead of the clock was logged so (ADR-69)."""
        from domain.adapters.verifactu_events import log_entries
        from domain.model.errors import UnreadableRecord
        from domain.model.event_log import RECORDS_ANOMALY

        found = set()
        try:  # an entry that cannot be read ends what the log says: its own check names it
            for e in log_entries(self, events_id(issuer_nif)):
                if e.event_type == RECORDS_ANOMALY and e.anomaly is not None and e.anomaly.record is not None \
                        and anomaly_type in (None, e.anomaly.anomaly_type):
                    found.add((e.anomaly.anomaly_type, e.anomaly.record.number, e.anomaly.record.issued_on))
        except UnreadableRecord:
            pass
        return found

    def logged_ahead(self, issuer_nif: str) -> set[tuple[str, str]]:
        """The records logged as made after the clock's time then (13): (number, date)."""
        return {(number, day) for _, number, day in self.logged_anomalies(issuer_nif, AHEAD)}

    def _last_events(self, issuer_nif: str) -> EventLog:
        """The issuer's log from its last entry alone, enough to log the next."""
        from domain.model.event_log import EventLog

        key = events_id(issuer_nif)
        last = self.recorder.select_events(key, desc=True, limit=1)
        if not last:
            return EventLog(key)
        return EventLog.resume(self.mapper.to_domain_event(last[0]))

    def log_events(self, issuer_nif: str, issuer_name: str, entries: list[dict[str, Any]], *,
                   on: date) -> Recorded:
        """Log `entries` (each an event type and its details, as `EventLog.log` takes them), in one save:
        a start first if the log is not running; a stop only if it is."""
        key = events_id(issuer_nif)

        def decide(log: EventLog) -> None:
            self._log_entries(log, issuer_nif, issuer_name, entries, on)

        def run() -> Recorded:
            with self.stream_locks.hold(key):
                return self._decide_and_save(issuer_nif, decide, lambda _: self._last_events(issuer_nif))

        # Not `_recorded`: no read model shows the log, and the read side's catch-up after a check or
        # an export would project whatever the store holds unprojected (a whole imported or generated
        # store); the next reading command catches up, as after any command.
        return self._signing_records(run)

    def restored_entries(self, issuer_nif: str, issuer_name: str, events: int, last: Any | None, *,
                         on: date) -> list[Any]:
        """The entry of a backup restored (07, "tratos import of N events"), a start first if the log is
        not running, decided on the imported log whose last entry is `last` (None: it has none) and
        signed: the events `import` saves in the transaction of the events it restores, so that the
        store holds both or neither (ADR-71). The key is opened here, before any transaction."""
        from domain.model.event_log import RESTORED, EventLog
        from domain.services.application import _check_actor

        _check_actor(self.actor)
        if last is not None:  # a clock behind the restored log would date the restore before what it restores
            from datetime import datetime

            from domain.model.errors import Refused
            from domain.model.fingerprints import record_time

            now = record_time(self.record_clock())
            if datetime.fromisoformat(now) < datetime.fromisoformat(last.generated_at):
                raise Refused(f"this machine's clock ({now}) is before the last entry of the restored event log"
                              f" ({last.generated_at}): correct the clock")

        def decide() -> list[Any]:
            log = EventLog.resume(last) if last is not None else EventLog.of(issuer_nif)
            self._log_entries(log, issuer_nif, issuer_name,
                              [{"event_type": RESTORED, "other": f"tratos import of {events} events"}], on)
            return log.collect_events()

        return self._signing_records(decide)  # type: ignore[arg-type, return-value]

    def _log_entries(self, log: EventLog, issuer_nif: str, issuer_name: str, entries: list[dict[str, Any]],
                     on: date) -> None:
        """`entries` logged on `log`: a start first if it is not running; a stop only if it is."""
        from domain.model.event_log import START, STOP

        for entry in entries:
            kind = entry["event_type"]
            if kind == STOP and not log.running:
                continue
            if not log.running and kind not in (START, STOP):
                self._log(log, issuer_nif, issuer_name, {"event_type": START}, on)
            if kind == START and log.running:
                continue
            self._log(log, issuer_nif, issuer_name, entry, on)
        # Without a key, entries are kept unsigned without a word: each invoice says it already,
        # and `verify` counts them; a warning on every check would bury the checks' own lines.

    def _log_started(self, issuer_nif: str, issuer_name: str, on: date) -> list[EventLog]:
        """The log's start (01), if the identity keeps its records and the log is not running: saved
        with the billing record whose making starts the system's work as no-VERI*FACTU."""
        signing = self._record_signing()
        if signing is None or not signing.keeps_log:
            return []
        log = self._last_events(issuer_nif)
        if log.running:
            return []
        from domain.model.event_log import START

        self._log(log, issuer_nif, issuer_name, {"event_type": START}, on)
        return [log]

    def _log(self, log: EventLog, issuer_nif: str, issuer_name: str, entry: dict[str, Any], on: date) -> None:
        from domain.model.fingerprints import record_time

        log.log(**entry, issuer_nif=issuer_nif, issuer_name=issuer_name[:120],
                system=self.software(issuer_nif, issuer_name), generated_at=record_time(self.record_clock()),
                occurred_on=on, actor=self.actor, sign=self._sign_record)
