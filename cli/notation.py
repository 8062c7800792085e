"""The freelancer's natural notations: 8.000,50€, 60/h, 50%@2026-01-15, yesterday.

Each parser returns domain values or raises `BadInput` with one sentence
saying what was expected.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from domain.model.currencies import check_currency
from domain.model.errors import BadInput

if TYPE_CHECKING:  # built where an amount is parsed: reading a date (every command) needs no model
    from domain.model.money import Money
    from domain.model.values import Installment, LateFee

SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY", "₹": "INR", "₽": "RUB"}
_MONEY = re.compile(r"(?P<pre>[A-Za-z]{3}|[€$£¥₹₽])?\s*(?P<num>[-+]?[\d.,' ]*\d)\s*(?P<post>[A-Za-z]{3}|[€$£¥₹₽])?")


def plain(text: str, what: str) -> str:
    """A notation as typed: digits 0-9 and no control characters, in amounts, rates, percentages,
    dates, hours and counts alike (ADR-26).

    Python reads Arabic-Indic or full-width digits as numbers; refusing them everywhere keeps one
    rule, where reading them in some places (amounts) and not others (dates) was two. Surrounding
    spaces are forgiven where a notation has spaces inside (an amount, a rate), not in a date or a
    count, which have one form; a newline, tab or escape is refused, not stripped ("60/h\\n" is a
    typo or a paste from somewhere else, and the user should see it).
    """
    other = next((c for c in text or "" if c.isdigit() and not c.isascii()), None)
    if other is not None:
        raise BadInput(f"write {what} with the digits 0-9: {text!r} has {other!r} (U+{ord(other):04X})")
    control = next((c for c in text or "" if unicodedata.category(c)[0] == "C"
                    or unicodedata.category(c) in ("Zl", "Zp")), None)
    if control is not None:
        raise BadInput(f"{what} contains a control character (U+{ord(control):04X}): {text!r}")
    return text


def parse_number(text: str, what: str = "a number", *, thousands: bool = True) -> Decimal:
    """The one notation of every number typed (ADR-65): quantities, hours, percentages, amounts.

    '8.000,50', '8,000.50', '1.000.000', '8 000' and '8000.5' alike: a separator that occurs twice,
    or before the other one, groups thousands, and the last separator of two kinds is the decimal
    one. A lone `.` or `,` before anything but three digits is the decimal one ('3,5', '0.25',
    '1234.567' and '0.005', whose first part cannot begin a grouped number). A lone separator
    before exactly three digits, after one to three digits not starting with 0 ('1,250', '8.000'),
    is refused: it reads 1250 to some and 1.25 to others, and tratos read it both ways once; not
    where the number cannot reach a thousand (`thousands=False`: a percentage), where it is a
    decimal point. Spaces (or ' ) group thousands only as the separators do: one to three digits,
    then groups of three ('8 000'; '1 2' is no number).
    """
    raw = re.sub(r"[ \u00a0']", " ", plain(text, what).strip())
    if " " in raw:
        head, tail = re.fullmatch(r"([-+]?[0-9 ]*)(.*)", raw).groups()
        if " " in tail:
            raise BadInput(f"not {what}: {text!r}")
        raw = _ungrouped(head, " ", text, what) + tail
    if not re.fullmatch(r"[-+]?[0-9][0-9.,]*", raw):
        raise BadInput(f"not {what}: {text!r}")
    dots, commas = raw.count("."), raw.count(",")
    if dots and commas:
        decimal_sep = "." if raw.rfind(".") > raw.rfind(",") else ","
        group_sep = "," if decimal_sep == "." else "."
        if raw.count(decimal_sep) > 1:
            raise BadInput(f"not {what}: {text!r}")
        raw = _ungrouped(raw.partition(decimal_sep)[0], group_sep, text, what) + "." + raw.partition(decimal_sep)[2]
    elif dots + commas:
        sep = "." if dots else ","
        parts = raw.split(sep)
        if len(parts) > 2:
            raw = _ungrouped(raw, sep, text, what)
        elif thousands and len(parts[1]) == 3 and _first_group(parts[0].lstrip("+-")):
            sign, digits = ("-" if parts[0].startswith("-") else ""), parts[0].lstrip("+-")
            decimals = parts[1].rstrip("0")
            # the decimal reading written so that it is not ambiguous: 1.25, or 1.3330 for three decimals
            decimal = f"{digits}.{decimals}0" if len(decimals) == 3 else f"{digits}.{decimals}" if decimals else digits
            raise BadInput(f"{text.strip()!r} is ambiguous (a thousands separator or a decimal point?): write"
                           f" {sign}{digits}{parts[1]} or {sign}{decimal}")
        else:
            raw = raw.replace(",", ".")
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise BadInput(f"not {what}: {text!r}") from None


def _ungrouped(whole: str, sep: str, text: str, what: str) -> str:
    """`whole` ('1.000.000', '-8,000') without its thousands separators, if grouped by three."""
    parts = whole.split(sep)
    if len(parts) > 1 and (not _first_group(parts[0].lstrip("+-")) or any(len(p) != 3 for p in parts[1:])):
        raise BadInput(f"not {what}: {text!r}")
    return "".join(parts)


def _first_group(digits: str) -> bool:
    """Whether `digits` can begin a number grouped in thousands (1 to 3 digits, no leading 0)."""
    return 1 <= len(digits) <= 3 and not digits.startswith("0")


def parse_money(text: str, default_currency: str) -> Money:
    """8000EUR, 8000 EUR, 8.000,50€, €8,000.50, or 600 in the default currency."""
    match = _MONEY.fullmatch(plain(text or "", "an amount").strip())
    if not match:
        raise BadInput(f"not an amount of money: {text!r} (try 8000EUR or 8.000,50€)")
    pre, post = match.group("pre"), match.group("post")
    if pre and post:
        raise BadInput(f"two currencies in {text!r}")
    code = SYMBOLS.get(pre or post or "", pre or post or default_currency)
    amount = parse_number(match.group("num"), "an amount")
    if amount < 0:
        raise BadInput(f"amounts are positive: {text!r}")
    from domain.model.money import Money

    return Money(amount=amount, currency=check_currency(code))


def parse_rate(text: str, default_currency: str) -> Money:
    """60/h or 60EUR/h: money per hour."""
    base = plain(text or "", "an hourly rate").strip()
    if not re.search(r"/\s*h(our)?\Z", base, re.IGNORECASE):
        raise BadInput(f"not an hourly rate: {text!r} (try 60/h)")
    money = parse_money(re.sub(r"/\s*h(our)?\Z", "", base, flags=re.IGNORECASE), default_currency)
    if not money.is_positive:
        raise BadInput(f"an hourly rate must be positive: {text!r}")
    return money


PERCENT_DECIMALS = 2  # 21%, 33.33%, an ECB rate of 2.15%


def parse_percent(text: str) -> Decimal:
    base = plain(text or "", "a percentage").strip()
    if not base.endswith("%"):
        raise BadInput(f"not a percentage: {text!r} (try 50%)")
    if "%" in base[:-1]:
        raise BadInput(f"not a percentage: {text!r} (try 50%)")
    value = parse_number(base[:-1], "a percentage", thousands=False)  # at most 100: a lone separator is a decimal point
    if value < 0 or value > 100:
        raise BadInput(f"a percentage must be between 0% and 100%: {text!r}")
    if value.as_tuple().exponent < -PERCENT_DECIMALS:  # no rate, share or fee needs more; none is rounded away
        raise BadInput(f"a percentage has at most {PERCENT_DECIMALS} decimals: {text!r}")
    return value


def parse_withholding(text: str) -> Decimal:
    """A withholding rate, where `none` (or `no`) says there is none: 0%."""
    return parse_percent("0%" if text.strip().lower() in ("none", "no") else text)


def parse_date(text: str, today: date) -> date:
    """ISO dates (2026-01-15), `today` and `yesterday`, within the calendar of records (1900-2999).

    A date has one form and no spaces inside, so none around it either ("2026-03-01 " is refused,
    as a count's " 30" is): only notations with spaces inside (an amount's "8000 EUR") forgive them.
    """
    from domain.model.calendar import check_day, days_after

    word = plain(text or "", "a date").lower()
    if word == "today":
        return check_day(today, "today")
    if word == "yesterday":
        return check_day(days_after(today, -1), "yesterday")
    try:
        day = date.fromisoformat(word) if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", word) else _bad_date(text)
    except ValueError:
        raise BadInput(f"no such date: {text!r}") from None
    return check_day(day, "the date")


def _bad_date(text: str) -> date:
    raise BadInput(f"not a date: {text!r} (use 2026-01-15, today or yesterday)")


def parse_hours(text: str) -> Decimal:
    """3.5, 3,5, 3h or 3:30 (minutes become hours to the hundredth: 0:20 is 0.33).

    Numbers are read as every other (`parse_number`): "1,250" is refused as ambiguous, as it is
    for a quantity or an amount. The precision of what is logged is the domain's (`check_hours`).
    """
    from domain.model.contracts import hours_and_minutes

    base = plain(text or "", "hours").strip().lower().removesuffix("h").strip()
    if re.fullmatch(r"[0-9]{1,3}:[0-9]{2}", base):
        hours, minutes = base.split(":")
        if int(minutes) >= 60:
            raise BadInput(f"not a duration: {text!r}")
        value = hours_and_minutes(int(hours), int(minutes))
    else:
        value = parse_number(base, "a number of hours")
    if value <= 0:
        raise BadInput(f"hours must be positive: {text!r}")
    return value


def parse_installments(texts: list[str], price: Money, today: date) -> list[Installment]:
    """50%@2026-01-15 or 4000EUR@2026-01-15, numbered in the order given."""
    from domain.model.money import Money
    from domain.model.values import Installment

    installments = []
    for n, text in enumerate(texts, start=1):
        share, sep, when = (text or "").partition("@")
        if not sep:
            raise BadInput(f"installment {text!r} needs a date: 50%@2026-01-15")
        due = parse_date(when, today)
        if share.strip().endswith("%"):
            percent = parse_percent(share)
            amount, given = price.times(percent / 100), percent
        else:
            amount, given = parse_money(share, price.currency), None
        installments.append(Installment(n=n, amount=amount, due=due, percent=given))
    shares = [i.percent for i in installments]
    if installments and None not in shares and sum(shares) == 100:
        # Percent shares rounded per line may miss the price by a cent: the last one absorbs it.
        rest = price - Money(amount=sum(i.amount.amount for i in installments[:-1]), currency=price.currency)
        installments[-1] = installments[-1].model_copy(update={"amount": rest})
    return installments


def parse_late_fee(text: str, default_currency: str) -> LateFee:
    """statutory-eu, 5% of the outstanding amount, a fixed 40EUR, or none."""
    from domain.model.values import LateFee

    word = plain(text or "", "a late fee").strip().lower()
    if word in ("none", "no", "0"):
        return LateFee(kind="none")
    if word in ("statutory-eu", "eu", "statutory"):
        return LateFee(kind="statutory-eu")
    if word.endswith("%"):
        return LateFee(kind="percent", percent=parse_percent(word))
    fixed = parse_money(text, default_currency)
    if not fixed.is_positive:
        raise BadInput(f"a fixed late fee must be a positive amount, not {text!r}")
    return LateFee(kind="fixed", fixed=fixed)
