"""The rule of a document sent by email (domain/model/mailing.py): it cites a document this
relationship issued, real recipients, a Message-ID, the server's 2xx reply and the .eml kept."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import pytest
from domain_builders import SIGNED, opened, refuses

from domain.model import events as ev
from domain.model.errors import BadInput, Refused
from domain.model.values import Evidence

PDF = hashlib.sha256(b"the invoice").hexdigest()
EML = Evidence(sha256=hashlib.sha256(b"the message").hexdigest(), name="acme-terms-v1-es.eml", size=11,
               media_type="message/rfc822")
ON = date(2026, 1, 20)


def issued():
    relationship = opened()
    relationship.issue_document("terms", sha256=PDF, chain_version=1, chain_digest="0" * 64, on=SIGNED,
                                document_id="v1", lang="es")
    return relationship


def sent(relationship, **overrides):
    fields = {"document_id": "v1", "document_sha256": PDF, "lang": "es", "to": ["laura@acme.test"],
              "subject": "Condiciones v1", "message_id": "<1.2@example.com>",
              "sent_at": datetime(2026, 1, 20, 9, 30, tzinfo=UTC), "server_reply": "250 2.0.0 Ok: queued as 4F1A2",
              "evidence": [EML], "on": ON} | overrides
    return relationship.send_document("terms", **fields)


def test_a_sent_document_is_recorded_with_what_the_server_said() -> None:
    relationship = issued()
    event = sent(relationship)
    assert isinstance(event, ev.DocumentSent) and event.server_reply.startswith("250 ")
    assert relationship.sent[-1].to == ["laura@acme.test"]


@pytest.mark.parametrize(("overrides", "error"), [
    ({"document_sha256": "0" * 64}, BadInput),            # not the bytes issued
    ({"document_id": "v2"}, BadInput),                      # not issued at all
    ({"to": []}, BadInput),
    ({"to": ["Laura <laura@acme.test>"]}, BadInput),
    ({"cc": [""]}, BadInput),
    ({"message_id": "1.2@example.com"}, BadInput),
    ({"server_reply": "550 5.1.1 User unknown"}, BadInput),
    ({"evidence": []}, BadInput),
    ({"evidence": [EML.model_copy(update={"media_type": "application/pdf"})]}, BadInput),
    ({"sent_at": datetime(2026, 1, 20, 9, 30)}, BadInput),  # a time without its zone
    ({"lang": "fr"}, BadInput),
    ({"on": date(2026, 1, 10)}, Refused),                   # before the document was issued
])
def test_a_send_that_does_not_hold_is_refused_and_changes_nothing(overrides: dict, error: type) -> None:
    relationship = issued()
    with refuses(relationship, error):
        sent(relationship, **overrides)


def test_a_document_may_be_sent_after_the_end() -> None:
    relationship = issued()
    relationship.end(reason="Project delivered", ended_by="us", on=ON)
    assert sent(relationship, on=date(2026, 1, 21)).kind == "terms"
