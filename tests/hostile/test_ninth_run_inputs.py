"""The ninth adversarial run (issue 19), sections 3, 7, 9 and 10: inputs read one way (ADR-65).

One notation for every number typed; every identity.json field checked as the command that sets
it checks it; a negative number typed as an argument said as such; `?schema=` kept out of
PostgreSQL's own schemas and to lowercase names. Each refusal is one `error:` line, its exit code
and the store unchanged (event rows, evidence files, identity.json), on both backends where a
store is involved.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from backends import server_url, with_schema
from cli_support import IN_FORCE, copied, ok, recorded_template, refused, run, snapshot

from cli.notation import parse_hours, parse_money, parse_number, parse_percent
from domain.model.errors import BadInput

KEYED = {"TRATOS_KEY_PASSPHRASE": "s3cret passphrase"}
IBAN = "ES9121000418450200051332"
HISTORY = IN_FORCE + [
    ("identity", "invoicing", "--iban", IBAN),
    ("client", "update", "acme", "--email", "laura@acme.test", "--on", "2026-01-12"),
    ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15"),        # F-2026-001
]
ON = ("--on", "2026-03-02")


@pytest.fixture
def acme(module_store, store) -> Iterator[Path]:
    """acme in force, an invoice issued, an IBAN set: the module's template, a private copy per test."""
    spec = recorded_template(module_store, store.backend, "hostile-ninth-run", HISTORY, KEYED)
    with copied(spec, store) as home:
        yield home


def edit_identity(home: Path, **fields: str) -> None:
    path = home / "identity.json"
    identity = json.loads(path.read_text(encoding="utf-8"))
    identity.update(fields)
    path.write_text(json.dumps(identity), encoding="utf-8")


# ------------------------------------------------- 3: one notation for every number typed

AMBIGUOUS = [("1,250", "write 1250 or 1.25"), ("1.333", "write 1333 or 1.3330"), ("8.000", "write 8000 or 8"),
             ("12,500", "write 12500 or 12.5"), ("-1,250", "write -1250 or -1.25")]


@pytest.mark.parametrize(("text", "says"), AMBIGUOUS)
def test_a_lone_separator_before_three_digits_is_refused_by_every_reader_of_numbers(text: str, says: str) -> None:
    readers = [lambda t: parse_number(t, "a quantity"), parse_hours, lambda t: parse_money(t, "EUR"),
               lambda t: parse_money(f"{t}EUR", "EUR")]
    for read in readers:
        with pytest.raises(BadInput, match="is ambiguous") as refusal:
            read(text)
        assert says in str(refusal.value)


UNAMBIGUOUS = [("1,25", "1.25"), ("1.25", "1.25"), ("3,5", "3.5"), ("0.005", "0.005"), ("0,250", "0.250"),
               ("1234.567", "1234.567"), ("1,2345", "1.2345"), ("8.000,50", "8000.50"), ("8,000.50", "8000.50"),
               ("1.000.000", "1000000"), ("1,000,000", "1000000"), ("8 000", "8000"), ("1.250,0", "1250.0"),
               ("1250", "1250")]


@pytest.mark.parametrize(("text", "value"), UNAMBIGUOUS)
def test_every_other_form_is_read_the_same_as_a_quantity_hours_and_an_amount(text: str, value: str) -> None:
    number = Decimal(value)
    assert parse_number(text, "a quantity") == number
    if number == number.quantize(Decimal("0.01")):  # an amount of USD has cents at most
        assert parse_money(text, "USD").amount == number
    else:
        with pytest.raises(BadInput, match="USD amounts have at most 2 decimals"):
            parse_money(text, "USD")
    if number <= 24 and number.as_tuple().exponent >= -2:
        assert parse_hours(text) == number


@pytest.mark.parametrize("args", [
    ("hours", "log", "acme", "1,250", *ON),
    ("hours", "log", "acme", "1.333", *ON),
    ("invoice", "issue", "acme", "--line", "Consulting hours", "--quantity", "1,250", "--unit-price", "60", *ON),
    ("invoice", "issue", "acme", "--line", "Work", "--quantity", "1.333", "--unit-price", "0.01", *ON),
    ("invoice", "issue", "acme", "--amount", "1,250EUR", *ON),
    ("payment", "record", "acme", "F-2026-001", "1.250", *ON),
], ids=["hours-comma", "hours-dot", "quantity-comma", "quantity-dot", "amount", "payment"])
def test_an_ambiguous_number_is_refused_by_every_command_and_nothing_is_recorded(acme: Path, args) -> None:
    refused(acme, args, 2, "is ambiguous (a thousands separator or a decimal point?): write ")


def test_the_same_quantity_and_hours_are_read_the_same(acme: Path) -> None:
    assert "Recorded: 1.25 h" in ok(acme, "hours", "log", "acme", "1,25", *ON).stdout
    issued = ok(acme, "invoice", "issue", "acme", "--line", "Consulting hours", "--quantity", "1,25",
                "--unit-price", "60", *ON, env=KEYED).stdout
    assert "for 75.00 EUR" in issued, issued
    thousands = ok(acme, "invoice", "issue", "acme", "--line", "Seats", "--quantity", "1.250,00",
                   "--unit-price", "1", *ON, env=KEYED).stdout
    assert "for 1250.00 EUR" in thousands, thousands


