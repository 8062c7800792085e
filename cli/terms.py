"""tratos terms: publish the business norms a client works under (versioned)."""

from __future__ import annotations

import click

from cli.options import Count, business_date, handle_argument, on_option, pass_session
from cli.output import money, recorded
from cli.session import Session


@click.group()
def terms() -> None:
    """Publish your business norms: rates, payment days, late fees."""


@terms.command("publish")
@handle_argument
@click.option("--rate", metavar="60/h", help="Hourly rate.")
@click.option("--weekly-hours", metavar="30", help="Hours a week you work for this client.")
@click.option("--response-days", type=Count(0, 365), default=2, show_default=True,
              help="Days within which you answer (and acknowledge mistakes).")
@click.option("--payment-days", type=Count(0, 365), default=30, show_default=True,
              help="Days an invoice has to be paid.")
@click.option("--revisions", type=Count(0, 1000), help="Revision rounds included.")
@click.option("--out-of-scope-rate", metavar="75/h", help="Hourly rate of work outside the scope.")
@click.option("--late-fee", metavar="FEE", default="none", show_default=True,
              help="statutory-eu (Directive 2011/7/EU), a percent such as 5%, a fixed 40EUR, or none.")
@click.option("--reference-rate", metavar="2.15%",
              help="A reference rate the terms fix for statutory-eu (default: the ECB rate on 1 January"
                   " or 1 July of the half-year each invoice falls due, from the table this release ships).")
@click.option("--hours", "working_hours", default="", metavar="TEXT",
              help='When you can be reached, e.g. "Mon-Fri 09:00-17:00".')
@click.option("--confidentiality", default="", metavar="TEXT",
              help="Confidentiality you promise; it continues after the end.")
@on_option
@pass_session
def publish(session: Session, handle: str, rate: str | None, weekly_hours: str | None,
            response_days: int, payment_days: int, revisions: int | None,
            out_of_scope_rate: str | None, late_fee: str, reference_rate: str | None,
            working_hours: str, confidentiality: str, on: str | None) -> None:
    """Publish a new version of the terms for a client; later contracts pin it.

    \b
    Example:
        tratos terms publish acme --rate 60/h --payment-days 30 --late-fee statutory-eu \\
            --hours "Mon-Fri 09:00-17:00" --confidentiality "Client data stays private for 5 years"
    """
    from cli.notation import parse_late_fee, parse_number, parse_percent, parse_rate, plain
    from domain.model.values import Terms

    currency = session.currency
    fields = {
        "rate": parse_rate(rate, currency) if rate else None,
        "weekly_hours": parse_number(weekly_hours, "a number of hours") if weekly_hours else None,
        "response_days": response_days,
        "payment_days": payment_days,
        "revisions": revisions,
        "out_of_scope_rate": parse_rate(out_of_scope_rate, currency) if out_of_scope_rate else None,
        "late_fee": parse_late_fee(late_fee, currency),
        "working_hours": working_hours,
        "confidentiality": confidentiality,
    }
    if reference_rate is not None:
        text = plain(reference_rate, "a reference rate").strip()
        fields["reference_rate"] = parse_percent(text if text.endswith("%") else f"{text}%")
    published = Terms(**fields)
    result = session.app.publish_terms(handle, published, on=business_date(session, on))
    summary = [f"{money(published.rate)}/h" if published.rate else "", f"{payment_days} payment days"]
    recorded(session, result, f"terms v{result.event.terms_version} for {handle} published"
             f" ({', '.join(part for part in summary if part)})")

