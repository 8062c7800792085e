"""Which stream a client or an invoice series lives in: ids derived from names, no lookup needed.

Kept free of pydantic, so commands that only read (status, timeline) find a client's
stream without building the domain's models.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from domain.model.errors import BadInput

TRATOS_NAMESPACE = uuid.UUID("5b7c3f0e-8d1a-4a57-9a53-7f1d2f7f6a01")
_HANDLE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")


def check_handle(handle: str) -> str:
    if not _HANDLE.fullmatch(handle or ""):  # fullmatch: `$` would let "acme\n" pass
        raise BadInput(
            f"invalid client handle {handle!r}: use lowercase letters, digits and dashes"
            " (like 'acme' or 'north-wind'), at most 40 characters"
        )
    return handle


def stream_id(handle: str) -> uuid.UUID:
    """The relationship's stream id: UUID5 of its handle, so commands need no lookup."""
    return uuid.uuid5(TRATOS_NAMESPACE, f"relationship:{handle}")


def series_id(series: str, year: int) -> uuid.UUID:
    """The invoice series' stream id: one stream per series and year (F-2026)."""
    return uuid.uuid5(TRATOS_NAMESPACE, f"invoice-series:{series}-{year}")


def records_id(issuer_nif: str) -> uuid.UUID:
    """The stream of an issuer's Verifactu billing records: one chain per NIF, across series and years."""
    return uuid.uuid5(TRATOS_NAMESPACE, f"billing-records:{issuer_nif}")


def submissions_id(issuer_nif: str) -> uuid.UUID:
    """The stream of what an issuer sent the tax agency of their billing records (VERI*FACTU)."""
    return uuid.uuid5(TRATOS_NAMESPACE, f"billing-submissions:{issuer_nif}")


def events_id(issuer_nif: str) -> uuid.UUID:
    """The stream of an issuer's Verifactu event log (no-VERI*FACTU): one per NIF, like the records."""
    return uuid.uuid5(TRATOS_NAMESPACE, f"verifactu-events:{issuer_nif}")


# The event that opens each kind of stream, and what that kind of stream is called in messages.
OPENINGS = {"RelationshipOpened": "relationship", "InvoiceNumberAssigned": "invoice series",
            "CorrectiveNumberAssigned": "corrective invoice series",
            "InvoiceRegistered": "chain of billing records",
            "BillingRecordsSent": "record of billing records sent",
            "SystemEventLogged": "Verifactu event log"}
# The events of an issuer's chain of billing records (Verifactu), and nothing else in that stream.
RECORDS = frozenset({"InvoiceRegistered", "InvoiceRegistrationCancelled"})
# What was sent of them, in a stream of its own: the chain holds the agency's records only.
SUBMISSIONS = frozenset({"BillingRecordsSent"})
# The entries of an issuer's Verifactu event log (no-VERI*FACTU), in a stream of their own.
EVENT_LOG = frozenset({"SystemEventLogged"})
# The events that take the next number of a series: each series and year numbers one kind only.
NUMBERINGS = frozenset({"InvoiceNumberAssigned", "CorrectiveNumberAssigned"})


def impossible_record(stream: uuid.UUID, version: int, kind: str, fields: Mapping[str, Any],
                      opened_by: str | None) -> str | None:
    """What the domain could never have recorded at this place of a stream (None if it could).

    A relationship opens once, at version 1, under the stream of the handle it names; an
    invoice series' numbers live in the stream of their series and year; billing records in
    the chain of their issuer's NIF, which a registration opens; a stream holds
    the events of one kind of stream only. `opened_by` is the kind of the stream's first
    event (None while reading version 1). The aggregates refuse such a history when they
    fold it, import refuses it, and the audit reports it if it was written into a store.
    """
    if kind == "RelationshipOpened" and version != 1:
        return "a second RelationshipOpened: a relationship opens only once, at version 1"
    if version == 1 and kind not in OPENINGS:
        return f"the stream begins with {kind}, not with RelationshipOpened"
    if opened_by is not None and (kind in NUMBERINGS) != (opened_by in NUMBERINGS):
        return f"a {kind} in the stream of a {OPENINGS.get(opened_by, opened_by)}"
    for family in (RECORDS, SUBMISSIONS, EVENT_LOG):
        if opened_by is not None and (kind in family) != (opened_by in family):
            return f"a {kind} in the stream of a {OPENINGS.get(opened_by, opened_by)}"
    if opened_by in NUMBERINGS and kind != opened_by:
        return f"a {kind} in the stream of an {OPENINGS[opened_by]}: a series numbers one kind of invoice"
    if kind == "RelationshipOpened":
        handle = fields.get("handle")
        if not isinstance(handle, str) or stream_id(handle) != stream:
            return f"the opening names the handle {handle!r}, whose stream is not this one (renamed?)"
    if kind in NUMBERINGS:
        series, year = fields.get("series"), fields.get("year")
        if not isinstance(series, str) or not isinstance(year, int) or series_id(series, year) != stream:
            return f"the number belongs to the series {series}-{year}, whose stream is not this one"
    if kind in RECORDS or kind in SUBMISSIONS or kind in EVENT_LOG:
        nif = fields.get("issuer_nif")
        home = records_id if kind in RECORDS else submissions_id if kind in SUBMISSIONS else events_id
        if not isinstance(nif, str) or home(nif) != stream:
            return f"the record belongs to the issuer {nif!r}, whose stream is not this one"
    return None
