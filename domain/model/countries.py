"""ISO 3166-1 alpha-2 country codes, checked where a party's country is given: the country
decides how an invoice is taxed, so a code that names no country must not reach one."""

from __future__ import annotations

from domain.model.errors import BadInput

COUNTRIES = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
VN VU WF WS YE YT ZA ZM ZW
""".split())
# What people write for a country whose ISO code is another.
SAID_OTHERWISE = {"UK": "GB", "EL": "GR"}


def check_country(value: str) -> str:
    """`value` as an ISO 3166-1 alpha-2 code (upper case); "" stays "" (recorded before countries)."""
    code = (value or "").strip(" ").upper()
    if not code:
        return code
    if code in SAID_OTHERWISE:
        raise BadInput(f"{code!r} is not an ISO country code: did you mean {SAID_OTHERWISE[code]}?")
    if code not in COUNTRIES:
        raise BadInput(f"not a country code: {value!r} (use the two letters of ISO 3166, such as ES, DE or US)")
    return code
