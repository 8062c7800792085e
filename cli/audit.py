"""tratos audit: check that the record was not edited, note its chain heads, make an encryption key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from cli.options import pass_session
from cli.output import echo, gives_verdict
from cli.session import Session
from domain.model.wording import counted

if TYPE_CHECKING:
    from domain.adapters.audit import Anchor, AuditReport
    from domain.adapters.verifactu_xml import ChainCheck


def json_flag(function: Callable) -> Callable:
    """`--json` after the command too (same as `tratos --json audit …`)."""

    def enable(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        if value:
            ctx.ensure_object(Session).as_json = True
        return value

    return click.option("--json", "as_json", is_flag=True, expose_value=False, callback=enable,
                        help="Machine-readable output.")(function)


@click.group()
def audit() -> None:
    """Prove the record was not edited: verify the hash chains, note their heads, make a key."""


@audit.command()
@click.argument("handle", metavar="[CLIENT]", required=False)
@click.option("--anchor", "anchor_text", metavar="TEXT",
              help="An anchor note (what `tratos audit anchor` printed) to check the store against.")
@click.option("--anchor-file", type=click.Path(dir_okay=False, allow_dash=True), metavar="FILE",
              help="The same, from a file (an email with the note quoted is fine; - reads stdin);"
                   " its timestamp token FILE.tsr, if there is one, is checked too.")
@json_flag
@pass_session
@gives_verdict
def verify(session: Session, handle: str | None, anchor_text: str | None, anchor_file: Any) -> None:
    """Recompute every hash chain from the stored records and check everything that anchors them.

    For each client (and invoice series): the events checked, the head version
    and digest, and OK or the first broken version with what is wrong. Also
    checked: the chain head every issued document recorded, the read models'
    positions and heads (a version they saw that the log lost means it was
    truncated), every evidence file's SHA-256, an anchor note if given, and
    the Verifactu fingerprints of the billing records (tratos verifactu verify).
    A note with a timestamp token beside it (NOTE.tsr, from `audit anchor --tsa`)
    must hold: the token over the note's exact bytes, signed by an authority whose
    certificate chains to the roots set with `tratos identity tsa --trust`; its
    trusted time is printed. Exit 0 when everything holds, 1 otherwise.

    \b
    Example:
        tratos audit verify
        tratos audit verify acme --anchor-file heads-2026-03-31.txt
    """
    from domain.adapters.audit import parse_anchors

    anchors: list[Anchor] = []
    stamp = None
    if anchor_text is not None:  # an empty --anchor is bad input, not no anchor
        anchors += parse_anchors(anchor_text, "the anchor note")
    if anchor_file is not None:
        note = _anchor_note(anchor_file)
        anchors += parse_anchors(_utf8(note, anchor_file), f"the anchor note {anchor_file}")
        stamp = _anchor_stamp(session, anchor_file, note)
    from cli.verifactu import check_store, log_dict, noted_dict, signatures_dict, warn_noted
    from domain.model.errors import RESTORE, Refused, UnreadableRecord

    try:
        report = run_audit(session, handle, anchors)
        verifactu = check_store(session) if handle is None else None  # the issuer's, not one client's
    except UnreadableRecord as error:  # every other reader sends the user here: say what to do instead
        raise _refused(error.restore()) from None
    records, signed = (verifactu.records, verifactu.signed + verifactu.log_signed) if verifactu else ([], [])
    logs = verifactu.logs if verifactu else []
    if session.as_json:
        from cli.output import print_json

        print_json(report.as_dict() | {"billing_records": [
            {"source": c.source, "records": c.records, "ok": c.ok, "broken": None if c.ok else str(c.broken),
             "anomalies": [noted_dict(n) for n in c.noted]} for c in records], "record_signatures": [signatures_dict(c) for c in signed],
            "event_logs": [log_dict(c) for c in logs]}
            | ({"anchor_timestamp": stamp.as_dict()} if stamp else {}))
    else:
        warn_noted(records)
        _print_report(report, records, signed, logs)
        if stamp is not None:
            echo(f"Anchor note timestamp: {stamp.time.isoformat() if stamp.time else 'unknown time'}"
                       f" by {stamp.authority}, {stamp.verdict}")
    if verifactu is not None:
        verifactu.log(session)  # the Verifactu checks run, in the event log (no-verifactu mode)
    if not report.ok:  # the report says where; the one `error:` line says that it failed (exit 1), and what to do
        raise _refused(f"the store does not verify: {_what_broke(report)}; {RESTORE}")
    if verifactu is not None:
        try:
            verifactu.refuse()
        except Refused as broken:
            raise _refused(f"{broken}; {RESTORE}") from None
    if stamp is not None and not stamp.ok:
        raise _refused(f"the anchor note's timestamp does not hold: {stamp.problem}")


def _anchor_note(name: str) -> bytes:
    """The anchor note's bytes: stdin for `-`, else a regular file (a named pipe would hang the audit)."""
    if name == "-":
        return click.get_binary_stream("stdin").read()
    from domain.adapters.files import read_regular

    return read_regular(name, "the anchor file")


