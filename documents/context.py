"""What a document says, gathered from one read of the client's stream.

Every value a document prints comes from the stream (the Relationship folded
from its events, and the events themselves for dates and the timeline), the
freelancer's identity, or the command's inputs (kind, id, language, date):
nothing is typed twice. The stream is read once, so the chain head printed in
the footer is exactly the state the values were taken from. The rules the values
follow (balance, late fee, contract total and end) are the model's, in domain/model/.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from documents.i18n import N_
from domain.adapters.evidence import EvidenceFolder
from domain.model.chain import RawRecord, verify_chain
from domain.model.contracts import contract_total, current_end
from domain.model.errors import BadInput, Refused
from domain.model.late_fees import STATUTORY_MARGIN, days_late, invoice_claim, late_fee_claim
from domain.model.money import Money, total
from domain.model.public_ids import public_id
from domain.model.relationship import Relationship
from domain.model.values import Evidence, Party, check_handle, stream_id

if TYPE_CHECKING:
    from domain.services.application import Tratos

KINDS = ("terms", "contract", "change", "incident", "reminder", "closing", "dossier", "invoice")
# kinds whose id names what they are about; the others default to the current one or need none
REQUIRED_ID = {
    "change": "a change id such as C1",
    "incident": "a mistake id such as M1",
    "reminder": "an invoice number such as F-2026-001",
    "invoice": "an invoice number such as F-2026-001 (or R-2026-001 for a corrective one)",
}
# What covers the whole relationship: an id given with it would be ignored, so it is refused.
NO_ID = {"closing": "the end of the relationship", "dossier": "the whole relationship"}
STREAM_FORMAT = "tratos-stream/1"


@dataclass(frozen=True)
class ChainHead:
    """The last event of a stream when a document was made: its version, digest and time."""

    stream: str
    version: int
    digest: str
    recorded_at: datetime

    @property
    def short(self) -> str:
        """The first 16 hex digits of the digest, as printed in the footer."""
        return self.digest[:16]


@dataclass(frozen=True)
class StreamSnapshot:
    """One read of a client's stream: the records as stored, their events, what they fold into."""

    handle: str
    records: list[RawRecord]
    events: list[Any]
    relationship: Relationship
    head: ChainHead


@dataclass(frozen=True)
class Signer:
    """The certificate that will sign the document, printed on the dossier's certificate page."""

    subject: str
    fingerprint: str


@dataclass(frozen=True)
class EmbeddedFile:
    """A file the PDF/A-3 carries: the dossier's event stream, an invoice's Factur-X XML.

    `relationship` is its /AFRelationship; `xmp` names a file of `rdf:Description`s added to
    the PDF's XMP metadata, for a reader that must be told what the attachment is (Factur-X).
    The media type follows the name (`.json`, `.xml`).
    """

    name: str
    content: bytes
    description: str
    relationship: str = "Data"
    xmp: Path | None = None


@dataclass(frozen=True)
class Document:
    """Everything a template needs, and what `DocumentIssued` will record about it."""

    kind: str
    document_id: str
    lang: str
    on: date
    handle: str
    head: ChainHead
    values: dict[str, Any]
    attachment: EmbeddedFile | None = None

    @property
    def filename(self) -> str:
        parts = [self.handle, self.kind] + ([self.document_id] if self.document_id != self.handle else [])
        return "-".join(parts + [self.lang]) + ".pdf"


@dataclass(frozen=True)
class Balance:
    currency: str
    invoiced: Money
    paid: Money
    outstanding: Money
    overdue: Money


@dataclass(frozen=True)
class EvidenceEntry:
    """One file in the dossier's evidence index: when, about what, and whether the kept copy matches."""

    version: int
    on: date
    about: str
    evidence: Evidence
    kept: str | None  # "ok", "missing", "altered"; None when the folder was not checked


@dataclass(frozen=True)
class TimelineEntry:
    version: int
    on: date
    recorded_at: datetime
    event: Any
    digest: str


@dataclass(frozen=True)
class ChangeImpact:
    """A change order's effect: the contract total and end date before and after it."""

    base_price: Money
    previous: Money
    total: Money
    end: date
    new_end: date
    quoted_on: date | None


# ------------------------------------------------------------------ reading


