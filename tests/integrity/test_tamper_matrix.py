"""The tamper matrix: each way of editing the database under tratos is caught, on SQLite and PostgreSQL.

Every case records the same story, lets the read models catch up (as any
reading command does), edits the stored records directly with the forger's
toolkit, and runs `tratos audit verify` (or, where only an external witness
can tell, `audit verify --anchor-file` and `tratos verify FILE.pdf`). A case
counts as detected when the command exits 1 and names acme and the version.
The matrix (detected / tried, per backend) is printed at the end of the run.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from forger import Forger, seal
from support import (
    ACME,
    ACME_STREAM,
    DOCUMENT,
    DRAFTED,
    HOURS,
    MATRIX,
    NOTE,
    PAID,
    SIGNED_US,
    record_story,
    tratos,
)

from domain.model.chain import canonical_json, digest_of

PASSPHRASE = "a passphrase for the tamper tests"


@pytest.fixture
def story(app, home, store):
    record_story(app, home)
    assert tratos(store, "status").code == 0  # catches the read models and stream heads up
    return Forger(app)


def detected(store, case: str, outcome, version: int, kind: str | None = None) -> bool:
    """Exit 1, and the report names acme's first broken version (and what is wrong, when given)."""
    names_it = f"{ACME}" in outcome.stdout and f"v{version}" in outcome.stdout
    kind_ok = kind is None or kind in outcome.stdout
    found = outcome.code == 1 and names_it and kind_ok
    MATRIX.setdefault(store.backend, {})[case] = found
    return found


def audit(store, *extra: str):
    return tratos(store, "audit", "verify", *extra)


def broken(store) -> dict:
    """acme's entry in `audit verify --json`."""
    report = tratos(store, "--json", "audit", "verify").json()
    return next(s for s in report["streams"] if s["label"] == ACME)


# ------------------------------------------------------------------ cases


def test_the_untouched_store_passes(story, store):
    outcome = audit(store)
    assert outcome.code == 0, outcome.stdout
    assert "Verdict: OK" in outcome.stdout
    assert broken(store)["events"] == NOTE


def test_one_byte_of_a_payload_changed(story, store):
    original = story.state(ACME_STREAM, NOTE)
    position = original.index(b"phone")
    story.write_state(ACME_STREAM, NOTE, original[:position] + b"P" + original[position + 1:])
    outcome = audit(store)
    assert detected(store, "one byte of a payload", outcome, NOTE, "content changed"), outcome.stdout
    assert broken(store)["first_broken_version"] == NOTE


def test_an_amount_changed_without_recomputing(story, store):
    original = story.state(ACME_STREAM, PAID)
    assert b'"amount":"4000.00"' in original
    story.write_state(ACME_STREAM, PAID, original.replace(b'"amount":"4000.00"', b'"amount":"400.00"'))
    outcome = audit(store)
    assert detected(store, "an amount changed", outcome, PAID, "content changed"), outcome.stdout


def test_a_middle_event_deleted(story, store):
    story.delete(ACME_STREAM, SIGNED_US)
    outcome = audit(store)
    assert detected(store, "a middle event deleted", outcome, SIGNED_US, "event missing"), outcome.stdout
    assert broken(store)["head_version"] == SIGNED_US - 1


def test_the_last_event_deleted_is_caught_by_the_read_models(story, store):
    story.delete(ACME_STREAM, NOTE)
    outcome = audit(store)
    assert detected(store, "the last event deleted", outcome, NOTE, "truncated"), outcome.stdout
    assert "the read models saw version 10" in outcome.stdout


def test_the_last_event_deleted_and_read_models_rebuilt_is_caught_by_an_anchor_note(story, store, tmp_path):
    note = tmp_path / "acme-heads.txt"
    made = tratos(store, "audit", "anchor", ACME)
    assert made.code == 0, made.stderr
    note.write_text("> " + made.stdout.replace("\n", "\n> "))  # quoted back in the client's reply
    story.delete(ACME_STREAM, NOTE)
    assert tratos(store, "rebuild").code == 0
    # The forger's rebuild erased the store's own witness: without an external one it looks fine.
    assert audit(store).code == 0
    outcome = audit(store, "--anchor-file", str(note))
    assert detected(store, "last event deleted + rebuild (anchor note)", outcome, NOTE, "truncated"), outcome.stdout
    assert "the anchor note" in outcome.stdout


