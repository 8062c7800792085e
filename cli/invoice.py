"""tratos invoice: bill an installment, an approved change, or an amount."""

from __future__ import annotations

import click

from cli.options import (
    Count,
    business_date,
    contract_option,
    handle_argument,
    not_empty,
    on_option,
    pass_session,
)
from cli.output import echo, money, recorded
from cli.session import Session


@click.group()
def invoice() -> None:
    """Invoices, numbered F-2026-001… across all clients."""


@invoice.command("issue")
@handle_argument
@click.option("--installment", type=Count(1, 1000), metavar="N",
              help="Bill installment N of the contract.")
@click.option("--amount", metavar="600EUR", help="Bill this amount instead of an installment.")
@click.option("--for", "change_id", metavar="C1", callback=not_empty,
              help="The approved change the amount bills (without --amount: its quoted price).")
@click.option("--due", metavar="DATE", help="Due date (default: issue date + the payment days of the terms).")
@click.option("--concept", default=None, metavar="TEXT", callback=not_empty,
              help="What the invoice is for, in words.")
@click.option("--line", "line_texts", multiple=True, metavar="TEXT",
              help="A line's description (repeatable; each with its --quantity and --unit-price).")
@click.option("--quantity", "quantities", multiple=True, metavar="10", help="The quantity of each --line.")
@click.option("--unit-price", "unit_prices", multiple=True, metavar="60EUR", help="The unit price of each --line.")
@click.option("--vat", "vats", multiple=True, metavar="21%",
              help="The VAT rate of each --line, or of the invoice when given once (default: your profile's).")
@click.option("--hours", "hours_range", metavar="FROM..TO",
              help="Bill the hours logged between two dates, not billed yet, at the terms' rate.")
@click.option("--summed", is_flag=True, help="With --hours: one line for all the hours, not one per entry.")
@click.option("--withholding", default=None, metavar="15%", help="IRPF withholding (default: your profile's).")
@click.option("--exempt", "exemption", default=None, metavar="ARTICLE", callback=not_empty,
              help="The service is exempt from VAT under this article, e.g. \"art. 20.Uno.9º LIVA\".")
@click.option("--pdf", "print_pdf", is_flag=True,
              help="Also print the signed invoice PDF (Factur-X inside), as `tratos pdf invoice` does.")
@click.option("--no-timestamp", "no_timestamp", is_flag=True,
              help="With --pdf: sign without the time-stamping authority's token (PAdES B-B).")
@contract_option
@on_option
@pass_session
def issue(session: Session, handle: str, installment: int | None, amount: str | None,
          change_id: str | None, due: str | None, concept: str | None, line_texts: tuple[str, ...],
          quantities: tuple[str, ...], unit_prices: tuple[str, ...], vats: tuple[str, ...],
          hours_range: str | None, summed: bool, withholding: str | None, exemption: str | None,
          print_pdf: bool, no_timestamp: bool, contract_id: str | None, on: str | None) -> None:
    """Issue an invoice with VAT and withholding as the client is taxed; prints its number.

    \b
    Example:
        tratos invoice issue acme --installment 1
        tratos invoice issue acme --for C1 --due 2026-04-30
        tratos invoice issue acme --line "Workshop" --quantity 2 --unit-price 300EUR --vat 10%
        tratos invoice issue acme --hours 2026-02-01..2026-02-28
        tratos invoice issue acme --installment 2 --pdf
    """
    from cli.notation import parse_date, parse_money, parse_percent, parse_withholding

    today = session.today()
    billed = parse_money(amount, session.currency) if amount is not None else None
    lines = _lines(session, line_texts, quantities, unit_prices, vats)
    if len(vats) > 1 and not line_texts:
        from domain.model.errors import BadInput

        raise BadInput("several --vat rates go with as many --line options; without lines, give one --vat")
    hours = None
    if hours_range is not None:
        start, sep, end = hours_range.partition("..")
        if not sep:
            from domain.model.errors import BadInput

            raise BadInput(f"not a range of dates: {hours_range!r} (try 2026-02-01..2026-02-28)")
        hours = (parse_date(start, today), parse_date(end, today))
    result = session.app.issue_invoice(
        handle, on=business_date(session, on), installment=installment, amount=billed,
        change_id=change_id, contract_id=contract_id,
        due=parse_date(due, today) if due is not None else None, concept=concept or "", lines=lines or None,
        hours=hours, summed=summed, vat_rate=parse_percent(vats[0]) if len(vats) == 1 and not lines else None,
        withholding=None if withholding is None else parse_withholding(withholding), exemption=exemption or "")
    event = result.event
    what = (f"installment {event.installment} of {event.contract_id}" if event.installment
            else f"change {event.change_id}" if event.change_id else event.contract_id)
    recorded(session, result, f"invoice {event.invoice_number} {_amounts(event)} ({what}), due {event.due}")
    if print_pdf:
        from cli.pdf import printer, report_issued
        from domain.model.errors import TratosError
        from domain.services.documents import issue_document

        made = printer(session, None, False, no_timestamp)
        try:
            issued, _ = issue_document(session.app, made, handle, "invoice", event.invoice_number,
                                       on=event.occurred_on)
        except TratosError as error:  # the invoice stands (ADR-43): say so, and how to print it
            reason = str(error).split("; nothing was", 1)[0].split(": nothing was", 1)[0]
            raise TratosError(f"invoice {event.invoice_number} is recorded, but its PDF was not printed: {reason};"
                              f" print it with `tratos pdf invoice {handle} {event.invoice_number}`"
                              " (--no-timestamp signs without the time-stamping authority)") from None
        report_issued(session, issued, made)


