"""The Verifactu fingerprint (huella) of a billing record, as the tax agency computes it.

AEAT, "Detalle de las especificaciones técnicas para generación de la huella o hash de los
registros de facturación" (v0.1.2, 27/08/2024): SHA-256 over the UTF-8 text `Name=value`
joined by `&`, in a fixed order, each value trimmed at both ends and an empty value still
written (`Huella=` on the first record of a chain); the digest in upper-case hexadecimal.
The values are the texts the record states, as written in its XML: amounts with a dot and the
decimals written (`123.45`), dates `dd-mm-yyyy`, the generation time ISO 8601 with its offset.
So a record is hashed from its texts, never from numbers re-formatted on the way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

REGISTRATION_FIELDS = ("IDEmisorFactura", "NumSerieFactura", "FechaExpedicionFactura", "TipoFactura",
                       "CuotaTotal", "ImporteTotal", "Huella", "FechaHoraHusoGenRegistro")
CANCELLATION_FIELDS = ("IDEmisorFacturaAnulada", "NumSerieFacturaAnulada", "FechaExpedicionFacturaAnulada",
                       "Huella", "FechaHoraHusoGenRegistro")
# An entry of the event log (registro de evento, section 3 of the same specification): the software's
# producer (NIF, or its other ID), the software, the issuer (both named `NIF`), the event's type, the
# previous entry's fingerprint and the time. The specification gives the text of its example, no digest.
EVENT_FIELDS = ("NIF", "ID", "IdSistemaInformatico", "Version", "NumeroInstalacion", "NIF", "TipoEvento",
                "HuellaEvento", "FechaHoraHusoGenEvento")
FINGERPRINT_TYPE = "01"  # TipoHuella L12: SHA-256, the only one the Orden defines


def hashed_text(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    """The text the agency hashes: `Name=value&...`, values trimmed, nothing URL-encoded."""
    if len(names) != len(values):
        raise ValueError(f"{len(names)} fields, {len(values)} values")
    return "&".join(f"{name}={value.strip()}" for name, value in zip(names, values, strict=True))


def sha256_upper(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest().upper()


def registration_fingerprint(*, issuer_nif: str, number: str, issued_on: str, invoice_type: str,
                             tax_total: str, total: str, previous: str, generated_at: str) -> str:
    """The huella of a registration record (registro de alta); `previous` "" on a chain's first."""
    return sha256_upper(hashed_text(REGISTRATION_FIELDS, (issuer_nif, number, issued_on, invoice_type,
                                                          tax_total, total, previous, generated_at)))


def cancellation_fingerprint(*, issuer_nif: str, number: str, issued_on: str, previous: str,
                             generated_at: str) -> str:
    """The huella of a cancellation record (registro de anulación) of the invoice `number`."""
    return sha256_upper(hashed_text(CANCELLATION_FIELDS, (issuer_nif, number, issued_on, previous, generated_at)))


def event_fingerprint(*, producer_nif: str, producer_id: str = "", system_id: str, version: str, installation: str,
                      issuer_nif: str, event_type: str, previous: str, generated_at: str) -> str:
    """The huella of an entry of the event log; `previous` "" on the log's first entry."""
    return sha256_upper(hashed_text(EVENT_FIELDS, (producer_nif, producer_id, system_id, version, installation,
                                                   issuer_nif, event_type, previous, generated_at)))


def record_date(day: date) -> str:
    """A date as a record writes it: dd-mm-yyyy."""
    return day.strftime("%d-%m-%Y")


def record_amount(amount: Decimal) -> str:
    """An amount in euros as a record writes it: a dot, always two decimals (ImporteSgn12.2Type)."""
    if not amount.is_finite():
        raise ValueError(f"not an amount: {amount}")
    text = f"{amount.quantize(Decimal('0.01')):f}"
    return "0.00" if text == "-0.00" else text


def record_time(moment: datetime) -> str:
    """A generation time as a record writes it: ISO 8601 to the second, with its UTC offset."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a record's generation time states its time zone")
    return moment.replace(microsecond=0).isoformat()


# The furthest ahead of UTC a clock on Earth is (Kiribati, UTC+14): a day has begun somewhere once
# its midnight there has passed, so an invoice is never dated after that day.
_EARLIEST_ZONE = timedelta(hours=14)


def out_of_time(generated_at: str, issued_on: str, before: str | None) -> tuple[str, str] | None:
    """Why a record's generation time cannot be, and its anomaly type (L1E), or None.

    A record is made after the record before it in its chain (11: "fecha-hora anterior a la del
    registro anterior"; the same second is allowed), and on or after its invoice's date (14:
    an invoice dated a day that had begun nowhere on Earth when its record was made). Both times
    are the record clock's (TRATOS_NOW, else noon of TRATOS_TODAY, else the machine's).
    """
    moment = moment_of(generated_at)
    if moment is None:
        return f"its generation time {generated_at!r} is not a time with its zone", "14"
    if before is not None:
        earlier = moment_of(before)
        if earlier is not None and moment < earlier:
            return f"it was made at {generated_at}, before the record before it ({before})", "11"
    try:
        day = datetime.strptime(issued_on, "%d-%m-%Y").date()
    except ValueError:
        return None  # a date the record cannot state is its fingerprint's business
    if day > (moment.astimezone(UTC) + _EARLIEST_ZONE).date():
        return f"its invoice is dated {issued_on}, after the record was made ({generated_at})", "14"
    return None


def moment_of(text: str) -> datetime | None:
    """A record's generation time as a time; None for a text that is not one with its offset."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.utcoffset() is not None else None


