"""HTML and PDF for a document: Jinja2 templates and one print stylesheet, laid out by WeasyPrint.

Output is reproducible: the same store and inputs give the same bytes before
signing. Every date WeasyPrint would take from the clock is pinned to the
chain head's recorded time (`dcterms.created`/`modified`, the attachment's
dates, and `SOURCE_DATE_EPOCH`, which fontTools stamps into font subsets), and
the fonts are the DejaVu files shipped in `documents/fonts`, not whatever the
machine has. PDFs are PDF/A-3b, so the dossier can carry its event stream as
an embedded JSON file and still be signed.

A long appendix (the dossier's timeline) is laid out a part at a time and printed onto the
document's own pages (documents/layout.py, ADR-58): what WeasyPrint holds at once stays the
size of a part, however long the relationship.

WeasyPrint is imported inside `render_pdf` only: importing this module is cheap.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from documents import layout
from documents.context import KINDS, Document
from documents.i18n import Formatter, catalog, shown
from projections.sentences import describe_event, prose

TEMPLATES = Path(__file__).parent / "templates"
STYLESHEET = TEMPLATES / "print.css"
PDF_VARIANT = "pdf/a-3b"
# Rows of an appendix laid out at a time (ADR-58): some six pages of the dossier's timeline.
PART_ROWS = 300
ROW_GROUP = 40  # rows of an appendix table's row group (`tbody`): short, as WeasyPrint walks a
                # group's every row on each page the group reaches
# The bookmark level of an appendix row (templates/print.css): says which rows a part's last page
# holds. It is never an outline entry of the PDF.
ROW_MARK_LEVEL = 9


@dataclass(frozen=True)
class Appendix:
    """A document's appendix laid out apart: its template, the document value it lists (rows with
    a `version`, which the template marks, templates/print.css), and the id of the element
    holding its blank pages in the document."""

    template: str
    rows: str
    anchor: str


APPENDICES = {"dossier": Appendix("dossier_timeline.html", "timeline", "timeline")}


@cache
def _environment(lang: str) -> Environment:
    """One environment per language: its filters and labels format for that language. Every value
    a template prints is shown as recorded and on one line (`shown`, ADR-73) before it is escaped:
    `finalize` is the environment's, so a new template cannot leave it out; a multi-line text
    keeps its line breaks as white space through the `prose` filter, and nothing else."""
    fmt = Formatter(lang)
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined, finalize=shown,
        trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_translations(catalog(lang), newstyle=True)  # type: ignore[attr-defined]
    environment.filters.update(fmt.filters(), prose=prose, sentence=lambda text: text[:1].upper() + text[1:])
    environment.globals.update(
        t=fmt.t,
        fee_rule=lambda terms: fmt.late_fee_rule(terms.late_fee, terms.reference_rate),
        kind_names={kind: fmt.t(f"kind.{kind}") for kind in KINDS},
    )
    return environment


def render_html(document: Document, appendix_pages: int = 1) -> str:
    """The document as HTML, in its language, with every value escaped; an appendix laid out
    apart (`APPENDICES`) has `appendix_pages` blank pages in it."""
    return _render(document, f"{document.kind}.html", appendix_pages=appendix_pages)


def render_part(document: Document, rows: Sequence[Any], *, start: int) -> str:
    """One part of the document's appendix, as HTML: its `rows`, which begin at row `start` (and
    with the appendix's heading if that is the first). The rows go in groups (`tbody`) of
    `ROW_GROUP` counted from the appendix's first row, as one layout of the whole has them: a
    part's boxes are those of the whole, so it paginates as the whole would."""
    groups: list[list[Any]] = []
    for index, row in enumerate(rows, start=start):
        if not groups or index % ROW_GROUP == 0:
            groups.append([])
        groups[-1].append(row)
    return _render(document, APPENDICES[document.kind].template, groups=groups, first=start == 0)


def _render(document: Document, template_name: str, **more: Any) -> str:
    fmt = Formatter(document.lang)
    template = _environment(document.lang).get_template(template_name)
    me = document.values["me"]
    kind_label = fmt.t(document.values.get("label_key", f"kind.{document.kind}"))
    contact = [f"{fmt.t('tax_id')} {me.tax_id}" if me.tax_id else "", me.address, me.email]
    return template.render(
        **document.values,
        describe=lambda event: describe_event(event, fmt, document.values["names"]),
        lang=document.lang, kind=document.kind, document_id=document.document_id,
        on=document.on, head=document.head, kind_label=kind_label,
        title=f"{kind_label} {document.document_id} · {document.values['client'].name}",
        created=_w3c(document.head.recorded_at),
        contact_line=" · ".join(part for part in contact if part),
        attachment_name=document.attachment.name if document.attachment else "",
        **more,
    )


