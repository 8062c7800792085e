"""How events become stored records: plain canonical JSON, readable in a dispute.

eventsourcing 9.5 ships no pydantic mapper, so this is ours (after the
upstream aggregate7 example): pydantic dumps the event to JSON-safe values,
the transcoder writes canonical JSON, and decoding validates the event back,
upcasting old class versions on the way.
"""

from __future__ import annotations

import json
from typing import Any

from eventsourcing.persistence import Mapper, StoredEvent, Transcoder, Transcoding

from domain.model.chain import canonical_json, stored_state
from domain.model.errors import TratosError


class CanonicalJSONTranscoder(Transcoder):
    """Sorted keys, no whitespace: the stored bytes are the canonical form."""

    def encode(self, obj: Any) -> bytes:
        return canonical_json(obj)

    def decode(self, data: bytes) -> Any:
        return json.loads(data)

    def register(self, transcoding: Transcoding) -> None:  # pragma: no cover
        raise TypeError("events are pydantic models; no transcodings are needed")


class PydanticMapper(Mapper):
    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=_stored_topic(type(domain_event)),
            state=self.encode_state(stored_state(domain_event)),
        )

    def encode_state(self, state: dict[str, Any]) -> bytes:
        data = self.transcoder.encode(state)
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        return data

    def decode_state(self, data: bytes) -> dict[str, Any]:
        """The stored JSON object of a record, decrypted: what the hash chain covers."""
        if self.cipher:
            data = self.cipher.decrypt(data)
        if self.compressor:
            data = self.compressor.decompress(data)
        return self.transcoder.decode(data)

    def record_state(self, stored: StoredEvent, name: object = None) -> dict[str, Any]:
        """The stored JSON object of a record (`decode_state`), or the refusal naming it (`name`: its
        client's handle, else its stream id) when it is not JSON, not decryptable, not an object."""
        try:
            state = self.decode_state(stored.state)
        except Exception as error:  # noqa: BLE001 - not JSON, not decryptable: name the record
            raise unreadable(name or stored.originator_id, stored.originator_version, error) from error
        if not isinstance(state, dict):
            raise unreadable(name or stored.originator_id, stored.originator_version, TypeError())
        return state

    def to_domain_event(self, stored: StoredEvent, state: dict[str, Any] | None = None) -> Any:
        """The event of a stored record (`state`: its JSON, if already decoded); a record that is not
        JSON, not decryptable or not an event of its class is one line naming it (every read path:
        rebuild, status, a client loaded)."""
        try:
            return event_from_state(stored.topic, self.record_state(stored) if state is None else state,
                                    stored.originator_id, stored.originator_version)
        except TratosError:
            raise
        except Exception as error:  # noqa: BLE001 - not JSON, not decryptable, not valid: name the record
            raise unreadable(stored.originator_id, stored.originator_version, error) from error


def unreadable(stream: Any, version: int, error: BaseException) -> Exception:
    """The refusal of a stored record that cannot be read, in the words of every reader (export too)."""
    from json import JSONDecodeError
    from zlib import error as ZlibError

    from domain.model.errors import UnreadableRecord

    if isinstance(error, JSONDecodeError | UnicodeDecodeError):
        why = "not JSON"
    elif isinstance(error, ZlibError) or type(error).__name__ in ("InvalidToken", "InvalidTag"):
        why = "not decryptable with this key"
    elif type(error) is ValueError:  # event_from_state's own: a class version this tratos does not know
        why = str(error)
    else:
        why = "not an event tratos wrote"
    return UnreadableRecord(stream, version, why)


def event_from_state(topic: str, state: dict[str, Any], originator_id: Any, originator_version: int) -> Any:
    """The event a stored JSON object stands for, upcast from its class version to the current one.

    A state written by a newer schema than this code knows is refused (ValueError), never
    validated into a class that would silently drop what it does not understand.
    """
    # Imported here, not with this module: `status` builds no event class at all (ADR-16).
    from domain.model.events import event_class

    cls = event_class(topic)
    state = dict(state)
    version = state.pop("class_version", 1)
    current = getattr(cls, "class_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"{cls.__name__} class version {version!r} is not one tratos ever wrote")
    if version > current:
        raise ValueError(f"{cls.__name__} version {version} is newer than this tratos knows ({current})")
    while version < current:
        getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
        version += 1
    state["originator_id"] = originator_id
    state["originator_version"] = originator_version
    from domain.model.values import texts_as_recorded

    with texts_as_recorded():  # read as it was recorded: texts meet the rules of the day they were typed
        return cls.model_validate(state)


def coerced_fields(event: Any, state: dict[str, Any]) -> list[tuple[str, Any]]:
    """The fields of `state` (as stored) whose value `event` would not write back, with the value given.

    Validation is lenient (`true` passes for 1, `"2026"` for 2026, `1.0` for 1), which is right
    for reading our own records and wrong for a file someone hands to `import`: there every value
    must be the one tratos writes for it. Old class versions are compared after their upcast,
    on the fields the file gave (what the upcast adds is ours, not the file's).
    """
    cls = type(event)
    given = set(state) - {"class_version"}
    state = dict(state)
    version = state.pop("class_version", 1)
    while version < getattr(cls, "class_version", 1):
        getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
        version += 1
    written = event.model_dump(mode="json", exclude={"originator_id", "originator_version"})
    return sorted((key, state[key]) for key in given
                  if key in state and key in written and not _same_json(written[key], state[key]))


def missing_fields(event: Any, state: dict[str, Any]) -> list[str]:
    """The top-level keys tratos wrote for `event`'s class at the version of `state` that `state`
    lacks: every key of the current class, but those the upcasts from its version add (a key
    added later is not in an older record; every other key always was)."""
    cls = type(event)
    upcast = dict(state)
    version = upcast.pop("class_version", 1)
    given = set(upcast)
    while version < getattr(cls, "class_version", 1):
        getattr(cls, f"upcast_v{version}_v{version + 1}")(upcast)
        version += 1
    added_since = set(upcast) - given
    written = set(cls.model_fields) - {"originator_id", "originator_version"} - added_since
    return sorted(written - given)


def _same_json(written: Any, given: Any) -> bool:
    """Equal as JSON, types included (in Python `True == 1 == 1.0`, in an export they differ).

    A key of an object that `given` lacks is one an older tratos did not write (a field added
    later with its default, such as a party's country): validation supplied it, nothing was coerced.
    """
    if isinstance(written, dict) and isinstance(given, dict):
        return set(given) <= set(written) and all(_same_json(written[k], v) for k, v in given.items())
    if isinstance(written, list) and isinstance(given, list):
        return len(written) == len(given) and all(map(_same_json, written, given))
    return canonical_json(written) == canonical_json(given)


def _stored_topic(cls: type) -> str:
    from domain.model.events import stored_topic

    return stored_topic(cls)
