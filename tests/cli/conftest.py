"""Fixtures of the CLI tests: a private store per test, on each backend, and templates built once.

`cli_home` is an empty tratos home whose store is this test's `store`: a
SQLite file in it, or a fresh PostgreSQL schema (`cli_support.use_database`),
so every test that uses it (or `in_force`) runs once per backend.

Templates (`template(backend, name, steps)`) are recorded once per module and
backend, through the CLI (or by a function of the home folder and the store);
each test gets a private copy (`cli_support.copied`): the folder on sqlite, the
folder and the stored events on postgres.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from backends import StoreSpec
from cli_support import IN_FORCE, copied, given, open_store, use_database

Steps = list[tuple[str, ...]] | Callable[[Path, StoreSpec], object]
Template = Callable[[str, str, Steps], StoreSpec]


@pytest.fixture
def cli_home(store: StoreSpec) -> Iterator[Path]:
    """An empty tratos home for one test, its store on this test's backend."""
    with use_database(Path(store.home), store.database_url) as home:
        yield home


@pytest.fixture(scope="module")
def template(module_store: Callable[[str, str], StoreSpec]) -> Template:
    """template(backend, name, steps) -> a store with `steps` recorded once per module: CLI
    argument lists, or a function given the home folder and the store."""
    recorded: set[tuple[str, str]] = set()

    def make(backend: str, name: str, steps: Steps) -> StoreSpec:
        spec = module_store(backend, name)
        if (backend, name) not in recorded:
            with use_database(Path(spec.home), spec.database_url) as home:
                if callable(steps):
                    steps(home, spec)
                else:
                    given(home, steps)
            recorded.add((backend, name))
        return spec

    return make


@pytest.fixture
def in_force(template: Template, store: StoreSpec) -> Iterator[Path]:
    """acme with terms and a contract signed by both: a private copy for one test, on its backend."""
    with copied(template(store.backend, "in-force", IN_FORCE), store) as home:
        yield home


@pytest.fixture
def read_back() -> Iterator:
    """read_back(home, handle) -> the Relationship as a new process would load it from the store."""
    apps = []

    def load(home: Path, handle: str = "acme"):
        app = open_store(home)
        apps.append(app)
        return app.relationship(handle)

    yield load
    for app in apps:
        app.close()


@pytest.fixture(scope="module")
def smtp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator:  # -> mail_server.MailServer
    """A real SMTP server on 127.0.0.1 (STARTTLS, AUTH) for one test file's tests."""
    from mail_server import MailServer

    running = MailServer(tmp_path_factory.mktemp("smtp")).start()
    yield running
    running.stop()


@pytest.fixture
def smtp(smtp_server):  # noqa: ANN001, ANN201
    """The server, with nothing received yet and a reply of its own for this test."""
    import secrets

    smtp_server.handler.received.clear()
    smtp_server.handler.refuse.clear()
    smtp_server.handler.reply = f"250 2.0.0 Ok: queued as Q{secrets.token_hex(6).upper()}"
    return smtp_server
