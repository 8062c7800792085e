"""Issue 19, hardening (ADR-62): no output is one of the home's own files, and a refused command
leaves the file system as it found it.

An output named by the user (`-o FILE`, `export FILE`, a folder to write into) that is, or reaches,
the store, the identity or the signing key is refused in one `error:` line naming that file (exit
2), however it is reached: the path itself, a symlink into the home, a relative path through `..`,
a hard link. Nothing is written (every file of the home keeps its bytes) and nothing is recorded.
A command refused in a home it had to make leaves no store behind, nor the home.
Both backends where a store is involved.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from cli_support import (
    IN_FORCE,
    copied,
    ok,
    open_store,
    recorded_template,
    refused,
    run,
    store_rows,
    use_database,
)

KEYED = {"TRATOS_KEY_PASSPHRASE": "s3cret passphrase"}
HISTORY = IN_FORCE + [
    ("client", "update", "acme", "--email", "laura@acme.test", "--on", "2026-01-12"),
    ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15"),  # F-2026-001, late by 2026-03-31
]


def template(module_store, backend: str, folder: Path):
    """acme in force with a signing key, an invoice and a note with evidence: once per backend."""
    evidence = folder / "kick-off.txt"
    evidence.write_text("Agreed: we start on Monday.\n", encoding="utf-8")
    note = ("note", "acme", "Laura confirmed the kick-off", "--evidence", str(evidence), "--on", "2026-01-16")
    return recorded_template(module_store, backend, "hostile-home-outputs", [*HISTORY, note], KEYED)


@pytest.fixture
def acme(module_store, store, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The template's private copy per test and backend."""
    with copied(template(module_store, store.backend, tmp_path_factory.mktemp("evidence")), store) as home:
        yield home


def home_files(home: Path) -> dict[str, bytes | str]:
    """Every file of the home as it is: its bytes, or where a symlink points. SQLite's -wal and -shm
    are left out: any reader of the store makes them (the tests' `store_rows` too)."""
    found: dict[str, bytes | str] = {}
    for path in sorted(home.rglob("*")):
        key = str(path.relative_to(home))
        if key.endswith(("-wal", "-shm")):
            continue
        if path.is_symlink():
            found[key] = os.readlink(path)
        elif path.is_file():
            found[key] = path.read_bytes()
    return found


# ------------------------------------------------------------ defect 1: no output is the home's own

# Each command that writes a file the user names; {out} is that file.
FILE_OUTPUTS = {
    "calendar": ("calendar", "-o", "{out}"),
    "verifactu-export": ("verifactu", "export", "--year", "2026", "-o", "{out}"),
    "pdf": ("pdf", "terms", "acme", "-o", "{out}"),
    "remind": ("remind", "acme", "F-2026-001", "-o", "{out}"),
    "send-dry-run": ("send", "acme", "terms", "--dry-run", "-o", "{out}"),
    "export": ("export", "{out}"),
    "invoice-book": ("invoice", "book", "--year", "2026", "-o", "{out}"),
    "audit-anchor": ("audit", "anchor", "-o", "{out}"),
    "verifactu-submission": ("verifactu", "submission", "-o", "{out}"),
}
OWN = {"tratos.sqlite": "the store", "identity.json": "your identity", "identity.p12": "your signing key"}
WAYS = ("direct", "symlink", "relative", "hard-link")
# The book is written as .csv or .xlsx only: none of the home's files is named so, so only a
# link of another name reaches one.
NAMED_BY_LINK_ONLY = {"invoice-book"}
FILE_CASES = [(command, own, way) for command in FILE_OUTPUTS for own in OWN for way in WAYS
              if not (command in NAMED_BY_LINK_ONLY and way in ("direct", "relative"))]


