"""tratos calendar: what is due (installments, invoices, contract ends, answers owed) as an .ics file."""

from __future__ import annotations

from pathlib import Path

import click

from cli.options import pass_session
from cli.output import echo
from cli.pdf import LANGUAGES, _writable_output
from cli.session import Session

DEFAULT_FILE = "tratos.ics"


@click.command()
@click.argument("handle", metavar="[CLIENT]", required=False)
@click.option("-o", "--output", type=click.Path(dir_okay=False), metavar="FILE.ics", callback=_writable_output,
              help=f"Where to write the calendar (default: CLIENT.ics, or {DEFAULT_FILE} for every client).")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None,
              help="Language of the events (default: your documents').")
@pass_session
def calendar(session: Session, handle: str | None, output: str | None, lang: str | None) -> None:
    """Write an iCalendar file of what is due: installments, invoice due dates, contract ends,
    and the day each reported mistake must be answered by.

    Every event keeps its UID from one export to the next, so importing a newer file into
    your calendar updates the events instead of adding them twice.

    \b
    Example:
        tratos calendar -o ~/tratos.ics
        tratos calendar acme
    """
    from documents.agenda import calendar_file, dues
    from documents.i18n import Formatter
    from domain.adapters.files import write_output

    fmt = Formatter(lang or session.lang)
    handles = [handle] if handle else session.models.handles()
    found = [due for h in handles for due in dues(session.models.status(h), fmt)]
    found.sort(key=lambda d: (d.day, d.uid))
    name = f"tratos: {handle}" if handle else "tratos"
    content = calendar_file(found, name=name, stamp=session.today())
    target = Path(output or (f"{handle}.ics" if handle else DEFAULT_FILE))
    path = write_output(target, content, session.home, shared=True)
    if session.as_json:
        from cli.output import print_json

        print_json({"file": str(path), "events": [due.as_dict() for due in found]})
        return
    echo(f"Wrote {len(found)} events to {path}")
