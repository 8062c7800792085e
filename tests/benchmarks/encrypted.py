"""Issue 24, figures 7: an encrypted store reads and records as fast as a plain one, and its
home holds nothing in clear (`BENCH_ONLY=encrypted make bench`).

On each backend: `status acme` and `note acme` on an encrypted store of `encrypted_events`
(50,000) over the same store recorded plain; the same commands on the encrypted store of a
million events over an encrypted store of 100. On SQLite: the files of the encrypted home
(database, WAL, shm, read models), read while a process holds both databases open with writes
in their WALs, searched for 20 client names, texts and amounts of the store, next to the same
search in the plain store's home (the control, which finds them all).

Every store is encrypted with `ENCRYPTED_KEY`, fixed so that the cached ones open run after
run. The big stores are cached like the others (SQLite folders under .bench/<schema key>/,
PostgreSQL databases plus the home, where an encrypted store's read models are, ADR-57).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from generate import secrets
from harness import (
    ON,
    Bench,
    Config,
    PostgresPlace,
    SQLitePlace,
    Store,
    in_parallel,
    median,
    rounds,
)

ENCRYPTED_KEY = base64.b64encode(hashlib.sha256(b"tratos benchmark store key").digest()).decode()

ENCRYPTED_FIGURES: list[tuple[str, str, tuple[str, float] | None]] = [
    ("encrypted.generator", "7. generator, encrypted store", None),
    ("encrypted.status", "7. status CLIENT: encrypted / plain store", ("<=", 1.3)),
    ("encrypted.note", "7. note: encrypted / plain store", ("<=", 1.3)),
    ("encrypted.scale.status", "7. status CLIENT, encrypted: big / small store", ("<=", 1.1)),
    ("encrypted.scale.note", "7. note, encrypted: big / small store", ("<=", 1.1)),
]
CLEAR_FIGURE = ("encrypted.in_clear", "7. secrets in clear in the encrypted home's files", ("<=", 0.0))


def in_clear(home: Path, wanted: list[bytes]) -> list[bytes]:
    """Which of `wanted` some file under `home` holds, byte for byte."""
    found: set[bytes] = set()
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found.update(secret for secret in wanted if secret in data)
    return [secret for secret in wanted if secret in found]


def search_while_open(store: Store, wanted: list[bytes]) -> list[bytes]:
    """`in_clear` of the store's home while a process holds it open, a note just recorded and
    projected: the events' WAL and the read models' WAL and shm are there to be searched."""
    from projections import ReadModels
    from projections.heads import StreamHeads

    app = store.open()
    models = heads = None
    try:
        app.record_note("acme", "A note the search reads in the WAL", on=date.fromisoformat(ON))
        models, heads = ReadModels(app), StreamHeads(app)
        models.catch_up()
        heads.catch_up()
        files = sorted(p.name for p in store.home.iterdir())
        assert "read-models.sqlite-wal" in files or not store.key or store.url, files
        return in_clear(store.home, wanted)
    finally:
        for opened in (models, heads):
            if opened is not None:
                opened.close()
        app.close()


def sizes(config: Config) -> dict[str, tuple[int, int]]:
    big = config.encrypted_big or (config.big_events, config.big_clients)
    return {"mid": (config.encrypted_events, config.encrypted_clients), "big": big}


def ensure_cached(bench: Bench, places: list[SQLitePlace | PostgresPlace]) -> None:
    """The cached stores of this part, both backends at once (two cores): the encrypted big and
    mid-sized stores and the plain mid-sized one."""
    wanted = sizes(bench.config)

    def make(place: SQLitePlace | PostgresPlace) -> None:
        place.ensure_cached(*wanted["big"], key=ENCRYPTED_KEY)
        place.ensure_cached(*wanted["mid"], key=ENCRYPTED_KEY)
        place.ensure_cached(*wanted["mid"])

    in_parallel(places, make)


def measure(bench: Bench, place: SQLitePlace | PostgresPlace) -> None:
    """Figures 7 on one backend."""
    c, b = bench.config, place.backend
    wanted = sizes(c)
    with bench.phase(f"{b}: encrypted stores"):
        big = place.big(*wanted["big"], key=ENCRYPTED_KEY, name="encrypted_big")
        mid = place.big(*wanted["mid"], key=ENCRYPTED_KEY, name="encrypted_mid")
        plain = place.big(*wanted["mid"], name="plain_mid")
        small = place.fresh("encrypted_small", c.small_events, 1, key=ENCRYPTED_KEY)
    generation = big.generation
    cached = " (cached store)" if generation.get("cached") else ""
    bench.raw[f"{b}.encrypted.generation"] = {"big": generation, "mid": mid.generation, "plain": plain.generation}
    bench.add("encrypted.generator", b, f"7. generator: {big.events:,} encrypted events over {wanted['big'][1]:,}"
              " clients", generation["events_per_second"], unit="events/s",
              detail=f"{generation['seconds']:.0f} s + read-model catch-up {generation['catch_up_seconds']:.0f} s"
                     f"{cached}")

    with bench.phase(f"{b}: encrypted commands"):
        note = ("note", "acme", "benchmark note", "--on", ON)
        commands: dict[str, Callable[[], Any]] = {
            "status.plain": lambda: plain.tratos("status", "acme"),
            "status.encrypted": lambda: mid.tratos("status", "acme"),
            "note.plain": lambda: plain.tratos(*note),
            "note.encrypted": lambda: mid.tratos(*note),
            "status.encrypted_small": lambda: small.tratos("status", "acme"),
            "status.encrypted_big": lambda: big.tratos("status", "acme"),
            "note.encrypted_small": lambda: small.tratos(*note),
            "note.encrypted_big": lambda: big.tratos(*note),
        }
        done = rounds(commands, c.runs, c.warmup)
    m = {name: median([r.seconds for r in runs]) for name, runs in done.items()}
    cpu = {name: median([r.cpu for r in runs]) for name, runs in done.items()}
    bench.raw[f"{b}.encrypted.command_seconds"] = {name: [round(r.seconds, 4) for r in runs]
                                                   for name, runs in done.items()}
    bench.raw[f"{b}.encrypted.command_cpu_seconds"] = {name: [round(r.cpu, 4) for r in runs]
                                                       for name, runs in done.items()}

    def ms(name: str, over: str) -> str:
        """Both medians, and the ratio of their CPU times (less moved by the machine's load)."""
        return f"{m[name] * 1000:.0f} ms / {m[over] * 1000:.0f} ms; CPU time {cpu[name] / cpu[over]:.2f}"

    size = f"{mid.events:,} events"
    bench.add("encrypted.status", b, f"7. status CLIENT: encrypted / plain store, {size}",
              m["status.encrypted"] / m["status.plain"], ("<=", 1.3),
              f"{ms('status.encrypted', 'status.plain')}, medians of {c.runs}")
    bench.add("encrypted.note", b, f"7. note: encrypted / plain store, {size}",
              m["note.encrypted"] / m["note.plain"], ("<=", 1.3), ms("note.encrypted", "note.plain"))
    scale = f"{big.events:,} / {small.events} events"
    bench.add("encrypted.scale.status", b, f"7. status CLIENT, encrypted: {scale}",
              m["status.encrypted_big"] / m["status.encrypted_small"], ("<=", 1.1),
              ms("status.encrypted_big", "status.encrypted_small"))
    bench.add("encrypted.scale.note", b, f"7. note, encrypted: {scale}",
              m["note.encrypted_big"] / m["note.encrypted_small"], ("<=", 1.1),
              ms("note.encrypted_big", "note.encrypted_small"))

    if b == "sqlite":
        wanted_secrets = secrets(wanted["mid"][1])
        with bench.phase("sqlite: encrypted home searched"):
            found = search_while_open(mid, wanted_secrets)
            control = search_while_open(plain, wanted_secrets)
        bench.raw["sqlite.encrypted.in_clear"] = {"encrypted": [s.decode() for s in found],
                                                  "plain": [s.decode() for s in control]}
        key, label, target = CLEAR_FIGURE
        bench.add(key, b, label, len(found), target,
                  f"of {len(wanted_secrets)} names, texts and amounts ({', '.join(s.decode() for s in found)});"
                  f" the plain store's files hold {len(control)}", unit="found")


def run_part(bench: Bench, postgres_url: str | None) -> None:
    """Figures 7 on SQLite, and on PostgreSQL when a server is given."""
    sqlite = SQLitePlace(bench.config, "encrypted")
    postgres = PostgresPlace(bench.config, postgres_url, "encrypted") if postgres_url else None
    places = [p for p in (sqlite, postgres) if p is not None]
    try:
        if bench.config.cache:
            with bench.phase("encrypted stores cached (generated in parallel when missing)"):
                ensure_cached(bench, places)
        for place in places:
            measure(bench, place)
    finally:
        for place in places:
            place.close()


def skip(bench: Bench, backend: str, reason: str) -> None:
    from harness import Figure

    for key, label, target in ENCRYPTED_FIGURES:
        bench.figures.append(Figure(key, backend, label, None, target, f"skipped: {reason}"))
