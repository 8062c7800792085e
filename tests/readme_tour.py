"""The README's command tour as it is written and as the real `tratos` runs it: read, run, rewrite.

The section "## A tour of the command line" of README.md holds fenced blocks of
`$ tratos ...` commands (a command may go on over lines ending in `\\`), each
followed by the lines it prints: stdout first, then stderr (its `error:` and
`warning:` lines). A command that fails ends with the comment `# exit status N`.
A block right after the line `<!-- tour: skip -->` is illustration and is not run.

tests/cli/test_readme_tour.py runs the tour and compares; `make readme` (this
file as a script) runs it and writes what tratos printed back into README.md.
The rewrite keeps every line that differs only in what varies from run to run
(digests, recorded times, speeds), so the diff of a refresh shows only what changed.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from backends import SCRIPT

README = Path(__file__).resolve().parent.parent / "README.md"
SECTION = "## A tour of the command line"
SKIP = "<!-- tour: skip -->"
TODAY = "2026-03-31"
PASSPHRASE = "tour"  # TRATOS_KEY_PASSPHRASE: `init` makes a signing key, so the PDFs are signed
SHOWN_ROOT = "/tmp"  # the tour runs in <tmp>/tour, its home is <tmp>/tour/store: shown as /tmp/tour/store

PROMPT = "$ "
EXIT = re.compile(r"\s+# exit status (\d+)$")
STDERR = ("error:", "warning:")

HEX = re.compile(r"\b[0-9a-f]{12,64}\b")  # digests, SHA-256 values, chain heads (whole or cut)
STAMP = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}| UTC)?")
SPEED = re.compile(r"\b\d+\.\d+ s \([\d,]+ events/s\)")  # how long `rebuild` took

# The files the tour's commands name, made in its working folder before it starts.
ACCEPTANCE = """\
From: Laura Pérez <laura@acme.test>
To: Ana García <ana@example.com>
Date: Mon, 12 Jan 2026 10:14:00 +0100
Subject: Re: Website relaunch, contract
Content-Type: text/plain; charset=utf-8

