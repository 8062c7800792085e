"""Words and number formats of the documents, in Spanish and English.

Every text is in the gettext catalogs `documents/locale/{es,en}/LC_MESSAGES/tratos.po`
(compiled to `.mo`; `make messages` extracts, updates and compiles them, ADR-23). Msgids
are stable keys such as `kind.contract`; `Formatter.t` fills a text's `{placeholders}` with
escaped values, so a client's name can never inject markup. Money, dates and percentages are
formatted with Babel for the document's language (`8.000,00 €` / `€8,000.00`, `15 de enero de
2026` / `15 January 2026`).
"""

from __future__ import annotations

import gettext
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from markupsafe import Markup

from domain.model.late_fees import STATUTORY_COMPENSATION_EUR, STATUTORY_MARGIN
from domain.model.texts import visible

if TYPE_CHECKING:
    from domain.model.money import Money
    from domain.model.values import LateFee

LANGUAGES = ("es", "en")
LOCALES = {"es": "es_ES", "en": "en_GB"}
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "tratos"


def N_(key: str) -> str:
    """Marks a key for extraction (`make messages`) where the key itself is chosen at run time."""
    return key


# Keys built from a value at run time (`'cstate.' ~ c.state` in a template, `kind.{kind}`), so
# extraction cannot see them: named here, and the catalogs test checks none is missing.
CHOSEN_AT_RUN_TIME = (
    N_("kind.terms"), N_("kind.contract"), N_("kind.change"), N_("kind.incident"),
    N_("kind.reminder"), N_("kind.closing"), N_("kind.dossier"),
    N_("sign.reason"),  # the PDF signature's reason (cli/pdf.py)
    N_("payment.bank transfer"),
    N_("state.prospect"), N_("state.drafted"), N_("state.active"), N_("state.ended"),
    N_("cstate.drafted"), N_("cstate.signed_by_us"), N_("cstate.signed_by_client"),
    N_("cstate.in_force"), N_("cstate.completed"), N_("cstate.superseded"),
    N_("chstate.requested"), N_("chstate.quoted"), N_("chstate.approved"),
    N_("chstate.rejected"), N_("chstate.withdrawn"),
    N_("change.state.requested"), N_("change.state.quoted"), N_("change.state.approved"),
    N_("change.state.rejected"), N_("change.state.withdrawn"),
    N_("mstate.reported"), N_("mstate.acknowledged"), N_("mstate.diagnosed"),
    N_("mstate.remedy_proposed"), N_("mstate.remedy_chosen"), N_("mstate.resolved"),
    N_("method.pades"), N_("method.email"), N_("method.ink"), N_("method.typed"),
    N_("fault.ours"), N_("fault.client"), N_("fault.shared"), N_("fault.misunderstanding"),
    N_("fault.unassigned"),
    N_("dossier.kept_ok"), N_("dossier.kept_missing"), N_("dossier.kept_altered"),
    N_("kind.invoice"), N_("kind.corrective"),  # documents/invoice_pdf.py
)


class _Missing(gettext.NullTranslations):
    def gettext(self, message: str) -> str:
        raise KeyError(f"{message!r} is not in the catalog")


@cache
def catalog(lang: str) -> gettext.GNUTranslations:
    """The compiled catalog of `lang`; a key it lacks is a KeyError, never the key printed."""
    translations = gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang])
    translations.add_fallback(_Missing())
    return translations


class Labels:
    """A language's texts by key, read from its catalog."""

    def __init__(self, lang: str) -> None:
        self._catalog = catalog(lang)

    def __getitem__(self, key: str) -> str:
        return self._catalog.gettext(key)

    def get(self, key: str, default: str) -> str:
        try:
            return self[key]
        except KeyError:
            return default


def check_language(lang: str) -> str:
    from domain.model.errors import BadInput

    if lang not in LANGUAGES:
        raise BadInput(f"documents are written in {' or '.join(LANGUAGES)}, not {lang!r}")
    return lang


def shown(value: Any) -> Any:
    """A value as a document prints it (ADR-73): a text on one line, every line break, tab, control,
    bidirectional control and invisible formatting character written as its escape (\\x0a,
    \\u202e), so a signer's or a client's name reads on paper as it is recorded, whatever an
    import brought in, and starts no line of its own. Markup is what tratos made of values already
    shown (a sentence, a label, a prose field: `projections.sentences.prose`); numbers and dates
    are not texts.

    The one door of every value into a document: the templates' `finalize` (documents/render.py)
    and `Formatter.t`'s placeholders."""
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return visible(value)
    return value


