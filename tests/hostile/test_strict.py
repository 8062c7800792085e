"""Hostile input, strictly read: a value is valid whole or not at all (ADR-33).

A handle with a trailing newline, an anchor of version 0 or written in other digits, an
evidence file whose name carries a line break or a bidirectional override, an export whose
header or end line says `true`, `1.0` or `"1"` where a whole number belongs: each is refused
with one `error:` line and exit code 2, and the stored events and the evidence folder stay as
they were, on both backends.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import (
    IN_FORCE,
    copied,
    evidence_files,
    given,
    ok,
    recorded_template,  # noqa: E402
    refused,
    run,
    store_rows,
)

HEX = "ab" * 32


@pytest.fixture
def acme(module_store, store) -> Iterator[Path]:
    """acme in force: a private copy per test and backend."""
    with copied(recorded_template(module_store, store.backend, "hostile-strict", IN_FORCE), store) as home:
        yield home


# --------------------------------------------------------------- A: a handle is valid whole

HANDLES = ["acme\n", "north\n", "acme\r", "acme\t", " acme", "acme ", "ACME", "ac\u202eme", "acme\x00",
           "\uff41cme", "acme\u2028", "acme\n\n", "acme-", "acme_"]


@pytest.mark.parametrize("handle", HANDLES, ids=ascii)
def test_a_handle_is_checked_whole(acme: Path, handle: str) -> None:
    refused(acme, ("client", "open", handle, "--name", "Impostor SL"), 2, "invalid client handle")


@pytest.mark.parametrize("handle", ["acme\n", "acme\r\n"], ids=ascii)
def test_a_handle_with_a_line_end_names_no_client(acme: Path, handle: str) -> None:
    refused(acme, ("note", handle, "Called Laura"), 2, "invalid client handle")


def test_a_schema_name_is_checked_whole(tmp_path: Path) -> None:
    outcome = run(tmp_path, "--database-url", "postgresql://127.0.0.1:5432/tratos?schema=books%0A", "status")
    assert outcome.code == 2, outcome.stderr
    assert len(outcome.stderr_lines) == 1 and outcome.stderr.startswith("error: invalid schema name"), outcome.stderr


# --------------------------------------------------------------- B: anchors

BAD_ANCHORS = {
    "empty": ("", "--anchor is empty"),  # every option given empty (ADR-54)
    "blank": ("   ", "--anchor is empty"),
    "version-0": (f"tratos-anchor v1 acme 0 {HEX}", "names version 0: versions start at 1"),
    "version-00": (f"tratos-anchor v1 acme 00 {HEX}", "names version 00: versions start at 1"),
    "arabic-indic-version": (f"tratos-anchor v1 acme \u0663 {HEX}", "unreadable anchor line"),
    "persian-version": (f"tratos-anchor v1 acme \u06f3 {HEX}", "unreadable anchor line"),
    "devanagari-version": (f"tratos-anchor v1 acme \u0969 {HEX}", "unreadable anchor line"),
    "full-width-version": (f"tratos-anchor v1 acme \uff13 {HEX}", "unreadable anchor line"),
    "arabic-indic-format": (f"tratos-anchor v\u0661 acme 3 {HEX}", "unreadable anchor line"),
    "endless-version": (f"tratos-anchor v1 acme {'9' * 5000} {HEX}", "unreadable anchor line"),
    "arabic-indic-series-year": (f"tratos-anchor v1 invoices:F-\u0662\u0660\u0662\u0666 1 {HEX}",
                                 "invalid invoice series"),
    "handle-in-capitals": (f"tratos-anchor v1 ACME 3 {HEX}", "invalid client handle"),
}


@pytest.mark.parametrize("kind", BAD_ANCHORS)
def test_an_anchor_that_checks_nothing_is_bad_input(acme: Path, kind: str) -> None:
    text, message = BAD_ANCHORS[kind]
    refused(acme, ("audit", "verify", "acme", "--anchor", text), 2, message)


def test_an_empty_anchor_file_is_bad_input(acme: Path, tmp_path: Path) -> None:
    note = tmp_path / "heads.txt"
    note.write_text("\n")
    refused(acme, ("audit", "verify", "--anchor-file", str(note)), 2, "is empty")


# --------------------------------------------------------------- C: evidence file names

BAD_NAMES = {
    "rlo": ("inv\u202eexe.txt", "contains a bidirectional control character (U+202E)"),
    "rli": ("inv\u2067exe.txt", "contains a bidirectional control character (U+2067)"),
    "lrm": ("inv\u200e.txt", "contains a bidirectional control character (U+200E)"),
    "alm": ("inv\u061c.txt", "contains a bidirectional control character (U+061C)"),
    "newline": ("ev\nnl.txt", "is one line"),
    "tab": ("ev\tnl.txt", "is one line"),
    "line-separator": ("ev\u2028nl.txt", "is one line"),
    "carriage-return": ("ev\rnl.txt", "contains control characters"),
    "escape": ("ev\x1b[31m.txt", "contains control characters"),
    "c1-next-line": ("ev\x85.txt", "contains control characters"),
}


@pytest.mark.parametrize("kind", BAD_NAMES)
@pytest.mark.parametrize("command", [
    lambda f: ("note", "acme", "See the file", "--evidence", f),
    lambda f: ("change", "request", "acme", "A blog", "--evidence", f),
    lambda f: ("mistake", "report", "acme", "Typo", "--by", "client", "--evidence", f),
], ids=["note", "change", "mistake"])
def test_an_evidence_name_shows_as_it_is_stored(acme: Path, tmp_path: Path, kind: str, command) -> None:
    name, message = BAD_NAMES[kind]
    path = tmp_path / name
    path.write_bytes(b"proof")
    refused(acme, command(str(path)), 2, f"the evidence file name {name!r} {message}")
    outcome = run(acme, *command(str(path)))
    assert "rename the file" in outcome.stderr and "nothing was recorded" in outcome.stderr


def test_a_plain_evidence_name_is_still_kept(acme: Path, tmp_path: Path) -> None:
    path = tmp_path / "Laura's email (2026-03-02).txt"
    path.write_bytes(b"proof")
    ok(acme, "note", "acme", "See the file", "--evidence", str(path))
    assert len(evidence_files(acme)) > 0


# --------------------------------------------------------------- D: export header and end line

@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """The lines of an export of acme in force (written once, on SQLite: the file is the same)."""
    home = tmp_path_factory.mktemp("strict-export")
    given(home, IN_FORCE)
    ok(home, "export", str(home / "acme.jsonl"))
    return [json.loads(line) for line in (home / "acme.jsonl").read_bytes().splitlines()]


def forged(exported: list[dict], folder: Path, header: dict | None = None, end: dict | None = None,
           first_record: dict | None = None) -> Path:
    lines = [dict(line) for line in exported]
    lines[0].update(header or {})
    lines[-1].update(end or {})
    lines[1].update(first_record or {})
    path = folder / "forged.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


FORGERIES = {
    "version-true": ({"header": {"format_version": True}}, "format_version is True, not a whole number"),
    "version-float": ({"header": {"format_version": 1.0}}, "format_version is 1.0, not a whole number"),
    "version-string": ({"header": {"format_version": "1"}}, "format_version is '1', not a whole number"),
    "version-list": ({"header": {"format_version": [1]}}, "format_version is [1], not a whole number"),
    "version-null": ({"header": {"format_version": None}}, "format_version is None, not a whole number"),
    "version-2": ({"header": {"format_version": 2}}, "has export format version 2, which this tratos"),
    "count-string": ({"end": {"events": "COUNT"}}, "the end line's event count is 'COUNT', not a whole number"),
    "count-float": ({"end": {"events": "COUNT.0"}}, "the end line's event count is COUNT.0, not a whole number"),
    "count-true": ({"end": {"events": True}}, "the end line's event count is True, not a whole number"),
    "count-wrong": ({"end": {"events": 3}}, "the end line counts 3 events, the file holds COUNT"),
    "record-version-true": ({"first_record": {"version": True}}, "line 2 has a malformed version"),
}


@pytest.mark.parametrize("kind", FORGERIES)
def test_an_export_says_its_numbers_as_whole_numbers(cli_home: Path, exported: list[dict], tmp_path: Path,
                                                      kind: str) -> None:
    changes, message = FORGERIES[kind]
    count = len(exported) - 2
    stand_in = {"COUNT": str(count), "COUNT.0": float(count)}
    changes = {part: {key: stand_in.get(value, value) if isinstance(value, str) else value
                      for key, value in fields.items()} for part, fields in changes.items()}
    message = message.replace("COUNT.0", repr(float(count))).replace("COUNT", str(count))
    path = forged(exported, tmp_path, **changes)
    refused(cli_home, ("import", str(path)), 2, message)
    assert store_rows(cli_home) == [] and evidence_files(cli_home) == []


def test_the_export_itself_still_imports(cli_home: Path, exported: list[dict], tmp_path: Path) -> None:
    ok(cli_home, "import", str(forged(exported, tmp_path)))
    assert len(store_rows(cli_home)) == len(exported) - 2


@pytest.mark.parametrize("ref", ["v\u0661", "\u0661", "v\uff11"], ids=ascii)
def test_a_terms_version_is_written_with_the_digits_0_to_9(acme: Path, tmp_path: Path, ref: str) -> None:
    out = tmp_path / "terms.pdf"
    refused(acme, ("pdf", "terms", "acme", ref, "-o", str(out)), 2, "acme has no terms")
    assert not out.exists()


def test_an_anchor_line_is_valid_whole(acme: Path) -> None:
    """Whatever follows the digest on its line makes the anchor unreadable (a quoting prefix does not)."""
    printed = ok(acme, "audit", "anchor", "acme").stdout
    anchor = next(line for line in printed.splitlines() if line.startswith("tratos-anchor"))
    assert run(acme, "audit", "verify", "--anchor", f"> {anchor}").code == 0
    refused(acme, ("audit", "verify", "--anchor", f"{anchor} extra"), 2, "unreadable anchor line")
    refused(acme, ("audit", "verify", "--anchor", f"{anchor}\u202e"), 2, "unreadable anchor line")
