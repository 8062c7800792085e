"""Every event a client relationship can record, in the past tense.

These classes are the schema of the record on disk: their names are stored with
each event under the stable topic `domain.events:ChangeQuoted` (`stored_topic`),
whatever module the class lives in, so never rename one without registering the
old name. Every class has an
explicit `class_version` (1 unless it changed); a change of fields bumps it and
adds an `upcast_vN_vN+1` static method that turns a stored version-N state into
version N+1, with a golden store of the old version in tests/fixtures (the
rules are in docs/decisions.md, "How the event schema changes").
"""

# No `from __future__ import annotations` in this module: pydantic would then evaluate every
# field's annotation from a string, a quarter of this module's import time (ADR-16).

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from domain.model.choices import DEFAULT_PAYMENT_METHOD, FAULTS, SIGN_METHODS  # noqa: F401  (re-exported)
from domain.model.currencies import to_minor_units
from domain.model.late_fees import V1_REFERENCE_RATE
from domain.model.money import Money
from domain.model.record_values import (
    Anomaly,
    AnomalyScan,
    EventsExport,
    PreviousEvent,
    PreviousRecord,
    RecordedInvoice,
    RecordRecipient,
    RecordsExport,
    SoftwareSystem,
    TaxDetail,
)
from domain.model.values import (
    Evidence,
    Installment,
    InvoiceLine,
    Issuer,
    Party,
    Scope,
    Side,
    Terms,
    VatTotal,
)

SignMethod = Literal["pades", "email", "ink", "typed"]
Fault = Literal["ours", "client", "shared", "misunderstanding", "unassigned"]


class DomainEvent(BaseModel):
    """What every event carries: stream, version, recorded time, business date, actor, digest."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
    # Stored with the event when above 1 (domain.model.chain.stored_state); read by the mapper's upcasting.
    class_version: ClassVar[int] = 1

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    occurred_on: date
    actor: str = ""
    digest: str = ""


class RelationshipEvent(DomainEvent):
    pass


class RelationshipOpened(RelationshipEvent):
    handle: str
    client: Party


class TermsPublished(RelationshipEvent):
    """v2 (tratos 0.3): `terms.reference_rate` may be null, the half-year table's rate
    (domain/model/reference_rates.py); a rate stated is one the terms fix."""

    class_version: ClassVar[int] = 2

    terms_version: int
    terms: Terms

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version-1 terms always stated the rate they applied (2.15 unless typed), and it stays
        theirs: it becomes a rate the terms fix, so old stores claim what they claimed before."""
        terms = state.get("terms")
        if isinstance(terms, dict) and terms.get("reference_rate") is None:
            state["terms"] = terms | {"reference_rate": str(V1_REFERENCE_RATE)}  # a copy: the stored one stays


