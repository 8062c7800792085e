"""tratos verifactu: the invoices' billing records as Spain's tax agency reads them (RD 1007/2023)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.options import Count, business_date, on_option, pass_session
from cli.output import echo, gives_verdict
from cli.session import Session

if TYPE_CHECKING:
    from domain.adapters.verifactu_xml import ChainCheck


@click.group()
def verifactu() -> None:
    """Verifactu billing records: export them in the agency's XML, verify their chain, cancel one, send them."""


@verifactu.command()
@click.option("--year", type=Count(1900, 2999), required=True, help="The year the records were generated in.")
@click.option("-o", "--output", "output", metavar="FILE.xml", help="Write to FILE.xml (default: standard output).")
@click.option("--sign", is_flag=True, help="Sign each record XAdES-enveloped with your key (no-verifactu mode).")
@pass_session
def export(session: Session, year: int, output: str | None, sign: bool) -> None:
    """Write every billing record generated in a year as the agency's XML (RegFactuSistemaFacturacion).

    A document holds at most 1,000 records of one issuer (SuministroLR.xsd); a year with more is
    written as FILE-001.xml, FILE-002.xml, ..., each chained on from the one before, and needs -o.
    A year without records writes nothing and exits 1 (an empty document would not be valid).
    --sign signs each record XAdES-enveloped with your signing key, as a system that keeps its
    records must (no-verifactu mode).

    \b
    Example:
        tratos verifactu export --year 2026 -o verifactu-2026.xml --sign
    """
    from domain.adapters.files import output_path
    from domain.adapters.verifactu_xml import export_year

    target = output_path(output, home=session.home) if output is not None else None
    signer = None
    if sign:
        from cli.pdf import load_signing_identity
        from documents.record_signing import record_signer
        from domain.model.errors import BadInput

        identity = load_signing_identity(session)
        if identity is None:
            raise BadInput(f"no signing key in {session.home}: set one up with `tratos init` or"
                           " `tratos identity import` to sign the records")
        signer = record_signer(identity)
    done = export_year(session.app, year, target, click.get_binary_stream("stdout"), sign=signer, home=session.home)
    if session.as_json:
        from cli.output import print_json

        print_json({"year": year, "records": done.records, "files": [str(f) for f in done.files]})
    elif done.files:
        echo(f"Exported {done.records} billing records of {year} to {', '.join(map(str, done.files))}")
    from cli.verifactu_log import log, logging_issuer, records_exported

    issuer = logging_issuer(session)
    if issuer is not None and issuer[0] in done.tallies:
        log(session, [records_exported(year, done.tallies[issuer[0]])], "this export")


@verifactu.command()
@click.argument("files", nargs=-1, metavar="[FILE.xml]...", type=click.Path(dir_okay=False))
@pass_session
@gives_verdict
def verify(session: Session, files: tuple[str, ...]) -> None:
    """Recompute every fingerprint of the billing records and their chain, in the store or in FILEs.

    Without FILE, every issuer's chain in the store, from its first record, each record's
    signature (no-verifactu mode), and the event log, its fingerprints and signatures; the
    checks and what they found are logged in that log. With FILEs (an export, its parts in
    order), the chain they hold and the signatures it carries. Names the first record that does
    not hold and exits 1; exit 0 when all hold (a record without a signature is counted as
    unsigned, not as broken). A record made after this machine's clock now (anomaly 13) or
    before the record before it (11) is a warning, logged once, not a break.

    \b
    Example:
        tratos verifactu verify
        tratos verifactu verify verifactu-2026.xml
    """
    from domain.adapters.verifactu_xml import verify_files
    from domain.model.errors import Refused

    if files:
        from domain.adapters.clock import latest_now

        checks = [verify_files([Path(f) for f in files], now=latest_now())]
        signatures, signed = _signatures([Path(f) for f in files])
        report(session, checks, signatures, file_signed=signed)
        broken = next((c for c in checks if not c.ok), None)
        if broken is not None:
            raise Refused(f"the billing records do not verify: {broken.source} {broken.broken}")
        refuse_forged_signatures(signed)
        return
    store = check_store(session)
    report(session, store.records, (), store.signed, store.logs, store.log_signed)
    store.log_and_refuse(session)


