"""A real RFC 3161 time-stamping authority on 127.0.0.1, for the tests and the bench (certomancer).

`TimeStampingAuthority.start(folder)` makes a small test PKI (its keys are generated into
`folder`, its YAML is written beside them), serves certomancer's WSGI app with werkzeug on a
free port in a thread, and answers at `url`. Two architectures: `trusted` (root + TSA, whose
root `root_pem` the tests hand to `tratos identity tsa --trust`) and `rogue` (another root,
whose TSA the tests use to get tokens that must be reported untrusted). `stop()` shuts it down
and a later request fails as an unreachable TSA would.

Shared by several test folders: `from tsa import TimeStampingAuthority`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ARCHITECTURES = ("trusted", "rogue")

_CONFIG = """
external-url-prefix: "{prefix}"
keysets:
{keysets}
pki-architectures:
{architectures}
"""

_KEYSET = """
  {arch}:
    path-prefix: {folder}
    keys:
      root: {{path: {arch}-root.key.pem}}
      tsa: {{path: {arch}-tsa.key.pem}}
"""

_ARCHITECTURE = """
  {arch}:
    keyset: {arch}
    entity-defaults: {{country-name: ES, organization-name: "{organization}"}}
    entities:
      root: {{common-name: "{organization} Root CA"}}
      tsa: {{common-name: "{organization} Time Stamping"}}
    certs:
      root:
        subject: root
        issuer: root
        validity: {{valid-from: "2000-01-01T00:00:00+0000", valid-to: "2100-01-01T00:00:00+0000"}}
        extensions:
          - {{id: basic_constraints, critical: true, value: {{ca: true}}}}
          - id: key_usage
            critical: true
            smart-value: {{schema: key-usage, params: [digital_signature, key_cert_sign, crl_sign]}}
      tsa:
        issuer: root
        validity: {{valid-from: "2000-01-01T00:00:00+0000", valid-to: "2100-01-01T00:00:00+0000"}}
        extensions:
          - id: key_usage
            critical: true
            smart-value: {{schema: key-usage, params: [digital_signature]}}
          - {{id: extended_key_usage, critical: true, value: [time_stamping]}}
    services:
      time-stamping:
        tsa: {{signing-key: tsa, signing-cert: tsa}}
"""

_ORGANIZATIONS = {"trusted": "Tratos Test TSA", "rogue": "Rogue Test TSA"}


@dataclass
class TimeStampingAuthority:
    """A running certomancer animator; `url` is the trusted TSA, `rogue_url` the untrusted one."""

    base: str
    folder: Path
    server: Any = field(repr=False)
    thread: threading.Thread = field(repr=False)
    config: Any = field(repr=False)

    @property
    def url(self) -> str:
        return f"{self.base}/trusted/tsa/tsa"

    @property
    def rogue_url(self) -> str:
        return f"{self.base}/rogue/tsa/tsa"

    def root_pem(self, arch: str = "trusted") -> bytes:
        """The PEM of an architecture's root certificate (what `--trust` is given)."""
        from asn1crypto import pem

        cert = self.config.get_pki_arch(arch).get_cert("root")
        return pem.armor("CERTIFICATE", cert.dump())

    @property
    def busy(self) -> tuple[float, int]:
        """Seconds the authority spent answering, and how many answers, since it started."""
        return self.server.app.busy, self.server.app.answered

    def write_root(self, arch: str = "trusted") -> Path:
        path = self.folder / f"{arch}-root.pem"
        path.write_bytes(self.root_pem(arch))
        return path

    @classmethod
    def start(cls, folder: Path) -> TimeStampingAuthority:
        from certomancer.integrations.animator import Animator, AnimatorArchStore
        from certomancer.registry import CertomancerConfig
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log(self, *_args: Any) -> None:  # no request log on the test's stderr
                pass

        folder.mkdir(parents=True, exist_ok=True)
        for arch in ARCHITECTURES:
            for role in ("root", "tsa"):
                _write_key(folder / f"{arch}-{role}.key.pem")
        # the port is known only once bound: bind first, then tell certomancer its URL prefix
        server = make_server("127.0.0.1", 0, _Deferred(), threaded=True, request_handler=Quiet)
        base = f"http://127.0.0.1:{server.server_port}"
        text = _CONFIG.format(
            prefix=base,
            keysets="".join(_KEYSET.format(arch=a, folder=folder) for a in ARCHITECTURES),
            architectures="".join(_ARCHITECTURE.format(arch=a, organization=_ORGANIZATIONS[a])
                                  for a in ARCHITECTURES))
        (folder / "certomancer.yml").write_text(text)
        config = CertomancerConfig.from_yaml(text, key_search_dir=str(folder))
        server.app.target = Animator(AnimatorArchStore(config.pki_archs), with_web_ui=False)
        thread = threading.Thread(target=server.serve_forever, name="tsa", daemon=True)
        thread.start()
        return cls(base, folder, server, thread, config)

    def stop(self) -> None:
        """Shut the server down (again is fine): its port then refuses connections."""
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=5)


class _Deferred:
    """The WSGI app the server is bound with before certomancer's animator exists; it also adds up
    the time the authority spends making its answers (`busy`), which the bench takes out of the
    time of a timestamped signature: what is left is what tratos costs."""

    target: Any = None
    busy: float = 0.0
    answered: int = 0

    def __call__(self, environ: Any, start_response: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.target(environ, start_response)
        finally:
            self.busy += time.perf_counter() - started
            self.answered += 1


def _write_key(path: Path) -> None:
    if path.exists():
        return
    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
