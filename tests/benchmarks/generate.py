"""Generate a benchmark store through the Application: N events over C clients, saves in batches.

    .venv/bin/python tests/benchmarks/generate.py --events 1000000 --clients 10000 --home .bench/x
    .venv/bin/python tests/benchmarks/generate.py --events 100 --clients 1 --database-url postgresql://...

Every client lives the same year (2026): opened, terms, a 12-installment contract signed by
both sides, a monthly invoice (numbered by the one business-wide series F-2026, as in real
use) paid the next month, one late payment with a reminder, one change (requested, quoted,
approved), one mistake (reported to lesson), and hours and notes filling up to its share of
events. Its share counts the series' InvoiceNumberAssigned events, so the store holds
exactly `--events` events (when it divides by `--clients`; at least 52 a client), except that
`--events` equal to `--clients` opens the clients and records nothing else. Client 0 is
`acme`, the others `c00001`...; `--long 0:2000` gives one client its own length instead.

Commands decide on the aggregates (the domain's rules all run); months are generated in
order across all clients, so invoice dates follow their numbers; each batch of clients is
saved with `app.save(*relationships, series)`: one transaction per batch and month.
Then the read models and stream heads are caught up, as a store in use has them.

Prints one JSON line: events, clients, seconds, events_per_second, catch_up_seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

FIRST_HANDLE = "acme"
YEAR = 2026
MONTHS = 12
# Events of a client's year besides hours and notes: opening, terms, contract, 2 signatures,
# 12 invoices, 11 payments (December's is open), late + reminder, change (3), mistake (7);
# plus the 12 numbers the series assigns.
FIXED_EVENTS = 5 + MONTHS + MONTHS - 1 + 2 + 3 + 7
SERIES_EVENTS = MONTHS
MIN_EVENTS = FIXED_EVENTS + SERIES_EVENTS


def handle_of(n: int) -> str:
    return FIRST_HANDLE if n == 0 else f"c{n:05d}"


class Story:
    """One client's year, month by month (month 0 is the opening), on a Relationship aggregate."""

    def __init__(self, n: int, events: int, actor: str, opened_only: bool = False) -> None:
        self.n = n
        self.opened_only = opened_only
        self.handle = handle_of(n)
        self.actor = actor
        self.fillers = max(events - FIXED_EVENTS - SERIES_EVENTS, 0)
        self.relationship = None
        self.numbers: dict[int, str] = {}

    def fill(self, month: int) -> int:
        """How many hours/notes month `month` (1-12) gets: the fillers spread evenly."""
        base, extra = divmod(self.fillers, MONTHS)
        return base + (1 if month <= extra else 0)

    def month(self, m: int, series) -> None:  # noqa: C901 - a script of one year
        from domain.model.money import Money
        from domain.model.relationship import Relationship
        from domain.model.values import Installment, LateFee, Party, Scope, Terms, stream_id

        a = self.actor
        eur = lambda amount: Money.of(amount, "EUR")  # noqa: E731
        if m == 0:
            self.relationship = r = Relationship.open(
                stream_id(self.handle), self.handle,
                Party(name=f"Client {self.n} SL", email=f"admin@client{self.n}.example",
                      tax_id=f"B{self.n:08d}", address=f"Calle {self.n % 97 + 1}, Madrid"),
                date(YEAR, 1, 5), a)
            if self.opened_only:
                return
            r.publish_terms(Terms(rate=eur(60), weekly_hours=Decimal(30), payment_days=30,
                                  late_fee=LateFee(kind="statutory-eu"), reference_rate=Decimal("2.15"),
                                  confidentiality="Confidential for 5 years."), date(YEAR, 1, 5), a)
            r.draft_contract(
                title="Retainer 2026",
                scope=Scope(description="Monthly design and development retainer.",
                            deliverables=["Monthly release", "Support"]),
                price=eur(12000), hours_budget=Decimal(400), start=date(YEAR, 1, 15),
                end=date(YEAR, 12, 31),
                installments=[Installment(n=i, amount=eur(1000), due=date(YEAR, i, 15)) for i in range(1, 13)],
                our_duties=["Weekly preview"], client_duties=["Feedback within 3 days"],
                on=date(YEAR, 1, 8), actor=a)
            r.sign_contract(party="us", signer="Ana", method="typed", on=date(YEAR, 1, 12), actor=a)
            r.sign_contract(party="client", signer=f"Client {self.n}", method="typed", on=date(YEAR, 1, 13),
                            actor=a)
            return
        r = self.relationship
        if m == 9:  # July's invoice, late since August, is paid in September
            r.record_payment(self.numbers[7], eur(1000), on=date(YEAR, 9, 10), actor=a)
        if m > 1 and m != 8:  # last month's invoice is paid on the 10th
            r.record_payment(self.numbers[m - 1], eur(1000), on=date(YEAR, m, 10), actor=a)
        invoice_day = date(YEAR, m, 15)
        number = series.assign("F", self.handle, invoice_day, a)
        r.issue_invoice(number, on=invoice_day, installment=m, actor=a, profile=UNTAXED_PROFILE)
        self.numbers[m] = number
        if m == 3:
            r.request_change("Add a newsletter template", requested_by="client", on=date(YEAR, 3, 16), actor=a)
            r.quote_change("C1", price=eur(600), hours=Decimal(10), days=5, on=date(YEAR, 3, 17), actor=a)
            r.approve_change("C1", on=date(YEAR, 3, 18), actor=a)
        if m == 5:
            r.report_mistake("The contact form wrote to an old address.", reported_by="client",
                             on=date(YEAR, 5, 16), actor=a)
            r.acknowledge_mistake("M1", apology="Sorry, fixing it today.", on=date(YEAR, 5, 16), actor=a)
            r.diagnose_mistake("M1", fault="ours", cause="Staging configuration copied.",
                               category="configuration", on=date(YEAR, 5, 17), actor=a)
            r.propose_remedy("M1", "Fix it and forward the lost messages", cost=eur(0), hours=Decimal(2),
                             on=date(YEAR, 5, 17), actor=a)
            r.choose_remedy("M1", "O1", agreed=True, on=date(YEAR, 5, 18), actor=a)
            r.resolve_mistake("M1", on=date(YEAR, 5, 19), actor=a)
            r.record_lesson("M1", "Check the recipients after every deploy.", on=date(YEAR, 5, 20), actor=a)
        if m == 8:  # July's invoice (due 14 August) is late
            r.mark_late(self.numbers[7], on=date(YEAR, 8, 20), actor=a)
            r.send_reminder(self.numbers[7], on=date(YEAR, 8, 21), actor=a)  # the fee its terms claim
        for i in range(self.fill(m)):
            day = date(YEAR, m, 22 + i % 6)
            if i % 2:
                r.record_note(f"Call {i} with client {self.n} about the {m}/{YEAR} release", on=day, actor=a)
            else:
                r.log_hours(Decimal("2.5"), note=f"Release {m} work item {i}", on=day, actor=a)
        r.warnings.clear()


