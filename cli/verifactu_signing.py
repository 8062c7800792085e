"""How a command signs the Verifactu records it makes: with the freelancer's key, in no-VERI*FACTU mode.

Orden HAC/1177/2024 asks a system that keeps its records (no-VERI*FACTU) to sign each billing
record, and each entry of its event log, when it is generated (ADR-59). The key is the one
documents are signed with (identity.p12), opened once per command with TRATOS_KEY_PASSPHRASE or
a prompt (`cli.pdf.load_signing_identity`), and only by a command that makes a record. Without a
key the records are kept unsigned and the command says so; a key that cannot be opened (no
passphrase, a wrong one) refuses the command before anything is recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cli.session import Session

if TYPE_CHECKING:
    from domain.services.billing_records import RecordSigning


def records_signed(session: Session) -> bool:
    """Whether this store's records are to be signed: the identity keeps them (no-verifactu mode)."""
    from cli.pdf import verifactu_mode
    from domain.model.billing_records import NO_VERIFACTU

    return verifactu_mode(session.identity) == NO_VERIFACTU


def record_signing(session: Session) -> RecordSigning:
    """How this command signs the records it makes: with the key, or unsigned (VERI*FACTU mode; no key,
    which is said with each record)."""
    from cli.pdf import KEY_FILE, load_signing_identity
    from domain.services.billing_records import RecordSigning

    if not records_signed(session):
        return RecordSigning()
    identity = load_signing_identity(session)
    if identity is None:
        return RecordSigning(unsigned_because=f"no signing key in {session.home / KEY_FILE}: the Verifactu record"
                             " is kept unsigned, which the no-verifactu mode does not allow (set one up with"
                             " `tratos init` or `tratos identity import`)", keeps_log=True)
    from documents.record_signing import record_signature

    return RecordSigning(record_signature(identity), keeps_log=True)
