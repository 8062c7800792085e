"""How a command signs the Verifactu records it makes: with the freelancer's key, in no-VERI*FACTU mode.

Orden HAC/1177/2024 asks a system that keeps its records (no-VERI*FACTU) to sign each billing
record, and each entry of its event log, when it is generated (ADR-59). The key is the one
documents are signed with (identity.p12), opened once per command with TRATOS_KEY_PASSPHRASE or
a prompt (`cli.pdf.load_signing_identity`), and only by a command that makes a record. Without a
key the records are kept unsigned and the command says so; a key that cannot be opened (no
passphrase, a wrong one) refuses the command before anything is recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

    keeps = records_signed(session)
    _mode_held(session, keeps)  # before the key is opened: a refused command asks for no passphrase
    if not keeps:
        return RecordSigning(sends=True)
    identity = load_signing_identity(session)
    if identity is None:
        return RecordSigning(unsigned_because=f"no signing key in {session.home / KEY_FILE}: the Verifactu record"
                             " is kept unsigned, which the no-verifactu mode does not allow (set one up with"
                             " `tratos init` or `tratos identity import`)", keeps_log=True)
    from documents.record_signing import record_signature

    return RecordSigning(record_signature(identity), keeps_log=True)


def mode_held(session: Session) -> None:
    """The check of `_mode_held` for what sends or prints a record's mode (a submission, an invoice's
    PDF with its QR code and legend): identity.json's mode is the year's."""
    _mode_held(session, records_signed(session))


def _mode_held(session: Session, keeps: bool) -> None:
    """The mode identity.json says is the one the year's records were made in (ADR-61, ADR-74).

    `identity invoicing` refuses to switch it within a year; identity.json edited by hand would not
    be: a no-verifactu record in a year sent to the agency (a cancellation that can never be sent),
    or a batch for the agency holding the year's kept records. A record says the mode it was made
    in (ADR-78; the chain refuses the other one in its year, this says so before a key is opened).
    For a record made before records said it, the event log says which mode ran: it runs (01
    logged, no 02) while the records are kept here, and `identity invoicing` stops it (02) when the
    mode becomes VERI*FACTU."""

    from domain.model.billing_records import NO_VERIFACTU, VERIFACTU, made_in
    from domain.model.errors import Refused, TratosError
    from domain.model.event_log import EventLog
    from domain.model.streams import events_id, records_id
    from domain.model.tax_ids import spanish_nif

    try:
        profile = session.tax_profile()
        nif = spanish_nif(profile.issuer.tax_id, "your tax id") if profile and profile.issuer.tax_id else None
    except TratosError:
        return  # the command says what is wrong with the identity
    if nif is None:
        return
    app = session.app
    year = app.record_clock().year
    try:
        last = app.recorder.select_events(records_id(nif), desc=True, limit=1)
        record = app.mapper.to_domain_event(last[0]) if last else None
        entry = app.recorder.select_events(events_id(nif), desc=True, limit=1)
        log = EventLog.resume(app.mapper.to_domain_event(entry[0])) if entry else None
    except TratosError:
        return  # a record that cannot be read: the chain's own check says so, and what to do
    if record is None or not record.generated_at.startswith(f"{year:04d}-"):
        return
    written = NO_VERIFACTU if keeps else VERIFACTU
    made_in_mode = made_in(record) or _made_in_by_the_log(log, record.generated_at, keeps)
    if made_in_mode in ("", written):
        return
    raise Refused(f"{session.home / 'identity.json'} says {written} mode, but your billing records of {year} were"
                  f" made in {made_in_mode} mode, which holds for the calendar year: write \"verifactu_mode\":"
                  f" \"{made_in_mode}\" there again (switch from 1 January {year + 1} with `tratos identity invoicing"
                  f" --verifactu-mode {written}`); nothing was recorded")


def _made_in_by_the_log(log: Any, made_at: str, keeps: bool) -> str:
    """The mode of a record that does not say it, as far as the event log tells the other one from
    `keeps`' (identity.json's): a log running says no-verifactu; stopped before the record was made,
    VERI*FACTU (a switch is refused once the year has records, `check_mode_change`); else ""."""
    from datetime import datetime

    from domain.model.billing_records import NO_VERIFACTU, VERIFACTU
    from domain.model.event_log import STOP

    if keeps:
        stopped = log is not None and log.last is not None and log.last.event_type == STOP
        if stopped and datetime.fromisoformat(made_at) >= datetime.fromisoformat(log.last.generated_at):
            return VERIFACTU
        return ""
    return NO_VERIFACTU if log is not None and log.running else ""
