"""The signals that stop a command: taken as Ctrl-C (ADR-86), and held around a save (ADR-87).

Every command stops on Ctrl-C or an ending signal by cleaning up (`stopped_as_interrupted`): files it kept for
something being recorded are taken back. A signal arriving just after a save committed, before the
command noted that it did, took back files the saved events cite (evidence missing, ADR-87). So a
save holds those signals until it has counted itself (`saves`), and the code that takes back asks
whether a save happened since it kept its files: a signal held meanwhile is delivered just after,
as the same "aborted", with nothing the store cites taken away.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

_saved = 0


def saves() -> int:
    """How many saves this process committed: unchanged across a block, nothing was saved in it."""
    return _saved


@contextmanager
def stopped_as_interrupted(*, for_good: bool = False) -> Iterator[None]:
    """Every signal that would end the process stops a command as Ctrl-C does (ADR-86): what the
    command cleans up on KeyboardInterrupt is cleaned up (an export's half-written folder, a kept
    evidence file no event cites, a `.tratos-*` temporary file, a follow-up step claimed and not
    sent, ADR-80), and it says "error: aborted" with Ctrl-C's exit code (cli.main).

    Those are the signals whose default action (signal(7)) terminates the process or dumps core
    (`ending_signals`). Left as they are: one the caller ignores or handles with a handler of its
    own (`_TAKEN` lists those taken; Python ignores SIGPIPE and SIGXFSZ, so `ulimit -f` is a write
    that fails). Taken in the main thread
    only, and given back as found when the command ends, so a caller running `main` in its own
    process keeps its handlers.

    `for_good`: the process ends with the command (the console script). Once the block is left,
    how the command ended is decided and said; a signal arriving while Python then shuts down (the
    store closed, its threads joined) is ignored, not left to end the process with another status
    than the one decided (143 after "Recorded: …", and a script retrying a recorded payment).

    Python runs a handler between any two steps, also inside a weak reference's callback or a
    finaliser, where the KeyboardInterrupt it raises cannot propagate: Python prints it as an
    "Exception ignored" traceback and the command goes on. Such a lost one is not printed (the
    command ends as if the signal had come after it)."""
    taken = [signal.SIGINT, *ending_signals()] if for_good else ending_signals()
    former_hook = sys.unraisablehook

    def lost_quietly(unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            former_hook(unraisable)

    sys.unraisablehook = lost_quietly
    try:
        with _handled(taken, _interrupt, lambda handler: handler in _TAKEN, after=signal.SIG_IGN if for_good else None):
            yield
    finally:
        if not for_good:
            sys.unraisablehook = former_hook


def _interrupt(number: int, frame: object) -> None:
    raise KeyboardInterrupt


# The handlers `stopped_as_interrupted` replaces: the system's, Python's for Ctrl-C, and its own as
# the console script sets it while it loads (`taken_while_loading`).
_TAKEN = (signal.SIG_DFL, signal.default_int_handler, _interrupt)


def taken_while_loading() -> None:
    """The console script, before it loads the command line: the signals that would end it stop
    it as Ctrl-C does from here on ("error: aborted", exit 1), not with the system's 143 while its
    modules load. `stopped_as_interrupted` takes them over when the command runs."""
    for number in (signal.SIGINT, *ending_signals()):
        with suppress(OSError, ValueError):
            if signal.getsignal(number) in _TAKEN:
                signal.signal(number, _interrupt)


@contextmanager
def held() -> Iterator[None]:
    """Within, the signals that stop a command wait: each one's handler (Python's, which runs in the
    main thread whichever thread the signal reached: a mask would not hold it where a library runs
    threads, psycopg's pool) only notes it, and the first noted is raised again when the block ends.
    Main thread only; signals without a Python handler (left to the system) are left as they are."""
    noted: list[int] = []

    def note(number: int, frame: object) -> None:
        noted.append(number)

    with _handled([signal.SIGINT, *ending_signals()], note, callable):
        yield
    if noted:
        signal.raise_signal(noted[0])


@contextmanager
def _handled(numbers: list[int], handler: Callable[[int, object], None],
             taken: Callable[[object], bool], after: Any = None) -> Iterator[None]:
    """`handler` for each signal of `numbers` whose handler now is `taken`, within; the former ones
    after, or `after` (main thread only: only it may set handlers)."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for number in numbers:
            try:
                if taken(signal.getsignal(number)):
                    previous[number] = signal.signal(number, handler)
            except (OSError, ValueError):  # one this platform reserves (glibc's threads): not ours to take
                continue
    try:
        yield
    finally:
        for number, former in previous.items():
            signal.signal(number, former if after is None else after)


# Signals whose default action does not end the process (ignored, or stop and continue).
_NOT_ENDING = ("SIGCHLD", "SIGCLD", "SIGCONT", "SIGURG", "SIGWINCH", "SIGINFO", "SIGSTOP", "SIGTSTP", "SIGTTIN",
               "SIGTTOU")
# Ending ones not taken: uncatchable, Ctrl-C's own (Python's KeyboardInterrupt already), and the
# synchronous faults: a handler that returns from a real fault re-runs the faulting instruction, in
# a loop, instead of ending.
_LEFT_ALONE = ("SIGKILL", "SIGINT", "SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGSYS")


def ending_signals() -> list[int]:
    """SIGTERM (`kill`, `timeout`, a stopped service), SIGHUP (a closed terminal, a dropped ssh
    session), SIGQUIT, SIGUSR1/2, SIGALRM, SIGXCPU (a CPU limit reached), SIGPWR, SIGVTALRM, SIGPROF,
    SIGIO, SIGSTKFLT, SIGTRAP, SIGABRT and every real-time signal, in number order: derived from
    `signal.valid_signals()`, so a platform's own (SIGEMT) is covered too."""
    skipped = {getattr(signal, name) for name in (*_NOT_ENDING, *_LEFT_ALONE) if hasattr(signal, name)}
    return sorted(int(number) for number in signal.valid_signals() if number not in skipped)


@contextmanager
def counted_save() -> Iterator[None]:
    """Around a save: held, and counted once it committed (the block ended without an error)."""
    global _saved
    with held():
        yield
        _saved += 1