def generate(app, *, events: int, clients: int, batch: int = 250, long: dict[int, int] | None = None,
             actor: str = "Ana", progress=None) -> int:
    """Record the stores' events through `app`; returns how many were recorded."""
    from domain.model.invoices import InvoiceSeries, series_id

    long = long or {}
    opened_only = events == clients  # one event per client: the clients are opened, nothing more
    stories = [Story(n, long.get(n, max(events // clients, MIN_EVENTS)), actor, opened_only)
               for n in range(clients)]
    series = InvoiceSeries(series_id("F", YEAR))
    recorded = 0
    for m in range(1 if opened_only else MONTHS + 1):
        for start in range(0, clients, batch):
            group = stories[start:start + batch]
            for story in group:
                story.month(m, series)
            pending = sum(len(s.relationship._pending) for s in group) + len(series._pending)
            app.save(*(s.relationship for s in group), series)
            recorded += pending
            if progress is not None:
                progress(recorded)
    return recorded


def secrets(clients: int) -> list[bytes]:
    """20 things a store of `clients` clients (4 or more, 76 events or more each) says that its
    encrypted events hide: names, addresses, texts and amounts, as a search of its files would
    find them in a plain store (tests/benchmarks/encrypted.py, tests/integrity/test_encryption.py)."""
    last, middle = clients - 1, clients // 2
    found = [f"Client {n} SL" for n in (1, middle, last)]
    found += [f"admin@client{n}.example" for n in (1, last)]
    found += [f"B{middle:08d}", f"Calle {1 % 97 + 1}, Madrid"]
    found += ["Retainer 2026", "Monthly design and development retainer.", "Add a newsletter template",
              "The contact form wrote to an old address.", "Staging configuration copied.",
              "Sorry, fixing it today.", "Check the recipients after every deploy.",
              "with client 1 about the", "Release 3 work item", "Confidential for 5 years.",
              "12000.00", "1000.00", "600.00"]
    return [text.encode() for text in found]


def catch_up(app) -> None:
    from projections import ReadModels
    from projections.heads import StreamHeads

    models = ReadModels(app)
    try:
        models.catch_up()
    finally:
        models.close()
    heads = StreamHeads(app)
    try:
        heads.catch_up()
    finally:
        heads.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--home", required=True, help="store folder (SQLite file, evidence)")
    parser.add_argument("--database-url", default="", help="PostgreSQL instead of SQLite")
    parser.add_argument("--long", action="append", default=[], metavar="N:EVENTS",
                        help="give client N (0 is acme) its own number of events")
    parser.add_argument("--batch", type=int, default=250, help="clients saved per transaction")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: tax_profile
    global UNTAXED_PROFILE
    from tax_profile import UNTAXED_PROFILE

    from domain.services.application import Tratos

    home = Path(args.home)
    home.mkdir(parents=True, exist_ok=True)
    long = {int(n): int(e) for n, e in (item.split(":") for item in args.long)}
    app = Tratos(profile=UNTAXED_PROFILE, home=home, actor="Ana", database_url=args.database_url or None,
                 env=None if args.database_url else {"TRATOS_DATABASE_URL": ""})
    try:
        started = time.perf_counter()
        tty = os.isatty(2)

        def progress(done: int) -> None:
            if tty:
                rate = done / max(time.perf_counter() - started, 1e-9)
                print(f"\r  {done:,} events, {rate:,.0f}/s", end="", file=sys.stderr, flush=True)

        count = generate(app, events=args.events, clients=args.clients, batch=args.batch, long=long,
                         progress=progress)
        seconds = time.perf_counter() - started
        if tty:
            print(file=sys.stderr)
        started = time.perf_counter()
        catch_up(app)
        catch_up_seconds = time.perf_counter() - started
    finally:
        app.close()
    print(json.dumps({"events": count, "clients": args.clients, "seconds": round(seconds, 3),
                      "events_per_second": round(count / seconds), "catch_up_seconds": round(catch_up_seconds, 3)}))


if __name__ == "__main__":
    main()
