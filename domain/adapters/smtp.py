"""Sending a message by SMTP: the freelancer's mail settings, the password, and one delivery.

The settings live in identity.json (`tratos identity mail`); the password never does: it comes
from $TRATOS_SMTP_PASSWORD or the system keyring (service `tratos-smtp`, user `USER@HOST`), is
held only while logging in, and no message tratos prints quotes it (ADR-45). A delivery is
all or nothing: every recipient accepted, then the message, whose reply (`250 2.0.0 Ok: queued
as ...`) is what the record cites; anything else is one `SendFailed` line and nothing sent.
"""

from __future__ import annotations

import functools
import os
import re
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace

from domain.model.errors import BadInput, Refused, TratosError
from domain.model.values import check_email, check_text

SECURITIES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
PLAIN_HOST = "127.0.0.1"  # the one host a message may go to unencrypted (a local relay)
PASSWORD_ENV = "TRATOS_SMTP_PASSWORD"
KEYRING_SERVICE = "tratos-smtp"
TIMEOUT = 30  # seconds a server may take to answer

# identity.json keys (texts, like every value there) <- MailSettings fields
KEYS = {"host": "smtp_host", "port": "smtp_port", "security": "smtp_security", "user": "smtp_user",
        "from_address": "mail_from", "from_name": "mail_from_name", "bcc_self": "mail_bcc_self",
        "trust": "smtp_trust"}


class SendFailed(TratosError):
    """The server could not be reached, refused the login, a recipient or the message: nothing was sent."""


_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_HOST_NAME = re.compile(rf"{_LABEL}(\.{_LABEL})*\.?")


def check_host(host: str) -> str:
    """A host name (letters, digits, hyphens between dots, not all digits at the end: no top-level
    domain is a number; an internationalised one as IDNA has it) or an IP address: not a URL (`smtp://x`), nor a host with its port or a user (they have options
    of their own)."""
    import ipaddress

    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    try:
        ascii_name = host.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_name = ""
    if not _HOST_NAME.fullmatch(ascii_name) or ascii_name.rstrip(".").rpartition(".")[2].isdigit():
        raise BadInput(f"not a host name: {host!r} (such as smtp.example.com: without smtp://, a port or a user,"
                       " which --port and --user give)")
    return host


@dataclass(frozen=True)
class MailSettings:
    """Where and as whom tratos sends: SMTP host, port, security, login user, From, Bcc to self."""

    host: str
    port: int
    security: str
    user: str
    from_address: str
    from_name: str = ""
    bcc_self: bool = False
    trust: str = ""  # a PEM file of certificates to trust besides the system's (a private CA)

    def checked(self) -> MailSettings:
        host = check_host(check_text(self.host, "the SMTP host", limit=253))
        if self.security not in SECURITIES:
            raise BadInput(f"the SMTP security is one of {', '.join(SECURITIES)}, not {self.security!r}")
        if self.security == "none" and host != PLAIN_HOST:
            raise BadInput(f"security `none` sends the password and the message in clear: only to {PLAIN_HOST}"
                           " (a local relay); use starttls or ssl")
        if not (type(self.port) is int and 1 <= self.port <= 65535):
            raise BadInput(f"an SMTP port is 1 to 65535, not {self.port!r}")
        if not self.from_address:
            raise BadInput("the From address is empty")
        user = check_text(self.user, "the SMTP user", required=False, limit=300)
        if not user.isascii():  # SMTP's login takes ASCII alone (RFC 4954's PLAIN and LOGIN as smtplib sends them)
            raise BadInput(f"an SMTP login is in ASCII letters: {user!r}")
        # as checked: a value typed with a trailing line break is kept without it, not as typed
        return replace(self, host=host, from_address=check_email(self.from_address), user=user,
                       from_name=check_text(self.from_name, "the From name", required=False, limit=200))

    @property
    def sender(self) -> str:
        return self.from_address

    @property
    def account(self) -> str:
        """The keyring's user name for this login: USER@HOST."""
        return f"{self.user}@{self.host}"

    @classmethod
    def from_identity(cls, identity: Mapping[str, str]) -> MailSettings:
        """The settings `tratos identity mail` saved; refused (exit 1) when there are none yet."""
        if not identity.get(KEYS["host"]):
            raise Refused("no mail settings yet: run `tratos identity mail --host HOST --user USER` first")
        security = identity.get(KEYS["security"], "starttls")
        text = identity.get(KEYS["port"], "")  # checked as identity.json is read (cli/identity_fields.py)
        port = int(text) if text.isascii() and text.isdigit() and len(text) <= 5 else DEFAULT_PORTS.get(security, 0)
        return cls(host=identity[KEYS["host"]], port=port, security=security,
                   user=identity.get(KEYS["user"], ""),
                   from_address=identity.get(KEYS["from_address"]) or identity.get("email", ""),
                   from_name=identity.get(KEYS["from_name"]) or identity.get("name", ""),
                   bcc_self=identity.get(KEYS["bcc_self"]) == "yes", trust=identity.get(KEYS["trust"], "")).checked()

    def as_identity(self) -> dict[str, str]:
        return {KEYS["host"]: self.host, KEYS["port"]: str(self.port), KEYS["security"]: self.security,
                KEYS["user"]: self.user, KEYS["from_address"]: self.from_address,
                KEYS["from_name"]: self.from_name, KEYS["bcc_self"]: "yes" if self.bcc_self else "no",
                KEYS["trust"]: self.trust}