def _behind(app: Any, now: Any) -> bool:
    """Whether the record clock now is before the business date of a chain's last record: a day that
    had come when that record was made (no command records after today), so it is this clock that is
    wrong, and every record would read as made after now (anomaly 13), falsely, in the log the agency
    reads (ADR-69, after the twelfth run). Said in one warning; the records are not accused."""
    from cli.output import warn
    from domain.adapters.verifactu_xml import chains
    from domain.model.errors import TratosError

    latest = None
    for stream in chains(app):
        try:
            last = app.recorder.select_events(stream, desc=True, limit=1)
            day = app.mapper.to_domain_event(last[0]).occurred_on if last else None
        except TratosError:
            continue  # an unreadable record: the chain's own check names it
        latest = day if latest is None or (day is not None and day > latest) else latest
    if latest is None or now.date() >= latest:
        return False
    warn(f"this machine's clock ({now.isoformat(timespec='seconds')}) is before {latest}, the date of your last"
         " billing record: records made after it were not taken as made ahead of the clock (anomaly 13),"
         " and this check is not logged; correct the clock")
    return True


class StoreCheck:
    """Every Verifactu check of the store: the chains of records and their signatures, the event logs
    and theirs. Run by `verifactu verify` and `audit verify`, which log it (`log_and_refuse`)."""

    def __init__(self, session: Session) -> None:
        from documents.record_signing import check_chains, check_logs
        from domain.adapters.clock import latest_now
        from domain.adapters.verifactu_events import verify_logs
        from domain.adapters.verifactu_xml import verify_store

        app = session.app
        nifs = _own_nif(session)
        now = latest_now()
        self.clock_behind = _behind(app, now)  # the clock that is wrong is this one: no record is "made
        self.records = verify_store(app, nifs, now=None if self.clock_behind else now,  # after now" (13)
                                    logged_ahead=app.logged_ahead)
        self.signed = check_chains(app, nifs)
        self.logs = verify_logs(app, nifs)
        self.log_signed = check_logs(app, nifs)

    def log_and_refuse(self, session: Session) -> None:
        self.log(session)
        self.refuse()

    def log(self, session: Session) -> None:
        """Log the checks run and what they found in the issuer's event log (no-verifactu mode)."""
        from cli.verifactu_log import check_entries, log, logging_issuer

        issuer = logging_issuer(session)
        if issuer is not None and not self.clock_behind:  # an entry dated by a clock said to be wrong: none
            log(session, check_entries(issuer[0], self.records, self.signed, self.logs, self.log_signed,
                                       session.app.logged_anomalies(issuer[0])), "this check")

    def refuse(self) -> None:
        """Exit 1 naming the first check that failed: a chain, a signature, an event log, its signatures."""
        from domain.model.errors import Refused

        broken = next((c for c in self.records if not c.ok), None)
        if broken is not None:
            raise Refused(f"the billing records do not verify: {broken.source} {broken.broken}")
        refuse_forged_signatures(self.signed)
        torn = next((c for c in self.logs if not c.ok), None)
        if torn is not None:
            raise Refused(f"the event log does not verify: {torn.source} {torn.broken}")
        refuse_forged_signatures(self.log_signed)


def _own_nif(session: Session) -> list[str]:
    """The identity's tax id, to name a chain none of whose records can be read (none if it has none)."""
    from domain.model.errors import TratosError
    from domain.model.tax_ids import spanish_nif

    try:
        profile = session.tax_profile()
        return [spanish_nif(profile.issuer.tax_id, "your tax id")] if profile and profile.issuer.tax_id else []
    except TratosError:
        return []


def check_store(session: Session) -> StoreCheck:
    return StoreCheck(session)


def stored_signatures(session: Session) -> list[Any]:
    """The signatures of every chain in the store, checked (`record_signing.check_chains`)."""
    from documents.record_signing import check_chains

    return check_chains(session.app)


