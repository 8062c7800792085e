"""The benchmark harness: stores (cached or fresh), timed processes, figures, the table and results.json.

Every figure is a ratio of two times (or rates, or peak RSS) measured in the same run, so
the load of a shared machine cancels out as far as it can: the command-line timings are
taken in interleaved rounds (each round runs the baseline and every command once), and
the reported value is the ratio of medians. docs/performance.md says what each figure means.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from generate import SERIES_EVENTS, YEAR, catch_up
from tax_profile import UNTAXED_PROFILE

ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = ROOT / ".bench"
HERE = Path(__file__).resolve().parent
GENERATOR = HERE / "generate.py"
RECORDS_GENERATOR = HERE / "generate_records.py"
PDF_TIMING = HERE / "pdf_timing.py"
PYTHON = sys.executable
TRATOS = str(Path(sys.executable).with_name("tratos"))
TIME = "/usr/bin/time"
BASELINE_IMPORT = "import eventsourcing.application, eventsourcing.sqlite, click; from pydantic import BaseModel"
# On PostgreSQL the libraries a command imports are eventsourcing.postgres (psycopg, its pool)
# instead of eventsourcing.sqlite; importing them alone costs twice the SQLite baseline.
BASELINES = {"sqlite": BASELINE_IMPORT,
             "postgres": BASELINE_IMPORT.replace("eventsourcing.sqlite", "eventsourcing.postgres")}
# The same imports, then the least a program that validates with pydantic does: one model class
# with a Decimal field, and one validation. Reported next to figure 1 (docs/decisions.md).
PYDANTIC_FLOOR = "\nfrom decimal import Decimal\nclass M(BaseModel):\n    a: Decimal\nM(a='1.5')"
TODAY = "2027-01-20"  # the stores hold 2026; status computes overdue for this day
ON = "2026-12-20"  # notes and invoices are dated inside the stores' year (invoice series F-2026)
PASSPHRASE = "bench-passphrase"
# Bump when generate.py writes different stores: cached stores of another version are not reused.
GENERATOR_VERSION = 2  # 2: the reminder claims the fee its terms allow (ADR-39)
WORK_DATABASE = "tratos_bench_work"


@dataclass(frozen=True)
class Config:
    name: str
    big_events: int
    big_clients: int
    prefix_events: int  # peak RSS is compared with the same log when it held this many events
    small_events: int = 100
    runs: int = 15
    warmup: int = 2
    long_events: int = 2000  # a long relationship: note (figure 2'), and the dossier's events
    pdf_runs: int = 5
    dossier_runs: int = 3  # the dossier against a plain table, in turns (some 10 s each)
    dossier_small_events: int = 200  # the dossier whose peak RSS the long one's is compared with
    cache: bool = True
    postgres_events: int | None = None  # None: the same as big_events
    postgres_clients: int | None = None
    records: int = 100_000  # verifactu export: the big chain of billing records...
    records_prefix: int = 10_000  # ...and the small one its peak RSS is compared with
    encrypted_events: int = 50_000  # figures 7: an encrypted store against the same one plain...
    encrypted_clients: int = 500
    encrypted_big: tuple[int, int] | None = None  # ...and its scale: (events, clients); None: the big store's


FULL = Config("full", 1_000_000, 10_000, 10_000)
SMOKE = Config("smoke", 10_000, 100, 1_000, runs=1, warmup=0, long_events=60, pdf_runs=1, cache=False,
               records=2_000, records_prefix=1_000, encrypted_events=400, encrypted_clients=4,
               encrypted_big=(1_000, 10), dossier_runs=1, dossier_small_events=40)


# ---------------------------------------------------------------- figures


@dataclass
class Figure:
    key: str
    backend: str
    label: str
    value: float | None
    target: tuple[str, float] | None = None  # ("<=", 1.5); None: reported, no target
    detail: str = ""
    unit: str = "x"

    @property
    def passed(self) -> bool | None:
        if self.target is None or self.value is None:
            return None
        op, limit = self.target
        return self.value <= limit if op == "<=" else self.value >= limit

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "backend": self.backend, "figure": self.label, "measured": self.value,
                "unit": self.unit, "target": f"{self.target[0]} {self.target[1]}" if self.target else None,
                "pass": self.passed, "detail": self.detail}


def fmt_value(figure: Figure) -> str:
    if figure.value is None:
        return "-"
    if figure.unit == "x":
        return f"{figure.value:.2f}"
    if figure.unit == "events/s":
        return f"{figure.value:,.0f}/s"
    if figure.unit == "s":
        return f"{figure.value:.2f} s"
    return f"{figure.value:g} {figure.unit}"


def table(figures: list[Figure]) -> str:
    rows = [("figure", "backend", "measured", "target", "result", "detail")]
    for f in figures:
        result = {True: "pass", False: "FAIL", None: "-" if f.value is not None else "skipped"}[f.passed]
        target = f"{f.target[0]} {f.target[1]:g}" if f.target else ""
        rows.append((f.label, f.backend, fmt_value(f), target, result, f.detail))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:5], widths, strict=False)) + "  " + r[5] for r in rows]
    lines.insert(1, "-" * (sum(widths) + 10))
    return "\n".join(line.rstrip() for line in lines)


# ---------------------------------------------------------------- processes


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu: float
    rss_kb: int
    output: str


def run(argv: list[str], env: dict[str, str], *, check: bool = True, rss: bool = False) -> Run:
    """Run a whole process, output piped: its wall time and CPU time (its children's included),
    and with `rss` its peak RSS.

    The peak RSS is measured by /usr/bin/time, which forks the command itself: Linux keeps a
    process's high-water mark across exec, so a direct child of this (large) pytest process
    would report at least this process's RSS. A command that starts processes of its own (a
    rebuild's helper) holds their memory too, which /usr/bin/time does not add up (it reports
    the largest one): the RSS of the whole tree is also sampled while it runs, and the larger
    of the two peaks counts.
    """
    rss_file = None
    if rss:
        rss_file = BENCH_DIR / f"rss-{os.getpid()}.txt"
        argv = [TIME, "-o", str(rss_file), "-f", "%M", *argv]
    started = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    sampled = _TreeSampler(process.pid) if rss else None
    output = process.stdout.read()
    if sampled is not None:
        sampled.stop()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.stdout.close()
    process.returncode = code = os.waitstatus_to_exitcode(status)
    text = output.decode("utf-8", "replace")
    if check and code != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {code}:\n{text[-2000:]}")
    peak = 0
    if rss_file is not None:
        peak = int(rss_file.read_text().split()[-1])
        rss_file.unlink()
    if sampled is not None:
        peak = max(peak, sampled.peak_kb)
    return Run(seconds, usage.ru_utime + usage.ru_stime, peak, text)


class _TreeSampler:
    """Every 20 ms, the RSS of a process's descendants summed (Linux /proc); `peak_kb` the most."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kb = pid, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._done.wait(0.02):
            self.peak_kb = max(self.peak_kb, sum(_rss_kb(pid) for pid in _descendants(self.pid)))


