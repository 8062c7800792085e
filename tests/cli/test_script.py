"""The installed `tratos` script as a shell runs it: exit codes, stderr, colour, import weight.

The store the script runs on is made once per backend (sqlite, postgres).
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from backends import BACKENDS
from cli_support import TODAY, store_args, use_database

SCRIPT = Path(sys.executable).parent / "tratos"
COLOUR = re.compile(rb"\x1b\[[0-9;]*(?:3[0-7]|38;[0-9;]+|9[0-7])m")  # a foreground colour
ANSI = re.compile(rb"\x1b\[")

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason=f"{SCRIPT} is not installed")


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TRATOS_") and k not in ("NO_COLOR", "FORCE_COLOR")}
    return env | {"TRATOS_TODAY": TODAY} | extra


def tratos(home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *store_args(home), *args], capture_output=True, text=True,
                          env=environment(**extra), timeout=60)


def on_a_terminal(home: Path, *args: str, **extra: str) -> tuple[int, bytes]:
    """Run with stdout on a pseudo-terminal, as in an interactive shell."""
    master, slave = pty.openpty()
    process = subprocess.Popen([str(SCRIPT), *store_args(home), *args], stdin=slave, stdout=slave,
                               stderr=subprocess.DEVNULL, env=environment(TERM="xterm-256color", **extra))
    os.close(slave)
    output = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(master)
    return process.wait(timeout=60), output


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Module-scoped here: one store per backend, shared by the module's tests."""
    if request.param == "postgres":
        request.getfixturevalue("postgres_server")  # skips (or fails under CI) with how to start it
    return request.param


@pytest.fixture(scope="module")
def home(backend: str, module_store) -> Iterator[Path]:
    spec = module_store(backend, "script")
    with use_database(Path(spec.home), spec.database_url) as home:
        assert tratos(home, "init", "--name", "Ana García", "--email", "ana@example.com").returncode == 0
        assert tratos(home, "client", "open", "acme", "--name", "Acme Consulting SL").returncode == 0
        yield home


def test_version(tmp_path):
    done = tratos(tmp_path, "--version")
    assert done.returncode == 0 and done.stdout.startswith("tratos, version ")


def test_a_recording_command_exits_0_and_confirms_on_stdout(home):
    done = tratos(home, "note", "acme", "Call about the kickoff")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"Recorded: note on acme on {TODAY} (acme)\n"


def test_bad_input_exits_2_with_one_line(home):
    done = tratos(home, "note", "nobody", "hello")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == ["error: no client 'nobody': open it with `tratos client open nobody`"]


def test_a_refusal_exits_1_with_one_line(home):
    done = tratos(home, "client", "open", "acme", "--name", "Acme again")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == ["error: client 'acme' already exists"]


def test_usage_errors_are_one_line_too(home):
    done = tratos(home, "mistake", "report", "acme", "x")
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith("error: Missing option '--by'")


def test_tratos_debug_shows_the_traceback(home):
    done = tratos(home, "client", "open", "acme", "--name", "Acme again", TRATOS_DEBUG="1")
    assert done.returncode == 1
    assert "Traceback (most recent call last)" in done.stderr
    assert done.stderr.splitlines()[-1] == "error: client 'acme' already exists"


def test_piped_tables_are_plain_text(home):
    done = tratos(home, "identity", "show")
    assert done.returncode == 0 and "\x1b[" not in done.stdout
    assert re.search(r"^name +Ana García$", done.stdout, re.MULTILINE)


def test_colour_on_a_terminal_unless_no_color(home):
    code, coloured = on_a_terminal(home, "identity", "show")
    assert code == 0 and COLOUR.search(coloured), coloured
    code, plain = on_a_terminal(home, "identity", "show", NO_COLOR="1")
    assert code == 0 and b"Ana Garc" in plain
    assert not COLOUR.search(plain), plain


@pytest.mark.parametrize("args", [
    ("note", "acme", "hello"),
    ("--json", "note", "acme", "hello"),
    ("terms", "publish", "acme", "--rate", "60/h", "--late-fee", "statutory-eu"),
    ("identity", "show"),
    ("note", "nobody", "hello"),
])
def test_recording_commands_load_neither_rich_nor_pdf_libraries(home, args):
    probe = (
        "import sys\n"
        "from cli.main import main\n"
        f"try:\n    main([*{store_args(home)!r}, *{list(args)!r}])\n"
        "except SystemExit:\n    pass\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'rich', 'weasyprint', 'pyhanko'})\n"
        "print('HEAVY=' + ','.join(heavy), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=environment(), timeout=60)
    assert done.stderr.splitlines()[-1] == "HEAVY=", done.stderr