def read_stream(app: Tratos, handle: str, *, verified: bool = True) -> StreamSnapshot:
    """Read a client's stream once and fold it: records, events, aggregate and head agree.

    `verified`: a stream whose chain does not hold is refused (a document is not made from it);
    `tratos verify` and the book read it as it is and say what they find.
    """
    stream = stream_id(check_handle(handle))
    records, events = app.stream(handle, verified=verified)
    relationship = Relationship.project(None, events)
    head = ChainHead(str(stream), relationship.version, relationship.head_digest, events[-1].timestamp)
    return StreamSnapshot(handle, records, events, relationship, head)


# --------------------------------------------------------------- money rules


def balances(relationship: Relationship, on: date) -> list[Balance]:
    """The model's balance on `on` (domain/model/balance.py) in Money, one row per currency."""
    return [
        Balance(currency, *(Money(amount=amount, currency=currency) for amount in owed))
        for currency, owed in sorted(relationship.balances(on).items())
    ]


# ------------------------------------------------------------------ building


def build_document(snapshot: StreamSnapshot, kind: str, ref: str | None = None, *, lang: str,
                   on: date, identity: dict[str, Any], evidence_home: Path | None = None,
                   signer: Signer | None = None, verifactu: dict[str, Any] | None = None) -> Document:
    """The document `kind` about `ref` (contract K1, change C1, mistake M1, invoice number); an invoice
    prints `verifactu`, the QR code of its billing record (documents/verifactu_qr.py)."""
    if kind not in KINDS:
        raise BadInput(f"unknown document kind {kind!r}: use one of {', '.join(KINDS)}")
    if kind in REQUIRED_ID and not ref:
        raise BadInput(f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} document needs {REQUIRED_ID[kind]}")
    if kind in NO_ID and ref is not None:
        raise BadInput(f"a {kind} takes no id, not {ref!r}: it covers {NO_ID[kind]}; leave the id out")
    relationship = snapshot.relationship
    if kind == "invoice":  # printed from what the invoice recorded, not from today's identity
        from documents.invoice_pdf import invoice_document
        from documents.invoice_view import invoice_view

        return invoice_document(invoice_view(relationship, ref or "", lang), handle=snapshot.handle,
                                head=snapshot.head, on=on, verifactu=verifactu)
    me = Party(name=identity.get("name") or "—", email=identity.get("email", ""),
               tax_id=identity.get("tax_id", ""), address=identity.get("address", ""))
    client = relationship.client
    builder = _BUILDERS[kind]
    document_id, values = builder(snapshot, ref, on, evidence_home)
    attachment = values.pop("attachment", None)
    values |= {
        "me": me, "client": client, "relationship": relationship, "handle": snapshot.handle,
        "names": {"us": me.name, "client": client.name}, "account": identity.get("iban", ""),
        "signer": signer, "taxes": prices_taxed(identity, client),
    }
    return Document(kind, document_id, lang, on, snapshot.handle, snapshot.head, values, attachment)


def prices_taxed(identity: dict[str, Any], client: Party) -> dict[str, Any]:
    """How the prices a contract or change order states will be invoiced to this client: they are
    tax bases (SPEC §3), so the document says whether VAT is added, at what rate, and what IRPF is
    withheld, by the rule invoices follow (domain/model/taxes.py)."""
    from domain.model.tax_ids import EU_COUNTRIES, is_eu_vat_number
    from domain.model.taxes import DOMESTIC, HOME_COUNTRY, REVERSE_CHARGE, taxation

    abroad_in_eu = client.country in EU_COUNTRIES - {HOME_COUNTRY}
    how = taxation(client.country, abroad_in_eu and bool(client.tax_id) and is_eu_vat_number(client.tax_id))
    rate = Decimal(identity.get("vat_rate") or 21)
    business = bool(client.tax_id) and (client.country or HOME_COUNTRY) == HOME_COUNTRY
    withholding = Decimal(identity.get("withholding") or 0) if how == DOMESTIC and business else Decimal(0)
    key = {DOMESTIC: N_("prices.vat_added"), REVERSE_CHARGE: N_("prices.reverse_charge")}.get(
        how, N_("prices.not_subject"))
    return {"key": key, "rate": rate, "withholding": withholding}


def _terms(snapshot: StreamSnapshot, ref: str | None, on: date, _home: Path | None) -> tuple[str, dict]:
    relationship = snapshot.relationship
    if not relationship.terms:
        raise Refused(f"{relationship.handle} has no published terms:"
                      f" publish them with `tratos terms publish {relationship.handle}`")
    version = max(relationship.terms) if ref is None else _terms_version(ref, relationship)
    return f"v{version}", {
        "version": version, "terms": relationship.terms[version],
        "published_on": _terms_published_on(snapshot.events, version),
    }


