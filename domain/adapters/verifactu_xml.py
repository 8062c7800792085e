"""Billing records in the agency's XML (RegFactuSistemaFacturacion, SuministroLR.xsd), and back.

Written as text, record by record, so a year of 100,000 records never sits in memory; a document
holds at most 1,000 records (RegistroFactura maxOccurs="1000"), so a longer year is written as
several documents, FILE-001.xml, FILE-002.xml..., the chain running on from one to the next
(ADR-50). Reading a file back keeps only what the chain rests on (`fingerprints.RecordTexts`).
"""

from __future__ import annotations

import glob
import io
import itertools
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from uuid import UUID
from xml.sax.saxutils import escape

from domain.adapters.chain_walk import ChainCheck
from domain.model.billing_records import texts_of
from domain.model.errors import BadInput, Refused
from domain.model.fingerprints import RecordTexts, first_break

LR = "https://www2.agenciatributaria.gob.es/static_files/common/internet/dep/aplicaciones/es/aeat/tike/cont/ws/SuministroLR.xsd"
SF = ("https://www2.agenciatributaria.gob.es/static_files/common/internet/dep/aplicaciones/es/aeat/tike/cont/ws/"
      "SuministroInformacion.xsd")
BATCH = 1000  # RegistroFactura maxOccurs in SuministroLR.xsd
RECORD_TOPICS = ("domain.events:InvoiceRegistered", "domain.events:InvoiceRegistrationCancelled")
PAGE = 500


def chains(app: Any) -> list[UUID]:
    """Every issuer's chain of records in the store, in the order they were started."""
    found, position = [], 0
    while True:
        page = app.recorder.select_notifications(start=position, limit=PAGE, topics=RECORD_TOPICS[:1],
                                                 inclusive_of_start=False)
        found += [UUID(str(n.originator_id)) for n in page if n.originator_version == 1]
        if len(page) < PAGE:
            return found
        position = page[-1].id


def chain_records(app: Any, stream: UUID) -> Iterator[Any]:
    """One chain's records in their order, a page at a time."""
    version = 0
    while True:
        page = app.recorder.select_events(stream, gt=version, limit=PAGE)
        for stored in page:
            yield app.mapper.to_domain_event(stored)
        if len(page) < PAGE:
            return
        version = page[-1].originator_version


def records_of_year(app: Any, year: int) -> Iterator[Any]:
    """The records generated in `year` (FechaHoraHusoGenRegistro), chain after chain, and any record
    between two of them: a year's records are one run of each chain, from its first record of the year
    to its last, so they verify on their own, each chained to the one before it. A record made ahead of
    the clock (anomaly 13, ADR-69) stands in the run of the year around it, and in its own year's."""
    prefix = f"{year:04d}-"
    for stream in chains(app):
        gap: int | None = None  # the version of the first record read since the year's last one
        started = False
        for record in chain_records(app, stream):
            if not record.generated_at.startswith(prefix):
                if started and gap is None:
                    gap = record.originator_version
                continue
            if gap is not None:  # read again, not kept: the gap may be long
                for stored in app.recorder.select_events(stream, gt=gap - 1, lte=record.originator_version - 1):
                    yield app.mapper.to_domain_event(stored)
                gap = None
            started = True
            yield record


def batches(records: Iterable[Any]) -> Iterator[list[Any]]:
    """The records in documents of at most 1,000, one issuer (ObligadoEmision) per document."""
    batch: list[Any] = []
    for record in records:
        if batch and (len(batch) == BATCH or record.issuer_nif != batch[0].issuer_nif):
            yield batch
            batch = []
        batch.append(record)
    if batch:
        yield batch


def write_document(out: IO[str], records: list[Any], issuer_name: str,
                   sign: Callable[[str], str] | None = None) -> None:
    """One RegFactuSistemaFacturacion: the issuer (Cabecera) and its records (RegistroFactura), each
    with the signature it was made with (ADR-59), or else signed now by `sign` if given (it takes a
    record's XML and returns it with its ds:Signature)."""
    first = records[0]
    out.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<sfLR:RegFactuSistemaFacturacion xmlns:sfLR="{LR}"'
              f' xmlns:sf="{SF}">\n')
    out.write(f"<sfLR:Cabecera><sf:ObligadoEmision>{_el('NombreRazon', issuer_name)}{_el('NIF', first.issuer_nif)}"
              "</sf:ObligadoEmision></sfLR:Cabecera>\n")
    for record in records:
        out.write("<sfLR:RegistroFactura>")
        text = record_xml(record)
        if record.signature:
            text = with_signature(text, record.signature)
        elif sign is not None:
            text = sign(text)
        out.write(text)
        out.write("</sfLR:RegistroFactura>\n")
    out.write("</sfLR:RegFactuSistemaFacturacion>\n")


