"""Generate a store holding one issuer's chain of N Verifactu billing records, for the export benchmark.

    .venv/bin/python tests/benchmarks/generate_records.py --records 100000 --home .bench/records

Records only (the export reads the records' stream alone, never the invoices): each registered by
the domain's `BillingRecords.register` (fingerprint and chaining computed), one second apart from
2026-01-15T08:00:00+01:00 (the invoices' day: a record is not made before its invoice, ADR-66),
saved in transactions of 1,000. Prints one JSON line: records, seconds.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path


def generate(app, records: int, batch: int = 1000) -> None:
    from domain.model.billing_records import BillingRecords
    from domain.model.fingerprints import record_amount, record_time
    from domain.model.record_values import RecordRecipient, SoftwareSystem, TaxDetail

    nif, name = "12345678Z", "Ana García"
    system = SoftwareSystem(producer_name=name, producer_nif=nif, version="bench", installation=f"{nif}-1")
    chain = BillingRecords.of(nif)
    start = datetime(2026, 1, 15, 8, 0, 0, tzinfo=timezone(timedelta(hours=1)))
    for n in range(1, records + 1):
        base = Decimal(100 + n % 900)
        vat = (base * Decimal("0.21")).quantize(Decimal("0.01"))
        chain.register(issuer_nif=nif, issuer_name=name, invoice_number=f"F-2026-{n:06d}", issued_on="15-01-2026",
                       invoice_type="F1", description=f"Services, month {n % 12 + 1}",
                       breakdown=[TaxDetail(qualification="S1", rate="21.00", base=record_amount(base),
                                            vat=record_amount(vat))],
                       tax_total=record_amount(vat), total=record_amount(base + vat),
                       recipient=RecordRecipient(name=f"Client {n % 10000:05d} SL", nif="B12345674"),
                       generated_at=record_time(start + timedelta(seconds=n)), system=system,
                       mode="verifactu", occurred_on=date(2026, 1, 15))
        if n % batch == 0 or n == records:
            app.save(chain)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, required=True)
    parser.add_argument("--home", type=Path, required=True)
    args = parser.parse_args()
    from domain.services.application import Tratos

    args.home.mkdir(parents=True, exist_ok=True)
    app = Tratos(home=args.home, env={"TRATOS_DATABASE_URL": ""})
    started = time.perf_counter()
    try:
        generate(app, args.records)
    finally:
        app.close()
    print(json.dumps({"records": args.records, "seconds": round(time.perf_counter() - started, 2)}))


if __name__ == "__main__":
    main()
