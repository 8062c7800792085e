"""Reading commands (client list/show over the read models), help texts, suggestions, the demo."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import click
import pytest
from backends import BACKENDS
from cli_support import OPENED, database_of, given, ok, run, use_database

from cli.main import COMMANDS, tratos
from domain.model.money import Money

MINE = ("init", "identity", "client", "terms", "contract", "change", "mistake", "invoice", "payment",
        "hours", "note", "end", "demo", "send", "follow-up", "mail", "calendar")


def amount(value: dict) -> Money:
    """A money value from --json: {"amount": "8600.00", "currency": "EUR"}."""
    assert set(value) == {"amount", "currency"} and isinstance(value["amount"], str)
    return Money.of(value["amount"], value["currency"])


class TestHelp:
    def test_the_overview_groups_commands_by_purpose(self, cli_home):
        text = ok(cli_home, "--help").stdout
        sections = ["Set up:", "Record what happened:", "See where things stand:", "Documents and proof:",
                    "Keep the store:"]
        positions = [text.index(section) for section in sections]
        assert positions == sorted(positions)
        for name in MINE:
            line = next(line for line in text.splitlines() if line.strip().startswith(name + " "))
            assert "not available" not in line, line

    def test_every_command_has_help_with_an_example(self, cli_home):
        checked = 0
        for name in MINE:
            command = tratos.get_command(click.Context(tratos), name)
            paths = ([(name, sub) for sub in command.list_commands(click.Context(command))]
                     if isinstance(command, click.Group) else [(name,)])
            for path in paths:
                text = ok(cli_home, *path, "-h").stdout
                assert "Example:" in text and "tratos " + " ".join(path) in text, path
                checked += 1
        assert checked == 38  # 32, identity tsa (issue 23), send, follow-up, mail import, calendar, identity mail (issue 22)

    def test_commands_of_later_issues_say_so(self, cli_home, monkeypatch):
        monkeypatch.setitem(COMMANDS, "someday", ("cli.someday", "someday", "Keep the store"))
        outcome = run(cli_home, "someday", "acme", "--fast")
        assert (outcome.code, outcome.stderr) == (2, "error: `tratos someday` is not available in this version yet\n")
        assert set(MINE) <= set(COMMANDS)


class TestClientListAndShow:
    @pytest.fixture
    def two_clients(self, in_force):
        given(in_force, [("client", "open", "beta", "--name", "Beta SA", "--email", "hi@beta.test"),
                         ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15")])
        return in_force

    def test_list_shows_every_client_with_its_state(self, two_clients):
        text = ok(two_clients, "client", "list").stdout
        rows = {line.split()[0]: line for line in text.splitlines()[2:]}
        assert set(rows) == {"acme", "beta"}
        # contract total, outstanding, and overdue: F-2026-001 was due 2026-02-14, today is 2026-03-31
        assert rows["acme"].split()[1:] == ["Acme", "Consulting", "SL", "active", "8000.00", "EUR",
                                            "4000.00", "EUR", "4000.00", "EUR"]
        assert "Beta SA" in rows["beta"] and "prospect" in rows["beta"]

    def test_list_json(self, two_clients):
        rows = json.loads(ok(two_clients, "--json", "client", "list").stdout)
        by_handle = {row["handle"]: row for row in rows}
        assert set(by_handle) == {"acme", "beta"}
        assert (by_handle["acme"]["name"], by_handle["acme"]["state"]) == ("Acme Consulting SL", "active")
        assert by_handle["beta"]["state"] == "prospect"
        assert amount(by_handle["acme"]["outstanding"]) == Money.of(4000, "EUR")

    def test_list_of_an_empty_store(self, cli_home):
        given(cli_home, OPENED[:1])
        assert "No clients yet" in ok(cli_home, "client", "list").stdout

    def test_show(self, two_clients):
        text = ok(two_clients, "client", "show", "acme").stdout
        assert "Acme Consulting SL" in text and "active" in text and "Website relaunch" in text

    def test_show_json_has_the_status_keys(self, two_clients):
        status = json.loads(ok(two_clients, "--json", "client", "show", "acme").stdout)
        assert {"handle", "name", "state", "contract", "balance", "installments", "changes", "mistakes",
                "ended"} <= set(status)
        assert (status["handle"], status["state"]) == ("acme", "active")
        assert amount(status["contract"]["total"]) == Money.of(8000, "EUR")
        assert amount(status["balance"]["invoiced"]) == Money.of(4000, "EUR")
        assert amount(status["balance"]["outstanding"]) == Money.of(4000, "EUR")

    def test_show_an_unknown_client_suggests_the_closest(self, two_clients):
        outcome = run(two_clients, "client", "show", "acmee")
        assert (outcome.code, outcome.stderr) == (2, "error: no client 'acmee'; did you mean 'acme'?\n")


class TestSuggestions:
    def test_a_mistyped_handle_suggests_the_closest_client(self, in_force):
        outcome = run(in_force, "note", "acne", "hello")
        assert (outcome.code, outcome.stderr) == (2, "error: no client 'acne'; did you mean 'acme'?\n")

    def test_nothing_close_means_no_suggestion(self, in_force):
        outcome = run(in_force, "note", "zzz", "hello")
        assert outcome.stderr == "error: no client 'zzz': open it with `tratos client open zzz`\n"


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Module-scoped here, so that the demo is recorded once per backend."""
    if request.param == "postgres":
        request.getfixturevalue("postgres_server")  # skips (or fails under CI) with how to start it
    return request.param


@pytest.fixture(scope="module")
def demo(backend, module_store):
    spec = module_store(backend, "demo")
    with use_database(Path(spec.home), spec.database_url) as home:
        yield home, run(home, "demo", env={"TRATOS_TODAY": None})