def record_xml(record: Any) -> str:
    """A stored record as the agency's XML (`<sf:RegistroAlta>…`, the `sf` prefix declared by its document)."""
    return _registration(record) if type(record).__name__ == "InvoiceRegistered" else _cancellation(record)


def with_signature(record: str, signature: str) -> str:
    """A record's XML (`<sf:RegistroAlta>…</sf:RegistroAlta>`) with its ds:Signature as its last child,
    where the schema puts it."""
    closing = record.rindex("</")
    return record[:closing] + signature + record[closing:]


def _el(name: str, text: str) -> str:
    return f"<sf:{name}>{escape(text)}</sf:{name}>"


def _group(name: str, *parts: str) -> str:
    return f"<sf:{name}>{''.join(parts)}</sf:{name}>"


def _chaining(record: Any) -> str:
    previous = record.previous
    if previous is None:
        return _group("Encadenamiento", _el("PrimerRegistro", "S"))
    return _group("Encadenamiento", _group(
        "RegistroAnterior", _el("IDEmisorFactura", previous.issuer_nif), _el("NumSerieFactura", previous.number),
        _el("FechaExpedicionFactura", previous.issued_on), _el("Huella", previous.fingerprint)))


def _system(system: Any) -> str:
    return _group("SistemaInformatico", _el("NombreRazon", system.producer_name), _el("NIF", system.producer_nif),
                  _el("NombreSistemaInformatico", system.name), _el("IdSistemaInformatico", system.id),
                  _el("Version", system.version), _el("NumeroInstalacion", system.installation),
                  _el("TipoUsoPosibleSoloVerifactu", system.verifactu_only),
                  _el("TipoUsoPosibleMultiOT", system.multiple_taxpayers),
                  _el("IndicadorMultiplesOT", system.several_taxpayers))


def _seal(record: Any) -> str:
    return (_system(record.system) + _el("FechaHoraHusoGenRegistro", record.generated_at)
            + _el("TipoHuella", record.fingerprint_type) + _el("Huella", record.fingerprint))


def _recipient(recipient: Any) -> str:
    if recipient is None or not (recipient.nif or recipient.id):
        return ""
    if recipient.nif:
        who = _el("NIF", recipient.nif)
    else:
        who = _group("IDOtro", _el("CodigoPais", recipient.country), _el("IDType", recipient.id_type),
                     _el("ID", recipient.id[:20]))
    return _group("Destinatarios", _group("IDDestinatario", _el("NombreRazon", recipient.name), who))


def _detail(detail: Any) -> str:
    parts = [_el("Impuesto", detail.tax), _el("ClaveRegimen", detail.regime)]
    parts.append(_el("OperacionExenta", detail.exemption) if detail.exemption
                 else _el("CalificacionOperacion", detail.qualification))
    if detail.rate:
        parts.append(_el("TipoImpositivo", detail.rate))
    parts.append(_el("BaseImponibleOimporteNoSujeto", detail.base))
    if detail.vat:
        parts.append(_el("CuotaRepercutida", detail.vat))
    return _group("DetalleDesglose", *parts)


def _registration(record: Any) -> str:
    parts = [_el("IDVersion", "1.0"),
             _group("IDFactura", _el("IDEmisorFactura", record.issuer_nif), _el("NumSerieFactura", record.invoice_number),
                    _el("FechaExpedicionFactura", record.issued_on)),
             _el("NombreRazonEmisor", record.issuer_name), _el("TipoFactura", record.invoice_type)]
    if record.corrected:
        parts.append(_el("TipoRectificativa", "I"))
        parts.append(_group("FacturasRectificadas", *(
            _group("IDFacturaRectificada", _el("IDEmisorFactura", c.issuer_nif), _el("NumSerieFactura", c.number),
                   _el("FechaExpedicionFactura", c.issued_on)) for c in record.corrected)))
    parts += [_el("DescripcionOperacion", record.description), _recipient(record.recipient),
              _group("Desglose", *(_detail(d) for d in record.breakdown)),
              _el("CuotaTotal", record.tax_total), _el("ImporteTotal", record.total), _chaining(record), _seal(record)]
    return _group("RegistroAlta", *parts)


def _cancellation(record: Any) -> str:
    return _group("RegistroAnulacion", _el("IDVersion", "1.0"), _group(
        "IDFactura", _el("IDEmisorFacturaAnulada", record.issuer_nif),
        _el("NumSerieFacturaAnulada", record.invoice_number), _el("FechaExpedicionFacturaAnulada", record.issued_on)),
        _chaining(record), _seal(record))