@invoice.command("correct")
@handle_argument
@click.argument("number", metavar="F-2026-001")
@click.option("--reason", required=True, metavar="TEXT", callback=not_empty,
              help="Why the invoice is corrected (printed on it).")
@click.option("--amount", metavar="-200EUR", help="Correct by this difference of the base (negative lowers it).")
@click.option("--line", "line_texts", multiple=True, metavar="TEXT", help="A line of the correction (repeatable).")
@click.option("--quantity", "quantities", multiple=True, metavar="1", help="The quantity of each --line.")
@click.option("--unit-price", "unit_prices", multiple=True, metavar="-60EUR", help="The unit price of each --line.")
@click.option("--vat", "vats", multiple=True, metavar="21%",
              help="The VAT rate of each --line, one the invoice used (default: its first line's).")
@click.option("--void", is_flag=True, help="Cancel the whole invoice.")
@on_option
@pass_session
def correct(session: Session, handle: str, number: str, reason: str, amount: str | None,
            line_texts: tuple[str, ...], quantities: tuple[str, ...], unit_prices: tuple[str, ...],
            vats: tuple[str, ...], void: bool, on: str | None) -> None:
    """Issue a corrective invoice (R-2026-001…): the only way to change or cancel an issued invoice.

    --amount is a difference of the base at the invoice's first VAT rate; to correct a line taxed
    at another rate, give --line with its --unit-price and --vat.

    \b
    Example:
        tratos invoice correct acme F-2026-001 --reason "Wrong hours" --amount -120EUR
        tratos invoice correct acme F-2026-002 --reason "Issued twice" --void
    """
    from domain.model.errors import BadInput

    if vats and not line_texts:
        raise BadInput("--vat goes with a --line: --amount corrects at the invoice's first VAT rate"
                       " (give --line with --unit-price and --vat to correct another)")
    difference = _signed_money(amount, session.currency) if amount is not None else None
    lines = _lines(session, line_texts, quantities, unit_prices, vats, signed=True)
    result = session.app.correct_invoice(handle, number, on=business_date(session, on), reason=reason,
                                         lines=lines or None, amount=difference, void=void)
    event = result.event
    recorded(session, result, f"corrective invoice {event.invoice_number} of {event.corrects}"
             f" {_amounts(event)}")


def _amounts(event) -> str:  # noqa: ANN001
    """`for 4000.00 EUR` when nothing is added or withheld; else base, VAT, withholding and payable."""
    from domain.model.money import Money

    base = sum((t.base for t in event.taxes), Money.zero(event.amount.currency))
    if event.total == base and not event.withholding.amount:
        return f"for {money(event.amount)}"
    withheld = f", withholding {money(event.withholding)}" if event.withholding.amount else ""
    return (f"for {money(base)} + VAT {money(event.total - base)}{withheld}:"
            f" {money(event.amount)} payable")


