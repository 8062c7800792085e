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
@click.option("--remind-before", default=None, metavar="3", help="Days before an invoice's due date to remind"
              " the client (a list: 7,3); `tratos follow-up` sends them.")
@click.option("--remind-after", default=None, metavar="1,7,14,30",
              help="Days after the due date to remind an unpaid invoice, friendly, firm, then a final notice.")
@click.option("--chase-after", type=Count(1, 365), default=None, metavar="5",
              help="Days after which a draft waiting for the client's signature or a quote waiting for approval is chased.")
@on_option
@pass_session
def publish(session: Session, handle: str, rate: str | None, weekly_hours: str | None,
            response_days: int, payment_days: int, revisions: int | None,
            out_of_scope_rate: str | None, late_fee: str, reference_rate: str | None,
            working_hours: str, confidentiality: str, remind_before: str | None, remind_after: str | None,
            chase_after: int | None, on: str | None) -> None:
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
    schedule = None
    if remind_before is not None or remind_after is not None or chase_after is not None:
        schedule = {"remind_before": _days(remind_before, "--remind-before"),
                    "remind_after": _days(remind_after, "--remind-after"), "chase_after": chase_after}
    result = session.app.publish_terms(handle, published, on=business_date(session, on), follow_up=schedule)
    result = type(result)(result.handle, result.events[:1], result.warnings)  # confirm the terms themselves
    summary = [f"{money(published.rate)}/h" if published.rate else "", f"{payment_days} payment days"]
    if schedule is not None:
        summary.append("follow-up: " + ", ".join(filter(None, [
            f"{','.join(map(str, schedule['remind_before']))} days before" if schedule["remind_before"] else "",
            f"{','.join(map(str, schedule['remind_after']))} days after" if schedule["remind_after"] else "",
            f"chase after {chase_after} days" if chase_after else ""])))
    recorded(session, result, f"terms v{result.event.terms_version} for {handle} published"
             f" ({', '.join(part for part in summary if part)})")



def _days(text: str | None, flag: str) -> list[int]:
    """`1,7,14,30` as days, each written with the digits 0-9."""
    import re

    from domain.model.errors import BadInput

    if text is None:
        return []
    parts = text.split(",")  # digits and commas, nothing else: a count as every count (ADR-26)
    if not all(re.fullmatch(r"[0-9]{1,3}", part) for part in parts):
        raise BadInput(f"{flag} is a list of days such as 1,7,14,30, not {text!r}")
    return [int(part) for part in parts]
