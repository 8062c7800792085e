"""tratos demo: two client stories recorded through the real commands, then their status.

Every step is a `tratos` command line run in-process (the same parsing, rules
and output as typing it), on fixed 2026 dates so the output is always the same.
The signed PDFs it prints land in `pdf/` inside the store's folder.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import click

from cli.options import pass_session
from cli.output import echo
from cli.session import Session

DEMO_TODAY = "2026-03-31"
Step = list[str]

EMAILS = {
    "acme-acceptance.eml": (
        "From: Laura Pérez <laura@acme.test>\nTo: ana@example.com\n"
        "Date: Mon, 12 Jan 2026 10:14:00 +0100\nSubject: Re: Website relaunch contract\n\n"
        "We accept the contract as sent. Laura Pérez, Acme Consulting SL\n"
    ),
    "acme-midpoint.eml": (
        "From: Laura Pérez <laura@acme.test>\nTo: ana@example.com\n"
        "Date: Mon, 16 Feb 2026 09:02:00 +0100\nSubject: Midpoint review\n\n"
        "Thanks for the review yesterday: we are happy with the progress.\n"
    ),
}


def story(evidence: Path, pdfs: Path) -> list[Step]:
    """Both clients' histories, interleaved in date order (invoice numbers follow dates)."""
    acceptance, midpoint = evidence / "acme-acceptance.eml", evidence / "acme-midpoint.eml"

    def pdf(kind: str, handle: str, *rest: str, on: str) -> list[str]:
        name = "-".join([handle, kind, *[r for r in rest if not r.startswith("-")]]) + ".pdf"
        return ["pdf", kind, handle, *rest, "-o", str(pdfs / name), "--on", on]

    return [
        ["init", "--name", "Ana García", "--email", "ana@example.com", "--tax-id", "12345678Z",
         "--currency", "EUR", "--lang", "en"],
        ["identity", "invoicing", "--address", "Calle Mayor 1, 28013 Madrid",
         "--iban", "ES9121000418450200051332", "--vat", "21%", "--withholding", "15%"],
        ["client", "open", "acme", "--name", "Acme Consulting SL", "--email", "laura@acme.test",
         "--tax-id", "B12345674", "--address", "Gran Vía 28, 28013 Madrid", "--on", "2026-01-05"],
        ["terms", "publish", "acme", "--rate", "60/h", "--payment-days", "30", "--response-days", "2",
         "--late-fee", "statutory-eu", "--hours", "Mon-Fri 09:00-17:00",
         "--confidentiality", "Client data stays confidential for 5 years.", "--on", "2026-01-05"],
        ["client", "open", "northwind", "--name", "Northwind Trading Ltd", "--email", "jane@northwind.test",
         "--country", "IE", "--tax-id", "IE6388047V", "--address", "1 Harbour Road, Dublin 2",
         "--on", "2026-01-07"],
        ["terms", "publish", "northwind", "--rate", "55/h", "--payment-days", "15",
         "--late-fee", "statutory-eu", "--on", "2026-01-07"],
        ["contract", "draft", "acme", "--title", "Website relaunch",
         "--scope", "Redesign and rebuild the public website",
         "--deliverable", "Five page templates", "--deliverable", "Contact form",
         "--price", "8000EUR", "--hours", "120", "--start", "2026-01-15", "--end", "2026-03-15",
         "--installment", "50%@2026-01-15", "--installment", "50%@2026-02-15",
         "--our-duty", "Weekly progress report", "--client-duty", "Answer questions within 3 days",
         "--on", "2026-01-08"],
        ["contract", "draft", "northwind", "--title", "Logo and brand guide",
         "--scope", "A logo and a ten-page brand guide", "--price", "1500EUR",
         "--start", "2026-01-12", "--end", "2026-01-30", "--on", "2026-01-09"],
        pdf("terms", "acme", on="2026-01-08"),
        pdf("contract", "acme", "K1", on="2026-01-08"),
        ["contract", "sign", "acme", "--by", "us", "--method", "pades", "--on", "2026-01-12"],
        ["contract", "sign", "acme", "--by", "client", "--method", "email", "--file", str(acceptance),
         "--signer", "Laura Pérez", "--on", "2026-01-12"],
        ["contract", "sign", "northwind", "--by", "us", "--on", "2026-01-12"],
        ["contract", "sign", "northwind", "--by", "client", "--method", "typed",
         "--signer", "Jane Doe", "--on", "2026-01-12"],
        ["invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15"],
        pdf("invoice", "acme", "F-2026-001", on="2026-01-15"),
        ["change", "request", "acme", "Add a blog section with three launch posts", "--by", "client",
         "--on", "2026-01-20"],
        ["change", "quote", "acme", "C1", "--price", "600EUR", "--hours", "10", "--days", "5",
         "--on", "2026-01-21"],
        ["change", "approve", "acme", "C1", "--on", "2026-01-22"],
        pdf("change", "acme", "C1", on="2026-01-22"),
        ["hours", "log", "acme", "6.5", "--note", "Home page templates", "--on", "2026-01-30"],
        ["contract", "complete", "northwind", "--on", "2026-01-30"],
        ["invoice", "issue", "northwind", "--installment", "1", "--on", "2026-01-30"],
        pdf("invoice", "northwind", "F-2026-002", on="2026-01-30"),
        ["mistake", "report", "acme", "Messages from the contact form never reached the client",
         "--by", "client", "--on", "2026-02-02"],
        ["mistake", "ack", "acme", "M1", "--apology", "Sorry: we are on it today.", "--on", "2026-02-03"],
        ["mistake", "diagnose", "acme", "M1", "--fault", "ours",
         "--cause", "The form still sent through the staging mail server",
         "--category", "deployment", "--on", "2026-02-04"],
        ["mistake", "propose", "acme", "M1", "Fix the mail settings and re-test every form, free of charge",
         "--cost", "0EUR", "--hours", "3", "--on", "2026-02-04"],
        ["mistake", "propose", "acme", "M1", "Move the form to a hosted form service",
         "--cost", "150EUR", "--hours", "2", "--on", "2026-02-04"],
        ["mistake", "choose", "acme", "M1", "O1", "--agreed", "--on", "2026-02-05"],
        ["mistake", "resolve", "acme", "M1", "--on", "2026-02-06"],
        ["mistake", "lesson", "acme", "M1", "Send a test message from production before every delivery",
         "--on", "2026-02-06"],
        pdf("incident", "acme", "M1", on="2026-02-06"),
        ["payment", "record", "acme", "F-2026-001", "4240EUR", "--on", "2026-02-10"],
        ["invoice", "issue", "acme", "--installment", "2", "--on", "2026-02-15"],
        ["invoice", "issue", "acme", "--for", "C1", "--on", "2026-02-18"],
        ["invoice", "correct", "acme", "F-2026-004", "--reason", "Billed before the blog was delivered",
         "--void", "--on", "2026-02-19"],
        pdf("invoice", "acme", "R-2026-001", on="2026-02-19"),
        ["note", "acme", "Client confirmed the midpoint review by email", "--evidence", str(midpoint),
         "--on", "2026-02-16"],
        ["check", "--today", "2026-02-20"],
        ["remind", "northwind", "F-2026-002", "-o", str(pdfs / "northwind-reminder-F-2026-002.pdf"),
         "--on", "2026-02-20"],
        ["payment", "record", "northwind", "F-2026-002", "1500EUR", "--on", "2026-03-02"],
        ["end", "northwind", "--reason", "Brand guide delivered and paid", "--by", "us",
         "--on", "2026-03-05"],
        pdf("closing", "northwind", on="2026-03-05"),
        ["check", "--today", "2026-03-20"],
        pdf("dossier", "acme", on="2026-03-31"),
    ]