def _utf8(note: bytes, name: str) -> str:
    try:
        return note.decode("utf-8")
    except UnicodeDecodeError:
        from domain.model.errors import BadInput

        raise BadInput(f"cannot read the anchor file {name}: it is not UTF-8 text") from None


def _anchor_stamp(session: Session, name: str, note: bytes) -> Any:
    """The check of NOTE.tsr over the note's exact bytes, if the note has one beside it."""
    import os

    from documents.timestamps import TOKEN_SUFFIX

    if name == "-" or not os.path.lexists(name + TOKEN_SUFFIX):
        return None
    from documents.timestamps import check_token, trusted_roots
    from domain.adapters.files import read_regular
    from domain.model.errors import BadInput

    token = read_regular(name + TOKEN_SUFFIX, "the anchor's timestamp token")
    try:
        return check_token(token, note, trusted_roots(session.home))
    except BadInput as error:  # a damaged token proves nothing: the check fails, it is not a typo
        raise _refused(f"{name}{TOKEN_SUFFIX} does not hold: {error}") from None


@audit.command()
@click.argument("handle", metavar="[CLIENT]", required=False)
@click.option("--tsa", "timestamp", is_flag=True,
              help="Have the time-stamping authority (`tratos identity tsa`) stamp the note: its RFC 3161"
                   " token is written beside it (NOTE.tsr) and recorded in each client's stream.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), metavar="NOTE",
              help="Write the note to this file (with --tsa, default: anchors/heads-TIME.txt in the store's folder).")
@json_flag
@pass_session
def anchor(session: Session, handle: str | None, timestamp: bool, output: str | None) -> None:
    """Print the current chain heads as a short note to email to the client or keep elsewhere.

    Anyone holding the note can later show that the store still contains
    everything it had then: `tratos audit verify --anchor-file NOTE` fails if a
    noted event was removed or rewritten. The store is verified first; a
    store that does not verify gets no note (exit 1).

    With --tsa, a time-stamping authority signs the SHA-256 of the note's exact
    bytes (RFC 3161): the token, saved as NOTE.tsr, proves the note existed at
    the authority's time, so a later rewrite of the store is provable from the
    two files alone, without anyone's inbox. Each client the note names records
    AnchorTimestamped. A TSA that gives no usable token changes nothing (exit 2).
    Run it from cron to make every later rewrite provable (see the README).

    \b
    Example:
        tratos audit anchor acme > acme-heads.txt
        tratos audit anchor --tsa -o ~/anchors/heads-2026-03-31.txt
    """
    from domain.adapters.audit import anchor_lines

    timestamping = _timestamping(session) if timestamp else None
    target = _anchor_target(session, output, timestamp)
    report = run_audit(session, handle, [])
    if not report.ok:
        broken = [s.label for s in report.streams if not s.ok] or ["the store"]
        raise _refused(f"the store does not verify ({', '.join(broken)}): run `tratos audit verify`;"
                       " an anchor of a broken chain would witness nothing")
    lines = anchor_lines(report)
    if not lines:
        raise _refused("the store holds no events yet: there is nothing to anchor")
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    name = session.identity.get("name")
    record = f"{name}'s tratos record" if name else "this tratos record"
    header = f"# Chain heads of {record}, {when}. Check: tratos audit verify --anchor-file NOTE"
    text = "\n".join([header, *lines])
    stamped = None
    if timestamping is not None:
        stamped = _stamp_anchor(session, report, text.encode("utf-8") + b"\n", target, timestamping)
    elif target is not None:
        from domain.adapters.files import write_output

        write_output(target, text.encode("utf-8") + b"\n", session.home)
    if session.as_json:
        from cli.output import print_json

        print_json({"noted_at": when, "heads": [
            {"label": s.label, "stream": str(s.stream), "version": s.head_version, "digest": s.head_digest}
            for s in report.streams if s.head_version > 0], "text": text,
            "file": str(target) if target else None, **(stamped or {})})
        return
    if target is None:
        echo(text, lines=True)
        return
    echo(f"Wrote the anchor note ({counted(len(lines), 'chain head')}) to {target}")
    if stamped:
        echo(f"Timestamped {stamped['timestamp']['time']} by {stamped['timestamp']['authority']}:"
                   f" token in {stamped['token_file']}")
        echo(f"Recorded: anchor timestamped in {', '.join(stamped['recorded']) or 'no client stream'}")


