"""Every recording command's happy path: what it prints, its --json shape, and what it stored.

The stored state is read back through a fresh Application (as the next process
would), so each test checks the command did what it says, not only its words.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from cli_support import HEX64, OPENED, given, ok, run, write_eml

from domain.model.money import Money

RECORDED_KEYS = {"recorded", "handle", "id", "stream_version", "occurred_on", "digest", "warnings"}


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def as_json(home: Path, *args: str) -> dict:
    outcome = ok(home, "--json", *args)
    document = json.loads(outcome.stdout)
    assert set(document) == RECORDED_KEYS
    assert HEX64.match(document["digest"])
    return document


class TestInitAndIdentity:
    def test_init_writes_the_identity_file(self, cli_home):
        outcome = ok(cli_home, "init", "--name", "Ana García", "--email", "ana@example.com",
                     "--tax-id", "12345678Z", "--address", "Calle Mayor 1, Madrid", "--currency", "usd",
                     "--lang", "en")
        assert outcome.stdout.startswith("Identity of Ana García saved in ")
        saved = json.loads((cli_home / "identity.json").read_text(encoding="utf-8"))
        assert saved == {"name": "Ana García", "email": "ana@example.com", "tax_id": "12345678Z",
                         "address": "Calle Mayor 1, Madrid", "country": "ES", "currency": "USD", "lang": "en"}

    def test_init_json_shape(self, cli_home):
        document = json.loads(ok(cli_home, "--json", "init", "--name", "Ana", "--email", "a@b.test").stdout)
        assert document["identity"] == {"name": "Ana", "email": "a@b.test", "tax_id": "", "address": "",
                                        "country": "ES", "currency": "EUR", "lang": "es"}
        assert document["file"] == str(cli_home / "identity.json")

    def test_init_refuses_to_replace_an_identity_unless_forced(self, cli_home):
        ok(cli_home, "init", "--name", "Ana", "--email", "a@b.test")
        again = run(cli_home, "init", "--name", "Eve", "--email", "e@b.test")
        assert again.code == 1 and "--force" in again.stderr
        assert json.loads((cli_home / "identity.json").read_text())["name"] == "Ana"
        ok(cli_home, "init", "--name", "Eve", "--email", "e@b.test", "--force")
        assert json.loads((cli_home / "identity.json").read_text())["name"] == "Eve"

    def test_amounts_without_currency_use_the_identity_currency(self, cli_home, read_back):
        # opened before the contract's one installment falls due (ADR-64), not today
        given(cli_home, [("init", "--name", "Ana", "--email", "a@b.test", "--currency", "USD"),
                         ("client", "open", "acme", "--name", "Acme", "--on", "2026-01-05")])
        ok(cli_home, "contract", "draft", "acme", "--title", "T", "--scope", "S", "--price", "600",
           "--start", "2026-01-15", "--end", "2026-01-31")
        assert read_back(cli_home).contracts["K1"].price == Money.of("600", "USD")

    def test_identity_show_prints_every_field(self, cli_home):
        ok(cli_home, "init", "--name", "Ana García", "--email", "ana@example.com", "--tax-id", "12345678Z")
        shown = ok(cli_home, "identity", "show").stdout
        assert "Ana García" in shown and "ana@example.com" in shown and "12345678Z" in shown
        assert "none yet" in shown  # no signing key

    def test_identity_show_json_shape(self, cli_home):
        ok(cli_home, "init", "--name", "Ana", "--email", "a@b.test")
        document = json.loads(ok(cli_home, "--json", "identity", "show").stdout)
        assert document == {"name": "Ana", "email": "a@b.test", "tax_id": "", "address": "", "country": "ES",
                            "currency": "EUR", "lang": "es", "signing_key": None}

    def test_identity_import_adopts_a_pkcs12_certificate(self, cli_home, tmp_path):
        identity = pytest.importorskip("documents.identity")
        source = identity.create_identity(tmp_path / "ca", name="Ana García", email="ana@example.com",
                                          passphrase="s3cret", not_before=date(2026, 1, 1))
        expected = identity.describe(source, "s3cret").fingerprint_sha256
        ok(cli_home, "init", "--name", "Ana García", "--email", "ana@example.com")
        outcome = ok(cli_home, "identity", "import", str(source), env={"TRATOS_KEY_PASSPHRASE": "s3cret"})
        assert outcome.stdout.endswith(f"(SHA-256 {expected})\n")
        assert (cli_home / "identity.p12").exists()
        shown = json.loads(ok(cli_home, "--json", "identity", "show").stdout)
        assert shown["signing_key"] == str(cli_home / "identity.p12")
        again = run(cli_home, "identity", "import", str(source), env={"TRATOS_KEY_PASSPHRASE": "s3cret"})
        assert again.code == 1 and "already exists" in again.stderr

    def test_identity_import_with_a_wrong_passphrase(self, cli_home, tmp_path):
        identity = pytest.importorskip("documents.identity")
        source = identity.create_identity(tmp_path / "ca", name="Ana", email="a@b.test",
                                          passphrase="right", not_before=date(2026, 1, 1))
        outcome = run(cli_home, "identity", "import", str(source), env={"TRATOS_KEY_PASSPHRASE": "wrong"})
        assert outcome.code == 2 and "wrong passphrase" in outcome.stderr
        assert not (cli_home / "identity.p12").exists()

    def test_identity_show_before_init_is_refused(self, cli_home):
        outcome = run(cli_home, "identity", "show")  # exit 2 where the home itself is not there yet (ADR-54)
        assert outcome.code in (1, 2) and "tratos init" in outcome.stderr


class TestClientOpen:
    def test_open_prints_a_confirmation(self, cli_home):
        outcome = ok(cli_home, "client", "open", "acme", "--name", "Acme Consulting SL", "--on", "2026-01-05")
        assert outcome.stdout == "Recorded: client acme (Acme Consulting SL) opened on 2026-01-05 (acme)\n"

    def test_open_json_is_the_recorded_event(self, cli_home, read_back):
        document = as_json(cli_home, "client", "open", "acme", "--name", "Acme", "--email", "o@acme.test",
                           "--tax-id", "b-1234567-4", "--on", "yesterday")
        assert document["recorded"] == "RelationshipOpened"
        assert document["handle"] == "acme" and document["id"] is None
        assert document["stream_version"] == 1 and document["occurred_on"] == "2026-03-30"
        client = read_back(cli_home).client
        # the tax id as a Spanish CIF is written: checked, compact, upper case
        assert (client.name, client.email, client.tax_id, client.country) == ("Acme", "o@acme.test", "B12345674", "ES")


class TestTermsPublish:
    def test_every_option_is_stored(self, cli_home, read_back):
        given(cli_home, OPENED)
        outcome = ok(cli_home, "terms", "publish", "acme", "--rate", "60/h", "--weekly-hours", "30",
                     "--response-days", "3", "--payment-days", "45", "--revisions", "2",
                     "--out-of-scope-rate", "75 EUR/h", "--late-fee", "statutory-eu",
                     "--reference-rate", "2.40%", "--hours", "Mon-Fri 09:00-17:00",
                     "--confidentiality", "Five years", "--on", "2026-01-06")
        assert outcome.stdout == ("Recorded: terms v1 for acme published (60.00 EUR/h, 45 payment days)"
                                  " on 2026-01-06 (acme)\n")
        terms = read_back(cli_home).terms[1]
        assert terms.rate == eur("60") and terms.out_of_scope_rate == eur("75")
        assert terms.weekly_hours == Decimal(30) and terms.revisions == 2
        assert (terms.response_days, terms.payment_days) == (3, 45)
        assert terms.late_fee.kind == "statutory-eu" and terms.reference_rate == Decimal("2.40")
        assert terms.working_hours == "Mon-Fri 09:00-17:00" and terms.confidentiality == "Five years"

    @pytest.mark.parametrize(("fee", "kind", "fixed", "percent"), [
        ("5%", "percent", None, Decimal(5)),
        ("40EUR", "fixed", eur("40"), None),
        ("none", "none", None, None),
    ])
    def test_late_fee_notations(self, cli_home, read_back, fee, kind, fixed, percent):
        given(cli_home, OPENED)
        ok(cli_home, "terms", "publish", "acme", "--late-fee", fee)
        late_fee = read_back(cli_home).terms[1].late_fee
        assert (late_fee.kind, late_fee.fixed, late_fee.percent) == (kind, fixed, percent)

    def test_a_second_publication_is_version_2(self, cli_home):
        given(cli_home, OPENED)
        ok(cli_home, "terms", "publish", "acme")
        document = as_json(cli_home, "terms", "publish", "acme", "--payment-days", "15")
        assert document["recorded"] == "TermsPublished" and document["stream_version"] == 3


class TestContract:
    def test_draft_with_installments(self, cli_home, read_back):
        given(cli_home, OPENED)
        outcome = ok(cli_home, "contract", "draft", "acme", "--title", "Website relaunch",
                     "--scope", "Redesign", "--deliverable", "Templates", "--deliverable", "Form",
                     "--price", "8.000,00€", "--hours", "120", "--start", "2026-01-15",
                     "--end", "2026-03-15", "--installment", "50%@2026-01-15",
                     "--installment", "4000EUR@2026-02-15", "--our-duty", "Weekly report",
                     "--client-duty", "Answer within 3 days", "--on", "2026-01-08")
        assert outcome.stdout == ('Recorded: contract K1 "Website relaunch" drafted for 8000.00 EUR,'
                                  " 2 installments on 2026-01-08 (acme)\n")
        contract = read_back(cli_home).contracts["K1"]
        assert [(i.n, i.amount, i.due) for i in contract.installments] == [
            (1, eur("4000"), date(2026, 1, 15)), (2, eur("4000"), date(2026, 2, 15))]
        assert contract.scope.deliverables == ["Templates", "Form"]
        assert contract.hours_budget == Decimal(120)
        assert (contract.our_duties, contract.client_duties) == (["Weekly report"], ["Answer within 3 days"])
        assert contract.state == "drafted"

    def test_one_installment_is_said_in_the_singular(self, cli_home):
        given(cli_home, OPENED)
        outcome = ok(cli_home, "contract", "draft", "acme", "--title", "Audit", "--scope", "One page",
                     "--price", "900EUR", "--start", "2026-01-15", "--end", "2026-01-20",
                     "--installment", "100%@2026-01-20", "--on", "2026-01-08")
        assert outcome.stdout == 'Recorded: contract K1 "Audit" drafted for 900.00 EUR, 1 installment on 2026-01-08 (acme)\n'

    def test_without_installments_the_whole_price_is_due_at_the_end_and_it_says_so(self, cli_home, read_back):
        given(cli_home, OPENED)
        outcome = ok(cli_home, "contract", "draft", "acme", "--title", "Logo", "--scope", "A logo",
                     "--price", "1500EUR", "--start", "2026-01-12", "--end", "2026-01-30")
        assert "no installments given, so one of 100% due on the end date (2026-01-30)" in outcome.stdout
        [only] = read_back(cli_home).contracts["K1"].installments
        assert (only.n, only.amount, only.due, only.percent) == (1, eur("1500"), date(2026, 1, 30), Decimal(100))

    def test_percent_shares_that_round_add_up_to_the_price(self, cli_home, read_back):
        given(cli_home, OPENED)
        ok(cli_home, "contract", "draft", "acme", "--title", "T", "--scope", "S", "--price", "1000.01EUR",
           "--start", "2026-01-12", "--end", "2026-01-30",
           "--installment", "50%@2026-01-12", "--installment", "50%@2026-01-30")
        amounts = [i.amount for i in read_back(cli_home).contracts["K1"].installments]
        assert amounts == [eur("500.01"), eur("500.00")]  # half-up, the last one absorbs the cent

    def test_a_redraft_supersedes_the_unsigned_draft(self, cli_home, read_back):
        given(cli_home, OPENED)
        for title in ("First", "Second"):
            outcome = ok(cli_home, "contract", "draft", "acme", "--title", title, "--scope", "S",
                         "--price", "100EUR", "--start", "2026-01-12", "--end", "2026-01-30")
        assert "superseding K1" in outcome.stdout
        assert read_back(cli_home).contracts["K1"].state == "superseded"

    def test_draft_json(self, cli_home):
        given(cli_home, OPENED)
        document = as_json(cli_home, "contract", "draft", "acme", "--title", "T", "--scope", "S",
                           "--price", "100EUR", "--start", "2026-01-12", "--end", "2026-01-30")
        assert (document["recorded"], document["id"], document["stream_version"]) == ("ContractDrafted", "K1", 2)

    def test_signatures_put_the_contract_in_force(self, in_force, read_back):
        contract = read_back(in_force).contracts["K1"]
        assert contract.state == "in_force"
        assert contract.signatures["us"].signer == "Ana García"  # from the identity
        assert contract.signatures["client"].signer == "Laura Pérez"
        assert {s.method for s in contract.signatures.values()} == {"typed"}

    def test_sign_by_email_keeps_the_email_as_evidence(self, cli_home, tmp_path, read_back):
        given(cli_home, OPENED)
        ok(cli_home, "contract", "draft", "acme", "--title", "T", "--scope", "S", "--price", "100EUR",
           "--start", "2026-01-12", "--end", "2026-01-30")
        ok(cli_home, "contract", "sign", "acme", "--by", "us")
        mail = write_eml(tmp_path / "ok.eml", "Re: contract")
        outcome = ok(cli_home, "contract", "sign", "acme", "--by", "client", "--method", "email", "--file", str(mail))
        assert outcome.stdout.startswith("Recorded: contract K1 signed by the client (Acme Consulting SL, email),"
                                         " now in force")
        signature = read_back(cli_home).contracts["K1"].signatures["client"]
        [evidence] = signature.evidence
        assert evidence.sha256 == hashlib.sha256(mail.read_bytes()).hexdigest()
        assert evidence.headers["subject"] == "Re: contract"
        assert evidence.media_type == "message/rfc822"
        kept = cli_home / "evidence" / evidence.sha256[:2] / evidence.sha256[2:]
        assert kept.read_bytes() == mail.read_bytes()

    def test_sign_pades_refuses_a_pdf_this_store_never_issued(self, cli_home, tmp_path, read_back):
        given(cli_home, OPENED)
        ok(cli_home, "contract", "draft", "acme", "--title", "T", "--scope", "S", "--price", "100EUR",
           "--start", "2026-01-12", "--end", "2026-01-30")
        pdf = tmp_path / "signed.pdf"
        pdf.write_bytes(b"%PDF-1.7\n% stand-in for a signed contract\n")
        outcome = run(cli_home, "contract", "sign", "acme", "--by", "client", "--method", "pades",
                      "--file", str(pdf))
        assert outcome.code == 1
        assert "no contract K1 was issued as a PDF yet" in outcome.stderr
        assert read_back(cli_home).contracts["K1"].state == "drafted"

    def test_complete(self, in_force, read_back):
        outcome = ok(in_force, "contract", "complete", "acme", "--contract", "K1", "--on", "2026-03-15")
        assert outcome.stdout == "Recorded: contract K1 completed on 2026-03-15 (acme)\n"
        assert read_back(in_force).contracts["K1"].state == "completed"


class TestChange:
    def test_request_defaults_to_the_client_and_prints_the_id(self, in_force, tmp_path, read_back):
        mail = write_eml(tmp_path / "ask.eml", "Could you add a blog?")
        outcome = ok(in_force, "change", "request", "acme", "Add a blog", "--evidence", str(mail),
                     "--on", "2026-01-20")
        assert outcome.stdout == "Recorded: change C1 requested by client on 2026-01-20 (acme)\n"
        change = read_back(in_force).changes["C1"]
        assert (change.requested_by, change.description, change.state) == ("client", "Add a blog", "requested")
        assert change.evidence[0].headers["subject"] == "Could you add a blog?"

    def test_request_by_us_json(self, in_force):
        document = as_json(in_force, "change", "request", "acme", "Podcast", "--by", "us")
        assert (document["recorded"], document["id"]) == ("ChangeRequested", "C1")

    def test_quote_and_approve_join_the_contract(self, in_force, read_back):
        ok(in_force, "change", "request", "acme", "Add a blog", "--on", "2026-01-20")
        quoted = ok(in_force, "change", "quote", "acme", "C1", "--price", "600EUR", "--hours", "10",
                    "--days", "5", "--on", "2026-01-21")
        assert quoted.stdout == "Recorded: change C1 quoted (600.00 EUR, 10 h, 5 days) on 2026-01-21 (acme)\n"
        document = as_json(in_force, "change", "approve", "acme", "C1", "--on", "2026-01-22")
        assert (document["recorded"], document["id"]) == ("ChangeApproved", "C1")
        contract = read_back(in_force).contracts["K1"]
        assert contract.total == eur("8600")
        assert contract.hours_available == Decimal(130)
        assert contract.current_end == date(2026, 3, 20)

    @pytest.mark.parametrize(("verb", "state", "event"), [
        ("reject", "rejected", "ChangeRejected"), ("withdraw", "withdrawn", "ChangeWithdrawn")])
    def test_reject_and_withdraw(self, in_force, read_back, verb, state, event):
        ok(in_force, "change", "request", "acme", "Dark mode")
        ok(in_force, "change", "quote", "acme", "C1", "--price", "300")
        outcome = ok(in_force, "change", verb, "acme", "C1")
        assert outcome.stdout == f"Recorded: change C1 {state} on 2026-03-31 (acme)\n"
        assert read_back(in_force).changes["C1"].state == state


class TestMistake:
    def test_the_whole_lifecycle(self, in_force, read_back):
        steps = [
            (("mistake", "report", "acme", "Form mails go nowhere", "--by", "client", "--on", "2026-02-02"),
             "mistake M1 reported by client on 2026-02-02"),
            (("mistake", "ack", "acme", "M1", "--apology", "Sorry", "--on", "2026-02-03"),
             "mistake M1 acknowledged on 2026-02-03"),
            (("mistake", "diagnose", "acme", "M1", "--fault", "ours", "--cause", "Staging SMTP",
              "--category", "Deployment", "--on", "2026-02-04"), "mistake M1 diagnosed, fault ours"),
            (("mistake", "propose", "acme", "M1", "Free rework", "--cost", "0EUR", "--hours", "3"),
             "remedy O1 proposed for mistake M1 (0.00 EUR)"),
            (("mistake", "propose", "acme", "M1", "Hosted form", "--cost", "150EUR"),
             "remedy O2 proposed for mistake M1 (150.00 EUR)"),
            (("mistake", "choose", "acme", "M1", "O1", "--agreed"),
             "remedy O1 chosen for mistake M1 with the client's agreement"),
            (("mistake", "resolve", "acme", "M1"), "mistake M1 resolved"),
            (("mistake", "lesson", "acme", "M1", "Test mail from production"), "lesson of mistake M1 kept"),
        ]
        for args, sentence in steps:
            outcome = ok(in_force, *args)
            assert outcome.stdout.startswith(f"Recorded: {sentence}"), outcome.stdout
            assert outcome.stderr == ""
        mistake = read_back(in_force).mistakes["M1"]
        assert (mistake.state, mistake.fault, mistake.category) == ("resolved", "ours", "deployment")
        assert (mistake.chosen, mistake.agreed, mistake.lesson) == ("O1", True, "Test mail from production")
        assert mistake.options["O1"].cost == eur("0") and mistake.options["O1"].hours == Decimal(3)

    def test_not_agreed_is_recorded(self, in_force, read_back):
        given(in_force, [("mistake", "report", "acme", "Typo", "--by", "us"), ("mistake", "ack", "acme", "M1"),
                         ("mistake", "diagnose", "acme", "M1", "--fault", "unassigned", "--cause", "Haste"),
                         ("mistake", "propose", "acme", "M1", "Fix it")])
        outcome = ok(in_force, "mistake", "choose", "acme", "M1", "O1", "--not-agreed")
        assert "without the client's agreement" in outcome.stdout
        assert read_back(in_force).mistakes["M1"].agreed is False

    def test_json_ids(self, in_force):
        assert as_json(in_force, "mistake", "report", "acme", "Typo", "--by", "us")["id"] == "M1"
        assert as_json(in_force, "mistake", "ack", "acme", "M1")["recorded"] == "MistakeAcknowledged"

    def test_a_slow_acknowledgement_warns_but_records(self, in_force, read_back):
        ok(in_force, "mistake", "report", "acme", "Broken link", "--by", "client", "--on", "2026-02-02")
        outcome = ok(in_force, "mistake", "ack", "acme", "M1", "--on", "2026-02-09")
        assert outcome.stderr == "warning: M1 was acknowledged after 7 days; the terms promise 2\n"
        assert read_back(in_force).mistakes["M1"].state == "acknowledged"

    def test_a_recurring_category_warns(self, in_force):
        for n in ("M1", "M2"):
            ok(in_force, "mistake", "report", "acme", f"Problem {n}", "--by", "client")
            ok(in_force, "mistake", "ack", "acme", n)
        ok(in_force, "mistake", "diagnose", "acme", "M1", "--fault", "ours", "--cause", "x", "--category", "qa")
        document = as_json(in_force, "mistake", "diagnose", "acme", "M2", "--fault", "ours", "--cause", "y",
                           "--category", "qa")
        assert document["warnings"] == ["category 'qa' recurs with acme: also M1"]


class TestInvoiceAndPayment:
    def test_invoice_an_installment_due_after_the_payment_days(self, in_force, read_back):
        outcome = ok(in_force, "invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15")
        assert outcome.stdout == ("Recorded: invoice F-2026-001 for 4000.00 EUR (installment 1 of K1),"
                                  " due 2026-02-14 on 2026-01-15 (acme)\n")
        invoice = read_back(in_force).invoices["F-2026-001"]
        assert (invoice.amount, invoice.due, invoice.installment) == (eur("4000"), date(2026, 2, 14), 1)

    def test_invoice_an_approved_change_at_its_quoted_price(self, in_force, read_back):
        given(in_force, [("change", "request", "acme", "Blog"), ("change", "quote", "acme", "C1", "--price", "600"),
                         ("change", "approve", "acme", "C1")])
        document = as_json(in_force, "invoice", "issue", "acme", "--for", "C1", "--due", "2026-04-30")
        assert (document["recorded"], document["id"]) == ("InvoiceIssued", "F-2026-001")
        invoice = read_back(in_force).invoices["F-2026-001"]
        assert (invoice.amount, invoice.change_id, invoice.due) == (eur("600"), "C1", date(2026, 4, 30))

    def test_invoice_an_amount(self, in_force, read_back):
        ok(in_force, "invoice", "issue", "acme", "--amount", "250,50 EUR", "--concept", "Extra hosting")
        invoice = read_back(in_force).invoices["F-2026-001"]
        assert (invoice.amount, invoice.concept) == (eur("250.50"), "Extra hosting")

    def test_payments_add_up(self, in_force, read_back):
        ok(in_force, "invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15")
        first = ok(in_force, "payment", "record", "acme", "F-2026-001", "1.000,00€", "--on", "2026-02-01")
        assert first.stdout == "Recorded: payment of 1000.00 EUR for F-2026-001 on 2026-02-01 (acme)\n"
        document = as_json(in_force, "payment", "record", "acme", "F-2026-001", "3000")
        assert (document["recorded"], document["id"]) == ("PaymentReceived", "F-2026-001")
        assert read_back(in_force).invoices["F-2026-001"].is_settled


class TestHours:
    def test_log_hours_in_any_notation(self, in_force, read_back):
        outcome = ok(in_force, "hours", "log", "acme", "3:30", "--note", "Layout", "--on", "2026-01-20")
        assert outcome.stdout == "Recorded: 3.5 h on K1 on 2026-01-20 (acme)\n"
        ok(in_force, "hours", "log", "acme", "2,5h")
        assert read_back(in_force).contracts["K1"].hours_logged == Decimal(6)

    def test_beyond_the_budget_warns_and_suggests_a_change_request(self, in_force):
        for day in range(5):  # a day each: more than 24 h on one day is a warning of its own (ADR-54)
            ok(in_force, "hours", "log", "acme", "24", "--on", f"2026-03-{20 + day}")
        outcome = ok(in_force, "hours", "log", "acme", "1")
        assert outcome.stderr == ("warning: 121 h logged on K1, beyond its budget of 120 h:"
                                  " suggest a change request\n")

    def test_work_on_an_unapproved_change_warns(self, in_force):
        ok(in_force, "change", "request", "acme", "Blog")
        document = as_json(in_force, "hours", "log", "acme", "2", "--change", "C1")
        assert document["warnings"] == ["change C1 is requested, not approved: work on it may not be paid"]


class TestNoteAndEnd:
    def test_a_note_with_an_email_keeps_its_headers(self, in_force, tmp_path, read_back):
        mail = write_eml(tmp_path / "call.eml", "Weekly call", sender="Laura <laura@acme.test>")
        outcome = ok(in_force, "note", "acme", "Weekly call went well", "--evidence", str(mail))
        assert outcome.stdout == "Recorded: note on acme with 1 evidence file(s) on 2026-03-31 (acme)\n"
        [note] = read_back(in_force).notes
        assert note.evidence[0].headers == {"from": "Laura <laura@acme.test>", "to": "ana@example.com",
                                            "date": "Mon, 12 Jan 2026 10:14:00 +0100", "subject": "Weekly call"}

    def test_end_reports_what_is_still_owed(self, in_force, read_back):
        ok(in_force, "invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15")
        outcome = ok(in_force, "end", "acme", "--reason", "Budget cut", "--by", "client")
        assert outcome.stdout == ("Recorded: relationship with acme ended by client, 4000.00 EUR still"
                                  " outstanding on 2026-03-31 (acme)\n")
        assert read_back(in_force).state == "ended"
