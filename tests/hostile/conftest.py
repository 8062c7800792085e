"""What the hostile-input tests share: the CLI tests' helpers, and an empty home on each backend."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))  # cli_support, shared with tests/cli

from cli_support import use_database  # noqa: E402


@pytest.fixture
def cli_home(store) -> Iterator[Path]:
    """An empty tratos home for one test, its store on this test's backend (as tests/cli's)."""
    with use_database(Path(store.home), store.database_url) as home:
        yield home


# Two stores of one invoice, F-2026-001, made with a signing key (init's, under KEYED's passphrase):
# its billing record kept here, or made for the agency (ADR-78). Each module records its own templates.
KEYED = {"TRATOS_KEY_PASSPHRASE": "s3cret passphrase"}
_FIRST_INVOICE = ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15")


@pytest.fixture
def kept(module_store, store) -> Iterator[Path]:
    """F-2026-001 issued in no-verifactu mode (the default): its record signed and kept here, the event
    log running."""
    from cli_support import IN_FORCE, copied, recorded_template

    history = IN_FORCE + [_FIRST_INVOICE]
    with copied(recorded_template(module_store, store.backend, "records-kept", history, KEYED), store) as home:
        yield home


@pytest.fixture
def sent(module_store, store) -> Iterator[Path]:
    """F-2026-001 issued in VERI*FACTU mode, chosen before the year's first record: not sent yet."""
    from cli_support import IN_FORCE, copied, recorded_template

    history = IN_FORCE + [("identity", "invoicing", "--verifactu-mode", "verifactu"), _FIRST_INVOICE]
    with copied(recorded_template(module_store, store.backend, "records-sent", history, KEYED), store) as home:
        yield home

