"""Errors the domain raises, each with a sentence a freelancer can read.

Two families, because the command line maps them to two exit codes:
`Refused` (exit 1) when a business rule says no, `BadInput` (exit 2) when
what was typed cannot be understood or names something that does not exist.
"""


class TratosError(Exception):
    """Base of every error that carries a plain message for the user."""

    exit_code = 1


class Refused(TratosError):
    """A rule of the relationship refuses the command; nothing was recorded."""


class BadInput(TratosError):
    """A value cannot be understood (malformed, out of range)."""

    exit_code = 2


class UnknownReference(BadInput):
    """An id (client, contract, change, mistake, option, invoice) that does not exist."""


class UnknownClient(UnknownReference):
    """A client handle with no relationship; carries the handle so the CLI can suggest a close one."""

    def __init__(self, message: str, handle: str = "") -> None:
        super().__init__(message)
        self.handle = handle


class CurrencyMismatch(Refused):
    """Two amounts in different currencies were combined."""


class ConcurrencyConflict(Refused):
    """Another process kept changing the same stream; the command gave up."""


class UnreadableRecord(Refused):
    """A stored record that cannot be read (not JSON, not decryptable, not an event tratos wrote).

    Every reader says so naming the record and points at `tratos audit verify`, which shows what
    else is damaged; the audit itself, and whatever cannot get that far, says what to do instead
    (`restore`): an advice never names the command that gave it (ADR-61).
    """

    def __init__(self, stream: object, version: int, why: str) -> None:
        self.stream, self.version, self.why = stream, version, why
        super().__init__(f"{self.what}: run `tratos audit verify`")

    @property
    def what(self) -> str:
        return f"the record {self.stream} v{self.version} cannot be read ({self.why})"

    def restore(self) -> str:
        return f"{self.what}: the store is damaged; {RESTORE}"


# What to do with a store that does not verify: said by the audit, never "run the audit".
RESTORE = "restore it from your latest export (`tratos import` into an empty store) or from a backup"


class ImpossibleHistory(Refused):
    """A stored history the domain could never have made; the message names the stream and version."""


def known(items: dict) -> str:
    """The ids there are, for the message about one that is not: " (it has C1, C2)"."""
    return f" (it has {', '.join(items)})" if items else ""


def unknown(owner: str, kind: str, ref: str, items: dict, *, empty: str) -> UnknownReference:
    """The refusal of an id `owner` does not have: "acme has no invoice F-9 (it has F-1)", or, for an
    id given empty, `empty` ("an invoice number is empty"), not a sentence naming nothing."""
    if not (ref or "").strip():
        return UnknownReference(f"{empty}{known(items)}")
    return UnknownReference(f"{owner} has no {kind} {ref}{known(items)}")
