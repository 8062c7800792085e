"""Measures what encryption costs a store's commands (ADR-12 in docs/decisions.md; since ADR-57 an
encrypted store's read models are kept in their own encrypted file, and figures 7 of `make bench`
measure them against a plain store's).

Not a test (pytest does not collect it): run it by hand,

    .venv/bin/python tests/integrity/measure_encryption.py 1000 10000 50000

For each size it writes a store of that many events (ten clients, each opened
then noted; recorded through the aggregate and the recorder in bulk), once
plain and once encrypted, and times the real `tratos` script: `status CLIENT`
(read models on disk and caught up, in the encrypted file for the encrypted
store), `audit verify`, and `rebuild`. Times are wall-clock
seconds of one run each, start-up included.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from tax_profile import UNTAXED_PROFILE

from domain.adapters.encryption import KEY_ENV, new_key
from domain.model.relationship import Relationship
from domain.model.values import Party, stream_id
from domain.services.application import Tratos

CLIENTS = 10
TRATOS = str(Path(sys.executable).with_name("tratos"))


def fill(app: Tratos, events: int) -> None:
    per_client = events // CLIENTS
    for n in range(CLIENTS):
        handle = f"client-{n}"
        relationship = Relationship.open(stream_id(handle), handle, Party(name=f"Client {n} SL"), date(2026, 1, 1))
        for i in range(per_client - 1):
            relationship.record_note(f"Call {i} about the invoice of 1200.00 EUR", on=date(2026, 1, 2))
        stored = [app.mapper.to_stored_event(e) for e in relationship.collect_events()]
        for start in range(0, len(stored), 1000):
            app.recorder.insert_events(stored[start:start + 1000])


def timed(home: Path, env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([TRATOS, "--home", str(home), *args], env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def measure(events: int) -> None:
    for encrypted in (False, True):
        with tempfile.TemporaryDirectory() as folder:
            home = Path(folder)
            env = {k: v for k, v in os.environ.items() if k not in (KEY_ENV, "TRATOS_DATABASE_URL")}
            if encrypted:
                env[KEY_ENV] = new_key()
            app = Tratos(profile=UNTAXED_PROFILE, home=home, env={KEY_ENV: env.get(KEY_ENV, "")})
            try:
                fill(app, events)
            finally:
                app.close()
            first = timed(home, env, "status", "client-0")  # plain: builds the read models on disk once
            status = timed(home, env, "status", "client-0")
            audit = timed(home, env, "audit", "verify")
            rebuild = timed(home, env, "rebuild")
            size = sum(p.stat().st_size for p in home.iterdir() if p.is_file()) / 1e6
            kind = "encrypted" if encrypted else "plain    "
            print(f"{events:>7} events {kind}  status {status:6.2f} s (first {first:6.2f} s)"
                  f"  audit verify {audit:6.2f} s  rebuild {rebuild:6.2f} s  files {size:6.1f} MB", flush=True)


if __name__ == "__main__":
    for size in sys.argv[1:] or ["1000", "10000"]:
        measure(int(size))
