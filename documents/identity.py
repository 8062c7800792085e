"""The freelancer's signing identity: a private key and its X.509 certificate in PKCS#12.

`create_identity` makes an ECDSA P-256 key with a self-signed certificate;
`import_identity` adopts an existing `.p12` (RSA or EC, e.g. a qualified
certificate from a certification authority). Either way the result is one file,
`identity.p12` in the folder given, encrypted with the passphrase (AES-256,
PBKDF2) and readable only by its owner.

A certificate signs only inside its validity period: `import_identity` refuses
one that has expired or is not valid yet (and the caller warns when it expires
within `EXPIRY_WARNING_DAYS`), `signing.sign_pdf` refuses to sign outside it,
and verification fails a signature made outside it (`validity_problem`, ADR-28).

Ed25519/Ed448 keys are refused: poppler (`pdfsig`) and many readers cannot
check their signatures, and a signature only we can check is worth little.

This module needs only `cryptography`; it never loads pyHanko or WeasyPrint.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from domain.adapters.files import PRIVATE, read_regular, write_atomically
from domain.adapters.home import CERTIFICATE_FILE, CERTIFICATES_FOLDER, KEY_FILE
from domain.model.errors import BadInput, Refused
from domain.model.wording import counted

IDENTITY_FILE = KEY_FILE  # the signing key's file (home.py names the home's files)
VALIDITY_YEARS = 10
MIN_RSA_BITS = 2048
EXPIRY_WARNING_DAYS = 30

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Identity:
    """A loaded signing identity: key, certificate, and any CA certificates with it."""

    private_key: PrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def subject(self) -> str:
        return name_text(self.certificate.subject)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.certificate)


@dataclass(frozen=True)
class IdentityInfo:
    """What `identity show` prints about a certificate."""

    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    fingerprint_sha256: str
    key_type: str
    self_signed: bool

    def as_dict(self) -> dict[str, str | bool]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "fingerprint_sha256": self.fingerprint_sha256,
            "key_type": self.key_type,
            "self_signed": self.self_signed,
        }


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER encoding, 64 lowercase hex digits."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def name_text(name: x509.Name) -> str:
    """A distinguished name as people read it, in certificate order: `CN=Ana, E=ana@x.es`.

    A certificate is someone else's text (a client's, in a PDF they signed): what would not show as
    it is (a line break, an escape sequence, a right-to-left override) is written as its escape.
    """
    from domain.model.values import visible

    return visible(", ".join(attribute.rfc4514_string({NameOID.EMAIL_ADDRESS: "E"}) for attribute in name))


def certificate_from_bytes(data: bytes) -> x509.Certificate:
    """A certificate from PEM or DER bytes (for lists of trusted certificates)."""
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise BadInput("not an X.509 certificate (PEM or DER expected)") from exc


def create_identity(
    folder: Path,
    *,
    name: str,
    email: str,
    passphrase: str | bytes,
    not_before: date | datetime,
    years: int = VALIDITY_YEARS,
    overwrite: bool = False,
) -> Path:
    """Make a P-256 key and a self-signed certificate; write `folder/identity.p12`.

    The certificate is valid for `years` from `not_before` (a date means its
    midnight UTC), so the same inputs give the same validity period. The key,
    and so the file, is new every time.
    """
    name = name.strip()
    email = email.strip()
    if not name:
        raise BadInput("the identity needs a name")
    if "@" not in email or any(c.isspace() for c in email):
        raise BadInput(f"not an email address: {email!r}")
    target = _target(folder, overwrite)
    start = _as_utc(not_before)
    end = _add_years(start, years)

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.EMAIL_ADDRESS, email),
        ]
    )
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # nonRepudiation
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(target, Identity(key, certificate), passphrase, friendly_name=name)
    return target


def import_identity(
    source: Path | bytes,
    passphrase: str | bytes,
    folder: Path,
    *,
    new_passphrase: str | bytes | None = None,
    overwrite: bool = False,
    now: datetime | None = None,
) -> Path:
    """Adopt an existing PKCS#12 file as the signing identity: `folder/identity.p12`.

    The file is checked (opens with `passphrase`, has a key and its certificate,
    the key is RSA >= 2048 bits or EC, the certificate is valid `now`, default
    the clock) and written again encrypted with `new_passphrase` (default: the
    same passphrase). A refused file leaves the folder as it was.
    """
    identity = load_identity(source, passphrase)
    problem = signing_problem(identity.certificate) or validity_problem(identity.certificate, now or datetime.now(UTC))
    if problem:
        label = source.name if isinstance(source, Path) else "the PKCS#12 data"
        raise Refused(f"{label} cannot sign: {problem}; nothing was imported")
    _check_subject(identity.certificate, source)
    target = _target(folder, overwrite)
    name = identity.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    friendly = str(name[0].value) if name else "tratos"
    _write(target, identity, passphrase if new_passphrase is None else new_passphrase, friendly)
    return target


def _check_subject(certificate: x509.Certificate, source: Path | bytes) -> None:
    """The name a key signs with is printed on every document and in every `verify`: it follows
    the text policy of one-line texts (ADR-26), or the certificate is not imported."""
    from domain.model.values import visible

    for attribute in certificate.subject:
        value = attribute.value if isinstance(attribute.value, str) else attribute.value.decode("latin-1")
        if visible(value) != value:
            label = source.name if isinstance(source, Path) else "the PKCS#12 data"
            raise BadInput(f"{label}: its certificate's subject {name_text(certificate.subject)} holds characters"
                           " that would show it otherwise than it is (control, line break, bidirectional,"
                           " invisible or noncharacter); nothing was imported")


def load_identity(p12: Path | bytes, passphrase: str | bytes) -> Identity:
    """Open a PKCS#12 file (path or bytes); a wrong passphrase is a one-line `BadInput`."""
    label = p12.name if isinstance(p12, Path) else "the PKCS#12 data"
    data = _read(p12)
    try:
        key, certificate, others = pkcs12.load_key_and_certificates(
            data, _secret(passphrase) or None
        )
    except ValueError as exc:
        raise BadInput(f"cannot open {label}: wrong passphrase or not a PKCS#12 file") from exc
    if key is None or certificate is None:
        raise BadInput(f"{label} holds no private key with its certificate")
    if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        raise BadInput(
            f"{label} holds an Ed25519/Ed448 key: poppler and most PDF readers cannot "
            "check such signatures; use an RSA or ECDSA (P-256) certificate"
        )
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise BadInput(f"{label} holds a {type(key).__name__}; only RSA and ECDSA keys can sign")
    unfit = key_problem(key)
    if unfit:
        raise BadInput(f"{label} {unfit.replace('has ', 'holds ', 1)}")
    if key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise BadInput(f"{label}: the certificate does not belong to the private key")
    return Identity(key, certificate, tuple(others))


