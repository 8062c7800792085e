"""Changes of identity.json take turns with the commands that act on it (ADR-84).

A command reads identity.json once (the tax id and the Verifactu mode its billing records are made
with, the settings a change keeps) and acts on what it read until it ends. A change written
meanwhile is acted on by neither: an invoice recorded under the former tax id after `identity
invoicing --tax-id` checked that none waited, a record made in the mode a switch had just checked
the year against, a setting lost because two changes each wrote back the file they had read. So a
reader holds a shared lock on the home folder from its first read to its end, and a change an
exclusive one from before its read to its end.

The lock is flock on the folder itself: no file of its own, nothing to leave behind, and it works in
a read-only home. Within one process (the demo's steps, the tests calling `main`) the commands run
one after the other: a nested turn is the one the process holds, made exclusive if it asks.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

from domain.model.errors import Refused

WAIT = 10  # seconds, as a store's lock (storage.LOCK_WAIT)

_HELD: dict[str, list] = {}  # the folder's real path -> [descriptor, exclusive, sessions holding it]


class IdentityTurn:
    """One command's turn on the identity of the home at `home`: none until `share` or `change`."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self._key: str | None = None

    def share(self) -> None:
        """Before reading identity.json: no change is written until this command ends."""
        self._take(exclusive=False)

    def change(self) -> None:
        """Before reading identity.json to change it: no other command reads it until this one ends."""
        self._take(exclusive=True)

    def release(self) -> None:
        if self._key is None:
            return
        held = _HELD[self._key]
        held[2] -= 1
        if not held[2]:
            os.close(held[0])  # releases the lock
            del _HELD[self._key]
        self._key = None

    def _take(self, *, exclusive: bool) -> None:
        try:
            import fcntl
        except ImportError:  # no flock (Windows): commands do not take turns
            return
        if self._key is None:
            try:
                key = os.path.realpath(self.home)
                descriptor = os.open(key, os.O_RDONLY | os.O_DIRECTORY)
            except OSError:  # no home yet (`init` makes it), or none this account can open
                return
            held = _HELD.get(key)
            if held is None:
                if not _wait(fcntl, descriptor, exclusive):
                    os.close(descriptor)
                    raise Refused(_busy(self.home))
                _HELD[key] = [descriptor, exclusive, 0]
            else:
                os.close(descriptor)
            self._key = key
            _HELD[key][2] += 1
        held = _HELD[self._key]
        if exclusive and not held[1]:
            if not _wait(fcntl, held[0], exclusive=True):
                raise Refused(_busy(self.home))
            held[1] = True


def _wait(fcntl, descriptor: int, exclusive: bool) -> bool:  # noqa: ANN001
    """flock cannot wait with a timeout: polled, as a store's lock is."""
    operation = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
    deadline, pause = time.monotonic() + WAIT, 0.001
    while True:
        try:
            fcntl.flock(descriptor, operation)
            return True
        except OSError:
            if time.monotonic() > deadline:
                return False
            time.sleep(random.uniform(pause / 2, pause))
            pause = min(pause * 2, 0.05)


def _busy(home: Path) -> str:
    return (f"another tratos command in {home} kept your identity (identity.json) for more than {WAIT} seconds,"
            " changing it or acting on it: try again when it ends; nothing was recorded")