def smtp_password(settings: MailSettings, env: Mapping[str, str] | None = None) -> str | None:
    """The login password: $TRATOS_SMTP_PASSWORD, else the system keyring's; None without a user.

    Refused with the way to give it when there is a user and no password anywhere.
    """
    if not settings.user:
        return None
    env = os.environ if env is None else env
    password = env.get(PASSWORD_ENV)
    if password:
        return password
    password = _keyring_password(settings)
    if password:
        return password
    raise Refused(f"no SMTP password for {settings.account}: set {PASSWORD_ENV}, or keep it in the system"
                  f" keyring with `keyring set {KEYRING_SERVICE} {settings.account}`")


def _keyring_password(settings: MailSettings) -> str | None:
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:  # pragma: no cover - a runtime dependency
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, settings.account)
    except (KeyringError, RuntimeError, OSError):  # no keyring on this machine (a server, a container)
        return None


def _tls_context(settings: MailSettings) -> ssl.SSLContext:
    if not settings.trust:
        return _context_trusting(None)
    from domain.adapters.certificates import as_pem, certificates_file

    try:  # read as when it was set (a regular file of certificates), PEM or DER alike: every time
        certificates = certificates_file(settings.trust, "the certificates file to trust")
        return _context_trusting(as_pem(certificates))
    except BadInput as error:  # changed since `tratos identity mail --trust` read it
        raise SendFailed(f"{error}; nothing was sent") from None
    except ssl.SSLError as error:
        raise SendFailed(f"cannot use the certificates to trust in {settings.trust}: {error};"
                         " nothing was sent") from None


@functools.lru_cache(maxsize=8)
def _context_trusting(cadata: str | None) -> ssl.SSLContext:
    """The system's certificates and `cadata`'s, made once a process for each certificates text:
    loading the system's store costs tens of milliseconds, and `follow-up` sends one message a
    step. A context is not changed by the connections that use it."""
    context = ssl.create_default_context()
    if cadata:
        context.load_verify_locations(cadata=cadata)
    return context