def refuse_forged_signatures(stored: list[Any]) -> None:
    """Exit 1 naming the first record whose signature does not verify (unsigned records pass)."""
    from domain.model.errors import Refused

    forged = next((c for c in stored if not c.ok), None)
    if forged is not None:
        what = "the event log does" if forged.unit == "entry" else "the billing records do"
        raise Refused(f"{what} not verify: {forged.source} {forged.unit} {forged.broken.position}"
                      f" ({forged.broken.number}): its signature does not verify ({forged.broken.problem})")


def _signatures(paths: list[Path]) -> tuple[list[Any], list[Any]]:
    """The XAdES signatures of the records in FILEs, each checked (an unsigned record said so), and
    each file's count of them (valid, unsigned, the first broken), as the store's chains are counted."""
    from documents.record_signing import check_signatures, tally
    from domain.adapters.files import open_regular

    found, counted = [], []
    for path in paths:
        with open_regular(path, "the Verifactu file", limit=None) as source:
            checks = list(check_signatures(source))
        found += checks
        counted.append(tally(path.name, checks))
    return found, counted


def report(session: Session, checks: list[ChainCheck], signatures: list[Any] = (), stored: list[Any] = (),
           logs: list[Any] = (), log_signed: list[Any] = (), file_signed: list[Any] = ()) -> None:
    """Each chain checked, in a line, and its records' signatures counted in the store (`stored`) or
    in each file (`file_signed`; `signatures` each record's, for --json); each event log and its
    signatures; or --json."""
    if session.as_json:
        from cli.output import print_json

        print_json({"ok": all(c.ok for c in (*checks, *signatures, *stored, *logs, *log_signed, *file_signed)), "chains": [
            {"source": c.source, "records": c.records, "last_fingerprint": c.last, "ok": c.ok,
             "broken": None if c.ok else {"record": c.broken.position,
                                          "number": c.broken.record and c.broken.record.number,
                                          "problem": c.broken.problem},
             "anomalies": [noted_dict(n) for n in c.noted]} for c in checks],
            "signatures": [{"record": s.position, "number": s.number, "signer": s.signer, "ok": s.ok,
                            "signed": s.signed, "problem": s.problem or None} for s in signatures],
            "stored_signatures": [signatures_dict(c) for c in stored],
            "file_signatures": [signatures_dict(c) for c in file_signed],
            "event_logs": [log_dict(c) for c in logs],
            "event_log_signatures": [signatures_dict(c) for c in log_signed]})
        return
    warn_noted(checks)
    if not checks:
        echo("No billing records yet: the chain starts at the next invoice.")
    for check in checks:
        state = "OK" if check.ok else f"BROKEN at {check.broken}"
        echo(f"{check.source}  {check.records} records  {state}")
    for chain in (*stored, *file_signed):
        echo(f"{chain.source}  signatures: {chain}")
    for check in logs:
        echo(f"{check.source}  {check.events} events  {'OK' if check.ok else f'BROKEN at {check.broken}'}")
    for chain in log_signed:
        echo(f"{chain.source}  signatures: {chain}")


def warn_noted(checks: list[ChainCheck]) -> None:
    """A `warning:` line for each traceability anomaly of a record's time (11, 13): the chain holds,
    the clock that made it did not (ADR-69)."""
    from cli.output import warn

    for check in checks:
        for noted in check.noted:
            warn(f"{check.source} {noted} (anomaly {noted.anomaly} of the agency's list: the chain holds)")


def noted_dict(noted: Any) -> dict[str, Any]:
    return {"record": noted.position, "number": noted.record.number, "anomaly": noted.anomaly,
            "problem": noted.problem}


def log_dict(check: Any) -> dict[str, Any]:
    return {"source": check.source, "events": check.events, "last_fingerprint": check.last, "ok": check.ok,
            "broken": None if check.ok else {"event": check.broken.position, "problem": check.broken.problem}}