Signed and agreed. Looking forward to it.
"""
FILES = {"acceptance.eml": ACCEPTANCE}


@dataclass
class Step:
    """One `$ tratos ...` of the tour and what the README shows it printing."""

    command: list[str]  # as written: the `$ ` line and its continuation lines
    shown: list[str]

    @property
    def exit_status(self) -> int:
        found = EXIT.search(self.command[-1])
        return int(found.group(1)) if found else 0

    @property
    def argv(self) -> list[str]:
        """The arguments after `tratos`, as a shell would split the command."""
        lines = [*self.command[:-1], EXIT.sub("", self.command[-1])]
        text = " ".join(line.removesuffix("\\").strip() for line in lines)
        words = shlex.split(text.removeprefix(PROMPT), comments=True)
        assert words[0] == "tratos", f"the tour runs tratos, not {words[0]!r}: {self.command[0]}"
        return words[1:]

    @property
    def title(self) -> str:
        return "\n".join(self.command)


@dataclass
class Block:
    """A fenced block of the tour: README lines `start` to `end` (exclusive) between its fences."""

    start: int
    end: int
    steps: list[Step]
    skipped: bool


@dataclass
class Ran:
    """What one command printed and how it ended, the temporary folder already shown as /tmp."""

    stdout: list[str]
    stderr: list[str]
    exit_status: int

    @property
    def printed(self) -> list[str]:
        return self.stdout + self.stderr


def blocks(text: str) -> list[Block]:
    """The fenced blocks of the tour section that start with a `$ tratos` command."""
    lines = text.splitlines()
    begin = lines.index(SECTION) + 1
    finish = next((i for i in range(begin, len(lines)) if lines[i].startswith("## ")), len(lines))
    found, i = [], begin
    while i < finish:
        if not lines[i].startswith("```"):
            i += 1
            continue
        close = next(j for j in range(i + 1, finish) if lines[j].startswith("```"))
        body = lines[i + 1:close]
        if body and body[0].startswith(PROMPT):
            before = next((line for line in reversed(lines[begin:i]) if line.strip()), "")
            found.append(Block(i + 1, close, _steps(body), skipped=before.strip() == SKIP))
        i = close + 1
    return found


def _steps(body: list[str]) -> list[Step]:
    steps: list[Step] = []
    continued = False
    for line in body:
        if line.startswith(PROMPT) and not continued:
            steps.append(Step([line], []))
        elif continued:
            steps[-1].command.append(line)
        else:
            steps[-1].shown.append(line)
        continued = line.endswith("\\") and not steps[-1].shown
    for step in steps:  # the blank line between two commands is layout, not output
        while step.shown and not step.shown[-1].strip():
            step.shown.pop()
    return steps


def normalised(lines: list[str]) -> list[str]:
    """The lines with what legitimately varies between runs replaced by placeholders."""
    out = []
    for line in lines:
        line = SPEED.sub("<speed>", line)
        line = STAMP.sub("<time>", line)
        out.append(HEX.sub("<hex>", line).rstrip())
    return out


def run_tour(steps: list[Step], home: Path) -> Iterator[tuple[Step, Ran]]:
    """Run `steps` in order, each as the real `tratos` script, on a fresh SQLite store in `home`.

    They run in home's parent folder (where the tour's files are made and its PDFs written);
    what they print shows the folder above that as /tmp, so `home` reads /tmp/tour/store.
    Blank lines at the end of what a command prints are dropped: between two commands of a
    block the README cannot show them.
    """
    folder, root = home.parent, home.parent.parent
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in FILES.items():
        (folder / name).write_text(content, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRATOS_")}
    env.update(TRATOS_HOME=str(home), TRATOS_TODAY=TODAY, TRATOS_KEY_PASSPHRASE=PASSPHRASE,
               NO_COLOR="1", PYTHONIOENCODING="utf-8",
               PYTHONWARNINGS="ignore")  # a library's deprecation notice is not tratos speaking
    for step in steps:
        done = subprocess.run([str(SCRIPT), *step.argv], cwd=folder, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, encoding="utf-8", timeout=120)
        shown = (done.stdout.replace(str(root), SHOWN_ROOT), done.stderr.replace(str(root), SHOWN_ROOT))
        yield step, Ran(*(text.rstrip("\n").splitlines() for text in shown), done.returncode)


def runnable(text: str) -> list[Step]:
    return [step for block in blocks(text) if not block.skipped for step in block.steps]


def rewritten(text: str, ran: list[Ran]) -> str:
    """README `text` with each command's output (and exit status) replaced by what it printed.

    `ran` holds the runs of `runnable(text)`, in order. Lines equal to the old ones once
    normalised are kept as they were, so a refresh does not churn every digest and time; the
    digests of the lines that do change are translated to the kept ones where they are the
    same value (a document's SHA-256 printed by `pdf` and again by `verify`).
    """
    steps = runnable(text)
    matchers = [difflib.SequenceMatcher(a=normalised(step.shown), b=normalised(done.printed),
                                        autojunk=False) for step, done in zip(steps, ran, strict=True)]
    kept: dict[str, str] = {}  # a digest of this run -> the one the README shows for it
    for step, done, matcher in zip(steps, ran, matchers, strict=True):
        for a, b, size in matcher.get_matching_blocks():
            for old, new in zip(step.shown[a:a + size], done.printed[b:b + size], strict=True):
                kept.update(zip(HEX.findall(new), HEX.findall(old), strict=False))
    outputs = iter(zip(steps, ran, matchers, strict=True))
    lines = text.splitlines()
    bodies = []
    for block in blocks(text):
        if block.skipped:
            continue
        body: list[str] = []
        for _ in block.steps:
            step, done, matcher = next(outputs)
            command = [*step.command[:-1], EXIT.sub("", step.command[-1])]
            if done.exit_status:
                command[-1] += f"  # exit status {done.exit_status}"
            body += [""] * bool(body) + command
            for tag, i1, i2, j1, j2 in matcher.get_opcodes():
                body += step.shown[i1:i2] if tag == "equal" else [
                    HEX.sub(lambda digest: _as_kept(digest.group(), kept), line.rstrip())
                    for line in done.printed[j1:j2]]
        bodies.append((block, body))
    for block, body in reversed(bodies):
        lines[block.start:block.end] = body
    return "\n".join(lines) + "\n"


def _as_kept(digest: str, kept: dict[str, str]) -> str:
    """The README's spelling of a digest of this run, if a kept line shows it (whole or cut)."""
    for new, old in kept.items():
        if new.startswith(digest):
            return old[:len(digest)]
    return digest


def main() -> int:
    """`make readme`: run the tour and write what tratos prints today into README.md."""
    text = README.read_text(encoding="utf-8")
    ran = []
    with tempfile.TemporaryDirectory() as temporary:
        for step, done in run_tour(runnable(text), Path(temporary).resolve() / "tour" / "store"):
            ran.append(done)
            print(("ok    " if normalised(step.shown) == normalised(done.printed) else "new   ")
                  + step.command[0].removeprefix(PROMPT), file=sys.stderr)
    README.write_text(rewritten(text, ran), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
