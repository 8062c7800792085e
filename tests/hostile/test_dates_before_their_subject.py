"""An event about something cannot be dated before that something existed (D9), and what the
store's folders and a failed rebuild after an import leave (D12, D2).

One rule in the domain (`relationship._not_before`): hours on a contract not before it was drafted
(nor before the change they are for was requested), a document about a contract, change, mistake
or invoice not before it. Refused with one `error:` line, exit 1, nothing recorded, both backends.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cli_support import IN_FORCE, given, run, store_rows

from domain.model.errors import Refused

BEFORE_DRAFT = "2026-01-06"  # K1 was drafted on 2026-01-08 (IN_FORCE), acme opened on 2026-01-05


@pytest.fixture
def acme(cli_home) -> Path:
    given(cli_home, IN_FORCE + [("change", "request", "acme", "More pages", "--on", "2026-01-20")])
    return cli_home


@pytest.mark.parametrize("args, says", [
    (("hours", "log", "acme", "1", "--on", BEFORE_DRAFT), "2026-01-06 is before contract K1 was drafted (2026-01-08)"),
    (("hours", "log", "acme", "1", "--change", "C1", "--on", "2026-01-19"),
     "2026-01-19 is before change C1 was requested (2026-01-20)"),
], ids=["hours-before-the-contract", "hours-before-the-change"])
def test_an_event_dated_before_its_subject_is_refused(args, says, acme):
    before = store_rows(acme)
    outcome = run(acme, *args)
    assert outcome.code == 1, outcome.stderr
    assert outcome.stderr_lines == [f"error: {says}"], outcome.stderr
    assert store_rows(acme) == before


def test_hours_on_the_day_the_contract_was_drafted_are_accepted(acme):
    assert run(acme, "hours", "log", "acme", "1", "--on", "2026-01-08").code == 0


@pytest.mark.parametrize("kind, ref, on, says", [
    ("contract", "K1", "2026-01-06", "2026-01-06 is before contract K1 was drafted (2026-01-08)"),
    ("change", "C1", "2026-01-19", "2026-01-19 is before change C1 was requested (2026-01-20)"),
])
def test_a_document_dated_before_its_subject_is_refused(kind, ref, on, says, acme):
    """What `tratos pdf KIND` records after printing (the printer takes the PDF back when refused)."""
    from datetime import date

    from cli_support import open_store

    app = open_store(acme)
    try:
        head = app.relationship("acme")
        with pytest.raises(Refused, match=says.replace("(", r"\(").replace(")", r"\)")):
            app.issue_document("acme", kind, sha256="ab" * 32, chain_version=head.version,
                               chain_digest=head.head_digest, on=date.fromisoformat(on), document_id=ref, lang="en")
    finally:
        app.close()


# ------------------------------------------------------------------ D12: the evidence folder


def test_an_evidence_folder_others_may_read_is_narrowed_to_its_owner(acme, tmp_path):
    evidence = acme / "evidence"
    evidence.mkdir(exist_ok=True)
    evidence.chmod(0o777)
    acme.chmod(0o755)  # a home the user made: left as it is (ADR-30)
    note = tmp_path / "call.txt"
    note.write_text("Laura confirmed by phone\n")
    assert run(acme, "note", "acme", "Called Laura", "--evidence", str(note)).code == 0
    assert stat.S_IMODE(evidence.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) & 0o077 == 0 for p in evidence.rglob("*"))
    assert stat.S_IMODE(acme.stat().st_mode) == 0o755
