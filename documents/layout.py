"""What tratos asks of WeasyPrint beyond `HTML(...).render()` and `write_pdf()` (ADR-58).

The one module of documents/ that relies on WeasyPrint's undocumented parts, read against the
version in `WRITTEN_FOR` (pyproject pins it; tests/documents/test_layout.py fails on another, and
prints through every function here):

- `page_class`: WeasyPrint's `HTML` with a user-agent stylesheet less the rules that style a
  pseudo-element of every element. WeasyPrint 70's styles `::marker`, `::footnote-call`,
  `::footnote-marker`, `::note-call`, `::note-marker` and `::note-callback` of any element, so it
  computes six styles per element besides its own, none of them shared between elements: a third
  of the time and memory of a long dossier. tratos prints no footnotes or CSS notes and markers
  only on list items: those rules go, and `::marker` is kept for `li`. Documents come out the
  same bytes. `_ua_stylesheets` is the method WeasyPrint's own tests override for this.
- `record` and `overlaid`: pages laid out apart and printed onto pages of another document.
  WeasyPrint lays out a whole document before it paints a page, and keeps every page's boxes until
  the PDF is written, about 1 MB a page of a long table. A long appendix is laid out a part at a
  time instead: each page of a part is painted at once into a `Recorded` page (its PDF drawing
  operators, some kilobytes) and the part dropped. The document is laid out last, with blank
  pages where the appendix goes, so its page numbers, page count and contents are WeasyPrint's
  own; `overlaid` prints a recorded page onto one of them. Recordings share the document's
  fonts, so each font is embedded once, subset to every glyph either used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

WRITTEN_FOR = {"weasyprint": "70.0"}
# Pseudo-elements of WeasyPrint's user-agent stylesheet that no tratos document uses.
UNUSED_PSEUDO_ELEMENTS = ("::footnote-call", "::footnote-marker", "::note-call", "::note-marker",
                          "::note-callback")
# CSS pixels to PDF points: WeasyPrint's `write_pdf` paints at zoom 1.
SCALE = 0.75
# The graphic states a recorded page may name: WeasyPrint's opacity states (`a0.5`, `A1`).
ALPHA_STATE = re.compile(r"([aA])([0-9.]+)")


@cache
def page_class() -> Any:
    """WeasyPrint's `HTML`, laying documents out with the trimmed user-agent stylesheet."""
    from importlib.resources import files

    import weasyprint.css
    from weasyprint import CSS, HTML
    from weasyprint.css.counters import CounterStyle

    rules = []
    for line in (files(weasyprint.css) / "html5_ua.css").read_text("utf-8").splitlines():
        if line.startswith(UNUSED_PSEUDO_ELEMENTS):
            continue
        rules.append("li" + line if line.startswith("::marker") else line)
    user_agent = CSS(string="\n".join(rules), counter_style=CounterStyle())

    class Page(HTML):
        def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
            return [user_agent, *super()._ua_stylesheets(forms)[1:]]

    return Page


@dataclass(frozen=True)
class Recorded:
    """A page painted ahead: its drawing operators, the opacities they set, its bookmarks."""

    content: bytes
    alphas: tuple[tuple[float | int, bool], ...]  # (alpha, stroke)
    bookmarks: tuple[Any, ...]


def record(page: Any, fonts: dict[Any, Any]) -> Recorded:
    """Paint a laid-out WeasyPrint `Page` now; its fonts go into `fonts`, the document's."""
    import pydyf
    from weasyprint.pdf.stream import Stream

    resources = pydyf.Dictionary({"ExtGState": pydyf.Dictionary(), "XObject": pydyf.Dictionary(),
                                  "Pattern": pydyf.Dictionary(), "Shading": pydyf.Dictionary(),
                                  "ColorSpace": None})
    stream = Stream(fonts, (0, 0, page.width, page.height), resources, {}, None, {}, None, compress=False)
    page.paint(stream, SCALE)
    alphas = []
    for name in resources["ExtGState"]:
        found = ALPHA_STATE.fullmatch(name)
        if found is None:
            raise ValueError(f"a recorded page may only set opacities, not graphic state {name}")
        alpha = int(found[2]) if found[2].isdigit() else float(found[2])
        if f"{found[1]}{alpha}" != name:
            raise ValueError(f"unexpected opacity state {name}")
        alphas.append((alpha, found[1] == "A"))
    if any(resources[kind] for kind in ("XObject", "Pattern", "Shading")):
        raise ValueError("a recorded page may only draw text, lines and colours (no images, no groups)")
    data = stream.data  # << /Length n >> stream ... endstream, uncompressed
    content = data[data.index(b"\nstream\n") + len(b"\nstream\n"):-len(b"\nendstream")]
    return Recorded(content, tuple(alphas), tuple(page.bookmarks))


def overlaid(page: Any, recorded: Recorded) -> Any:
    """`page` of the document, printing `recorded` as its content (its own is blank)."""
    from weasyprint.document import Page

    class Overlaid(Page):
        def paint(self, stream: Any, scale: float = 1) -> None:
            if scale != SCALE:
                raise ValueError(f"pages are recorded at zoom 1 (scale {SCALE}), not {scale}")
            for alpha, stroke in recorded.alphas:  # the opacities it names, in the page's resources
                stream.set_alpha(alpha, stroke=stroke, fill=not stroke)
            stream.stream.append(recorded.content)  # first: WeasyPrint paints margin boxes last
            super().paint(stream, scale)

    copy = Overlaid.__new__(Overlaid)
    copy.__dict__.update(page.__dict__)
    copy.bookmarks = [*page.bookmarks, *recorded.bookmarks]
    return copy
