"""tratos note: the communication log, with optional evidence."""

from __future__ import annotations

import click

from cli.options import (
    business_date,
    evidence_option,
    handle_argument,
    kept_evidence,
    on_option,
    pass_session,
)
from cli.output import recorded
from cli.session import Session


@click.command()
@handle_argument
@click.argument("text")
@evidence_option
@on_option
@pass_session
def note(session: Session, handle: str, text: str, evidence: tuple[str, ...], on: str | None) -> None:
    """Record a note about a client: a call, an email, a decision.

    \b
    Example:
        tratos note acme "Client asked for weekly updates" --evidence mail.eml
    """
    day = business_date(session, on)
    with kept_evidence(session, evidence) as files:
        result = session.app.record_note(handle, text, on=day, evidence=files)
    recorded(session, result, f"note on {handle}" + (f" with {len(files)} evidence file(s)" if files else ""))