class Formatter:
    """Labels, money, dates and numbers in one language; its methods are the templates' filters."""

    def __init__(self, lang: str) -> None:
        self.lang = check_language(lang)
        self.locale = LOCALES[lang]
        self.labels = Labels(lang)

    def t(self, key: str, **values: Any) -> Markup:
        """The label `key`, its placeholders filled with escaped values, each shown as recorded
        (`shown`)."""
        if not values:
            return Markup(self.labels[key])
        return Markup(self.labels[key]).format(**{name: shown(value) for name, value in values.items()})

    def money(self, value: Money | None) -> str:
        return self.t("dash") if value is None else self.amount(value.amount, value.currency)

    def amount(self, amount: Decimal, currency: str) -> str:
        return format_currency(amount, currency, locale=self.locale)

    def date(self, value: date | None) -> str:
        """`15 de enero de 2026` / `15 January 2026`."""
        return self.t("dash") if value is None else format_date(value, "long", locale=self.locale)

    def short_date(self, value: date | None) -> str:
        """`15 ene 2026` / `15 Jan 2026`, for tables."""
        return self.t("dash") if value is None else format_date(value, "d MMM y", locale=self.locale)

    def moment(self, value: datetime | None) -> str:
        """A recorded time, in UTC and saying so."""
        if value is None:
            return self.t("dash")
        return format_datetime(value.astimezone(UTC), "d MMM y, HH:mm:ss", tzinfo=UTC,
                               locale=self.locale) + " UTC"

    def stamp(self, value: datetime) -> str:
        """A recorded time as an ISO 8601 stamp in UTC (`2026-03-31 10:15:00`), for the dossier's
        ledger of events, whose heading says UTC: the same in every language, and as wide."""
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")

    def number(self, value: Decimal | int | None) -> str:
        if value is None:
            return self.t("dash")
        return format_decimal(value, locale=self.locale)

    def percent(self, value: Decimal | None) -> str:
        """50 -> `50 %` / `50%` (percentages are stored as 50, not 0.5)."""
        if value is None:
            return self.t("dash")
        number = format_decimal(value, format="#,##0.##", locale=self.locale)
        return f"{number}\u00a0%" if self.lang == "es" else f"{number}%"

    def hours(self, value: Decimal | None) -> str:
        return self.t("dash") if value is None else self.t("hours", n=self.number(value))

    def days(self, value: int | None) -> str:
        if value is None:
            return self.t("dash")
        return self.t("one_day") if value == 1 else self.t("days", n=value)

    def size(self, value: int) -> str:
        """A file size in bytes, kB or MB."""
        if value < 1024:
            return f"{value} B"
        if value < 1024 * 1024:
            return f"{self.number(round(Decimal(value) / 1024, 1))} kB"
        return f"{self.number(round(Decimal(value) / (1024 * 1024), 1))} MB"

    def country(self, code: str) -> str:
        """`DE` -> `Alemania` / `Germany`; a code Babel does not know is printed as given."""
        from babel import Locale

        return Locale.parse(self.locale).territories.get(code.upper(), code) if code else ""

    def payment_method(self, method: str) -> str:
        """The contract's payment method; the default one is translated, anything typed is kept."""
        return self.labels.get(f"payment.{method}", method)

    def late_fee_rule(self, fee: LateFee, reference_rate: Decimal | None) -> str:
        """The late-fee clause of the terms, in words; statutory interest at the rate the terms
        fix, or (`reference_rate` None) at the ECB rate of the half-year the invoice falls due."""
        if fee.kind == "fixed" and fee.fixed is not None:
            return self.t("fee.fixed", amount=self.money(fee.fixed))
        if fee.kind == "percent" and fee.percent is not None:
            return self.t("fee.percent", percent=self.percent(fee.percent))
        if fee.kind == "statutory-eu" and reference_rate is None:
            return self.t(
                "fee.statutory_table", margin=self.number(STATUTORY_MARGIN),
                compensation=self.amount(STATUTORY_COMPENSATION_EUR, "EUR"))
        if fee.kind == "statutory-eu":
            return self.t(
                "fee.statutory",
                rate=self.percent(reference_rate), margin=self.number(STATUTORY_MARGIN),
                compensation=self.amount(STATUTORY_COMPENSATION_EUR, "EUR"))
        return self.t("fee.none")

    def filters(self) -> dict[str, Any]:
        return {
            "money": self.money, "date": self.date, "short_date": self.short_date,
            "moment": self.moment, "stamp": self.stamp, "number": self.number, "percent": self.percent,
            "hours": self.hours, "days": self.days, "size": self.size,
            "payment_method": self.payment_method, "amount": self.amount, "country": self.country,
        }
