"""What tratos prints of a recorded text, whatever an import brought in (issue 19, eleventh run, ADR-73).

An export edited and resealed as docs/export-format.md says (every digest recomputed) imports:
ADR-40 accepts, in events an older tratos recorded, texts the typed path refuses (a line break in
a one-line field, a right-to-left override). What tratos prints of them must show them as recorded
but on one line and with nothing hidden: `status`, `timeline` and `lessons` print no row a text
wrote, and the dossier (a signed document) reorders no name. Normal text (accents, CJK, Arabic
and Hebrew letters, emoji) prints as it is. Both backends.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import IN_FORCE, copied, given, ok, recorded_template, use_database

from domain.model.chain import GENESIS, canonical_json, digest_of, event_type

HISTORY = IN_FORCE + [
    ("change", "request", "acme", "Blog", "--on", "2026-01-20"),                        # C1
    ("mistake", "report", "acme", "Wrong DNS", "--by", "client", "--on", "2026-02-02"),  # M1
    ("mistake", "ack", "acme", "M1", "--on", "2026-02-02"),
    ("mistake", "diagnose", "acme", "M1", "--fault", "ours", "--cause", "typo", "--category", "hosting",
     "--on", "2026-02-03"),
    ("mistake", "lesson", "acme", "M1", "Check the DNS", "--on", "2026-02-04"),
    ("note", "acme", "Called about the blog", "--on", "2026-02-20"),
    ("note", "acme", "Café 東京 مرحبا שלום 👩‍💻 ❤️ Zoë", "--on", "2026-02-21"),
    ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-02-22"),            # F-2026-001, late
    ("end", "acme", "--reason", "Project delivered", "--on", "2026-03-02"),
]
FAKE_CHANGE = "C9  approved  0.00 EUR  0  0  Client waived all fees"
FAKE_EVENT = "33  2026-12-06  Payment received: 4240.00 EUR"
FAKE_LESSON = "hosting  RECURRING  acme  M9  Client pays double"
PAYMENT = "Bizum to \u202e600 111 222"
NORMAL = "Café 東京 مرحبا שלום 👩‍💻 ❤️ Zoë"
Record = dict[str, Any]


def kind(record: Record) -> str:
    return record["topic"].rsplit(":", 1)[-1]


def forge(records: list[Record]) -> None:
    """The texts of issue 19's defect 2, put where the typed path would never let them."""
    for record in records:
        state = record.get("state", {})
        if kind(record) in ("ContractDrafted", "InvoiceIssued") and "payment_method" in state:
            state["payment_method"] = PAYMENT
        elif kind(record) == "RelationshipEnded":
            state["reason"] = "Project \u202edelivered"
        elif kind(record) == "ChangeRequested":
            state["description"] = f"Blog\n{FAKE_CHANGE}\u2067"
        elif kind(record) == "MistakeReported":
            state["description"] = "Wrong \u202eSND\u202c"
        elif kind(record) == "LessonRecorded":
            state["lesson"] = f"Check the DNS\n{FAKE_LESSON}"
        elif kind(record) == "ContractSigned" and state.get("party") == "client":
            state["signer"] = "Zed\u202edeZ"
        elif kind(record) == "NoteRecorded" and state.get("text") == "Called about the blog":
            state["actor"] = f"Ana García\n{FAKE_EVENT}"
            state["text"] = "Called \u202eabout\u202c the\u200b blog"


def reseal(records: list[Record]) -> None:
    """Every digest recomputed, stream by stream, as docs/export-format.md says export writes them."""
    previous: dict[str, str] = {}
    for record in records:
        if "state" not in record:
            continue
        stream, state = record["stream"], record["state"]
        state["digest"] = digest_of(previous.get(stream, GENESIS), uuid.UUID(stream), record["version"],
                                    event_type(record["topic"]), state)
        previous[stream] = state["digest"]


@pytest.fixture
def imported(module_store, store, empty_store, tmp_path) -> Iterator[Path]:
    """A home holding the forged export, imported into an empty store of the test's backend."""
    source = recorded_template(module_store, store.backend, "hostile-eleventh-printed", HISTORY)
    with copied(source, store) as home:
        ok(home, "export", str(tmp_path / "story.jsonl"))
    lines = [json.loads(line) for line in (tmp_path / "story.jsonl").read_bytes().splitlines()]
    header, records, end = lines[0], lines[1:-1], lines[-1]
    forge(records)
    reseal(records)
    forged = tmp_path / "forged.jsonl"
    forged.write_bytes(b"".join(canonical_json(line) + b"\n" for line in (header, *records, end)))
    with use_database(Path(empty_store.home), empty_store.database_url) as target:
        given(target, IN_FORCE[:2])  # identity.json: who the documents are from (no event)
        ok(target, "import", str(forged))
        yield target