def _descendants(pid: int) -> list[int]:
    """The processes started by `pid`'s main thread, and theirs (tratos starts its helper there)."""
    found, pending = [], [pid]
    while pending:
        parent = pending.pop()
        with suppress(OSError):
            children = [int(child) for child in Path(f"/proc/{parent}/task/{parent}/children").read_text().split()]
            found += children
            pending += children
    return found


def _rss_kb(pid: int) -> int:
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("TRATOS_DATABASE_URL", "TRATOS_HOME", "TRATOS_ENCRYPTION_KEY", "TRATOS_DEBUG")}
    env.update(TRATOS_TODAY=TODAY, TRATOS_KEY_PASSPHRASE=PASSPHRASE)
    return env


def keyed_env(key: str) -> dict[str, str]:
    """`clean_env()`, with TRATOS_ENCRYPTION_KEY set to `key` if there is one."""
    env = clean_env()
    if key:
        env["TRATOS_ENCRYPTION_KEY"] = key
    return env


# ---------------------------------------------------------------- stores


@dataclass
class Store:
    name: str
    backend: str
    home: Path
    url: str | None = None
    events: int = 0
    generation: dict[str, Any] = field(default_factory=dict)
    clients: int = 0
    key: str = ""  # TRATOS_ENCRYPTION_KEY of an encrypted store (ENCRYPTED_KEY), else none

    def env(self) -> dict[str, str]:
        env = keyed_env(self.key)
        env["TRATOS_HOME"] = str(self.home)
        if self.url:
            env["TRATOS_DATABASE_URL"] = self.url
        return env

    def open(self) -> Any:
        from domain.adapters.encryption import KEY_ENV
        from domain.services.application import Tratos

        env = {} if self.url else {"TRATOS_DATABASE_URL": ""}
        if self.key:
            env[KEY_ENV] = self.key
        return Tratos(profile=UNTAXED_PROFILE, home=self.home, database_url=self.url, env=env or None)

    def tratos(self, *args: str, check: bool = True, rss: bool = False) -> Run:
        if args[:1] != ("init",):
            self.invoicing_identity()
        return run([TRATOS, *args], self.env(), check=check, rss=rss)

    def invoicing_identity(self) -> None:
        """identity.json with what invoices need (tax id, address): `invoice issue` refuses to
        invoice without it. Written once, as `tratos identity invoicing` would (ADR-34)."""
        path = self.home / "identity.json"
        if path.exists():
            return
        self.home.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({
            "name": "Ana García", "email": "ana@example.com", "tax_id": "12345678Z",
            "address": "Calle Mayor 1, 28013 Madrid", "country": "ES", "currency": "EUR", "lang": "en",
            "vat_rate": "21", "withholding": "15"}), encoding="utf-8")


def schema_key() -> str:
    """Names the cached stores: the generator's version, the read models' schema, the events' schemas."""
    from domain.model import events as ev
    from projections.schema import SCHEMA_VERSION

    parts = sorted(f"{name}:{cls.class_version}:{','.join(sorted(cls.model_fields))}"
                   for name, cls in vars(ev).items()
                   if isinstance(cls, type) and issubclass(cls, ev.DomainEvent))
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:10]
    return f"g{GENERATOR_VERSION}-rm{SCHEMA_VERSION}-ev{digest}"


def generate(store: Store, events: int, clients: int, long: dict[int, int] | None = None) -> dict[str, Any]:
    argv = [PYTHON, str(GENERATOR), "--events", str(events), "--clients", str(clients),
            "--home", str(store.home)]
    if store.url:
        argv += ["--database-url", store.url]
    for n, count in (long or {}).items():
        argv += ["--long", f"{n}:{count}"]
    result = run(argv, keyed_env(store.key))
    report = json.loads(result.output.strip().splitlines()[-1])
    store.events, store.clients = report["events"], report["clients"]
    store.generation = {**report, "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
                        "cached": False}
    return report


