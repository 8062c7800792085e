"""What an anchor's timestamp may record: a head the stream reached, digests, the TSA's time.

`tratos audit anchor --tsa` gets an RFC 3161 token over an anchor note and records
`AnchorTimestamped` in every relationship the note names. The rule is the same whether the
whole relationship is loaded (`Relationship`, import's replay) or only its head (`Notebook`,
as a note is recorded): so it lives here, once.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from domain.model.errors import BadInput, Refused
from domain.model.values import check_text

_SHA256 = re.compile(r"[0-9a-f]{64}")


def anchor_timestamp(version: int, *, chain_version: int, chain_digest: str, note_sha256: str,
                     token_sha256: str, timestamped_at: datetime, authority: str, tsa_url: str) -> dict[str, Any]:
    """The fields of an `AnchorTimestamped` for a stream now at `version`, checked."""
    if type(chain_version) is not int or chain_version < 1:
        raise BadInput(f"an anchor names a version of the stream (1 or more), not {chain_version!r}")
    if chain_version > version:
        raise Refused(f"the anchor names version {chain_version}, beyond the end of the stream ({version})")
    for name, digest in (("chain digest", chain_digest), ("note SHA-256", note_sha256),
                         ("token SHA-256", token_sha256)):
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise BadInput(f"the {name} is not a SHA-256 digest: {digest!r}")
    if not isinstance(timestamped_at, datetime) or timestamped_at.utcoffset() is None:
        raise BadInput(f"a timestamp's time is a moment with its time zone, not {timestamped_at!r}")
    return {"chain_version": chain_version, "chain_digest": chain_digest, "note_sha256": note_sha256,
            "token_sha256": token_sha256, "timestamped_at": timestamped_at,
            "authority": check_text(authority, "time-stamping authority", limit=1000),
            "tsa_url": check_text(tsa_url, "time-stamping authority URL", limit=2000)}