@click.command()
@pass_session
def demo(session: Session) -> None:
    """Record two example clients, then show their status.

    acme, a Spanish business invoiced with 21 % VAT and 15 % IRPF withheld, has a
    contract in force with a change, a mistake put right, one installment paid,
    one late, and an invoice voided by a corrective one; northwind, an Irish
    business invoiced by reverse charge, had its project completed and paid late
    after a reminder, and the relationship ended.

    \b
    Example:
        tratos --home /tmp/tratos-demo demo
    """
    from cli.main import tratos
    from domain.model.errors import Refused

    if (session.home / "identity.json").exists() or _has_events(session):
        raise Refused(f"the demo records into an empty store, and {session.home} is not: "
                      "use --home with a new folder")
    base = ["--home", str(session.home)]
    if session.database_url:
        base += ["--database-url", session.database_url]
    quiet = io.StringIO()
    pdfs = session.home / "pdf"
    with tempfile.TemporaryDirectory() as folder, _pinned_today(DEMO_TODAY), _demo_passphrase(), \
            contextlib.redirect_stdout(quiet) if session.as_json else contextlib.nullcontext():
        for name, text in EMAILS.items():
            (Path(folder) / name).write_text(text, encoding="utf-8")
        for step in story(Path(folder), pdfs):
            code = _step(tratos, base + step)
            if code:
                raise click.ClickException(f"demo step failed: tratos {' '.join(step)}")
    with _pinned_today(DEMO_TODAY):
        if session.as_json:
            from cli.output import print_json

            step_session = Session(home=str(session.home), database_url=session.database_url)
            try:
                print_json({"home": str(session.home), "today": DEMO_TODAY,
                            "status": [step_session.models.status(h, today=step_session.today())
                                       for h in ("acme", "northwind")]})
            finally:
                step_session.close()
            return
        for handle in ("acme", "northwind"):
            echo()
            _step(tratos, [*base, "status", handle])


def _step(tratos: click.Group, args: list[str]) -> object:
    """One command of the story, run as `tratos` runs it but in this process: not through click's
    `main`, which writes an empty line on stderr before it turns Ctrl-C (or a signal, ADR-86) into
    its Abort; the interruption reaches `cli.main` as it is, which says "aborted" in one line."""
    with tratos.make_context("tratos", args) as context:
        return tratos.invoke(context)


def _has_events(session: Session) -> bool:
    probe = Session(home=str(session.home), database_url=session.database_url)
    try:
        return bool(probe.app.recorder.max_notification_id())
    finally:
        probe.close()


@contextlib.contextmanager
def _demo_passphrase() -> Iterator[None]:
    """The demo's signing key is protected by TRATOS_KEY_PASSPHRASE, or by `demo` when it is unset."""
    if os.environ.get("TRATOS_KEY_PASSPHRASE"):
        yield
        return
    os.environ["TRATOS_KEY_PASSPHRASE"] = "demo"
    try:
        yield
    finally:
        os.environ.pop("TRATOS_KEY_PASSPHRASE", None)


@contextlib.contextmanager
def _pinned_today(day: str) -> Iterator[None]:
    """The demo's story on its own day: TRATOS_TODAY pinned to it and a TRATOS_NOW of the shell set
    aside, so the record clock is that day's noon (a pinned now of another day would make its records
    "ahead of today", half-way through the story)."""
    previous = {name: os.environ.get(name) for name in ("TRATOS_TODAY", "TRATOS_NOW")}
    os.environ["TRATOS_TODAY"] = day
    os.environ.pop("TRATOS_NOW", None)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
