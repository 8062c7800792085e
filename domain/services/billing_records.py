"""The Application's Verifactu billing records: registered with each invoice, cancelled, sent.

A mixin of `Tratos` (domain/services/application.py), as the invoicing commands are of the
Relationship: the issuer's chain is a stream per NIF (`BillingRecords`, ADR-49), its record
saved in the invoice's own transaction by `_register`, which `issue_invoice` and
`correct_invoice` call while they decide; `cancel_record` and `record_sent` are commands of
their own on the chain and on what was sent of it (ADR-52).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.model.errors import BadInput, Refused
from domain.model.streams import records_id

if TYPE_CHECKING:
    from domain.model.billing_records import BillingRecords, Signing
    from domain.model.record_values import SoftwareSystem
    from domain.services.application import Recorded


@dataclass(frozen=True)
class RecordSigning:
    """How the records of a command are signed: by `sign`, or unsigned, for the reason said with each
    record made so (`unsigned_because`, "" when unsigned is as it should be: VERI*FACTU mode)."""

    sign: Signing | None = None
    unsigned_because: str = ""
    keeps_log: bool = False  # the identity keeps its records (no-VERI*FACTU): it keeps the event log too
    sends: bool = False  # the identity sends its records to the agency (VERI*FACTU)

    @property
    def mode(self) -> str:
        """The Verifactu mode the records are made in (ADR-78); "" when nothing says it: the
        Application alone, which no identity tells its mode."""
        from domain.model.billing_records import NO_VERIFACTU, VERIFACTU

        return NO_VERIFACTU if self.keeps_log else VERIFACTU if self.sends else ""

    def warnings(self) -> list[str]:
        return [self.unsigned_because] if self.sign is None and self.unsigned_because else []


class SigningNeeded(Exception):  # noqa: N818 - not an error: the key is to be opened, then the command runs again
    """A record is about to be signed and the key is not open yet (see `_sign_record`)."""


class BillingRecordsKeeping:
    """What `Tratos` does with billing records; it uses the Application's recorder, mapper, locks,
    profile and `_decide_and_save`."""

    def _chain_lock(self) -> tuple[UUID, ...]:
        """The streams of the issuer's billing records and event log, to lock in this order before the
        series (if the NIF reads)."""
        from domain.model.streams import events_id
        from domain.model.tax_ids import spanish_nif

        if self.profile is None or not self.profile.issuer.tax_id:
            return ()
        try:
            nif = spanish_nif(self.profile.issuer.tax_id, "your tax id")
        except (BadInput, Refused):
            return ()  # the invoice is refused for it; nothing to lock
        return records_id(nif), events_id(nif)

    def _sign_record(self, record: Any) -> str:
        """The signature of a record about to be saved (`BillingRecords.register`'s `sign`), "" unsigned.

        The key is opened once a command, and only once the record is decided (what the command
        refuses, it refuses without asking for a passphrase), but never under a lock: the first
        call raises `SigningNeeded`, which `_signing_records` catches outside the locks, opens
        the key (`Tratos(record_signer=…)`, which may ask for its passphrase) and runs again.
        """
        signing = self._record_signing()
        if signing is None:
            raise SigningNeeded
        return signing.sign(record) if signing.sign is not None else ""

    def _record_signing(self) -> RecordSigning | None:
        """How this command signs its records; None until asked for (`_signing_records`)."""
        if "_signing" not in self.__dict__ and self.record_signer is None:
            self._signing = RecordSigning()
        return self.__dict__.get("_signing")

    def _record_mode(self) -> str:
        """The Verifactu mode this command's records are made in, which its signing says (ADR-78);
        asked for as the signing is, after the record clock is checked (`_record_moment`) and before
        the chain checks the record's time against the one before it."""
        signing = self._record_signing()
        if signing is None:
            raise SigningNeeded
        return signing.mode

    def _signing_records(self, command: Callable[[], Recorded]) -> Recorded:
        """Run a command that makes a record; again, once the key is open, if it needs one to sign."""
        try:
            return command()
        except SigningNeeded:
            self._signing = self.record_signer()
            return command()

    def _unsigned_warnings(self) -> list[str]:
        signing = self._record_signing()
        return signing.warnings() if signing is not None else []

    def records(self, issuer_nif: str) -> BillingRecords:
        """An issuer's whole chain of billing records (empty if none was kept)."""
        from domain.model.billing_records import BillingRecords

        chain = BillingRecords.of(issuer_nif)
        for stored in self.recorder.select_events(chain.id):
            chain.apply(self.mapper.to_domain_event(stored))
        return chain

    def _last_records(self, issuer_nif: str) -> BillingRecords:
        """The issuer's chain from its last record alone, enough to register the next."""
        from domain.model.billing_records import BillingRecords

        key = records_id(issuer_nif)
        last = self.recorder.select_events(key, desc=True, limit=1)
        if not last:
            return BillingRecords(key)
        return BillingRecords.resume(self.mapper.to_domain_event(last[0]))

    def check_mode_change(self, issuer_nif: str, mode: str, new_mode: str) -> None:
        """The Verifactu mode holds for a calendar year (ADR-61): a change is refused while the issuer's
        chain holds records generated in the year the next record would be (the record clock's), as the
        Orden has a system keep its mode through the year, and the invoices of that year would print
        the other mode's QR code and legend when printed again (ADR-51). From 1 January it is free; and
        back to the mode the year's records say they were made in (ADR-78), after a hand edit."""
        if mode == new_mode:
            return
        from domain.model.billing_records import made_in

        year = self.record_clock().year
        last = self.recorder.select_events(records_id(issuer_nif), desc=True, limit=1)
        record = self.mapper.to_domain_event(last[0]) if last else None
        if record is None or not record.generated_at.startswith(f"{year:04d}-"):
            return
        made = made_in(record) or mode  # back to the mode the year's records say they were made in: no change
        if made != new_mode:
            raise Refused(f"the Verifactu mode holds for a calendar year: your billing records of {year} were"
                          f" made in {made} mode, and their invoices print its QR code; switch to {new_mode}"
                          f" from 1 January {year + 1}")

    def software(self, issuer_nif: str, issuer_name: str) -> SoftwareSystem:
        """tratos, this version, as the records name it (SistemaInformatico)."""
        from domain.model.billing_records import software_of

        return software_of(issuer_nif, issuer_name, _tratos_version())

    def _register(self, invoice: Any, on: date, warnings: list[str], *, corrected_on: date | None = None,
                  ground: str = "R1", first_of_series: bool = False) -> list[BillingRecords]:
        """The registration record of an invoice just issued, in the same save as the invoice.

        Only an invoice recorded without a tax profile (a test's, or an import's of a store from
        before taxes) names no issuer; its record takes the profile's, and without one there is none.
        `first_of_series`: the invoice is its series' first of the year (`_registered_before`).
        """
        from domain.model.billing import check_issuer
        from domain.model.billing_records import registration_of

        issuer = invoice.issuer or (check_issuer(self.profile) if self.profile else None)
        if issuer is None:
            return []
        chain = self._last_records(issuer.tax_id)
        if chain.last is None:
            warnings.extend(self._new_chain(issuer.tax_id))
        elif first_of_series:
            self._registered_before(issuer.tax_id, invoice.invoice_number, on.year)
        made_at = self._record_moment()
        chain.register(**registration_of(invoice, issuer_nif=issuer.tax_id, issuer_name=issuer.name,
                                         corrected_on=corrected_on, ground=ground),
                       generated_at=made_at, system=self.software(issuer.tax_id, issuer.name),
                       mode=self._record_mode(), occurred_on=on,
                       actor=self.actor, sign=self._sign_record,
                       ahead_logged=self._ahead_logged(issuer.tax_id, chain, made_at, warnings))
        warnings.extend(self._unsigned_warnings())
        return [chain, *self._log_started(issuer.tax_id, issuer.name, on)]

    def _registered_before(self, issuer_nif: str, number: str, year: int) -> None:
        """A series numbers from 1 once a year; numbering from 1 again means its stream is gone (rows
        deleted by hand), and the numbers it gave would be given twice: refused while the issuer's
        records hold one of that series and year (ADR-84). Read from the chain's end back to the
        records made before that year (a record is made on or after its invoice's date, and the
        record clock never goes back), so the year's first invoice reads one record."""
        series = number.rpartition("-")[0]
        for record in self._records_back(issuer_nif):
            if record.generated_at < f"{year:04d}":
                return
            if record.invoice_number.rpartition("-")[0] == series:
                raise Refused(f"the invoice series {series} starts again at {number}, but your billing records"
                              f" hold {record.invoice_number} already (record {record.originator_version}):"
                              " the series' events were removed from the store; run `tratos audit verify`,"
                              " nothing was recorded")

    def _records_back(self, issuer_nif: str) -> Iterator[Any]:
        """The issuer's billing records from the chain's end back, read a page at a time."""
        key, version = records_id(issuer_nif), None
        while True:
            page = self.recorder.select_events(key, desc=True, limit=50,
                                               **({"lte": version - 1} if version is not None else {}))
            for stored in page:
                yield self.mapper.to_domain_event(stored)
            if len(page) < 50:
                return
            version = page[-1].originator_version

    def _record_moment(self) -> str:
        """The record clock now, as a record states it; refused when it is more than a day ahead of
        today's business date (ADR-69): a record made in the future would stand before every later one.
        A day's leeway: the business date is the machine's calendar, the record clock Madrid's."""
        from datetime import timedelta

        from domain.adapters.clock import business_today
        from domain.model.fingerprints import record_time

        moment, today = self.record_clock(), business_today()
        if moment.date() > today + timedelta(days=1):
            raise Refused(f"the record clock ({record_time(moment)}) is ahead of today ({today}) by more than a day:"
                          " a billing record is not made in the future; correct TRATOS_NOW or the clock, nothing"
                          " was recorded")
        return record_time(moment)

    def _ahead_logged(self, issuer_nif: str, chain: BillingRecords, made_at: str, warnings: list[str]) -> bool:
        """Whether every record of the chain made after `made_at` is logged as made ahead of the clock
        (anomaly 13, `logged_ahead`): then a record made at `made_at` may follow them (ADR-69). Read
        from the chain's end back, only when its last record is after `made_at`."""
        from datetime import datetime

        if chain.last_made_at is None or datetime.fromisoformat(made_at) >= _moment(chain.last_made_at):
            return False
        signing = self._record_signing()
        if signing is None:  # whether a log is kept is known once the signing is: ask for it (rare: a time back)
            raise SigningNeeded
        if not signing.keeps_log:
            return _far_behind(chain, made_at, warnings)
        logged = self.logged_ahead(issuer_nif)
        if not logged:
            return False
        for record in self._records_back(issuer_nif):
            if _moment(record.generated_at) <= datetime.fromisoformat(made_at):
                return True
            if (record.invoice_number, record.issued_on) not in logged:
                return False
        return True

    def _new_chain(self, issuer_nif: str) -> list[str]:
        """What to say when an issuer's first record is made while records of another NIF exist: the
        tax id changed, and the records of each NIF form a chain of their own (the Orden's, per issuer).
        Refused while that NIF's records made in VERI*FACTU mode wait to be sent (`waiting_elsewhere`):
        `verifactu submission` sends the current tax id's, and would never offer them (ADR-82)."""
        waiting = self.waiting_elsewhere(issuer_nif)
        if waiting is not None:
            former, first = waiting
            raise Refused(f"your billing records as {former} have records waiting to be sent to the agency (from"
                          f" record {first}), which a new tax id ({issuer_nif}) would leave behind: write"
                          f" {former} back (`tratos identity invoicing --tax-id {former}`), send them, then"
                          " change it; nothing was recorded")
        former = self._former_nif(issuer_nif)
        if former is None:
            return []
        return [f"your tax id is now {issuer_nif}: its billing records start a new chain; the records"
                f" issued as {former} stay in theirs"]

    def _former_nif(self, issuer_nif: str) -> str | None:
        """The NIF of the store's first billing record, if another than `issuer_nif`."""
        from domain.adapters.verifactu_xml import RECORD_TOPICS

        found = self.recorder.select_notifications(start=0, limit=1, topics=RECORD_TOPICS[:1],
                                                   inclusive_of_start=False)
        former = self.mapper.to_domain_event(found[0]).issuer_nif if found else None
        return former if former != issuer_nif else None

    def waiting_elsewhere(self, issuer_nif: str) -> tuple[str, int] | None:
        """A former tax id whose records made in VERI*FACTU mode wait to be sent, and the first of
        them: what a change of tax id (`init --force`, a hand edit, an import into a home of
        another) left behind."""
        from domain.adapters.verifactu_xml import pending
        from domain.model.billing_records import NO_VERIFACTU

        former = self._former_nif(issuer_nif)
        if former is None:
            return None
        first, _, waiting = pending(self, former, NO_VERIFACTU)  # only records saying VERI*FACTU: sent for sure
        return (former, first) if waiting else None

    def record_sent(self, issuer_nif: str, sent: list[Any], *, file_sha256: str, reference: str,
                    on: date, unstated: str = "verifactu") -> Recorded:
        """Note that the agency accepted the batch of records `sent` (`verifactu_xml.SentRecord`, as read
        from the file sent): it must be the next run of the chain to send (`verifactu_xml.pending`,
        records not stating their mode taken as made in `unstated`), record for record and field for
        field, the fields outside the fingerprint too (a description, a breakdown edited after
        `submission` wrote the file is not what the chain holds)."""
        from domain.adapters.verifactu_xml import first_field_difference, pending, stored_fields
        from domain.model.billing_records import NO_VERIFACTU, Submissions, made_in, texts_of
        from domain.model.streams import submissions_id

        _check_actor(self.actor)
        if not sent:
            raise BadInput("the file holds no billing record")
        other = next((given.texts.issuer_nif for given in sent if given.texts.issuer_nif != issuer_nif), None)
        if other is not None:  # a batch written before the tax id changed (ADR-82)
            raise Refused(f"the file is a batch of the records of {other}, and your tax id is now {issuer_nif}:"
                          f" write {other} back (`tratos identity invoicing --tax-id {other}`) to record what"
                          " was sent of its records")
        key = submissions_id(issuer_nif)

        def load(_: str) -> Submissions:
            submissions = Submissions(key)
            for stored in self.recorder.select_events(key):
                submissions.apply(self.mapper.to_domain_event(stored))
            return submissions

        def refuse_if_sent_already(texts: Any, first: int, kept: int) -> None:
            """A file of records sent already is named as such, not as a mismatch with the next one."""
            if first == 1:
                return
            for stored in self.recorder.select_events(records_id(issuer_nif), lte=first - 1):
                record = self.mapper.to_domain_event(stored)
                if texts_of(record) == texts:
                    done = ("made in no-verifactu mode, kept here and never sent" if made_in(record) == NO_VERIFACTU
                            else f"sent already (records 1 to {first - 1} were{' sent or kept here' if kept else ''})")
                    raise Refused(f"the file starts with record {stored.originator_version} of your chain"
                                  f" ({texts.name}), {done}; write the next batch with"
                                  " `tratos verifactu submission`")

        def decide(submissions: Submissions) -> None:
            first, kept_here, chain = pending(self, issuer_nif, unstated)  # after `submissions`, under its lock
            chain = chain[:len(sent)]
            for place, (kept, given) in enumerate(zip(chain, sent, strict=False), first):
                ours = texts_of(kept)
                same_record = given.texts.name == ours.name  # the same invoice's registration or cancellation
                if ours != given.texts and not same_record:
                    refuse_if_sent_already(given.texts, first, kept_here)
                    raise Refused(f"the file is not the next batch to send: its record {place - first + 1}"
                                  f" ({given.texts.name}) is not record {place} of your chain"
                                  f" ({ours.name}); write the next batch with `tratos verifactu submission`")
                edited = first_field_difference(given.fields, stored_fields(kept)) or (
                    "its fingerprint differs" if ours != given.texts else "")
                if edited:
                    raise Refused(f"the file is not the batch tratos wrote: its record {place - first + 1}"
                                  f" ({given.texts.name}) differs from record {place} of your chain: {edited};"
                                  " write the next batch with `tratos verifactu submission`")
            if len(chain) < len(sent):
                already = (f" (records 1 to {first - 1} were sent already{', or kept here' if kept_here else ''})"
                           if first > 1 else "")
                raise Refused(f"the file holds {len(sent)} records, and only {len(chain)} are waiting to be"
                              f" sent{already}")
            made = chain[len(sent) - 1].generated_at[:10]  # the agency accepted them after they were made
            if on.isoformat() < made:
                raise Refused(f"{on} is before the batch's last record was made ({made}): the agency accepted"
                              " it on the day its answer came, give that day with --on")
            submissions.record_sent(issuer_nif=issuer_nif, first=first, last=first + len(sent) - 1,
                                    last_fingerprint=sent[-1].texts.fingerprint, file_sha256=file_sha256,
                                    reference=reference, occurred_on=on, actor=self.actor, kept=kept_here)

        with self.stream_locks.hold(key):
            recorded = self._decide_and_save(issuer_nif, decide, load)
        return self._recorded(recorded)

    def cancel_record(self, issuer_nif: str, number: str, *, on: date) -> Recorded:
        """Cancel the billing record of an invoice issued in error (registro de anulación), and void the
        invoice in its client's relationship (`InvoiceCancelled`) in the same transaction: the
        relationship decides whether it may be (it never reached the client), the chain whether its
        record may be (ADR-66)."""
        from contextlib import ExitStack

        from domain.model.streams import events_id, stream_id

        _check_actor(self.actor)
        key = records_id(issuer_nif)
        handle = self._client_of(number)

        def decide(chain: BillingRecords) -> list[Any]:
            issuer_name = self.profile.issuer.name if self.profile else issuer_nif
            voided = []
            if handle is not None:  # first: what it refuses, it refuses without asking for the key
                relationship = self.relationship(handle)
                relationship.cancel_invoice(number, on=on, actor=self.actor)
                _issued_as(relationship, number, issuer_nif)
                voided = [relationship]
            made_at = self._record_moment()
            chain.cancel(number, generated_at=made_at, system=self.software(issuer_nif, issuer_name),
                         mode=self._record_mode(), occurred_on=on, actor=self.actor, sign=self._sign_record,
                         ahead_logged=self._ahead_logged(issuer_nif, chain, made_at, chain.warnings))
            chain.warnings.extend(self._unsigned_warnings())
            return [*voided, *self._log_started(issuer_nif, issuer_name, on)]

        def cancel() -> Recorded:
            with ExitStack() as locks:
                for lock in (key, events_id(issuer_nif), *([stream_id(handle)] if handle else [])):
                    locks.enter_context(self.stream_locks.hold(lock))
                return self._decide_and_save(issuer_nif, decide, self.records)

        return self._recorded(self._signing_records(cancel))

    def _client_of(self, number: str) -> str | None:
        """The client an invoice number was assigned to, from its series (F-2026-007: the stream of F-2026,
        whose 7th number it is); None when no series assigned it (the chain then says the number is unknown)."""
        from domain.model.streams import series_id

        series, _, rest = number.rpartition("-")
        prefix, _, year = series.rpartition("-")
        if not (prefix and year.isdigit() and rest.isdigit() and len(year) == 4):
            return None
        key, sequence = series_id(prefix, int(year)), int(rest)
        for stored in (*self.recorder.select_events(key, gt=sequence - 1, limit=1), *self.recorder.select_events(key)):
            assigned = self.mapper.to_domain_event(stored)
            if assigned.invoice_number == number:
                return assigned.handle
        return None


@functools.cache
def _tratos_version() -> str:
    """This tratos' version, as its records name it (read once: package metadata is slow to find)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tratos")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def _far_behind(chain: BillingRecords, made_at: str, warnings: list[str]) -> bool:
    """Without an event log (VERI*FACTU mode, ADR-60) no anomaly 13 can be logged to explain a time
    going back; the agency, which receives every record as it is made, witnesses the times instead.
    A last record more than a day ahead of the clock now was made by a clock that was wrong (a running
    clock is not corrected by a day): the chain goes on, with a warning naming it. Less than a day
    ahead, it is this clock that may be wrong: refused, and it passes within the day (ADR-69). False
    never: what it does not allow, it refuses, with the way out of this mode."""
    from datetime import datetime, timedelta

    ahead = _moment(chain.last_made_at) - datetime.fromisoformat(made_at)
    if ahead <= timedelta(days=1):
        raise Refused(f"your last billing record ({chain.last.number}, made at {chain.last_made_at}) is ahead of"
                      f" this machine's clock ({made_at}): a record cannot be made before the one it follows;"
                      " correct this clock, or wait until it passes that time. Nothing was recorded")
    warnings.append(f"your last billing record ({chain.last.number}, made at {chain.last_made_at}) is"
                          f" {ahead.days} days ahead of this machine's clock ({made_at}): the clock that made it"
                          " was wrong; this record follows it at the right time, and the agency will read a record"
                          " made before the one before it (anomaly 11 of its list)")
    return True


def _moment(text: str) -> Any:
    """A record's generation time as a time (a stored one that is not is taken as the earliest)."""
    from datetime import UTC, datetime

    from domain.model.fingerprints import moment_of

    return moment_of(text) or datetime.min.replace(tzinfo=UTC)


def _issued_as(relationship: Any, number: str, issuer_nif: str) -> None:
    """A cancellation record goes in the chain of whoever issued the invoice: after a change of tax
    id, the former one's (as a correction is issued by it, ADR-80)."""
    invoice = relationship.invoices.get(number)
    billing = invoice.issued if invoice is not None else relationship.corrections.get(number)
    issuer = billing.issuer if billing is not None else None
    if issuer is not None and issuer.tax_id and issuer.tax_id != issuer_nif:
        raise Refused(f"{number} was issued as {issuer.tax_id}, and your tax id is now {issuer_nif}: its billing"
                      f" record is in the chain of {issuer.tax_id}, whose records only that tax id makes; nothing"
                      " was recorded")


def _check_actor(actor: str) -> None:
    from domain.services.application import _check_actor as check

    check(actor)