def reaching(home: Path, own: str, way: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The home's file `own`, named as `way` says."""
    target = home / own
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    if way == "direct":
        return str(target)
    if way == "symlink":
        link = elsewhere / "out.csv"
        link.symlink_to(target)
        return str(link)
    if way == "relative":
        work = tmp_path / "work" / "deeper"
        work.mkdir(parents=True, exist_ok=True)
        monkeypatch.chdir(work)
        relative = os.path.relpath(target, work)
        assert relative.startswith("..")
        return relative
    if not target.exists():
        pytest.skip(f"no {own} in a home whose store is in PostgreSQL: nothing to link")
    link = elsewhere / "out.csv"
    os.link(target, link)
    return str(link)


@pytest.mark.parametrize(("command", "own", "way"), FILE_CASES)
def test_an_output_that_is_one_of_the_home_s_own_files_is_refused(acme: Path, tmp_path: Path, command: str, own: str,
                                                                   way: str, monkeypatch: pytest.MonkeyPatch) -> None:
    out = reaching(acme, own, way, tmp_path, monkeypatch)
    linked = os.lstat(out) if os.path.lexists(out) else None
    before, rows = home_files(acme), store_rows(acme)
    said = refused(acme, tuple(arg.format(out=out) for arg in FILE_OUTPUTS[command]), 2,
                   f"it is {OWN[own]} ({acme / own}), one of the tratos home's own files", env=KEYED)
    assert "nothing was written" in said
    assert home_files(acme) == before
    assert store_rows(acme) == rows  # no DocumentIssued, no reminder, no anchor, no log entry
    if linked is not None:  # the link the user made is left as it was, still the home's file
        assert os.lstat(out).st_ino == linked.st_ino


@pytest.mark.parametrize("command", FILE_OUTPUTS)
def test_each_output_command_writes_where_it_may(acme: Path, tmp_path: Path, command: str) -> None:
    """The control: with a file of its own, each command above writes it (submission is refused
    later, for the mode: the refusal above came first)."""
    out = tmp_path / "out" / "written.csv"
    out.parent.mkdir()
    outcome = run(acme, *(arg.format(out=out) for arg in FILE_OUTPUTS[command]), env=KEYED)
    if command == "verifactu-submission":
        assert outcome.code == 1 and "no-verifactu" in outcome.stderr
        return
    assert outcome.code == 0, outcome.stderr
    assert out.stat().st_size > 0


def test_an_output_inside_the_home_but_not_its_own_is_written(acme: Path) -> None:
    """The home's own files are kept out; the rest of the home is the user's (the demo's pdf/)."""
    ok(acme, "calendar", "-o", str(acme / "pdf" / "acme.ics"))
    ok(acme, "pdf", "terms", "acme", "-o", str(acme / "pdf" / "terms.pdf"), env=KEYED)
    assert (acme / "pdf" / "terms.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("name", ["tratos.sqlite-wal", "tratos.sqlite-journal", "read-models.sqlite",
                                  "certificate.pem", "tsa-roots.pem", "evidence/ab/new.pdf", "certificates/x.pem"])
def test_every_file_the_home_keeps_is_its_own(acme: Path, name: str) -> None:
    before = home_files(acme)
    said = refused(acme, ("pdf", "terms", "acme", "-o", str(acme / name)), 2, "one of the tratos home's own",
                   env=KEYED)
    assert "nothing was written" in said
    assert home_files(acme) == before
    assert not (acme / name).exists() or not (acme / name).read_bytes().startswith(b"%PDF")


# Each command that writes files into a folder the user names; {out} is that folder.
FOLDER_OUTPUTS = {
    "export-evidence": ("export", "{tmp}/backup.jsonl", "--with-evidence", "{out}"),
    "verifactu-events": ("verifactu", "events", "--year", "2026", "-o", "{out}"),
}
OWN_FOLDERS = {"evidence": "the evidence folder", "certificates": "the certificates folder"}


