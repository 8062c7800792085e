"""The hash chain recomputed from the raw stored records catches any edit made under the app."""

from __future__ import annotations

import json
from datetime import date

import pytest
from forger import Forger
from store_story import HANDLE, eur, open_and_sign
from tax_profile import UNTAXED_PROFILE

from domain.model.chain import canonical_json
from domain.model.values import stream_id

STREAM = stream_id(HANDLE)


@pytest.fixture
def story(app):
    """acme with K1 in force, installment 1 invoiced and paid, a note: 8 events."""
    open_and_sign(app)
    app.issue_invoice(HANDLE, installment=1, on=date(2026, 1, 15))
    app.record_payment(HANDLE, "F-2026-001", eur(4000), on=date(2026, 2, 1))
    app.record_note(HANDLE, "Paid on time", on=date(2026, 2, 2))
    report = app.verify(HANDLE)
    assert report.ok and report.head_version == report.events == 8
    return app


def _version_of(raw: Forger, topic_name: str) -> int:
    return next(v for v, t, _ in raw.versions(STREAM) if t.endswith(f":{topic_name}"))


class TestTamperingIsDetected:
    def test_the_store_schema_is_what_the_tamper_tests_expect(self, story):
        raw = Forger(story)
        assert {"originator_id", "originator_version", "topic", "state"} <= set(raw.columns())
        versions = raw.versions(STREAM)
        assert [v for v, _, _ in versions] == list(range(1, 9))
        assert json.loads(versions[0][2])["handle"] == HANDLE  # plain canonical JSON, readable

    def test_editing_an_amount_in_the_stored_bytes_breaks_exactly_that_version(self, story, make_app):
        raw = Forger(story)
        paid = _version_of(raw, "PaymentReceived")
        original = raw.state(STREAM, paid)
        assert b'"amount":"4000.00"' in original
        raw.write_state(STREAM, paid, original.replace(b'"amount":"4000.00"', b'"amount":"40.00"'))

        for app in (story, make_app()):  # the running app and a freshly opened one agree
            report = app.verify(HANDLE)
            assert not report.ok
            assert report.broken.version == paid
            assert report.head_version == paid - 1

    def test_editing_a_business_date_is_detected(self, story):
        raw = Forger(story)
        state = json.loads(raw.state(STREAM, 3))
        state["occurred_on"] = "2025-12-01"
        raw.write_state(STREAM, 3, canonical_json(state))
        assert story.verify(HANDLE).broken.version == 3

    def test_an_edit_resealed_with_a_fresh_digest_breaks_the_next_version(self, story):
        from domain.model.chain import digest_of

        raw = Forger(story)
        state = json.loads(raw.state(STREAM, 4))
        previous = json.loads(raw.state(STREAM, 3))["digest"]
        state["signer"] = "Someone Else"
        state["digest"] = digest_of(previous, STREAM, 4, "ContractSigned", state)
        raw.write_state(STREAM, 4, canonical_json(state))
        assert story.verify(HANDLE).broken.version == 5

    def test_deleting_a_middle_record_is_detected(self, story):
        raw = Forger(story)
        raw.delete(STREAM, 5)
        report = story.verify(HANDLE)
        assert report.broken.version == 5
        assert "missing" in report.broken.problem

    def test_swapping_two_versions_is_detected(self, story):
        raw = Forger(story)
        raw.swap(STREAM, 6, 7)
        assert [v for v, _, _ in raw.versions(STREAM)] == list(range(1, 9))
        assert story.verify(HANDLE).broken.version == 6

    def test_appending_a_copied_record_is_detected(self, story):
        raw = Forger(story)
        _, topic, state = raw.records(STREAM)[-1]
        raw.insert(STREAM, 9, topic, state)
        report = story.verify(HANDLE)
        assert report.broken.version == 9

    def test_other_streams_stay_verified(self, story):
        open_and_sign(story, "globex", "Globex SA")
        Forger(story).delete(STREAM, 2)
        assert story.verify("globex").ok
        assert not story.verify(HANDLE).ok

    def test_an_untouched_store_verifies_after_many_commands(self, story):
        story.issue_invoice(HANDLE, installment=2, on=date(2026, 2, 15), profile=UNTAXED_PROFILE)
        story.mark_late(HANDLE, "F-2026-002", on=date(2026, 3, 20))
        story.end_relationship(HANDLE, reason="Done", ended_by="us", on=date(2026, 3, 31))
        report = story.verify(HANDLE)
        assert report.ok
        relationship = story.relationship(HANDLE)
        assert (report.head_version, report.head_digest) == (relationship.version, relationship.head_digest)
