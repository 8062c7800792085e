"""The rows of the events table as tratos reads them: every one a record tratos could have written.

eventsourcing turns a row into a StoredEvent (or a Notification) as the database holds it: a row
edited by hand may have a stream id that is not a UUID (SQLite stores it as text), a version that
is not a positive number, no event type, no content. Read as they are, those reach code that
trusts them and fail there with a Python error. So both backends' recorders (`CheckedRows`)
check each row they select, in the one place every reader goes through, and refuse one that is
not a record in the words of every reader: "the record … v5 cannot be read (…)" (`UnreadableRecord`).

The audit reads the log unchecked (`select_raw_notifications`) and reports such a row as a break,
with `row_problem`, instead of stopping at it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.model.errors import UnreadableRecord


def row_problem(stored: Any) -> str | None:
    """Why a selected row is not a record tratos wrote (None: it has the shape of one).

    Only the shape: whether its content is JSON, decryptable, an event, is the mapper's to say."""
    if not isinstance(stored.originator_id, UUID):
        return "its stream id is not one tratos writes"
    version = stored.originator_version
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return "its version is not a positive number"
    if not isinstance(stored.topic, str) or not stored.topic:
        return "it has no event type"
    if not isinstance(stored.state, bytes | str):  # SQLite gives back as text what was stored as text
        return "it has no content"
    return None


def checked(rows: list[Any]) -> list[Any]:
    """`rows` as selected, if each is a record; else the refusal naming the first that is not."""
    for row in rows:
        problem = row_problem(row)
        if problem is not None:
            raise UnreadableRecord(_shown(row.originator_id), _shown(row.originator_version), problem)
    return rows


def _shown(value: Any) -> Any:
    """A value of a damaged row as a message can show it (the text of a stream id, `'x'` for a version)."""
    if isinstance(value, UUID) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    return repr(value)


class CheckedRows:
    """A recorder whose selects return records only: a damaged row is `UnreadableRecord`, not a
    StoredEvent that fails wherever it is used. Mixed in before eventsourcing's recorder class."""

    def convert_originator_id(self, originator_id: Any) -> Any:  # SQLite's: a row's text to a UUID
        try:
            return super().convert_originator_id(originator_id)  # type: ignore[misc]
        except (TypeError, ValueError, AttributeError):
            return originator_id  # not a UUID: `row_problem` says so, naming it

    def select_events(self, *args: Any, **kwargs: Any) -> list[Any]:
        return checked(super().select_events(*args, **kwargs))  # type: ignore[misc]

    def select_notifications(self, *args: Any, **kwargs: Any) -> list[Any]:
        return checked(self.select_raw_notifications(*args, **kwargs))

    def select_raw_notifications(self, *args: Any, **kwargs: Any) -> list[Any]:
        """The log's rows as the database holds them, damaged ones too (the audit reports those);
        a NULL state is None (postgres_factory.NullStates)."""
        return super().select_notifications(*args, **kwargs)  # type: ignore[misc]
