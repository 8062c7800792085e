"""A rewrite made consistently by a forger with database access, caught by a timestamped anchor.

The story is recorded, its chain heads are anchored with `audit anchor --tsa` (a real RFC 3161
authority on 127.0.0.1), then the forger rewrites acme's stream and recomputes every digest
(and rebuilds the read models), so the chain holds and plain `audit verify` passes. The note
and its token, kept outside the store, still prove the rewrite: `audit verify --anchor-file`
fails naming the stream. And a forger who edits the note to match gets a token that no
longer holds. On both backends.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from forger import Forger, seal
from support import ACME, ACME_STREAM, DRAFTED, record_story, tratos

from domain.model.chain import canonical_json


@pytest.fixture
def anchored(app, home, store, tsa, tmp_path):
    """The story recorded and anchored with a timestamp; returns the note's path."""
    record_story(app, home)
    assert tratos(store, "init", "--name", "Ana García", "--email", "ana@example.com").code == 0
    assert tratos(store, "identity", "tsa", tsa.url, "--trust", str(tsa.write_root())).code == 0
    note = tmp_path / "outside" / "heads.txt"
    note.parent.mkdir()
    done = tratos(store, "audit", "anchor", "--tsa", "-o", str(note))
    assert done.code == 0, done.stderr
    assert (note.parent / "heads.txt.tsr").exists()
    return note


def rewrite_price(app, store) -> None:
    """The forger: acme's contract made cheaper, every digest after it recomputed, the heads that
    events inside the store cite (the issued document's, the anchor's) made to match, read models
    rebuilt: nothing inside the store tells the rewrite."""
    forger = Forger(app)
    records = forger.records(ACME_STREAM)
    version, topic, drafted = records[DRAFTED - 1]
    cheaper = json.loads(canonical_json(drafted).replace(b'"amount":"8000.00"', b'"amount":"6000.00"'))
    assert cheaper != drafted
    records[DRAFTED - 1] = (version, topic, cheaper)
    digests: dict[int, str] = {}
    for n, (version, topic, state) in enumerate(records):
        if "chain_version" in state:  # a head cited inside the stream: the forger fixes it too
            records[n] = (version, topic, {**state, "chain_digest": digests[state["chain_version"]]})
        sealed = seal(ACME_STREAM, records[: n + 1])
        digests[version] = sealed[-1][2]["digest"]
    forger.replace_stream(ACME_STREAM, seal(ACME_STREAM, records))
    assert tratos(store, "rebuild").code == 0


def test_the_untouched_store_passes_with_its_trusted_time(anchored, store):
    outcome = tratos(store, "audit", "verify", "--anchor-file", str(anchored))
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert "Anchor note timestamp:" in outcome.stdout and "valid, trusted" in outcome.stdout


def test_a_consistent_rewrite_fails_against_the_timestamped_note_naming_the_stream(anchored, app, store):
    rewrite_price(app, store)
    plain = tratos(store, "--json", "audit", "verify", ACME)
    acme = plain.json()["streams"][0]
    assert acme["ok"], plain.stdout
    outcome = tratos(store, "audit", "verify", "--anchor-file", str(anchored))
    assert outcome.code == 1
    assert f"the store does not verify: {ACME} broken at v" in outcome.stderr
    assert "rewritten" in outcome.stderr
    assert "valid, trusted" in outcome.stdout  # the note itself is what the authority stamped


def test_a_note_edited_to_match_the_rewrite_breaks_its_token(anchored, app, store):
    rewrite_price(app, store)
    [line] = [x for x in anchored.read_text().splitlines() if x.startswith(f"tratos-anchor v1 {ACME} ")]
    version, digest = int(line.split()[3]), line.split()[4]
    forged = dict((v, state["digest"]) for v, _, state in Forger(app).records(ACME_STREAM))[version]
    assert forged != digest
    anchored.write_text(anchored.read_text().replace(digest, forged))  # the note now agrees with the store
    outcome = tratos(store, "audit", "verify", "--anchor-file", str(anchored))
    assert outcome.code == 1
    assert "Verdict: OK, every chain holds" in outcome.stdout  # the chains agree with the edited note
    assert outcome.stderr.startswith("error: the anchor note's timestamp does not hold: the token is over other bytes")


def test_a_store_with_timestamped_anchors_exports_and_imports_with_the_same_lines(anchored, store, tmp_path):
    from backends import StoreSpec

    exported, evidence = tmp_path / "store.jsonl", tmp_path / "evidence"
    assert tratos(store, "export", str(exported), "--with-evidence", str(evidence)).code == 0
    assert b"AnchorTimestamped" in exported.read_bytes()
    target = StoreSpec("sqlite", str(tmp_path / "imported"))
    imported = tratos(target, "import", str(exported), "--with-evidence", str(evidence))
    assert imported.code == 0, imported.stderr  # every AnchorTimestamped re-decided by its command
    again = tmp_path / "again.jsonl"
    assert tratos(target, "export", str(again)).code == 0
    assert again.read_bytes().splitlines()[1:] == exported.read_bytes().splitlines()[1:]
    untrusted = tratos(target, "audit", "verify", "--anchor-file", str(anchored))  # no roots set there yet
    assert untrusted.code == 1 and "its authority is not among the trusted roots" in untrusted.stderr
    shutil.copy(Path(store.home) / "tsa-roots.pem", Path(target.home) / "tsa-roots.pem")
    outcome = tratos(target, "audit", "verify", "--anchor-file", str(anchored))
    assert outcome.code == 0 and "valid, trusted" in outcome.stdout, outcome.stdout + outcome.stderr
