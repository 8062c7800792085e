"""Invoices issued after their issuer began keeping billing records, which no billing record registers.

Once an issuer has a billing record, tratos writes one with every invoice and corrective invoice
it issues, in the invoice's own transaction (ADR-49): an invoice of that issuer after its first
record without one is a history tratos never makes, and how a forger would hide an issued invoice
from the tax chain (the last record of a chain can go without breaking it). Invoices before the
issuer's first record are a store's from before tratos kept records (old stores, the golden
fixtures), and an invoice naming no issuer is from before taxes: neither needs one.

One pass over the log in order, a few texts per invoice kept; used by import over the file and by
the audit over the store (ADR-71). It reads the states as stored, so both can use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INVOICES = frozenset({"InvoiceIssued", "InvoiceCorrected"})


@dataclass(frozen=True)
class Unrecorded:
    """An invoice without its registration record: where it was issued, and where its issuer's records began."""

    number: str
    issuer_nif: str
    issued_at: Any  # the caller's place of the invoice (a file line, a stream version)
    began_at: Any  # the caller's place of the issuer's first record


@dataclass
class RecordKeeping:
    """Fed every event of the log in order (`note`); says at the end which invoices lack a record."""

    began: dict[str, Any] = field(default_factory=dict)  # issuer NIF -> the place of its first record
    waiting: dict[str, tuple[str, Any]] = field(default_factory=dict)  # number -> (NIF, place) needing a record
    registered: set[str] = field(default_factory=set)  # the numbers a registration record names

    def note(self, kind: str, state: dict[str, Any], place: Any) -> None:
        if kind in INVOICES:
            issuer = state.get("issuer")
            nif = issuer.get("tax_id") if isinstance(issuer, dict) else None
            if nif in self.began:
                self.waiting[str(state.get("invoice_number"))] = (nif, place)
        elif kind == "InvoiceRegistered":
            self.began.setdefault(str(state.get("issuer_nif")), place)
            self.registered.add(str(state.get("invoice_number")))

    def unrecorded(self) -> list[Unrecorded]:
        """The invoices issued after their issuer's first record that no record registers, in log order."""
        return [Unrecorded(number, nif, place, self.began[nif])
                for number, (nif, place) in self.waiting.items() if number not in self.registered]