# ------------------------------------------------- 7: every identity.json field checked as its command checks it

DAMAGED = [
    ("email", "not-an-email", "its email is not an email address", "tratos init --force"),
    ("email", "ana @example.com", "its email is not an email address", "tratos init --force"),
    ("address", "Calle 1\nEvil", "its address is not one line of text", "tratos identity invoicing --address"),
    ("address", "Calle 1\u202eEvil", "its address is not one line of text", "tratos identity invoicing --address"),
    ("country", "DE", "its country is not ES", "tratos identity invoicing"),
    ("country", "Spain", "its country is not ES", "tratos identity invoicing"),
    ("tax_id", "1234５678Z", "its tax_id is not a Spanish NIF", "tratos identity invoicing --tax-id"),
    ("iban", "ES91 2100 0418 4502 0005 1332\u200b", "its iban is not an IBAN", "tratos identity invoicing --iban"),
    ("payment_method", "transfer\nto me", "its payment_method is not one line", "--payment-method"),
    ("email", "ana@example.com ", "its email is not an email address", "tratos init --force"),  # tenth run
    ("tsa_url", "javascript:x", "its tsa_url is not a time-stamping authority URL", "tratos identity tsa URL"),
]


@pytest.mark.parametrize(("field", "value", "says", "mend"), DAMAGED,
                         ids=[f"{f}={v[:10]!r}" for f, v, _, _ in DAMAGED])
@pytest.mark.parametrize("command", [("status",), ("note", "acme", "Called", *ON),
                                     ("invoice", "issue", "acme", "--amount", "10EUR", *ON)],
                         ids=["status", "note", "invoice"])
def test_a_damaged_field_stops_every_command_naming_the_file_the_field_and_its_command(
        acme: Path, field: str, value: str, says: str, mend: str, command) -> None:
    edit_identity(acme, **{field: value})
    said = refused(acme, command, 1, f"identity.json is damaged ({says}")
    assert mend in said


@pytest.mark.parametrize(("field", "value", "says", "mend"), [
    ("tax_id", "12345678A", "its tax_id is not a valid Spanish NIF: its check letter 'A' is wrong",
     "`tratos identity invoicing --tax-id"),
    ("iban", "ES0000", "its iban is not a valid IBAN", "`tratos identity invoicing --iban"),
])
@pytest.mark.parametrize("command", [("invoice", "issue", "acme", "--amount", "10EUR", *ON),
                                     ("invoice", "correct", "acme", "F-2026-001", "--reason", "Billed twice",
                                      "--amount", "-10EUR", *ON),
                                     ("identity", "invoicing", "--vat", "21%")],
                         ids=["invoice", "correct", "identity-invoicing"])
def test_check_digits_are_checked_where_the_identity_becomes_an_issuer(
        acme: Path, field: str, value: str, says: str, mend: str, command) -> None:
    """Not by `status` or `note`, which print neither: python-stdnum's import is half a `status` (ADR-65)."""
    edit_identity(acme, **{field: value})
    said = refused(acme, command, 1, f"identity.json is damaged ({says}", env=KEYED)
    assert mend in said


def test_send_dry_run_writes_no_message_from_a_damaged_email(acme: Path, tmp_path: Path) -> None:
    edit_identity(acme, email="not-an-email")
    refused(acme, ("send", "acme", "invoice", "F-2026-001", "--dry-run", "-o", str(tmp_path / "x.eml")), 1,
            "identity.json is damaged (its email is not an email address)", env=KEYED)
    assert not (tmp_path / "x.eml").exists()


def test_identity_invoicing_mends_a_country_and_a_typed_iban_stays_bad_input(acme: Path) -> None:
    edit_identity(acme, country="DE")
    ok(acme, "identity", "invoicing", env=KEYED)
    assert json.loads((acme / "identity.json").read_text(encoding="utf-8"))["country"] == "ES"
    ok(acme, "note", "acme", "Called", *ON)
    refused(acme, ("identity", "invoicing", "--iban", "ES0000"), 2, "not a valid IBAN: 'ES0000'")
    refused(acme, ("identity", "invoicing", "--address", "Calle 1\u202eEvil"), 2,
            "your address contains a bidirectional control character")


# ------------------------------------------------- 9: a negative number typed as an argument

@pytest.mark.parametrize(("args", "typed"), [
    (("payment", "record", "acme", "F-2026-001", "-10", *ON), "-10"),
    (("payment", "record", "acme", "F-2026-001", "-10EUR", *ON), "-10EUR"),
    (("payment", "record", "acme", "F-2026-001", "-€10", *ON), "-€10"),
    (("hours", "log", "acme", "-1", *ON), "-1"),
    (("hours", "log", "acme", "-1:30", *ON), "-1:30"),
    (("hours", "log", "acme", "-2,5h", *ON), "-2,5h"),
])
def test_a_negative_number_is_said_to_be_negative(acme: Path, args, typed: str) -> None:
    said = refused(acme, args, 2, f"error: {typed} is negative: amounts, hours and quantities are positive numbers")
    assert "No such option" not in said


