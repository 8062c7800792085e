"""A save and what depends on its having happened are one step for the signals that stop a command.

Every command stops on Ctrl-C or an ending signal by cleaning up (ADR-86): files it kept for
something being recorded are taken back. A signal arriving just after a save committed, before the
command noted that it did, took back files the saved events cite (evidence missing, ADR-87). So a
save holds those signals until it has counted itself (`saves`), and the code that takes back asks
whether a save happened since it kept its files: a signal held meanwhile is delivered just after,
as the same "aborted", with nothing the store cites taken away.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# The signals that stop a command (cli.main): Ctrl-C's and every one whose default action ends the
# process, but the uncatchable and the synchronous faults (a fault held would be re-raised at once).
_NOT_HELD = {getattr(signal, name) for name in ("SIGKILL", "SIGSTOP", "SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL",
                                                "SIGSYS", "SIGCHLD", "SIGCONT", "SIGURG", "SIGWINCH", "SIGTSTP",
                                                "SIGTTIN", "SIGTTOU") if hasattr(signal, name)}
_saved = 0


def saves() -> int:
    """How many saves this process committed: unchanged across a block, nothing was saved in it."""
    return _saved


@contextmanager
def held() -> Iterator[None]:
    """Within, the signals that stop a command wait: each one's handler (Python's, which runs in the
    main thread whichever thread the signal reached: a mask would not hold it where a library runs
    threads, psycopg's pool) only notes it, and the first noted is raised again when the block ends.
    Main thread only; signals without a Python handler (left to the system) are left as they are."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    noted: list[int] = []

    def note(number: int, frame: object) -> None:
        noted.append(number)

    previous = {}
    for number in signal.valid_signals() - _NOT_HELD:
        try:
            if callable(signal.getsignal(number)):
                previous[number] = signal.signal(number, note)
        except (OSError, ValueError):  # one the platform keeps for itself
            continue
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if noted:
            signal.raise_signal(noted[0])


@contextmanager
def counted_save() -> Iterator[None]:
    """Around a save: held, and counted once it committed (the block ended without an error)."""
    global _saved
    with held():
        yield
        _saved += 1