@pytest.mark.parametrize("way", ["direct", "symlink", "relative", "inside"])
@pytest.mark.parametrize("own", OWN_FOLDERS)
@pytest.mark.parametrize("command", FOLDER_OUTPUTS)
def test_an_output_folder_of_the_home_s_own_is_refused(acme: Path, tmp_path: Path, command: str, own: str, way: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    folder = acme / own
    if way == "symlink":
        out = tmp_path / "linked-folder"
        out.symlink_to(folder, target_is_directory=True)
    elif way == "relative":
        monkeypatch.chdir(tmp_path)
        out = Path(os.path.relpath(acme, tmp_path)) / ".." / acme.name / own
    elif way == "inside":
        out = folder / "backup"
    else:
        out = folder
    before = home_files(acme)
    said = refused(acme, tuple(arg.format(out=out, tmp=tmp_path) for arg in FOLDER_OUTPUTS[command]), 2,
                   f"{OWN_FOLDERS[own]} ({acme / own}), one of the tratos home's own folders", env=KEYED)
    assert "cannot write into" in said
    assert home_files(acme) == before
    assert not (tmp_path / "backup.jsonl").exists()


def test_an_event_log_file_linked_into_the_home_refuses_the_whole_export(acme: Path, tmp_path: Path) -> None:
    """A link left in the folder, named as an entry's file: checked before any entry is written."""
    out = tmp_path / "events"
    out.mkdir()
    (out / "evento-000001.xml").symlink_to(acme / "identity.json")
    before, rows = home_files(acme), store_rows(acme)
    refused(acme, ("verifactu", "events", "--year", "2026", "-o", str(out)), 2,
            f"it is your identity ({acme / 'identity.json'})", env=KEYED)
    assert home_files(acme) == before and store_rows(acme) == rows  # the export is not logged either
    assert sorted(p.name for p in out.iterdir()) == ["evento-000001.xml"]


def test_an_evidence_copy_linked_into_the_home_is_refused(acme: Path, tmp_path: Path) -> None:
    """export --with-evidence: a dangling link where a copy goes would have made the store's journal."""
    [kept] = [p for p in (acme / "evidence").rglob("*") if p.is_file()]
    out = tmp_path / "copies"
    (out / kept.parent.name).mkdir(parents=True)
    (out / kept.parent.name / kept.name).symlink_to(acme / "tratos.sqlite-journal")
    before = home_files(acme)
    refused(acme, ("export", str(tmp_path / "backup.jsonl"), "--with-evidence", str(out)), 2,
            f"it is the store ({acme / 'tratos.sqlite-journal'})")
    assert home_files(acme) == before
    assert not (tmp_path / "backup.jsonl").exists()  # the export is not put in place without its copies


def test_writers_of_outputs_are_told_where_the_home_is() -> None:
    """As `shareable`: no output check can leave the home out."""
    import inspect

    from domain.adapters.files import output_file, output_folder, output_path, write_output

    for function in (output_path, output_folder, output_file, write_output):
        home = inspect.signature(function).parameters["home"]
        assert home.default is inspect.Parameter.empty, function.__name__


# ------------------------------------------------------------ defect 5: a refused command leaves no home behind

REFUSED_IN_A_NEW_HOME = {
    "demo-bad-key": (("demo",), {"TRATOS_ENCRYPTION_KEY": "not a key"}, 2, "TRATOS_ENCRYPTION_KEY is not"),
    "import-not-an-export": (("import", "{tmp}/bad.jsonl"), None, 2, "is not a tratos export"),
    "import-bad-key": (("import", "{tmp}/bad.jsonl"), {"TRATOS_ENCRYPTION_KEY": "not a key"}, 2,
                       "TRATOS_ENCRYPTION_KEY is not"),
    "client-open-after-today": (("client", "open", "acme", "--name", "Acme", "--on", "2026-04-01"), None, 1,
                                "is after today"),
    "verify-not-a-pdf": (("verify", "{tmp}/junk.pdf"), None, 2, "not a readable PDF"),
}


def listing(folder: Path) -> list[tuple[str, bytes | None]]:
    return [(str(p.relative_to(folder)), p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))]


