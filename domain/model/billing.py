"""What an invoice or a corrective invoice states, decided from its lines, the client and the
freelancer's tax profile: the fields of `InvoiceIssued` and `InvoiceCorrected` (events.Billed).

The arithmetic is domain/model/taxes.py; here the lines get their VAT rates, the client its
taxation, and the issuer is checked to be complete enough to invoice (RD 1619/2012 art. 6).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

from domain.model.errors import BadInput, Refused
from domain.model.money import Money
from domain.model.tax_ids import (
    EU_COUNTRIES,
    eu_vat_number,
    foreign_tax_id,
    is_eu_vat_number,
    spanish_nif,
)
from domain.model.taxes import (
    DOMESTIC,
    EXEMPT,
    HOME_COUNTRY,
    UNTAXED,
    check_vat_rate,
    check_withholding,
    line_amount,
    taxation,
    totals,
)
from domain.model.values import (
    InvoiceLine,
    Issuer,
    Party,
    TaxProfile,
    VatTotal,
    as_recorded,
    check_text,
)

MAX_QUANTITY = 1_000_000


class Line(NamedTuple):
    """A line as asked for: its VAT rate None takes the invoice's default."""

    description: str
    quantity: Decimal
    unit_price: Money
    vat_rate: Decimal | None = None
    hours: tuple[int, ...] = ()


def check_lines(lines: list[Line]) -> list[Line]:
    """Lines asked for: each described, a quantity from 0 (excluded) to 1,000,000, one currency;
    checked before any amount is worked out from them."""
    for line in lines:
        check_text(line.description, "a line's description")
        if not line.quantity.is_finite() or not 0 < line.quantity <= MAX_QUANTITY:
            raise BadInput(f"a line's quantity must be more than 0 and at most {MAX_QUANTITY}, not {line.quantity}")
    if len({line.unit_price.currency for line in lines}) > 1:
        raise BadInput("all the lines of an invoice are in one currency")
    return lines


def check_client_tax_id(client: Party) -> Party:
    """A client's tax id, checked for its country: a Spanish NIF at home, a VAT number in the EU.

    Only for a client whose country was stated (what was recorded before countries is left as
    it was); outside the EU an id is kept compact (A-Z, 0-9), its format that country's business.
    """
    if not client.country or not client.tax_id:
        return client
    if client.country == HOME_COUNTRY:
        return client.model_copy(update={"tax_id": spanish_nif(client.tax_id, "the client's tax id")})
    if client.country in EU_COUNTRIES:
        return client.model_copy(update={"tax_id": eu_vat_number(client.tax_id, "the client's VAT number",
                                                                 client.country)})
    return client.model_copy(update={"tax_id": foreign_tax_id(client.tax_id, "the client's tax id")})


def check_issuer(profile: TaxProfile) -> Issuer:
    """Who issues the invoice must be named as the law asks: name, Spanish tax id, address."""
    issuer = profile.issuer
    if not issuer.address:
        raise BadInput("an invoice needs your address: set it with `tratos identity invoicing --address TEXT`")
    if not issuer.tax_id:
        raise BadInput("an invoice needs your tax id: set it with `tratos identity invoicing --tax-id NIF`")
    if (issuer.country or HOME_COUNTRY) != HOME_COUNTRY:
        raise BadInput(f"tratos invoices as a freelancer established in Spain, not in {issuer.country}")
    return issuer.model_copy(update={"tax_id": spanish_nif(issuer.tax_id, "your tax id"),
                                     "country": HOME_COUNTRY})


def billed(asked: list[Line], *, profile: TaxProfile | None, client: Party | None,
           vat_rate: Decimal | None = None, withholding: Decimal | None = None, exemption: str = "",
           fixed_taxation: str | None = None) -> dict[str, Any]:
    """The `Billed` fields of an invoice of `lines` (rates not yet set take `vat_rate`, else the
    profile's). `fixed_taxation` is the corrected invoice's: a correction is taxed as it was.
    Lines typed by the user have passed `check_lines` (one currency among them)."""
    if not asked:
        raise BadInput("an invoice needs at least one line")
    currency = asked[0].unit_price.currency
    if fixed_taxation == UNTAXED:  # a correction of an invoice recorded before taxes stays untaxed
        return _untaxed([_line(line, Decimal(0)) for line in asked], currency)
    if profile is None:
        if not as_recorded():
            raise Refused("invoicing needs your tax profile: run `tratos identity invoicing --address TEXT"
                          " --tax-id NIF` first")
        return _untaxed([_line(line, Decimal(0)) for line in asked], currency)  # recorded before taxes
    issuer = check_issuer(profile)
    client = client or Party(name="?")
    exemption = check_text(exemption, "exemption", required=False, limit=200)
    vat_number = bool(client.tax_id) and client.country in EU_COUNTRIES - {HOME_COUNTRY} \
        and is_eu_vat_number(client.tax_id)
    how = fixed_taxation or taxation(client.country, vat_number, exempt=bool(exemption))
    if how == EXEMPT and not exemption:
        raise BadInput("an exempt invoice names the article that exempts it (--exempt \"art. 20.Uno.9º LIVA\")")
    if exemption and how != EXEMPT:
        raise BadInput(f"this client is taxed as {how.replace('-', ' ')}: an exemption does not apply")
    # The profile's rate is for invoices taxed at home; one asked for is checked whatever the taxation.
    default_rate = vat_rate if vat_rate is not None else profile.vat_rate if how == DOMESTIC else Decimal(0)
    lines = [_line(line, check_vat_rate(line.vat_rate if line.vat_rate is not None else default_rate, how))
             for line in asked]
    is_business = bool(client.tax_id) and (client.country or HOME_COUNTRY) == HOME_COUNTRY
    if withholding is None:
        withholding = profile.withholding if how in (DOMESTIC, EXEMPT) and is_business else Decimal(0)
    withholding = check_withholding(withholding, how, is_business)
    added = totals(((line.quantity, line.unit_price.amount, line.vat_rate) for line in lines), withholding, currency)

    def money(amount: Decimal) -> Money:
        return Money(amount=amount, currency=currency)

    return {
        "lines": lines, "taxation": how, "exemption": exemption,
        "taxes": [VatTotal(rate=t.rate, base=money(t.base), vat=money(t.vat)) for t in added.taxes],
        "withholding_rate": withholding, "withholding": money(added.withholding),
        "total": money(added.total), "amount": money(added.payable),
        "issuer": issuer, "recipient": client,
    }