def test_the_tail_deleted_and_read_models_rebuilt_is_caught_by_a_pdf_sent(story, store, home, tmp_path):
    from documents.identity import create_identity

    keyed = {"TRATOS_KEY_PASSPHRASE": PASSPHRASE}
    (home / "identity.json").write_text(json.dumps({"name": "Ana García", "email": "ana@example.com",
                                                    "currency": "EUR", "lang": "en"}))
    create_identity(home, name="Ana García", email="ana@example.com", passphrase=PASSPHRASE,
                    not_before=date(2026, 1, 1))
    pdf = tmp_path / "acme-contract.pdf"
    issued = tratos(store, "--json", "pdf", "contract", ACME, "-o", str(pdf), env=keyed)
    assert issued.code == 0, issued.stderr
    assert issued.json()["chain_version"] == NOTE  # the PDF prints head v10; DocumentIssued is v11
    assert tratos(store, "verify", str(pdf), env=keyed).code == 0

    story.delete(ACME_STREAM, NOTE + 1, NOTE)  # the forger removes the last note and the record of the PDF
    assert tratos(store, "rebuild").code == 0
    assert audit(store).code == 0  # the store alone cannot tell any more
    outcome = tratos(store, "verify", str(pdf), env=keyed)
    found = outcome.code == 1 and f"version {NOTE}" in outcome.stdout and ACME in outcome.stdout
    MATRIX.setdefault(store.backend, {})["tail deleted + rebuild (PDF sent)"] = found
    assert found, outcome.stdout
    assert "Verdict: NOT OK" in outcome.stdout


def test_a_forged_event_inserted_with_a_plausible_digest(story, store):
    records = story.records(ACME_STREAM)
    _, _, before = records[HOURS - 2]
    forged = {"actor": "Ana García", "occurred_on": "2026-02-02", "timestamp": before["timestamp"],
              "text": "Client agreed to waive the second installment", "evidence": []}
    forged["digest"] = digest_of(before["digest"], ACME_STREAM, HOURS, "NoteRecorded", forged)
    story.shift_up(ACME_STREAM, HOURS - 1)
    story.insert(ACME_STREAM, HOURS, "domain.events:NoteRecorded", forged)
    outcome = audit(store)
    assert detected(store, "a forged event inserted", outcome, HOURS, "event inserted"), outcome.stdout


def test_two_events_swapped(story, store):
    story.swap(ACME_STREAM, HOURS, NOTE)
    outcome = audit(store)
    assert detected(store, "two events' versions swapped", outcome, HOURS, "order changed"), outcome.stdout


def test_the_whole_stream_replaced_by_a_consistent_chain_while_a_document_anchors_it(story, store):
    records = story.records(ACME_STREAM)
    version, topic, drafted = records[DRAFTED - 1]
    cheaper = json.loads(canonical_json(drafted).replace(b'"amount":"8000.00"', b'"amount":"6000.00"'))
    records[DRAFTED - 1] = (version, topic, cheaper)
    forged = seal(ACME_STREAM, records)
    story.replace_stream(ACME_STREAM, forged)
    assert tratos(store, "rebuild").code == 0  # and the forger hides it from the read models too
    assert broken(store)["head_version"] == NOTE  # every digest recomputed: the chain itself holds
    outcome = audit(store)
    assert detected(store, "whole stream replaced (document anchor)", outcome, DOCUMENT - 1,
                    "rewritten"), outcome.stdout
    assert "the contract K1 issued at version 8" in outcome.stdout


def test_tampering_with_another_stream_leaves_acme_ok(story, store):
    from domain.model.values import stream_id

    story.delete(stream_id("north-wind"), 1)
    report = tratos(store, "--json", "audit", "verify").json()
    by_label = {s["label"]: s for s in report["streams"]}
    assert by_label[ACME]["ok"]
    assert not report["ok"]
    assert tratos(store, "audit", "verify", ACME).code == 0