@dataclass(frozen=True)
class RecordTexts:
    """What a billing record's chain rests on, as written in it (a stored event or an exported XML).

    `previous` is the fingerprint its Encadenamiento names ("" on a chain's first record) and
    `previous_number` the invoice it names there.
    """

    cancellation: bool
    issuer_nif: str
    number: str
    issued_on: str
    invoice_type: str
    tax_total: str
    total: str
    previous: str
    previous_number: str
    generated_at: str
    fingerprint: str

    def computed(self) -> str:
        if self.cancellation:
            return cancellation_fingerprint(issuer_nif=self.issuer_nif, number=self.number, issued_on=self.issued_on,
                                            previous=self.previous, generated_at=self.generated_at)
        return registration_fingerprint(issuer_nif=self.issuer_nif, number=self.number, issued_on=self.issued_on,
                                        invoice_type=self.invoice_type, tax_total=self.tax_total, total=self.total,
                                        previous=self.previous, generated_at=self.generated_at)

    @property
    def name(self) -> str:
        return f"the {'cancellation' if self.cancellation else 'registration'} record of {self.number}"


@dataclass(frozen=True)
class RecordBreak:
    position: int  # 1 for the first record read
    record: RecordTexts
    problem: str
    anomaly: str = "01"  # its type in the agency's list L1E: 01 the fingerprint, 08 the link, 04 the record
    # named; as a traceability anomaly (not a break, ADR-69): 11 made before the record before it, 13 made
    # after the clock now

    def __str__(self) -> str:
        return f"record {self.position}, {self.record.name}: {self.problem}"


def logged_key(record: RecordTexts) -> tuple[str, str]:
    """How the event log names a record (RegistroFacturacionAnomalo: its invoice's number and date)."""
    return record.number, record.issued_on


def first_break(records: Iterable[RecordTexts], *, chained_from: str | None = None,
                noted: list[RecordBreak] | None = None, now: datetime | None = None,
                logged_ahead: Collection[tuple[str, str]] = ()) -> tuple[int, RecordBreak | None]:
    """Recompute every record's fingerprint and its link to the record before it; the first that does
    not hold, and how many records were read. The first record's previous fingerprint is taken as it is
    written unless `chained_from` says what it must be ("" for a chain's very first record).

    A record's time is not a matter of integrity (it is inside the fingerprint, so an edit of it is a
    01): a record made before the record before it (11), unless that one is `logged_ahead` (its
    number and date logged as anomaly 13), and a record made after `now` (13) are traceability
    anomalies, added to `noted` (ADR-69)."""
    before: RecordTexts | None = None
    count = 0
    for count, record in enumerate(records, 1):
        if record.computed() != record.fingerprint:
            return count, RecordBreak(count, record, "its fingerprint does not match its content")
        expected = before.fingerprint if before else chained_from
        if expected is not None and record.previous != expected:
            said = f"the record before it ({before.number})" if before else "the start of the chain"
            return count, RecordBreak(count, record, f"it is not chained to {said}", "08")
        if before is not None and record.previous_number != before.number:
            return count, RecordBreak(count, record, f"it names {record.previous_number} as the record before it,"
                                                     f" not {before.number}", "04")
        if noted is not None:
            noted.extend(_untimely(count, record, before, now, logged_ahead))
        before = record
    return count, None


def _untimely(position: int, record: RecordTexts, before: RecordTexts | None, now: datetime | None,
              logged_ahead: Collection[tuple[str, str]]) -> list[RecordBreak]:
    """The traceability anomalies of a record's time: 11 and 13 (a record made before its invoice's
    date is refused when made, not noted here: older stores hold some)."""
    found = []
    untimely = out_of_time(record.generated_at, record.issued_on, before.generated_at if before else None)
    if untimely is not None and untimely[1] == "11" and logged_key(before) not in logged_ahead:
        found.append(RecordBreak(position, record, *untimely))
    moment = moment_of(record.generated_at)
    if now is not None and moment is not None and moment > now:
        found.append(RecordBreak(position, record, f"it was made at {record.generated_at}, after this machine's"
                                                   f" clock now ({record_time(now)})", "13"))
    return found


@dataclass(frozen=True)
class EventTexts:
    """What an entry of the event log's fingerprint and chain rest on, as written in it."""

    producer_nif: str
    system_id: str
    version: str
    installation: str
    issuer_nif: str
    event_type: str
    generated_at: str
    previous: str  # the fingerprint its EventoAnterior names, "" on the first entry
    previous_type: str
    previous_at: str
    fingerprint: str

    def computed(self) -> str:
        return event_fingerprint(producer_nif=self.producer_nif, system_id=self.system_id, version=self.version,
                                 installation=self.installation, issuer_nif=self.issuer_nif,
                                 event_type=self.event_type, previous=self.previous, generated_at=self.generated_at)

    @property
    def name(self) -> str:
        return f"the event {self.event_type} of {self.generated_at}"


@dataclass(frozen=True)
class EventBreak:
    position: int
    event: EventTexts
    problem: str
    anomaly: str  # its type in the agency's list L1E: 01 the fingerprint, 08 the link to the entry before

    def __str__(self) -> str:
        return f"event {self.position}, {self.event.name}: {self.problem}"


def first_event_break(events: Iterable[EventTexts]) -> tuple[int, EventBreak | None]:
    """Recompute every entry's fingerprint and its link to the entry before it (the first one's empty)."""
    before: EventTexts | None = None
    count = 0
    for count, event in enumerate(events, 1):
        if event.computed() != event.fingerprint:
            return count, EventBreak(count, event, "its fingerprint does not match its content", "01")
        expected = (before.fingerprint, before.event_type, before.generated_at) if before else ("", "", "")
        if (event.previous, event.previous_type, event.previous_at) != expected:
            said = f"the entry before it ({before.name})" if before else "the start of the log"
            return count, EventBreak(count, event, f"it is not chained to {said}", "08")
        before = event
    return count, None