def test_an_unknown_option_is_still_one(acme: Path) -> None:
    refused(acme, ("note", "acme", "-x"), 2, "No such option '-x'")


def test_a_negative_option_value_is_still_its_option_s_to_judge(acme: Path) -> None:
    refused(acme, ("invoice", "issue", "acme", "--amount", "-100", *ON), 2, "amounts are positive: '-100'")


# ------------------------------------------------- 10: ?schema= names a schema of the user's, in lowercase

@pytest.mark.parametrize(("schema", "says"), [
    ("information_schema", "are PostgreSQL's own"),
    ("pg_catalog", "are PostgreSQL's own"),
    ("pg_toast", "are PostgreSQL's own"),
    ("pg_mine", "are PostgreSQL's own"),
    ("Demo1", "use lowercase letters, digits and underscores"),
    ("DEMO", "use lowercase letters, digits and underscores"),
])
@pytest.mark.parametrize("command", [("status",), ("client", "open", "x", "--name", "X", *ON)], ids=["status", "open"])
def test_a_system_or_capitalised_schema_is_refused_and_nothing_is_made(
        acme: Path, postgres_server: str, schema: str, says: str, command) -> None:
    import psycopg

    url = with_schema(server_url(), schema)
    with psycopg.connect(server_url(), autocommit=True) as connection:
        def tables() -> list:
            return connection.execute("SELECT table_schema, table_name FROM information_schema.tables"
                                      " WHERE table_schema = %s ORDER BY 2", (schema,)).fetchall()

        def schemas() -> list:
            return connection.execute("SELECT nspname FROM pg_namespace WHERE nspname IN (%s, %s) ORDER BY 1",
                                      (schema, schema.lower())).fetchall()

        before = tables(), schemas(), snapshot(acme)
        outcome = run(acme, "--database-url", url, *command)
        assert outcome.code == 2, outcome.stderr
        assert len(outcome.stderr_lines) == 1 and outcome.stderr.startswith("error: invalid schema name"), outcome.stderr
        assert says in outcome.stderr
        assert (tables(), schemas(), snapshot(acme)) == before
    if schema != schema.lower():
        assert f"(write {schema.lower()!r}:" in outcome.stderr


def test_a_lowercase_schema_of_ours_is_still_made_on_first_use(tmp_path: Path, postgres_server: str) -> None:
    import uuid

    import psycopg

    schema = f"tratos_ninth_{uuid.uuid4().hex[:12]}"
    try:
        outcome = run(tmp_path / "home", "--database-url", with_schema(server_url(), schema), "init",
                      "--name", "Ana", "--email", "ana@example.com")
        assert outcome.code == 0, outcome.stderr
        outcome = run(tmp_path / "home", "--database-url", with_schema(server_url(), schema),
                      "client", "open", "x", "--name", "X", *ON)
        assert outcome.code == 0, outcome.stderr
    finally:
        with psycopg.connect(server_url(), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# ------------------------------------------------- tenth run: spaces, the suggestion, percentages

@pytest.mark.parametrize("text", ["1 2", "12 34", "1 00 000", "1 0 0", "8 00", "1 000 00", "8 000,5 0"])
def test_spaces_group_thousands_only_as_the_separators_do(text: str) -> None:
    for read in (lambda t: parse_number(t, "a quantity"), parse_hours, lambda t: parse_money(t, "EUR")):
        with pytest.raises(BadInput, match="^not "):
            read(text)


@pytest.mark.parametrize(("text", "value"), [("8 000", "8000"), ("1 000 000", "1000000"), ("8 000,50", "8000.50"),
                                             ("-8 000", "-8000"), ("8\u00a0000", "8000"), ("8'000", "8000")])
def test_spaces_grouped_by_three_are_thousands(text: str, value: str) -> None:
    assert parse_number(text, "a quantity") == Decimal(value)


def test_the_decimal_way_suggested_for_an_ambiguous_number_is_itself_accepted() -> None:
    with pytest.raises(BadInput) as refusal:
        parse_number("1.333", "a quantity")
    suggested = str(refusal.value).rpartition(" or ")[2]
    assert parse_number(suggested, "a quantity") == Decimal("1.333")


@pytest.mark.parametrize(("text", "says"), [("33.333%", "a percentage has at most 2 decimals: '33.333%'"),
                                            ("50%%", "not a percentage: '50%%'"), ("12,5%", None)])
def test_a_percentage_is_never_thousands(text: str, says: str | None) -> None:
    if says is None:
        assert parse_percent(text) == Decimal("12.5")
        return
    with pytest.raises(BadInput) as refusal:
        parse_percent(text)
    assert says in str(refusal.value)


def test_a_space_in_hours_is_refused_by_the_command(acme: Path) -> None:
    refused(acme, ("hours", "log", "acme", "1 2", *ON), 2, "not a number of hours: '1 2'")
