"""Every kind of document, in Spanish and English, rendered from the demo story by WeasyPrint.

The story is recorded once per backend (sqlite, postgres) through the
Application; each kind is rendered once per language and backend from that
store and read back with pypdf (text normalised with NFKC, since
Babel puts a no-break space before €, and whitespace collapsed, since a
sentence may wrap). Nothing is mocked.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from backends import BACKENDS, StoreSpec, copy_store
from demo_story import ACME, IDENTITY, NORTHWIND, TODAY, record_story
from forger import Forger
from pypdf import PdfReader
from tax_profile import UNTAXED_PROFILE

from documents.context import KINDS, Document, build_document, read_stream
from documents.render import render_html, render_pdf
from domain.model.chain import RawRecord, verify_chain
from domain.model.errors import BadInput, Refused, UnknownReference
from domain.model.money import Money
from domain.model.values import Installment, LateFee, Party, Scope, Terms, stream_id
from domain.services.application import Tratos

LANGS = ("es", "en")
# kind -> (client handle, id)
SUBJECTS = {
    "terms": ("acme", None), "contract": ("acme", None), "change": ("acme", "C1"),
    "incident": ("acme", "M1"), "reminder": ("acme", "F-2026-002"),
    "closing": ("north-wind", None), "dossier": ("acme", None), "invoice": ("acme", "F-2026-001"),
}


@dataclass(frozen=True)
class Rendered:
    document: Document
    pdf: bytes
    text: str
    pages: int


def pdf_text(pdf: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(unicodedata.normalize("NFKC", text).split()), len(reader.pages)


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Module-scoped here: the story is recorded, and every document rendered, once per backend."""
    if request.param == "postgres":
        request.getfixturevalue("postgres_server")  # skips (or fails under CI) with how to start it
    return request.param


@pytest.fixture(scope="module")
def story(backend: str, module_store) -> StoreSpec:
    spec = module_store(backend, "story")
    record_story(Path(spec.home), spec)
    return spec


@pytest.fixture(scope="module")
def home(story: StoreSpec) -> Path:
    return Path(story.home)


@pytest.fixture(scope="module")
def app(story: StoreSpec) -> Iterator[Tratos]:
    app = story.open()
    yield app
    app.close()


def make(app: Tratos, home: Path, kind: str, lang: str, ref: str | None = None,
         handle: str | None = None, on: date = TODAY) -> Document:
    default_handle, default_ref = SUBJECTS[kind]
    return build_document(read_stream(app, handle or default_handle), kind, ref or default_ref,
                          lang=lang, on=on, identity=IDENTITY, evidence_home=home)


@pytest.fixture(scope="module")
def rendered(app: Tratos, home: Path) -> dict[tuple[str, str], Rendered]:
    out = {}
    for kind in KINDS:
        for lang in LANGS:
            document = make(app, home, kind, lang)
            pdf = render_pdf(document)
            text, pages = pdf_text(pdf)
            out[kind, lang] = Rendered(document, pdf, text, pages)
    return out


def head_of(app: Tratos, handle: str) -> tuple[int, str]:
    relationship = app.relationship(handle)
    return relationship.version, relationship.head_digest


# ------------------------------------------------------------------ every kind


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_page_carries_the_identity_kind_id_and_chain_head(rendered, app, kind, lang):
    result = rendered[kind, lang]
    handle, ref = SUBJECTS[kind]
    version, digest = head_of(app, handle)
    chain, page, of = ("Cadena", "Página", "de") if lang == "es" else ("Chain", "Page", "of")
    assert result.pdf.startswith(b"%PDF-")
    assert result.text.count(f"{chain} v{version} · {digest[:16]}") == result.pages
    assert result.text.count(IDENTITY["name"]) >= result.pages
    assert result.text.count(f"NIF {IDENTITY['tax_id']}" if lang == "es" else f"Tax ID {IDENTITY['tax_id']}") >= 1
    for n in range(1, result.pages + 1):
        assert f"{page} {n} {of} {result.pages}" in result.text
    assert (NORTHWIND if handle == "north-wind" else ACME) in result.text
    if ref:
        assert ref in result.text


def test_the_chain_head_is_the_streams_last_event(rendered, app):
    document = rendered["contract", "es"].document
    assert (document.head.version, document.head.digest) == head_of(app, "acme")
    records = list(app.raw_records(app.relationship("acme").id))
    assert document.head.digest == records[-1].state["digest"]