@invoice.command("book")
@click.option("--year", type=Count(2000, 2999), required=True, metavar="2026", help="The year of the book.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), metavar="FILE", callback=not_empty,
              help="Write it to FILE: .xlsx (a workbook) or .csv (default: the AEAT's file name, .xlsx).")
@pass_session
def book(session: Session, year: int, output: str | None) -> None:
    """Write the book of issued invoices of a year (libro registro de facturas expedidas).

    Every invoice and corrective invoice, one row per VAT rate, in the column layout the Spanish
    tax agency publishes for the book (.xlsx or .csv); with --json, the rows as JSON.

    \b
    Example:
        tratos invoice book --year 2026
        tratos invoice book --year 2026 -o book-2026.csv
    """
    from pathlib import Path

    from cli.output import print_json
    from documents.invoice_book import as_json, book_rows, file_name, write_csv, write_xlsx
    from documents.invoice_view import issued_in
    from domain.adapters.files import output_path, write_output
    from domain.model.errors import BadInput

    if session.as_json and output:
        raise BadInput("--json prints the book; -o writes it to a file: give one of them")
    target = None
    if not session.as_json:  # the file is checked before the book is read
        target = Path(output or file_name(year, session.identity.get("tax_id", ""), session.identity.get("name", "")))
        if target.suffix.lower() not in (".xlsx", ".csv"):
            raise BadInput(f"the book is written as .xlsx or .csv, not {target.suffix or 'a file without extension'}")
        output_path(target, home=session.home)
    rows = book_rows(issued_in(session.app, session.models.handles(), year, session.lang), year)
    if target is None:
        print_json({"year": year, "rows": as_json(rows)})
        return
    if not rows:  # a year mistyped, most likely: an empty book would be filed as "nothing invoiced"
        from domain.model.errors import Refused

        raise Refused(f"no invoice was issued in {year}: no book written")
    import io

    if target.suffix.lower() == ".csv":
        text = io.StringIO(newline="")
        write_csv(rows, text)
        content = text.getvalue().encode("utf-8")
    else:
        binary = io.BytesIO()
        write_xlsx(rows, binary)
        content = binary.getvalue()
    write_output(target, content, session.home)  # private, like an export: every client's tax data
    session.written = str(target)
    invoices = len({(row.get("series"), row.get("number")) for row in rows})
    echo(f"Wrote the book of issued invoices of {year} ({len(rows)} rows, {invoices} invoices) to {target}")


def _lines(session: Session, texts: tuple[str, ...], quantities: tuple[str, ...], prices: tuple[str, ...],
           vats: tuple[str, ...], signed: bool = False) -> list:
    """The --line options with their --quantity, --unit-price and --vat, given in the same order."""
    from cli.notation import parse_number, parse_percent
    from domain.model.billing import Line
    from domain.model.errors import BadInput

    if not texts:
        if quantities or prices:
            raise BadInput("--quantity and --unit-price go with a --line")
        return []
    if len(prices) != len(texts) or len(quantities) not in (0, len(texts)) or len(vats) not in (0, 1, len(texts)):
        raise BadInput("give each --line its --unit-price (and, if any, its --quantity and --vat) in the same order")
    rates = list(vats) * len(texts) if len(vats) == 1 else list(vats) or [None] * len(texts)
    return [Line(text, parse_number(quantities[n], "a quantity") if quantities else parse_number("1"),
                 (_signed_money if signed else _money)(prices[n], session.currency),
                 parse_percent(rates[n]) if rates[n] is not None else None)
            for n, text in enumerate(texts)]


def _money(text: str, currency: str):  # noqa: ANN202
    from cli.notation import parse_money

    return parse_money(text, currency)


def _signed_money(text: str, currency: str):  # noqa: ANN202
    """A difference: -120EUR lowers the invoice, 120EUR raises it."""
    from cli.notation import parse_money
    from domain.model.errors import BadInput
    from domain.model.money import Money

    stripped = text.strip()
    negative = stripped.startswith("-")
    rest = stripped[1:] if stripped[:1] in ("-", "+") else stripped
    if rest.lstrip()[:1] in ("-", "+"):  # one sign at most: `+-100EUR` is no difference, not a raise
        raise BadInput(f"not an amount of money: {text!r} (one sign at most: -120EUR lowers the invoice,"
                       " 120EUR raises it)")
    amount = parse_money(rest, currency)
    return Money(amount=-amount.amount, currency=amount.currency) if negative else amount

