"""`tratos audit verify / anchor / keygen`: what they report, refuse and never change."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from forger import Forger
from support import ACME, ACME_STREAM, NOTE, SIGNED_CLIENT, record_story, tratos

from domain.adapters.audit import audit_store
from domain.adapters.evidence import EvidenceFolder


@pytest.fixture
def story(app, home, store):
    record_story(app, home)
    assert tratos(store, "status").code == 0
    return app


def evidence_file(home: Path) -> Path:
    files = [p for p in (home / "evidence").rglob("*") if p.is_file()]
    assert len(files) == 1
    return files[0]


class TestVerify:
    def test_reports_every_stream_with_its_head(self, story, store):
        report = tratos(store, "--json", "audit", "verify").json()
        assert report["ok"] and report["records"] == 14
        assert [(s["label"], s["events"], s["head_version"]) for s in report["streams"]] == [
            (ACME, 10, 10), ("north-wind", 2, 2), ("invoices:F-2026", 1, 1), ("records:12345678Z", 1, 1)]
        acme = report["streams"][0]
        assert acme["head_digest"] == story.relationship(ACME).head_digest
        assert report["documents_checked"] == 1 and report["evidence_files_checked"] == 1
        assert report["positions_checked"] == 2

    def test_json_flag_after_the_command_too(self, story, store):
        assert tratos(store, "audit", "verify", ACME, "--json").json()["streams"][0]["label"] == ACME

    def test_one_client(self, story, store):
        report = tratos(store, "--json", "audit", "verify", "north-wind").json()
        assert [s["label"] for s in report["streams"]] == ["north-wind"]

    def test_an_unknown_client_is_bad_input(self, story, store):
        outcome = tratos(store, "audit", "verify", "acm")
        assert outcome.code == 2
        assert outcome.stderr.startswith("error: no client 'acm'")

    def test_a_missing_evidence_file_is_reported_at_the_event_that_cites_it(self, story, store, home):
        evidence_file(home).unlink()
        outcome = tratos(store, "audit", "verify")
        assert outcome.code == 1
        assert f"v{SIGNED_CLIENT} evidence missing: evidence acceptance.eml" in outcome.stdout

    def test_a_changed_evidence_file_is_reported(self, story, store, home):
        path = evidence_file(home)
        path.write_bytes(path.read_bytes().replace(b"accept", b"reject"))
        outcome = tratos(store, "audit", "verify")
        assert outcome.code == 1
        assert f"v{SIGNED_CLIENT} evidence changed" in outcome.stdout

    def test_verifying_changes_nothing(self, story, store):
        forger = Forger(story)
        before = [forger.records(s) for s in (ACME_STREAM,)]
        witness_before = _witness(story)
        for _ in range(2):
            assert tratos(store, "audit", "verify").code == 0
        assert [forger.records(s) for s in (ACME_STREAM,)] == before
        assert _witness(story) == witness_before

    def test_reads_the_log_in_pages_and_looks_up_only_anchored_versions(self, story):
        spy = _SpyRecorder(story.recorder)
        small = audit_store(_With(story, spy), page_size=4,
                            evidence_file=EvidenceFolder.of(story.home).path)
        whole = audit_store(story, evidence_file=EvidenceFolder.of(story.home).path)
        assert small.as_dict() == whole.as_dict()
        assert spy.pages == [4, 4, 4, 2]  # 14 records, never more than a page in memory
        assert spy.lookups == []  # the one document anchors the version just before it: no lookup


class TestAnchor:
    def test_an_anchor_note_verifies_the_store_it_was_made_from(self, story, store):
        note = tratos(store, "audit", "anchor")
        assert note.code == 0
        lines = [line for line in note.stdout.splitlines() if line.startswith("tratos-anchor")]
        digest = story.relationship(ACME).head_digest
        assert lines[0] == f"tratos-anchor v1 {ACME} {NOTE} {digest}"
        assert [line.split()[2] for line in lines] == [ACME, "north-wind", "invoices:F-2026", "records:12345678Z"]
        assert tratos(store, "audit", "verify", "--anchor", note.stdout).code == 0

    def test_later_events_do_not_break_an_older_note(self, story, store):
        note = tratos(store, "audit", "anchor", ACME).stdout
        assert tratos(store, "note", ACME, "One more call", "--on", "2026-03-01").code == 0
        assert tratos(store, "audit", "verify", ACME, "--anchor", note).code == 0

    def test_a_note_with_another_digest_means_the_stream_was_rewritten(self, story, store):
        note = tratos(store, "audit", "anchor", ACME).stdout
        digest = story.relationship(ACME).head_digest
        outcome = tratos(store, "audit", "verify", "--anchor", note.replace(digest, "ab" * 32))
        assert outcome.code == 1
        assert f"v{NOTE} rewritten: the anchor note saw version {NOTE} with digest abababab" in outcome.stdout

    def test_a_note_for_a_client_the_log_lost_entirely(self, story, store):
        text = "tratos-anchor v1 ghost 3 " + "cd" * 32
        outcome = tratos(store, "audit", "verify", "ghost", "--anchor", text)
        assert outcome.code == 1
        assert "the log holds no event of this stream" in outcome.stdout

    @pytest.mark.parametrize("text, message", [
        ("tratos-anchor v2 acme 3 " + "ab" * 32, "anchor format v2 is not known"),
        ("hello", "no `tratos-anchor v1 …` line"),
        ("tratos-anchor v1 acme three " + "ab" * 32, "unreadable anchor line"),
        ("tratos-anchor v1 ACME! 3 " + "ab" * 32, "invalid client handle"),
    ])
    def test_unreadable_notes_are_bad_input(self, story, store, text, message):
        outcome = tratos(store, "audit", "verify", "--anchor", text)
        assert outcome.code == 2
        assert message in outcome.stderr and len(outcome.stderr.splitlines()) == 1

    def test_no_note_for_a_broken_store(self, story, store):
        Forger(story).delete(ACME_STREAM, 3)
        outcome = tratos(store, "audit", "anchor")
        assert outcome.code == 1 and outcome.stdout == ""
        assert "does not verify (acme)" in outcome.stderr


def test_an_empty_store_verifies_and_has_nothing_to_anchor(store):
    Path(store.home).mkdir(parents=True, exist_ok=True)  # an empty home; one that is not there is named (ADR-54)
    verified = tratos(store, "audit", "verify")
    assert verified.code == 0 and "The store holds no events yet." in verified.stdout
    anchored = tratos(store, "audit", "anchor")
    assert anchored.code == 1
    assert anchored.stderr == "error: the store holds no events yet: there is nothing to anchor\n"


def test_keygen_prints_a_base64_32_byte_key(store):
    first, second = tratos(store, "audit", "keygen"), tratos(store, "audit", "keygen")
    assert first.code == 0
    key = first.stdout.strip()
    assert len(base64.b64decode(key, validate=True)) == 32
    assert key != second.stdout.strip()
    assert "Keep this key safe" in first.stderr


# ------------------------------------------------------------------ spies


def _witness(app) -> tuple:
    from projections.heads import StreamHeads

    witness = StreamHeads(app).witness()
    return dict(witness.positions), sorted(witness.heads, key=lambda a: str(a.stream))


class _SpyRecorder:
    """The app's recorder, noting how many records each page returned and each point lookup."""

    def __init__(self, recorder) -> None:
        self.recorder = recorder
        self.pages: list[int] = []
        self.lookups: list[tuple] = []

    def select_notifications(self, *args, **kwargs):
        page = self.recorder.select_notifications(*args, **kwargs)
        self.pages.append(len(page))
        return page

    def select_raw_notifications(self, *args, **kwargs):  # the audit's: damaged rows too
        page = self.recorder.select_raw_notifications(*args, **kwargs)
        self.pages.append(len(page))
        return page

    def select_events(self, *args, **kwargs):
        self.lookups.append((args, kwargs))
        return self.recorder.select_events(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.recorder, name)


class _With:
    def __init__(self, app, recorder) -> None:
        self.mapper, self.recorder = app.mapper, recorder
