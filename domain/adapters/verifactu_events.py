"""The Verifactu event log in the agency's XML (RegistroEvento, EventosSIF.xsd), written out and checked.

The schema holds one event per document (RegistroEvento: IDVersion and one Evento), its ds:Signature
the Evento's last child; so a year of the log is written as a folder of documents, one per entry,
named by the entry's place in the log (`evento-000001.xml`): each is valid against the schema alone
and keeps its name from one export to the next (ADR-60). An entry's XML is written again from its
event whenever it is needed, as a billing record's is (`verifactu_xml.record_xml`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID
from xml.sax.saxutils import escape

from domain.adapters.chain_walk import ChainCheck, check_streams
from domain.model.errors import Refused
from domain.model.fingerprints import first_event_break

EV = ("https://www2.agenciatributaria.gob.es/static_files/common/internet/dep/aplicaciones/es/aeat/tike/cont/ws/"
      "EventosSIF.xsd")
DS = "http://www.w3.org/2000/09/xmldsig#"
PAGE = 500
PLACEHOLDER = f'<ds:Signature xmlns:ds="{DS}" Id="placeholder"></ds:Signature>'  # where signxml signs


def log_entries(app: Any, stream: UUID) -> Iterator[Any]:
    """One log's entries in their order, a page at a time."""
    version = 0
    while True:
        page = app.recorder.select_events(stream, gt=version, limit=PAGE)
        for stored in page:
            yield app.mapper.to_domain_event(stored)
        if len(page) < PAGE:
            return
        version = page[-1].originator_version


def logs(app: Any) -> list[UUID]:
    """Every issuer's event log in the store, in the order they were started."""
    found, position = [], 0
    while True:
        page = app.recorder.select_notifications(start=position, limit=PAGE, topics=("domain.events:SystemEventLogged",),
                                                 inclusive_of_start=False)
        found += [UUID(str(n.originator_id)) for n in page if n.originator_version == 1]
        if len(page) < PAGE:
            return found
        position = page[-1].id


# ------------------------------------------------------------------ writing


def event_document(event: Any, *, placeholder: bool = False) -> str:
    """An entry as the agency's RegistroEvento document (no XML declaration), with its signature if
    it has one, or the spot signxml signs at (`placeholder`)."""
    system = event.system
    parts = [_group("SistemaInformatico", _el("NombreRazon", system.producer_name), _el("NIF", system.producer_nif),
                    _el("NombreSistemaInformatico", system.name), _el("IdSistemaInformatico", system.id),
                    _el("Version", system.version), _el("NumeroInstalacion", system.installation),
                    _el("TipoUsoPosibleMultiOT", system.multiple_taxpayers),
                    _el("IndicadorMultiplesOT", system.several_taxpayers)),
             _group("ObligadoEmision", _el("NombreRazon", event.issuer_name), _el("NIF", event.issuer_nif)),
             _el("FechaHoraHusoGenEvento", event.generated_at), _el("TipoEvento", event.event_type)]
    details = _details(event)
    if details:
        parts.append(_group("DatosPropiosEvento", details))
    if event.other:
        parts.append(_el("OtrosDatosEvento", event.other))
    previous = event.previous
    parts.append(_group("Encadenamiento", _el("PrimerEvento", "S") if previous is None else _group(
        "EventoAnterior", _el("TipoEvento", previous.event_type), _el("FechaHoraHusoGenEvento", previous.generated_at),
        _el("HuellaEvento", previous.fingerprint))))
    parts += [_el("TipoHuella", event.fingerprint_type), _el("HuellaEvento", event.fingerprint)]
    parts.append(PLACEHOLDER if placeholder else event.signature)
    return (f'<sf:RegistroEvento xmlns:sf="{EV}"><sf:IDVersion>1.0</sf:IDVersion>'
            f"{_group('Evento', *parts)}</sf:RegistroEvento>")


