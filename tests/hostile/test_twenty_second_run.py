"""The twenty-second adversarial run (ADR-90): what it found, fixed where each lives.

1. `rebuild` on a disk with room for the read models but not for the copy ADR-88 keeps of them
   failed half-way ("full"), could not put the copy back, and left every reading command
   refusing: a SQLite store's rebuild now asks the database how much room the read models take
   (`dbstat`) and is refused before anything is dropped when the disk lacks about twice that;
   a put-back that fails still drops the copy;
2. a signal while Python made a class (a lazy import inside a command) came out as
   "error: RuntimeError: Error calling __set_name__ …", Python's wrapping of the KeyboardInterrupt:
   a failure caused by a stop is "aborted"; `decimal` is loaded with the command line, where a
   stop is one line, since its C part warns on stderr when it is loaded again after a stop.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cli_support import ok, refused

KEYED = {"TRATOS_KEY_PASSPHRASE": "s3cret passphrase"}
READING = (("--json", "status"), ("--json", "status", "acme"), ("--json", "client", "list"))


def test_a_rebuild_without_room_for_its_copy_is_refused_before_it_drops_anything(kept: Path, store,
                                                                                tmp_path: Path) -> None:
    from test_eighteenth_run_storage import filled, home_on_a_disk

    with home_on_a_disk(kept, store, tmp_path, "3m") as home:
        before = [ok(home, *args, env=KEYED).stdout for args in READING]
        filled(home.parent, leave=300 * 1024)
        line = refused(home, ("rebuild",), 1, "and rebuilding them needs about", env=KEYED)
        assert line.startswith(f"error: the disk holding the read models in {home} has ")
        assert line.endswith("free some space, then run it again; nothing was changed\n")
        assert [ok(home, *args, env=KEYED).stdout for args in READING] == before
        with sqlite3.connect(home / "tratos.sqlite") as db:
            assert not db.execute("SELECT name FROM sqlite_master WHERE name LIKE 'kept%'").fetchall()
        (home.parent / "filler").unlink()
        assert ok(home, "rebuild", env=KEYED).stdout.startswith("Rebuilt the read models from ")


def test_a_stop_python_wrapped_while_making_a_class_is_a_stop() -> None:
    from cli.main import _interrupted

    class Stopping:
        def __set_name__(self, owner: type, name: str) -> None:
            raise KeyboardInterrupt

    try:
        type("Signature", (), {"evidence": Stopping()})
    except BaseException as error:  # noqa: BLE001 - what Python makes of it is the point
        wrapped = error
    assert isinstance(wrapped, RuntimeError | KeyboardInterrupt)  # RuntimeError up to 3.11
    assert _interrupted(wrapped)
    assert not _interrupted(RuntimeError("a bug"))
    looped = ValueError("a loop")
    looped.__context__ = RuntimeError("back")
    looped.__context__.__context__ = looped
    assert not _interrupted(looped)