@pytest.mark.parametrize("lang, price, installment, start, end", [
    ("es", "8.000,00 €", "4.000,00 €", "15 de enero de 2026", "15 de marzo de 2026"),
    ("en", "€8,000.00", "€4,000.00", "15 January 2026", "15 March 2026"),
])
def test_contract(rendered, lang, price, installment, start, end):
    text = rendered["contract", lang].text
    assert price in text and installment in text and start in text and end in text
    assert "Website redesign" in text and "Five page templates" in text
    assert "15 de febrero de 2026" in text if lang == "es" else "15 February 2026" in text
    assert ("Laura Martín" in text) and ("120 h" in text)
    assert ("condiciones de trabajo v1" in text) if lang == "es" else ("terms of business v1" in text)
    assert ("8.600,00 €" if lang == "es" else "€8,600.00") in text  # total with C1 approved
    assert ("Transferencia bancaria" if lang == "es" else "Bank transfer") in text  # the default, translated


@pytest.mark.parametrize("lang, price, total, new_end, approved", [
    ("es", "600,00 €", "8.600,00 €", "20 de marzo de 2026", "22 de enero de 2026"),
    ("en", "€600.00", "€8,600.00", "20 March 2026", "22 January 2026"),
])
def test_change_order(rendered, lang, price, total, new_end, approved):
    text = rendered["change", lang].text
    for expected in (price, total, new_end, approved, "C1", "K1", "Add a blog section", "10 h"):
        assert expected in text
    assert hashlib.sha256(b"From: laura@acme.example\nSubject: Blog\n\nCan you add a blog?\n").hexdigest() in text


@pytest.mark.parametrize("lang, reported, fault, cost", [
    ("es", "2 de febrero de 2026", "nuestra", "150,00 €"),
    ("en", "2 February 2026", "ours", "€150.00"),
])
def test_incident_report(rendered, lang, reported, fault, cost):
    text = rendered["incident", lang].text
    for expected in (reported, fault, cost, "M1", "O1", "O2", "we lost two enquiries",
                     "I am sorry", "copied from the staging configuration",
                     "Check the production configuration against a checklist"):
        assert expected in text
    assert ("Acordado con el cliente" if lang == "es" else "Agreed with the client") in text


@pytest.mark.parametrize("lang, due, principal, interest, compensation, total", [
    ("es", "17 de marzo de 2026", "4.000,00 €", "15,57 €", "40,00 €", "4.055,57 €"),
    ("en", "17 March 2026", "€4,000.00", "€15.57", "€40.00", "€4,055.57"),
])
def test_reminder_itemizes_the_statutory_claim(rendered, lang, due, principal, interest, compensation, total):
    # 4,000 EUR, 14 days late at (2.15 fixed by the terms + 8) % a year:
    # 4000 x 10.15 % x 14/365 = 5684/365 = 15.57 interest; + 40 compensation; 4,055.57 claimed in all
    text = rendered["reminder", lang].text
    for expected in (due, "F-2026-002", "2011/7/", IDENTITY["iban"]):
        assert expected in text
    assert not re.search(r"(Días de retraso|Days late)", text)  # the interest line states them
    if lang == "en":
        assert f"Principal outstanding {principal}" in text
        assert f"Statutory interest: 14 days at 10.15% a year {interest}" in text
        assert "Reference rate fixed by the terms (2.15%) plus 8 points" in text
        assert re.search(rf"Fixed compensation for recovery costs \(Directive 2011/7/EU, art\. 6\) {compensation}", text)
        assert f"Total claimed {total}" in text
    else:
        assert f"Principal pendiente {principal}" in text
        assert f"Intereses de demora: 14 días al 10,15 % anual {interest}" in text
        assert "Tipo de referencia fijado en las condiciones (2,15 %) más 8 puntos" in text
        assert f"Indemnización fija por costes de cobro (Ley 3/2004, art. 8) {compensation}" in text
        assert f"Total reclamado {total}" in text
    assert ("Forma de pago: transferencia bancaria" if lang == "es" else "Payment method: bank transfer") in text
    assert rendered["reminder", lang].pages == 1


def _table_terms_store(home: Path) -> Tratos:
    """Two clients whose terms leave the reference rate to the half-year table: one invoice due in
    the second half of 2024, one after the table's last half-year; and one with a 5 % late fee."""
    app = Tratos(profile=UNTAXED_PROFILE, home=home, actor=IDENTITY["name"])
    table = Terms(payment_days=30, late_fee=LateFee(kind="statutory-eu"))
    percent = Terms(payment_days=30, late_fee=LateFee(kind="percent", percent=Decimal(5)))
    for handle, start, due, rule in (("zeta", date(2024, 9, 1), date(2024, 10, 20), table),
                                     ("omega", date(2026, 7, 1), date(2026, 8, 3), table),
                                     ("kappa", date(2025, 2, 1), date(2025, 3, 3), percent)):
        app.open_relationship(handle, Party(name=f"{handle.title()} SL"), on=start)
        app.publish_terms(handle, rule, on=start)
        app.draft_contract(handle, title="Audit", scope=Scope(description="An accessibility audit"),
                           price=Money.of(1200, "EUR"), start=start, end=due,
                           installments=[Installment(n=1, amount=Money.of(1200, "EUR"), due=start,
                                                     percent=Decimal(100))], on=start)
        app.sign_contract(handle, party="us", signer="Ana García", method="typed", on=start)
        app.sign_contract(handle, party="client", signer="Eva Ruiz", method="typed", on=start)
        app.issue_invoice(handle, installment=1, due=due, on=start)
    return app


