"""The Relationship aggregate: one client, its whole history, and the rules over it.

Each public method decides (raising `Refused`/`BadInput` before anything is
recorded), then records one event; `when` folds events into state, also on
replay. Warnings that should not block (hours over budget, a slow
acknowledgement) are collected in `warnings`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import singledispatchmethod
from uuid import UUID

from domain.model import events as ev
from domain.model.anchors import anchor_timestamp
from domain.model.balance import Balance, balance
from domain.model.billing import check_client_tax_id
from domain.model.calendar import check_day, not_before
from domain.model.chain import ChainedAggregate
from domain.model.changes import Change
from domain.model.choices import DOCUMENT_KINDS, DOCUMENT_LANGUAGES, MAX_CHANGE_DAYS, MAX_HOURS
from domain.model.contracts import Contract, Signature, check_due_order, check_hours, check_schedule
from domain.model.correspondence import Correspondence
from domain.model.errors import BadInput, Refused, UnknownReference, unknown
from domain.model.follow_up import Schedule
from domain.model.invoices import Invoice
from domain.model.invoicing import Invoicing
from domain.model.late_fees import check_fee_currency, governing_terms
from domain.model.mailing import filed_key
from domain.model.mistakes import Mistake, RemedyOption
from domain.model.money import Money
from domain.model.notebook import check_opened
from domain.model.values import (
    SIDES,
    Evidence,
    Installment,
    Party,
    Scope,
    Terms,
    as_recorded,
    check_handle,
    check_text,
)
from domain.model.wording import counted

# After the end, only what collects the balance or keeps the record may be recorded.
ALLOWED_AFTER_END = (ev.InvoiceCorrected, ev.InvoiceCancelled, ev.PaymentReceived, ev.PaymentLate, ev.ReminderSent, ev.NoteRecorded,
                     ev.DocumentIssued, ev.AnchorTimestamped, ev.DocumentSent, ev.MessageReceived,
                     ev.MessageSent, ev.FollowUpClaimed, ev.FollowUpSent, ev.FollowUpFailed)


@dataclass
class Ending:
    on: date
    reason: str
    ended_by: str
    outstanding: list[Money]
    confidentiality: str


@dataclass
class Note:
    on: date
    text: str
    evidence: list[Evidence]


@dataclass
class LoggedHours:
    """An entry of logged hours, numbered 1… in the order logged (what `invoice issue --hours` bills)."""

    on: date
    hours: Decimal
    contract_id: str
    change_id: str | None
    note: str


@dataclass
class IssuedDocument:
    on: date
    kind: str
    document_id: str
    sha256: str
    chain_version: int
    chain_digest: str
    lang: str = ""


@dataclass
class TimestampedAnchor:
    """A TSA's token over an anchor note naming this stream's head (what the dossier lists)."""

    on: date
    chain_version: int
    chain_digest: str
    timestamped_at: datetime
    authority: str
    note_sha256: str
    token_sha256: str


@dataclass
class SentDocument:
    """A document emailed from tratos: when, to whom, and the server's acceptance."""

    on: date
    kind: str
    document_id: str
    to: list[str]
    message_id: str
    server_reply: str