# ------------------------------------------------------------------ reading a file back


def read_records(source: IO[bytes], name: str) -> Iterator[RecordTexts]:
    """The records of an exported document, in order, as their chain states them (streamed)."""
    from xml.etree.ElementTree import ParseError, iterparse

    try:
        for _, element in iterparse(source, events=("end",)):
            if element.tag in RECORD_TAGS:
                yield texts_of_element(element)
                element.clear()
    except ParseError as error:
        raise BadInput(f"{name} is not a readable XML document ({error})") from None


RECORD_TAGS = (f"{{{SF}}}RegistroAlta", f"{{{SF}}}RegistroAnulacion")


def texts_of_element(element: Any) -> RecordTexts:
    """What a RegistroAlta or RegistroAnulacion element's chain rests on."""

    def text(path: str) -> str:
        found = element.find(path, {"sf": SF})
        return (found.text or "").strip() if found is not None else ""

    cancellation = element.tag.endswith("RegistroAnulacion")
    suffix = "Anulada" if cancellation else ""
    return RecordTexts(
        cancellation=cancellation, issuer_nif=text(f"sf:IDFactura/sf:IDEmisorFactura{suffix}"),
        number=text(f"sf:IDFactura/sf:NumSerieFactura{suffix}"),
        issued_on=text(f"sf:IDFactura/sf:FechaExpedicionFactura{suffix}"),
        invoice_type=text("sf:TipoFactura"), tax_total=text("sf:CuotaTotal"), total=text("sf:ImporteTotal"),
        previous=text("sf:Encadenamiento/sf:RegistroAnterior/sf:Huella"),
        previous_number=text("sf:Encadenamiento/sf:RegistroAnterior/sf:NumSerieFactura"),
        generated_at=text("sf:FechaHoraHusoGenRegistro"), fingerprint=text("sf:Huella"))


DS = "http://www.w3.org/2000/09/xmldsig#"


@dataclass(frozen=True)
class SentRecord:
    """A record of a file sent to the agency: what its chain rests on, and every field it states
    (`fields_of`), to be compared with the stored record it claims to be."""

    texts: RecordTexts
    fields: tuple[tuple[str, str], ...]


def read_sent(source: IO[bytes], name: str) -> list[SentRecord]:
    """The records of a submission file (at most 1,000, read whole), each with every field it states."""
    from xml.etree.ElementTree import ParseError, parse

    try:
        root = parse(source).getroot()
    except ParseError as error:
        raise BadInput(f"{name} is not a readable XML document ({error})") from None
    return [SentRecord(texts_of_element(e), fields_of(e)) for e in root.iter() if e.tag in RECORD_TAGS]


def fields_of(element: Any) -> tuple[tuple[str, str], ...]:
    """Every field a record element states, in order, as (path, text): `RegistroAlta/Desglose/
    DetalleDesglose/BaseImponibleOimporteNoSujeto`, `100.00`. Its signature is left out; an element
    of another namespace than the agency's keeps its namespace in its name, an attribute its `@`."""
    found: list[tuple[str, str]] = []

    def name(tag: str) -> str:
        return tag.removeprefix(f"{{{SF}}}")

    def walk(node: Any, path: str) -> None:
        for attribute, value in sorted(node.attrib.items()):
            found.append((f"{path}@{name(attribute)}", value))
        children = [c for c in node if isinstance(c.tag, str) and c.tag != f"{{{DS}}}Signature"]
        if not children:
            found.append((path, (node.text or "").strip()))
        for child in children:
            walk(child, f"{path}/{name(child.tag)}")

    walk(element, name(element.tag))
    return tuple(found)


def stored_fields(record: Any) -> tuple[tuple[str, str], ...]:
    """Every field of a stored record as `write_document` writes it (see `fields_of`)."""
    from xml.etree.ElementTree import fromstring

    return fields_of(fromstring(f'<w xmlns:sf="{SF}">{record_xml(record)}</w>')[0])


def first_field_difference(given: tuple[tuple[str, str], ...], kept: tuple[tuple[str, str], ...]) -> str | None:
    """Where a record read from a file first states otherwise than the stored one (None: nowhere)."""
    for (path, text), (kept_path, kept_text) in zip(given, kept, strict=False):
        if path != kept_path:
            return f"it has {path.rpartition('/')[2]} where yours has {kept_path.rpartition('/')[2]}"
        if text != kept_text:
            return f"its {path.partition('/')[2] or path} is {text!r} where yours is {kept_text!r}"
    if len(given) != len(kept):
        more, path = ("more", given[len(kept)][0]) if len(given) > len(kept) else ("less", kept[len(given)][0])
        return f"it states {more} than yours ({path.partition('/')[2] or path})"
    return None