def _contract(snapshot: StreamSnapshot, ref: str | None, on: date, _home: Path | None) -> tuple[str, dict]:
    relationship = snapshot.relationship
    contract = relationship.contract(ref)
    pinned = relationship.applicable_terms(contract.id) if contract.terms_version else None
    shares = [
        i.percent if i.percent is not None
        else (i.amount.amount * 100 / contract.price.amount).quantize(Decimal("0.01"))
        for i in contract.installments
    ]
    return contract.id, {
        "contract": contract, "shares": shares,
        "terms_version": pinned[0] if pinned else None, "terms": pinned[1] if pinned else None,
        "terms_published_on": _terms_published_on(snapshot.events, pinned[0]) if pinned else None,
        "payment_days": pinned[1].payment_days if pinned else relationship.payment_days,
        "approved": [relationship.changes[c] for c in contract.approved_changes],
    }


def _change(snapshot: StreamSnapshot, ref: str | None, on: date, _home: Path | None) -> tuple[str, dict]:
    relationship = snapshot.relationship
    change = relationship.change(ref or "")
    contract = relationship.contracts[change.contract_id]
    approved = contract.approved_changes
    before = approved[:approved.index(change.id)] if change.id in approved else list(approved)
    earlier = [relationship.changes[c] for c in before]
    currency = contract.price.currency
    previous = total([c.price for c in earlier if c.price], currency)
    own = change.price or Money.zero(currency)
    end = current_end(contract.end, sum(c.days or 0 for c in earlier))
    impact = ChangeImpact(
        base_price=contract.price, previous=previous,
        total=Money(amount=contract_total(contract.price.amount, previous.amount + own.amount),
                    currency=currency),
        end=end, new_end=current_end(end, change.days or 0),
        quoted_on=_first_on(snapshot.events, "ChangeQuoted", change_id=change.id),
    )
    return change.id, {"change": change, "contract": contract, "impact": impact, "earlier": earlier}


def _incident(snapshot: StreamSnapshot, ref: str | None, on: date, _home: Path | None) -> tuple[str, dict]:
    relationship = snapshot.relationship
    mistake = relationship.mistake(ref or "")
    pinned = relationship.applicable_terms(mistake.contract_id)
    chosen = mistake.options.get(mistake.chosen or "")
    return mistake.id, {
        "mistake": mistake, "options": list(mistake.options.values()), "chosen": chosen,
        "response_days": pinned[1].response_days if pinned else None,
        "ack_days": mistake.days_to_acknowledge(),
    }


def _reminder(snapshot: StreamSnapshot, ref: str | None, on: date, _home: Path | None) -> tuple[str, dict]:
    relationship = snapshot.relationship
    invoice = relationship.invoice(ref or "")
    invoice.check_remindable(on)
    pinned = relationship.invoice_terms(invoice)
    return invoice.number, {
        "invoice": invoice, "days_late": days_late(invoice.due, on),
        "claim": invoice_claim(relationship, invoice, on), "margin": STATUTORY_MARGIN,
        "terms_version": pinned[0] if pinned else None, "terms": pinned[1] if pinned else None,
        "earlier_reminders": [d for d in invoice.reminders if d < on],
        "contract": relationship.contracts.get(invoice.contract_id),
    }


def _closing(snapshot: StreamSnapshot, ref: str | None, on: date, _home: Path | None) -> tuple[str, dict]:
    relationship = snapshot.relationship
    if relationship.ending is None:
        raise Refused(f"the relationship with {relationship.handle} has not ended: record it with"
                      f" `tratos end {relationship.handle} --reason ...` first")
    contracts = [c for c in relationship.contracts.values() if c.state != "superseded"]
    return snapshot.handle, {
        "ending": relationship.ending, "contracts": contracts,
        "balances": balances(relationship, on),
    }


