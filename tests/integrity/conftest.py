"""Prints the tamper matrix (cases detected / cases tried, per backend) at the end of the run; the
Verifactu tests' stores (verifactu_story.py): `billed` unsigned, `signed` with the `key` (ADR-59)."""

from __future__ import annotations

from datetime import date

import pytest
from support import MATRIX
from verifactu_story import PASSPHRASE, bill, identity_file


@pytest.fixture
def billed(app, store):
    """The Verifactu story, its records unsigned (no signer: as the Application makes them alone)."""
    return bill(app)


@pytest.fixture
def key(home):
    """The freelancer's signing key and certificate (identity.p12), as `tratos init` makes them."""
    from documents.identity import create_identity, load_identity

    home.mkdir(parents=True, exist_ok=True)
    create_identity(home, name="Ana García", email="ana@example.com", passphrase=PASSPHRASE,
                    not_before=date(2026, 1, 1))
    return load_identity(home / "identity.p12", PASSPHRASE)


@pytest.fixture
def signed(app, key, home):
    """The Verifactu story, each record signed with the key when it is made, in no-verifactu mode: the
    first record starts the event log (ADR-60)."""
    from documents.record_signing import record_signature
    from domain.services.billing_records import RecordSigning

    identity_file(home)  # no-verifactu, the default
    app.record_signer = lambda: RecordSigning(record_signature(key), keeps_log=True)
    return bill(app)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config) -> None:
    for backend, cases in sorted(MATRIX.items()):
        terminalreporter.write_line(f"tamper matrix {backend}: {sum(cases.values())}/{len(cases)} detected")
        for case, found in cases.items():
            terminalreporter.write_line(f"  {'detected' if found else 'MISSED  '}  {case}")