def store_texts(app: Any, stream: UUID) -> Iterator[RecordTexts]:
    for record in chain_records(app, stream):
        yield texts_of(record)


# ------------------------------------------------------------------ export and verify


@dataclass(frozen=True)
class Exported:
    files: list[Path]
    records: int
    tallies: dict[str, Tally] = field(default_factory=dict)  # per issuer NIF: what the event log says of it


@dataclass
class Tally:
    """The records of one issuer an export wrote, as ExportacionRegFacturacionPeriodo counts them."""

    first: Any = None
    last: Any = None
    registrations: int = 0
    cancellations: int = 0
    tax_total: Decimal = Decimal(0)
    total: Decimal = Decimal(0)

    def add(self, record: Any) -> None:
        self.first = self.first or record
        self.last = record
        if type(record).__name__ == "InvoiceRegistered":
            self.registrations += 1
            self.tax_total += Decimal(record.tax_total)
            self.total += Decimal(record.total)
        else:
            self.cancellations += 1


def _tallied(records: Iterable[Any], tallies: dict[str, Tally]) -> Iterator[Any]:
    for record in records:
        tallies.setdefault(record.issuer_nif, Tally()).add(record)
        yield record


def export_year(app: Any, year: int, target: Path | None, stdout: IO[bytes] | None = None,
                sign: Callable[[str], str] | None = None, *, home: Path) -> Exported:
    """Write the records generated in `year` to `target` (or `stdout`): one document when they fit in
    one (1,000 records of one issuer), else TARGET-001.xml, TARGET-002.xml... A year without records
    writes nothing: an empty RegFactuSistemaFacturacion is not valid (RegistroFactura minOccurs 1).
    No file written is one of `home`'s own (ADR-62): the numbered ones there already are checked
    before the first is written."""
    from domain.adapters.files import not_the_homes, output_file

    tallies: dict[str, Tally] = {}
    documents = batches(_tallied(records_of_year(app, year), tallies))
    first = next(documents, None)
    if first is None:
        raise Refused(f"no billing records were generated in {year}: nothing to export")
    second = next(documents, None)
    if second is None:
        if target is None:
            _write(stdout, first, sign)
            return Exported([], len(first), tallies)
        with output_file(target, home) as out:
            _write(out, first, sign)
        return Exported([target], len(first), tallies)
    if target is None:
        raise BadInput(f"{year} has more billing records than one document holds (1,000 of one issuer):"
                       " name a file with -o, and they are written as FILE-001.xml, FILE-002.xml, ...")
    suffix = target.suffix or ".xml"
    for found in target.parent.glob(f"{glob.escape(target.stem)}-[0-9][0-9][0-9]*{glob.escape(suffix)}"):
        not_the_homes(found, home)  # a link left there into the home: refused before any is written
    files, records = [], 0
    for number, batch in enumerate(itertools.chain([first, second], documents), 1):
        path = target.with_name(f"{target.stem}-{number:03d}{suffix}")
        with output_file(path, home) as out:
            _write(out, batch, sign)
        files.append(path)
        records += len(batch)
    return Exported(files, records, tallies)


def _write(out: IO[bytes] | None, batch: list[Any], sign: Callable[[str], str] | None = None) -> None:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="\n")
    try:
        write_document(text, batch, _issuer_name(batch), sign)
        text.flush()
    finally:
        text.detach()


def _issuer_name(batch: list[Any]) -> str:
    """The issuer's name as its records state it (a cancellation names it as the software's producer)."""
    named = next((r.issuer_name for r in batch if hasattr(r, "issuer_name")), None)
    return named or batch[0].system.producer_name


def verify_store(app: Any, nifs: Iterable[str] = (), now: datetime | None = None,
                 logged_ahead: Callable[[str], Collection[tuple[str, str]]] = lambda nif: ()) -> list[ChainCheck]:
    """Every issuer's chain in the store, each fingerprint recomputed, the first starting from nothing;
    `nifs` name a chain whose first record cannot be read. A record made after `now`, or before the
    record before it unless that one is among the issuer's `logged_ahead` (logged as 13), is noted."""
    from domain.adapters.chain_walk import source_name, walk
    from domain.model.streams import records_id

    streams_of = {records_id(nif): nif for nif in nifs}
    checks = []
    for stream in chains(app):
        noted: list[Any] = []
        nif = streams_of.get(stream)
        excused = logged_ahead(nif) if nif else ()
        walked = walk(store_texts(app, stream), lambda records, noted=noted, excused=excused: first_break(
            records, chained_from="", noted=noted, now=now, logged_ahead=excused), "record")
        checks.append(ChainCheck(source_name("records", stream, walked, streams_of), walked.count,
                                 walked.last.fingerprint if walked.last else "", walked.broken, tuple(noted)))
    return checks