class ContractDrafted(RelationshipEvent):
    """v2 (tratos 0.2) added `payment_method`: how the client pays (bank transfer, card, ...)."""

    class_version: ClassVar[int] = 2

    contract_id: str
    title: str
    scope: Scope
    price: Money
    hours_budget: Decimal | None = None
    start: date
    end: date
    installments: list[Installment]
    our_duties: list[str] = []
    client_duties: list[str] = []
    terms_version: int | None = None
    supersedes: str | None = None
    payment_method: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Contracts drafted before v2 were all paid by bank transfer (the only way tratos 0.1 printed)."""
        state["payment_method"] = DEFAULT_PAYMENT_METHOD


class ContractSigned(RelationshipEvent):
    contract_id: str
    party: Side
    signer: str
    method: SignMethod
    evidence: list[Evidence] = []
    certificate_subject: str = ""
    certificate_fingerprint: str = ""
    document_sha256: str = ""


class ContractCompleted(RelationshipEvent):
    contract_id: str


class ChangeRequested(RelationshipEvent):
    change_id: str
    contract_id: str
    description: str
    requested_by: Side
    evidence: list[Evidence] = []


class ChangeQuoted(RelationshipEvent):
    change_id: str
    price: Money
    hours: Decimal | None = None
    days: int | None = None


class ChangeApproved(RelationshipEvent):
    change_id: str
    evidence: list[Evidence] = []


class ChangeRejected(RelationshipEvent):
    change_id: str
    evidence: list[Evidence] = []


class ChangeWithdrawn(RelationshipEvent):
    change_id: str
    evidence: list[Evidence] = []


class MistakeReported(RelationshipEvent):
    mistake_id: str
    contract_id: str | None = None
    description: str
    reported_by: Side
    evidence: list[Evidence] = []


class MistakeAcknowledged(RelationshipEvent):
    mistake_id: str
    apology: str = ""


class MistakeDiagnosed(RelationshipEvent):
    mistake_id: str
    fault: Fault
    cause: str
    category: str = ""


class RemedyProposed(RelationshipEvent):
    mistake_id: str
    option_id: str
    description: str
    cost: Money | None = None
    hours: Decimal | None = None


class RemedyChosen(RelationshipEvent):
    mistake_id: str
    option_id: str
    agreed: bool


class MistakeResolved(RelationshipEvent):
    mistake_id: str


class LessonRecorded(RelationshipEvent):
    mistake_id: str
    lesson: str


class Billed(BaseModel):
    """What an invoice and a corrective invoice both state (RD 1619/2012 art. 6): its lines, how it
    is taxed, base and VAT per rate, withholding, total, and `amount`, the amount payable
    (total - withholding), which is what balances and late fees count."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    invoice_number: str
    amount: Money
    lines: list[InvoiceLine]
    taxation: str
    exemption: str
    taxes: list[VatTotal]
    withholding_rate: Decimal
    withholding: Money
    total: Money
    issuer: Issuer | None
    recipient: Party | None


class InvoiceIssued(RelationshipEvent, Billed):
    """v2 (tratos 0.2) added lines, taxes, withholding, total, issuer and recipient; `amount`
    became the amount payable. A v1 invoice reads as one untaxed line of its amount."""

    class_version: ClassVar[int] = 2

    contract_id: str
    due: date
    installment: int | None = None
    change_id: str | None = None
    concept: str = ""

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        amount = state["amount"]
        zero = {"amount": str(to_minor_units(Decimal(0), amount["currency"])), "currency": amount["currency"]}
        state["lines"] = [{"description": state.get("concept", ""), "quantity": "1", "unit_price": amount,
                           "vat_rate": "0", "hours": []}]
        state["taxation"] = "untaxed"
        state["exemption"] = ""
        state["taxes"] = [{"rate": "0", "base": amount, "vat": zero}]
        state["withholding_rate"] = "0"
        state["withholding"] = zero
        state["total"] = amount
        state["issuer"] = None
        state["recipient"] = None


class InvoiceCorrected(RelationshipEvent, Billed):
    """A corrective invoice (factura rectificativa) by differences: its own number in the
    corrective series, the invoice it corrects, why; amounts may be negative. `void` when it
    cancels the whole invoice."""

    corrects: str
    reason: str
    void: bool


class ClientDetailsChanged(RelationshipEvent):
    """The client's name, contact details, tax id or country, as invoices will name them from now."""

    client: Party


class PaymentReceived(RelationshipEvent):
    invoice_number: str
    amount: Money


class PaymentLate(RelationshipEvent):
    invoice_number: str
    due: date
    outstanding: Money


class ReminderSent(RelationshipEvent):
    invoice_number: str
    days_late: int
    late_fee: Money | None = None


class InvoiceCancelled(RelationshipEvent):
    """The invoice's billing record was cancelled (`verifactu cancel`, in the same transaction as its
    registro de anulación): it was issued in error and never reached the client, so it is void in
    the relationship, owing nothing (ADR-66)."""

    invoice_number: str


class HoursLogged(RelationshipEvent):
    contract_id: str
    hours: Decimal
    note: str = ""
    change_id: str | None = None


class NoteRecorded(RelationshipEvent):
    text: str
    evidence: list[Evidence] = []


class DocumentIssued(RelationshipEvent):
    kind: str
    document_id: str = ""
    sha256: str
    chain_version: int
    chain_digest: str
    lang: str = ""


