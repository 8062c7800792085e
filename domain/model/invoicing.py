"""The Relationship's invoicing commands: what an invoice bills and how it is taxed, corrective
invoices, payments, lateness and reminders (a mixin of domain/model/relationship.py, which holds
the state these commands decide on and folds the events they record)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from domain.model import events as ev
from domain.model.billing import Line, billed, check_lines, check_new_invoice
from domain.model.calendar import check_day, days_after, not_before
from domain.model.errors import BadInput, CurrencyMismatch, Refused, UnknownReference
from domain.model.late_fees import days_late, late_fee_claim, recorded_fees
from domain.model.money import Money
from domain.model.taxes import line_amount
from domain.model.values import TaxProfile, as_recorded, check_text

if TYPE_CHECKING:
    from domain.model.contracts import Contract


class Invoicing:
    """Commands of a relationship about money owed (the attributes are `Relationship`'s)."""

    invoices: dict[str, Any]
    hours: list[Any]

    def check_invoice(self, *, on: date, installment: int | None = None, amount: Money | None = None,
                      change_id: str | None = None, contract_id: str | None = None) -> tuple[Contract, Money]:
        """What an invoice would bill, refused before a number is taken from the series."""
        self._check(ev.InvoiceIssued, on)
        change = self.change(change_id) if change_id is not None else None
        if change is not None and contract_id is None:
            contract_id = change.contract_id  # a change is billed on its own contract
        contract = self.contract(contract_id)
        if contract.state not in ("in_force", "completed"):
            raise Refused(f"contract {contract.id} is {contract.state.replace('_', ' ')}: it cannot be invoiced yet")
        not_before(on, contract.in_force_on, f"contract {contract.id} came into force")
        if installment is not None:
            if amount is not None or change_id is not None:
                raise BadInput(f"invoice either an installment or {'an amount' if amount is not None else 'a change'},"
                               " not both")
            billed = contract.installment(installment)
            for invoice in self.invoices.values():
                if invoice.contract_id == contract.id and invoice.installment == installment \
                        and not invoice.voided and invoice.cancelled_on is None:  # it bills nothing: bill anew
                    raise Refused(f"installment {installment} of {contract.id} is already invoiced as {invoice.number}")
            return contract, billed.amount
        if amount is None:
            raise BadInput("say what to invoice: an installment, or an amount")
        if not amount.is_positive:
            raise BadInput(f"an invoice must be a positive amount, not {amount}")
        if amount.currency != contract.price.currency:
            raise CurrencyMismatch(
                f"contract {contract.id} is in {contract.price.currency}; an invoice in"
                f" {amount.currency} cannot bill it"
            )
        if change is not None:
            if change.contract_id != contract.id:
                raise Refused(f"change {change.id} belongs to {change.contract_id}, not {contract.id}")
            if change.state != "approved":
                raise Refused(f"change {change.id} is {change.state}, not approved: it cannot be invoiced")
            billed = sum((i.billed_base.amount for i in self.invoices.values() if i.change_id == change.id),
                         Decimal(0))
            if billed + amount.amount > change.price.amount:
                raise Refused(
                    f"change {change.id} was approved for {change.price}, {billed} {amount.currency}"
                    f" of it already invoiced: {amount} more would bill beyond it"
                )
        return contract, amount

    def issue_invoice(self, number: str, *, on: date, profile: TaxProfile | None, due: date | None = None,
                      installment: int | None = None, amount: Money | None = None,
                      change_id: str | None = None, contract_id: str | None = None, concept: str = "",
                      lines: list[Line] | None = None, vat_rate: Decimal | None = None,
                      withholding: Decimal | None = None, exemption: str = "",
                      actor: str = "") -> ev.InvoiceIssued:
        """Bill an installment, an amount, an approved change or lines, taxed as the client is."""
        self._check_unused(number)
        if lines and (installment is not None or amount is not None):
            raise BadInput("invoice either lines, an installment or an amount, not several")
        if lines:
            check_lines(lines)
        concept = check_text(concept, "concept", required=False, limit=300)
        asked_base = sum((line_amount(x.quantity, x.unit_price.amount, x.unit_price.currency) for x in lines),
                         Decimal(0)) if lines else None
        contract, base = self.check_invoice(
            on=on, installment=installment, change_id=change_id, contract_id=contract_id,
            amount=Money(amount=asked_base, currency=lines[0].unit_price.currency) if lines else amount)
        if due is None:
            due = days_after(on, self.payment_days)
            try:
                check_day(due, "the due date")
            except BadInput as error:  # worked out from the terms, not typed: say how to give one
                raise BadInput(f"{error} (it is {self.payment_days} days after the issue date): give one"
                               " with --due") from None
        check_day(due, "the due date")
        if due < on:
            raise BadInput(f"the invoice would be due ({due}) before it is issued ({on})")
        if not lines:
            lines = [Line(self._line_description(contract, installment, change_id, concept, profile), Decimal(1), base)]
        self._check_hours_unbilled(lines, contract)
        fields = billed(lines, profile=profile, client=self.client, vat_rate=vat_rate, withholding=withholding,
                        exemption=exemption)
        if self._expected is None:  # new decisions only: import re-decides what was accepted before
            check_new_invoice(fields)
        event = self._emit(ev.InvoiceIssued, on, actor, invoice_number=number, contract_id=contract.id, due=due,
                           installment=installment, change_id=change_id, concept=concept, **fields)
        self._say_if_beyond(contract)
        return event

    def _say_if_beyond(self, contract: Contract) -> None:
        """Billing a contract beyond its total is allowed (a change may be missing), but said, as hours are."""
        invoiced = sum((i.billed_base.amount for i in self.invoices.values() if i.contract_id == contract.id),
                       Decimal(0))
        if invoiced > contract.total.amount:
            self.warnings.append(
                f"invoices of {contract.id} now total {invoiced} {contract.total.currency}, beyond its total of"
                f" {contract.total} (price and approved changes): is an approved change missing?"
            )

    def _line_description(self, contract: Contract, installment: int | None, change_id: str | None,
                          concept: str, profile: TaxProfile | None) -> str:
        """An invoice billed without lines has one, named by its concept, else by what it bills."""
        if concept or profile is None:  # recorded before lines: the line is the concept (the v1 upcast)
            return concept
        if change_id is not None:
            return f"{change_id}: {self.change(change_id).description}"[:300]
        if installment is not None:
            return f"{contract.title} ({installment}/{len(contract.installments)})"[:300]
        return contract.title[:300]

    def hours_to_bill(self, start: date, end: date, *, summed: bool = False,
                      contract_id: str | None = None) -> list[Line]:
        """The hours logged from `start` to `end` (inclusive) on a contract and not billed yet, at the
        hourly rate of its terms: one line per entry, or one for all of them (`summed`)."""
        if end < start:
            raise BadInput(f"the hours to bill run from {start} to {end}: the end is before the start")
        contract = self.contract(contract_id)
        terms = self.applicable_terms(contract.id)
        rate = terms[1].rate if terms else None
        if rate is None:
            raise Refused(f"the terms of {contract.id} set no hourly rate: publish terms with --rate first")
        billed_entries = self._billed_hours()
        entries = [(n, h) for n, h in enumerate(self.hours, 1)
                   if h.contract_id == contract.id and start <= h.on <= end and n not in billed_entries]
        if not entries:
            raise Refused(f"no hours logged on {contract.id} from {start} to {end} are left to bill")
        if summed:
            total = sum((h.hours for _, h in entries), Decimal(0))
            return [Line(f"{contract.title}: {start} – {end}"[:300], total, rate, None, tuple(n for n, _ in entries))]
        return [Line(f"{h.on}: {h.note or contract.title}"[:300], h.hours, rate, None, (n,)) for n, h in entries]

    def _billed_hours(self) -> set[int]:
        return {n for i in self.invoices.values() if i.issued for line in i.issued.lines for n in line.hours}

    def _check_hours_unbilled(self, lines: list[Line], contract: Contract) -> None:
        """A line that bills logged hours bills exactly them: entries of this contract, not billed
        before (nor twice in this invoice), their hours its quantity."""
        billed_entries = self._billed_hours()
        for line in lines:
            for entry in line.hours:
                if not 1 <= entry <= len(self.hours):
                    raise UnknownReference(f"{self.handle} has no logged hours entry {entry}")
                if entry in billed_entries:
                    raise Refused(f"the hours logged on {self.hours[entry - 1].on} (entry {entry}) are already billed")
                if self.hours[entry - 1].contract_id != contract.id:
                    raise Refused(f"hours entry {entry} was logged on {self.hours[entry - 1].contract_id},"
                                  f" not on {contract.id}")
                billed_entries.add(entry)
            if line.hours and sum((self.hours[n - 1].hours for n in line.hours), Decimal(0)) != line.quantity:
                raise Refused(f"a line billing hours entries {', '.join(map(str, line.hours))} has the quantity"
                              f" {line.quantity}, not the hours they logged")

    def _check_unused(self, number: str) -> None:
        """A number is given once (ADR-84): the series gives one twice only when its events were
        removed from the store by hand, and it started again from 1."""
        if number in self.invoices or number in self.corrections:
            raise Refused(f"{self.handle} has {number} already: the invoice series gave it twice, as its events"
                          " were removed from the store; run `tratos audit verify`, nothing was recorded")

    def correct_invoice(self, corrective_number: str, invoice_number: str, *, on: date, reason: str,
                        profile: TaxProfile | None, lines: list[Line] | None = None, amount: Money | None = None,
                        void: bool = False, actor: str = "") -> ev.InvoiceCorrected:
        """A corrective invoice by differences: the only way to change or cancel an issued invoice."""
        self._check_unused(corrective_number)
        invoice = self.invoice(invoice_number)
        invoice.check_live()
        reason = check_text(reason, "reason", limit=500)
        if on < invoice.issued_on:
            raise Refused(f"a correction dated {on} would precede invoice {invoice.number} ({invoice.issued_on})")
        if sum((1 for x in (lines, amount, void) if x), 0) != 1:
            raise BadInput("correct an invoice by lines, by an amount, or void it: one of them")
        original = invoice.issued
        voided = next((c for c in invoice.corrections if c.void), None)
        if voided is not None:
            raise Refused(f"{invoice.number} was voided by {voided.invoice_number}: it can no longer be corrected")
        currency = invoice.amount.currency
        for asked in [*(lines or []), *([Line("", Decimal(1), amount)] if amount is not None else [])]:
            if asked.unit_price.currency != currency:
                raise CurrencyMismatch(f"invoice {invoice.number} is in {currency}; a correction in"
                                       f" {asked.unit_price.currency} cannot change it")
        if lines:
            check_lines(lines)
            rates = {line.vat_rate for billing in (original, *invoice.corrections) for line in billing.lines}
            other = next((x.vat_rate for x in lines if x.vat_rate is not None and x.vat_rate not in rates), None)
            if other is not None:
                raise Refused(f"{invoice.number} was taxed at {', '.join(f'{r.normalize():f}%' for r in sorted(rates))}:"
                              f" a correction of it cannot be taxed at {other.normalize():f}%")
        if void:  # every line billed so far, corrections included, with its price negated
            lines = [Line(line.description, line.quantity, Money(amount=-line.unit_price.amount,
                                                                 currency=line.unit_price.currency), line.vat_rate)
                     for billing in (original, *invoice.corrections) for line in billing.lines]
        elif amount is not None:
            rate = original.lines[0].vat_rate
            lines = [Line(f"{invoice.number}: {reason}"[:300], Decimal(1), amount, rate)]
        fields = billed(lines, profile=profile, client=original.recipient, vat_rate=original.lines[0].vat_rate,
                        withholding=original.withholding_rate, exemption=original.exemption,
                        fixed_taxation=original.taxation)
        if not fields["total"].amount and not fields["withholding"].amount:
            raise BadInput("a correction must change what the invoice bills: this one adds up to 0")
        payable = invoice.payable.amount + fields["amount"].amount
        if self._expected is None:  # the invoice as corrected, too, stays within a record's twelve digits
            billed_so_far = sum((c.total.amount for c in invoice.corrections), original.total.amount)
            check_new_invoice(fields, original, also=[payable, billed_so_far + fields["total"].amount])
        if payable < 0:
            raise Refused(f"the correction would leave {invoice.number} at {payable} {invoice.amount.currency}:"
                          " an invoice cannot become negative overall")
        event = self._emit(ev.InvoiceCorrected, on, actor, invoice_number=corrective_number,
                           corrects=invoice.number, reason=reason, void=void, **fields)
        raised = any(line.quantity * line.unit_price.amount > 0 for line in fields["lines"])
        if raised and invoice.contract_id in self.contracts:
            self._say_if_beyond(self.contracts[invoice.contract_id])
        return event

    def cancel_invoice(self, number: str, *, on: date, actor: str = "") -> ev.InvoiceCancelled:
        """An invoice issued in error is void once its billing record is cancelled, if it never reached
        the client: a PDF of it issued, it sent, a payment, a reminder, a follow-up or a correction of
        it. One that did is corrected instead (`invoice correct --void`), as the Orden has it (ADR-66)."""
        if number in self.corrections:
            corrected = self.corrections[number].corrects
            raise Refused(f"{number} is a corrective invoice of {corrected}: a corrective invoice is not cancelled;"
                          f" correct {corrected} again instead (`tratos invoice correct {self.handle} {corrected}`)")
        invoice = self.invoice(number)
        if invoice.cancelled_on is not None:
            raise Refused(f"the record of {number} is cancelled already")
        reached = invoice.reached_client() or self._delivered(number)
        if reached:
            raise Refused(f"{number} reached the client ({reached}): an invoice that reached the client is corrected,"
                          f" not cancelled (`tratos invoice correct {self.handle} {number} --void --reason …`)")
        not_before(on, invoice.issued_on, f"{number} was issued")
        return self._emit(ev.InvoiceCancelled, on, actor, invoice_number=number)

    def _delivered(self, number: str) -> str:
        """A document of the invoice that left tratos: its PDF issued, it or a reminder sent, a follow-up."""
        for document in self.documents:
            if document.kind in ("invoice", "reminder") and document.document_id == number:
                return f"a PDF of its {document.kind} was issued on {document.on}"
        for sent in self.sent:
            if sent.kind in ("invoice", "reminder") and sent.document_id == number:
                return f"its {sent.kind} was sent on {sent.on}"
        if any(key.startswith(f"{number}/") and state == "sent" for key, state in self.follow_ups.items()):
            return "a follow-up about it was sent"
        return ""

    def record_payment(self, number: str, amount: Money, *, on: date, actor: str = "") -> ev.PaymentReceived:
        invoice = self.invoice(number)
        invoice.check_live()
        invoice.check_payment(amount, on)
        return self._emit(ev.PaymentReceived, on, actor, invoice_number=number, amount=amount)

    def mark_late(self, number: str, *, on: date, actor: str = "") -> ev.PaymentLate:
        invoice = self.invoice(number)
        invoice.check_live()
        invoice.check_late(on)
        return self._emit(ev.PaymentLate, on, actor, invoice_number=number, due=invoice.due,
                          outstanding=invoice.outstanding)

    def send_reminder(self, number: str, *, on: date, late_fee: Money | None | object = ...,
                      actor: str = "") -> ev.ReminderSent:
        """The reminder claims the late fee the terms governing the invoice allow on `on`
        (`late_fees.late_fee_claim`); a `late_fee` given must be that one (a recorded reminder
        re-decided: or the one an earlier release's rate table gave, `late_fees.recorded_fees`)."""
        invoice = self.invoice(number)
        invoice.check_remindable(on)
        claimed = late_fee_claim(self, invoice, on)
        if late_fee is not ... and late_fee != claimed:
            allowed = recorded_fees(self, invoice, on) if as_recorded() else [claimed]
            if late_fee not in allowed:
                raise Refused(f"the terms of {invoice.number} claim a late fee of {claimed or 'nothing'}"
                              f" on {on}, not {late_fee}")
            claimed = late_fee
        return self._emit(ev.ReminderSent, on, actor, invoice_number=number,
                          days_late=days_late(invoice.due, on), late_fee=claimed)