class Relationship(Invoicing, Correspondence, ChainedAggregate):
    """Everything that happened with one client, as decided by its rules."""

    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.handle = ""
        self.client: Party | None = None
        self.opened_on: date | None = None
        self.terms: dict[int, Terms] = {}
        self.terms_published: dict[int, date] = {}  # the day each version was published (ADR-67)
        self.contracts: dict[str, Contract] = {}
        self.changes: dict[str, Change] = {}
        self.mistakes: dict[str, Mistake] = {}
        self.invoices: dict[str, Invoice] = {}
        self.corrections: dict[str, ev.InvoiceCorrected] = {}  # corrective invoices by their number
        self.hours: list[LoggedHours] = []
        self.notes: list[Note] = []
        self.documents: list[IssuedDocument] = []
        self.anchors: list[TimestampedAnchor] = []
        self.sent: list[SentDocument] = []
        self.schedules: dict[int, Schedule] = {}  # follow-up schedule by terms version
        self.follow_ups: dict[str, str] = {}  # step key (F-2026-001/after-7) -> claimed | sent
        self.filed: set[str] = set()  # Message-IDs (or .eml SHA-256) of every email filed or sent
        self.ending: Ending | None = None
        self.latest_on: date | None = None  # the day of the latest event recorded (what `end` follows)
        self.warnings: list[str] = []

    # ----------------------------------------------------------------- queries

    @property
    def state(self) -> str:
        if self.ending:
            return "ended"
        states = {c.state for c in self.contracts.values()}
        if states & {"in_force", "completed"}:
            return "active"
        if states - {"superseded"}:
            return "drafted"
        return "prospect"

    @property
    def latest_terms(self) -> tuple[int, Terms] | None:
        if not self.terms:
            return None
        version = max(self.terms)
        return version, self.terms[version]

    @property
    def current_contract(self) -> Contract | None:
        live = [c for c in self.contracts.values() if c.state != "superseded"]
        return live[-1] if live else None

    def contract(self, contract_id: str | None, *, to_sign: bool = False) -> Contract:
        """The contract named, or the one a command means when none is named: the latest, except
        that while the next contract is only being drafted or signed the one in force is still the
        one invoiced, worked on, changed and completed (ADR-70); signing means the latest."""
        if contract_id is None:
            current = self.current_contract
            if current is None:
                raise Refused(f"{self.handle} has no contract yet: draft one first")
            if not to_sign and current.state not in ("in_force", "completed"):
                in_force = [c for c in self.contracts.values() if c.state == "in_force"]
                if in_force:
                    return in_force[-1]
            return current
        if contract_id not in self.contracts:
            raise unknown(self.handle, "contract", contract_id, self.contracts, empty="a contract id is empty")
        return self.contracts[contract_id]

    def change(self, change_id: str) -> Change:
        if change_id not in self.changes:
            raise unknown(self.handle, "change", change_id, self.changes, empty="a change id is empty")
        return self.changes[change_id]

    def mistake(self, mistake_id: str) -> Mistake:
        if mistake_id not in self.mistakes:
            raise unknown(self.handle, "mistake", mistake_id, self.mistakes, empty="a mistake id is empty")
        return self.mistakes[mistake_id]

    def invoice(self, number: str) -> Invoice:
        if number in self.corrections:  # it changes what is payable on the invoice it corrects (ADR-34)
            corrected = self.corrections[number].corrects
            raise UnknownReference(f"{number} is a corrective invoice of {corrected}: payments, reminders and"
                                   f" further corrections go to the invoice it corrects, {corrected}")
        if number not in self.invoices:
            raise unknown(self.handle, "invoice", number, self.invoices, empty="an invoice number is empty")
        return self.invoices[number]

    def applicable_terms(self, contract_id: str | None) -> tuple[int, Terms] | None:
        """The terms a contract pinned when drafted, else the latest published ones."""
        contract = self.contracts.get(contract_id or "")
        if contract and contract.terms_version in self.terms:
            return contract.terms_version, self.terms[contract.terms_version]
        return self.latest_terms

    def invoice_terms(self, invoice: Invoice) -> tuple[int, Terms] | None:
        """The terms that govern an invoice (`late_fees.governing_terms`), if any."""
        version = invoice.terms_version
        return (version, self.terms[version]) if version in self.terms else None

    def balances(self, on: date) -> dict[str, Balance]:
        """Invoiced, paid, outstanding and overdue on `on`, per currency in the order first invoiced."""
        by_currency: dict[str, list[tuple[Decimal, Decimal, bool]]] = {}
        for invoice in self.invoices.values():
            by_currency.setdefault(invoice.amount.currency, []).append(
                (invoice.payable.amount, invoice.paid.amount, invoice.is_overdue(on)))
        return {currency: balance(invoices) for currency, invoices in by_currency.items()}

    @property
    def payment_days(self) -> int:
        latest = self.latest_terms
        return latest[1].payment_days if latest else Terms().payment_days

    # ------------------------------------------------------------- recording

    def _check(self, event_class: type, on: date) -> None:
        """Rules every event obeys: nothing before the opening, little after the end."""
        check_opened(self.handle, self.opened_on, on)
        if self.ending and not issubclass(event_class, ALLOWED_AFTER_END):
            raise Refused(
                f"the relationship with {self.handle} ended on {self.ending.on}: only payments, corrective invoices,"
                " notes and documents can still be recorded"
            )

    def _emit(self, event_class: type, on: date, actor: str, **fields) -> ev.RelationshipEvent:
        check_day(on, "the business date")
        self._check(event_class, on)
        return self._record(event_class, occurred_on=on, actor=actor, **fields)

    def _follows(self, on: date, step: tuple[str, date] | None) -> None:
        """A step is not dated before the step it follows (ADR-64). A new decision only: a stored
        event re-decided on import keeps the day it was recorded with, from before this rule."""
        if step is not None and self._expected is None:
            not_before(on, step[1], step[0])

    def apply(self, event: ev.RelationshipEvent) -> None:
        super().apply(event)
        if self.latest_on is None or event.occurred_on > self.latest_on:
            self.latest_on = event.occurred_on

    @classmethod
    def open(cls, id: UUID, handle: str, client: Party, on: date, actor: str = "") -> Relationship:
        relationship = cls(id)
        relationship.record_opening(handle, client, on, actor)
        return relationship

    def record_opening(self, handle: str, client: Party, on: date, actor: str = "") -> ev.RelationshipOpened:
        """The stream's first event, who the client is (`open`'s command; import re-decides it too)."""
        return self._emit(ev.RelationshipOpened, on, actor, handle=check_handle(handle),
                          client=check_client_tax_id(client))

    def change_client_details(self, client: Party, *, on: date, actor: str = "") -> ev.ClientDetailsChanged:
        """New details of the client (an address, a tax id, a country) for the invoices from now on;
        issued invoices keep the details they were issued with."""
        client = check_client_tax_id(client)
        if client == self.client:
            raise Refused(f"the details of {self.handle} are already these: nothing to change")
        return self._emit(ev.ClientDetailsChanged, on, actor, client=client)

    def publish_terms(self, terms: Terms, on: date, actor: str = "") -> ev.TermsPublished:
        for price, what in ((terms.rate, "the rate"), (terms.out_of_scope_rate, "the out-of-scope rate")):
            if price is not None:
                check_fee_currency(terms.late_fee, price.currency, what)
        version = max(self.terms, default=0) + 1
        if version > 1 and version - 1 in self.terms_published:  # not before the version it follows (ADR-67)
            self._follows(on, (f"terms v{version - 1} were published", self.terms_published[version - 1]))
        return self._emit(ev.TermsPublished, on, actor, terms_version=version, terms=terms)

    def draft_contract(self, *, title: str, scope: Scope, price: Money, start: date, end: date,
                       installments: list[Installment], hours_budget: Decimal | None = None,
                       our_duties: list[str] = (), client_duties: list[str] = (),
                       payment_method: str = ev.DEFAULT_PAYMENT_METHOD,
                       on: date, actor: str = "") -> ev.ContractDrafted:
        title = check_text(title, "contract title", limit=200)
        payment_method = check_text(payment_method, "payment method", limit=200)
        if not price.is_positive:
            raise BadInput(f"the price must be positive, not {price}")
        check_day(start, "the start"), check_day(end, "the end")
        for installment in installments:
            check_day(installment.due, f"the due date of installment {installment.n},")
        if end < start:
            raise BadInput(f"the contract ends ({end}) before it starts ({start})")
        if hours_budget is not None:
            _check_hours(hours_budget, "the hours budget", positive=True)
        check_schedule(price, installments)
        latest = self.latest_terms
        if latest:
            check_fee_currency(latest[1].late_fee, price.currency, "the contract's price")
        if self._expected is None:  # new decisions only: import re-decides what was accepted before
            if self.opened_on and start < self.opened_on:  # nothing of it before the relationship (ADR-67)
                raise Refused(f"the contract starts on {start}, before the relationship with {self.handle}"
                              f" was opened ({self.opened_on})")
            for installment in installments:  # none falls due before the relationship existed (ADR-64)
                if self.opened_on and installment.due < self.opened_on:
                    raise Refused(f"installment {installment.n} is due on {installment.due}, before the"
                                  f" relationship with {self.handle} was opened ({self.opened_on})")
            check_due_order(installments)
        current = self.current_contract
        supersedes = current.id if current and current.state not in ("in_force", "completed") else None
        if current is not None:  # after the latest step of the contract it follows (ADR-64, ADR-67)
            self._follows(on, current.last_step)
        return self._emit(
            ev.ContractDrafted, on, actor,
            contract_id=f"K{len(self.contracts) + 1}", title=title, scope=scope, price=price,
            hours_budget=hours_budget, start=start, end=end, installments=installments,
            our_duties=[check_text(d, "duty", limit=500) for d in our_duties],
            client_duties=[check_text(d, "duty", limit=500) for d in client_duties],
            terms_version=latest[0] if latest else None, supersedes=supersedes,
            payment_method=payment_method,
        )

    def sign_contract(self, *, party: str, signer: str, method: str, on: date,
                      contract_id: str | None = None, evidence: list[Evidence] = (),
                      certificate_subject: str = "", certificate_fingerprint: str = "",
                      document_sha256: str = "", actor: str = "") -> ev.ContractSigned:
        _check_choice(party, SIDES, "party")
        _check_choice(method, ev.SIGN_METHODS, "signing method")
        contract = self.contract(contract_id, to_sign=True)
        contract.check_signable(party)
        not_before(on, contract.drafted_on, f"contract {contract.id} was drafted")
        if method in ("email", "ink") and not evidence:
            raise BadInput(f"a signature by {method} needs the evidence file (--file)")
        _check_certificate(method, certificate_subject, certificate_fingerprint, document_sha256)
        return self._emit(
            ev.ContractSigned, on, actor, contract_id=contract.id, party=party,
            signer=check_text(signer, "signer", limit=200), method=method, evidence=list(evidence),
            certificate_subject=certificate_subject, certificate_fingerprint=certificate_fingerprint,
            document_sha256=document_sha256,
        )

    def complete_contract(self, on: date, contract_id: str | None = None, actor: str = "") -> ev.ContractCompleted:
        contract = self.contract(contract_id)
        contract.check_in_force("complete it")
        not_before(on, contract.in_force_on, f"contract {contract.id} came into force")
        return self._emit(ev.ContractCompleted, on, actor, contract_id=contract.id)

    def request_change(self, description: str, *, requested_by: str, on: date,
                       contract_id: str | None = None, evidence: list[Evidence] = (),
                       actor: str = "") -> ev.ChangeRequested:
        _check_choice(requested_by, SIDES, "requested by")
        contract = self.contract(contract_id)
        contract.check_in_force("request a change")
        return self._emit(
            ev.ChangeRequested, on, actor, change_id=f"C{len(self.changes) + 1}",
            contract_id=contract.id, description=check_text(description, "change description", multiline=True),
            requested_by=requested_by, evidence=list(evidence),
        )

    def quote_change(self, change_id: str, *, price: Money, on: date, hours: Decimal | None = None,
                     days: int | None = None, actor: str = "") -> ev.ChangeQuoted:
        change = self.change(change_id)
        change.check_quotable()
        not_before(on, change.requested_on, f"change {change.id} was requested")
        contract = self.contracts[change.contract_id]
        if price.amount < 0:
            raise BadInput(f"a change price cannot be negative: {price}")
        if price.currency != contract.price.currency:
            raise Refused(f"contract {contract.id} is in {contract.price.currency}, the quote in {price.currency}")
        if hours is not None:
            _check_hours(hours, "the hours of a change")
        if days is not None and not (type(days) is int and 0 <= days <= MAX_CHANGE_DAYS):
            raise BadInput(f"the days a change adds are 0 to {MAX_CHANGE_DAYS}, not {days}")
        return self._emit(ev.ChangeQuoted, on, actor, change_id=change.id, price=price, hours=hours, days=days)

    def approve_change(self, change_id: str, *, on: date, evidence: list[Evidence] = (),
                       actor: str = "") -> ev.ChangeApproved:
        change = self.change(change_id)
        change.check_decidable("approve")
        not_before(on, change.requested_on, f"change {change.id} was requested")
        self._follows(on, change.last_step)
        self.contracts[change.contract_id].check_in_force("approve a change to it")
        self.contracts[change.contract_id].check_extension(change.id, change.days)
        return self._emit(ev.ChangeApproved, on, actor, change_id=change.id, evidence=list(evidence))

    def reject_change(self, change_id: str, *, on: date, evidence: list[Evidence] = (),
                      actor: str = "") -> ev.ChangeRejected:
        change = self.change(change_id)
        change.check_decidable("reject")
        not_before(on, change.requested_on, f"change {change.id} was requested")
        self._follows(on, change.last_step)
        return self._emit(ev.ChangeRejected, on, actor, change_id=change.id, evidence=list(evidence))

    def withdraw_change(self, change_id: str, *, on: date, evidence: list[Evidence] = (),
                        actor: str = "") -> ev.ChangeWithdrawn:
        change = self.change(change_id)
        change.check_withdrawable()
        not_before(on, change.requested_on, f"change {change.id} was requested")
        self._follows(on, change.last_step)
        return self._emit(ev.ChangeWithdrawn, on, actor, change_id=change.id, evidence=list(evidence))

    def report_mistake(self, description: str, *, reported_by: str, on: date,
                       contract_id: str | None = None, evidence: list[Evidence] = (),
                       actor: str = "") -> ev.MistakeReported:
        _check_choice(reported_by, SIDES, "reported by")
        contract = self.contract(contract_id) if contract_id or self.current_contract else None
        return self._emit(
            ev.MistakeReported, on, actor, mistake_id=f"M{len(self.mistakes) + 1}",
            contract_id=contract.id if contract else None,
            description=check_text(description, "mistake description", multiline=True),
            reported_by=reported_by, evidence=list(evidence),
        )

    def acknowledge_mistake(self, mistake_id: str, *, on: date, apology: str = "",
                            actor: str = "") -> ev.MistakeAcknowledged:
        mistake = self.mistake(mistake_id)
        mistake.check_acknowledgeable()
        if on < mistake.reported_on:
            raise Refused(f"cannot acknowledge {mistake.id} before it was reported ({mistake.reported_on})")
        event = self._emit(ev.MistakeAcknowledged, on, actor, mistake_id=mistake.id,
                           apology=check_text(apology, "apology", required=False, multiline=True))
        latest = self.latest_terms
        took = (on - mistake.reported_on).days
        if latest and took > latest[1].response_days:
            self.warnings.append(
                f"{mistake.id} was acknowledged after {counted(took, 'day')}; the terms promise"
                f" {latest[1].response_days}"
            )
        return event

    def diagnose_mistake(self, mistake_id: str, *, fault: str, cause: str, on: date,
                         category: str = "", actor: str = "") -> ev.MistakeDiagnosed:
        mistake = self.mistake(mistake_id)
        _check_choice(fault, ev.FAULTS, "fault")
        mistake.check_diagnosable()
        not_before(on, mistake.reported_on, f"mistake {mistake.id} was reported")
        self._follows(on, mistake.last_step)
        category = check_text(category, "category", required=False, limit=80).lower()
        event = self._emit(ev.MistakeDiagnosed, on, actor, mistake_id=mistake.id, fault=fault,
                           cause=check_text(cause, "cause", multiline=True), category=category)
        earlier = [m.id for m in self.mistakes.values() if m.category == category and m.id != mistake.id]
        if category and earlier:
            self.warnings.append(
                f"category {category!r} recurs with {self.handle}: also {', '.join(earlier)}"
            )
        return event

    def propose_remedy(self, mistake_id: str, description: str, *, on: date, cost: Money | None = None,
                       hours: Decimal | None = None, actor: str = "") -> ev.RemedyProposed:
        mistake = self.mistake(mistake_id)
        mistake.check_proposable()
        not_before(on, mistake.reported_on, f"mistake {mistake.id} was reported")
        self._follows(on, mistake.last_step)
        if cost is not None and cost.amount < 0:
            raise BadInput("a remedy's cost cannot be negative")
        if hours is not None:
            _check_hours(hours, "the hours of a remedy")
        return self._emit(
            ev.RemedyProposed, on, actor, mistake_id=mistake.id, option_id=f"O{len(mistake.options) + 1}",
            description=check_text(description, "remedy", multiline=True), cost=cost, hours=hours,
        )

    def choose_remedy(self, mistake_id: str, option_id: str, *, agreed: bool, on: date,
                      actor: str = "") -> ev.RemedyChosen:
        mistake = self.mistake(mistake_id)
        mistake.check_choosable(option_id)
        not_before(on, mistake.reported_on, f"mistake {mistake.id} was reported")
        self._follows(on, mistake.last_step)
        return self._emit(ev.RemedyChosen, on, actor, mistake_id=mistake.id, option_id=option_id, agreed=agreed)

    def resolve_mistake(self, mistake_id: str, *, on: date, actor: str = "") -> ev.MistakeResolved:
        mistake = self.mistake(mistake_id)
        mistake.check_resolvable()
        not_before(on, mistake.reported_on, f"mistake {mistake.id} was reported")
        self._follows(on, mistake.last_step)
        return self._emit(ev.MistakeResolved, on, actor, mistake_id=mistake.id)

    def record_lesson(self, mistake_id: str, lesson: str, *, on: date, actor: str = "") -> ev.LessonRecorded:
        mistake = self.mistake(mistake_id)
        mistake.check_lesson()
        not_before(on, mistake.reported_on, f"mistake {mistake.id} was reported")
        self._follows(on, mistake.last_step)
        return self._emit(ev.LessonRecorded, on, actor, mistake_id=mistake.id, lesson=check_text(lesson, "lesson", multiline=True))

    def log_hours(self, hours: Decimal, *, on: date, note: str = "", contract_id: str | None = None,
                  change_id: str | None = None, actor: str = "") -> ev.HoursLogged:
        contract = self.contract(contract_id)
        if contract.state in ("superseded", "completed"):
            raise Refused(f"contract {contract.id} is {contract.state}: log hours on the current one")
        if not hours.is_finite() or hours <= 0 or hours > 24:
            raise BadInput(f"hours must be more than 0 and at most 24 a day, not {hours}")
        not_before(on, contract.drafted_on, f"contract {contract.id} was drafted")
        if not as_recorded():  # logged before hours had a precision: re-decided as they were (import)
            check_hours(hours)
        change = self.change(change_id) if change_id is not None else None
        if change is not None:
            not_before(on, change.requested_on, f"change {change.id} was requested")
        event = self._emit(ev.HoursLogged, on, actor, contract_id=contract.id, hours=hours,
                           note=check_text(note, "note", required=False, multiline=True), change_id=change_id)
        if change is not None and change.state != "approved":
            self.warnings.append(
                f"change {change.id} is {change.state}, not approved: work on it may not be paid"
            )
        that_day = sum((entry.hours for entry in self.hours if entry.on == on), Decimal(0))
        if that_day > 24:  # a typo (24 for 2.4) or a day logged twice; not refused: a replay must still load
            self.warnings.append(
                f"{that_day} h are now logged for {self.handle} on {on}, more than a day has: check for an"
                " entry logged twice or a mistyped one (`tratos timeline` lists them)"
            )
        if contract.is_over_budget:
            self.warnings.append(
                f"{contract.hours_logged} h logged on {contract.id}, beyond its budget of"
                f" {contract.hours_available} h: suggest a change request"
            )
        return event

    def record_note(self, text: str, *, on: date, evidence: list[Evidence] = (), actor: str = "") -> ev.NoteRecorded:
        return self._emit(ev.NoteRecorded, on, actor, text=check_text(text, "note", multiline=True), evidence=list(evidence))

    def issue_document(self, kind: str, *, sha256: str, chain_version: int, chain_digest: str, on: date,
                       document_id: str = "", lang: str = "", actor: str = "") -> ev.DocumentIssued:
        if kind not in DOCUMENT_KINDS:
            raise BadInput(f"unknown document kind {kind!r}: one of {', '.join(DOCUMENT_KINDS)}")
        if lang not in (*DOCUMENT_LANGUAGES, ""):  # "": recorded before documents had a language
            raise BadInput(f"documents are written in {' or '.join(DOCUMENT_LANGUAGES)}, not {lang!r}")
        for name, digest in (("document SHA-256", sha256), ("chain digest", chain_digest)):
            if not _SHA256.fullmatch(digest):
                raise BadInput(f"the {name} is not a SHA-256 digest: {digest!r}")
        if type(chain_version) is not int or chain_version < 1:
            raise BadInput(f"a document anchors a version of the stream (1 or more), not {chain_version!r}")
        if chain_version > self.version:
            raise Refused(f"chain head version {chain_version} is beyond the end of the stream ({self.version})")
        document_id = check_text(document_id, "document id", required=False, limit=80)
        since = self._existed_since(kind, document_id)
        if since is not None:
            not_before(on, since[1], since[0])
        if kind in ("invoice", "reminder") and document_id in self.invoices:
            self.invoices[document_id].check_live()  # a void invoice is not printed for the client
        return self._emit(ev.DocumentIssued, on, actor, kind=kind, document_id=document_id, sha256=sha256,
                          chain_version=chain_version, chain_digest=chain_digest, lang=lang)

    def timestamp_anchor(self, *, chain_version: int, chain_digest: str, note_sha256: str, token_sha256: str,
                         timestamped_at: datetime, authority: str, tsa_url: str, on: date,
                         evidence: list[Evidence] = (), actor: str = "") -> ev.AnchorTimestamped:
        fields = anchor_timestamp(self.version, chain_version=chain_version, chain_digest=chain_digest,
                                  note_sha256=note_sha256, token_sha256=token_sha256,
                                  timestamped_at=timestamped_at, authority=authority, tsa_url=tsa_url)
        return self._emit(ev.AnchorTimestamped, on, actor, **fields, evidence=list(evidence))

    def _existed_since(self, kind: str, document_id: str) -> tuple[str, date] | None:
        """What a document is about and since when it exists, when its id names a contract, change,
        mistake or invoice of this relationship (a document cannot be dated before its subject)."""
        if kind == "contract" and document_id in self.contracts:
            return f"contract {document_id} was drafted", self.contracts[document_id].drafted_on
        if kind == "change" and document_id in self.changes:
            return f"change {document_id} was requested", self.changes[document_id].requested_on
        if kind == "incident" and document_id in self.mistakes:
            return f"mistake {document_id} was reported", self.mistakes[document_id].reported_on
        if kind in ("invoice", "reminder") and document_id in self.invoices:
            return f"invoice {document_id} was issued", self.invoices[document_id].issued_on
        return None

    def end(self, *, reason: str, ended_by: str, on: date, confidentiality: str = "",
            actor: str = "") -> ev.RelationshipEnded:
        if self.ending:
            raise Refused(f"the relationship with {self.handle} already ended on {self.ending.on}")
        _check_choice(ended_by, SIDES, "ended by")
        self._follows(on, (f"the latest event recorded with {self.handle}", self.latest_on) if self.latest_on else None)
        if not confidentiality:
            latest = self.latest_terms
            confidentiality = latest[1].confidentiality if latest else ""
        return self._emit(ev.RelationshipEnded, on, actor, reason=check_text(reason, "reason", multiline=True),
                          ended_by=ended_by, outstanding=self.outstanding(),
                          confidentiality=check_text(confidentiality, "confidentiality", required=False, multiline=True))

    def outstanding(self) -> list[Money]:
        """Unpaid invoiced amounts, one per currency, in the order of their first unpaid invoice."""
        owing = dict.fromkeys(i.amount.currency for i in self.invoices.values() if i.outstanding.is_positive)
        balances = self.balances(on=date.min)  # only the amounts count here, not what is overdue
        return [Money(amount=balances[currency].outstanding, currency=currency) for currency in owing]

    # ---------------------------------------------------------------- folding

    @singledispatchmethod
    def when(self, event: object) -> None:
        raise TypeError(f"unexpected event {type(event).__name__}")

    @when.register
    def _(self, e: ev.RelationshipOpened) -> None:
        self.handle, self.client, self.opened_on = e.handle, e.client, e.occurred_on

    @when.register
    def _(self, e: ev.TermsPublished) -> None:
        self.terms[e.terms_version] = e.terms
        self.terms_published[e.terms_version] = e.occurred_on

    @when.register
    def _(self, e: ev.ContractDrafted) -> None:
        if e.supersedes:
            self.contracts[e.supersedes].state = "superseded"
        self.contracts[e.contract_id] = Contract(
            id=e.contract_id, title=e.title, scope=e.scope, price=e.price, hours_budget=e.hours_budget,
            start=e.start, end=e.end, installments=list(e.installments), our_duties=list(e.our_duties),
            client_duties=list(e.client_duties), terms_version=e.terms_version, drafted_on=e.occurred_on,
            payment_method=e.payment_method,
        )

    @when.register
    def _(self, e: ev.ContractSigned) -> None:
        self.contracts[e.contract_id].sign(Signature(
            party=e.party, signer=e.signer, method=e.method, on=e.occurred_on,
            certificate_subject=e.certificate_subject, certificate_fingerprint=e.certificate_fingerprint,
            document_sha256=e.document_sha256, evidence=list(e.evidence),
        ))

    @when.register
    def _(self, e: ev.ContractCompleted) -> None:
        contract = self.contracts[e.contract_id]
        contract.state, contract.completed_on = "completed", e.occurred_on

    @when.register
    def _(self, e: ev.ChangeRequested) -> None:
        self.changes[e.change_id] = Change(
            id=e.change_id, contract_id=e.contract_id, description=e.description,
            requested_by=e.requested_by, requested_on=e.occurred_on, evidence=list(e.evidence),
        )

    @when.register
    def _(self, e: ev.ChangeQuoted) -> None:
        change = self.changes[e.change_id]
        change.state, change.price, change.hours, change.days = "quoted", e.price, e.hours, e.days
        change.quoted_on = e.occurred_on

    @when.register
    def _(self, e: ev.ChangeApproved) -> None:
        change = self.changes[e.change_id]
        change.state, change.decided_on = "approved", e.occurred_on
        change.evidence += e.evidence
        self.contracts[change.contract_id].add_change(change.id, change.price, change.hours, change.days)

    @when.register
    def _(self, e: ev.ChangeRejected) -> None:
        change = self.changes[e.change_id]
        change.state, change.decided_on = "rejected", e.occurred_on
        change.evidence += e.evidence

    @when.register
    def _(self, e: ev.ChangeWithdrawn) -> None:
        change = self.changes[e.change_id]
        change.state, change.decided_on = "withdrawn", e.occurred_on
        change.evidence += e.evidence

    @when.register
    def _(self, e: ev.MistakeReported) -> None:
        self.mistakes[e.mistake_id] = Mistake(
            id=e.mistake_id, contract_id=e.contract_id, description=e.description,
            reported_by=e.reported_by, reported_on=e.occurred_on, evidence=list(e.evidence),
        )

    @when.register
    def _(self, e: ev.MistakeAcknowledged) -> None:
        mistake = self.mistakes[e.mistake_id]
        mistake.state, mistake.acknowledged_on, mistake.apology = "acknowledged", e.occurred_on, e.apology
        mistake.step(f"mistake {mistake.id} was acknowledged", e.occurred_on)

    @when.register
    def _(self, e: ev.MistakeDiagnosed) -> None:
        mistake = self.mistakes[e.mistake_id]
        mistake.state, mistake.fault, mistake.cause, mistake.category = "diagnosed", e.fault, e.cause, e.category
        mistake.step(f"mistake {mistake.id} was diagnosed", e.occurred_on)

    @when.register
    def _(self, e: ev.RemedyProposed) -> None:
        mistake = self.mistakes[e.mistake_id]
        mistake.state = "remedy_proposed"
        mistake.options[e.option_id] = RemedyOption(e.option_id, e.description, e.cost, e.hours, e.occurred_on)
        mistake.step(f"remedy {e.option_id} of mistake {mistake.id} was proposed", e.occurred_on)

    @when.register
    def _(self, e: ev.RemedyChosen) -> None:
        mistake = self.mistakes[e.mistake_id]
        mistake.state, mistake.chosen, mistake.agreed = "remedy_chosen", e.option_id, e.agreed
        mistake.step(f"remedy {e.option_id} of mistake {mistake.id} was chosen", e.occurred_on)

    @when.register
    def _(self, e: ev.MistakeResolved) -> None:
        mistake = self.mistakes[e.mistake_id]
        mistake.state, mistake.resolved_on = "resolved", e.occurred_on
        mistake.step(f"mistake {mistake.id} was resolved", e.occurred_on)

    @when.register
    def _(self, e: ev.LessonRecorded) -> None:
        mistake = self.mistakes[e.mistake_id]
        mistake.lesson = e.lesson
        mistake.step(f"the lesson of mistake {mistake.id} was recorded", e.occurred_on)

    @when.register
    def _(self, e: ev.InvoiceIssued) -> None:
        self.invoices[e.invoice_number] = Invoice(
            number=e.invoice_number, contract_id=e.contract_id, amount=e.amount, issued_on=e.occurred_on,
            due=e.due, installment=e.installment, change_id=e.change_id, concept=e.concept,
            terms_version=governing_terms(self.contracts[e.contract_id].terms_version, max(self.terms, default=None)),
            base=Money(amount=sum((t.base.amount for t in e.taxes), Decimal(0)), currency=e.amount.currency),
            issued=e,
        )

    @when.register
    def _(self, e: ev.InvoiceCorrected) -> None:
        self.invoices[e.corrects].corrections.append(e)
        self.corrections[e.invoice_number] = e

    @when.register
    def _(self, e: ev.InvoiceCancelled) -> None:
        self.invoices[e.invoice_number].cancelled_on = e.occurred_on

    @when.register
    def _(self, e: ev.ClientDetailsChanged) -> None:
        self.client = e.client

    @when.register
    def _(self, e: ev.PaymentReceived) -> None:
        self.invoices[e.invoice_number].payments.append((e.occurred_on, e.amount))

    @when.register
    def _(self, e: ev.PaymentLate) -> None:
        self.invoices[e.invoice_number].late_since = e.occurred_on

    @when.register
    def _(self, e: ev.ReminderSent) -> None:
        self.invoices[e.invoice_number].reminders.append(e.occurred_on)

    @when.register
    def _(self, e: ev.HoursLogged) -> None:
        self.contracts[e.contract_id].hours_logged += e.hours
        self.hours.append(LoggedHours(e.occurred_on, e.hours, e.contract_id, e.change_id, e.note))

    @when.register
    def _(self, e: ev.NoteRecorded) -> None:
        self.notes.append(Note(e.occurred_on, e.text, list(e.evidence)))

    @when.register
    def _(self, e: ev.DocumentIssued) -> None:
        self.documents.append(IssuedDocument(e.occurred_on, e.kind, e.document_id, e.sha256,
                                             e.chain_version, e.chain_digest, e.lang))

    @when.register
    def _(self, e: ev.DocumentSent) -> None:
        self.sent.append(SentDocument(e.occurred_on, e.kind, e.document_id, list(e.to), e.message_id,
                                      e.server_reply))
        self.filed.add(filed_key(e.message_id, e.evidence[0].sha256))

    @when.register
    def _(self, e: ev.FollowUpScheduled) -> None:
        self.schedules[e.terms_version] = Schedule(tuple(e.remind_before), tuple(e.remind_after), e.chase_after,
                                                   e.occurred_on)

    @when.register
    def _(self, e: ev.FollowUpClaimed) -> None:
        self.follow_ups[f"{e.about}/{e.step}"] = "claimed"

    @when.register
    def _(self, e: ev.FollowUpSent) -> None:
        self.follow_ups[f"{e.about}/{e.step}"] = "sent"

    @when.register
    def _(self, e: ev.FollowUpFailed) -> None:
        self.follow_ups.pop(f"{e.about}/{e.step}", None)

    @when.register
    def _(self, e: ev.MessageReceived) -> None:
        self.filed.add(filed_key(e.message_id, e.evidence[0].sha256))

    @when.register
    def _(self, e: ev.MessageSent) -> None:
        self.filed.add(filed_key(e.message_id, e.evidence[0].sha256))

    @when.register
    def _(self, e: ev.AnchorTimestamped) -> None:
        self.anchors.append(TimestampedAnchor(e.occurred_on, e.chain_version, e.chain_digest, e.timestamped_at,
                                              e.authority, e.note_sha256, e.token_sha256))

    @when.register
    def _(self, e: ev.RelationshipEnded) -> None:
        self.ending = Ending(e.occurred_on, e.reason, e.ended_by, list(e.outstanding), e.confidentiality)


