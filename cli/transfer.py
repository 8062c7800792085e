"""tratos export / import: the whole store as a JSON Lines file, and back into an empty store."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import click

from cli.options import pass_session
from cli.output import echo, warn
from cli.rebuild import progress_bar
from cli.session import Session

if TYPE_CHECKING:
    from domain.adapters.transfer import Closing


@click.command()
@click.argument("file", type=click.Path(dir_okay=False), metavar="FILE.jsonl")
@click.option("--with-evidence", "evidence_dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Also copy every evidence file the events reference into DIR (layout ab/cdef…).")
@pass_session
def export(session: Session, file: str, evidence_dir: str | None) -> None:
    """Write every event of every client, in log order, with its digest, to FILE.jsonl.

    The format is documented in docs/export-format.md: a header line, one line
    per stored event (stream, version, topic, the stored JSON with its digest),
    an end line. The file is in clear even when the store is encrypted: keep it
    as safe as the key. Exporting the same store twice gives the same event lines.

    \b
    Example:
        tratos export backup-2026-03-31.jsonl --with-evidence backup-evidence
    """
    from domain.adapters.files import output_file, output_folder, output_path, whole_or_nothing
    from domain.adapters.transfer import export_store

    target = output_path(file, home=session.home)
    if evidence_dir:
        output_folder(evidence_dir, home=session.home)  # before the export: a failed copy must not follow a written export
    # A failed export leaves no evidence folder it made, no evidence file it added (written whole or not at all).
    with whole_or_nothing(evidence_dir) if evidence_dir else nullcontext(), \
            progress_bar(session, "Exporting") as progress, output_file(target, session.home) as out:
        done = export_store(session.app, out, progress=progress)
        # Inside: if copying the evidence fails, the export is not put in place (nor an earlier one replaced).
        copied, missing = (_export_evidence(session.home, Path(evidence_dir), done.evidence)
                           if evidence_dir else (0, []))
    session.written = str(target)
    for sha256 in missing:
        warn(f"evidence {sha256} is referenced but not in {session.home / 'evidence'}")
    if session.as_json:
        from cli.output import print_json

        print_json({"file": str(target), "events": done.events, "streams": done.streams,
                    "evidence_referenced": len(done.evidence), "evidence_copied": copied,
                    "evidence_missing": missing})
        return
    also = f", and {copied} evidence files to {evidence_dir}" if evidence_dir else ""
    echo(f"Exported {done.events} events of {done.streams} streams to {target}{also}")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False), metavar="FILE.jsonl")
@click.option("--with-evidence", "evidence_dir", metavar="DIR",
              help="Copy the evidence files from DIR (as written by export --with-evidence) into the store.")
@pass_session
def import_(session: Session, file: str, evidence_dir: str | None) -> None:
    """Re-record an export file into an EMPTY store, with the same digests and timestamps.

    The whole file is checked first (format version, no unknown key, every
    hash chain, every event loads and folds into a history the rules could
    have made, one client per handle, nothing cut short, and with
    --with-evidence every evidence file present with its SHA-256); anything
    wrong refuses the import and nothing is written. Then the evidence files
    are copied, all events go in in one transaction (the evidence copied is
    taken back if it fails), with the import's entry in the Verifactu event
    log when the identity keeps its records (no-verifactu mode: signed with
    your key, so its passphrase is asked for), and the read models are rebuilt. With TRATOS_ENCRYPTION_KEY set the new store is encrypted.

    \b
    Example:
        tratos --home new-store import backup-2026-03-31.jsonl --with-evidence backup-evidence
    """
    from domain.adapters.evidence_import import ImportedEvidence
    from domain.adapters.files import folder_to_read
    from domain.adapters.transfer import import_store

    source = Path(file)
    folder = folder_to_read(evidence_dir, "the evidence folder") if evidence_dir is not None else None
    evidence = ImportedEvidence(folder, session.home) if folder else None
    session.recorded_so_far = lambda: f"{source} was imported whole"  # stopped after its one transaction
    with progress_bar(session, "Importing") as progress:
        done = import_store(session.app, source, progress=progress, evidence=evidence,
                            closing=_restored(session))
        rebuilt = _catch_up(session, progress, done.events)
    copied = len(done.evidence) if folder else 0
    absent = [] if folder else _absent_evidence(session.home, done.evidence)
    for sha256 in absent:
        warn(f"evidence {sha256} is referenced but not in the store's evidence folder"
                   " (import it with --with-evidence DIR)")
    if session.as_json:
        from cli.output import print_json

        print_json({"file": str(source), "events": done.events, "streams": done.streams,
                    "evidence_copied": copied, "evidence_absent": absent})
    else:
        also = f" and {copied} evidence files" if folder else ""
        echo(f"Imported {done.events} events of {done.streams} streams{also} from {source}"
                   + ("; read models rebuilt" if rebuilt else ""))


def _restored(session: Session) -> Closing | None:
    """A backup tratos restored is an event of the Verifactu log (07, no-verifactu mode, ADR-60), saved
    in the import's own transaction (ADR-71): logged when the identity keeps its records and the
    file holds its issuer's records or log (as `verifactu_log.logging_issuer` asks of a store). An
    entry that cannot be made (no passphrase for the key) refuses the import: the store stays empty,
    and the import can be run again, where an import without its entry could never be logged."""
    from cli.verifactu_log import logging_issuer
    from domain.model.errors import BadInput, Refused, TratosError
    from domain.model.streams import events_id, records_id

    issuer = logging_issuer(session, started=False)
    if issuer is None:
        return None
    nif, name = issuer

    def closing(events: int, tails: Mapping[UUID, Any]) -> list[Any]:
        if records_id(nif) not in tails and events_id(nif) not in tails:
            return []
        try:
            return session.app.restored_entries(nif, name, events, tails.get(events_id(nif)), on=session.today())
        except TratosError as error:
            kind = BadInput if error.exit_code == BadInput.exit_code else Refused
            raise kind(f"the import's entry in the Verifactu event log of {nif} cannot be made ({error});"
                       " nothing was imported") from None

    return closing


# -------------------------------------------------------------- plumbing


def _catch_up(session: Session, progress: Any, events: int) -> bool:
    """Rebuild the read models and stream heads from the imported log (never trust leftovers).

    The events are committed by now, and every one of them is one a command could record
    (bounded values, re-decided): a rebuild that fails here fails for the machine's reasons (a
    full disk, a lock held too long), which the next reading command's catch-up meets again, so
    the import says so in a warning and stands (ADR-35). False when it failed.
    """
    from projections import ReadModels
    from projections.heads import StreamHeads

    app = session.app
    try:
        heads = StreamHeads(app)  # settled from the rebuild's pass: leftovers are made what the log says
        models = ReadModels(app, warn=warn)  # an encrypted store's in their encrypted file (ADR-57)
        try:
            models.rebuild(progress, heads=heads)  # one read of the log for both
        finally:
            models.close()
        heads.catch_up()
    except Exception as error:  # noqa: BLE001 - the import stands; say why the read side lags
        from domain.adapters.storage import reason_of

        reason = " ".join(str(reason_of(error) or type(error).__name__).split())[:200]
        warn(f"imported {events} events, but the read models could not be rebuilt"
                   f" ({reason}); the next command that reads catches them up, or run `tratos rebuild`")
        return False
    return True


def _export_evidence(home: Path, folder: Path, wanted: set[str]) -> tuple[int, list[str]]:
    from domain.adapters.evidence import EvidenceFolder
    from domain.adapters.files import PRIVATE_FOLDER

    kept, copy = EvidenceFolder.of(home), EvidenceFolder(folder, written_for=home)
    folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)  # even empty: `import --with-evidence` reads it
    copied, missing = 0, []
    for sha256 in sorted(wanted):
        if not kept.holds(sha256):
            missing.append(sha256)
            continue
        copy.keep(kept.read(sha256))
        copied += 1
    return copied, missing


def _absent_evidence(home: Path, wanted: set[str]) -> list[str]:
    from domain.adapters.evidence import EvidenceFolder

    kept = EvidenceFolder.of(home)
    return [sha256 for sha256 in sorted(wanted) if not kept.exists(sha256)]