def describe(p12: Path | bytes | Identity, passphrase: str | bytes | None = None) -> IdentityInfo:
    """Subject, issuer, validity, SHA-256 fingerprint of the identity's certificate."""
    if isinstance(p12, Identity):
        identity = p12
    else:
        if passphrase is None:
            raise BadInput("a passphrase is needed to open the identity")
        identity = load_identity(p12, passphrase)
    return describe_certificate(identity.certificate)


def describe_certificate(certificate: x509.Certificate) -> IdentityInfo:
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        key_type = f"RSA-{key.key_size}"
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key_type = f"ECDSA {key.curve.name}"
    else:
        key_type = type(key).__name__
    return IdentityInfo(
        subject=name_text(certificate.subject),
        issuer=name_text(certificate.issuer),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        fingerprint_sha256=fingerprint(certificate),
        key_type=key_type,
        self_signed=certificate.issuer == certificate.subject,
    )


def signing_problem(certificate: x509.Certificate) -> str | None:
    """Why `certificate` cannot sign at any time, or None: its issuer limited it to other uses
    (`usage_problem`), or its key makes signatures poppler and most readers cannot check
    (`key_problem`). Import, every signature and every verification ask it (ADR-91, ADR-92)."""
    problem = usage_problem(certificate) or key_problem(certificate.public_key())
    return f"the certificate of {name_text(certificate.subject) or 'the signer'} {problem}" if problem else None


# The curves poppler (NSS), Acrobat and signxml check ECDSA signatures on.
SIGNING_CURVES = {"secp256r1", "secp384r1", "secp521r1"}


def key_problem(key: Any) -> str | None:
    """Why a (public or private) key cannot make signatures every reader checks, or None."""
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return None if key.key_size >= MIN_RSA_BITS else \
            f"has a {key.key_size}-bit RSA key; at least {MIN_RSA_BITS} bits needed"
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return None if key.curve.name in SIGNING_CURVES else \
            (f"has an ECDSA key on {key.curve.name}, which poppler and most PDF readers cannot check;"
             " use an RSA or ECDSA P-256, P-384 or P-521 certificate")
    return f"has a {type(key).__name__.removeprefix('_')}, not an RSA or ECDSA key"


def validity_problem(certificate: x509.Certificate, at: datetime) -> str | None:
    """Why `certificate` cannot sign at `at` (expired, not valid yet), or None when it can.

    A signature is only worth its certificate's word at the moment it was made:
    pdfsig and Acrobat flag one made outside the validity period.
    """
    at = _as_utc(at)
    start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    subject = name_text(certificate.subject) or "the certificate"
    if at > end:
        return f"the certificate of {subject} expired on {_moment(end, at)} (at {_moment(at, end)})"
    if at < start:
        return f"the certificate of {subject} is valid only from {_moment(start, at)} (at {_moment(at, start)})"
    return None


# What an extended key usage may say of a certificate that signs documents: any use, email (S/MIME,
# the usual purpose of a person's certificate), client authentication (national identity cards'),
# document signing (RFC 9336), Adobe's Authentic Documents and Microsoft's Document Signing.
SIGNING_PURPOSES = {"2.5.29.37.0", "1.3.6.1.5.5.7.3.4", "1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.36",
                    "1.2.840.113583.1.1.5", "1.3.6.1.4.1.311.10.3.12"}


