"""The follow-up schedule (domain/model/follow_up.py): which steps, in which tone, due when, and
each step claimed once, sent only when claimed, released when the server refused it."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import pytest
from domain_builders import OPENED, eur, in_force, invoiced, refuses

from domain.model.errors import BadInput, Refused
from domain.model.follow_up import Schedule, check_follow_up_schedule, due_steps, invoice_steps
from domain.model.values import Evidence

EML = Evidence(sha256=hashlib.sha256(b"m").hexdigest(), name="m.eml", size=1, media_type="message/rfc822")


def scheduled(**schedule):
    relationship = invoiced(in_force())  # F-2026-001, issued 2026-01-15, due 2026-02-14
    relationship.schedule_follow_up(1, on=OPENED, **({"remind_before": [3], "remind_after": [1, 7, 14, 30]} | schedule))
    return relationship


def test_steps_and_their_tones() -> None:
    steps = invoice_steps("F-1", date(2026, 2, 14), Schedule((3,), (1, 7, 14, 30)))
    assert [(s.on, s.step, s.tone) for s in steps] == [
        (date(2026, 2, 11), "before-3", "friendly"), (date(2026, 2, 15), "after-1", "friendly"),
        (date(2026, 2, 21), "after-7", "firm"), (date(2026, 2, 28), "after-14", "firm"),
        (date(2026, 3, 16), "after-30", "final")]


@pytest.mark.parametrize(("args", "message"), [
    (([0], [], None), "days are 1 to 365"), (([], [7, 7], None), "names a day twice"),
    (([], [], 0), "--chase-after is 1 to 365"), (([], list(range(1, 14)), None), "at most 12 steps"),
])
def test_a_schedule_out_of_bounds_is_bad_input(args: tuple, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        check_follow_up_schedule(*args)


def test_due_steps_follow_the_day_and_stop_when_paid() -> None:
    relationship = scheduled()
    assert [s.step for s in due_steps(relationship, date(2026, 2, 10))] == []
    assert [s.step for s in due_steps(relationship, date(2026, 2, 21))] == ["before-3", "after-1", "after-7"]
    relationship.record_payment("F-2026-001", relationship.invoice("F-2026-001").payable, on=date(2026, 2, 16))
    assert list(due_steps(relationship, date(2026, 3, 30))) == []


def test_a_step_is_claimed_once_and_sent_only_when_claimed() -> None:
    relationship = scheduled()
    on = date(2026, 2, 12)
    with refuses(relationship, Refused, match="not taken by a run"):
        relationship.send_follow_up("F-2026-001", "before-3", scheduled_on=date(2026, 2, 11), tone="friendly",
                                    to=["laura@acme.test"], subject="Reminder", message_id="<1@x.test>",
                                    sent_at=datetime(2026, 2, 12, tzinfo=UTC), server_reply="250 ok",
                                    evidence=[EML], on=on)
    relationship.claim_follow_up("F-2026-001", "before-3", on=on)
    with refuses(relationship, Refused, match="claimed already"):
        relationship.claim_follow_up("F-2026-001", "before-3", on=on)
    with refuses(relationship, Refused, match="not due on 2026-02-12"):
        relationship.claim_follow_up("F-2026-001", "after-1", on=on)
    relationship.fail_follow_up("F-2026-001", "before-3", reason="550 refused", on=on)
    relationship.claim_follow_up("F-2026-001", "before-3", on=on)  # released: the next run takes it again
    relationship.send_follow_up("F-2026-001", "before-3", scheduled_on=date(2026, 2, 11), tone="friendly",
                                to=["laura@acme.test"], subject="Reminder", message_id="<1@x.test>",
                                sent_at=datetime(2026, 2, 12, tzinfo=UTC), server_reply="250 ok", evidence=[EML],
                                on=on)
    with refuses(relationship, Refused, match="sent already"):
        relationship.claim_follow_up("F-2026-001", "before-3", on=on)
    assert [s.step for s in due_steps(relationship, on)] == []


def test_a_schedule_belongs_to_one_terms_version_and_names_no_step_before_it() -> None:
    relationship = scheduled()
    with refuses(relationship, Refused, match="have a follow-up schedule already"):
        relationship.schedule_follow_up(1, remind_after=[2], on=OPENED)
    relationship.publish_terms(relationship.terms[1], date(2026, 2, 20))
    with refuses(relationship, BadInput, match="at least one step"):
        relationship.schedule_follow_up(2, on=date(2026, 2, 20))


def test_a_schedule_published_later_applies_from_its_day() -> None:
    relationship = invoiced(in_force())
    relationship.publish_terms(relationship.terms[1], date(2026, 2, 20))
    relationship.schedule_follow_up(2, remind_before=[3], remind_after=[1, 7, 14], on=date(2026, 2, 20))
    assert [s.step for s in due_steps(relationship, date(2026, 3, 1))] == ["after-7", "after-14"]  # not 02-11, 02-15


def test_a_quote_waiting_for_approval_is_chased_once() -> None:
    from domain_builders import with_quoted_change

    relationship = with_quoted_change(in_force())
    relationship.schedule_follow_up(1, chase_after=5, on=OPENED)
    quoted = relationship.change("C1").quoted_on
    steps = list(due_steps(relationship, date(2026, 12, 31)))
    assert [(s.subject, s.step, s.tone) for s in steps if s.subject == "C1"] == [("C1", "chase-5", "chase")]
    assert steps[0].on == date.fromordinal(quoted.toordinal() + 5)
    assert eur(1)  # the builders' money
