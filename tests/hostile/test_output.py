"""Hostile output: a full disk or a closed pipe on stdout, an encoding that cannot hold a character,
and inputs whose failure used to name an internal exception (an unreadable database URL, JSON nested
too deeply, a class version tratos never wrote, a PDF that does not verify).

A command whose output cannot be written says so in one line: `warning:` and exit 0 if it had
recorded (a retry would record twice), `error:` and exit 1 if not; the store holds what it
recorded exactly once. Every refusal is one plain `error:` line, on both backends.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from cli_support import (
    IN_FORCE,
    TODAY,
    copied,
    evidence_files,
    recorded_template,  # noqa: E402
    run,
    store_args,
    store_rows,
    use_database,
)
from forger import seal  # noqa: E402

HISTORY = IN_FORCE + [
    ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15"),  # F-2026-001, 4000 EUR
]


def template(module_store, backend: str):
    """acme in force with one invoice, recorded once per backend for the module."""
    return recorded_template(module_store, backend, "hostile-output", HISTORY)


@pytest.fixture
def acme(module_store, store) -> Iterator[Path]:
    """The template's private copy per test and backend."""
    with copied(template(module_store, store.backend), store) as home:
        yield home


@pytest.fixture
def export_lines(module_store, store, tmp_path: Path) -> list[str]:
    """The template's export, line by line (the test's own store stays empty, to import into)."""
    spec = template(module_store, store.backend)
    path = tmp_path / "all.jsonl"
    with use_database(Path(spec.home), spec.database_url) as home:
        outcome = run(home, "export", str(path))
    assert outcome.code == 0, outcome.stderr
    return path.read_text(encoding="utf-8").splitlines()


def snapshot(home: Path) -> tuple:
    return store_rows(home), evidence_files(home)


def script(home: Path, *args: str, stdout, env: dict[str, str] | None = None,
           closed: bool = False) -> tuple[int, str]:
    """The real `tratos` script on `home`'s store, its standard output `stdout`; (exit code, stderr)."""
    tratos = Path(sys.executable).with_name("tratos")
    settings = {**os.environ, "TRATOS_TODAY": TODAY, "LC_ALL": "C.UTF-8", **(env or {})}
    for unset in ("TRATOS_DEBUG", "TRATOS_DATABASE_URL", "TRATOS_HOME"):
        settings.pop(unset, None)
    done = subprocess.run([str(tratos), *store_args(home), *args], stdout=stdout, stderr=subprocess.PIPE,
                          env=settings, timeout=120, preexec_fn=(lambda: os.close(1)) if closed else None)
    return done.returncode, done.stderr.decode("utf-8", "replace")


def closed_pipe() -> int:
    """The writing end of a pipe whose reader is gone (as in `tratos … | true`)."""
    reader, writer = os.pipe()
    os.close(reader)
    return writer


def written_to(where: str, home: Path, *args: str) -> tuple[int, str]:
    if where == "closed-stdout":  # `tratos … >&-`: the process starts with no standard output
        return script(home, *args, stdout=None, closed=True)
    if where == "full-disk":
        with open("/dev/full", "wb") as full:
            return script(home, *args, stdout=full)
    writer = closed_pipe()
    try:
        return script(home, *args, stdout=writer)
    finally:
        os.close(writer)


OUTPUTS = ["full-disk", "closed-pipe", "closed-stdout"]
REASONS = {"full-disk": "No space left on device", "closed-pipe": "Broken pipe",
           "closed-stdout": "standard output is closed"}


# ---------------------------------------------------------- stdout that cannot be written

RECORDING = [  # (the command, the events it records)
    (("note", "acme", "Called Laura"), 1),
    (("--json", "note", "acme", "Called Laura"), 1),
    (("hours", "log", "acme", "3"), 1),
    (("invoice", "issue", "acme", "--amount", "600EUR"), 3),  # the invoice, its number, its billing record
]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("where", OUTPUTS)
@pytest.mark.parametrize(("args", "events"), RECORDING, ids=["-".join(a[:2]) for a, _ in RECORDING])
def test_a_confirmation_that_cannot_be_written_is_a_warning(acme: Path, where: str, args: tuple[str, ...],
                                                             events: int) -> None:
    before = store_rows(acme)
    code, stderr = written_to(where, acme, *args)
    assert code == 0, stderr
    assert stderr.splitlines() == [
        f"warning: recorded, but its confirmation could not be written ({REASONS[where]})"]
    after = store_rows(acme)
    assert after[:len(before)] == before and len(after) == len(before) + events  # once


READING = [
    ("status", "acme"),
    ("--json", "status", "acme"),
    ("timeline", "acme"),
    ("client", "list"),
    ("status",),
    ("lessons",),
]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("where", OUTPUTS)
@pytest.mark.parametrize("args", READING, ids=lambda a: "-".join(a[:2]))
def test_output_that_cannot_be_written_is_one_error_line(acme: Path, where: str, args: tuple[str, ...]) -> None:
    """A full disk is an error; a reader that left (`| head`) is not: quiet, exit 0, as Unix tools do."""
    before = snapshot(acme)
    code, stderr = written_to(where, acme, *args)
    if where == "closed-pipe":
        assert (code, stderr) == (0, "")
    else:
        assert code == 1, stderr
        assert stderr.splitlines() == [f"error: cannot write the output: {REASONS[where]}"]
    assert snapshot(acme) == before


