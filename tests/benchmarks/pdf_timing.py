"""Documents, timed in one process after a warm-up: `tratos pdf contract` against bare WeasyPrint.

    .venv/bin/python tests/benchmarks/pdf_timing.py --home STORE --runs 5
    .venv/bin/python tests/benchmarks/pdf_timing.py --dossier-home STORE2000 --table-rows 2000 --runs 3

`contract`: the whole `tratos pdf contract acme` command run in-process through the CLI's
`main` (read the stream, build, render, sign with the PAdES key, write, record
DocumentIssued). `weasyprint`: `HTML(string=...).write_pdf()` of the very same HTML string,
with the same stylesheet and fonts (the same layout work), and nothing else: no PDF/A,
no attachment, no signature, no store. Both are medians of `--runs` runs, taken in turns,
after `--warmup` (default two) warm-up runs of each.

`--dossier-home` (the dossier figure, ADR-58): the whole `tratos pdf dossier acme` command on the
store whose acme has the long relationship (read, build, render, sign, write, record), against
bare WeasyPrint laying out a plain HTML page that holds one table of `--table-rows` rows and four
columns (a number, a date, a sentence, a hex digest) in the dossier's font and size, DejaVu Serif
9.5 pt: the least a document listing that many events costs. Timed in turns like the others;
each dossier run records one more `DocumentIssued` (a relationship 1 event longer each time).
The dossier's pages are counted with pypdf.

`invoice`: `documents.invoice_pdf.invoice_pdf` on a hand-built invoice view (two VAT rates,
withholding): render, Factur-X XML embedded with its XMP, PAdES signature with the store's key,
against bare WeasyPrint of the same HTML, timed in turns like the contract (until
`tratos pdf invoice` is wired, the function it will call).

`timestamped`: the same `tratos pdf contract acme` command with a time-stamping authority set
(`tratos identity tsa`, PAdES B-T), against the command with `--no-timestamp` (B-B), timed in
turns like the others. The authority is certomancer's on 127.0.0.1 (tests/tsa.py), served in a
thread of this process; the time it spends making each answer is measured inside its WSGI app
and taken out of the timestamped runs (`timestamped_net_seconds`): what is left is what tratos
adds (the HTTP round trip on the loopback, checking the token, a larger signature). This runs
last: it sets the TSA on the small store.

Both stores need an identity with a signing key (`tratos init` with TRATOS_KEY_PASSPHRASE).
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path


def tratos(*args: str) -> None:
    from cli.main import main

    try:
        main(list(args))
    except SystemExit as done:
        if done.code not in (0, None):
            raise RuntimeError(f"tratos {' '.join(args)} exited {done.code}") from None


def contract_html(home: Path) -> str:
    """The HTML the contract command renders (same document, same signer line)."""
    from cli.pdf import load_signing_identity
    from cli.session import Session
    from documents.context import Signer, build_document, read_stream
    from documents.render import render_html

    session = Session(home=str(home))
    try:
        signing = load_signing_identity(session)
        snapshot = read_stream(session.app, "acme")
        document = build_document(snapshot, "contract", None, lang=session.lang, on=session.today(),
                                  identity=session.identity, evidence_home=session.home,
                                  signer=Signer(signing.subject, signing.fingerprint))
        return render_html(document)
    finally:
        session.close()


def invoice_view() -> dict:
    """An invoice as the domain side hands it to the documents (hand-computed totals)."""
    from datetime import date
    from decimal import Decimal as D

    me = {"name": "Ana García", "tax_id": "12345678Z", "address": "Calle Mayor 1\n28013 Madrid",
          "country": "ES", "email": "ana@example.com"}
    client = {"name": "Acme S.L.", "tax_id": "B58378431", "address": "Av. Diagonal 100\n08019 Barcelona",
              "country": "ES", "email": "ap@acme.es"}
    lines = [{"description": "Development", "quantity": D(10), "unit_price": D("60.00"), "vat_rate": D(21),
              "amount": D("600.00")},
             {"description": "Training", "quantity": D("2.5"), "unit_price": D("80.00"), "vat_rate": D(10),
              "amount": D("200.00")}]
    return {"kind": "invoice", "number": "F-2026-001", "issued_on": date(2026, 2, 2), "operation_on": None,
            "due": date(2026, 3, 4), "currency": "EUR", "lang": "en", "issuer": me, "recipient": client,
            "lines": lines, "taxes": [{"rate": D(21), "base": D("600.00"), "vat": D("126.00")},
                                      {"rate": D(10), "base": D("200.00"), "vat": D("20.00")}],
            "taxation": "domestic", "exemption": "", "mention": "", "withholding_rate": D(15),
            "withholding": D("120.00"), "base": D("800.00"), "vat": D("146.00"), "total": D("946.00"),
            "payable": D("826.00"), "payment_method": "bank transfer", "iban": "ES9121000418450200051332",
            "corrects": None, "reason": ""}


def invoice_timing(home: Path, runs: int, warmup: int) -> tuple[float, float]:
    """Median seconds of the invoice pipeline and of bare WeasyPrint on its HTML."""
    from cli.pdf import load_signing_identity
    from cli.session import Session
    from documents.context import read_stream
    from documents.invoice_pdf import invoice_document, invoice_pdf
    from documents.render import render_html

    session = Session(home=str(home))
    try:
        signing = load_signing_identity(session)
        head = read_stream(session.app, "acme").head
    finally:
        session.close()
    view = invoice_view()
    html = render_html(invoice_document(view, handle="acme", head=head))
    full, bare = timed([lambda: invoice_pdf(view, handle="acme", head=head, identity=signing),
                        lambda: bare_weasyprint(html)], runs, warmup)
    return full, bare


def bare_weasyprint(html: str) -> bytes:
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from documents.render import STYLESHEET, TEMPLATES

    fonts = FontConfiguration()
    return HTML(string=html, base_url=str(TEMPLATES) + os.sep).write_pdf(
        stylesheets=[CSS(filename=str(STYLESHEET), font_config=fonts)], font_config=fonts)


def plain_table(rows: int) -> str:
    """One table of `rows` rows and four columns in the dossier's font, and nothing else."""
    body = "".join(f"<tr><td>{i}</td><td>{1 + i % 28} Jan 2026</td><td>Note: call {i} with the client about"
                   f" the {1 + i % 12}/2026 release</td><td>{i * 2654435761 % 16**16:016x}</td></tr>"
                   for i in range(1, rows + 1))
    return ('<!doctype html><html><head><meta charset="utf-8"><style>'
            '@font-face { font-family: "Tratos Serif"; src: url("../fonts/DejaVuSerif.ttf"); }'
            '@page { size: A4; margin: 33mm 20mm 22mm 22mm; }'
            'html { font-family: "Tratos Serif"; font-size: 9.5pt; }'
            f'table {{ border-collapse: collapse; width: 100%; }}</style></head><body><table>{body}</table>'
            '</body></html>')


