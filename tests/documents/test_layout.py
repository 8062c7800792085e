"""WeasyPrint beyond its plain API (documents/layout.py, ADR-58): the version it was read in, the
trimmed user-agent stylesheet, and the dossier's timeline laid out in parts and printed onto the
dossier's pages, read back with pypdf. Nothing is mocked; the parts are made small by setting
`PART_ROWS`, so a 150-event relationship is laid out in several.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, date
from importlib.metadata import version

import pytest
import weasyprint
from demo_story import IDENTITY
from pypdf import PdfReader
from tax_profile import UNTAXED_PROFILE

from documents import layout, render
from documents.context import Document, build_document, read_stream
from domain.model.values import Party
from domain.services.application import Tratos

ON = date(2026, 6, 30)
NOTES = 150
ROW = re.compile(r"^(\d+) \d{1,2} \w+\.? \d{4} ", re.MULTILINE)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tratos]:
    """One client with a long relationship: opened, then a note a day (wrapping ones among them)."""
    app = Tratos(profile=UNTAXED_PROFILE, home=tmp_path_factory.mktemp("layout"), actor="Ana García")
    app.open_relationship("acme", Party(name="Acme Consulting SL"), on=date(2026, 1, 2))
    for n in range(1, NOTES + 1):
        long = " about the relaunch, the blog, the forms and the next invoice" * (n % 7 == 0)
        app.record_note("acme", f"Call {n} with Laura{long}", on=date(2026, 1, 2 + n % 28))
    yield app
    app.close()


def dossier(app: Tratos) -> Document:
    return build_document(read_stream(app, "acme"), "dossier", lang="en", on=ON, identity=IDENTITY)


def pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_weasyprint_is_the_version_layout_was_read_in():
    assert version("weasyprint") == layout.WRITTEN_FOR["weasyprint"], (
        f"weasyprint {version('weasyprint')} is installed, but documents/layout.py was read against"
        f" {layout.WRITTEN_FOR['weasyprint']}: re-read it (the user-agent stylesheet, Stream, Page.paint)"
        " against the new version, then update WRITTEN_FOR and pyproject.toml")


def test_the_trimmed_user_agent_stylesheet_changes_no_byte(app, monkeypatch):
    trimmed = render.render_pdf(dossier(app))
    monkeypatch.setattr(layout, "page_class", lambda: weasyprint.HTML)
    assert render.render_pdf(dossier(app)) == trimmed


def test_the_timeline_laid_out_in_parts_is_the_timeline_laid_out_whole(app, monkeypatch):
    """Parts of 60 rows span two pages each: a part's last page goes back to the next part, so the
    pages come out as one layout of the whole timeline makes them."""
    document = dossier(app)
    monkeypatch.setattr(render, "PART_ROWS", 100_000)
    whole = pages(render.render_pdf(document))
    parts, render_part = [], render.render_part

    def counted(*args, **kwargs):
        parts.append(args[1])
        return render_part(*args, **kwargs)

    monkeypatch.setattr(render, "PART_ROWS", 60)
    monkeypatch.setattr(render, "render_part", counted)
    in_parts = pages(render.render_pdf(document))
    assert len(parts) >= 3 and all(len(rows) <= 60 for rows in parts)
    assert in_parts == whole
    assert [int(v) for v in ROW.findall(appendix(in_parts))] == list(range(1, NOTES + 2))
    for n, text in enumerate(in_parts, start=1):
        assert f"Page {n} of {len(in_parts)}" in text and "Chain v151 · " in text


def test_a_timeline_row_says_when_what_when_recorded_which_digest_and_who(app):
    event = next(e for e in read_stream(app, "acme").events if e.originator_version == 9)
    text = appendix(pages(render.render_pdf(dossier(app))))
    row = " ".join(re.search(r"^9 10 Jan 2026 .*$", text, re.MULTILINE)[0].split())
    recorded = event.timestamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert row == f"9 10 Jan 2026 Note: Call 8 with Laura {recorded} {event.digest[:16]} Ana García"


def appendix(texts: list[str]) -> str:
    return "\n".join(texts[next(i for i, text in enumerate(texts) if "APPENDIX A" in text):])


def test_the_row_marks_are_no_outline_entries(app):
    reader = PdfReader(io.BytesIO(render.render_pdf(dossier(app))))

    def titles(outline: list) -> Iterator[str]:
        for item in outline:
            yield from titles(item) if isinstance(item, list) else [item["/Title"]]

    found = list(titles(reader.outline))
    assert "Full timeline" in found and "Certificate of completion" in found
    assert not [title for title in found if title.isdigit()]


def test_the_appendix_blank_pages_are_found_or_it_says_so(app, monkeypatch):
    """The document's blank pages for the appendix are its last ones; if a template put them
    elsewhere, printing refuses instead of printing the timeline over other pages."""
    original = render.render_html
    monkeypatch.setattr(render, "render_html", lambda document, appendix_pages=1: original(
        document, appendix_pages=appendix_pages).replace('<section id="timeline">', '<section>'))
    with pytest.raises(ValueError, match="blank pages"):
        render.render_pdf(dossier(app))
