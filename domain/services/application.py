"""The tratos Application: one method per command, persistence chosen by environment.

Every command reads the relationship's stream (a note only its first and last
events: domain/model/notebook.py), lets the aggregate decide, and saves the new events
in one transaction (with the invoice series when an invoice is issued).
Optimistic-concurrency conflicts (and a store locked by another writer) are
retried a bounded number of times by re-reading and re-deciding, then reported;
any other storage error (a full disk, a read-only store) is reported at once as
`domain.adapters.storage.storage_failure` classifies it (ADR-31).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, PersistenceError

from domain.adapters.clock import record_moment
from domain.adapters.encryption import check_key, configured_key, encryption_settings
from domain.adapters.storage import (
    BUSY,
    RETRIED,
    SQLITE_FACTORY_TOPIC,
    StoreBusy,
    classify,
    default_home,
    locate_store,
    store_wait,
)
from domain.model.chain import ChainReport, RawRecord, check_unbroken, verify_chain
from domain.model.choices import DEFAULT_CORRECTIVE_SERIES, DEFAULT_PAYMENT_METHOD, DEFAULT_SERIES
from domain.model.errors import ConcurrencyConflict, Refused, UnknownClient, UnreadableRecord
from domain.model.public_ids import public_id
from domain.model.streams import check_handle, series_id, stream_id
from domain.services.billing_records import BillingRecordsKeeping
from domain.services.event_log import EventLogKeeping

if TYPE_CHECKING:  # imported where a command decides: opening the store needs none of them (ADR-16)
    from domain.model.billing import Line
    from domain.model.invoices import InvoiceSeries
    from domain.model.money import Money
    from domain.model.notebook import Notebook
    from domain.model.relationship import Relationship
    from domain.model.values import Evidence, Installment, Party, Scope, TaxProfile, Terms
    from domain.services.billing_records import RecordSigning

ATTEMPTS = 20
BACKOFF_BASE = 0.005  # seconds: first retry waits up to 5 ms, doubling up to the cap
BACKOFF_CAP = 0.1


@dataclass(frozen=True)
class Recorded:
    """What a command recorded, for confirmations and --json."""

    handle: str
    events: list[Any]
    warnings: list[str] = field(default_factory=list)

    @property
    def event(self) -> Any:
        return self.events[-1]

    @property
    def id(self) -> str | None:
        return public_id(self.event)


class Tratos(BillingRecordsKeeping, EventLogKeeping, Application):
    """A freelancer's client relationships, recorded as hash-chained event streams."""

    name = "tratos"
    env = {
        "PERSISTENCE_MODULE": SQLITE_FACTORY_TOPIC,
        "MAPPER_TOPIC": "domain.adapters.mapper:PydanticMapper",
        "TRANSCODER_TOPIC": "domain.adapters.mapper:CanonicalJSONTranscoder",
    }

    def __init__(self, home: Path | None = None, env: dict[str, str] | None = None,
                 actor: str = "", database_url: str | None = None,
                 profile: TaxProfile | Callable[[], TaxProfile | None] | None = None,
                 record_clock: Callable[[], datetime] | None = None,
                 record_signer: Callable[[], RecordSigning] | None = None) -> None:
        """Open the store: PostgreSQL if `database_url` (or $TRATOS_DATABASE_URL) is given,
        else the SQLite file in `home` (see domain/adapters/storage.py and ADR-9).

        `record_signer` says how the billing records a command makes are signed (no-VERI*FACTU
        mode): asked once, when a command is about to make one, before it takes any lock (opening
        a key may ask for its passphrase); without it they are unsigned.

        Raises `StoreUnavailable` (a BadInput, exit 2) with one plain line when the
        store cannot be opened.
        """
        self.home = Path(home) if home else default_home()
        self.actor = actor
        self._profile = profile  # the freelancer's invoicing settings, or how to read them when first needed
        self._after_recording: list[Callable[[], None]] = []
        self.saved: dict[str, str] = {}  # the last event type saved in each client's (or issuer's) stream
        self.record_clock = record_clock or record_moment  # when a billing record is generated (Verifactu)
        self.record_signer = record_signer
        # A malformed key is refused before anything is opened or made (ADR-12, ADR-62); a wrong one
        # right after it is opened.
        encryption = encryption_settings(configured_key(env))
        self.location = locate_store(self.home, env, database_url)
        self.store_wait = store_wait(env)  # the most a command waits for a store kept locked
        settings = {**self.location.settings, **encryption}
        self.stream_locks = self.location.stream_locks()
        try:
            with self.stream_locks.opening():
                super().__init__(env=settings)
            check_key(self.recorder, self.mapper)
        except BaseException as error:
            factory = getattr(self, "factory", None)
            if factory is not None:
                factory.close()
            self.stream_locks.close()
            if isinstance(error, PersistenceError):
                raise self.location.unavailable(error) from error
            raise

    @property
    def profile(self) -> TaxProfile | None:
        """The freelancer's invoicing settings (identity.json); None: this store cannot invoice.

        Read when an invoice needs it: building it builds pydantic models, which `status` never
        does (ADR-16).
        """
        if callable(self._profile):
            self._profile = self._profile()
        return self._profile

    @profile.setter
    def profile(self, profile: TaxProfile | None) -> None:
        self._profile = profile

    def close(self) -> None:
        super().close()
        self.stream_locks.close()

    def after_recording(self, callback: Callable[[], None]) -> None:
        """Run `callback` after each command that recorded, once its transaction is committed.

        The CLI catches up its read side there (ADR-16); the callback is not part of the
        command: what it fails to do, the next reader does.
        """
        self._after_recording.append(callback)

    def _recorded(self, recorded: Recorded) -> Recorded:
        for callback in self._after_recording:
            callback()
        return recorded

    @property
    def encrypted(self) -> bool:
        """Whether events are stored encrypted (TRATOS_ENCRYPTION_KEY)."""
        return self.mapper.cipher is not None

    # ---------------------------------------------------------------- reading

    def relationship(self, handle: str) -> Relationship:
        """The client's relationship, as every decision loads it: from a stream whose chain holds."""
        from domain.model.relationship import Relationship

        return Relationship.project(None, self.stream(handle)[1])

    def stream(self, handle: str, *, verified: bool = True) -> tuple[list[RawRecord], list[Any]]:
        """A client's records as stored and their events, from one read of the stream.

        `verified`: the chain's digests are recomputed from the records already read (one SHA-256
        an event) and a broken one is refused (`check_unbroken`, ADR-64): a command decides and
        signs only from a history that is the one recorded. Readers that report on a broken chain
        (`tratos verify`, the audit) ask for it unverified.
        """
        stream = stream_id(check_handle(handle))
        try:
            stored = self.recorder.select_events(stream)
        except UnreadableRecord as error:  # a row damaged by hand (stored_rows): name its client
            raise UnreadableRecord(handle, error.version, error.why) from error
        if not stored:
            raise _unknown(handle)
        records = [RawRecord(s.originator_version, s.topic, self.mapper.record_state(s, handle)) for s in stored]
        if verified:
            check_unbroken(handle, verify_chain(stream, records))
        return records, [self.mapper.to_domain_event(s, r.state) for s, r in zip(stored, records, strict=True)]

    def exists(self, handle: str) -> bool:
        return bool(self.recorder.select_events(stream_id(check_handle(handle)), limit=1))

    def raw_records(self, stream: UUID) -> Iterator[RawRecord]:
        """A stream's records as stored, decoded to JSON but not to events."""
        for stored in self.recorder.select_events(stream):
            yield RawRecord(stored.originator_version, stored.topic, self.mapper.record_state(stored))

    def verify(self, handle: str) -> ChainReport:
        """Recompute the hash chain of a client's stream from the raw records."""
        stream = stream_id(check_handle(handle))
        return verify_chain(stream, self.raw_records(stream))

    # ------------------------------------------------------------- recording

    def notebook(self, handle: str) -> Notebook:
        """The relationship as a note needs it, from its first and last events (domain/model/notebook.py)."""
        from domain.model.notebook import Notebook

        stream = stream_id(check_handle(handle))
        first = self.recorder.select_events(stream, limit=1)
        if not first:
            raise _unknown(handle)
        last = self.recorder.select_events(stream, desc=True, limit=1)
        return Notebook(self.mapper.to_domain_event(first[0]), self.mapper.to_domain_event(last[0]))

    def save(self, *objects: Any, **kwargs: Any) -> Any:
        """Saved and counted as one step for the signals that stop a command (`interruptions`): one
        arriving during the save waits until it is counted, so what the command kept for it stays."""
        from domain.adapters.interruptions import counted_save

        with counted_save():
            saved = super().save(*objects, **kwargs)
            first = objects[0]  # what a command decided on: said if it is stopped after it (ADR-88)
            last = getattr(first, "last_saved", None)
            handle = getattr(first, "handle", "") or type(first).__name__  # (the issuer's: BillingRecords)
            self.saved.pop(handle, None)  # each stream's latest, in the order last saved
            self.saved[handle] = type(last[-1]).__name__ if last else ""
            return saved

    def _update(self, handle: str, decide: Callable[[Any], Any],
                load: Callable[[str], Any] | None = None, first_lock: UUID | None = None,
                first_locks: tuple[UUID, ...] = ()) -> Recorded:
        """Load (the whole relationship unless told otherwise), decide, save in one transaction;
        again on a conflict. `first_locks`, then `first_lock`, are held before the stream's (the
        issuer's billing records, then the invoice series)."""
        load = load or self.relationship
        with ExitStack() as locks:
            for lock in (*first_locks, *([first_lock] if first_lock is not None else [])):
                locks.enter_context(self.stream_locks.hold(lock))
            locks.enter_context(self.stream_locks.hold(stream_id(check_handle(handle))))
            recorded = self._decide_and_save(handle, decide, load)
        return self._recorded(recorded)

    def _decide_and_save(self, handle: str, decide: Callable[[Any], Any],
                         load: Callable[[str], Any]) -> Recorded:
        _check_actor(self.actor)
        meaning = None
        # A busy store is retried only within the wait: SQLite's busy timeout may have spent it
        # all in one attempt, and twenty of those would hold a command for ten minutes.
        deadline = time.monotonic() + self.store_wait
        for attempt in range(ATTEMPTS):
            aggregate = load(handle)
            extra = decide(aggregate)
            try:
                self.save(aggregate, *(extra or ()))
            except PersistenceError as error:
                meaning = classify(error)
                if meaning not in RETRIED:  # full, read-only, failing: another attempt would fail alike
                    failure = self.location.failure(error)
                    if failure is None:
                        raise
                    raise failure from error
                if meaning == BUSY and time.monotonic() >= deadline:
                    break
                _back_off(attempt)
                continue
            return Recorded(handle, aggregate.last_saved, aggregate.warnings)
        if meaning == BUSY:
            raise StoreBusy(f"the store at {self.location.description} stayed locked by another process:"
                            " nothing was recorded, try again")
        raise ConcurrencyConflict(f"{handle} kept changing under this command; nothing was recorded, try again")

    def open_relationship(self, handle: str, client: Party, *, on: date) -> Recorded:
        from domain.model.relationship import Relationship

        if self.exists(handle):
            raise Refused(f"client {handle!r} already exists")
        _check_actor(self.actor)
        relationship = Relationship.open(stream_id(handle), handle, client, on, self.actor)
        try:
            self.save(relationship)
        except IntegrityError:
            raise Refused(f"client {handle!r} already exists") from None
        return self._recorded(Recorded(handle, relationship.last_saved))

    def publish_terms(self, handle: str, terms: Terms, *, on: date,
                      follow_up: dict[str, Any] | None = None) -> Recorded:
        """Publish terms and, if given, their follow-up schedule (`schedule_follow_up`'s keywords), in one save."""
        def decide(relationship: Relationship) -> None:
            published = relationship.publish_terms(terms, on, self.actor)
            if follow_up:
                relationship.schedule_follow_up(published.terms_version, on=on, actor=self.actor, **follow_up)

        return self._update(handle, decide)

    def schedule_follow_up(self, handle: str, terms_version: int, *, on: date, **schedule: Any) -> Recorded:
        """Give published terms the follow-up schedule they lack (`schedule_follow_up`'s keywords)."""
        return self._update(handle, lambda r: _one(r.schedule_follow_up(terms_version, on=on, actor=self.actor,
                                                                         **schedule)))

    def claim_follow_up(self, handle: str, about: str, step: str, *, on: date) -> Recorded:
        return self._update(handle, lambda r: _one(r.claim_follow_up(about, step, on=on, actor=self.actor)))

    def send_follow_up(self, handle: str, about: str, step: str, *, on: date, **sent: Any) -> Recorded:
        return self._update(handle, lambda r: _one(r.send_follow_up(about, step, on=on, actor=self.actor, **sent)))

    def fail_follow_up(self, handle: str, about: str, step: str, *, reason: str, on: date) -> Recorded:
        return self._update(handle, lambda r: _one(r.fail_follow_up(about, step, reason=reason, on=on,
                                                                     actor=self.actor)))

    def draft_contract(self, handle: str, *, title: str, scope: Scope, price: Money, start: date,
                       end: date, installments: list[Installment], hours_budget: Decimal | None = None,
                       our_duties: list[str] = (), client_duties: list[str] = (),
                       payment_method: str = DEFAULT_PAYMENT_METHOD, on: date) -> Recorded:
        return self._update(handle, lambda r: _one(r.draft_contract(
            title=title, scope=scope, price=price, start=start, end=end, installments=installments,
            hours_budget=hours_budget, our_duties=our_duties, client_duties=client_duties,
            payment_method=payment_method, on=on, actor=self.actor)))

    def sign_contract(self, handle: str, *, party: str, signer: str, method: str, on: date,
                      contract_id: str | None = None, evidence: list[Evidence] = (),
                      certificate_subject: str = "", certificate_fingerprint: str = "",
                      document_sha256: str = "") -> Recorded:
        return self._update(handle, lambda r: _one(r.sign_contract(
            party=party, signer=signer, method=method, on=on, contract_id=contract_id,
            evidence=evidence, certificate_subject=certificate_subject,
            certificate_fingerprint=certificate_fingerprint, document_sha256=document_sha256,
            actor=self.actor)))

    def complete_contract(self, handle: str, *, on: date, contract_id: str | None = None) -> Recorded:
        return self._update(handle, lambda r: _one(r.complete_contract(on, contract_id, self.actor)))

    def request_change(self, handle: str, description: str, *, requested_by: str, on: date,
                       contract_id: str | None = None, evidence: list[Evidence] = ()) -> Recorded:
        return self._update(handle, lambda r: _one(r.request_change(
            description, requested_by=requested_by, on=on, contract_id=contract_id,
            evidence=evidence, actor=self.actor)))

    def quote_change(self, handle: str, change_id: str, *, price: Money, on: date,
                     hours: Decimal | None = None, days: int | None = None) -> Recorded:
        return self._update(handle, lambda r: _one(r.quote_change(
            change_id, price=price, hours=hours, days=days, on=on, actor=self.actor)))

    def approve_change(self, handle: str, change_id: str, *, on: date, evidence: list[Evidence] = ()) -> Recorded:
        return self._update(handle, lambda r: _one(r.approve_change(change_id, on=on, evidence=evidence,
                                                                    actor=self.actor)))

    def reject_change(self, handle: str, change_id: str, *, on: date, evidence: list[Evidence] = ()) -> Recorded:
        return self._update(handle, lambda r: _one(r.reject_change(change_id, on=on, evidence=evidence,
                                                                   actor=self.actor)))

    def withdraw_change(self, handle: str, change_id: str, *, on: date, evidence: list[Evidence] = ()) -> Recorded:
        return self._update(handle, lambda r: _one(r.withdraw_change(change_id, on=on, evidence=evidence,
                                                                     actor=self.actor)))

    def report_mistake(self, handle: str, description: str, *, reported_by: str, on: date,
                       contract_id: str | None = None, evidence: list[Evidence] = ()) -> Recorded:
        return self._update(handle, lambda r: _one(r.report_mistake(
            description, reported_by=reported_by, on=on, contract_id=contract_id, evidence=evidence,
            actor=self.actor)))

    def acknowledge_mistake(self, handle: str, mistake_id: str, *, on: date, apology: str = "") -> Recorded:
        return self._update(handle, lambda r: _one(r.acknowledge_mistake(
            mistake_id, on=on, apology=apology, actor=self.actor)))

    def diagnose_mistake(self, handle: str, mistake_id: str, *, fault: str, cause: str, on: date,
                         category: str = "") -> Recorded:
        return self._update(handle, lambda r: _one(r.diagnose_mistake(
            mistake_id, fault=fault, cause=cause, category=category, on=on, actor=self.actor)))

    def propose_remedy(self, handle: str, mistake_id: str, description: str, *, on: date,
                       cost: Money | None = None, hours: Decimal | None = None) -> Recorded:
        return self._update(handle, lambda r: _one(r.propose_remedy(
            mistake_id, description, cost=cost, hours=hours, on=on, actor=self.actor)))

    def choose_remedy(self, handle: str, mistake_id: str, option_id: str, *, agreed: bool, on: date) -> Recorded:
        return self._update(handle, lambda r: _one(r.choose_remedy(
            mistake_id, option_id, agreed=agreed, on=on, actor=self.actor)))

    def resolve_mistake(self, handle: str, mistake_id: str, *, on: date) -> Recorded:
        return self._update(handle, lambda r: _one(r.resolve_mistake(mistake_id, on=on, actor=self.actor)))

    def record_lesson(self, handle: str, mistake_id: str, lesson: str, *, on: date) -> Recorded:
        return self._update(handle, lambda r: _one(r.record_lesson(mistake_id, lesson, on=on, actor=self.actor)))

    def issue_invoice(self, handle: str, *, on: date, installment: int | None = None,
                      amount: Money | None = None, change_id: str | None = None,
                      contract_id: str | None = None, due: date | None = None, concept: str = "",
                      lines: list[Line] | None = None, hours: tuple[date, date] | None = None,
                      summed: bool = False, vat_rate: Decimal | None = None,
                      withholding: Decimal | None = None, exemption: str = "",
                      series: str | None = None) -> Recorded:
        """Bill an installment, an amount, an approved change (by default its quoted price), lines,
        or the hours logged between two dates and not billed yet, taxed as the client is.
        `series` overrides the profile's (the tests number each example in a series of its own)."""
        series = series or (self.profile.series if self.profile else DEFAULT_SERIES)

        def decide(relationship: Relationship) -> list[InvoiceSeries]:
            billed = amount
            if billed is None and change_id is not None and installment is None and not lines and hours is None:
                billed = _quoted_price(relationship, change_id)
            asked = list(lines or [])
            if hours is not None:
                asked += relationship.hours_to_bill(*hours, summed=summed, contract_id=contract_id)
            if not asked:  # what is billed is refused before a number is taken
                relationship.check_invoice(on=on, installment=installment, amount=billed, change_id=change_id,
                                           contract_id=contract_id)
            numbering = self._series(series, on.year)
            number = numbering.assign(series, handle, on, self.actor)
            invoice = relationship.issue_invoice(number, on=on, due=due, installment=installment, amount=billed,
                                       change_id=change_id, contract_id=contract_id, concept=concept,
                                       profile=self.profile, lines=asked or None, vat_rate=vat_rate,
                                       withholding=withholding, exemption=exemption, actor=self.actor)
            return [numbering, *self._register(invoice, on, relationship.warnings,
                                               first_of_series=numbering.last_sequence == 1)]

        # Every invoice of the year takes the next number of one series, so invoices take turns
        # on it, and every invoice of the issuer the next record of their chain. The chain is
        # always locked first, then the series, then a relationship, never in another order: no deadlock.
        return self._signing_records(lambda: self._update(handle, decide, first_locks=self._chain_lock(),
                                                          first_lock=series_id(series, on.year)))

    def correct_invoice(self, handle: str, number: str, *, on: date, reason: str, lines: list[Line] | None = None,
                        amount: Money | None = None, void: bool = False, ground: str = "R1") -> Recorded:
        """Issue a corrective invoice (its own series, R-2026-001…) for an issued invoice; `ground`,
        the legal ground, is its type in the billing record (R1..R4: domain/model/billing_records.py)."""
        from domain.model.billing_records import check_ground

        series = self.profile.corrective_series if self.profile else DEFAULT_CORRECTIVE_SERIES
        check_ground(ground)

        def decide(relationship: Relationship) -> list[InvoiceSeries]:
            corrected_on = relationship.invoice(number).issued_on  # an unknown invoice takes no number
            numbering = self._series(series, on.year)
            corrective = numbering.assign(series, handle, on, self.actor, corrective=True)
            invoice = relationship.correct_invoice(corrective, number, on=on, reason=reason, profile=self.profile,
                                                   lines=lines, amount=amount, void=void, actor=self.actor)
            return [numbering, *self._register(invoice, on, relationship.warnings, corrected_on=corrected_on,
                                               ground=ground, first_of_series=numbering.last_sequence == 1)]

        return self._signing_records(lambda: self._update(handle, decide, first_locks=self._chain_lock(),
                                                          first_lock=series_id(series, on.year)))

    def change_client_details(self, handle: str, client: Party, *, on: date) -> Recorded:
        return self._update(handle, lambda r: _one(r.change_client_details(client, on=on, actor=self.actor)))

    def _series(self, series: str, year: int) -> InvoiceSeries:
        """The invoice series from its last event alone (see `InvoiceSeries.resume`)."""
        from domain.model.invoices import InvoiceSeries

        key = series_id(series, year)
        last = self.recorder.select_events(key, desc=True, limit=1)
        if not last:
            return InvoiceSeries(key)
        return InvoiceSeries.resume(self.mapper.to_domain_event(last[0]))

    def record_payment(self, handle: str, number: str, amount: Money, *, on: date) -> Recorded:
        return self._update(handle, lambda r: _one(r.record_payment(number, amount, on=on, actor=self.actor)))

    def mark_late(self, handle: str, number: str, *, on: date) -> Recorded:
        return self._update(handle, lambda r: _one(r.mark_late(number, on=on, actor=self.actor)))

    def send_reminder(self, handle: str, number: str, *, on: date, late_fee: Money | None | object = ...,
                      document: dict[str, Any] | None = None) -> Recorded:
        """Record a reminder and, if given, the `DocumentIssued` of the PDF that carries it
        (`issue_document`'s keywords but kind), in one transaction: neither without the other."""
        def decide(relationship: Relationship) -> None:
            relationship.send_reminder(number, on=on, late_fee=late_fee, actor=self.actor)
            if document is not None:
                relationship.issue_document("reminder", on=on, actor=self.actor, **document)

        return self._update(handle, decide)

    def log_hours(self, handle: str, hours: Decimal, *, on: date, note: str = "",
                  contract_id: str | None = None, change_id: str | None = None) -> Recorded:
        return self._update(handle, lambda r: _one(r.log_hours(
            hours, on=on, note=note, contract_id=contract_id, change_id=change_id, actor=self.actor)))

    def record_note(self, handle: str, text: str, *, on: date, evidence: list[Evidence] = ()) -> Recorded:
        return self._update(handle, lambda n: _one(n.record_note(text, on=on, evidence=evidence, actor=self.actor)),
                            load=self.notebook)

    def issue_document(self, handle: str, kind: str, *, sha256: str, chain_version: int, chain_digest: str,
                       on: date, document_id: str = "", lang: str = "") -> Recorded:
        return self._update(handle, lambda r: _one(r.issue_document(
            kind, sha256=sha256, chain_version=chain_version, chain_digest=chain_digest, on=on,
            document_id=document_id, lang=lang, actor=self.actor)))

    def timestamp_anchor(self, handle: str, *, chain_version: int, chain_digest: str, note_sha256: str,
                         token_sha256: str, timestamped_at: datetime, authority: str, tsa_url: str,
                         on: date, evidence: list[Evidence] = ()) -> Recorded:
        """Record a TSA's token over an anchor note naming `handle`'s head (like a note: opening and head)."""
        return self._update(handle, lambda n: _one(n.timestamp_anchor(
            chain_version=chain_version, chain_digest=chain_digest, note_sha256=note_sha256,
            token_sha256=token_sha256, timestamped_at=timestamped_at, authority=authority, tsa_url=tsa_url,
            on=on, evidence=evidence, actor=self.actor)), load=self.notebook)

    def send_document(self, handle: str, kind: str, *, on: date, sent: dict[str, Any],
                      document: dict[str, Any] | None = None) -> Recorded:
        """Record a document emailed (`DocumentSent`, `sent` its keywords) and, if it was printed
        for this message, its `DocumentIssued` first (`document` its keywords): one save."""
        def decide(relationship: Relationship) -> None:
            if document is not None:
                relationship.issue_document(kind, on=on, actor=self.actor, **document)
            relationship.send_document(kind, on=on, actor=self.actor, **sent)

        return self._update(handle, decide)

    def file_messages(self, handle: str, messages: list[dict[str, Any]], *,
                      on: date) -> tuple[Recorded, list[dict[str, Any]]]:
        """File emails as evidence in one save (`file_message`'s keywords each, `direction` among
        them); those already on the record when the save is decided are skipped and returned."""
        skipped: list[dict[str, Any]] = []

        def decide(relationship: Relationship) -> None:
            skipped.clear()  # decided again on a conflict, from the stream as it is then
            for message in messages:
                if relationship.is_filed(message["message_id"], message["evidence"][0].sha256):
                    skipped.append(message)
                    continue
                direction = message["direction"]
                relationship.file_message(direction, on=on, actor=self.actor,
                                          **{k: v for k, v in message.items() if k != "direction"})

        return self._update(handle, decide), skipped

    def end_relationship(self, handle: str, *, reason: str, ended_by: str, on: date,
                         confidentiality: str = "") -> Recorded:
        return self._update(handle, lambda r: _one(r.end(
            reason=reason, ended_by=ended_by, on=on, confidentiality=confidentiality, actor=self.actor)))


def _back_off(attempt: int) -> None:
    """Full-jitter exponential back-off between retries, so that writers racing for one
    stream (or the invoice series) spread out instead of colliding again in lock-step."""
    time.sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** attempt)))


def _unknown(handle: str) -> UnknownClient:
    return UnknownClient(f"no client {handle!r}: open it with `tratos client open {handle}`", handle)


def _quoted_price(relationship: Relationship, change_id: str) -> Money:
    """What an invoice for a change bills when no amount is given: the price it was quoted."""
    price = relationship.change(change_id).price
    if price is None:
        raise Refused(f"change {change_id} has no quoted price: quote and approve it before invoicing it")
    return price


def _one(_event: Any) -> None:
    """Commands that save only the relationship return no extra aggregates."""
    return None


def _check_actor(actor: str) -> None:
    """The actor signs every event recorded: the one text policy holds for it (ADR-26, ADR-32)."""
    from domain.model.values import check_actor

    check_actor(actor)