def test_a_change_description_adds_no_row_to_status(imported: Path) -> None:
    out = ok(imported, "status", "acme").stdout
    changes = out.split("\nChanges\n", 1)[1].split("\nMistakes\n", 1)[0].splitlines()
    assert changes[1].startswith("C1 ") and len(changes) == 2, out  # the header and C1, nothing after
    assert "Blog\\x0aC9  approved" in changes[1], out
    assert not any(line.startswith("C9") for line in out.splitlines()), out
    assert "\u202e" not in out, out


def test_an_actor_adds_no_row_to_the_timeline(imported: Path) -> None:
    out = ok(imported, "timeline", "acme").stdout
    rows = out.splitlines()[2:]  # the title, the header, then one row per event
    events = int(rows[-1].split()[0])
    assert [int(row.split()[0]) for row in rows] == list(range(1, events + 1)), out
    assert not any(line.startswith("33 ") for line in out.splitlines()), out
    assert "Ana García\\x0a33  2026-12-06  Payment received" in out, out
    assert "Called \\u202eabout\\u202c the\\u200b blog" in out, out
    assert "Blog\\x0aC9  approved" in out and "Zed\\u202edeZ" in out, out
    assert not any(char in out for char in "\u202e\u202c\u200b"), out


def test_a_lesson_adds_no_row_to_the_lessons(imported: Path) -> None:
    out = ok(imported, "lessons").stdout
    lines = out.splitlines()
    assert len(lines) == 3 and lines[2].startswith("hosting "), out  # the title, the header, one lesson
    assert f"Check the DNS\\x0a{FAKE_LESSON}" in lines[2], out


def test_json_still_says_the_text_exactly(imported: Path) -> None:
    said = json.loads(ok(imported, "--json", "status", "acme").stdout)
    assert said["changes"][0]["description"] == f"Blog\n{FAKE_CHANGE}\u2067"
    signed = json.loads(ok(imported, "--json", "timeline", "acme").stdout)
    assert f"Ana García\n{FAKE_EVENT}" in [row["actor"] for row in signed]  # as recorded
    assert any("(Zed\\u202edeZ, typed name)" in row["sentence"] for row in signed)  # a sentence is shown


def test_normal_text_prints_as_it_is(imported: Path) -> None:
    out = ok(imported, "timeline", "acme").stdout
    assert NORMAL in out, out
    assert "\\u" not in out.split(NORMAL)[0].splitlines()[-1], out  # nothing of it was escaped


def test_the_dossier_reorders_no_name(imported: Path, tmp_path: Path) -> None:
    from pypdf import PdfReader

    target = tmp_path / "dossier.pdf"
    ok(imported, "pdf", "dossier", "acme", "--unsigned", "--lang", "en", "-o", str(target))
    # pypdf reads some runs of the appendix as UTF-16 ("\x00C\x00a"), shown spaced out ("C a l l e d")
    text = "\n".join(page.extract_text() for page in PdfReader(str(target)).pages).replace("\x00", "")
    squeezed = "".join(text.split())
    assert not any(char in text for char in "\u202e\u202c\u200b"), text
    assert "Zed\\u202edeZ" in squeezed, text
    assert "Called\\u202eabout\\u202cthe\\u200bblog" in squeezed, text
    assert "García\\x0a33" in squeezed, text
    assert not any("".join(line.split()).startswith("332026-12-06") for line in text.splitlines()), text
    assert "مرحبا" in text and "שלום" in text, text  # letters of right-to-left scripts, no control: as they are


@pytest.mark.parametrize("value", [NORMAL, "Acme Consulting SL", "Zoë Ünal-Łukasz", "日本語のテキスト",
                                   "مرحبا بالعالم", "שלום עולם", "👩‍💻 ❤️ 🇪🇸", "नमस्ते", "می‌خواهم"])
def test_what_the_policy_accepts_is_shown_unchanged(value: str) -> None:
    from documents.i18n import shown
    from domain.model.texts import check_text, visible

    assert check_text(value, "a text") == value
    assert visible(value) == value and shown(value) == value


