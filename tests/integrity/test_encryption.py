"""Encryption at rest: no client name, text or amount in clear in the store's files; a wrong key touches nothing."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest
from backends import StoreSpec
from support import ACME, ACME_NAME, NOTE_TEXT, record_story, tratos
from tax_profile import UNTAXED_PROFILE

from domain.adapters.encryption import KEY_ENV, new_key
from domain.services.application import Tratos

SECRETS = (ACME_NAME.encode(), NOTE_TEXT.encode(), b"Laura Mart", b"8000.00", b"4000.00", b"Website redesign")
PASSPHRASE = "a passphrase for the encryption tests"


def store_bytes(home: Path) -> bytes:
    """Every file of the store but the evidence folder (which stays as it is, by design)."""
    return b"".join(p.read_bytes() for p in sorted(home.iterdir()) if p.is_file())


def in_clear(home: Path) -> list[bytes]:
    data = store_bytes(home)
    return [secret for secret in SECRETS if secret in data]


def fingerprint(home: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(home.iterdir()) if p.is_file()}


@pytest.fixture
def sqlite_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StoreSpec:
    monkeypatch.delenv("TRATOS_DATABASE_URL", raising=False)
    return StoreSpec("sqlite", str(tmp_path / "store"))


def test_a_plain_store_shows_them(sqlite_store):
    """The control: without a key, the same story is readable in the file (so the grep below can fail)."""
    home = Path(sqlite_store.home)
    app = Tratos(profile=UNTAXED_PROFILE, home=home)
    try:
        record_story(app, home)
    finally:
        app.close()
    assert tratos(sqlite_store, "status").code == 0
    assert set(in_clear(home)) == set(SECRETS)


def test_the_sqlite_file_and_its_wal_hold_nothing_in_clear(sqlite_store, tmp_path):
    home, key = Path(sqlite_store.home), new_key()
    keyed = {KEY_ENV: key}
    app = Tratos(profile=UNTAXED_PROFILE, home=home, env=keyed)
    try:
        record_story(app, home)
        assert (home / "tratos.sqlite-wal").stat().st_size > 0  # still open: the events sit in the WAL
        assert in_clear(home) == []
    finally:
        app.close()
    commands = [("status",), ("status", ACME), ("--json", "status", ACME), ("timeline", ACME), ("lessons",),
                ("check",), ("client", "list"), ("client", "show", ACME), ("audit", "verify"),
                ("audit", "anchor"), ("note", ACME, "Second call", "--on", "2026-02-04"),
                ("status", ACME, "--as-of", "2026-01-20"), ("timeline", ACME, "--as-of", "2026-02-03"),
                ("export", str(tmp_path / "out.jsonl")), ("rebuild",), ("status", ACME)]
    for command in commands:
        outcome = tratos(sqlite_store, *command, env=keyed)
        assert outcome.code == 0, (command, outcome.stderr)
    assert ACME_NAME in tratos(sqlite_store, "status", ACME, env=keyed).stdout
    assert NOTE_TEXT in tratos(sqlite_store, "timeline", ACME, env=keyed).stdout
    assert in_clear(home) == []
    assert NOTE_TEXT.encode() in (tmp_path / "out.jsonl").read_bytes()  # the export is in clear, as documented


def test_a_signed_pdf_from_an_encrypted_store_verifies(sqlite_store, tmp_path):
    from documents.identity import create_identity

    home, keyed = Path(sqlite_store.home), {KEY_ENV: new_key(), "TRATOS_KEY_PASSPHRASE": PASSPHRASE}
    app = Tratos(profile=UNTAXED_PROFILE, home=home, env=keyed)
    try:
        record_story(app, home)
    finally:
        app.close()
    (home / "identity.json").write_text(json.dumps({"name": "Ana García", "email": "ana@example.com"}))
    create_identity(home, name="Ana García", email="ana@example.com", passphrase=PASSPHRASE,
                    not_before=date(2026, 1, 1))
    pdf = tmp_path / "contract.pdf"
    assert tratos(sqlite_store, "pdf", "contract", ACME, "--lang", "en", "-o", str(pdf), env=keyed).code == 0
    assert tratos(sqlite_store, "verify", str(pdf), env=keyed).code == 0
    assert tratos(sqlite_store, "audit", "verify", env=keyed).code == 0
    assert in_clear(home) == []


class TestKeys:
    @pytest.fixture
    def encrypted(self, sqlite_store) -> tuple[StoreSpec, str]:
        key = new_key()
        outcome = tratos(sqlite_store, "client", "open", ACME, "--name", ACME_NAME, "--on", "2026-01-05",
                         env={KEY_ENV: key})
        assert outcome.code == 0, outcome.stderr
        return sqlite_store, key

    @pytest.mark.parametrize("key, message", [
        (None, "this store is encrypted: set TRATOS_ENCRYPTION_KEY to its key"),
        ("other", "TRATOS_ENCRYPTION_KEY does not open this store: it was encrypted with another key"),
        ("bm90IGEga2V5", "TRATOS_ENCRYPTION_KEY is not a base64-encoded 32-byte key"),
    ])
    @pytest.mark.parametrize("command", [("status", ACME), ("note", ACME, "hello"), ("audit", "verify"),
                                         ("import", __file__)])
    def test_a_missing_or_wrong_key_is_one_line_exit_2_and_changes_nothing(self, encrypted, key, message,
                                                                           command):
        store, _ = encrypted
        home = Path(store.home)
        before = fingerprint(home)
        outcome = tratos(store, *command, env={KEY_ENV: new_key() if key == "other" else key})
        assert outcome.code == 2
        assert outcome.stderr.startswith(f"error: {message}") and len(outcome.stderr.splitlines()) == 1
        assert fingerprint(home) == before

    def test_a_key_on_a_plain_store_is_refused(self, sqlite_store):
        assert tratos(sqlite_store, "client", "open", ACME, "--name", ACME_NAME).code == 0
        outcome = tratos(sqlite_store, "status", env={KEY_ENV: new_key()})
        assert outcome.code == 2
        assert "this store is not encrypted, but TRATOS_ENCRYPTION_KEY is set" in outcome.stderr

    def test_export_from_plain_import_into_encrypted_keeps_every_digest(self, sqlite_store, tmp_path):
        home = Path(sqlite_store.home)
        app = Tratos(profile=UNTAXED_PROFILE, home=home)
        try:
            record_story(app, home)
        finally:
            app.close()
        plain, back = tmp_path / "plain.jsonl", tmp_path / "back.jsonl"
        assert tratos(sqlite_store, "export", str(plain)).code == 0
        vault, keyed = StoreSpec("sqlite", str(tmp_path / "vault")), {KEY_ENV: new_key()}
        assert tratos(vault, "import", str(plain), env=keyed).code == 0
        assert in_clear(Path(vault.home)) == []
        assert tratos(vault, "export", str(back), env=keyed).code == 0
        assert plain.read_bytes().splitlines()[1:] == back.read_bytes().splitlines()[1:]


def test_encrypted_postgres_store(store, backend, tmp_path):
    """Both backends: commands work with the key; the stored states and the schema's tables show nothing."""
    keyed = {KEY_ENV: new_key()}
    app = Tratos(profile=UNTAXED_PROFILE, home=Path(store.home), env=keyed, database_url=store.database_url)
    try:
        record_story(app, Path(store.home))
    finally:
        app.close()
    for command in (("status", ACME), ("timeline", ACME), ("audit", "verify"), ("rebuild",)):
        assert tratos(store, *command, env=keyed).code == 0, command
    assert tratos(store, "--json", "status", ACME, env=keyed).json()["name"] == ACME_NAME
    assert tratos(store, "status", ACME).code == 2
    assert (Path(store.home) / "read-models.sqlite").exists()
    if backend == "postgres":
        import psycopg

        schema = dict(p.split("=") for p in store.database_url.split("?")[1].split("&"))["schema"]
        with psycopg.connect(store.database_url.split("?")[0], autocommit=True) as connection:
            tables = [name for (name,) in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,))]
            assert "relationships" not in tables  # an encrypted store's read models are in its home (ADR-57)
            dump = b"".join(
                str(row).encode() + b"".join(bytes(v) for v in row if isinstance(v, bytes | memoryview))
                for table in tables
                for row in connection.execute(f'SELECT * FROM "{schema}"."{table}"'))
        assert [s for s in SECRETS if s in dump] == []
        assert len(dump) > 1000
    else:
        assert in_clear(Path(store.home)) == []


BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _benchmark_store(home: Path, key: str | None) -> list[bytes]:
    """A small store written by the benchmark generator (tests/benchmarks/generate.py), as `make
    bench` writes its stores, read models and stream heads caught up; what it hides, listed by it."""
    import importlib.util
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in (KEY_ENV, "TRATOS_DATABASE_URL", "TRATOS_HOME")}
    if key:
        env[KEY_ENV] = key
    done = subprocess.run([sys.executable, str(BENCHMARKS / "generate.py"), "--events", "304", "--clients", "4",
                           "--home", str(home)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    spec = importlib.util.spec_from_file_location("bench_generate", BENCHMARKS / "generate.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    return generator.secrets(4)


def _searched_while_open(home: Path, key: str | None, wanted: list[bytes]) -> tuple[list[bytes], list[str]]:
    """Every file of the home searched for `wanted` while a process holds the store open, a note
    just recorded and projected (the events' and the read models' WAL and shm are there)."""
    from projections import ReadModels
    from projections.heads import StreamHeads

    app = Tratos(profile=UNTAXED_PROFILE, home=home, env={KEY_ENV: key or "", "TRATOS_DATABASE_URL": ""})
    try:
        app.record_note("acme", "A note for the WAL", on=date(2026, 12, 20))
        with ReadModels(app) as models:
            models.catch_up()
            heads = StreamHeads(app)
            heads.catch_up()
            files = sorted(p.name for p in home.rglob("*") if p.is_file())
            data = b"".join(p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file())
    finally:
        app.close()
    return [secret for secret in wanted if secret in data], files


def test_the_benchmark_generators_encrypted_store_holds_nothing_in_clear(tmp_path, monkeypatch):
    """Its 20 names, texts and amounts in no file of the home: database, WAL, shm, read models
    (issue 24: the generator used to write them in clear). The plain store, the control, holds all."""
    monkeypatch.delenv(KEY_ENV, raising=False)
    key = new_key()
    wanted = _benchmark_store(tmp_path / "vault", key)
    found, files = _searched_while_open(tmp_path / "vault", key, wanted)
    assert found == []
    assert {"tratos.sqlite", "tratos.sqlite-wal", "tratos.sqlite-shm", "read-models.sqlite",
            "read-models.sqlite-wal", "read-models.sqlite-shm"} <= set(files)
    plain = _benchmark_store(tmp_path / "plain", None)
    assert len(set(plain)) == 20
    assert _searched_while_open(tmp_path / "plain", None, plain)[0] == plain
