"""A real SMTP server on 127.0.0.1 for the tests: aiosmtpd, STARTTLS on a test certificate, AUTH.

`MailServer` starts an aiosmtpd `Controller` on a free port with a certificate made here
(cryptography: a self-signed P-256 certificate for 127.0.0.1 and localhost), requires STARTTLS
before AUTH, accepts one user and password, and keeps every message it accepts as the exact
bytes it received. Its DATA reply is unique per server (`reply`), so a test can tell that the
reply tratos recorded is the one this server sent; recipients in `refuse` get a 550.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER = "ana@example.com"
PASSWORD = "s3cret-" + secrets.token_hex(8)  # unique per run: a grep that finds it finds a leak


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (and localhost) and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tratos test SMTP")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Handler:
    """What the server does with a message: refuse some recipients, keep the rest byte for byte."""

    reply: str
    refuse: set[str] = field(default_factory=set)
    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    quit_reply: str = "221 2.0.0 Bye"  # what it answers QUIT with (RFC 5321 lets 421 answer any command)

    async def handle_QUIT(self, server, session, envelope):  # noqa: N802
        return self.quit_reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return self.reply


def _authenticate(server, session, envelope, mechanism, auth_data):
    if isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USER \
            and auth_data.password.decode() == PASSWORD:
        return AuthResult(success=True)
    return AuthResult(success=False, handled=False)


class MailServer:
    """An aiosmtpd server on 127.0.0.1: `start()`, `stop()`; `tls` False: plain, no AUTH required."""

    def __init__(self, folder: Path, *, tls: bool = True) -> None:
        self.cert, self.key = make_certificate(folder)
        self.port = free_port()
        self.handler = Handler(reply=f"250 2.0.0 Ok: queued as T{secrets.token_hex(5).upper()}")
        context = None
        if tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.cert, self.key)
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, tls_context=context,
            require_starttls=tls, authenticator=_authenticate, auth_require_tls=tls,
            auth_required=tls, server_hostname="localhost")

    @property
    def received(self) -> list[tuple[str, list[str], bytes]]:
        return self.handler.received

    def start(self) -> MailServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
