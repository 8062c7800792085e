"""An encrypted store's read models (ADR-57): kept between commands in their own SQLCipher file,
caught up like a plain store's, rebuilt when they follow another log, keyed apart from the events.

On both backends (the file is in the home either way: the server never holds them).
"""

from __future__ import annotations

import base64
import shutil
from datetime import date
from pathlib import Path

import pytest
from backends import StoreSpec
from read_models import rebuilt
from support import ACME, ACME_NAME, NOTE_TEXT, record_story, tratos
from tax_profile import UNTAXED_PROFILE

from domain.adapters.encryption import KEY_ENV, new_key, read_model_key
from domain.adapters.home import READ_MODELS_FILE
from domain.services.application import Tratos
from projections import ReadModels, projector
from projections import rebuild as rebuilding


def open_keyed(store: StoreSpec, key: str) -> Tratos:
    env = {KEY_ENV: key} if store.database_url else {KEY_ENV: key, "TRATOS_DATABASE_URL": ""}
    return Tratos(profile=UNTAXED_PROFILE, home=Path(store.home), env=env, database_url=store.database_url)


@pytest.fixture
def keyed(store: StoreSpec) -> tuple[StoreSpec, dict[str, str]]:
    """The test's store, encrypted, holding the audit story; no command has read it yet."""
    key = new_key()
    app = open_keyed(store, key)
    try:
        record_story(app, Path(store.home))
    finally:
        app.close()
    return store, {KEY_ENV: key}