def copy_prefix(source: Store, target: Store, events: int) -> None:
    """`target` gets the first `events` records of `source`'s log, as they are stored (chains,
    digests and all), and its read models caught up: the big store as it was when it held that
    many events. A save's invoices and the series' numbers for them are one transaction: the cut
    goes on to its end (every number issued is assigned, and the reverse), as the audit asks."""
    from eventsourcing.persistence import StoredEvent

    from domain.model.chain import event_type
    from domain.model.invoices import series_id

    reader, writer = source.open(), target.open()
    try:
        position, copied, streams, unpaired = 0, 0, set(), set()
        while copied < events or unpaired:
            page = reader.recorder.select_notifications(start=position, limit=max(1, min(1000, events - copied)),
                                                        inclusive_of_start=False)
            if not page:
                break
            writer.recorder.insert_events([StoredEvent(n.originator_id, n.originator_version, n.topic, n.state)
                                           for n in page])
            for n in page:
                if event_type(n.topic) in ("InvoiceIssued", "InvoiceNumberAssigned"):
                    unpaired ^= {reader.mapper.to_domain_event(n).invoice_number}
            streams.update(n.originator_id for n in page)
            copied += len(page)
            position = page[-1].id
        catch_up(writer)
    finally:
        reader.close()
        writer.close()
    target.events = copied
    target.clients = len(streams - {series_id("F", YEAR)})  # the invoice series is a stream too
    target.generation = {"events": copied, "prefix_of": source.name}


def _fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def _tag(key: str) -> str:
    """Names a cached store: encrypted ones (always with ENCRYPTED_KEY) apart from plain ones."""
    return "enc-" if key else ""