def _timestamping(session: Session) -> Any:
    from documents.timestamps import load_timestamping
    from domain.model.errors import BadInput

    found = load_timestamping(session.home, session.identity)
    if found is None:
        raise BadInput("no time-stamping authority is set: `tratos identity tsa URL --trust ROOT.pem` first")
    return found


def _anchor_target(session: Session, output: str | None, timestamp: bool) -> Any:
    """Where the note goes: -o, or with --tsa a new file in the store's `anchors` folder."""
    from pathlib import Path

    from domain.adapters.files import output_path

    if output is not None:
        target = output_path(output, home=session.home)
    elif timestamp:
        folder = session.home / "anchors"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = folder / f"heads-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.txt"
    else:
        return None
    if timestamp:
        from documents.timestamps import TOKEN_SUFFIX

        output_path(str(target) + TOKEN_SUFFIX, home=session.home)
    return Path(target)


def _stamp_anchor(session: Session, report: Any, note: bytes, target: Any, timestamping: Any) -> dict[str, Any]:
    """Ask the TSA for a token over `note`, write both files, keep them as evidence and record
    AnchorTimestamped in each client stream the note names; nothing is left if any step fails."""
    import hashlib
    from pathlib import Path

    from documents.timestamps import TOKEN_SUFFIX, request_token
    from domain.adapters.audit import NOT_A_CLIENT
    from domain.adapters.evidence import EvidenceFolder
    from domain.adapters.files import write_output
    from domain.model.values import Evidence

    answer, token = request_token(timestamping, note)  # BadInput: nothing written or recorded
    token_path = Path(str(target) + TOKEN_SUFFIX)
    cited = [Evidence(sha256=hashlib.sha256(note).hexdigest(), name=target.name, size=len(note),
                      media_type="text/plain"),
             Evidence(sha256=hashlib.sha256(answer).hexdigest(), name=token_path.name, size=len(answer),
                      media_type="application/timestamp-reply")]
    written: list[Path] = []
    recorded: list[str] = []
    folder = EvidenceFolder.of(session.home)
    kept: list[Path] = []
    try:
        written.append(write_output(target, note, session.home))
        written.append(write_output(token_path, answer, session.home))
        for content in (note, answer):  # one kept before the other failed is taken back too
            if (path := folder.keep(content)) is not None:
                kept.append(path)
        day = session.today()
        for stream in report.streams:
            if stream.head_version < 1 or stream.label.startswith(NOT_A_CLIENT):
                continue  # an invoice series is stamped by the note; it records no events of ours
            session.app.timestamp_anchor(
                stream.label, chain_version=stream.head_version, chain_digest=stream.head_digest,
                note_sha256=cited[0].sha256, token_sha256=cited[1].sha256, timestamped_at=token.time,
                authority=token.authority, tsa_url=timestamping.url, on=day, evidence=cited)
            recorded.append(stream.label)
    except BaseException:
        if not recorded:  # once a stream recorded it, the files are the evidence it cites: they stay
            for path in written:
                path.unlink(missing_ok=True)
            folder.take_back(kept)
        raise
    return {"token_file": str(token_path), "recorded": recorded,
            "timestamp": {"authority": token.authority, "time": token.time.isoformat(), "tsa_url": timestamping.url}}


@audit.command()
@json_flag
@pass_session
def keygen(session: Session) -> None:
    """Print a new encryption key for TRATOS_ENCRYPTION_KEY (base64, 32 bytes).

    Set it before the first event of a new store; keep a copy somewhere safe:
    without it the store cannot be read. To encrypt an existing store, export
    it and import it into an empty store with the key set.

    \b
    Example:
        export TRATOS_ENCRYPTION_KEY="$(tratos audit keygen)"
    """
    from domain.adapters.encryption import KEY_ENV, new_key

    key = new_key()
    if session.as_json:
        from cli.output import print_json

        print_json({"key": key, "variable": KEY_ENV})
        return
    echo(key)
    echo(f"Keep this key safe: set {KEY_ENV} to it; without it the store cannot be read.", err=True)


