"""The nineteenth adversarial run: failures that printed a Python exception name, fixed where each lives.

1. a stored row damaged by hand (state not JSON, not UTF-8 or NULL, no topic, a version that is not
   a positive number, a stream id that is not a UUID) came out of every reader as JSONDecodeError,
   UnicodeDecodeError, TypeError, AttributeError or ValueError: the recorders of both backends now
   check each row they select (domain/adapters/stored_rows.py) and the mapper names a record whose
   content is not JSON, so every reader says "the record acme v2 cannot be read (…)", and the audit
   reports the row as a break instead of stopping at it;
2. a database URL whose host the resolver's IDNA codec refuses (`a..b`, a 64-character label,
   U+FFFF) was a UnicodeError out of the driver, exit 1: it is a URL error, exit 2;
3. `verifactu verify` and `mail import` of a regular file that fails to read (/proc/self/mem)
   printed "OSError: [Errno 5]": `open_regular`'s reader says it as every other file reader does.

Each refusal is one `error:` line, its exit code and the store unchanged, on both backends.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cli_support import open_store, refused, run

from domain.model.values import stream_id

KEYED = {"TRATOS_KEY_PASSPHRASE": "s3cret passphrase"}
DAMAGED = 2  # acme's TermsPublished: before the records every later command reads
PYTHON = re.compile(r"\b[A-Z]\w+(Error|Exception)\b|Traceback")

# name: (SQLite's SET clause, PostgreSQL's or None where its column types forbid the damage, what is said)
DAMAGE = {
    "state-not-json": ("state = 'hello'", "state = 'hello'::bytea", "not JSON"),
    "state-not-utf8": ("state = x'ff00ff'", "state = '\\xff00ff'::bytea", "not JSON"),
    "state-null": ("state = NULL", "state = NULL", "it has no content"),
    "topic-null": ("topic = NULL", "topic = NULL", "it has no event type"),
    "version-negative": ("originator_version = -1", "originator_version = -1", "its version is not a positive number"),
    "version-text": ("originator_version = 'x'", None, "its version is not a positive number"),
}


def _damage(home: Path, backend: str, clause: str | None, version: int = DAMAGED) -> None:
    from forger import Forger

    if clause is None:
        pytest.skip(f"a {backend} column cannot hold this damage")
    app = open_store(home)
    try:
        forger = Forger(app)
        stream = stream_id("acme")
        forger._run(f"UPDATE {forger.qualified} SET {clause} WHERE originator_id = ? AND originator_version = ?",
                    (forger._key(stream), version))
    finally:
        app.close()


def _clause(store, name: str) -> str | None:
    sqlite, postgres, _ = DAMAGE[name]
    return postgres if store.backend == "postgres" else sqlite


@pytest.mark.parametrize("name", list(DAMAGE))
def test_a_command_names_the_damaged_record_of_its_client(kept: Path, store, name: str) -> None:
    _damage(kept, store.backend, _clause(store, name))
    for args in (("invoice", "issue", "acme", "--amount", "5EUR", "--on", "2026-01-20"),
                 ("pdf", "dossier", "acme", "-o", str(kept.parent / "dossier.pdf")),
                 ("follow-up",)):
        said = refused(kept, args, 1, f"cannot be read ({DAMAGE[name][2]})", env=KEYED)
        assert "acme" in said or str(stream_id("acme")) in said, said  # its client, or its stream


@pytest.mark.parametrize("name", list(DAMAGE))
def test_export_and_rebuild_name_the_damaged_record(kept: Path, store, name: str, tmp_path: Path) -> None:
    _damage(kept, store.backend, _clause(store, name))
    refused(kept, ("export", str(tmp_path / "backup.jsonl")), 1, f"cannot be read ({DAMAGE[name][2]})", env=KEYED)
    refused(kept, ("rebuild",), 1, f"cannot be read ({DAMAGE[name][2]})", env=KEYED)


@pytest.mark.parametrize("name", list(DAMAGE))
def test_the_audit_reports_a_damaged_record_as_a_break(kept: Path, store, name: str) -> None:
    _damage(kept, store.backend, _clause(store, name))
    outcome = run(kept, "audit", "verify", env=KEYED)
    assert outcome.code == 1, outcome.stderr
    assert "Verdict: NOT OK" in outcome.stdout, outcome.stdout
    assert outcome.stderr.startswith("error: the store does not verify") and len(outcome.stderr_lines) == 1
    assert not PYTHON.search(outcome.stdout + outcome.stderr)


def test_a_stream_id_that_is_no_uuid_is_named_as_stored(kept: Path, store, tmp_path: Path) -> None:
    if store.backend == "postgres":
        pytest.skip("a uuid column holds only UUIDs")
    _damage(kept, store.backend, "originator_id = 'zz'")
    for args in (("export", str(tmp_path / "backup.jsonl")), ("rebuild",)):
        refused(kept, args, 1, "the record 'zz' v2 cannot be read (its stream id is not one tratos writes)",
                env=KEYED)
    assert run(kept, "status", env=KEYED).code == 0  # the read models the rebuild found are kept (ADR-88)
    audit = run(kept, "audit", "verify", "--json", env=KEYED)
    assert audit.code == 1 and not PYTHON.search(audit.stderr), audit.stderr
    assert "the record zz v2 cannot be read" in audit.stdout


def test_a_note_reads_no_negative_version_as_the_stream_s_first(kept: Path, store) -> None:
    _damage(kept, store.backend, "originator_version = -1")
    refused(kept, ("note", "acme", "a call"), 1, "its version is not a positive number", env=KEYED)


@pytest.mark.parametrize("host", ["a..b", "a" * 64 + ".example", "a\uffffb", "%2e%2e"],
                         ids=["empty-label", "long-label", "noncharacter", "escaped-dots"])
def test_a_host_the_resolver_cannot_encode_is_a_url_error(tmp_path: Path, host: str) -> None:
    outcome = run(tmp_path, "--database-url", f"postgresql://postgres@{host}:5432/test", "status",
                  env={"TRATOS_DATABASE_URL": None})
    assert outcome.code == 2, outcome.stderr
    assert len(outcome.stderr_lines) == 1 and outcome.stderr.startswith("error: invalid host "), outcome.stderr
    assert not PYTHON.search(outcome.stderr)


def test_a_host_that_encodes_is_still_tried(tmp_path: Path) -> None:
    outcome = run(tmp_path, "--database-url", "postgresql://postgres@127.0.0.1:1/test", "status",
                  env={"TRATOS_DATABASE_URL": None})
    assert outcome.code == 2 and "cannot reach PostgreSQL at 127.0.0.1:1" in outcome.stderr, outcome.stderr


def _unreadable_regular_file() -> Path:
    path = Path("/proc/self/mem")
    try:
        with path.open("rb") as reader:
            reader.read(5)
    except OSError:
        return path
    pytest.skip("no regular file here fails to read")


@pytest.mark.parametrize("args, what", [(("verifactu", "verify"), "the Verifactu file"),
                                        (("mail", "import"), "mail file"),
                                        (("verify",), "PDF"),
                                        (("note", "acme", "a call", "--evidence"), "evidence file")],
                         ids=["verifactu-verify", "mail-import", "verify", "note-evidence"])
def test_a_regular_file_that_fails_to_read_is_said_alike(kept: Path, args: tuple[str, ...], what: str) -> None:
    path = _unreadable_regular_file()
    refused(kept, (*args, str(path)), 2, f"cannot read {what} {path}: Input/output error", env=KEYED)
