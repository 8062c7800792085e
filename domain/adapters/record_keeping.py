"""Invoices issued after their issuer began keeping billing records, which no billing record registers.

Once an issuer has a billing record, tratos writes one with every invoice and corrective invoice
it issues, in the invoice's own transaction (ADR-49): an invoice of that issuer after its first
record without one is a history tratos never makes, and how a forger would hide an issued invoice
from the tax chain (the last record of a chain can go without breaking it). Invoices before the
issuer's first record are a store's from before tratos kept records (old stores, the golden
fixtures), and an invoice naming no issuer is from before taxes: neither needs one.

The same pass holds each batch sent to the agency to the modes its records were made in (ADR-78):
a batch passes over records kept here (made in no-VERI*FACTU mode) only, and sends none of them.

One pass over the log in order, a few texts per invoice and a mode per record kept; used by import
over the file and by the audit over the store (ADR-71). It reads the states as stored, so both
can use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INVOICES = frozenset({"InvoiceIssued", "InvoiceCorrected"})
RECORDS = frozenset({"InvoiceRegistered", "InvoiceRegistrationCancelled"})


@dataclass(frozen=True)
class Unrecorded:
    """An invoice without its registration record: where it was issued, and where its issuer's records began."""

    number: str
    issuer_nif: str
    issued_at: Any  # the caller's place of the invoice (a file line, a stream version)
    began_at: Any  # the caller's place of the issuer's first record


@dataclass(frozen=True)
class WrongBatch:
    """A batch sent to the agency that holds a record kept here, or passes over one it should send."""

    problem: str
    sent_at: Any  # the caller's place of the BillingRecordsSent


@dataclass
class RecordKeeping:
    """Fed every event of the log in order (`note`); says at the end which invoices lack a record."""

    began: dict[str, Any] = field(default_factory=dict)  # issuer NIF -> the place of its first record
    waiting: dict[str, tuple[str, Any]] = field(default_factory=dict)  # number -> (NIF, place) needing a record
    registered: set[str] = field(default_factory=set)  # the numbers a registration record names
    modes: dict[str, list[str]] = field(default_factory=dict)  # issuer NIF -> each record's mode, in chain order
    wrong_batches: list[WrongBatch] = field(default_factory=list)

    def note(self, kind: str, state: dict[str, Any], place: Any) -> None:
        if kind in INVOICES:
            issuer = state.get("issuer")
            nif = issuer.get("tax_id") if isinstance(issuer, dict) else None
            if nif in self.began:
                self.waiting[str(state.get("invoice_number"))] = (nif, place)
        elif kind in RECORDS:
            from domain.model.billing_records import stated_mode

            nif = str(state.get("issuer_nif"))
            if kind == "InvoiceRegistered":
                self.began.setdefault(nif, place)
                self.registered.add(str(state.get("invoice_number")))
            self.modes.setdefault(nif, []).append(stated_mode(str(state.get("mode") or ""),
                                                              str(state.get("signature") or "")))
        elif kind == "BillingRecordsSent":
            problem = self._batch_problem(state)
            if problem:
                self.wrong_batches.append(WrongBatch(problem, place))

    def _batch_problem(self, state: dict[str, Any]) -> str | None:
        """What the batch's records say against it: one it passes over was made in VERI*FACTU mode, or
        one it holds in no-VERI*FACTU mode ("" says nothing either way: the identity's mode counted)."""
        from domain.model.billing_records import NO_VERIFACTU, VERIFACTU

        nif, first, last, kept = state.get("issuer_nif"), state.get("first"), state.get("last"), state.get("kept", 0)
        if not all(type(n) is int for n in (first, last, kept)):
            return None  # not a batch the store holds: its own checks say so
        modes = self.modes.get(str(nif), [])
        for version in range(max(first - kept, 1), min(last, len(modes)) + 1):
            made = modes[version - 1]
            if version < first and made == VERIFACTU:
                return (f"the batch sent of {nif} (records {first} to {last}) passes over record {version}, made"
                        " in verifactu mode, as if kept here")
            if version >= first and made == NO_VERIFACTU:
                return (f"the batch sent of {nif} (records {first} to {last}) holds record {version}, made in"
                        " no-verifactu mode, which is kept here and never sent")
        return None

    def unrecorded(self) -> list[Unrecorded]:
        """The invoices issued after their issuer's first record that no record registers, in log order."""
        return [Unrecorded(number, nif, place, self.began[nif])
                for number, (nif, place) in self.waiting.items() if number not in self.registered]