class SQLitePlace:
    """Stores under .bench/: fresh ones in work/, the big ones cached in <schema key>/ and copied."""

    backend = "sqlite"

    def __init__(self, config: Config, part: str = "") -> None:
        self.config = config
        self.work = _fresh_dir(BENCH_DIR / "work" / config.name / (f"sqlite-{part}" if part else "sqlite"))
        self.generated: set[str] = set()  # the cached stores generated by this run

    def fresh(self, name: str, events: int, clients: int, long: dict[int, int] | None = None,
              key: str = "") -> Store:
        store = Store(name, "sqlite", _fresh_dir(self.work / name), key=key)
        generate(store, events, clients, long)
        return store

    def prefix(self, big: Store, events: int) -> Store:
        store = Store("prefix", "sqlite", _fresh_dir(self.work / "prefix"))
        copy_prefix(big, store, events)
        return store

    def _cached(self, events: int, clients: int, key: str = "") -> Path:
        return BENCH_DIR / schema_key() / f"sqlite-{_tag(key)}{events}x{clients}"

    def ensure_cached(self, events: int, clients: int, key: str = "") -> bool:
        """Generate the big store into the cache if it is not there; True if it was generated now."""
        cached = self._cached(events, clients, key)
        if (cached / "generation.json").exists():
            return False
        for old in BENCH_DIR.glob("g*-rm*-ev*"):  # stores of other schema versions are no use any more
            if old.is_dir() and old.name != schema_key():
                shutil.rmtree(old, ignore_errors=True)
        building = _fresh_dir(cached.with_name(cached.name + ".building"))
        store = Store("big", "sqlite", building, key=key)
        generate(store, events, clients)
        (building / "generation.json").write_text(json.dumps(store.generation))
        if cached.exists():
            shutil.rmtree(cached)
        building.rename(cached)
        self.generated.add(cached.name)
        return True

    def big(self, events: int, clients: int, key: str = "", name: str = "big") -> Store:
        if not self.config.cache:
            return self.fresh(name, events, clients, key=key)
        self.ensure_cached(events, clients, key)
        cached = self._cached(events, clients, key)
        copy = self.work / name
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(cached, copy)
        generation = json.loads((cached / "generation.json").read_text())
        return Store(name, "sqlite", copy, events=generation["events"], key=key,
                     generation={**generation, "cached": cached.name not in self.generated})

    def close(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


class PostgresPlace:
    """The big stores cached as databases (with their homes, which hold an encrypted store's read
    models), copied per run (CREATE DATABASE … TEMPLATE); fresh stores are schemas of that work
    database."""

    backend = "postgres"

    def __init__(self, config: Config, server: str, part: str = "") -> None:
        self.config = config
        self.server = server
        self.work_db = f"{WORK_DATABASE}_{config.name}" + (f"_{part}" if part else "")
        self.homes = _fresh_dir(BENCH_DIR / "work" / config.name / (f"postgres-{part}" if part else "postgres"))
        self._drop(self.work_db)
        self.work_ready = False
        self.generated: set[str] = set()  # the cached stores generated by this run
        self.copies: list[str] = []  # the work databases of big stores other than "big"

    def url(self, database: str, schema: str | None = None) -> str:
        from backends import with_schema

        parts = urlsplit(self.server)
        url = urlunsplit(parts._replace(path=f"/{database}", query=""))
        return with_schema(url, schema) if schema else url

    @contextmanager
    def admin(self) -> Iterator[Any]:
        import psycopg

        from domain.adapters.storage import PostgresLocation

        location = PostgresLocation.parse(self.server)
        with psycopg.connect(**location.connect_kwargs(), autocommit=True) as connection:
            yield connection

    def _drop(self, database: str) -> None:
        with self.admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    def _exists(self, database: str) -> bool:
        with self.admin() as connection:
            return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() \
                is not None

    def _ensure_work(self, template: str | None = None) -> None:
        if not self.work_ready:
            with self.admin() as connection:
                source = f' TEMPLATE "{template}"' if template else ""
                connection.execute(f'CREATE DATABASE "{self.work_db}"{source}')
            self.work_ready = True

    def fresh(self, name: str, events: int, clients: int, long: dict[int, int] | None = None,
              key: str = "") -> Store:
        self._ensure_work()
        store = Store(name, "postgres", _fresh_dir(self.homes / name), self.url(self.work_db, f"bench_{name}"),
                      key=key)
        generate(store, events, clients, long)
        return store

    def prefix(self, big: Store, events: int) -> Store:
        self._ensure_work()
        store = Store("prefix", "postgres", _fresh_dir(self.homes / "prefix"), self.url(self.work_db, "bench_prefix"))
        copy_prefix(big, store, events)
        return store

    def big(self, events: int, clients: int, key: str = "", name: str = "big") -> Store:
        """A copy of the cached store (`big`: in the work database, which it replaces; any other
        name: in a work database of its own, beside it)."""
        if not self.config.cache:
            if name != "big":
                return self.fresh(name, events, clients, key=key)
            self._ensure_work()
            store = Store("big", "postgres", _fresh_dir(self.homes / "big"), self.url(self.work_db), key=key)
            generate(store, events, clients)
            return store
        cached, meta = self._cached(events, clients, key)
        self.ensure_cached(events, clients, key)
        home = self.homes / name
        if name == "big":
            self._drop(self.work_db)
            self.work_ready = False
            self._ensure_work(template=cached)
            database = self.work_db
        else:
            database = f"{self.work_db}_{name}".replace("-", "_")
            self._drop(database)
            with self.admin() as connection:
                connection.execute(f'CREATE DATABASE "{database}" TEMPLATE "{cached}"')
            self.copies.append(database)
        shutil.rmtree(home, ignore_errors=True)
        kept = self._home(meta)
        if kept.exists():  # the read models of an encrypted store, and its identity
            shutil.copytree(kept, home)
        else:
            _fresh_dir(home)
        generation = json.loads(meta.read_text())
        return Store(name, "postgres", home, self.url(database), events=generation["events"], key=key,
                     generation={**generation, "cached": cached not in self.generated})

    def _cached(self, events: int, clients: int, key: str = "") -> tuple[str, Path]:
        tag = _tag(key)
        database = f"tratos_bench_{schema_key()}_{tag}{events}x{clients}".lower().replace("-", "_")
        return database, BENCH_DIR / schema_key() / f"postgres-{tag}{events}x{clients}.json"

    @staticmethod
    def _home(meta: Path) -> Path:
        return meta.with_name(meta.stem + "-home")

    def ensure_cached(self, events: int, clients: int, key: str = "") -> bool:
        """Generate the big store into its cached database if it is not there; True if generated now."""
        cached, meta = self._cached(events, clients, key)
        if self._exists(cached) and meta.exists():
            return False
        building = f"tratos_bench_building_{hashlib.sha256(cached.encode()).hexdigest()[:12]}"
        with self.admin() as connection:  # stores of other schema versions are no use any more
            stale = [row[0] for row in connection.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'tratos\\_bench\\_g%'")]
        for database in stale:
            if not database.startswith(f"tratos_bench_{schema_key()}".lower().replace("-", "_")[:50]):
                self._drop(database)
        self._drop(building)
        with self.admin() as connection:
            connection.execute(f'CREATE DATABASE "{building}"')
        store = Store("big", "postgres", _fresh_dir(self.homes / f"building-{cached}"), self.url(building), key=key)
        generate(store, events, clients)
        self._drop(cached)
        with self.admin() as connection:
            connection.execute(f'ALTER DATABASE "{building}" RENAME TO "{cached}"')
        meta.parent.mkdir(parents=True, exist_ok=True)
        home = self._home(meta)
        shutil.rmtree(home, ignore_errors=True)
        if key:  # an encrypted store's read models are in its home (ADR-57): cached with it
            shutil.copytree(store.home, home)
        meta.write_text(json.dumps({**store.generation, "database": cached}))
        self.generated.add(cached)
        return True

    def close(self) -> None:
        for database in (self.work_db, *self.copies):
            self._drop(database)
        shutil.rmtree(self.homes, ignore_errors=True)


# ---------------------------------------------------------------- measuring


def decoded_read(store: Store) -> tuple[int, float]:
    """The baseline of items 3 and 4: every notification, pages of 1,000, each decoded to an event."""
    app = store.open()
    try:
        mapper, recorder = app.mapper, app.recorder
        count, position = 0, 0
        started = time.perf_counter()
        while True:
            page = recorder.select_notifications(start=position, limit=1000, inclusive_of_start=False)
            for notification in page:
                mapper.to_domain_event(notification)
            count += len(page)
            if len(page) < 1000:
                break
            position = page[-1].id
        return count, time.perf_counter() - started
    finally:
        app.close()


def rounds(commands: dict[str, Callable[[], Run]], runs: int, warmup: int) -> dict[str, list[Run]]:
    """Interleaved: each round runs every command once, so a burst of load hits them all alike."""
    done: dict[str, list[Run]] = {name: [] for name in commands}
    for round_ in range(warmup + runs):
        for name, command in commands.items():
            result = command()
            if round_ >= warmup:
                done[name].append(result)
    return done


def median(values: list[float]) -> float:
    return statistics.median(values)



def in_parallel(places: list[Any], make: Callable[[Any], None]) -> None:
    """`make(place)` for every place at once, a thread each (two cores: both backends' stores are
    generated side by side); the first error is raised again here."""
    errors: list[BaseException] = []

    def run(place: Any) -> None:
        try:
            make(place)
        except BaseException as error:  # re-raised below, in this thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(place,)) for place in places]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]

class Bench:
    """One benchmark run: measure the backends and documents, then print and save the figures."""

    def __init__(self, config: Config, log: Callable[[str], None] = print) -> None:
        self.config = config
        self.log = log
        self.figures: list[Figure] = []
        self.phases: dict[str, float] = {}
        self.raw: dict[str, Any] = {}
        self.started = time.perf_counter()
        self.load_before = os.getloadavg()

    def add(self, key: str, backend: str, label: str, value: float | None,
            target: tuple[str, float] | None = None, detail: str = "", unit: str = "x") -> None:
        figure = Figure(key, backend, label, None if value is None else round(value, 4), target, detail, unit)
        self.figures.append(figure)
        self.log(f"  {label} [{backend}]: {fmt_value(figure)} {detail}")

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self.log(f"- {name}")
        started = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = round(time.perf_counter() - started, 2)

    def ensure_cached(self, places: list[SQLitePlace | PostgresPlace]) -> None:
        """The first run generates the big stores of both backends at once (two cores)."""
        c = self.config
        sizes = {"sqlite": (c.big_events, c.big_clients),
                 "postgres": (c.postgres_events or c.big_events, c.postgres_clients or c.big_clients)}
        in_parallel(places, lambda place: place.ensure_cached(*sizes[place.backend]))

    def skip_backend(self, backend: str, reason: str) -> None:
        for key, label, target in BACKEND_FIGURES:
            self.figures.append(Figure(key, backend, label, None, target, f"skipped: {reason}"))

    # -- items 1-4 on one backend

    def backend(self, place: SQLitePlace | PostgresPlace) -> None:
        c, b = self.config, place.backend
        events = (c.postgres_events or c.big_events) if b == "postgres" else c.big_events
        clients = (c.postgres_clients or c.big_clients) if b == "postgres" else c.big_clients
        with self.phase(f"{b}: stores"):
            big = place.big(events, clients)
            small = place.fresh("small", c.small_events, 1)
            long = place.fresh("long", c.long_events, 1)
            wide = place.fresh("wide", clients, clients)  # as many clients as the big store, opened only
            prefix = place.prefix(big, c.prefix_events)
        cached = " (cached store)" if big.generation.get("cached") else ""
        self.add("generator.rate", b, f"generator: {big.events:,} events over {clients:,} clients",
                 big.generation["events_per_second"], unit="events/s",
                 detail=f"{big.generation['seconds']:.0f} s + read-model catch-up"
                        f" {big.generation['catch_up_seconds']:.0f} s{cached}")
        self.raw[f"{b}.generation"] = big.generation

        with self.phase(f"{b}: commands"):
            baseline = [PYTHON, "-c", BASELINES[b]]
            env = clean_env()
            note = ("note", "acme", "benchmark note", "--on", ON)
            invoice = ("invoice", "issue", "acme", "--amount", "10EUR", "--on", ON)
            commands = {
                "baseline": lambda: run(baseline, env),
                "pydantic_floor": lambda: run([PYTHON, "-c", BASELINES[b] + PYDANTIC_FLOOR], env),
                "note.small": lambda: small.tratos(*note),
                "status.small": lambda: small.tratos("status", "acme"),
                "invoice.small": lambda: small.tratos(*invoice),
                "note.big": lambda: big.tratos(*note),
                "status.big": lambda: big.tratos("status", "acme"),
                "portfolio.big": lambda: big.tratos("status"),
                "invoice.big": lambda: big.tratos(*invoice),
                "note.long": lambda: long.tratos(*note),
            }
            done = rounds(commands, c.runs, c.warmup)
        m = {name: median([r.seconds for r in runs]) for name, runs in done.items()}
        cpu = {name: median([r.cpu for r in runs]) for name, runs in done.items()}
        self.raw[f"{b}.command_seconds"] = {name: [round(r.seconds, 4) for r in runs] for name, runs in done.items()}
        self.raw[f"{b}.command_cpu_seconds"] = {name: [round(r.cpu, 4) for r in runs] for name, runs in done.items()}

        def ms(name: str) -> str:
            return f"{m[name] * 1000:.0f} ms"
        libraries = f"import of eventsourcing.{b}, click, pydantic"
        self.add("overhead.note", b, "1. note / library imports", m["note.small"] / m["baseline"], ("<=", 1.5),
                 f"{ms('note.small')} / {ms('baseline')} ({libraries}), median of {c.runs}; CPU time"
                 f" {cpu['note.small'] / cpu['baseline']:.2f}")
        self.add("overhead.status", b, "1. status CLIENT / library imports", m["status.small"] / m["baseline"],
                 ("<=", 1.5), f"{ms('status.small')} / {ms('baseline')}; CPU time"
                 f" {cpu['status.small'] / cpu['baseline']:.2f}")
        self.add("overhead.floor", b, "1'. one pydantic model / library imports (reference)",
                 m["pydantic_floor"] / m["baseline"], None,
                 f"{ms('pydantic_floor')} / {ms('baseline')}; CPU time"
                 f" {cpu['pydantic_floor'] / cpu['baseline']:.2f}")
        self.add("overhead.note_floor", b, "1\". note / one pydantic model (target argued in ADR-15, ADR-21)",
                 m["note.small"] / m["pydantic_floor"], ("<=", 1.5),
                 f"{ms('note.small')} / {ms('pydantic_floor')}; CPU time"
                 f" {cpu['note.small'] / cpu['pydantic_floor']:.2f}")
        size = f"{big.events:,}"
        self.add("scale.note", b, f"2. note: {size} / {small.events} events", m["note.big"] / m["note.small"],
                 ("<=", 1.1), f"{ms('note.big')} / {ms('note.small')}")
        self.add("scale.status", b, f"2. status CLIENT: {size} / {small.events} events",
                 m["status.big"] / m["status.small"], ("<=", 1.1), f"{ms('status.big')} / {ms('status.small')}")
        self.add("scale.portfolio", b, f"2. status ({clients:,} clients) / status CLIENT",
                 m["portfolio.big"] / m["status.big"], ("<=", 2.0), f"{ms('portfolio.big')} / {ms('status.big')}")
        series = clients * 12
        self.add("scale.invoice", b, f"2+. invoice issue: {size} / {small.events} events",
                 m["invoice.big"] / m["invoice.small"], ("<=", 1.1),
                 f"{ms('invoice.big')} / {ms('invoice.small')}; series of {series:,} numbers (not in the issue)")

        stream = long.events - SERIES_EVENTS  # the rest are the invoice series' numbers
        self.add("scale.stream", b, f"2'. note on a {stream:,}-event / {small.events - SERIES_EVENTS}-event"
                 " relationship",
                 m["note.long"] / m["note.small"], None,
                 f"{ms('note.long')} / {ms('note.small')}; one stream's length (not in the issue)")

        with self.phase(f"{b}: rebuild"):
            count, before = decoded_read(big)
            rebuilt = big.tratos("--json", "rebuild", rss=True)
            _, after = decoded_read(big)  # before and after: the machine's load drifts over minutes
            seconds = (before + after) / 2
            read_rate = count / seconds
            rebuilt_prefix = prefix.tratos("--json", "rebuild", rss=True)
            rebuilt_wide = wide.tratos("--json", "rebuild", rss=True)
        reported = json.loads(rebuilt.output)
        rebuild_rate = reported["events"] / rebuilt.seconds
        self.raw[f"{b}.rebuild"] = {
            "decoded_read": {"events": count, "seconds_before": round(before, 3), "seconds_after": round(after, 3)},
            "rebuild": {**reported, "process_seconds": round(rebuilt.seconds, 3), "rss_kb": rebuilt.rss_kb},
            "rebuild_prefix": {"rss_kb": rebuilt_prefix.rss_kb, "seconds": round(rebuilt_prefix.seconds, 3)},
            "rebuild_wide": {"rss_kb": rebuilt_wide.rss_kb, "seconds": round(rebuilt_wide.seconds, 3)}}
        self.add("decoded_read.rate", b, f"3. decoded read of {count:,} events (baseline)", read_rate,
                 unit="events/s", detail=f"{before:.1f} s before the rebuild, {after:.1f} s after")
        self.add("rebuild.rate", b, "3. rebuild events/s / decoded read", rebuild_rate / read_rate, (">=", 0.3),
                 f"{rebuild_rate:,.0f}/s over {read_rate:,.0f}/s ({rebuilt.seconds:.1f} s, whole process)")
        self.add("rebuild.rss", b, f"3. rebuild peak RSS: {big.events:,} / first {prefix.events:,} events",
                 rebuilt.rss_kb / rebuilt_prefix.rss_kb, ("<=", 1.2),
                 f"{rebuilt.rss_kb / 1024:.0f} MB / {rebuilt_prefix.rss_kb / 1024:.0f} MB")
        self.add("rebuild.rss_wide", b, f"3'. rebuild peak RSS: {big.events:,} / {wide.events:,} events,"
                 f" {clients:,} clients each", rebuilt.rss_kb / rebuilt_wide.rss_kb, None,
                 f"{rebuilt.rss_kb / 1024:.0f} MB / {rebuilt_wide.rss_kb / 1024:.0f} MB (clients only opened)")

        with self.phase(f"{b}: audit"):
            audited = big.tratos("audit", "verify", rss=True)
            audited_prefix = prefix.tratos("audit", "verify", rss=True)
            audited_wide = wide.tratos("audit", "verify", rss=True)
        audit_rate = big.events / audited.seconds
        self.raw[f"{b}.audit"] = {"seconds": round(audited.seconds, 3), "rss_kb": audited.rss_kb,
                                  "prefix_rss_kb": audited_prefix.rss_kb, "wide_rss_kb": audited_wide.rss_kb,
                                  "summary": audited.output.splitlines()[-2:]}
        self.add("audit.rate", b, "4. audit verify events/s / decoded read", audit_rate / read_rate, (">=", 0.3),
                 f"{audit_rate:,.0f}/s over {read_rate:,.0f}/s ({audited.seconds:.1f} s, whole process)")
        self.add("audit.rss", b, f"4. audit peak RSS: {big.events:,} / first {prefix.events:,} events",
                 audited.rss_kb / audited_prefix.rss_kb, ("<=", 1.2),
                 f"{audited.rss_kb / 1024:.0f} MB / {audited_prefix.rss_kb / 1024:.0f} MB"
                 f" ({clients:,} / {prefix.clients:,} clients)")
        self.add("audit.rss_wide", b, f"4'. audit peak RSS: {big.events:,} / {wide.events:,} events,"
                 f" {clients:,} clients each", audited.rss_kb / audited_wide.rss_kb, None,
                 f"{audited.rss_kb / 1024:.0f} MB / {audited_wide.rss_kb / 1024:.0f} MB (clients only opened)")

    # -- item 5

    def documents(self) -> None:
        c = self.config
        with self.phase("documents"):
            place = BENCH_DIR / "work" / c.name / "documents"
            _fresh_dir(place)
            small = Store("pdf-small", "sqlite", place / "small")
            generate(small, c.small_events, 1)
            small.tratos("init", "--name", "Ana García", "--email", "ana@example.com", "--lang", "en")
            result = run([PYTHON, str(PDF_TIMING), "--home", str(small.home),
                          "--runs", str(c.pdf_runs), "--warmup", str(min(c.warmup + 1, 2))], clean_env())
            shutil.rmtree(place, ignore_errors=True)
        report = json.loads(result.output.strip().splitlines()[-1])
        self.raw["documents"] = report
        self.add("pdf.contract", "sqlite", "5. pdf contract (render + sign) / bare WeasyPrint",
                 report["contract_seconds"] / report["weasyprint_seconds"], ("<=", 1.5),
                 f"{report['contract_seconds'] * 1000:.0f} ms / {report['weasyprint_seconds'] * 1000:.0f} ms,"
                 f" {report['contract_pages']} pages, in-process after warm-up")
        self.add("pdf.invoice", "sqlite", "5. pdf invoice (render, Factur-X, sign) / bare WeasyPrint",
                 report["invoice_seconds"] / report["invoice_weasyprint_seconds"], ("<=", 1.5),
                 f"{report['invoice_seconds'] * 1000:.0f} ms / {report['invoice_weasyprint_seconds'] * 1000:.0f} ms,"
                 " invoice_pdf() in-process after warm-up")
        self.add("pdf.timestamped", "sqlite", "5+. pdf contract B-T with a local TSA / B-B (TSA's own time out)",
                 report["timestamped_net_seconds"] / report["untimestamped_seconds"], ("<=", 1.3),
                 f"{report['timestamped_net_seconds'] * 1000:.0f} ms / {report['untimestamped_seconds'] * 1000:.0f} ms;"
                 f" {report['timestamped_seconds'] * 1000:.0f} ms with the TSA's"
                 f" {report['tsa_seconds_per_answer'] * 1000:.0f} ms per answer, in-process after warm-up")

    # -- item 5, the dossier (issue 24, ADR-58)

    def dossier(self) -> None:
        """`pdf dossier` of a long relationship against bare WeasyPrint laying out a plain table of as
        many rows (in turns, in one process), and its peak RSS against a short relationship's
        (whole processes). Each relationship has exactly its number of events: the stores' invoice
        series adds its own."""
        c = self.config
        long_events, short_events = c.long_events, c.dossier_small_events
        with self.phase("dossier"):
            place = _fresh_dir(BENCH_DIR / "work" / c.name / "dossier")
            stores = {}
            for name, events in (("long", long_events), ("short", short_events)):
                store = stores[name] = Store(f"dossier-{name}", "sqlite", place / name)
                generate(store, events + SERIES_EVENTS, 1)
                store.tratos("init", "--name", "Ana García", "--email", "ana@example.com", "--lang", "en")
            peaks = {name: store.tratos("pdf", "dossier", "acme", "-o", str(place / f"{name}.pdf"), rss=True)
                     for name, store in stores.items()}
            result = run([PYTHON, str(PDF_TIMING), "--dossier-home", str(stores["long"].home),
                          "--table-rows", str(long_events), "--runs", str(c.dossier_runs),
                          "--warmup", str(min(c.warmup, 1))], clean_env())
            shutil.rmtree(place, ignore_errors=True)
        report = json.loads(result.output.strip().splitlines()[-1])
        long, short = peaks["long"], peaks["short"]
        self.raw["dossier"] = {**report, "events": long_events, "short_events": short_events,
                               "rss_kb": long.rss_kb, "short_rss_kb": short.rss_kb,
                               "process_seconds": round(long.seconds, 3),
                               "short_process_seconds": round(short.seconds, 3)}
        self.add("pdf.dossier", "sqlite", f"5. pdf dossier of {long_events:,} events / bare WeasyPrint,"
                 f" plain {report['table_rows']:,}-row table",
                 report["dossier_seconds"] / report["table_seconds"], ("<=", 1.5),
                 f"{report['dossier_seconds']:.1f} s / {report['table_seconds']:.1f} s;"
                 f" {report['dossier_pages']} pages, {report['dossier_bytes'] / 1024:.0f} KB, signed;"
                 f" table {report['table_pages']} pages; in-process after warm-up")
        self.add("pdf.dossier_rss", "sqlite", f"5. pdf dossier peak RSS: {long_events:,} / {short_events:,} events",
                 long.rss_kb / short.rss_kb, ("<=", 1.5),
                 f"{long.rss_kb / 1024:.0f} MB / {short.rss_kb / 1024:.0f} MB (whole processes,"
                 f" {long.seconds:.1f} s / {short.seconds:.1f} s)")
        self.add("pdf.dossier_pages", "sqlite", "5. pdf dossier: pages", report["dossier_pages"], unit="pages")

    # -- item 6

    def verifactu(self) -> None:
        """`verifactu export` streams: its peak RSS for the big chain over the small one's, and its
        records/s over a bare decoded read of the same store (both in the same run)."""
        c = self.config
        with self.phase("verifactu export"):
            place = _fresh_dir(BENCH_DIR / "work" / c.name / "verifactu")
            stores = {}
            for name, records in (("small", c.records_prefix), ("big", c.records)):
                store = Store(f"records-{name}", "sqlite", place / name)
                run([PYTHON, str(RECORDS_GENERATOR), "--records", str(records), "--home", str(store.home)],
                    clean_env())
                store.events = records
                stores[name] = store
            exported = {name: store.tratos("verifactu", "export", "--year", str(YEAR), "-o",
                                           str(store.home / "export.xml"), rss=True)
                        for name, store in stores.items()}
            count, read_seconds = decoded_read(stores["big"])
            shutil.rmtree(place, ignore_errors=True)
        big, small = exported["big"], exported["small"]
        rate, read_rate = c.records / big.seconds, count / read_seconds
        self.raw["verifactu"] = {"seconds": round(big.seconds, 3), "rss_kb": big.rss_kb, "prefix_rss_kb": small.rss_kb,
                                 "read_rate": round(read_rate)}
        self.add("verifactu.rate", "sqlite", "6. verifactu export records/s / decoded read", rate / read_rate,
                 (">=", 0.3), f"{rate:,.0f}/s over {read_rate:,.0f}/s ({big.seconds:.1f} s, whole process)")
        self.add("verifactu.rss", "sqlite", f"6. verifactu export peak RSS: {c.records:,} / {c.records_prefix:,} records",
                 big.rss_kb / small.rss_kb, ("<=", 1.2), f"{big.rss_kb / 1024:.0f} MB / {small.rss_kb / 1024:.0f} MB")

    # -- the whole run

    def results(self) -> dict[str, Any]:
        return {
            "config": self.config.name,
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "load_average_before": [round(x, 2) for x in self.load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "seconds": round(time.perf_counter() - self.started, 1),
            "phases": self.phases,
            "figures": [f.as_dict() for f in self.figures],
            "raw": self.raw,
        }


BACKEND_FIGURES: list[tuple[str, str, tuple[str, float] | None]] = [
    ("generator.rate", "generator events/s", None),
    ("overhead.note", "1. note / library imports", ("<=", 1.5)),
    ("overhead.status", "1. status CLIENT / library imports", ("<=", 1.5)),
    ("scale.note", "2. note: big / small store", ("<=", 1.1)),
    ("scale.status", "2. status CLIENT: big / small store", ("<=", 1.1)),
    ("scale.portfolio", "2. status (all clients) / status CLIENT", ("<=", 2.0)),
    ("scale.invoice", "2+. invoice issue: big / small store", ("<=", 1.1)),
    ("overhead.floor", "1'. one pydantic model / library imports (reference)", None),
    ("overhead.note_floor", "1\". note / one pydantic model (argued target)", ("<=", 1.5)),
    ("scale.stream", "2'. note on a long / short relationship", None),
    ("decoded_read.rate", "3. decoded read (baseline)", None),
    ("rebuild.rate", "3. rebuild events/s / decoded read", (">=", 0.3)),
    ("rebuild.rss", "3. rebuild peak RSS: big store / its first events", ("<=", 1.2)),
    ("rebuild.rss_wide", "3'. rebuild peak RSS: big / same clients, opened only", None),
    ("audit.rate", "4. audit verify events/s / decoded read", (">=", 0.3)),
    ("audit.rss", "4. audit peak RSS: big store / its first events", ("<=", 1.2)),
    ("audit.rss_wide", "4'. audit peak RSS: big / same clients, opened only", None),
]
DOCUMENT_FIGURES = ["pdf.contract", "pdf.invoice", "pdf.timestamped"]
DOSSIER_FIGURES = ["pdf.dossier", "pdf.dossier_rss", "pdf.dossier_pages"]
VERIFACTU_FIGURES = ["verifactu.rate", "verifactu.rss"]


def machine() -> dict[str, Any]:
    cpu = ""
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with suppress(OSError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 1024 / 1024:.0f} GB"
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": memory, "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}"}


def postgres_server_problem(url: str) -> str:
    try:
        import psycopg

        from domain.adapters.storage import PostgresLocation

        location = PostgresLocation.parse(url)
        with psycopg.connect(**location.connect_kwargs(), connect_timeout=3, autocommit=True) as connection:
            connection.execute("SELECT 1")
    except Exception as error:  # noqa: BLE001 - any reason is reported
        return str(error).splitlines()[0] if str(error) else type(error).__name__
    return ""


PARTS = ("sqlite", "postgres", "encrypted", "documents", "dossier", "verifactu")
PACKAGES = ("domain", "projections", "cli", "documents")


def compile_packages() -> None:
    """Commands are timed as installed: with tratos byte-compiled, as pip leaves a wheel (and as
    `make install` leaves this checkout). Where PYTHONDONTWRITEBYTECODE is set, as on these
    machines, Python would otherwise compile each of tratos' modules from source in every command."""
    import compileall

    for package in PACKAGES:
        compileall.compile_dir(str(ROOT / package), quiet=1)


def run_all(config: Config, *, postgres_url: str | None, log: Callable[[str], None] = print,
            skip_postgres: str = "", parts: tuple[str, ...] = PARTS) -> Bench:
    """Measure everything for `config`; PostgreSQL is skipped (with `skip_postgres` as the reason)
    when no server URL is given. `parts` picks what to measure (BENCH_ONLY=sqlite,documents)."""
    bench = Bench(config, log)
    compile_packages()
    sqlite = SQLitePlace(config) if "sqlite" in parts else None
    postgres = PostgresPlace(config, postgres_url) if "postgres" in parts and postgres_url else None
    try:
        if config.cache:
            with bench.phase("big stores cached (generated in parallel when missing)"):
                bench.ensure_cached([p for p in (sqlite, postgres) if p is not None])
        if sqlite is not None:
            bench.backend(sqlite)
        if postgres is not None:
            bench.backend(postgres)
    finally:
        for place in (sqlite, postgres):
            if place is not None:
                place.close()
    if postgres is None and "postgres" in parts:
        bench.skip_backend("postgres", skip_postgres or "no server")
    if "encrypted" in parts:
        from encrypted import run_part, skip

        run_part(bench, postgres_url)
        if not postgres_url:
            skip(bench, "postgres", skip_postgres or "no server")
    if "documents" in parts:
        bench.documents()
    if "dossier" in parts:
        bench.dossier()
    if "verifactu" in parts:
        bench.verifactu()
    return bench


def write_results(bench: Bench, path: Path) -> dict[str, Any]:
    results = bench.results()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2))
    return results