def _dossier(snapshot: StreamSnapshot, ref: str | None, on: date, home: Path | None) -> tuple[str, dict]:
    relationship = snapshot.relationship
    report = verify_chain(snapshot.head.stream, snapshot.records)
    contracts = list(relationship.contracts.values())
    invoices = list(relationship.invoices.values())
    attachment = stream_attachment(snapshot)
    return snapshot.handle, {
        "report": report, "contracts": contracts,
        "signed": [c for c in contracts if c.signatures],
        "changes": list(relationship.changes.values()),
        "approved_changes": [c for c in relationship.changes.values() if c.state == "approved"],
        "mistakes": list(relationship.mistakes.values()),
        "invoices": invoices,
        "late_fees": {i.number: late_fee_claim(relationship, i, on) for i in invoices},
        "payments": sorted(((d, i.number, m) for i in invoices for d, m in i.payments),
                           key=lambda p: (p[0], p[1])),
        "balances": balances(relationship, on),
        "notes": relationship.notes,
        "documents": relationship.documents,
        "timeline": [TimelineEntry(e.originator_version, e.occurred_on, e.timestamp, e, e.digest)
                     for e in snapshot.events],
        "evidence": evidence_index(snapshot, home),
        "attachment": attachment,
        "anchors": relationship.anchors,
        "stamps": signature_stamps(contracts, home),
    }


_BUILDERS = {
    "terms": _terms, "contract": _contract, "change": _change, "incident": _incident,
    "reminder": _reminder, "closing": _closing, "dossier": _dossier,
}


# ------------------------------------------------------------------ dossier parts


def evidence_index(snapshot: StreamSnapshot, home: Path | None) -> list[EvidenceEntry]:
    """Every evidence file the stream cites, in order, and whether its kept copy still matches."""
    entries = []
    for event in snapshot.events:
        for evidence in getattr(event, "evidence", None) or ():
            about = public_id(event) or ""
            entries.append(EvidenceEntry(event.originator_version, event.occurred_on, about, evidence,
                                         _kept(home, evidence.sha256)))
    return entries


def signature_stamps(contracts: list[Any], home: Path | None) -> dict[tuple[str, str], Any]:
    """The TSA's token on each PAdES signature of a signed agreement, checked against the trusted
    TSA roots, read from the signed PDF kept as evidence: {(contract, party): TokenReport or None}.
    A signature whose PDF is not kept is left out (the dossier then says nothing of its time)."""
    if home is None:
        return {}
    from documents.signing import verify_pdf
    from documents.timestamps import trusted_roots

    folder, roots, found = EvidenceFolder.of(home), None, {}
    reports: dict[str, list[Any]] = {}
    for contract in contracts:
        for party, signature in contract.signatures.items():
            sha = signature.document_sha256
            if signature.method != "pades" or not sha or folder.state(sha) != "ok":
                continue
            if sha not in reports:
                roots = trusted_roots(home) if roots is None else roots
                reports[sha] = verify_pdf(folder.path(sha).read_bytes(), (), roots)
            mine = [r for r in reports[sha] if r.signer_fingerprint == signature.certificate_fingerprint]
            found[(contract.id, party)] = mine[-1].timestamp if mine else None
    return found


def stream_attachment(snapshot: StreamSnapshot) -> EmbeddedFile:
    """The stream's records as stored, with their digests: the chain can be recomputed from it."""
    payload = {
        "format": STREAM_FORMAT,
        "handle": snapshot.handle,
        "stream": snapshot.head.stream,
        "head": {"version": snapshot.head.version, "digest": snapshot.head.digest},
        "records": [{"version": r.version, "topic": r.topic, "state": r.state} for r in snapshot.records],
    }
    content = json.dumps(payload, indent=1, sort_keys=True, ensure_ascii=False).encode() + b"\n"
    name = f"{snapshot.handle}-stream-v{snapshot.head.version}.json"
    return EmbeddedFile(name, content, f"tratos event stream of {snapshot.handle}, versions 1-"
                                       f"{snapshot.head.version}, hash-chained")


def _kept(home: Path | None, sha256: str) -> str | None:
    return EvidenceFolder.of(home).state(sha256) if home is not None else None


# ------------------------------------------------------------------ helpers


def _terms_version(ref: str, relationship: Relationship) -> int:
    text = ref.lower().removeprefix("v")
    if not (text.isascii() and text.isdigit()) or int(text) not in relationship.terms:
        known = ", ".join(f"v{v}" for v in relationship.terms)
        raise BadInput(f"{relationship.handle} has no terms {ref} (it has {known})")
    return int(text)


def _terms_published_on(events: list[Any], version: int) -> date | None:
    return _first_on(events, "TermsPublished", terms_version=version)


def _first_on(events: list[Any], kind: str, **match: Any) -> date | None:
    for event in events:
        if type(event).__name__ == kind and all(getattr(event, k) == v for k, v in match.items()):
            return event.occurred_on
    return None