@pytest.mark.parametrize("where", ["new", "new-with-parents", "empty-folder"])
@pytest.mark.parametrize("case", REFUSED_IN_A_NEW_HOME)
def test_a_command_refused_in_a_new_home_leaves_the_file_system_as_it_was(store, tmp_path: Path, case: str,
                                                                          where: str) -> None:
    args, env, code, says = REFUSED_IN_A_NEW_HOME[case]
    (tmp_path / "bad.jsonl").write_text('{"bad": 1}\n', encoding="utf-8")
    (tmp_path / "junk.pdf").write_bytes(b"not a PDF at all\n")
    home = {"new": tmp_path / "new-home", "new-with-parents": tmp_path / "a" / "b" / "home",
            "empty-folder": tmp_path / "empty-home"}[where]
    if where == "empty-folder":
        home.mkdir()
    before = listing(tmp_path)
    with use_database(home, store.database_url):
        outcome = run(home, *(arg.format(tmp=tmp_path) for arg in args), env=env)
    assert outcome.code == code and outcome.stderr.startswith("error: ") and says in outcome.stderr, outcome.stderr
    assert listing(tmp_path) == before


def test_a_refused_command_keeps_the_store_it_made_before(store, tmp_path: Path) -> None:
    """Only what the refused command made is taken back: a store with an event stays."""
    home = tmp_path / "home"
    with use_database(home, store.database_url):
        ok(home, "client", "open", "acme", "--name", "Acme", "--on", "2026-01-05")
        before = listing(tmp_path)
        outcome = run(home, "client", "open", "acme", "--name", "Acme", "--on", "2026-01-05")
        assert outcome.code == 1 and "already exists" in outcome.stderr
        assert listing(tmp_path) == before
        assert len(store_rows(home)) == 1


def test_a_store_made_and_recorded_in_is_never_taken_back(tmp_path: Path) -> None:
    """The last guard: whatever a command believes, a store holding an event is not removed."""
    from domain.adapters.home import HomeAsFound
    from domain.model.values import Party

    home = tmp_path / "home"
    found = HomeAsFound.look(home)
    with use_database(home, None):
        app = open_store(home)
        try:
            app.open_relationship("acme", Party(name="Acme"), on=date(2026, 1, 5))
        finally:
            app.close()
    found.restore()
    assert (home / "tratos.sqlite").exists() and len(store_rows(home)) == 1


HOLDER = """
import sys, time
from pathlib import Path
from domain.services.application import Tratos
app = Tratos(home=Path(sys.argv[1]), env={"TRATOS_DATABASE_URL": ""})
print("open", flush=True)
sys.stdin.read()
app.close()
"""


def test_a_new_empty_store_another_process_has_open_is_not_taken_back(tmp_path: Path) -> None:
    """A store made at the same moment by another command, not recorded in yet, stays."""
    from domain.adapters.home import HomeAsFound
    from domain.adapters.storage import unused_store

    home = tmp_path / "home"
    found = HomeAsFound.look(home)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(home)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        assert holder.stdout.readline().strip() == "open"
        with unused_store(home / "tratos.sqlite") as unused:
            assert not unused
        found.restore()
        assert (home / "tratos.sqlite").exists()
    finally:
        holder.communicate("")
    with unused_store(home / "tratos.sqlite") as unused:
        assert unused
    found.restore()
    assert not home.exists()


# ------------------------------------------------------------ the tenth run: the home's own files are no evidence

@pytest.mark.parametrize(("name", "what"), [("identity.p12", "your signing key"), ("tratos.sqlite", "the store"),
                                            ("identity.json", "your identity")])
def test_the_homes_own_files_are_no_evidence(acme: Path, name: str, what: str) -> None:
    if not (acme / name).exists():  # a PostgreSQL home has no tratos.sqlite
        pytest.skip(f"{name} is not in this home")
    before = home_files(acme)
    outcome = run(acme, "note", "acme", "Proof", "--evidence", str(acme / name), "--on", "2026-01-20")
    assert outcome.code == 2, outcome.stderr
    assert outcome.stderr == (f"error: cannot keep {acme / name} as evidence: it is {what} ({acme / name}), one of"
                              " the tratos home's own files; nothing was recorded\n")
    assert home_files(acme) == before


def test_evidence_kept_already_may_be_cited_again(acme: Path) -> None:
    kept = next(p for p in (acme / "evidence").rglob("*") if p.is_file())
    assert run(acme, "note", "acme", "The same proof", "--evidence", str(kept), "--on", "2026-01-20").code == 0