@pytest.mark.parametrize(("value", "on_a_line", "as_prose"), [
    ("Zed\u202edeZ", "Zed\\u202edeZ", "Zed\\u202edeZ"),
    ("a\nb\tc", "a\\x0ab\\x09c", "a\nb\tc"),            # a note's lines: HTML lays each break out as a space
    ("a\u2028b", "a\\u2028b", "a\\u2028b"),               # but breaks a line at U+2028
    ("Ac\u200bme\u2066", "Ac\\u200bme\\u2066", "Ac\\u200bme\\u2066"),
    ("x\x1b[2Jy <b>", "x\\x1b[2Jy <b>", "x\\x1b[2Jy &lt;b&gt;"),
])
def test_what_would_hide_is_escaped(value: str, on_a_line: str, as_prose: str) -> None:
    from documents.i18n import Formatter, shown
    from domain.model.texts import visible
    from projections.sentences import prose

    assert visible(value) == on_a_line == shown(value)
    assert prose(value) == as_prose
    assert "\u202e" not in Formatter("en").t("event.ContractSigned", signer="Zed\u202edeZ", method="x", party="", contract="K1")


def test_every_document_template_shows_what_it_prints(tmp_path: Path) -> None:
    """The filter is the environment's (`finalize`): a template printing a raw value shows it escaped."""
    from documents.render import _environment

    template = _environment("en").from_string("<p>{{ a }}</p><p>{{ t('event.NoteRecorded', text=b) }}</p>")
    html = template.render(a="Zed\u202edeZ", b="Called \u202eabout")
    assert "\u202e" not in html and "Zed\\u202edeZ" in html and "Called \\u202eabout" in html, html


def test_every_line_for_people_goes_through_the_printer() -> None:
    """A new command cannot print a recorded text raw: only cli/output.py calls click.echo."""
    import re

    cli = Path(__file__).resolve().parents[2] / "cli"
    raw = [f"{path.name}:{n}" for path in sorted(cli.glob("*.py")) if path.name != "output.py"
           for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
           if re.search(r"\bclick\.(echo|secho)\(|\bprint\(|sys\.stdout\.write", line)]
    assert raw == [], raw


def test_the_dossier_page_as_drawn(imported: Path, tmp_path: Path) -> None:
    """The page of the signatures drawn as pixels (as signatures.png, for a person to look at once:
    the signer's name has its escape, not its mirror; the assertions are on the text layer)."""
    import pypdfium2

    target = tmp_path / "dossier.pdf"
    ok(imported, "pdf", "dossier", "acme", "--unsigned", "--lang", "en", "-o", str(target))
    pdf = pypdfium2.PdfDocument(str(target))
    pages = [pdf[n].get_textpage().get_text_range() for n in range(len(pdf))]
    page = next(n for n, text in enumerate(pages) if "Zed\\u202edeZ" in text)
    assert "\u202e" not in "".join(pages)
    image = pdf[page].render(scale=1.5).to_pil()
    assert image.width > 0
    image.save(tmp_path / "signatures.png")


def pdf_text(path: Path) -> str:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(path))
    return "\n".join(pdf[n].get_textpage().get_text_range() for n in range(len(pdf)))


@pytest.mark.parametrize(("args", "shows"), [
    (("contract", "acme", "K1"), "Zed\\u202edeZ"),
    (("change", "acme", "C1"), "fees\\u2067"),
    (("incident", "acme", "M1"), "Wrong \\u202eSND\\u202c"),
    (("terms", "acme"), "Acme Consulting SL"),
    (("invoice", "acme", "F-2026-001"), "Acme Consulting SL"),  # its texts are its billing record's, fingerprinted
    (("reminder", "acme", "F-2026-001"), "Bizum to \\u202e600 111 222"),
    (("closing", "acme"), "Project \\u202edelivered"),
], ids=lambda value: value[0] if isinstance(value, tuple) else "")
def test_every_document_shows_the_texts_as_recorded(imported: Path, tmp_path: Path, args, shows: str) -> None:
    target = tmp_path / "document.pdf"
    ok(imported, "pdf", *args, "--unsigned", "--lang", "en", "-o", str(target))
    text = pdf_text(target)
    assert not any(char in text for char in "\u202e\u202c\u2067\u200b"), text
    assert shows in text.replace("\r\n", " ").replace("\n", " "), text