@verifactu.command()
@click.argument("number", metavar="INVOICE")
@on_option
@pass_session
def cancel(session: Session, number: str, on: str | None) -> None:
    """Cancel the billing record of an invoice issued in error (registro de anulación).

    The record stays in the chain; a cancellation record follows it, and the invoice is void in
    its client's relationship: no payment, reminder or correction of it, out of the balance. An
    invoice that reached the client (a PDF of it or of a reminder issued, sent, a payment, a
    reminder, a follow-up, a corrective invoice) is corrected instead (tratos invoice correct
    --void): refused, exit 1, as is a corrective invoice, an invoice without a record and one
    cancelled already.

    --on is the day the cancellation is decided, kept in the relationship's history; it cannot
    be before the invoice's date. The record itself carries the moment it is generated, as the
    regulation requires (FechaHoraHusoGenRegistro), not --on.

    \b
    Example:
        tratos verifactu cancel F-2026-007
    """
    nif = _issuer_nif(session, "cancel one")
    from cli.output import warn

    done = session.app.cancel_record(nif, number, on=business_date(session, on))
    event = done.event
    if session.as_json:
        from cli.output import print_json

        print_json({"recorded": type(event).__name__, "invoice": number, "fingerprint": event.fingerprint,
                    "signed": bool(event.signature), "warnings": done.warnings})
    else:
        echo(f"Cancelled the billing record of {number} (fingerprint {event.fingerprint[:16]}…"
                   f"{', signed' if event.signature else ''})")
    for warning in done.warnings:
        warn(warning)


@verifactu.command()
@click.option("--year", type=Count(1900, 2999), required=True, help="The year the entries were logged in.")
@click.option("-o", "--output", "folder", metavar="FOLDER", required=True,
              help="Write the entries into FOLDER, one file each (made if it is not there).")
@pass_session
def events(session: Session, year: int, folder: str) -> None:
    """Write the event log of a year (no-verifactu mode) as the agency's XML: one RegistroEvento each.

    The log records what the system did as one that keeps its records: when it started, the
    checks run (`verifactu verify`, `audit verify`) and what they found, the exports, a backup
    restored (`import`). The agency's schema (EventosSIF.xsd) holds one entry per document, so
    FOLDER gets one file per entry, named by its place in the log (evento-000001.xml); an
    export of the same entries writes the same files again. This export is logged too.
    A year without entries writes nothing and exits 1.

    \b
    Example:
        tratos verifactu events --year 2026 -o eventos-2026
    """
    from cli.verifactu_log import events_exported, log
    from domain.adapters.files import output_folder
    from domain.adapters.verifactu_events import export_events

    nif = _issuer_nif(session, "export its event log")
    target = output_folder(folder, home=session.home)
    done = export_events(session.app, nif, year, target, home=session.home)
    if session.as_json:
        from cli.output import print_json

        print_json({"year": year, "events": len(done.files), "folder": str(target),
                    "files": [str(f) for f in done.files]})
    else:
        echo(f"Exported {len(done.files)} entries of the event log of {nif} of {year} to {target}")
    log(session, [events_exported(year, done)], "this export")


def _issuer_nif(session: Session, doing: str) -> str:
    from domain.model.errors import BadInput
    from domain.model.tax_ids import spanish_nif

    profile = session.tax_profile()
    if profile is None or not profile.issuer.tax_id:
        raise BadInput(f"your billing records are kept under your tax id: set it with"
                       f" `tratos identity invoicing --tax-id NIF` before you {doing}")
    return spanish_nif(profile.issuer.tax_id, "your tax id")


def signatures_dict(chain: Any) -> dict[str, Any]:
    broken = chain.broken
    return {"source": chain.source, "valid": chain.valid, "unsigned": chain.unsigned, "signers": list(chain.signers),
            "ok": chain.ok, "unread_from": chain.unread_from, "broken": None if broken is None else {
                "record": broken.position, "number": broken.number, "problem": broken.problem}}


def _sending(session: Session, doing: str) -> tuple[str, str]:
    """Only the records made in VERI*FACTU mode are sent; the others are kept here (and print another
    QR code). The issuer's NIF, and the mode of its records that do not state theirs (made before
    records did, ADR-78): the identity's. In no-verifactu mode, the records of a VERI*FACTU year
    before it may still be sent."""
    from cli.pdf import verifactu_mode
    from cli.verifactu_signing import mode_held
    from domain.adapters.verifactu_xml import pending
    from domain.model.billing_records import VERIFACTU
    from domain.model.errors import BadInput, Refused

    mode_held(session)  # identity.json edited to VERI*FACTU in a year of kept records sends none of them
    mode = verifactu_mode(session.identity)
    if mode == VERIFACTU:
        return _issuer_nif(session, doing), mode
    try:
        nif = _issuer_nif(session, doing)
    except BadInput:
        nif = None
    if nif is None or not pending(session.app, nif, mode)[2]:
        raise Refused("your invoices say their records are kept here (no-verifactu): records are sent to the"
                      " agency from a year in VERI*FACTU mode (`tratos identity invoicing --verifactu-mode"
                      " verifactu`, from 1 January of a year whose records are not made yet)")
    return nif, mode