def bare_table(html: str) -> bytes:
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    from documents.render import TEMPLATES

    return HTML(string=html, base_url=str(TEMPLATES) + os.sep).write_pdf(font_config=FontConfiguration())


def dossier_timing(home: str, rows: int, runs: int, warmup: int) -> dict[str, float | int]:
    """Median seconds of `tratos pdf dossier acme` and of bare WeasyPrint on a plain table."""
    from pypdf import PdfReader

    out = Path(tempfile.mkdtemp(prefix="tratos-bench-dossier-"))
    pdf, html = out / "dossier.pdf", plain_table(rows)
    try:
        dossier, bare = timed([lambda: tratos("--home", home, "pdf", "dossier", "acme", "-o", str(pdf)),
                               lambda: bare_table(html)], runs, warmup)
        return {"dossier_seconds": dossier, "table_seconds": bare, "table_rows": rows,
                "table_pages": len(PdfReader(io.BytesIO(bare_table(html))).pages),
                "dossier_pages": len(PdfReader(pdf).pages), "dossier_bytes": pdf.stat().st_size}
    finally:
        shutil.rmtree(out, ignore_errors=True)


def timed(functions: list, runs: int, warmup: int = 2) -> list[float]:
    """Median seconds of each function, run in turns (a burst of load on the machine hits all)."""
    for function in functions:
        for _ in range(warmup):
            function()
    times: list[list[float]] = [[] for _ in functions]
    for _ in range(runs):
        for function, spent in zip(functions, times, strict=True):
            started = time.perf_counter()
            function()
            spent.append(time.perf_counter() - started)
    return [statistics.median(spent) for spent in times]


def timestamp_timing(home: str, out: Path, runs: int, warmup: int) -> dict[str, float]:
    """Median seconds of `pdf contract` B-T with a local TSA, with the authority's own time out,
    and of the same command B-B (`--no-timestamp`)."""
    from tsa import TimeStampingAuthority

    authority = TimeStampingAuthority.start(out / "tsa")
    try:
        tratos("--home", home, "identity", "tsa", authority.url, "--trust", str(authority.write_root()))
        pdf = out / "timestamped.pdf"
        spent: list[float] = []

        def stamped() -> None:
            busy, _ = authority.busy
            started = time.perf_counter()
            tratos("--home", home, "pdf", "contract", "acme", "-o", str(pdf))
            spent.append((time.perf_counter() - started) - (authority.busy[0] - busy))

        gross, plain = timed([stamped, lambda: tratos("--home", home, "pdf", "contract", "acme", "-o", str(pdf),
                                                      "--no-timestamp")], runs, warmup)
        busy, answered = authority.busy
        tratos("--home", home, "identity", "tsa", "none")
    finally:
        authority.stop()
    return {"timestamped_seconds": gross, "timestamped_net_seconds": statistics.median(spent[warmup:]),
            "untimestamped_seconds": plain, "tsa_seconds_per_answer": busy / max(answered, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", help="the small store: contract, invoice, timestamp")
    parser.add_argument("--dossier-home", help="the store whose acme has a long relationship: the dossier")
    parser.add_argument("--table-rows", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: tax_profile
    global UNTAXED_PROFILE
    from tax_profile import UNTAXED_PROFILE
    os.environ.pop("TRATOS_DATABASE_URL", None)
    if args.dossier_home:
        print(json.dumps(dossier_timing(args.dossier_home, args.table_rows, args.runs, args.warmup)))
        return
    out = Path(tempfile.mkdtemp(prefix="tratos-bench-pdf-"))

    contract_pdf = out / "contract.pdf"
    html = contract_html(Path(args.home))
    contract, bare = timed([lambda: tratos("--home", args.home, "pdf", "contract", "acme", "-o", str(contract_pdf)),
                            lambda: bare_weasyprint(html)], args.runs, args.warmup)

    invoice, invoice_bare = invoice_timing(Path(args.home), args.runs, args.warmup)

    from pypdf import PdfReader

    stamps = timestamp_timing(args.home, out, args.runs, args.warmup)
    print(json.dumps({
        "contract_seconds": contract, "weasyprint_seconds": bare,
        "invoice_seconds": invoice, "invoice_weasyprint_seconds": invoice_bare,
        "contract_pages": len(PdfReader(contract_pdf).pages), **stamps,
    }))
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
