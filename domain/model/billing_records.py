"""Verifactu billing records: what an invoice states to the tax agency, and the issuer's chain of them.

RD 1007/2023 and Orden HAC/1177/2024 ask invoicing software to keep, for every invoice it issues,
a registration record (registro de alta) chained by its fingerprint to the issuer's record before
it, and a cancellation record (registro de anulación) for a record issued in error, never a
deletion. `registration_of` turns an issued invoice or corrective invoice into the record's
fields; `BillingRecords` is the chain of one issuer NIF, across series, clients and years, saved
in the same transaction as the invoice it records (ADR-49).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import singledispatchmethod
from typing import Any

from domain.model import events as ev
from domain.model.calendar import not_before
from domain.model.chain import ChainedAggregate
from domain.model.errors import BadInput, Refused, UnknownReference
from domain.model.fingerprints import (
    RecordTexts,
    cancellation_fingerprint,
    out_of_time,
    record_amount,
    record_date,
    registration_fingerprint,
)
from domain.model.record_values import (
    PreviousRecord,
    RecordedInvoice,
    RecordRecipient,
    SoftwareSystem,
    TaxDetail,
)
from domain.model.streams import records_id
from domain.model.tax_ids import EU_COUNTRIES
from domain.model.taxes import DOMESTIC, EXEMPT, HOME_COUNTRY, NOT_SUBJECT, REVERSE_CHARGE, UNTAXED

INVOICE = "F1"  # a complete invoice (art. 6, 7.2 and 7.3 RD 1619/2012); tratos issues no simplified ones
# The grounds of a corrective invoice and its type (L2): tratos corrects by differences (TipoRectificativa I).
CORRECTION_GROUNDS = {
    "R1": "art. 80.1, 80.2 and 80.6 LIVA, or an error founded in law",
    "R2": "art. 80.3 LIVA: the client's insolvency proceedings",
    "R3": "art. 80.4 LIVA: a debt that became uncollectable",
    "R4": "any other ground",
}
DEFAULT_GROUND = "R1"
BY_DIFFERENCES = "I"
# The article that exempts an operation, and its exemption cause (L10): art. 20 LIVA E1, 21 E2, ...
_EXEMPTIONS = {"20": "E1", "21": "E2", "22": "E3", "23": "E4", "24": "E4", "25": "E5"}
_ARTICLE = re.compile(r"\bart(?:[íi]culo|\.)?\s*(\d+)", re.IGNORECASE)
DESCRIPTION_LIMIT = 500  # DescripcionOperacion, TextMax500Type
# Signs a record as it will be saved (unsigned) and gives its XAdES ds:Signature as XML text; given by
# the caller (documents/record_signing.py), since the model holds no key and writes no XML.
Signing = Callable[[Any], str]


def check_ground(ground: str) -> str:
    if ground not in CORRECTION_GROUNDS:
        known = "; ".join(f"{code}: {why}" for code, why in CORRECTION_GROUNDS.items())
        raise BadInput(f"unknown ground of a corrective invoice {ground!r} (use {known})")
    return ground


def exemption_cause(article: str) -> str:
    """The cause (E1..E6) of the exemption an invoice states, from the article of the LIVA it names."""
    found = _ARTICLE.search(article or "")
    return _EXEMPTIONS.get(found.group(1), "E6") if found else "E6"


def breakdown_of(invoice: ev.Billed) -> list[TaxDetail]:
    """The invoice's VAT per rate, qualified as the Orden has it (L9, L10).

    Taxed at home: S1 with its rate. An EU business client (tratos' reverse charge) and a client
    outside the EU: the service is supplied where the client is (art. 69 LIVA), N2. Exempt: the
    cause of the article stated. An invoice recorded before tratos knew taxes (`untaxed`): N1.
    """
    details = []
    for vat in invoice.taxes:
        base = record_amount(vat.base.amount)
        if invoice.taxation == DOMESTIC:
            details.append(TaxDetail(qualification="S1", rate=_rate(vat.rate), base=base,
                                     vat=record_amount(vat.vat.amount)))
        elif invoice.taxation == EXEMPT:
            details.append(TaxDetail(exemption=exemption_cause(invoice.exemption), base=base))
        elif invoice.taxation in (REVERSE_CHARGE, NOT_SUBJECT):
            details.append(TaxDetail(qualification="N2", base=base))
        elif invoice.taxation == UNTAXED:
            details.append(TaxDetail(qualification="N1", base=base))
        else:
            raise ValueError(f"unknown taxation {invoice.taxation!r}")
    return details


def _rate(rate: Decimal) -> str:
    return f"{rate.quantize(Decimal('0.01')):f}"


def recipient_of(invoice: ev.Billed) -> RecordRecipient | None:
    """The client as the record identifies them: a Spanish NIF, a VAT number (02) or another id (04)."""
    client = invoice.recipient
    if client is None:
        return None
    country = client.country or HOME_COUNTRY
    if not client.tax_id:
        return RecordRecipient(name=client.name[:120])
    if country == HOME_COUNTRY:
        return RecordRecipient(name=client.name[:120], nif=client.tax_id)
    return RecordRecipient(name=client.name[:120], country=country,
                           id_type="02" if country in EU_COUNTRIES else "04", id=client.tax_id)


def description_of(invoice: ev.InvoiceIssued | ev.InvoiceCorrected) -> str:
    """What the operation was (DescripcionOperacion): a corrective invoice's reason, else the concept or lines."""
    if isinstance(invoice, ev.InvoiceCorrected):
        text = invoice.reason
    else:
        text = invoice.concept or "; ".join(line.description for line in invoice.lines if line.description)
    text = " ".join(text.split()) or invoice.invoice_number
    return text[:DESCRIPTION_LIMIT]


def registration_of(invoice: ev.InvoiceIssued | ev.InvoiceCorrected, *, issuer_nif: str, issuer_name: str,
                    corrected_on: date | None = None, ground: str = DEFAULT_GROUND) -> dict[str, Any]:
    """The fields of the registration record of an issued invoice (`corrected_on`: the issue date of
    the invoice a corrective invoice corrects). Its totals: all VAT, and base plus VAT (ImporteTotal)."""
    corrective = isinstance(invoice, ev.InvoiceCorrected)
    corrected = []
    if corrective:
        if corrected_on is None:
            raise ValueError("a corrective invoice's record names the date of the invoice it corrects")
        corrected = [RecordedInvoice(issuer_nif=issuer_nif, number=invoice.corrects,
                                     issued_on=record_date(corrected_on))]
    vat = sum((t.vat.amount for t in invoice.taxes), Decimal(0))
    return {
        "issuer_nif": issuer_nif, "issuer_name": issuer_name[:120], "invoice_number": invoice.invoice_number,
        "issued_on": record_date(invoice.occurred_on),
        "invoice_type": check_ground(ground) if corrective else INVOICE, "corrected": corrected,
        "description": description_of(invoice), "recipient": recipient_of(invoice),
        "breakdown": breakdown_of(invoice), "tax_total": record_amount(vat),
        "total": record_amount(invoice.total.amount), "currency": invoice.total.currency,
    }


def software_of(issuer_nif: str, issuer_name: str, version: str) -> SoftwareSystem:
    """tratos as a record names it (SistemaInformatico): a freelancer running their own copy of free
    software is taken as its producer (docs/verifactu.md says what that means), one installation."""
    return SoftwareSystem(producer_name=issuer_name[:120], producer_nif=issuer_nif, version=version,
                          installation=f"{issuer_nif}-1")


def registration_disagrees(record: ev.InvoiceRegistered, invoice: ev.InvoiceIssued | ev.InvoiceCorrected,
                           corrected_on: date | None) -> str | None:
    """What a registration record states otherwise than its invoice makes it, or None.

    The record is made again from the invoice (`registration_of`, as `issue_invoice` made it):
    every field derived from the invoice must be the one stated (the breakdown, the description,
    the recipient, the totals, the invoice it corrects, the software). What the invoice does not
    say is taken from the record: the issuer of an invoice recorded without one, a corrective
    invoice's legal ground (R1..R4, typed when it was issued), tratos' version.
    """
    issuer_nif = invoice.issuer.tax_id if invoice.issuer else record.issuer_nif
    issuer_name = invoice.issuer.name if invoice.issuer else record.issuer_name
    corrective = isinstance(invoice, ev.InvoiceCorrected)
    if corrective and corrected_on is None:
        return f"records {invoice.invoice_number}, which corrects {invoice.corrects}, an invoice no client issued"
    ground = record.invoice_type if corrective and record.invoice_type in CORRECTION_GROUNDS else DEFAULT_GROUND
    expected = registration_of(invoice, issuer_nif=issuer_nif, issuer_name=issuer_name, corrected_on=corrected_on,
                               ground=ground)
    expected["system"] = software_of(issuer_nif, issuer_name, record.system.version)
    for name, made in expected.items():
        found = _difference(name, getattr(record, name), made)
        if found:
            return found
    return None


def _difference(name: str, stated: Any, made: Any) -> str | None:
    """The first place where `stated` is not `made`: `breakdown[1].base "10.00" where its invoice makes "100.00"`."""
    from domain.model.wording import shown

    if stated == made:
        return None
    if isinstance(stated, list) and isinstance(made, list) and len(stated) == len(made):
        for n, (one, other) in enumerate(zip(stated, made, strict=True), 1):
            found = _difference(f"{name}[{n}]", one, other)
            if found:
                return found
    if type(stated) is type(made) and hasattr(stated, "model_fields"):
        for field in type(stated).model_fields:
            found = _difference(f"{name}.{field}", getattr(stated, field), getattr(made, field))
            if found:
                return found
    return f"states {name} {shown(stated)} where its invoice makes {shown(made)}"


class BillingRecords(ChainedAggregate):
    """One issuer's chain of billing records: each record's fingerprint covers the one before it.

    Registering needs only the last record (`resume`), as numbering needs only the series' last
    number; cancelling needs the whole chain, to know the record is there and not cancelled yet.
    """

    def __init__(self, id: uuid.UUID) -> None:
        super().__init__(id)
        self.last: PreviousRecord | None = None
        self.last_made_at: str | None = None  # the last record's generation time (FechaHoraHusoGenRegistro)
        self.last_mode = ""  # the Verifactu mode the last record was made in ("": it does not say)
        self.registered: dict[str, str] = {}  # number -> issue date, of the records folded
        self.cancelled: set[str] = set()
        self.warnings: list[str] = []

    @classmethod
    def resume(cls, last: Any) -> BillingRecords:
        """The chain as its last record left it, for registering the next (see `InvoiceSeries.resume`)."""
        chain = cls(last.originator_id)
        chain.version = last.originator_version - 1
        chain.apply(last)
        return chain

    @classmethod
    def of(cls, issuer_nif: str) -> BillingRecords:
        return cls(records_id(issuer_nif))

    def _check_issuer(self, issuer_nif: str) -> None:
        if records_id(issuer_nif) != self.id:
            raise Refused(f"a record of the issuer {issuer_nif} does not belong to this chain")

    def register(self, *, issuer_nif: str, issuer_name: str, invoice_number: str, issued_on: str,
                 invoice_type: str, description: str, breakdown: list[TaxDetail], tax_total: str, total: str,
                 generated_at: str, system: SoftwareSystem, mode: str, corrected: list[RecordedInvoice] = (),
                 recipient: RecordRecipient | None = None, currency: str = "EUR", occurred_on: date,
                 actor: str = "", sign: Signing | None = None, signature: str | None = None,
                 ahead_logged: bool = False) -> ev.InvoiceRegistered:
        """Record an invoice's registration, chained to the last record of its issuer, made in `mode`
        (`_check_mode`); signed by `sign` (it gets the record as it will be saved, unsigned, and
        gives its signature), or carrying the `signature` it was made with (a record re-decided on
        import), else unsigned. `ahead_logged`: the records made after `generated_at` are logged as
        made ahead of the clock (see `_check_time`)."""
        self._check_issuer(issuer_nif)
        if invoice_number in self.registered:
            raise Refused(f"{invoice_number} has a registration record already")
        if invoice_type != INVOICE:
            check_ground(invoice_type)
        self._check_time(generated_at, invoice_number, issued_on, made_now=signature is None,
                         ahead_logged=ahead_logged)
        self._check_mode(mode, generated_at)
        fingerprint = registration_fingerprint(
            issuer_nif=issuer_nif, number=invoice_number, issued_on=issued_on, invoice_type=invoice_type,
            tax_total=tax_total, total=total, previous=self.last.fingerprint if self.last else "",
            generated_at=generated_at)
        fields = dict(occurred_on=occurred_on, actor=actor, issuer_nif=issuer_nif, issuer_name=issuer_name,
                      invoice_number=invoice_number, issued_on=issued_on, invoice_type=invoice_type,
                      corrected=list(corrected), description=description, recipient=recipient,
                      breakdown=list(breakdown), tax_total=tax_total, total=total, currency=currency,
                      previous=self.last, system=system, generated_at=generated_at, fingerprint=fingerprint,
                      mode=mode)
        return self._record(ev.InvoiceRegistered, **fields,
                            signature=self._signature(ev.InvoiceRegistered, fields, sign, signature))

    def cancel(self, invoice_number: str, *, generated_at: str, system: SoftwareSystem, mode: str,
               occurred_on: date, actor: str = "", sign: Signing | None = None, signature: str | None = None,
               ahead_logged: bool = False) -> ev.InvoiceRegistrationCancelled:
        """Cancel the registration of an invoice issued in error: a record after it, never a deletion
        (made in `mode`, signed, and `ahead_logged`, as `register` says)."""
        if not invoice_number.strip():
            raise BadInput("an invoice number is empty")
        if self.last is None:  # a number that names nothing is bad input (exit 2), as everywhere
            raise UnknownReference(f"{invoice_number} has no registration record to cancel")
        if invoice_number in self.cancelled:
            raise Refused(f"the record of {invoice_number} is cancelled already")
        issued_on = self.registered.get(invoice_number)
        if issued_on is None:
            raise UnknownReference(f"{invoice_number} has no registration record to cancel: no such invoice, or one"
                                   " issued before tratos kept billing records")
        not_before(occurred_on, datetime.strptime(issued_on, "%d-%m-%Y").date(), f"{invoice_number} was issued")
        self._check_time(generated_at, invoice_number, issued_on, made_now=signature is None,
                         ahead_logged=ahead_logged)
        self._check_mode(mode, generated_at)
        issuer_nif = self.last.issuer_nif
        fingerprint = cancellation_fingerprint(issuer_nif=issuer_nif, number=invoice_number, issued_on=issued_on,
                                               previous=self.last.fingerprint, generated_at=generated_at)
        fields = dict(occurred_on=occurred_on, actor=actor, issuer_nif=issuer_nif, invoice_number=invoice_number,
                      issued_on=issued_on, previous=self.last, system=system, generated_at=generated_at,
                      fingerprint=fingerprint, mode=mode)
        return self._record(ev.InvoiceRegistrationCancelled, **fields,
                            signature=self._signature(ev.InvoiceRegistrationCancelled, fields, sign, signature))

    def _check_time(self, generated_at: str, invoice_number: str, issued_on: str, *, made_now: bool,
                    ahead_logged: bool) -> None:
        """A record made now is made after the record before it and not before its invoice's date
        (`fingerprints.out_of_time`): a record clock that says otherwise is wrong.

        One way out (ADR-69): the records after this one's time were made by a clock that was ahead
        (a machine whose date was wrong, a TRATOS_NOW), and `verifactu verify` logged each as anomaly 13
        of the agency's list (`ahead_logged`): then the chain goes on from the right time, a time
        going back that the log explains. Re-decided on import, a record is taken as it was made:
        records kept before ADR-66 may be dated before their invoice, and a chain may go back in time
        after a record made ahead (ADR-69)."""
        untimely = out_of_time(generated_at, issued_on, self.last_made_at)
        if untimely is None or not made_now or (untimely[1] == "11" and ahead_logged):
            return
        if untimely[1] == "11":
            raise Refused(f"your last billing record ({self.last.number}, made at {self.last_made_at}) is ahead of"
                          f" this machine's clock ({generated_at}): if the clock that made it was wrong,"
                          " `tratos verifactu verify` logs it as anomaly 13 of the agency's list and the next"
                          " record may follow it; else correct this clock. Nothing was recorded")
        raise Refused(f"{invoice_number} is dated {datetime.strptime(issued_on, '%d-%m-%Y').date()}, after this machine's clock"
                      f" ({generated_at}), the time its billing record would carry: correct the clock,"
                      " nothing was recorded")

    def _check_mode(self, mode: str, generated_at: str) -> None:
        """A record is made in one of the two modes, the one of the records made before it in its
        calendar year (ADR-61: the mode holds for a year; ADR-78). "" is a record's made before
        records said their mode: nothing to hold it to, nor to hold the next one to."""
        if mode:
            check_mode(mode)
        if not (mode and self.last_mode and mode != self.last_mode and self.last_made_at
                and self.last_made_at[:4] == generated_at[:4]):
            return
        raise Refused(f"your billing records of {generated_at[:4]} were made in {self.last_mode} mode"
                      f" ({self.last.number} the last), which holds for the calendar year: a record of that"
                      f" year is not made in {mode} mode; nothing was recorded")

    def _signature(self, kind: type, fields: dict[str, Any], sign: Signing | None, given: str | None) -> str:
        """The signature a new record is saved with: the one it carries when re-decided, else `sign`'s
        over the record as it will be saved (its fields, without a signature), else none."""
        if given is not None:
            return given
        if sign is None:
            return ""
        return sign(kind.model_construct(originator_id=self.id, originator_version=self.version + 1,
                                         **fields, signature=""))

    @singledispatchmethod
    def when(self, event: object) -> None:
        raise TypeError(f"unexpected event {type(event).__name__}")

    @when.register
    def _(self, event: ev.InvoiceRegistered) -> None:
        self.registered[event.invoice_number] = event.issued_on
        self._chain(event)

    @when.register
    def _(self, event: ev.InvoiceRegistrationCancelled) -> None:
        self.cancelled.add(event.invoice_number)
        self._chain(event)

    def _chain(self, event: ev.InvoiceRegistered | ev.InvoiceRegistrationCancelled) -> None:
        self.last = PreviousRecord(issuer_nif=event.issuer_nif, number=event.invoice_number,
                                   issued_on=event.issued_on, fingerprint=event.fingerprint)
        self.last_made_at = event.generated_at
        self.last_mode = made_in(event)


def texts_of(record: ev.InvoiceRegistered | ev.InvoiceRegistrationCancelled) -> RecordTexts:
    """What the record's fingerprint and chain rest on, as it states them."""
    cancellation = isinstance(record, ev.InvoiceRegistrationCancelled)
    previous = record.previous
    return RecordTexts(
        cancellation=cancellation, issuer_nif=record.issuer_nif, number=record.invoice_number,
        issued_on=record.issued_on, invoice_type="" if cancellation else record.invoice_type,
        tax_total="" if cancellation else record.tax_total, total="" if cancellation else record.total,
        previous=previous.fingerprint if previous else "", previous_number=previous.number if previous else "",
        generated_at=record.generated_at, fingerprint=record.fingerprint)


# The agency's page where anyone checks an invoice from its QR code (Orden HAC/1177/2024 art. 20 and
# the AEAT's QR specification): VERI*FACTU records were sent to the agency, the others kept by the
# issuer. Its test environment is prewww2.aeat.es.
VERIFACTU, NO_VERIFACTU = "verifactu", "no-verifactu"
MODES = (VERIFACTU, NO_VERIFACTU)
QR_HOSTS = {"production": "https://www2.agenciatributaria.gob.es", "test": "https://prewww2.aeat.es"}
QR_PATHS = {VERIFACTU: "/wlpl/TIKE-CONT/ValidarQR", NO_VERIFACTU: "/wlpl/TIKE-CONT/ValidarQRNoVerifactu"}
QR_PREFIX = "QR tributario:"  # the text above the code (AEAT's QR specification)
# The legend of an invoice of a VERI*FACTU system (art. 21): this phrase, or "VERI*FACTU". None for the others.
LEGENDS = {VERIFACTU: "Factura verificable en la sede electrónica de la AEAT", NO_VERIFACTU: None}


def made_in(record: ev.InvoiceRegistered | ev.InvoiceRegistrationCancelled) -> str:
    """The Verifactu mode a record was made in (`stated_mode`)."""
    return stated_mode(record.mode, record.signature)


def stated_mode(mode: str, signature: str) -> str:
    """The Verifactu mode a record with this `mode` and `signature` was made in: the one it states
    (ADR-78), else, for a record made before records stated it, no-VERI*FACTU if it is signed (only
    a system that keeps its records signs them, ADR-59), else "": nothing says."""
    return mode or (NO_VERIFACTU if signature else "")


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise BadInput(f"unknown Verifactu mode {mode!r}: use {' or '.join(MODES)}")
    return mode


def validation_url(*, issuer_nif: str, number: str, issued_on: str, total: str, mode: str,
                   environment: str = "production") -> str:
    """The URL the invoice's QR code encodes: the record's issuer, number, date (dd-mm-yyyy) and
    ImporteTotal, each URL-encoded (`12345678&G33` is `12345678%26G33`)."""
    from urllib.parse import quote

    query = "&".join(f"{name}={quote(value.strip(), safe='')}" for name, value in (
        ("nif", issuer_nif), ("numserie", number), ("fecha", issued_on), ("importe", total)))
    return f"{QR_HOSTS[environment]}{QR_PATHS[check_mode(mode)]}?{query}"


class Submissions(ChainedAggregate):
    """What an issuer sent the tax agency of their chain of records, batch after batch (VERI*FACTU).

    Each batch is the next run of the chain: it starts right after the last one sent, so no record
    is sent twice and none is skipped but the records kept here (made in no-VERI*FACTU mode),
    which are never sent.
    """

    def __init__(self, id: uuid.UUID) -> None:
        super().__init__(id)
        self.sent_through = 0  # the chain's version of the last record sent
        self.warnings: list[str] = []

    @classmethod
    def of(cls, issuer_nif: str) -> Submissions:
        from domain.model.streams import submissions_id

        return cls(submissions_id(issuer_nif))

    def record_sent(self, *, issuer_nif: str, first: int, last: int, last_fingerprint: str, file_sha256: str,
                    reference: str, occurred_on: date, actor: str = "", kept: int = 0) -> ev.BillingRecordsSent:
        """Note that the agency accepted the chain's records `first` to `last`, after `kept` records
        made in no-VERI*FACTU mode, never sent (the caller, who reads the chain, counts them)."""
        from domain.model.streams import submissions_id
        from domain.model.values import check_text

        if submissions_id(issuer_nif) != self.id:
            raise Refused(f"a batch of the issuer {issuer_nif} does not belong to this record of submissions")
        if kept < 0:
            raise BadInput(f"the records kept before a batch are a count, not {kept}")
        if first != self.sent_through + kept + 1:
            raise Refused(f"records 1 to {self.sent_through} were sent already: the next batch starts at record"
                          f" {self.sent_through + kept + 1}, not {first}" if self.sent_through else
                          f"the first batch starts at the chain's first record to send, record {kept + 1},"
                          f" not record {first}")
        if last < first:
            raise BadInput("a batch holds one record at least")
        reference = check_text(reference, "the agency's reference", limit=100)
        return self._record(ev.BillingRecordsSent, occurred_on=occurred_on, actor=actor, issuer_nif=issuer_nif,
                            kept=kept, first=first, last=last, last_fingerprint=last_fingerprint, file_sha256=file_sha256,
                            reference=reference)

    @singledispatchmethod
    def when(self, event: object) -> None:
        raise TypeError(f"unexpected event {type(event).__name__}")

    @when.register
    def _(self, event: ev.BillingRecordsSent) -> None:
        self.sent_through = event.last