def deliver(settings: MailSettings, password: str | None, recipients: Sequence[str], content: bytes) -> str:
    """Send `content` (the exact bytes of the message) to `recipients`; returns the server's reply to it.

    Every recipient must be accepted before the message is given: one refused, and the
    transaction is reset and nothing is sent. The reply to the message (after its body) is the
    verdict (RFC 5321 4.1.1.4): a refusal there sent nothing, and the reply to QUIT after an
    accepted message (a 421 closing) takes nothing back.
    """
    where = f"{settings.host}:{settings.port}"
    for address in (settings.sender, *recipients):  # one recorded before addresses were held to ASCII (ADR-80)
        if not address.isascii():
            raise SendFailed(f"{address!r} is not in ASCII letters, which an SMTP server takes: write the address"
                             " in ASCII; nothing was sent")
    if password is not None and not password.isascii():
        raise SendFailed(f"the SMTP password of {settings.account} holds letters outside ASCII, which an SMTP login"
                         " does not take: change it with your mail provider; nothing was sent")
    try:
        server = _connect(settings)
        try:
            return _transaction(server, settings, password, recipients, content, where)
        finally:
            with suppress(smtplib.SMTPException, OSError):
                server.quit()
            server.close()
    except SendFailed:
        raise
    except smtplib.SMTPDataError as refused:
        raise SendFailed(f"the SMTP server {where} refused the message: {_said(refused.smtp_code, refused.smtp_error)};"
                         " nothing was sent") from None
    except smtplib.SMTPNotSupportedError:
        raise SendFailed(f"the SMTP server {where} offers no {_need(settings)}; nothing was sent") from None
    except smtplib.SMTPResponseException as refused:
        raise SendFailed(f"the SMTP server {where} answered {_said(refused.smtp_code, refused.smtp_error)};"
                         " nothing was sent") from None
    except ssl.SSLError as error:
        raise SendFailed(f"no secure connection to the SMTP server {where}: {error.reason or error};"
                         " nothing was sent") from None
    except smtplib.SMTPException as error:
        raise SendFailed(f"the SMTP server {where} failed: {error}; nothing was sent") from None
    except OSError as error:
        raise SendFailed(f"cannot reach the SMTP server {where}: {error.strerror or error}; nothing was sent") from None


def _transaction(server: smtplib.SMTP, settings: MailSettings, password: str | None, recipients: Sequence[str],
                 content: bytes, where: str) -> str:
    """One mail transaction on an open connection: the server's reply to the message, if it took it."""
    server.ehlo()
    if settings.security == "starttls":
        server.starttls(context=_tls_context(settings))
        server.ehlo()
    if settings.user:
        try:
            server.login(settings.user, password or "")
        except smtplib.SMTPAuthenticationError as refused:
            raise SendFailed(f"the SMTP server {where} refused the login of {settings.user}:"
                             f" {_said(refused.smtp_code, refused.smtp_error)}; nothing was sent") from None
    code, said = server.mail(settings.sender)
    if code >= 400:
        raise SendFailed(f"the SMTP server {where} refused the sender {settings.sender}:"
                         f" {_said(code, said)}; nothing was sent")
    for recipient in recipients:
        code, said = server.rcpt(recipient)
        if code >= 400:
            server.rset()
            raise SendFailed(f"the SMTP server {where} refused the recipient {recipient}:"
                             f" {_said(code, said)}; nothing was sent")
    code, said = server.data(content)
    if code >= 400:
        raise SendFailed(f"the SMTP server {where} refused the message: {_said(code, said)}; nothing was sent")
    return _said(code, said)


def _connect(settings: MailSettings) -> smtplib.SMTP:
    if settings.security == "ssl":
        return smtplib.SMTP_SSL(settings.host, settings.port, timeout=TIMEOUT, context=_tls_context(settings))
    return smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT)


def _need(settings: MailSettings) -> str:
    return "STARTTLS" if settings.security == "starttls" else "login (AUTH)"


def _said(code: int, text: bytes | str) -> str:
    """A server's reply as one line: `550 5.1.1 <x>: Recipient address rejected`."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(f"{code} {text}".split())