@pytest.mark.parametrize("encoding", ["latin-1", "iso8859-5"])
def test_what_the_encoding_cannot_hold_is_replaced(acme: Path, encoding: str) -> None:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("tratos")), *store_args(acme), "timeline", "acme"],
        capture_output=True, timeout=120,
        env={**{k: v for k, v in os.environ.items() if k != "TRATOS_DATABASE_URL"},
             "TRATOS_TODAY": TODAY, "PYTHONIOENCODING": encoding})
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    assert "Invoice F-2026-001 issued: ?4,000.00" in done.stdout.decode(encoding)


# ---------------------------------------------------------- refusals that named an exception

BAD_URLS = [
    "postgresql://postgres@[::1:5432/test",
    "postgresql://[::1/test",
    "postgres://user:secret@[fe80::1/db",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_an_unreadable_database_url_is_bad_input(acme: Path, url: str) -> None:
    before = snapshot(acme)
    outcome = run(acme, "--database-url", url, "client", "list")
    assert outcome.code == 2, outcome.stderr
    assert len(outcome.stderr_lines) == 1 and outcome.stderr.startswith("error: the database URL"), outcome.stderr
    assert "cannot be read (Invalid IPv6 URL)" in outcome.stderr and "Error" not in outcome.stderr
    assert "secret" not in outcome.stderr
    assert snapshot(acme) == before


def imported(tmp_path: Path, store, lines: list[str]):
    """`import` of `lines` into the test's own empty store: (outcome, its rows after)."""
    path = tmp_path / "edited.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with use_database(Path(store.home), store.database_url) as home:
        outcome = run(home, "import", str(path))
        return outcome, store_rows(home)


@pytest.mark.parametrize("deep", ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000],
                         ids=["arrays", "objects"])
def test_json_nested_too_deeply_is_not_json(export_lines: list[str], store, tmp_path: Path, deep: str) -> None:
    lines = export_lines
    outcome, rows = imported(tmp_path, store, [lines[0], deep, *lines[1:]])
    assert outcome.code == 2, outcome.stderr
    assert outcome.stderr_lines == ["error: edited.jsonl line 2 is not JSON (nested too deeply); nothing was imported"]
    assert rows == []


@pytest.mark.parametrize("version", [0, -1, "1", True, 1.5, None])
def test_a_class_version_tratos_never_wrote_is_refused(export_lines: list[str], store, tmp_path: Path,
                                                       version) -> None:
    lines = export_lines
    header, records, end = lines[0], [json.loads(line) for line in lines[1:-1]], lines[-1]
    stream = records[0]["stream"]
    mine = [r for r in records if r["stream"] == stream]
    mine[0]["state"]["class_version"] = version
    resealed = seal(UUID(stream), [(r["version"], r["topic"],
                                    {k: v for k, v in r["state"].items() if k != "digest"}) for r in mine])
    for record, (_, _, state) in zip(mine, resealed, strict=True):
        record["state"] = state
    outcome, rows = imported(tmp_path, store, [header, *(json.dumps(r) for r in records), end])
    assert outcome.code in (1, 2), outcome.stderr
    assert len(outcome.stderr_lines) == 1 and outcome.stderr.startswith("error: "), outcome.stderr
    assert f"class version {version!r} is not one tratos ever wrote" in outcome.stderr
    assert "upcast" not in outcome.stderr
    assert rows == []


# ---------------------------------------------------------- verify: the report, and one error line

def flipped(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["unsigned", "flipped-byte"])
def test_a_pdf_that_does_not_verify_says_so_in_one_error_line(acme: Path, tmp_path: Path, damage: str) -> None:
    out = tmp_path / "terms.pdf"
    assert run(acme, "pdf", "terms", "acme", "--unsigned", "-o", str(out)).code == 0
    if damage == "flipped-byte":
        flipped(out)
    before = snapshot(acme)
    outcome = run(acme, "verify", str(out))
    assert outcome.code == 1, outcome.stderr
    assert "Verdict: NOT OK" in outcome.stdout  # the report stays on stdout
    assert len(outcome.stderr_lines) == 1 and outcome.stderr.startswith(f"error: {out} does not verify: ")
    first_reason = outcome.stderr_lines[0].removeprefix(f"error: {out} does not verify: ")
    assert first_reason and first_reason in outcome.stdout.splitlines()[-1]
    as_json = run(acme, "--json", "verify", str(out))
    assert as_json.code == 1 and json.loads(as_json.stdout)["ok"] is False
    assert len(as_json.stderr_lines) == 1 and as_json.stderr.startswith("error: ")
    assert snapshot(acme) == before