@pytest.mark.parametrize("lang", LANGS)
def test_reminder_at_the_tables_rate_names_its_half_year(tmp_path, lang):
    # Due 20 Oct 2024 (the MRO rate that day 3.65 %), the table's rate is 1 July 2024's: 4.25 %.
    # 1200 x 12.25 % x 30/365 = 4410/365 = 12.08; + 40; 1,252.08 claimed on 19 Nov 2024.
    app = _table_terms_store(tmp_path / "store")
    try:
        document = build_document(read_stream(app, "zeta"), "reminder", "F-2024-001", lang=lang,
                                  on=date(2024, 11, 19), identity=IDENTITY, evidence_home=tmp_path)
        text, pages = pdf_text(render_pdf(document))
        stale = build_document(read_stream(app, "omega"), "reminder", "F-2026-001", lang=lang,
                               on=date(2026, 9, 2), identity=IDENTITY, evidence_home=tmp_path)
        stale_text, _ = pdf_text(render_pdf(stale))
        fee = build_document(read_stream(app, "kappa"), "reminder", "F-2025-001", lang=lang,
                             on=date(2025, 3, 13), identity=IDENTITY, evidence_home=tmp_path)
        fee_text, _ = pdf_text(render_pdf(fee))
    finally:
        app.close()
    assert pages == 1
    if lang == "en":
        assert "Statutory interest: 30 days at 12.25% a year €12.08" in text
        assert "ECB reference rate on 1 July 2024 (4.25%), the first day of the half-year" in text
        assert "Total claimed €1,252.08" in text
        assert "the ECB reference rate of the half-year in which the invoice falls due plus 8 points" in text
        # Due 3 Aug 2026, past the table (its last half-year 1 January 2026, 2.15 %): said so.
        # 1200 x 10.15 % x 30/365 = 10.01
        assert "Statutory interest: 30 days at 10.15% a year €10.01" in stale_text
        assert "ECB reference rate on 1 January 2026 (2.15%), the closest this version of tratos knows" in stale_text
        # 5 % of 1,200 = 60.00, whatever the days: one line, and the days late in their own row.
        assert "Days late 10 Principal outstanding €1,200.00 Late fee under the terms €60.00 Total claimed €1,260.00" in fee_text
    else:
        assert "Intereses de demora: 30 días al 12,25 % anual 12,08 €" in text
        assert "Tipo de referencia del BCE a 1 de julio de 2024 (4,25 %), primer día del semestre" in text
        assert "Total reclamado 1.252,08 €" in text
        assert "el más cercano que conoce esta versión de tratos" in stale_text
        assert "Recargo por demora según las condiciones 60,00 € Total reclamado 1.260,00 €" in fee_text


@pytest.mark.parametrize("lang, ended, total", [
    ("es", "10 de marzo de 2026", "1.200,00 €"),
    ("en", "10 March 2026", "€1,200.00"),
])
def test_closing_letter(rendered, lang, ended, total):
    text = rendered["closing", lang].text
    for expected in (ended, total, "Logo and brand guide", "no further work is planned",
                     "stay confidential for 5 years", NORTHWIND):
        assert expected in text
    assert ACME not in text


@pytest.mark.parametrize("lang, rate, reference", [("es", "60,00 €", "2,15 %"), ("en", "€60.00", "2.15%")])
def test_terms(rendered, lang, rate, reference):
    text = rendered["terms", lang].text
    assert rate in text and reference in text
    assert ("75,00 €" if lang == "es" else "€75.00") in text
    assert ("2011/7/UE" if lang == "es" else "2011/7/EU") in text
    assert "Mon-Fri 09:00-17:00" in text


@pytest.mark.parametrize("lang", LANGS)
def test_dossier(rendered, app, home, lang):
    result = rendered["dossier", lang]
    text = result.text
    version, digest = head_of(app, "acme")
    for expected in ("F-2026-001", "F-2026-002", "C1", "M1", "K1", "Laura Martín", digest,
                     "8.600,00 €" if lang == "es" else "€8,600.00",
                     "10 de febrero de 2026" if lang == "es" else "10 February 2026"):
        assert expected in text
    assert (f"íntegra hasta la versión {version}" if lang == "es" else f"holds up to version {version}") in text
    assert ("Certificado de finalización" if lang == "es" else "Certificate of completion") in text
    cited = [e.sha256 for e in _all_evidence(app)]
    assert len(cited) == 4
    for sha256 in cited:  # the evidence index gives the full SHA-256 of every file
        assert sha256 in text.replace(" ", "")
    assert text.count("sí, coincide" if lang == "es" else "yes, matches") == 4
    for timeline in ("Se abre la relación con", "Cobro de 4.000,00 €") if lang == "es" else (
            "Relationship opened with", "Payment of €4,000.00 received"):
        assert timeline in text


