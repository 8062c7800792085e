"""Re-deciding stored events (domain/model/replay.py): every event type has its command."""

from __future__ import annotations

from domain.model import events as ev
from domain.model.replay import COMMANDS


def test_every_event_type_is_re_decided_by_a_command():
    recorded = {cls for cls in vars(ev).values()
                if isinstance(cls, type) and issubclass(cls, ev.DomainEvent)
                and cls not in (ev.DomainEvent, ev.RelationshipEvent)}
    assert set(COMMANDS) == recorded