class AnchorTimestamped(RelationshipEvent):
    """A time-stamping authority's RFC 3161 token over an anchor note that names this stream's
    head (`tratos audit anchor --tsa`): from `timestamped_at` on, the stream held version
    `chain_version` with digest `chain_digest`, whatever the store says later. The note and its
    token (`.tsr`) are kept as evidence (`note_sha256`, `token_sha256`)."""

    chain_version: int
    chain_digest: str
    note_sha256: str
    token_sha256: str
    timestamped_at: datetime
    authority: str
    tsa_url: str
    evidence: list[Evidence] = []


class DocumentSent(RelationshipEvent):
    """A document emailed from tratos (issue 22): to whom, the message's id and date, the SMTP
    server's reply accepting it, and the exact message as sent (`evidence`: its .eml, whose
    SHA-256 is that of the bytes the server received). `document_sha256` names the PDF attached,
    a document this relationship recorded as issued."""

    kind: str
    document_id: str = ""
    document_sha256: str
    lang: str
    to: list[str]
    cc: list[str] = []
    bcc: list[str] = []
    subject: str
    message_id: str
    sent_at: datetime
    server_reply: str
    evidence: list[Evidence]


class FiledMessage(BaseModel):
    """What a client email filed as evidence states (issue 22): its Message-ID ("" if it had
    none: then the .eml's SHA-256 tells it apart), From, To, Cc, the Date it carries (None if it
    had none that parses), Subject, and `evidence`: the .eml as it was, then each attachment."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    message_id: str
    sender: str
    to: list[str] = []
    cc: list[str] = []
    sent_at: datetime | None = None
    subject: str = ""
    evidence: list[Evidence]


class MessageReceived(RelationshipEvent, FiledMessage):
    """An email from the client, filed as evidence."""


class MessageSent(RelationshipEvent, FiledMessage):
    """An email of ours to the client (sent outside tratos), filed as evidence."""


class FollowUpScheduled(RelationshipEvent):
    """The follow-up schedule of a terms version (issue 22): days before and after an invoice's
    due date to remind the client, and days after which a draft or a quote waiting for the
    client is chased. Recorded with the terms it belongs to, in the same save."""

    terms_version: int
    remind_before: list[int] = []
    remind_after: list[int] = []
    chase_after: int | None = None


class FollowUpClaimed(RelationshipEvent):
    """A follow-up step taken by one `tratos follow-up` run before it sends it: a second run (or
    one at the same time) finds it taken, so no step is ever sent twice."""

    about: str  # the invoice number, or the contract (K1) or change (C1) chased
    step: str   # before-3, after-7, chase-5
    scheduled_on: date


class FollowUpSent(RelationshipEvent):
    """A follow-up step emailed: its tone, how late it went (0: on its day), to whom, the
    Message-ID, the server's reply, and the exact message kept as evidence."""

    about: str
    step: str
    scheduled_on: date
    tone: str
    to: list[str]
    subject: str
    message_id: str
    sent_at: datetime
    server_reply: str
    evidence: list[Evidence]


class FollowUpFailed(RelationshipEvent):
    """A claimed step the server did not take: released, so the next run tries it again."""

    about: str
    step: str
    reason: str


class RelationshipEnded(RelationshipEvent):
    reason: str
    ended_by: Side
    outstanding: list[Money] = []
    confidentiality: str = ""


# The business-wide invoice series, one stream per series and year.


class InvoiceNumberAssigned(DomainEvent):
    series: str
    year: int
    sequence: int
    invoice_number: str
    handle: str


class CorrectiveNumberAssigned(InvoiceNumberAssigned):
    """A corrective invoice's number: a series and year number one kind of invoice only (ADR-41)."""


# The issuer's chain of Verifactu billing records (RD 1007/2023, Orden HAC/1177/2024), one stream
# per issuer NIF across series, clients and years (ADR-49). Amounts and dates are the texts the
# record writes, so the fingerprint is recomputed from what is stored without re-formatting.