def _all_evidence(app: Tratos) -> list:
    relationship = app.relationship("acme")
    cited = [e for c in relationship.contracts.values() for s in c.signatures.values() for e in s.evidence]
    cited += [e for c in relationship.changes.values() for e in c.evidence]
    cited += [e for m in relationship.mistakes.values() for e in m.evidence]
    return cited + [e for n in relationship.notes for e in n.evidence]


# ------------------------------------------------------------------ reproducible, PDF/A-3 attachment


def test_the_same_document_renders_to_the_same_bytes(rendered, app, home):
    again = render_pdf(make(app, home, "dossier", "en"))
    assert again == rendered["dossier", "en"].pdf
    assert rendered["dossier", "es"].pdf != rendered["dossier", "en"].pdf


def test_another_date_gives_another_document(rendered, app, home):
    later = render_html(make(app, home, "reminder", "en", on=date(2026, 4, 30)))
    assert "44 days at 10.15% a year" in later and "17 March 2026" in later  # days late on 30 April
    assert later != render_html(rendered["reminder", "en"].document)


def test_the_dossier_carries_every_event_as_a_pdfa3_attachment(rendered, app):
    reader = PdfReader(io.BytesIO(rendered["dossier", "es"].pdf))
    version, digest = head_of(app, "acme")
    assert list(reader.attachments) == [f"acme-stream-v{version}.json"]
    payload = json.loads(reader.attachments[f"acme-stream-v{version}.json"][0])
    assert payload["head"] == {"version": version, "digest": digest}
    assert [r["version"] for r in payload["records"]] == list(range(1, version + 1))
    # the chain can be recomputed from the attachment alone
    records = [RawRecord(r["version"], r["topic"], r["state"]) for r in payload["records"]]
    report = verify_chain(payload["stream"], records)
    assert report.ok and report.head_digest == digest
    catalog = reader.trailer["/Root"]
    assert catalog["/AF"][0].get_object()["/AFRelationship"] == "/Data"
    metadata = catalog["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3"' in metadata or b"<pdfaid:part>3</pdfaid:part>" in metadata


def test_other_kinds_carry_no_attachment(rendered):
    assert not PdfReader(io.BytesIO(rendered["contract", "en"].pdf)).attachments


# ------------------------------------------------------------------ values are escaped, refusals


def test_a_client_name_cannot_inject_markup(tmp_path):
    home = tmp_path / "tratos"
    app = Tratos(profile=UNTAXED_PROFILE, home=home)
    try:
        app.open_relationship("odd", Party(name='<b onload="x">Bold & Co</b>'), on=TODAY)
        app.record_note("odd", "<script>alert(1)</script>", on=TODAY)
        html = render_html(build_document(read_stream(app, "odd"), "dossier", lang="en", on=TODAY,
                                          identity=IDENTITY))
    finally:
        app.close()
    assert "<script>" not in html and "<b onload" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "Bold &amp; Co" in html


@pytest.mark.parametrize("kind, handle, ref, error", [
    ("closing", "acme", None, Refused),          # acme has not ended
    ("change", "acme", None, BadInput),          # which change?
    ("change", "acme", "C9", UnknownReference),
    ("reminder", "acme", "F-2026-001", Refused),  # paid
    ("terms", "acme", "v7", BadInput),
    ("invoice", "acme", None, BadInput),         # not a kind
    ("dossier", "nobody", None, UnknownReference),
])
def test_what_cannot_be_printed_is_refused_in_words(app, home, kind, handle, ref, error):
    with pytest.raises(error):
        build_document(read_stream(app, handle), kind, ref, lang="es", on=TODAY, identity=IDENTITY)


def test_an_edited_record_shows_in_the_dossiers_integrity_report(story, store):
    copy_store(story, store)
    app = store.open()
    try:
        forger, acme = Forger(app), stream_id("acme")
        version = forger.version_of(acme, "ChangeQuoted")
        forger.write_state(acme, version, forger.state(acme, version).replace(b'"600.00"', b'"60.00"'))
        # read unverified: the CLI makes no document from a broken chain (ADR-64), the dossier still says it
        html = render_html(build_document(read_stream(app, "acme", verified=False), "dossier", lang="en", on=TODAY,
                                          identity=IDENTITY, evidence_home=Path(store.home)))
    finally:
        app.close()
    assert "does NOT hold" in html and "breaks at version 8" in html