def verify_files(paths: list[Path], now: datetime | None = None) -> ChainCheck:
    """The chain of exported documents, read in the order given (a year written in several follows on);
    a file carries no event log, so every record made before the one before it is noted (11), and
    every one made after `now` (13)."""
    from domain.adapters.files import open_regular

    current = [""]
    seen: list[RecordTexts] = []
    noted: list[Any] = []

    def records() -> Iterator[RecordTexts]:
        for path in paths:
            current[0] = path.name
            with open_regular(path, "the Verifactu file", limit=None) as source:
                for record in read_records(source, path.name):
                    seen[:] = [record]
                    yield record

    count, broken = first_break(records(), noted=noted, now=now)
    if count == 0:
        raise BadInput(f"{', '.join(p.name for p in paths)} holds no billing record (RegistroAlta, RegistroAnulacion)")
    return ChainCheck(current[0] if broken else ", ".join(p.name for p in paths), count,
                      seen[0].fingerprint if seen else "", broken, tuple(noted))


def record_of(app: Any, issuer_nif: str, number: str, recorded_at: Any) -> Any | None:
    """The registration record of invoice `number`, or None when it has none (issued before tratos kept
    records). Read from the end of the issuer's chain back to where records were made before the
    invoice was recorded (`recorded_at`, its event's timestamp): the record was saved with it."""
    from datetime import timedelta

    from domain.model.streams import records_id

    stream, since = records_id(issuer_nif), recorded_at - timedelta(minutes=5)
    last: int | None = None  # the highest version still to read
    while True:
        page = app.recorder.select_events(stream, lte=last, desc=True, limit=PAGE)
        for stored in page:
            record = app.mapper.to_domain_event(stored)
            if type(record).__name__ == "InvoiceRegistered" and record.invoice_number == number:
                return record
            if record.timestamp < since:
                return None
        if len(page) < PAGE:
            return None
        last = page[-1].originator_version - 1


# ------------------------------------------------------------------ VERI*FACTU submissions

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


def pending(app: Any, issuer_nif: str, unstated: str) -> tuple[int, int, list[Any]]:
    """The next batch to send of the issuer's records, after the last batch the agency accepted: the
    chain's version of its first record, how many records before it were made in no-VERI*FACTU mode
    (kept here, never sent: a year kept before a year sent, ADR-78), and the records (at most 1,000,
    one document), up to the next record kept here. A record that does not say its mode (made
    before records did) is taken as made in `unstated`, the identity's."""
    from domain.model.billing_records import NO_VERIFACTU, made_in
    from domain.model.streams import records_id, submissions_id

    last = app.recorder.select_events(submissions_id(issuer_nif), desc=True, limit=1)
    sent_through = app.mapper.to_domain_event(last[0]).last if last else 0
    kept, batch, read = 0, [], sent_through
    while len(batch) < BATCH:
        page = app.recorder.select_events(records_id(issuer_nif), gt=read, limit=BATCH)
        for stored in page:
            record = app.mapper.to_domain_event(stored)
            if (made_in(record) or unstated) != NO_VERIFACTU:
                batch.append(record)
            elif batch:
                return sent_through + kept + 1, kept, batch
            else:
                kept += 1
            if len(batch) == BATCH:
                break
        if len(page) < BATCH:
            break
        read = page[-1].originator_version
    return sent_through + kept + 1, kept, batch


def write_submission(out: IO[bytes], records: list[Any]) -> None:
    """The request body of the agency's RegFactuSistemaFacturacion operation (SistemaFacturacion.wsdl,
    document/literal): a SOAP 1.1 envelope around one RegFactuSistemaFacturacion document."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="\n")
    try:
        body = io.StringIO()
        write_document(body, records, _issuer_name(records))
        document = body.getvalue().split("\n", 1)[1]  # without its XML declaration: it is inside the envelope
        text.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope xmlns:soapenv="{SOAP}">\n'
                   f"<soapenv:Header/>\n<soapenv:Body>\n{document}</soapenv:Body>\n</soapenv:Envelope>\n")
        text.flush()
    finally:
        text.detach()
