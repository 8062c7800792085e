"""Encryption at rest: `TRATOS_ENCRYPTION_KEY` turns on AES-GCM (and zlib) for every stored event.

The key is eventsourcing's `AESCipher.create_key(32)` format: 32 random bytes,
base64-encoded (`tratos audit keygen` prints one). The cipher is
`eventsourcing.cryptography:AESCipher`, which uses the `cryptography` package
that pyHanko needs anyway (not `eventsourcing.cipher`, which needs pycryptodome).
Events are compressed before they are encrypted (ciphertext does not compress).

A store is encrypted or not from its first event on. Opening it with no key,
the wrong key, or a key for a plain store is refused with one line (exit 2)
before anything is read or written. The hash chain covers the decrypted JSON,
so digests do not depend on the key (export/import between a plain and an
encrypted store keeps them). Business read models of an encrypted store live in
their own SQLCipher file, encrypted whole with a key derived from this one
(`read_model_key`, ADR-57); evidence files stay as they are.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from typing import Any

from domain.model.errors import BadInput

KEY_ENV = "TRATOS_ENCRYPTION_KEY"
KEY_BYTES = 32
CIPHER_TOPIC = "eventsourcing.cryptography:AESCipher"
COMPRESSOR_TOPIC = "eventsourcing.compressor:ZlibCompressor"
# HKDF's "info": what the derived key is for. Another use of the store's key gets another label.
READ_MODELS_LABEL = b"tratos read models v1"


class KeyProblem(BadInput):
    """The encryption key is missing, malformed, or not the store's (exit 2; nothing is touched)."""


def new_key() -> str:
    """A fresh key for TRATOS_ENCRYPTION_KEY."""
    from eventsourcing.cryptography import AESCipher

    return AESCipher.create_key(KEY_BYTES)


def configured_key(env: Mapping[str, str] | None = None) -> str:
    """The key from an explicit env mapping ("" there: explicitly none), else from the process
    environment ('' if unset).

    Set but empty in the process environment is bad input, not "no key": `TRATOS_ENCRYPTION_KEY=$KEY`
    with KEY unset in a script would otherwise write the client's data in clear without a word
    (ADR-38's rule for empty values, ADR-74)."""
    if env and KEY_ENV in env:
        return (env[KEY_ENV] or "").strip()
    given = os.environ.get(KEY_ENV)
    if given is None:
        return ""
    if not given.strip():
        raise KeyProblem(f"{KEY_ENV} is set but empty: set it to the store's key (`tratos audit keygen` makes"
                         " one for a new store), or unset it for a store kept in clear")
    return given.strip()


def encryption_settings(key: str) -> dict[str, str]:
    """eventsourcing settings for `key` (none without a key); a malformed key is refused."""
    if not key:
        return {}
    try:
        raw = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise KeyProblem(f"{KEY_ENV} is not a base64-encoded {KEY_BYTES}-byte key:"
                         " make one with `tratos audit keygen`")
    return {"CIPHER_TOPIC": CIPHER_TOPIC, "CIPHER_KEY": key, "COMPRESSOR_TOPIC": COMPRESSOR_TOPIC}


def read_model_key(key: str) -> bytes:
    """The read models' key (32 bytes), derived from the store's key with HKDF-SHA256 (RFC 5869)
    under its own label: never the store's key itself, so that neither key opens what the other
    locks. `key` has been checked by `encryption_settings`."""
    material = base64.b64decode(key, validate=True)
    if len(material) != KEY_BYTES:
        raise KeyProblem(f"{KEY_ENV} is not a base64-encoded {KEY_BYTES}-byte key")
    extracted = hmac.new(b"\0" * hashlib.sha256().digest_size, material, hashlib.sha256).digest()
    return hmac.new(extracted, READ_MODELS_LABEL + b"\x01", hashlib.sha256).digest()  # one block: 32 bytes


def check_key(recorder: Any, mapper: Any) -> None:
    """Refuse to go on unless the first stored event opens with the configured key (or lack of one)."""
    first = recorder.select_notifications(start=None, limit=1)
    if not first:
        return  # an empty store becomes whatever its first event makes it
    data = bytes(first[0].state)
    plain = _is_plain_json(data)
    if mapper.cipher is None:
        if not plain and _is_text(data):  # a plain store whose first record was damaged, not a cipher
            from domain.model.errors import Refused, UnreadableRecord

            damaged = UnreadableRecord(first[0].originator_id, first[0].originator_version, "not JSON")
            raise Refused(damaged.restore())  # the audit cannot open it either: no `run audit verify`
        if not plain:
            raise KeyProblem(f"this store is encrypted: set {KEY_ENV} to its key")
        return
    if plain:
        raise KeyProblem(f"this store is not encrypted, but {KEY_ENV} is set: unset it (to encrypt the"
                         " store, export it and import it into an empty store with the key set)")
    try:
        mapper.decode_state(data)
    except Exception:  # noqa: BLE001 - any failure to open the first event means the key is not this store's
        raise KeyProblem(f"{KEY_ENV} does not open this store: it was encrypted with another key") from None


def _is_text(data: bytes) -> bool:
    """Whether `data` reads as UTF-8 text: a cipher's output (random bytes behind a nonce) never does."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _is_plain_json(data: bytes) -> bool:
    if not data.startswith(b"{"):
        return False
    try:
        json.loads(data)
    except ValueError:
        return False
    return True
