"""The freelancer's tax profiles the tests invoice with.

`UNTAXED_PROFILE` bills at 0 % VAT with no withholding, so the stories written before taxes
(4000 EUR installments, 4000 EUR payments) keep their amounts; `SPANISH_PROFILE` is a
professional in Spain at 21 % VAT with 15 % IRPF withholding, for the tax tests.
"""

from __future__ import annotations

from decimal import Decimal

from domain.model.values import Issuer, TaxProfile

ISSUER = Issuer(name="Ana García", email="ana@example.com", tax_id="12345678Z",
                address="Calle Mayor 1, 28013 Madrid", country="ES", iban="ES9121000418450200051332")
UNTAXED_PROFILE = TaxProfile(issuer=ISSUER, vat_rate=Decimal(0))
SPANISH_PROFILE = TaxProfile(issuer=ISSUER, vat_rate=Decimal(21), withholding=Decimal(15))
