"""HTML and PDF for a document: Jinja2 templates and one print stylesheet, laid out by WeasyPrint.

Output is reproducible: the same store and inputs give the same bytes before
signing. Every date WeasyPrint would take from the clock is pinned to the
chain head's recorded time (`dcterms.created`/`modified`, the attachment's
dates, and `SOURCE_DATE_EPOCH`, which fontTools stamps into font subsets), and
the fonts are the DejaVu files shipped in `documents/fonts`, not whatever the
machine has. PDFs are PDF/A-3b, so the dossier can carry its event stream as
an embedded JSON file and still be signed.

WeasyPrint is imported inside `render_pdf` only: importing this module is cheap.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from documents.context import KINDS, Document
from documents.i18n import Formatter, catalog
from projections.sentences import describe_event

TEMPLATES = Path(__file__).parent / "templates"
STYLESHEET = TEMPLATES / "print.css"
PDF_VARIANT = "pdf/a-3b"


@cache
def _environment(lang: str) -> Environment:
    """One environment per language: its filters and labels format for that language."""
    fmt = Formatter(lang)
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_translations(catalog(lang), newstyle=True)  # type: ignore[attr-defined]
    environment.filters.update(fmt.filters(), sentence=lambda text: text[:1].upper() + text[1:])
    environment.globals.update(
        t=fmt.t,
        fee_rule=lambda terms: fmt.late_fee_rule(terms.late_fee, terms.reference_rate),
        kind_names={kind: fmt.t(f"kind.{kind}") for kind in KINDS},
    )
    return environment


def render_html(document: Document) -> str:
    """The document as HTML, in its language, with every value escaped."""
    fmt = Formatter(document.lang)
    template = _environment(document.lang).get_template(f"{document.kind}.html")
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
    )


def render_pdf(document: Document) -> bytes:
    """The unsigned PDF/A-3b, byte-identical for the same document."""
    from weasyprint import CSS, HTML, Attachment
    from weasyprint.text.fonts import FontConfiguration

    html = render_html(document)
    moment = document.head.recorded_at.astimezone(UTC).replace(microsecond=0)
    with _source_date_epoch(moment):
        fonts = FontConfiguration()
        attachments, xmp = [], b""
        if document.attachment is not None:
            embedded = document.attachment
            attachments.append(Attachment(
                string=embedded.content, name=embedded.name, description=embedded.description,
                created=moment, modified=moment, relationship=embedded.relationship,
            ))
            if embedded.xmp is not None:
                xmp = embedded.xmp.read_bytes()
        return HTML(string=html, base_url=str(TEMPLATES) + os.sep).write_pdf(
            stylesheets=[CSS(filename=str(STYLESHEET), font_config=fonts)],
            font_config=fonts, pdf_variant=PDF_VARIANT, attachments=attachments,
            custom_metadata=True, finisher=_with_xmp(xmp) if xmp else None,
        )


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
