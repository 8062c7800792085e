"""tratos verifactu: the invoices' billing records as Spain's tax agency reads them (RD 1007/2023)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli.options import business_date, on_option, pass_session
from cli.session import Session

if TYPE_CHECKING:
    from domain.adapters.verifactu_xml import ChainCheck


@click.group()
def verifactu() -> None:
    """Verifactu billing records: export them in the agency's XML, verify their chain, cancel one."""


@verifactu.command()
@click.option("--year", type=click.IntRange(1900, 2999), required=True, help="The year the records were generated in.")
@click.option("-o", "--output", "output", metavar="FILE.xml", help="Write to FILE.xml (default: standard output).")
@pass_session
def export(session: Session, year: int, output: str | None) -> None:
    """Write every billing record generated in a year as the agency's XML (RegFactuSistemaFacturacion).

    A document holds at most 1,000 records of one issuer (SuministroLR.xsd); a year with more is
    written as FILE-001.xml, FILE-002.xml, ..., each chained on from the one before, and needs -o.
    A year without records writes nothing and exits 1 (an empty document would not be valid).

    \b
    Example:
        tratos verifactu export --year 2026 -o verifactu-2026.xml
    """
    from domain.adapters.files import output_path
    from domain.adapters.verifactu_xml import export_year

    target = output_path(output, home=session.home) if output is not None else None
    done = export_year(session.app, year, target, click.get_binary_stream("stdout"))
    if session.as_json:
        from cli.output import print_json

        print_json({"year": year, "records": done.records, "files": [str(f) for f in done.files]})
    elif done.files:
        click.echo(f"Exported {done.records} billing records of {year} to {', '.join(map(str, done.files))}")


@verifactu.command()
@click.argument("files", nargs=-1, metavar="[FILE.xml]...", type=click.Path(dir_okay=False))
@pass_session
def verify(session: Session, files: tuple[str, ...]) -> None:
    """Recompute every fingerprint of the billing records and their chain, in the store or in FILEs.

    Without FILE, every issuer's chain in the store, from its first record; with FILEs (an
    export, its parts in order), the chain they hold. Names the first record that does not
    hold and exits 1; exit 0 when all hold.

    \b
    Example:
        tratos verifactu verify
        tratos verifactu verify verifactu-2026.xml
    """
    from domain.adapters.verifactu_xml import verify_files, verify_store

    checks = [verify_files([Path(f) for f in files])] if files else verify_store(session.app)
    report(session, checks)
    broken = next((c for c in checks if not c.ok), None)
    if broken is not None:
        from domain.model.errors import Refused

        raise Refused(f"the billing records do not verify: {broken.source} {broken.broken}")


def report(session: Session, checks: list[ChainCheck]) -> None:
    """Each chain checked, in a line (or --json)."""
    if session.as_json:
        from cli.output import print_json

        print_json({"ok": all(c.ok for c in checks), "chains": [
            {"source": c.source, "records": c.records, "last_fingerprint": c.last, "ok": c.ok,
             "broken": None if c.ok else {"record": c.broken.position, "number": c.broken.record.number,
                                          "problem": c.broken.problem}} for c in checks]})
        return
    if not checks:
        click.echo("No billing records yet: the chain starts at the next invoice.")
    for check in checks:
        state = "OK" if check.ok else f"BROKEN at {check.broken}"
        click.echo(f"{check.source}  {check.records} records  {state}")


@verifactu.command()
@click.argument("number", metavar="INVOICE")
@on_option
@pass_session
def cancel(session: Session, number: str, on: str | None) -> None:
    """Cancel the billing record of an invoice issued in error (registro de anulación).

    The record stays in the chain; a cancellation record follows it. An invoice that was
    issued to the client is corrected instead (tratos invoice correct). Refused for an invoice
    without a record or cancelled already.

    \b
    Example:
        tratos verifactu cancel F-2026-007
    """
    from domain.model.errors import BadInput
    from domain.model.tax_ids import spanish_nif

    profile = session.tax_profile()
    if profile is None or not profile.issuer.tax_id:
        raise BadInput("your billing records are kept under your tax id: set it with"
                       " `tratos identity invoicing --tax-id NIF` first")
    nif = spanish_nif(profile.issuer.tax_id, "your tax id")
    done = session.app.cancel_record(nif, number, on=business_date(session, on))
    if session.as_json:
        from cli.output import print_json

        event = done.event
        print_json({"recorded": type(event).__name__, "invoice": number, "fingerprint": event.fingerprint})
        return
    click.echo(f"Cancelled the billing record of {number} (fingerprint {done.event.fingerprint[:16]}…)")
