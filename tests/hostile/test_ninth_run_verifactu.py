"""The ninth adversarial run (issue 19), its Verifactu findings (sections 4, 5 and 6), fixed at their root (ADR-66).

4. `verifactu cancel` of an invoice that reached the client is refused (correct it instead), and a
   cancelled invoice is void in its relationship: no payment, reminder or correction, no balance.
5. A billing record is not made before the record it follows, nor before its invoice's date; a
   file whose records go back in time is named by `verifactu verify` (a warning since ADR-69).
6. `verifactu verify FILE` counts unsigned records and says in tratos' words why a signature fails.

Each refusal is one `error:` line, its exit code and the store unchanged, on both backends.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import (
    IN_FORCE,
    copied,
    ok,
    recorded_template,
    refused,
    run,
    snapshot,
    use_database,
)

KEYED = {"TRATOS_KEY_PASSPHRASE": "s3cret passphrase"}
SIGNER = "CN=Ana García, E=ana@example.com"
HISTORY = IN_FORCE + [
    ("invoice", "issue", "acme", "--installment", "1", "--on", "2026-01-15"),                   # F-2026-001
    ("pdf", "invoice", "acme", "F-2026-001", "--on", "2026-01-15"),                             # its PDF issued
    ("invoice", "issue", "acme", "--installment", "2", "--on", "2026-02-15"),                   # F-2026-002
    ("payment", "record", "acme", "F-2026-002", "100", "--on", "2026-02-20"),                   # paid in part
    ("invoice", "issue", "acme", "--amount", "500EUR", "--due", "2026-03-05", "--on", "2026-03-01"),  # F-2026-003
    ("remind", "acme", "F-2026-003", "--on", "2026-03-20"),                                    # reminded
    ("invoice", "issue", "acme", "--amount", "300EUR", "--on", "2026-03-02"),                   # F-2026-004
    ("invoice", "correct", "acme", "F-2026-004", "--reason", "Too much", "--amount", "-50EUR",
     "--on", "2026-03-03"),                                                                     # R-2026-001
    ("invoice", "issue", "acme", "--amount", "200EUR", "--due", "2026-03-10", "--on", "2026-03-05"),  # F-2026-005
]
LAST_RECORD = "2026-03-31T12:00:00+02:00"  # every record of the history: TRATOS_TODAY's noon, Madrid


@pytest.fixture
def acme(module_store, store) -> Iterator[Path]:
    with copied(recorded_template(module_store, store.backend, "hostile-ninth-run-verifactu", HISTORY, KEYED),
                store) as home:
        yield home


def status_line(home: Path, prefix: str) -> str:
    return next(line for line in ok(home, "status", "acme").stdout.splitlines() if line.startswith(prefix))


# ------------------------------------------------------------------ 4. cancelling what reached the client

@pytest.mark.parametrize(("number", "how"), [
    ("F-2026-001", "a PDF of its invoice was issued on 2026-01-15"),
    ("F-2026-002", "a payment of it was received on 2026-02-20"),
    ("F-2026-003", "a reminder of it was sent on 2026-03-20"),
    ("F-2026-004", "it is corrected by R-2026-001"),
])
def test_an_invoice_that_reached_the_client_is_corrected_not_cancelled(acme, number, how):
    refused(acme, ("verifactu", "cancel", number), 1,
            f"error: {number} reached the client ({how}): an invoice that reached the client is corrected, not"
            f" cancelled (`tratos invoice correct acme {number} --void --reason …`)\n", env=KEYED)


def test_a_corrective_invoice_is_not_cancelled(acme):
    refused(acme, ("verifactu", "cancel", "R-2026-001"), 1,
            "error: R-2026-001 is a corrective invoice of F-2026-004: a corrective invoice is not cancelled;"
            " correct F-2026-004 again instead (`tratos invoice correct acme F-2026-004`)\n", env=KEYED)


def test_a_cancelled_invoice_is_void_in_the_relationship(acme):
    assert status_line(acme, "Balance:") == ("Balance: invoiced 8950.00 EUR, paid 100.00 EUR,"
                                             " outstanding 8850.00 EUR, overdue 8600.00 EUR")
    done = ok(acme, "verifactu", "cancel", "F-2026-005", env=KEYED)
    assert done.stdout.startswith("Cancelled the billing record of F-2026-005 (fingerprint ")
    void = ("the billing record of F-2026-005 was cancelled on 2026-03-31: the invoice is void, no payment,"
            " reminder, correction or PDF can be recorded against it\n")
    refused(acme, ("payment", "record", "acme", "F-2026-005", "200"), 1, f"error: {void}")
    refused(acme, ("remind", "acme", "F-2026-005", "-o", str(acme.parent / "r.pdf")), 1, f"error: {void}")
    refused(acme, ("invoice", "correct", "acme", "F-2026-005", "--reason", "X", "--void"), 1, f"error: {void}",
            env=KEYED)
    refused(acme, ("verifactu", "cancel", "F-2026-005"), 1, "error: the record of F-2026-005 is cancelled already\n",
            env=KEYED)
    refused(acme, ("pdf", "invoice", "acme", "F-2026-005", "-o", str(acme.parent / "f5.pdf")), 1, f"error: {void}",
            env=KEYED)
    assert not (acme.parent / "f5.pdf").exists()
    assert status_line(acme, "Balance:") == ("Balance: invoiced 8750.00 EUR, paid 100.00 EUR,"
                                             " outstanding 8650.00 EUR, overdue 8400.00 EUR")
    assert re.fullmatch(r"F-2026-005 +0\.00 EUR +2026-03-10 +0\.00 EUR +0\.00 EUR +cancelled 2026-03-31 *",
                        status_line(acme, "F-2026-005"))
    assert ok(acme, "audit", "verify", env=KEYED).stdout.endswith("Verdict: OK, every chain holds\n")


def test_an_export_whose_cancelled_invoice_lost_its_cancellation_record_is_not_imported(acme, tmp_path, store,
                                                                                       module_store):
    """An invoice is void only with its billing record cancelled in the same transaction (ADR-66): an
    export without the record (the last of its chain, so the chain still holds) is refused whole."""
    import json

    ok(acme, "verifactu", "cancel", "F-2026-005", env=KEYED)
    export = tmp_path / "all.jsonl"
    ok(acme, "export", str(export))
    lines = export.read_bytes().splitlines()
    kept = [line for line in lines if b":InvoiceRegistrationCancelled" not in line]
    assert len(kept) == len(lines) - 1
    end = json.loads(kept[-1])
    kept[-1] = json.dumps({**end, "events": end["events"] - 1}, separators=(",", ":"), sort_keys=True).encode()
    export.write_bytes(b"\n".join(kept) + b"\n")
    target = module_store(store.backend, "ninth-run-import-target")  # empty: only this test imports into it
    with use_database(Path(target.home), target.database_url) as home:
        outcome = run(home, "import", str(export), env=KEYED)
        assert outcome.code == 1 and len(outcome.stderr_lines) == 1, outcome.stderr
        assert outcome.stderr.endswith("'acme' cancels F-2026-005, and no billing record cancels it; nothing was"
                                       " imported\n"), outcome.stderr
        assert "acme" not in run(home, "status").stdout


def test_a_refused_cancellation_asks_for_no_passphrase(acme):
    refused(acme, ("verifactu", "cancel", "F-2026-002"), 1, "reached the client", env={"TRATOS_KEY_PASSPHRASE": None})


# ------------------------------------------------------------------ 5. the record clock

def test_a_clock_behind_the_last_record_makes_no_record(acme):
    clock = {**KEYED, "TRATOS_NOW": "2026-01-01T10:00:00+01:00"}
    behind = (f"error: your last billing record (F-2026-005, made at {LAST_RECORD}) is ahead of this machine's clock"
              " (2026-01-01T10:00:00+01:00): if the clock that made it was wrong, `tratos verifactu verify` logs it"
              " as anomaly 13 of the agency's list and the next record may follow it; else correct this clock."
              " Nothing was recorded\n")
    refused(acme, ("invoice", "issue", "acme", "--amount", "5EUR"), 1, behind, env=clock)
    refused(acme, ("verifactu", "cancel", "F-2026-005"), 1, behind, env=clock)
    refused(acme, ("invoice", "issue", "acme", "--amount", "5EUR"), 1, "is ahead of this machine's clock",
            env={**KEYED, "TRATOS_NOW": "2026-03-31T11:59:59+02:00"})  # one second is enough
    ok(acme, "invoice", "issue", "acme", "--amount", "5EUR", env={**KEYED, "TRATOS_NOW": LAST_RECORD})  # the same


def test_an_invoice_dated_after_the_record_clock_makes_no_record(acme):
    refused(acme, ("invoice", "issue", "acme", "--amount", "5EUR"), 1,
            "error: F-2026-006 is dated 2026-04-10, after this machine's clock (2026-04-01T10:00:00+02:00), the time"
            " its billing record would carry: correct the clock, nothing was recorded\n",
            env={**KEYED, "TRATOS_TODAY": "2026-04-10", "TRATOS_NOW": "2026-04-01T10:00:00+02:00"})


def test_verify_warns_of_a_record_made_before_the_one_before_it(acme, tmp_path):
    """A time going back is a traceability anomaly (11), not a break (ADR-69): the fingerprint holds it."""
    from domain.adapters.verifactu_xml import read_records

    out = tmp_path / "v.xml"
    ok(acme, "verifactu", "export", "--year", "2026", "-o", str(out), env=KEYED)
    with out.open("rb") as source:
        records = list(read_records(source, out.name))
    last = records[-1]
    forged = dataclasses.replace(last, generated_at="2026-01-01T10:00:00+01:00")
    text = out.read_text(encoding="utf-8")
    head, tail = text[:text.rindex("<sf:RegistroAlta>")], text[text.rindex("<sf:RegistroAlta>"):]
    tail = tail.replace(f"<sf:FechaHoraHusoGenRegistro>{LAST_RECORD}<",
                        f"<sf:FechaHoraHusoGenRegistro>{forged.generated_at}<")
    tail = tail.replace(f"<sf:Huella>{last.fingerprint}<", f"<sf:Huella>{forged.computed()}<")  # re-digested
    out.write_text(head + tail, encoding="utf-8")
    before = snapshot(acme)
    warning = (f"warning: v.xml record {len(records)}, the registration record of F-2026-005: it was made at"
               f" 2026-01-01T10:00:00+01:00, before the record before it ({LAST_RECORD}) (anomaly 11 of the agency's"
               " list: the chain holds)")
    outcome = run(acme, "verifactu", "verify", str(out))  # re-digested, not signed again: the signature says
    assert outcome.code == 1 and outcome.stderr_lines[0] == warning, outcome.stderr
    assert outcome.stderr_lines[1].endswith("its signature does not verify (the record was changed after it was"
                                            " signed)"), outcome.stderr
    assert f"v.xml  {len(records)} records  OK" in outcome.stdout
    unsigned = head + SIGNATURE.sub("", tail)
    out.write_text(unsigned, encoding="utf-8")
    outcome = run(acme, "verifactu", "verify", str(out))  # what a clock gone back leaves: a warning
    assert (outcome.code, outcome.stderr_lines) == (0, [warning])
    assert f"v.xml  {len(records)} records  OK" in outcome.stdout
    assert snapshot(acme) == before


def test_the_time_order_rule_on_the_chain_alone():
    from domain.model.fingerprints import out_of_time

    assert out_of_time("2026-03-31T12:00:00+02:00", "31-03-2026", "2026-03-31T10:00:00+00:00") is None  # same instant
    assert out_of_time("2026-03-31T11:59:59+02:00", "31-03-2026", "2026-03-31T12:00:00+02:00")[1] == "11"
    assert out_of_time("2026-04-01T10:00:00+02:00", "10-04-2026", None)[1] == "14"
    assert out_of_time("2026-03-31T23:30:00+02:00", "01-04-2026", None) is None  # 1 April had begun east of here


# ------------------------------------------------------------------ 6. what verify FILE says of signatures

def exported(home: Path, tmp_path: Path) -> tuple[Path, str]:
    out = tmp_path / "v.xml"
    ok(home, "verifactu", "export", "--year", "2026", "-o", str(out), env=KEYED)
    return out, out.read_text(encoding="utf-8")


SIGNATURE = re.compile(r"<ds:Signature[ >].*?</ds:Signature>", re.S)


@pytest.mark.parametrize(("stripped", "counted"), [
    (0, f"6 valid (signed by {SIGNER}), 0 unsigned"),
    (1, f"5 valid (signed by {SIGNER}), 1 unsigned"),
    (6, "0 valid, 6 unsigned"),
])
def test_records_without_their_signature_are_counted_unsigned(acme, tmp_path, stripped, counted):
    out, text = exported(acme, tmp_path)
    out.write_text(SIGNATURE.sub("", text, count=stripped) if stripped else text, encoding="utf-8")
    outcome = run(acme, "verifactu", "verify", str(out))
    assert (outcome.code, outcome.stdout, outcome.stderr) == (
        0, f"v.xml  6 records  OK\nv.xml  signatures: {counted}\n", "")


def damaged_value(text: str) -> str:
    at = text.index(">", text.index("<ds:SignatureValue")) + 1
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1:]


def edited_description(text: str) -> str:
    return text.replace("<sf:DescripcionOperacion>", "<sf:DescripcionOperacion>X", 1)


def edited_signing_time(text: str) -> str:
    return re.sub(r"(<xades:SigningTime>)(\d{4})", lambda m: m.group(1) + str(int(m.group(2)) - 1), text, count=1)


@pytest.mark.parametrize(("edit", "why"), [
    (damaged_value, "the signature itself is damaged: its value does not match what it signs"),
    (edited_description, "the record was changed after it was signed"),
    (edited_signing_time, "the signature itself is damaged: its signing time or certificate was changed after it"
                          " was signed"),
])
def test_a_signature_that_fails_says_why_in_tratos_words(acme, tmp_path, edit, why):
    out, text = exported(acme, tmp_path)
    edited = edit(text)
    assert edited != text
    out.write_text(edited, encoding="utf-8")
    before = snapshot(acme)
    outcome = run(acme, "verifactu", "verify", str(out))
    assert (outcome.code, outcome.stderr) == (
        1, f"error: the billing records do not verify: v.xml record 1 (F-2026-001): its signature does not verify"
           f" ({why})\n")
    assert outcome.stdout == (f"v.xml  6 records  OK\nv.xml  signatures: BROKEN at record 1 (F-2026-001): its"
                              f" signature does not verify ({why})\n")
    assert snapshot(acme) == before