class TestDemo:
    def test_the_demo_records_both_stories(self, demo, read_back):
        home, outcome = demo
        assert outcome.code == 0, outcome.stderr
        pdfs = sorted(p.name for p in (home / "pdf").iterdir())
        assert pdfs == ["acme-change-C1.pdf", "acme-contract-K1.pdf", "acme-dossier.pdf", "acme-incident-M1.pdf",
                        "acme-invoice-F-2026-001.pdf", "acme-invoice-R-2026-001.pdf", "acme-terms.pdf",
                        "northwind-closing.pdf", "northwind-invoice-F-2026-002.pdf",
                        "northwind-reminder-F-2026-002.pdf"]
        acme = read_back(home, "acme")
        contract = acme.contracts["K1"]
        assert (acme.state, contract.state, set(contract.signatures)) == ("active", "in_force", {"us", "client"})
        assert contract.signatures["us"].method == "pades" and contract.signatures["us"].certificate_fingerprint
        assert {(d.kind, d.document_id) for d in acme.documents} >= {("contract", "K1"), ("change", "C1"), ("incident", "M1")}
        assert acme.terms[1].rate == Money.of(60, "EUR") and acme.terms[1].payment_days == 30
        assert contract.price == Money.of(8000, "EUR") and contract.end - contract.start >= (
            date(2026, 3, 15) - date(2026, 1, 15))
        assert [(i.amount.amount, i.due) for i in contract.installments] == [
            (Decimal(4000), date(2026, 1, 15)), (Decimal(4000), date(2026, 2, 15))]
        change = acme.changes["C1"]
        assert (change.state, change.price, change.hours, change.days) == (
            "approved", Money.of(600, "EUR"), Decimal(10), 5)
        mistake = acme.mistakes["M1"]
        assert (mistake.state, mistake.fault, mistake.chosen, mistake.agreed) == ("resolved", "ours", "O1", True)
        assert mistake.options["O1"].cost == Money.of(0, "EUR") and mistake.lesson
        first, second = acme.invoices["F-2026-001"], acme.invoices["F-2026-003"]
        assert first.is_settled and first.installment == 1
        assert second.installment == 2 and second.late_since == date(2026, 3, 20) and not second.payments
        [note] = acme.notes
        assert note.evidence[0].media_type == "message/rfc822"
        northwind = read_back(home, "northwind")
        invoice = northwind.invoices["F-2026-002"]
        assert northwind.state == "ended" and northwind.contracts["K1"].state == "completed"
        assert invoice.late_since == date(2026, 2, 20) and invoice.reminders == [date(2026, 2, 20)]
        assert invoice.is_settled and invoice.payments[0][0] == date(2026, 3, 2)

    def test_the_demo_ends_with_the_status_of_both_clients(self, demo):
        _, outcome = demo
        assert outcome.code == 0, outcome.stderr
        tail = outcome.stdout.split("Wrote dossier acme", 1)[1]
        assert "acme" in tail and "northwind" in tail and "ended" in tail

    def test_the_demo_pdfs_verify_against_its_store(self, demo):
        home, _ = demo
        assert run(home, "verify", str(home / "pdf" / "acme-contract-K1.pdf")).code == 0
        assert run(home, "verify", str(home / "pdf" / "northwind-reminder-F-2026-002.pdf")).code == 0

    def test_the_demo_refuses_a_store_in_use(self, in_force):
        outcome = run(in_force, "demo")
        assert outcome.code == 1 and "empty store" in outcome.stderr


class TestShellCompletion:
    @staticmethod
    def complete(words: str) -> list[str]:
        from click.testing import CliRunner

        env = {"_TRATOS_COMPLETE": "bash_complete", "COMP_WORDS": words,
               "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
               "TRATOS_HOME": None, "TRATOS_DATABASE_URL": None}
        output = CliRunner().invoke(tratos, [], prog_name="tratos", env=env).output
        return [line for line in output.splitlines() if line]

    def test_commands_and_choices_complete(self):
        assert self.complete("tratos cha") == ["plain,change"]
        assert self.complete("tratos mistake diagnose acme M1 --fault sh") == ["plain,shared"]

    def test_client_handles_complete_from_the_store(self, in_force):
        given(in_force, [("client", "open", "acorn", "--name", "Acorn Ltd"),
                         ("client", "open", "beta", "--name", "Beta SA")])
        database = f"--database-url {database_of(in_force)} " if database_of(in_force) else ""
        assert self.complete(f"tratos --home {in_force} {database}note ac") == ["plain,acme", "plain,acorn"]

    def test_completing_against_a_missing_store_creates_nothing(self, tmp_path):
        home = tmp_path / "nothing-here"
        assert self.complete(f"tratos --home {home} note a") == []
        assert not home.exists()


def test_the_demo_in_json_prints_one_document_with_both_statuses(tmp_path):
    outcome = run(tmp_path / "tratos", "--json", "demo")
    assert outcome.code == 0, outcome.stderr
    document = json.loads(outcome.stdout)
    assert document["today"] == "2026-03-31"
    acme, northwind = document["status"]
    assert (acme["handle"], acme["state"], northwind["handle"], northwind["state"]) == (
        "acme", "active", "northwind", "ended")
    # F-2026-003, due 2026-03-17: 4000.00 + 21 % VAT - 15 % IRPF = 4240.00 payable
    assert amount(acme["balance"]["overdue"]) == Money.of(4240, "EUR")
    assert amount(northwind["balance"]["outstanding"]) == Money.of(0, "EUR")