# The agency's amounts (ImporteTotal, BaseImponible, CuotaRepercutida: 12 digits before the point).
RECORD_AMOUNT_LIMIT = Decimal("1000000000000")


def check_new_invoice(fields: dict[str, Any], corrected: Any = None, also: list[Decimal] = ()) -> None:
    """What a new invoice or corrective invoice (the `billed` fields; `corrected`, the invoice a
    correction corrects) must be that a recorded one was not always held to (ADR-79, ADR-80):
    issued to someone else, by whoever issued the invoice it corrects, in amounts a billing record
    can state (`also`: the corrected invoice's total and payable as corrected, ADR-83). Import
    re-decides what was accepted before without it."""
    issuer, recipient = fields.get("issuer"), fields.get("recipient")
    if corrected is not None and corrected.issuer is not None and issuer is not None \
            and not _same_tax_id(corrected.issuer.tax_id, issuer.tax_id):
        raise Refused(f"{corrected.invoice_number} was issued as {corrected.issuer.tax_id}, and your tax id is now"
                      f" {issuer.tax_id}: a corrective invoice is issued by whoever issued the invoice it corrects;"
                      " nothing was recorded")
    if corrected is None and issuer is not None and recipient is not None \
            and _same_tax_id(issuer.tax_id, recipient.tax_id):
        raise Refused(f"the client's tax id is your own ({issuer.tax_id}): an invoice is issued to someone else;"
                      " correct it with `tratos client update`")
    from domain.model.texts import noncharacter_in

    found = noncharacter_in(fields)
    if found is not None:  # recorded before ADR-84 refused them (an import): no invoice's XML holds one
        raise Refused(f"the invoice would carry U+{ord(found):04X}, a noncharacter no invoice can hold, from the"
                      " client's details or your own as recorded before tratos refused it: correct them"
                      " (`tratos client update`, `tratos identity invoicing`); nothing was recorded")
    currency = fields["total"].currency
    amounts = [fields["total"], fields["amount"], *(t.base for t in fields["taxes"]), *(t.vat for t in fields["taxes"]),
               *(Money(amount=amount, currency=currency) for amount in also)]
    if any(abs(money.amount) >= RECORD_AMOUNT_LIMIT for money in amounts):
        raise BadInput(f"an invoice's amounts stay under {RECORD_AMOUNT_LIMIT:,} (twelve digits, as a billing"
                       f" record states them), not {max(amounts, key=lambda m: abs(m.amount))}")


def _same_tax_id(yours: str, theirs: str) -> bool:
    """Whether the client's tax id is the issuer's NIF, written with or without the ES of a VAT number."""
    def bare(tax_id: str) -> str:
        text = "".join(c for c in tax_id.upper() if c.isalnum())
        return text[2:] if text.startswith("ES") else text

    return bool(theirs) and bare(yours) == bare(theirs)


def _line(asked: Line, rate: Decimal) -> InvoiceLine:
    """The line as recorded; its description follows the text policy here, where it is decided, not in
    the value (a v1 invoice's concept with a tab, which 0.1 accepted, must still load)."""
    return InvoiceLine(description=check_text(asked.description, "line description", required=False, limit=300), quantity=asked.quantity, unit_price=asked.unit_price,
                       vat_rate=rate, hours=list(asked.hours))


def _untaxed(lines: list[InvoiceLine], currency: str) -> dict[str, Any]:
    """What InvoiceIssued v1 reads as (its upcast): one line, no tax, payable = the amount."""
    amount = Money(amount=sum((line_amount(x.quantity, x.unit_price.amount, currency) for x in lines),
                              Decimal(0)), currency=currency)
    zero = Money(amount=Decimal(0), currency=currency)
    return {
        "lines": lines, "taxation": UNTAXED, "exemption": "",
        "taxes": [VatTotal(rate=Decimal(0), base=amount, vat=zero)],
        "withholding_rate": Decimal(0), "withholding": zero, "total": amount, "amount": amount,
        "issuer": None, "recipient": None,
    }


def base_of(fields: dict[str, Any]) -> Decimal:
    return sum((t.base.amount for t in fields["taxes"]), Decimal(0))
