"""A note loads the relationship's first and last events (`Notebook`), not its whole stream.

`Tratos.record_note` resumes a `Notebook` from two events; this pins that it chains the note
exactly as the replayed `Relationship` would, keeps the one rule over notes (nothing before
the opening), still takes notes after the end, and reads two events however long the stream.
"""

from __future__ import annotations

from datetime import date

import pytest

from domain.model.chain import RawRecord, stored_state, verify_chain
from domain.model.errors import Refused, UnknownClient
from domain.model.events import stored_topic
from domain.model.notebook import Notebook
from domain.model.values import Evidence, Party
from tests.domain.domain_builders import HANDLE, OPENED, in_force, new_events

MOMENT = {"timestamp", "digest"}  # the clock differs between two recordings; the digest covers it


def test_a_note_on_the_notebook_is_the_note_the_whole_relationship_records() -> None:
    relationship = in_force()
    events = new_events(relationship)
    notebook = Notebook(events[0], events[-1])
    assert (notebook.id, notebook.version, notebook.head_digest) == \
        (relationship.id, relationship.version, relationship.head_digest)

    evidence = [Evidence(name="mail.eml", sha256="ab" * 32, size=10)]
    by_notebook = notebook.record_note("Asked for weekly calls", on=date(2026, 2, 3), evidence=evidence, actor="Ana")
    by_relationship = relationship.record_note("Asked for weekly calls", on=date(2026, 2, 3), evidence=evidence,
                                               actor="Ana")
    assert by_notebook.model_dump(exclude=MOMENT) == by_relationship.model_dump(exclude=MOMENT)
    chain = [RawRecord(e.originator_version, stored_topic(type(e)), stored_state(e)) for e in [*events, by_notebook]]
    assert verify_chain(relationship.id, chain).ok
    # A replay of the stream takes the notebook's note as its next event.
    replayed = type(relationship).project(None, [*events, by_notebook])
    assert replayed.notes[-1].text == "Asked for weekly calls" and replayed.version == len(events) + 1


def test_the_notebook_refuses_a_note_before_the_opening_as_the_relationship_does() -> None:
    relationship = in_force()
    events = new_events(relationship)
    before = date.fromordinal(OPENED.toordinal() - 1)
    with pytest.raises(Refused) as by_relationship:
        relationship.record_note("Too early", on=before)
    with pytest.raises(Refused) as by_notebook:
        Notebook(events[0], events[-1]).record_note("Too early", on=before)
    assert str(by_notebook.value) == str(by_relationship.value)
    assert Notebook(events[0], events[-1]).record_note("On the day", on=OPENED).originator_version == len(events) + 1


def test_notes_through_the_application_read_two_events_and_chain_on(app) -> None:
    app.open_relationship(HANDLE, Party(name="Acme SL"), on=OPENED)
    for n in range(30):
        app.record_note(HANDLE, f"Call {n}", on=date(2026, 1, 6))
    app.end_relationship(HANDLE, reason="Project delivered", ended_by="us", on=date(2026, 2, 1))

    decoded = []
    decode = app.mapper.to_domain_event
    app.mapper.to_domain_event = lambda stored: decoded.append(stored) or decode(stored)
    recorded = app.record_note(HANDLE, "Final invoice sent by post", on=date(2026, 2, 2))  # after the end
    assert len(decoded) == 2  # the opening and the end, not the 32 events of the stream
    assert [e.originator_version for e in recorded.events] == [33]

    app.mapper.to_domain_event = decode
    relationship = app.relationship(HANDLE)
    assert [note.text for note in relationship.notes[-2:]] == ["Call 29", "Final invoice sent by post"]
    assert relationship.version == 33 and app.verify(HANDLE).ok
    with pytest.raises(Refused):
        app.record_note(HANDLE, "Before we met", on=date(2026, 1, 4))
    with pytest.raises(UnknownClient):
        app.record_note("nobody", "x", on=date(2026, 1, 20))
    assert app.relationship(HANDLE).version == 33  # refused notes recorded nothing


def test_a_count_of_one_takes_its_noun_in_the_singular() -> None:
    from domain.model.wording import counted

    assert [counted(n, "day") for n in (0, 1, 2)] == ["0 days", "1 day", "2 days"]
    assert counted(1, "chain head") == "1 chain head" and counted(3, "installment") == "3 installments"
