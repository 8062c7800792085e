"""The twenty-fourth adversarial run (ADR-92): ECDSA keys on curves readers do not check.

A certificate on secp256k1, brainpoolP256r1, P-224 or P-192 was imported; its PDFs said OK in
`verify` where pdfsig says "Signature is Invalid", and secp256k1 and brainpool made `invoice issue`
and `audit verify` fail with "KeyError: 'secp256k1'" (signxml knows no such curve). Keys are RSA of
2048 bits or more, or ECDSA on P-256, P-384 or P-521 (`key_problem`, documents/identity.py): a p12
holding another is refused on import and whenever it would sign (exit 2), and a signature whose
certificate has one is not called valid (`signing_problem`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import ok, refused
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from test_twenty_third_run import KEYED, LIMITS, _certificate

from documents.identity import key_problem, signing_problem


def _p12(folder: Path, curve: ec.EllipticCurve) -> Path:
    key, certificate = _certificate(LIMITS["signature"][0], curve)
    path = folder / f"{curve.name}.p12"
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"ana", key, certificate, None, serialization.BestAvailableEncryption(KEYED["TRATOS_KEY_PASSPHRASE"].encode())))
    return path


@pytest.mark.parametrize("curve", [ec.SECP256K1(), ec.BrainpoolP256R1(), ec.SECP224R1(), ec.SECP192R1()],
                         ids=lambda curve: curve.name)
def test_a_key_on_a_curve_readers_do_not_check_is_not_imported(kept: Path, tmp_path: Path,
                                                               curve: ec.EllipticCurve) -> None:
    before = (kept / "identity.p12").read_bytes()
    said = refused(kept, ("identity", "import", str(_p12(tmp_path, curve)), "--force"), 2,
                   f"{curve.name}.p12 holds an ECDSA key on {curve.name}, which poppler and most PDF readers"
                   " cannot check", env=KEYED)
    assert "P-256, P-384 or P-521" in said
    assert (kept / "identity.p12").read_bytes() == before
    _, certificate = _certificate([], curve)
    assert signing_problem(certificate).endswith(f"has an ECDSA key on {curve.name}, which poppler and most PDF"
                                                 " readers cannot check; use an RSA or ECDSA P-256, P-384 or P-521"
                                                 " certificate")


@pytest.mark.parametrize("curve", [ec.SECP384R1(), ec.SECP521R1()], ids=lambda curve: curve.name)
def test_a_key_on_a_curve_readers_check_is_imported(kept: Path, tmp_path: Path, curve: ec.EllipticCurve) -> None:
    assert ok(kept, "identity", "import", str(_p12(tmp_path, curve)), "--force", env=KEYED).code == 0
    assert key_problem(ec.generate_private_key(curve)) is None