def _details(event: Any) -> str:
    if event.scan is not None:
        of = "RegFacturacion" if event.event_type == "03" else "RegEvento"
        counted = "NumeroDeRegistrosFacturacionProcesadosSobre" if of == "RegFacturacion" else \
            "NumeroDeRegistrosEventoProcesadosSobre"
        parts = []
        for process, count in (("IntegridadHuellas", event.scan.fingerprints), ("IntegridadFirmas", event.scan.signatures),
                               ("TrazabilidadCadena", event.scan.chain), ("TrazabilidadFechas", event.scan.dates)):
            parts.append(_el(f"RealizadoProcesoSobre{process}{of}", "N" if count is None else "S"))
            if count is not None:
                parts.append(_el(f"{counted}{process}", str(count)))
        return _group(f"LanzamientoProcesoDeteccionAnomalias{of}", *parts)
    if event.anomaly is not None:
        anomaly = event.anomaly
        parts = [_el("TipoAnomalia", anomaly.anomaly_type)]
        if anomaly.detail:
            parts.append(_el("OtrosDatosAnomalia", anomaly.detail))
        if event.event_type == "04":
            if anomaly.record is not None:
                parts.append(_group("RegistroFacturacionAnomalo", _el("IDEmisorFactura", anomaly.record.issuer_nif),
                                    _el("NumSerieFactura", anomaly.record.number),
                                    _el("FechaExpedicionFactura", anomaly.record.issued_on)))
            return _group("DeteccionAnomaliasRegFacturacion", *parts)
        if anomaly.event is not None:
            parts.append(_group("RegEventoAnomalo", *_named_event(anomaly.event)))
        return _group("DeteccionAnomaliasRegEvento", *parts)
    if event.records_export is not None:
        done = event.records_export
        return _group("ExportacionRegFacturacionPeriodo",
                      _el("FechaHoraHusoInicioPeriodoExport", done.period_start),
                      _el("FechaHoraHusoFinPeriodoExport", done.period_end),
                      _group("RegistroFacturacionInicialPeriodo", *_named_record(done.first)),
                      _group("RegistroFacturacionFinalPeriodo", *_named_record(done.last)),
                      _el("NumeroDeRegistrosFacturacionAltaExportados", str(done.registrations)),
                      _el("SumaCuotaTotalAlta", done.tax_total), _el("SumaImporteTotalAlta", done.total),
                      _el("NumeroDeRegistrosFacturacionAnulacionExportados", str(done.cancellations)),
                      _el("RegistrosFacturacionExportadosDejanDeConservarse", "N"))
    if event.events_export is not None:
        done = event.events_export
        return _group("ExportacionRegEventoPeriodo",
                      _el("FechaHoraHusoInicioPeriodoExport", done.period_start),
                      _el("FechaHoraHusoFinPeriodoExport", done.period_end),
                      _group("RegistroEventoInicialPeriodo", *_named_event(done.first)),
                      _group("RegistroEventoFinalPeriodo", *_named_event(done.last)),
                      _el("NumeroDeRegEventoExportados", str(done.events)),
                      _el("RegEventoExportadosDejanDeConservarse", "N"))
    return ""


def _named_record(record: Any) -> list[str]:
    return [_el("IDEmisorFactura", record.issuer_nif), _el("NumSerieFactura", record.number),
            _el("FechaExpedicionFactura", record.issued_on), _el("Huella", record.fingerprint)]


def _named_event(event: Any) -> list[str]:
    return [_el("TipoEvento", event.event_type), _el("FechaHoraHusoEvento", event.generated_at),
            _el("HuellaEvento", event.fingerprint)]


def _el(name: str, text: str) -> str:
    return f"<sf:{name}>{escape(text)}</sf:{name}>"


def _group(name: str, *parts: str) -> str:
    return f"<sf:{name}>{''.join(parts)}</sf:{name}>"


@dataclass(frozen=True)
class EventsWritten:
    folder: Path
    files: list[Path]
    first: Any
    last: Any


def export_events(app: Any, issuer_nif: str, year: int, folder: Path, *, home: Path) -> EventsWritten:
    """Write the entries of the issuer's log generated in `year` into `folder`, one RegistroEvento
    document each (`evento-000001.xml`, the entry's place in the log), every file written atomically.
    A year without entries writes nothing, not even the folder. No file written is one of `home`'s own (ADR-62): every
    name is checked before the first file is written (a link left in the folder into the home)."""
    from domain.adapters.files import (
        PRIVATE_FOLDER,
        cannot_write,
        not_the_homes,
        output_file,
        whole_or_nothing,
    )
    from domain.model.streams import events_id

    prefix = f"{year:04d}-"
    entries = [event for event in log_entries(app, events_id(issuer_nif)) if event.generated_at.startswith(prefix)]
    if not entries:  # before the folder is made: a refused export leaves nothing behind
        raise Refused(f"the event log of {issuer_nif} has no entry generated in {year}: nothing to export")
    paths = [folder / f"evento-{event.originator_version:06d}.xml" for event in entries]
    for path in paths:
        not_the_homes(path, home)
    files: list[Path] = []
    first = last = None
    with whole_or_nothing(folder):  # a failed export leaves no folder it made, no file it added
        try:
            folder.mkdir(mode=PRIVATE_FOLDER, exist_ok=True)  # the agency's files are the freelancer's alone (ADR-80)
        except OSError as error:
            raise cannot_write(folder, error) from None
        for event, path in zip(entries, paths, strict=True):
            with output_file(path, home) as out:
                out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n' + event_document(event).encode() + b"\n")
            files.append(path)
            first, last = first or event, event
    return EventsWritten(folder, files, first, last)


# ------------------------------------------------------------------ checking


LogCheck = ChainCheck  # an issuer's event log verified (events:NIF)


def verify_logs(app: Any, nifs: Iterable[str] = ()) -> list[LogCheck]:
    """Every issuer's event log in the store, each fingerprint and link recomputed from the first entry;
    `nifs` name a log whose first entry cannot be read."""
    from domain.model.event_log import event_texts
    from domain.model.streams import events_id

    return check_streams("events", logs(app), lambda stream: log_entries(app, stream),
                         lambda events: first_event_break(map(event_texts, events)), "entry",
                         {events_id(nif): nif for nif in nifs})
