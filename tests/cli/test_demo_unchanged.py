"""The demo's printed output and the text of every PDF it writes, against the golden copy.

The golden copy (tests/fixtures/demo/) was written by tratos before the rules moved to one
home each (issue 18): a refactor that changes what a freelancer reads fails here. What differs
legitimately from run to run is normalised first: digests and SHA-256 values (they cover the
recorded time), recorded timestamps, the store's folder. When a change of wording is meant,
regenerate with `TRATOS_WRITE_GOLDEN=1 pytest tests/cli/test_demo_unchanged.py` and review
the diff of tests/fixtures/demo/ like any other change.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from backends import SCRIPT
from pypdf import PdfReader

GOLDEN = Path(__file__).parent.parent / "fixtures" / "demo"
HEX = re.compile(r"\b[0-9a-f]{12,64}\b")
STAMP = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}| UTC)?")
WRITTEN = re.compile(r"\d{1,2} \w+\.? \d{4}, \d{2}:\d{2}(:\d{2})? UTC")  # recorded times, as Babel writes them


def normalised(text: str, home: Path) -> str:
    text = text.replace(str(home), "<home>")
    text = HEX.sub("<hex>", text)
    text = STAMP.sub("<time>", text)
    text = WRITTEN.sub("<time>", text)
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    home = tmp_path_factory.mktemp("demo") / "store"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRATOS_")}
    result = subprocess.run([str(SCRIPT), "--home", str(home), "demo"], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return home, normalised(result.stdout, home)


def _compare(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("TRATOS_WRITE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from the golden demo"


def test_demo_prints_what_it_printed_before(demo_run: tuple[Path, str]) -> None:
    _, output = demo_run
    assert "Recorded: invoice F-2026-003" in output  # the story ran to its end
    _compare("output.txt", output)


PDFS = ["acme-terms", "acme-contract-K1", "acme-change-C1", "acme-incident-M1", "acme-dossier",
        "northwind-reminder-F-2026-002", "northwind-closing",
        "acme-invoice-F-2026-001", "northwind-invoice-F-2026-002", "acme-invoice-R-2026-001"]


@pytest.mark.parametrize("name", PDFS)
def test_demo_pdf_reads_as_before(demo_run: tuple[Path, str], name: str) -> None:
    home, _ = demo_run
    reader = PdfReader(home / "pdf" / f"{name}.pdf")
    assert sorted(p.stem for p in (home / "pdf").glob("*.pdf")) == sorted(PDFS)  # none unseen
    text = "\n\f\n".join(page.extract_text() for page in reader.pages)
    assert text.strip()
    _compare(f"{name}.txt", normalised(text, home))


def test_no_golden_file_is_left_over() -> None:
    """Every golden file is compared: a PDF the demo stopped writing would otherwise go unseen."""
    assert sorted(p.stem for p in GOLDEN.glob("*.txt")) == sorted([*PDFS, "output"])
