"""The twenty-fifth adversarial run found no defect; one of its observations is taken up (ADR-93).

Two imports into one empty PostgreSQL schema at once: the one that lost the race was told that
the store "kept changing … try again", where trying again can only be refused (the store is no
longer empty). It is told what happened: another command recorded meanwhile; nothing imported.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from backends import SCRIPT
from cli_support import TODAY, ok, run, store_args, store_rows

KEYED = {"TRATOS_KEY_PASSPHRASE": "s3cret passphrase"}
LOST = ("error: another command recorded in the store while this import ran: import only into an empty store;"
        " nothing was imported",
        "error: the store is not empty: import only into an empty store (a new --home folder, or an empty"
        " database schema)")


def test_of_two_imports_at_once_one_lands_and_the_other_says_why_not(kept: Path, empty_store,
                                                                   tmp_path: Path) -> None:
    from cli_support import home_beside

    export = tmp_path / "backup.jsonl"
    ok(kept, "export", str(export), env=KEYED)
    env = {**os.environ, "TRATOS_TODAY": TODAY, **KEYED}
    with home_beside(kept, empty_store) as home:
        processes = [subprocess.Popen([str(SCRIPT), *store_args(home), "import", str(export)], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outcomes = sorted((process.wait(timeout=120), process.stderr.read()) for process in processes)
        assert [code for code, _ in outcomes] == [0, 1], outcomes
        assert outcomes[1][1].splitlines() in ([LOST[0]], [LOST[1]]), outcomes
        assert len(store_rows(home)) == len(store_rows(kept)) + 1  # and the import's own log entry
        assert run(home, "audit", "verify", env=KEYED).code == 0