_SHA256 = re.compile(r"[0-9a-f]{64}")


def _check_hours(hours: Decimal, what: str, *, positive: bool = False) -> None:
    """Hours a command records: a finite number from 0 (more than 0 if `positive`) to MAX_HOURS."""
    low_ok = hours > 0 if positive else hours >= 0
    if not (isinstance(hours, Decimal) and hours.is_finite() and low_ok and hours <= MAX_HOURS):
        lowest = "more than 0" if positive else "0 or more"
        raise BadInput(f"{what} must be {lowest} and at most {MAX_HOURS}, not {hours}")


def _check_certificate(method: str, subject: str, fingerprint: str, document_sha256: str) -> None:
    """A PAdES signature names its certificate and the PDF it signed (`countersignatures` checks them)."""
    if method == "pades":
        if not (subject and _SHA256.fullmatch(fingerprint) and _SHA256.fullmatch(document_sha256)):
            raise BadInput("a PAdES signature names its certificate (subject, SHA-256 fingerprint)"
                           " and the SHA-256 of the PDF it signed")
        check_text(subject, "certificate subject", limit=1000)


def _check_choice(value: str, choices: tuple[str, ...], what: str) -> None:
    if value not in choices:
        raise BadInput(f"{what} must be one of {', '.join(choices)}, not {value!r}")


