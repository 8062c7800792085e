"""The thirteenth adversarial run's smaller findings (issue 19, ADR-79): an address that carries its
surroundings, a mail host written as a URL, an invoice to oneself.

Each refusal is one `error:` line, its exit code and the store unchanged, on both backends.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import IN_FORCE, copied, ok, recorded_template, refused

HISTORY = IN_FORCE


@pytest.fixture
def acme(module_store, store) -> Iterator[Path]:
    with copied(recorded_template(module_store, store.backend, "hostile-thirteenth-run", HISTORY), store) as home:
        yield home


@pytest.mark.parametrize("address", ["<laura@acme.test>", "laura@acme.test>", "laura@acme.test,eve@x.test",
                                     'laura"@acme.test', "laura@acme.test;", "laura@[acme.test]"])
@pytest.mark.parametrize("command", [
    ("client", "update", "acme", "--email"),
    ("identity", "mail", "--host", "smtp.example.com", "--user", "ana", "--from"),
], ids=["client", "mail-from"])
def test_an_address_is_written_without_what_surrounds_it(acme: Path, command: tuple[str, ...], address: str) -> None:
    refused(acme, (*command, address), 2, "not an email address")


def test_a_plain_address_is_taken(acme: Path) -> None:
    ok(acme, "client", "update", "acme", "--email", "laura.perez+billing@acme.test")
    assert "laura.perez+billing@acme.test" in ok(acme, "client", "show", "acme").stdout


@pytest.mark.parametrize("host", ["smtp://smtp.example.com", "smtp.example.com:587", "ana@smtp.example.com",
                                  "smtp.example.com/", "-smtp.example.com", "smtp..example.com"])
def test_a_mail_host_is_a_host_name(acme: Path, host: str) -> None:
    refused(acme, ("identity", "mail", "--host", host, "--user", "ana"), 2, f"not a host name: {host!r}")


@pytest.mark.parametrize("host", ["smtp.example.com", "127.0.0.1", "::1", "correo.españa.es"])
def test_host_names_and_addresses_are_taken(acme: Path, host: str) -> None:
    ok(acme, "identity", "mail", "--host", host, "--user", "ana", "--security",
       "none" if host == "127.0.0.1" else "starttls")


@pytest.mark.parametrize("tax_id", ["12345678Z", "ES12345678Z", "es 12345678-z"])
def test_an_invoice_is_not_issued_to_oneself(acme: Path, tax_id: str) -> None:
    ok(acme, "client", "update", "acme", "--tax-id", tax_id, "--on", "2026-01-13")
    refused(acme, ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15"), 1,
            "the client's tax id is your own (12345678Z)")