def render_pdf(document: Document) -> bytes:
    """The unsigned PDF/A-3b, byte-identical for the same document."""
    from weasyprint import CSS, Attachment
    from weasyprint.text.fonts import FontConfiguration

    moment = document.head.recorded_at.astimezone(UTC).replace(microsecond=0)
    with _source_date_epoch(moment), _fewer_collections():
        fonts = FontConfiguration()
        stylesheets = [CSS(filename=str(STYLESHEET), font_config=fonts)]
        attachments, xmp = [], b""
        if document.attachment is not None:
            embedded = document.attachment
            attachments.append(Attachment(
                string=embedded.content, name=embedded.name, description=embedded.description,
                created=moment, modified=moment, relationship=embedded.relationship,
            ))
            if embedded.xmp is not None:
                xmp = embedded.xmp.read_bytes()
        laying_out = {"stylesheets": stylesheets, "pdf_variant": PDF_VARIANT, "custom_metadata": True}
        used_fonts: dict[Any, Any] = {}
        appendix = [layout.record(page, used_fonts) for page in _appendix_pages(document, fonts, laying_out)]
        html = render_html(document, appendix_pages=len(appendix))
        options = {**laying_out, "attachments": attachments}
        laid_out = layout.page_class()(string=html, base_url=str(TEMPLATES) + os.sep).render(
            font_config=fonts, **options)
        if appendix:
            first = len(laid_out.pages) - len(appendix)
            anchor = APPENDICES[document.kind].anchor
            if first < 1 or anchor not in laid_out.pages[first].anchors or anchor in laid_out.pages[first - 1].anchors:
                raise ValueError("the appendix's blank pages are not the document's last pages")
            overlaid = [layout.overlaid(page, recorded)
                        for page, recorded in zip(laid_out.pages[first:], appendix, strict=True)]
            laid_out = laid_out.copy([*laid_out.pages[:first], *overlaid])
        laid_out.fonts = used_fonts
        return laid_out.write_pdf(finisher=_with_xmp(xmp) if xmp else None, **options)


def _appendix_pages(document: Document, fonts: Any, options: dict[str, Any]) -> Iterator[Any]:
    """The appendix's pages, laid out `PART_ROWS` rows at a time, each part from a fresh page.

    A part's last page, unless it is the appendix's last, goes back: its rows begin the next
    part, so only the appendix's last page is not full. Each page is yielded while its part is
    the only one WeasyPrint holds.
    """
    appendix = APPENDICES.get(document.kind)
    if appendix is None:
        return
    rows = document.values[appendix.rows]
    start = 0
    while start < len(rows):
        part = rows[start:start + PART_ROWS]
        html = render_part(document, part, start=start)
        laid_out = layout.page_class()(string=html, base_url=str(TEMPLATES) + os.sep).render(
            font_config=fonts, **options).pages
        end = start + len(part)
        if end < len(rows) and len(laid_out) > 1:
            carried = _rows_begun_on(laid_out[-1])
            if carried and not carried & _rows_begun_on(laid_out[-2]):  # a row split over pages stays
                first_carried = next(i for i, row in enumerate(part) if str(row.version) in carried)
                if first_carried > 0:
                    end, laid_out = start + first_carried, laid_out[:-1]
        for page in laid_out:
            page.bookmarks[:] = [b for b in page.bookmarks if b[0] != ROW_MARK_LEVEL]
            yield page
        del laid_out
        start = end


def _rows_begun_on(page: Any) -> set[str]:
    return {label for level, label, *_ in page.bookmarks if level == ROW_MARK_LEVEL}


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Python's cyclic garbage collector, run less often while WeasyPrint builds its boxes.

    Laying out allocates millions of objects and frees few: at the default threshold (700) the
    collector ran some 2,000 times over a long dossier and took a quarter of its time (ADR-58).
    """
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], 50_000), before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _with_xmp(descriptions: bytes) -> Callable[[Any, Any], None]:
    """A WeasyPrint finisher adding `rdf:Description`s inside the XMP's one `rdf:RDF`.

    WeasyPrint's own `xmp_metadata` option appends a second `rdf:RDF`, which XMP readers
    (pikepdf, and PDF/A validators reading one packet) do not see. It also lists each
    attachment twice in the catalog's /AF (WeasyPrint 70): once is enough.
    """
    def finisher(_document: Any, pdf: Any) -> None:
        stream = pdf.objects[int(pdf.catalog["Metadata"].split()[0])]
        packet = b"".join(part if isinstance(part, bytes) else str(part).encode() for part in stream.stream)
        if packet.count(b"</rdf:RDF>") != 1:
            raise ValueError("unexpected XMP packet from WeasyPrint: not one rdf:RDF")
        stream.stream = [packet.replace(b"</rdf:RDF>", descriptions + b"</rdf:RDF>")]
        if "AF" in pdf.catalog:
            unique = list(dict.fromkeys(pdf.catalog["AF"]))
            pdf.catalog["AF"].clear()
            pdf.catalog["AF"].extend(unique)

    return finisher


@contextmanager
def _source_date_epoch(moment: datetime) -> Iterator[None]:
    """fontTools stamps font subsets with SOURCE_DATE_EPOCH, else with the current time."""
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(int(moment.timestamp()))
    try:
        yield
    finally:
        if previous is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous


def _w3c(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
