"""What the commands log in the Verifactu event log (no-VERI*FACTU mode), and how it is checked.

The log is the identity's issuer's: kept while the identity keeps its records (no-verifactu mode),
once the issuer has billing records or a log (ADR-60). A command whose work is done logs it after:
`verifactu verify` and `audit verify` log the checks they ran and what they found (03 and 04 on
the billing records, 05 and 06 on the log itself), `verifactu export` the records written (08),
`verifactu events` the log written (09), `import` the backup restored (07), `identity invoicing
--verifactu-mode` the start (01) or the end (02) of the work as no-VERI*FACTU. What fails to be
logged (no passphrase for the key, a store that cannot be written) is a warning: the work is done.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cli.output import warn
from cli.session import Session

if TYPE_CHECKING:
    from domain.adapters.verifactu_events import LogCheck
    from domain.adapters.verifactu_xml import ChainCheck


def logging_issuer(session: Session, *, started: bool = True) -> tuple[str, str] | None:
    """(NIF, name) of the issuer whose log this command writes, or None: the identity does not keep
    its records, names no valid tax id, or (`started`) its issuer has neither records nor a log yet."""
    from cli.verifactu_signing import records_signed
    from domain.model.errors import TratosError
    from domain.model.streams import events_id, records_id
    from domain.model.tax_ids import spanish_nif

    try:
        if not records_signed(session):
            return None
        profile = session.tax_profile()
        if profile is None or not profile.issuer.tax_id:
            return None
        nif = spanish_nif(profile.issuer.tax_id, "your tax id")
    except TratosError:
        return None
    recorder = session.app.recorder
    if started and not any(recorder.select_events(s(nif), limit=1) for s in (records_id, events_id)):
        return None
    return nif, profile.issuer.name


def log(session: Session, entries: list[dict[str, Any]], doing: str, *, started: bool = True) -> None:
    """Log `entries` in the issuer's log (`Tratos.log_events`); a failure is said, not raised."""
    from domain.model.errors import TratosError

    issuer = logging_issuer(session, started=started)
    if issuer is None or not entries:
        return
    try:
        done = session.app.log_events(*issuer, entries, on=session.today())
    except TratosError as error:
        warn(f"{doing} is not in the Verifactu event log: {error}")
        return
    for warning in done.warnings:
        warn(warning)


def check_entries(nif: str, records: list[ChainCheck], signed: list[Any], logs: list[LogCheck],
                  log_signed: list[Any], logged: set[tuple[str, str, str]] = frozenset()) -> list[dict[str, Any]]:
    """What a check of the store logs: the processes run on the issuer's records (03) and on the log (05),
    each with how many it went through, and each anomaly found (04, 06), the first of each process;
    and each traceability anomaly of a record's time (11, 13), once: not when it is `logged` already
    (type, number, date), ADR-69."""
    from domain.model.event_log import (
        LOG_ANOMALY,
        LOG_CHECKED,
        RECORDS_ANOMALY,
        RECORDS_CHECKED,
        as_named,
    )
    from domain.model.record_values import Anomaly, PreviousEvent, RecordedInvoice

    def record(texts: Any) -> dict[str, Any]:  # a record as its chain check read it (None: unreadable)
        return {"record": texts and RecordedInvoice(issuer_nif=texts.issuer_nif, number=texts.number,
                                                    issued_on=texts.issued_on)}

    def signed_record(event: Any) -> dict[str, Any]:
        return {"record": RecordedInvoice(issuer_nif=event.issuer_nif, number=event.invoice_number,
                                          issued_on=event.issued_on)}

    def entry(texts: Any) -> dict[str, Any]:
        return {"event": texts and PreviousEvent(event_type=texts.event_type, generated_at=texts.generated_at,
                                                 fingerprint=texts.fingerprint)}

    def chain_of(checks: list[Any], kind: str) -> Any:
        return next((c for c in checks if c.source == f"{kind}:{nif}"), None)

    chain = chain_of(records, "records")
    untimely = [{"event_type": RECORDS_ANOMALY, "anomaly": Anomaly(
                    anomaly_type=noted.anomaly, detail=_short(noted.problem), **record(noted.record))}
                for noted in (chain.noted if chain else ())
                if (noted.anomaly, noted.record.number, noted.record.issued_on) not in logged]
    return (_process(RECORDS_CHECKED, RECORDS_ANOMALY, chain, chain_of(signed, "records"),
                     lambda broken: record(broken.record), signed_record)
            + untimely
            + _process(LOG_CHECKED, LOG_ANOMALY, chain_of(logs, "events"), chain_of(log_signed, "events"),
                       lambda broken: entry(broken.event), lambda event: {"event": as_named(event)}))


def _process(checked: str, anomalous: str, chain: Any, signatures: Any, named: Callable[[Any], dict[str, Any]],
             signed: Callable[[Any], dict[str, Any]]) -> list[dict[str, Any]]:
    """One process's entries: that it ran (over how many), the first break of the chain, the first
    signature that does not verify; `named` and `signed` say which record or entry each is in."""
    from domain.model.event_log import RECORDS_CHECKED
    from domain.model.record_values import Anomaly, AnomalyScan

    entries: list[dict[str, Any]] = []
    if chain is not None:
        entries.append({"event_type": checked, "scan": AnomalyScan(
            fingerprints=chain.count, signatures=chain.count if signatures else None, chain=chain.count,
            dates=chain.count if checked == RECORDS_CHECKED else None)})  # the log's times are not checked
        if chain.broken is not None:
            entries.append({"event_type": anomalous, "anomaly": Anomaly(
                anomaly_type=chain.broken.anomaly, detail=_short(chain.broken.problem), **named(chain.broken))})
    if signatures is not None and signatures.broken is not None:
        entries.append({"event_type": anomalous, "anomaly": Anomaly(
            anomaly_type="02", detail="its signature does not verify", **signed(signatures.broken.subject))})
    return entries


def _short(text: str) -> str:
    return text if len(text) <= 100 else text[:99] + "…"


def period(year: int) -> tuple[str, str]:
    """A year from its first to its last second, as the records' times are written (Europe/Madrid)."""
    return f"{year:04d}-01-01T00:00:00+01:00", f"{year:04d}-12-31T23:59:59+01:00"


def records_exported(year: int, tally: Any) -> dict[str, Any]:
    """The entry of an export of billing records (08): the period, its first and last records, counts, sums."""
    from domain.model.event_log import RECORDS_EXPORTED
    from domain.model.fingerprints import record_amount
    from domain.model.record_values import PreviousRecord, RecordsExport

    def named(record: Any) -> PreviousRecord:
        return PreviousRecord(issuer_nif=record.issuer_nif, number=record.invoice_number, issued_on=record.issued_on,
                              fingerprint=record.fingerprint)

    start, end = period(year)
    return {"event_type": RECORDS_EXPORTED, "records_export": RecordsExport(
        period_start=start, period_end=end, first=named(tally.first), last=named(tally.last),
        registrations=tally.registrations, tax_total=record_amount(tally.tax_total),
        total=record_amount(tally.total), cancellations=tally.cancellations)}


def events_exported(year: int, done: Any) -> dict[str, Any]:
    """The entry of an export of the event log (09): the period, its first and last entries, the count."""
    from domain.model.event_log import LOG_EXPORTED, as_named
    from domain.model.record_values import EventsExport

    start, end = period(year)
    return {"event_type": LOG_EXPORTED, "events_export": EventsExport(
        period_start=start, period_end=end, first=as_named(done.first), last=as_named(done.last),
        events=len(done.files))}
