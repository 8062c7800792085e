"""Pages laid out on their own and printed onto pages of another WeasyPrint document (ADR-58).

The one module of documents/ that uses WeasyPrint's internals (its PDF `Stream` and what a
`Page` paints into it), read against WeasyPrint 70 (pyproject pins 70.x; tests/documents/
test_render.py prints a dossier through it and reads its timeline back).

WeasyPrint lays out a whole document before it paints a page, and keeps every page's boxes
until the PDF is written: about 1 MB a page of a long table. A long appendix is therefore laid
out a part at a time, each part's pages painted at once into a `Recorded` page (the PDF drawing
operators, some kilobytes) and the part's boxes dropped. The document itself is laid out last,
with blank pages where the appendix goes, so its page numbers, page count and table of contents
are WeasyPrint's own; `Overlaid` prints each recorded page onto one of them. The recordings
share the document's fonts, so every font is embedded once, subset to the glyphs of both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# CSS pixels to PDF points, as WeasyPrint's `write_pdf` paints at zoom 1.
SCALE = 0.75


@dataclass(frozen=True)
class Recorded:
    """A page painted ahead: its drawing operators, the graphic states they name, its bookmarks."""

    content: bytes
    states: dict[str, Any]
    bookmarks: list[Any] = field(default_factory=list)


def record(page: Any, fonts: dict[Any, Any]) -> Recorded:
    """Paint a laid-out WeasyPrint `Page` now, registering its fonts in `fonts` (the document's)."""
    import pydyf
    from weasyprint.pdf.stream import Stream

    resources = pydyf.Dictionary({"ExtGState": pydyf.Dictionary(), "XObject": pydyf.Dictionary(),
                                  "Pattern": pydyf.Dictionary(), "Shading": pydyf.Dictionary(),
                                  "ColorSpace": None})
    rectangle = (0, 0, page.width, page.height)
    stream = Stream(fonts, rectangle, resources, {}, None, {}, None, compress=False)
    page.paint(stream, SCALE)
    if any(resources[kind] for kind in ("XObject", "Pattern", "Shading")):
        raise ValueError("a recorded page may only draw text, lines and colours (no images, no groups)")
    content = b"\n".join(item if isinstance(item, bytes) else pydyf._to_bytes(item) for item in stream.stream)
    return Recorded(content, dict(resources["ExtGState"]), list(page.bookmarks))


def overlaid(page: Any, recorded: Recorded) -> Any:
    """`page` of the document, printing `recorded` as its content (the page's own is blank)."""
    from weasyprint.document import Page

    class Overlaid(Page):
        def paint(self, stream: Any, scale: float = 1) -> None:
            if scale != SCALE:
                raise ValueError(f"pages are recorded at zoom 1 (scale {SCALE}), not {scale}")
            stream._resources["ExtGState"].update(recorded.states)
            stream.stream.append(recorded.content)  # first, as WeasyPrint paints a page's margin boxes last
            super().paint(stream, scale)

    copy = Overlaid.__new__(Overlaid)
    copy.__dict__.update(page.__dict__)
    copy.bookmarks = [*page.bookmarks, *recorded.bookmarks]
    return copy
