"""ISO 4217 currencies and their minor units: plain Decimals, no pydantic.

`Money` (domain/model/money.py) is built on these; the read models use them directly, so that
`tratos status` formats and computes amounts without building the domain's models.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from domain.model.errors import BadInput

# Active ISO 4217 codes; the minor unit is 2 unless listed below.
_CODES = """
AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN
BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP
ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR
ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA
MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK
PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC
SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND
VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
""".split()
_MINOR_UNITS = {
    **{c: 0 for c in "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split()},
    **{c: 3 for c in "BHD IQD JOD KWD LYD OMR TND".split()},
    **{c: 4 for c in "CLF UYW".split()},
}
CURRENCIES = frozenset(_CODES)
MAX_AMOUNT = Decimal(10) ** 18


def minor_units(currency: str) -> int:
    """How many decimals the currency has (2 for EUR, 0 for JPY)."""
    return _MINOR_UNITS.get(currency, 2)


def check_currency(code: str) -> str:
    code = code.strip(" ").upper()  # spaces forgiven; a newline or tab is not part of a code
    if code not in CURRENCIES:
        raise BadInput(f"unknown currency {code!r}: use an ISO 4217 code such as EUR or USD")
    return code


def to_minor_units(amount: Decimal, currency: str) -> Decimal:
    """`amount` rounded half-up to the currency's minor unit (cents for EUR)."""
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)