class InvoiceRegistered(DomainEvent):
    """A registration record (registro de alta) of an invoice or a corrective invoice, chained to the
    issuer's previous record by its fingerprint (huella).

    v2 added `signature`: the record's XAdES-enveloped ds:Signature (its XML), made with the
    freelancer's key when the record was generated (no-VERI*FACTU mode, ADR-59), or "" for a
    record kept unsigned (VERI*FACTU mode, no signing key, or written by v1). v3 added `mode`: the
    Verifactu mode the record was made in, which its invoice prints and which decides whether it
    is sent to the agency (ADR-78); "" for a record written before, whose mode nothing states."""

    class_version: ClassVar[int] = 3

    issuer_nif: str
    issuer_name: str
    invoice_number: str
    issued_on: str  # dd-mm-yyyy
    invoice_type: str  # F1, R1..R4
    corrected: list[RecordedInvoice] = []  # FacturasRectificadas of a corrective invoice (by differences)
    description: str
    recipient: RecordRecipient | None = None
    breakdown: list[TaxDetail]
    tax_total: str
    total: str
    currency: str = "EUR"
    previous: PreviousRecord | None = None
    system: SoftwareSystem
    generated_at: str  # FechaHoraHusoGenRegistro, ISO 8601 with its offset
    fingerprint_type: str = "01"
    fingerprint: str
    signature: str
    mode: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["signature"] = ""  # v1 never signed a record when it made it

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state["mode"] = ""  # v2 did not say which mode made the record


class InvoiceRegistrationCancelled(DomainEvent):
    """A cancellation record (registro de anulación): the invoice's registration stays in the chain,
    this record after it says it was issued in error. v2 added `signature`, v3 `mode`, as
    InvoiceRegistered."""

    class_version: ClassVar[int] = 3

    issuer_nif: str
    invoice_number: str
    issued_on: str  # of the invoice whose record is cancelled, dd-mm-yyyy
    previous: PreviousRecord
    system: SoftwareSystem
    generated_at: str
    fingerprint_type: str = "01"
    fingerprint: str
    signature: str
    mode: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["signature"] = ""

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state["mode"] = ""


class BillingRecordsSent(DomainEvent):
    """The tax agency accepted a batch of the issuer's billing records (VERI*FACTU): the chain's
    versions `first` to `last`, the last one's fingerprint, the file sent, and the agency's
    reference of its answer (its CSV, código seguro de verificación). v2 added `kept`: how many
    records before `first` were made in no-VERI*FACTU mode, kept here and never sent (ADR-78)."""

    class_version: ClassVar[int] = 2

    issuer_nif: str
    kept: int
    first: int
    last: int
    last_fingerprint: str
    file_sha256: str
    reference: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["kept"] = 0  # every batch was the run right after the one before


# The event log of a system that keeps its records (no-VERI*FACTU, Orden HAC/1177/2024, EventosSIF.xsd):
# one stream per issuer NIF, each entry chained by its own fingerprint and signed (ADR-60).


class SystemEventLogged(DomainEvent):
    """An entry of the event log (registro de evento): what happened (TipoEvento, L2E: 01 the system
    started working as no-VERI*FACTU, 02 it stopped, 03/05 the billing records/the log checked for
    anomalies, 04/06 an anomaly found, 07 a backup restored, 08/09 records/the log exported), its
    details, chained to the entry before it by its fingerprint (huella) and signed like the records."""

    issuer_nif: str
    issuer_name: str
    system: SoftwareSystem
    event_type: str
    generated_at: str  # FechaHoraHusoGenEvento, ISO 8601 with its offset
    scan: AnomalyScan | None = None
    anomaly: Anomaly | None = None
    records_export: RecordsExport | None = None
    events_export: EventsExport | None = None
    other: str = ""  # OtrosDatosEvento, at most 100 characters
    previous: PreviousEvent | None = None
    fingerprint_type: str = "01"
    fingerprint: str
    signature: str


STORED_MODULE = "domain.events"  # where these classes lived when the first stores were written


def stored_topic(cls: type) -> str:
    """The topic stored with an event: the same for every store, old or new (ADR-22)."""
    return f"{STORED_MODULE}:{cls.__name__}"


def event_class(topic: str) -> type[DomainEvent]:
    """The class a stored topic names (`domain.events:ChangeQuoted`)."""
    module, _, name = topic.partition(":")
    cls = globals().get(name) if module == STORED_MODULE else None
    if not (isinstance(cls, type) and issubclass(cls, DomainEvent)):
        raise ValueError(f"unknown event topic {topic!r}")
    return cls