@verifactu.command()
@click.option("-o", "--output", "output", metavar="FILE.xml", required=True, help="Write the request to FILE.xml.")
@pass_session
def submission(session: Session, output: str) -> None:
    """Write the next batch of billing records to send to the agency (VERI*FACTU mode).

    The request body of the agency's RegFactuSistemaFacturacion operation: a SOAP envelope with
    up to 1,000 records, from the first one not sent yet. Send it with your certificate (tratos
    does not connect to the agency), then tell tratos it was accepted with `verifactu sent`.
    Exit 1 when nothing is waiting.

    \b
    Example:
        tratos verifactu submission -o batch-1.xml
    """
    from domain.adapters.files import output_file, output_path
    from domain.adapters.verifactu_xml import pending, write_submission
    from domain.model.errors import Refused
    from domain.model.streams import submissions_id

    target = output_path(output, home=session.home)
    nif, unstated = _sending(session, "send them")
    first, kept, records = pending(session.app, nif, unstated)
    if not records:
        kept += sum(session.app.mapper.to_domain_event(stored).kept
                    for stored in session.app.recorder.select_events(submissions_id(nif)))
        elsewhere = session.app.waiting_elsewhere(nif)
        behind = (f"; the records of {elsewhere[0]} wait to be sent from record {elsewhere[1]}: write {elsewhere[0]}"
                  f" back as your tax id (`tratos identity invoicing --tax-id {elsewhere[0]}`) to send them"
                  if elsewhere else "")
        raise Refused(f"nothing to send: every billing record of {nif} was sent ({first - 1} records"
                      f"{f', {kept} of them made in no-verifactu mode and kept here' if kept else ''}){behind}")
    with output_file(target, session.home) as out:
        write_submission(out, records)
    if session.as_json:
        from cli.output import print_json

        print_json({"file": str(target), "first": first, "last": first + len(records) - 1, "records": len(records)})
        return
    echo(f"Wrote records {first} to {first + len(records) - 1} of {nif} ({len(records)}) to {target}:"
               " send it, then run `tratos verifactu sent` with the agency's reference")


@verifactu.command()
@click.argument("file", metavar="FILE.xml", type=click.Path(dir_okay=False))
@click.option("--csv", "reference", required=True, metavar="CODE",
              help="The agency's reference of its answer (CSV, código seguro de verificación).")
@on_option
@pass_session
def sent(session: Session, file: str, reference: str, on: str | None) -> None:
    """Record that the agency accepted the batch in FILE.xml (written by `verifactu submission`).

    FILE must hold the next records waiting to be sent, in order; the next `submission` starts
    after them. Refused (exit 1) for a batch sent already or out of order.

    \b
    Example:
        tratos verifactu sent batch-1.xml --csv A-XXXXXXXXXXXXXX
    """
    import hashlib
    import io

    from domain.adapters.files import open_regular
    from domain.adapters.verifactu_xml import read_sent

    nif, unstated = _sending(session, "record what you sent")
    path = Path(file)
    with open_regular(path, "the file sent") as source:
        content = source.read()
    records = read_sent(io.BytesIO(content), path.name)
    done = session.app.record_sent(nif, records, file_sha256=hashlib.sha256(content).hexdigest(),
                                   reference=reference, on=business_date(session, on), unstated=unstated)
    event = done.event
    if session.as_json:
        from cli.output import print_json

        print_json({"recorded": type(event).__name__, "first": event.first, "last": event.last,
                    "reference": event.reference})
        return
    echo(f"Recorded: records {event.first} to {event.last} of {nif} accepted by the agency ({event.reference})")