# ----------------------------------------------------------------- running


def run_audit(session: Session, handle: str | None, anchors: list[Anchor]) -> AuditReport:
    """The whole audit of the session's store (or of one client), with a progress bar on a terminal."""
    from cli.rebuild import progress_bar
    from domain.adapters.audit import audit_store
    from domain.adapters.evidence import EvidenceFolder
    from domain.model.errors import UnknownClient
    from domain.model.values import check_handle, stream_id
    from projections.heads import StreamHeads, known_handles

    app = session.app
    witness = StreamHeads(app).witness()
    streams = None
    if handle is not None:
        stream = stream_id(check_handle(handle))
        witnessed = any(a.stream == stream for a in (*anchors, *witness.heads))
        if not app.exists(handle) and not witnessed:
            raise UnknownClient(f"no client {handle!r}: open it with `tratos client open {handle}`", handle)
        streams = {stream}
        if anchors and not any(a.stream == stream for a in anchors):  # else the note is checked against nothing
            from domain.model.errors import BadInput

            named = sorted({a.label or str(a.stream) for a in anchors})
            raise BadInput(f"the anchor note names no version of {handle} (it names {', '.join(named)}):"
                           f" check it without {handle}, or give {handle}'s note")
    with progress_bar(session, "Verifying") as progress:
        return audit_store(app, streams=streams, anchors=anchors, witness=witness,
                           evidence_file=EvidenceFolder.of(session.home).path,
                           names_of=lambda streams: known_handles(app, streams), progress=progress)


def _refused(message: str) -> Exception:
    from domain.model.errors import Refused

    return Refused(message)


def _what_broke(report: AuditReport) -> str:
    """'acme broken at v3 (truncated), …': the first problem of each broken stream, in a line."""
    broken = [f"{s.label} broken at v{s.first.version} ({s.first.kind})" for s in report.streams
              if s.first is not None]
    if report.store_problems:
        broken.append("the log lost events")
    return ", ".join(broken) or "see the report above"


def _print_report(report: AuditReport, records: list[ChainCheck] = (), signed: list[Any] = (),
                  logs: list[Any] = ()) -> None:
    """The streams, then the Verifactu fingerprints and signatures of each issuer's billing records,
    then the verdict."""
    width = max((len(s.label) for s in report.streams), default=0)
    for stream in report.streams:
        head = f"head v{stream.head_version} {stream.head_digest[:16]}…"
        line = f"{stream.label.ljust(width)}  {stream.events:>6} events  {head}"
        first = stream.first
        if first is None:
            echo(f"{line}  OK")
            continue
        echo(f"{line}  BROKEN at v{first.version}: {first.kind}")
        for problem in sorted(stream.problems, key=lambda p: p.version):
            echo(f"    v{problem.version} {problem.kind}: {problem.detail}")
    for problem in report.store_problems:
        echo(f"store: {problem}")
    signatures = {chain.source: chain for chain in signed}
    for check in (*records, *logs):  # each chain of records, then each event log: fingerprints, signatures
        echo(f"Verifactu {check.source}: {check.count} fingerprints {'OK' if check.ok else f'BROKEN at {check.broken}'}")
        if check.source in signatures:
            echo(f"Verifactu {check.source}: signatures {signatures[check.source]}")
    if not report.streams and not report.store_problems:
        echo("The store holds no events yet.")
    echo(f"Checked {report.records} records, {report.documents} document anchors,"
               f" {report.evidence_files} evidence files, {report.positions_checked} read-model positions.")
    broken = sum(not s.ok for s in report.streams)
    forged = len({c.source.partition(":")[2] for c in (*records, *signed, *logs) if not c.ok})
    if report.ok and not forged:
        echo("Verdict: OK, every chain holds")
    else:
        what = [f"{counted(broken, 'stream')} broken"] if broken else []
        what += ["the log lost events"] if report.store_problems else []
        what += [f"the billing records of {counted(forged, 'issuer')} broken"] if forged else []
        echo(f"Verdict: NOT OK, {' and '.join(what)}")