@pytest.fixture
def projected(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many events each page projected into read models (catch-ups and rebuilds alike)."""
    counts: list[int] = []

    def counting(batch, events, project=projector.project_page):
        events = list(events)
        counts.append(len(events))
        return project(batch, events)

    monkeypatch.setattr(projector, "project_page", counting)
    monkeypatch.setattr(rebuilding, "project_page", counting)
    return counts


def position(store: StoreSpec, env: dict[str, str]) -> tuple[int, int]:
    """The log's last notification, and where the encrypted read models stand."""
    app = open_keyed(store, env[KEY_ENV])
    try:
        with ReadModels(app) as models:
            return app.recorder.max_notification_id(), models.recorder.position()
    finally:
        app.close()


def test_read_models_are_kept_between_commands(keyed, projected):
    store, env = keyed
    home = Path(store.home)
    assert not (home / READ_MODELS_FILE).exists()  # a store encrypted before ADR-57: built on first use
    first = tratos(store, "status", ACME, env=env)
    assert first.code == 0, first.stderr
    assert ACME_NAME in first.stdout
    last, at = position(store, env)
    assert sum(projected) == last == at
    projected.clear()
    for command in (("status", ACME), ("timeline", ACME), ("status",)):
        assert tratos(store, *command, env=env).code == 0, command
    assert projected == []  # read from the file: nothing projected again
    assert tratos(store, "note", ACME, "Second call", "--on", "2026-02-04", env=env).code == 0
    assert sum(projected) == 1  # the note, by the command that recorded it
    projected.clear()
    assert "Second call" in tratos(store, "timeline", ACME, env=env).stdout
    assert projected == []
    assert position(store, env) == (last + 1, last + 1)


def test_time_travel_and_rebuild(keyed):
    store, env = keyed
    past = tratos(store, "--json", "status", ACME, "--as-of", "2026-01-14", env=env)
    assert past.code == 0, past.stderr
    assert past.json()["balance"]["invoiced"]["amount"] == "0.00"
    assert tratos(store, "--json", "status", ACME, env=env).json()["balance"]["invoiced"]["amount"] == "4000.00"
    assert NOTE_TEXT not in tratos(store, "timeline", ACME, "--as-of", "2026-02-02", env=env).stdout
    assert tratos(store, "rebuild", env=env).code == 0
    last, at = position(store, env)
    assert at == last
    app = open_keyed(store, env[KEY_ENV])
    try:
        with ReadModels(app) as models:
            assert models.dump() == rebuilt(app)
    finally:
        app.close()


def test_a_rebuild_with_its_helper_process_writes_the_encrypted_file(keyed, monkeypatch):
    """The helper process opens the read models' file too (it reads the rows it carries on)."""
    monkeypatch.setattr(rebuilding, "PAGES_PER_TRANSACTION", 2)
    monkeypatch.setattr(rebuilding, "HELPER_FROM", 0)
    monkeypatch.setattr(rebuilding, "_cores", lambda: 2)
    helped: list[int] = []
    received = rebuilding._received

    def receiving(helper):
        rows, heads = received(helper)
        helped.append(len(rows["timeline"]))
        return rows, heads

    monkeypatch.setattr(rebuilding, "_received", receiving)
    store, env = keyed
    app = open_keyed(store, env[KEY_ENV])
    try:
        with ReadModels(app, page_size=2) as models:
            assert models.rebuild() == app.recorder.max_notification_id()
            assert models.dump() == rebuilt(app)
    finally:
        app.close()
    assert sum(helped) > 0


def test_read_models_of_another_key_or_no_database_are_made_again(keyed, tmp_path):
    store, env = keyed
    home = Path(store.home)
    other = StoreSpec(store.backend, str(tmp_path / "other"), None)
    other_env = {KEY_ENV: new_key()}
    assert tratos(other, "client", "open", "beta", "--name", "Beta SL", "--on", "2026-01-05",
                  env=other_env).code == 0
    shutil.copy(Path(other.home) / READ_MODELS_FILE, home / READ_MODELS_FILE)  # another store's, keyed apart
    outcome = tratos(store, "client", "list", env=env)
    assert outcome.code == 0, outcome.stderr
    assert ACME in outcome.stdout and "beta" not in outcome.stdout
    (home / READ_MODELS_FILE).write_bytes(b"not a database at all" * 300)
    outcome = tratos(store, "status", ACME, env=env)
    assert (outcome.code, outcome.stderr) == (0, "")
    assert ACME_NAME in outcome.stdout


def test_read_models_that_followed_another_history_are_rebuilt(keyed, tmp_path):
    """A log restored from a backup, then written again: the read models had seen events that
    log never held, at positions it now fills with others."""
    store, env = keyed
    if store.backend != "sqlite":
        pytest.skip("restoring the SQLite file beside its read models")
    home = Path(store.home)
    assert tratos(store, "status", env=env).code == 0
    backup = tmp_path / "backup.sqlite"
    shutil.copy(home / "tratos.sqlite", backup)
    assert tratos(store, "note", ACME, "Lost with the disk", "--on", "2026-02-04", env=env).code == 0
    shutil.copy(backup, home / "tratos.sqlite")
    assert tratos(store, "note", ACME, "Written after the restore", "--on", "2026-02-05", env=env).code == 0
    timeline = tratos(store, "timeline", ACME, env=env).stdout
    assert "Written after the restore" in timeline and "Lost with the disk" not in timeline


def test_the_read_models_key_is_derived_under_its_own_label():
    """HKDF-SHA256 (RFC 5869), as the `cryptography` package computes it; never the store's key."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = new_key()
    raw = base64.b64decode(key)
    expected = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"tratos read models v1").derive(raw)
    assert read_model_key(key) == expected != raw
    assert read_model_key(new_key()) != expected


def test_the_read_models_file_is_encrypted_whole(keyed):
    """Not an SQLite file to any tool without the key: no readable header, no schema."""
    import sqlite3

    store, env = keyed
    assert tratos(store, "status", ACME, env=env).code == 0
    path = Path(store.home) / READ_MODELS_FILE
    assert not path.read_bytes().startswith(b"SQLite format 3")
    connection = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="not a database"):
            connection.execute("SELECT name FROM sqlite_master").fetchall()
    finally:
        connection.close()
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_a_recording_command_today_projects_what_it_recorded(keyed, projected):
    """ADR-16 holds for an encrypted store as for a plain one: the next reader has nothing to do."""
    store, env = keyed
    assert tratos(store, "status", env=env).code == 0
    projected.clear()
    day = date(2026, 2, 6).isoformat()
    assert tratos(store, "hours", "log", ACME, "2:00", "--note", "Review", "--on", day, env=env).code == 0
    assert projected == [1]
    projected.clear()
    assert tratos(store, "status", ACME, env=env).code == 0
    assert projected == []
