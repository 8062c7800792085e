"""The README's tour of the command line prints, command by command, what tratos prints today.

Every `$ tratos ...` of the section "A tour of the command line" runs in order, as the
real console script, in one fresh home (TRATOS_TODAY=2026-03-31, TRATOS_KEY_PASSPHRASE set,
the files it names made first): its stdout must be the lines the README shows under it, its
stderr the `error:`/`warning:` lines, its exit status the `# exit status N` written after it
(0 if none). Only what varies from run to run is normalised: digests and SHA-256 values,
recorded times, how fast `rebuild` was, the temporary folder (shown as /tmp/tour/store).

SQLite only: the tour is about the text of the CLI, which is the same on PostgreSQL (the
other CLI tests run on both). When a change of wording is meant, `make readme` rewrites the
tour's outputs from a real run (tests/readme_tour.py); review its diff like any other.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from backends import StoreSpec
from readme_tour import README, STDERR, Ran, Step, blocks, normalised, run_tour, runnable

# Blocks marked `<!-- tour: skip -->` (commands that need a PDF signed by the client). Raise
# this only with a reason: a command the tour shows but does not run can drift unnoticed.
SKIPPED_BLOCKS = 1


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> StoreSpec:
    """The tour's home: a fresh SQLite store (its name puts the test in the sqlite summary line)."""
    return StoreSpec("sqlite", str(tmp_path_factory.mktemp("readme") / "tour" / "store"))


def test_the_tour_shows_what_tratos_prints(sqlite_store: StoreSpec) -> None:
    steps = runnable(README.read_text(encoding="utf-8"))
    assert len(steps) > 40, f"only {len(steps)} commands found in the README's tour"
    drifted = [_drift(step, done) for step, done in run_tour(steps, Path(sqlite_store.home))]
    drifted = [report for report in drifted if report]
    if drifted:
        pytest.fail(f"{len(drifted)} command(s) of the README's tour print something else now "
                    "(if the new text is meant, run `make readme`):\n\n" + "\n\n".join(drifted),
                    pytrace=False)


def test_only_the_counted_blocks_are_skipped() -> None:
    skipped = [block for block in blocks(README.read_text(encoding="utf-8")) if block.skipped]
    assert len(skipped) == SKIPPED_BLOCKS, [block.steps[0].title for block in skipped]


def _drift(step: Step, done: Ran) -> str:
    """What differs between the README and the run of one command, or '' when nothing does."""
    shown_out = [line for line in step.shown if not line.startswith(STDERR)]
    shown_err = [line for line in step.shown if line.startswith(STDERR)]
    if (done.exit_status == step.exit_status and normalised(done.stdout) == normalised(shown_out)
            and normalised(done.stderr) == normalised(shown_err)):
        return ""
    diff = list(difflib.unified_diff(normalised(shown_out + shown_err), normalised(done.printed),
                                     "README", "tratos (stdout, then stderr)", lineterm=""))
    if not diff and done.exit_status == step.exit_status:
        diff = [f"the same lines, but those starting {' or '.join(STDERR)} must be all of stderr: "
                f"stdout {done.stdout}, stderr {done.stderr}"]
    return "\n".join([step.title, f"exit status: README {step.exit_status}, tratos {done.exit_status}",
                      *diff])
