"""The values a Verifactu billing record states (Orden HAC/1177/2024, SuministroInformacion.xsd).

Amounts and dates are kept as the texts the record writes (`123.45`, `01-01-2024`): the
fingerprint is computed over those texts, so they are stored as written, never re-formatted.
"""

# No `from __future__ import annotations`: pydantic evaluates these annotations (ADR-16).

from domain.model.values import Value


class RecordedInvoice(Value):
    """An invoice as a record names it (IDFactura): issuer NIF, series and number, issue date."""

    issuer_nif: str
    number: str
    issued_on: str  # dd-mm-yyyy


class PreviousRecord(RecordedInvoice):
    """The record before this one in the issuer's chain (Encadenamiento/RegistroAnterior)."""

    fingerprint: str


class RecordRecipient(Value):
    """Who the invoice is addressed to: a Spanish NIF, or another country's id (IDOtro) of `id_type`
    (L7: 02 a VAT number, 04 an official id of their country); no id at all when the client gave none."""

    name: str
    nif: str = ""
    country: str = ""
    id_type: str = ""
    id: str = ""


class TaxDetail(Value):
    """One line of the tax breakdown (DetalleDesglose): VAT (01) under a regime (ClaveRegimen), either
    qualified (S1 taxed, S2 reverse charge, N1/N2 not subject) or exempt (E1..E6), at one rate."""

    tax: str = "01"
    regime: str = "01"
    qualification: str = ""  # S1 S2 N1 N2, or "" when exempt
    exemption: str = ""  # E1..E6, or "" when qualified
    rate: str = ""  # only when taxed (S1, S2)
    base: str
    vat: str = ""  # only when taxed


class SoftwareSystem(Value):
    """The invoicing software that generated the record (SistemaInformatico)."""

    producer_name: str
    producer_nif: str
    name: str = "tratos"
    id: str = "TR"
    version: str
    installation: str
    verifactu_only: str = "N"  # TipoUsoPosibleSoloVerifactu
    multiple_taxpayers: str = "N"  # TipoUsoPosibleMultiOT
    several_taxpayers: str = "N"  # IndicadorMultiplesOT


# The values an entry of the event log of a no-VERI*FACTU system states (EventosSIF.xsd, ADR-60).


class PreviousEvent(Value):
    """An event of the log as another names it (EventoAnterior, RegEventoType): its type, when it was
    generated and its fingerprint."""

    event_type: str
    generated_at: str
    fingerprint: str


class AnomalyScan(Value):
    """A check of the records (or of the log itself) for anomalies (LanzamientoProcesoDeteccionAnomalias…):
    how many records each process went through, None for a process that was not run."""

    fingerprints: int | None = None  # IntegridadHuellas
    signatures: int | None = None  # IntegridadFirmas
    chain: int | None = None  # TrazabilidadCadena
    dates: int | None = None  # TrazabilidadFechas


class Anomaly(Value):
    """An anomaly found (DeteccionAnomalias…): its type (L1E: 01 a fingerprint, 02 a signature, 08 a
    link to the record before...), what tratos says of it, and the record or the event it is in."""

    anomaly_type: str
    detail: str = ""  # OtrosDatosAnomalia, at most 100 characters
    record: RecordedInvoice | None = None  # RegistroFacturacionAnomalo
    event: PreviousEvent | None = None  # RegEventoAnomalo


class RecordsExport(Value):
    """The billing records of a period written out (ExportacionRegFacturacionPeriodo)."""

    period_start: str
    period_end: str
    first: PreviousRecord
    last: PreviousRecord
    registrations: int
    tax_total: str  # SumaCuotaTotalAlta
    total: str  # SumaImporteTotalAlta
    cancellations: int


class EventsExport(Value):
    """The entries of the event log of a period written out (ExportacionRegEventoPeriodo)."""

    period_start: str
    period_end: str
    first: PreviousEvent
    last: PreviousEvent
    events: int