def usage_problem(certificate: x509.Certificate) -> str | None:
    """Why the issuer's limits on `certificate` keep it from signing documents, or None: a key usage
    without digitalSignature and nonRepudiation (a key for encryption only), an extended key usage
    with none of `SIGNING_PURPOSES` (a web server's). A certificate that states neither may sign."""
    try:
        extensions = certificate.extensions
    except ValueError:
        return "has extensions that cannot be read"
    try:
        usage = extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not (usage.digital_signature or usage.content_commitment):
        return "is not issued for signing (its key usage has neither digitalSignature nor nonRepudiation)"
    try:
        purposes = extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return None
    if not {purpose.dotted_string for purpose in purposes} & SIGNING_PURPOSES:
        return "is not issued for signing documents (its extended key usage allows other purposes only)"
    return None


def refuse_to_sign_outside_validity(certificate: x509.Certificate, at: datetime) -> None:
    """Refuse (exit 1) a signature made with `certificate` at `at` outside its validity period: the
    one rule every signature tratos makes goes through, a PDF's (`signing.sign_pdf`) as a billing
    record's or an event-log entry's (`record_signing`), ADR-28 and ADR-72."""
    problem = signing_problem(certificate) or validity_problem(certificate, at)
    if problem:
        raise Refused(f"cannot sign: {problem}; renew it and `tratos identity import` the new one")


def expiry_warning(certificate: x509.Certificate, at: datetime) -> str | None:
    """A sentence when `certificate` expires within `EXPIRY_WARNING_DAYS` of `at`, else None."""
    left = certificate.not_valid_after_utc - _as_utc(at)
    if left > timedelta(days=EXPIRY_WARNING_DAYS):
        return None
    days = max(left.days, 0)
    return (f"the certificate expires on {_moment(certificate.not_valid_after_utc)}"
            f" (in {counted(days, 'day')}): documents cannot be signed after that;"
            " renew it and import the new one")


def _moment(moment: datetime, beside: datetime | None = None) -> str:
    """A moment to the minute; to the second when `beside` falls in the same minute (a certificate that
    expired seconds before a signature)."""
    minutes = "%Y-%m-%d %H:%M UTC"
    same = beside is not None and moment.astimezone(UTC).strftime(minutes) == beside.astimezone(UTC).strftime(minutes)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC" if same else minutes)


CERTIFICATES_DIR = CERTIFICATES_FOLDER


def _target(folder: Path, overwrite: bool) -> Path:
    target = Path(folder) / IDENTITY_FILE
    if target.exists() and not overwrite:
        raise Refused(f"a signing identity already exists at {target}; it was kept")
    return target


def _write(target: Path, identity: Identity, passphrase: str | bytes, friendly_name: str) -> None:
    secret = _secret(passphrase)
    if not secret:
        raise BadInput("the identity needs a non-empty passphrase")
    data = pkcs12.serialize_key_and_certificates(
        friendly_name.encode("utf-8"),
        identity.private_key,
        identity.certificate,
        list(identity.chain) or None,
        serialization.BestAvailableEncryption(secret),
    )
    write_atomically(target, data, mode=PRIVATE)
    # The certificate is public: kept in clear so documents can be verified without the passphrase
    # (yet private to the owner like everything in the home, ADR-30).
    certificates = Path(target).parent / CERTIFICATES_DIR
    pem = identity.certificate.public_bytes(serialization.Encoding.PEM)
    write_atomically(certificates / f"{fingerprint(identity.certificate)}.pem", pem, mode=PRIVATE)
    write_atomically(Path(target).parent / CERTIFICATE_FILE, pem, mode=PRIVATE)


def known_certificates(folder: Path) -> list[x509.Certificate]:
    """Every certificate this store has signed with (old ones too, so old documents still verify)."""
    certificates = Path(folder) / CERTIFICATES_DIR
    return [certificate_from_bytes(path.read_bytes()) for path in sorted(certificates.glob("*.pem"))]


def current_certificate(folder: Path) -> x509.Certificate | None:
    path = Path(folder) / CERTIFICATE_FILE
    return certificate_from_bytes(path.read_bytes()) if path.exists() else None


def _read(p12: Path | bytes) -> bytes:
    if isinstance(p12, bytes | bytearray):
        return bytes(p12)
    if not Path(p12).exists() and not Path(p12).is_symlink():
        raise BadInput(f"no identity file at {p12}")
    return read_regular(p12, "identity file")  # regular files of at most FILE_LIMIT bytes (ADR-30)


def _secret(passphrase: str | bytes) -> bytes:
    return passphrase.encode("utf-8") if isinstance(passphrase, str) else bytes(passphrase)


def _as_utc(moment: date | datetime) -> datetime:
    if isinstance(moment, datetime):
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return datetime.combine(moment, time(0, 0), tzinfo=UTC)


def _add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28) + timedelta(days=1)
