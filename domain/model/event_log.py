"""The event log of a system that keeps its records (no-VERI*FACTU): the registro de eventos.

Orden HAC/1177/2024 asks an invoicing system that does not send its records to the agency to
record, as they happen, the events its schema (EventosSIF.xsd) lists: it started or stopped
working as no-VERI*FACTU, it checked its billing records or this log for anomalies and what it
found, it restored a backup, it exported records or this log. Each entry names the one before it
by its fingerprint (huella) and is signed like the records. One log per issuer NIF, as the chain
of records (`events:NIF` in `tratos audit verify`); what tratos logs, and when, is ADR-60.
"""

from __future__ import annotations

import uuid
from datetime import date
from functools import singledispatchmethod
from typing import Any

from domain.model import events as ev
from domain.model.billing_records import Signing
from domain.model.chain import ChainedAggregate
from domain.model.errors import BadInput, Refused
from domain.model.fingerprints import EventTexts, event_fingerprint
from domain.model.record_values import (
    Anomaly,
    AnomalyScan,
    EventsExport,
    PreviousEvent,
    RecordsExport,
    SoftwareSystem,
)
from domain.model.streams import events_id

START, STOP = "01", "02"
RECORDS_CHECKED, RECORDS_ANOMALY = "03", "04"
LOG_CHECKED, LOG_ANOMALY = "05", "06"
RESTORED, RECORDS_EXPORTED, LOG_EXPORTED = "07", "08", "09"
# The events tratos logs (L2E), as the agency's list words them. 10 (a periodic summary) and 90 (the
# producer's own) are not logged (ADR-60).
KINDS = {
    START: "the system started working as no-VERI*FACTU",
    STOP: "the system stopped working as no-VERI*FACTU",
    RECORDS_CHECKED: "the billing records were checked for anomalies",
    RECORDS_ANOMALY: "an anomaly was found in the billing records",
    LOG_CHECKED: "the event log was checked for anomalies",
    LOG_ANOMALY: "an anomaly was found in the event log",
    RESTORED: "a backup was restored",
    RECORDS_EXPORTED: "the billing records of a period were exported",
    LOG_EXPORTED: "the event log of a period was exported",
}
# What each kind of event states besides its type (DatosPropiosEvento): one of these fields, or none.
DETAILS = {RECORDS_CHECKED: "scan", LOG_CHECKED: "scan", RECORDS_ANOMALY: "anomaly", LOG_ANOMALY: "anomaly",
           RECORDS_EXPORTED: "records_export", LOG_EXPORTED: "events_export"}
DETAIL_FIELDS = ("scan", "anomaly", "records_export", "events_export")
OTHER_LIMIT = 100  # OtrosDatosEvento, OtrosDatosAnomalia: TextMax100Type


class EventLog(ChainedAggregate):
    """One issuer's event log: it is running between a start (01) and a stop (02), and every other
    entry is logged while it runs. Logging needs only the last entry (`resume`)."""

    def __init__(self, id: uuid.UUID) -> None:
        super().__init__(id)
        self.last: PreviousEvent | None = None
        self.running = False
        self.warnings: list[str] = []

    @classmethod
    def of(cls, issuer_nif: str) -> EventLog:
        return cls(events_id(issuer_nif))

    @classmethod
    def resume(cls, last: Any) -> EventLog:
        log = cls(last.originator_id)
        log.version = last.originator_version - 1
        log.apply(last)
        return log

    def log(self, event_type: str, *, issuer_nif: str, issuer_name: str, system: SoftwareSystem, generated_at: str,
            occurred_on: date, actor: str = "", scan: AnomalyScan | None = None, anomaly: Anomaly | None = None,
            records_export: RecordsExport | None = None, events_export: EventsExport | None = None, other: str = "",
            sign: Signing | None = None, signature: str | None = None) -> ev.SystemEventLogged:
        """Log an event, chained to the last entry; signed by `sign`, or carrying `signature` (re-decided)."""
        if events_id(issuer_nif) != self.id:
            raise Refused(f"an event of the issuer {issuer_nif} does not belong to this log")
        if event_type not in KINDS:
            raise BadInput(f"unknown type of event {event_type!r} (tratos logs {', '.join(KINDS)})")
        if event_type == START and self.running:
            raise Refused("the event log says the system is working as no-VERI*FACTU already")
        if event_type != START and not self.running:
            raise Refused("the event log says the system is not working as no-VERI*FACTU: it logs a start (01)"
                          " first")
        details = {"scan": scan, "anomaly": anomaly, "records_export": records_export,
                   "events_export": events_export}
        given = [name for name, value in details.items() if value is not None]
        wanted = [DETAILS[event_type]] if event_type in DETAILS else []
        if given != wanted:
            raise BadInput(f"an event {event_type} states {' and '.join(wanted) or 'no details'},"
                           f" not {' and '.join(given) or 'none'}")
        for text in (other, anomaly.detail if anomaly else ""):
            if len(text) > OTHER_LIMIT:
                raise BadInput(f"an event's other data is at most {OTHER_LIMIT} characters")
        previous = self.last
        fingerprint = event_fingerprint(
            producer_nif=system.producer_nif, system_id=system.id, version=system.version,
            installation=system.installation, issuer_nif=issuer_nif, event_type=event_type,
            previous=previous.fingerprint if previous else "", generated_at=generated_at)
        fields = dict(occurred_on=occurred_on, actor=actor, issuer_nif=issuer_nif, issuer_name=issuer_name,
                      system=system, event_type=event_type, generated_at=generated_at, **details, other=other,
                      previous=previous, fingerprint=fingerprint)
        if signature is None:
            signature = sign(ev.SystemEventLogged.model_construct(
                originator_id=self.id, originator_version=self.version + 1, **fields, signature="")) if sign else ""
        return self._record(ev.SystemEventLogged, **fields, signature=signature)

    @singledispatchmethod
    def when(self, event: object) -> None:
        raise TypeError(f"unexpected event {type(event).__name__}")

    @when.register
    def _(self, event: ev.SystemEventLogged) -> None:
        self.last = PreviousEvent(event_type=event.event_type, generated_at=event.generated_at,
                                  fingerprint=event.fingerprint)
        self.running = event.event_type != STOP


def event_texts(event: ev.SystemEventLogged) -> EventTexts:
    """What an entry's fingerprint and chain rest on, as it states them."""
    previous = event.previous
    return EventTexts(producer_nif=event.system.producer_nif, system_id=event.system.id,
                      version=event.system.version, installation=event.system.installation,
                      issuer_nif=event.issuer_nif, event_type=event.event_type, generated_at=event.generated_at,
                      previous=previous.fingerprint if previous else "",
                      previous_type=previous.event_type if previous else "",
                      previous_at=previous.generated_at if previous else "", fingerprint=event.fingerprint)


def as_named(event: Any) -> PreviousEvent:
    """An entry as another names it (EventoAnterior, RegEventoAnomalo, the first or last of an export)."""
    return PreviousEvent(event_type=event.event_type, generated_at=event.generated_at, fingerprint=event.fingerprint)
