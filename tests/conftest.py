"""Shared fixtures: every store test gets a fresh store of its own, on each backend.

`backend` is parametrised over `sqlite` and `postgres`; every test that uses
`store`, `home`, `make_app`, `app` or `store_env` runs once per backend.

- sqlite: a store folder under the test's tmp_path.
- postgres: the server at $TRATOS_TEST_DATABASE_URL (default
  postgresql://postgres@127.0.0.1:5432/test) with a fresh schema of random
  name, created before the test and dropped after it. If the server cannot be
  reached, postgres tests are skipped with a message saying how to start it,
  or fail with that message when CI=true.

`make_app()` opens another Application instance on the same store, as a second
process would. During a test, $TRATOS_HOME and $TRATOS_DATABASE_URL point at
the test's store (unset for sqlite), so in-process CLI runs and child
processes that inherit the environment use it too; `store_env` is a full
environment for `subprocess` and `store` (a picklable `StoreSpec`) can be
handed to multiprocessing children.

At the end of the run one summary line per backend is printed
(`sqlite: 40 passed` / `postgres: 40 passed`): every test parametrised over
`backend` (whatever fixture scope it has in its module), plus tests that need the
server alone (`postgres_server`) or a SQLite store alone (`sqlite_store`). Tests
that touch no store (domain rules, signing, help texts) are in neither line.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from backends import BACKENDS, START_POSTGRES, StoreSpec, server_url, with_schema

from domain.services.application import Tratos

# ------------------------------------------------------------------ time-stamping authority


@pytest.fixture(scope="session")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real RFC 3161 time-stamping authority on 127.0.0.1 (certomancer, tests/tsa.py), for the run."""
    from tsa import TimeStampingAuthority

    authority = TimeStampingAuthority.start(tmp_path_factory.mktemp("tsa"))
    yield authority
    authority.stop()


@pytest.fixture
def own_tsa(tmp_path: Path) -> Iterator[Any]:
    """A TSA of this test's own, which the test may stop (`own_tsa.stop()`) to take it down."""
    from tsa import TimeStampingAuthority

    authority = TimeStampingAuthority.start(tmp_path / "own-tsa")
    yield authority
    authority.stop()


# ------------------------------------------------------------------ server


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The URL of a reachable test server, or skip (fail under CI=true) saying how to start one."""
    url = server_url()
    problem = _server_problem(url)
    if problem:
        message = (f"PostgreSQL test server not reachable at {_redacted(url)} ({problem}); "
                   f"start it with `{START_POSTGRES}` or point TRATOS_TEST_DATABASE_URL at one")
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return url


def _connect(url: str):
    import psycopg

    from domain.adapters.storage import PostgresLocation

    location = PostgresLocation.parse(url)
    return psycopg.connect(**location.connect_kwargs(), connect_timeout=3, autocommit=True)


def _server_problem(url: str) -> str:
    try:
        with _connect(url) as connection:
            connection.execute("SELECT 1")
    except Exception as error:  # noqa: BLE001 - any reason is reported
        from domain.adapters.storage import reason_of

        return reason_of(error)
    return ""


def _redacted(url: str) -> str:
    from domain.adapters.storage import redact

    return redact(url)


# ------------------------------------------------------------------ stores


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@contextmanager
def new_store(backend: str, home: Path, server: str | None = None) -> Iterator[StoreSpec]:
    """A fresh, empty store at `home` (sqlite) or in a new schema of `server` (postgres),
    dropped on exit. Fixtures of any scope build their stores with it."""
    if backend == "sqlite":
        yield StoreSpec("sqlite", str(home))
        return
    server = server or server_url()
    schema = f"tratos_test_{uuid.uuid4().hex[:16]}"
    with _connect(server) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield StoreSpec("postgres", str(home), with_schema(server, schema))
    finally:
        with _connect(server) as connection:
            connection.execute("SET lock_timeout = '20s'")
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def store(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
          request: pytest.FixtureRequest) -> Iterator[StoreSpec]:
    """Where this test's store lives; also exported as $TRATOS_HOME / $TRATOS_DATABASE_URL."""
    home = tmp_path / "store"
    monkeypatch.setenv("TRATOS_HOME", str(home))
    server = request.getfixturevalue("postgres_server") if backend == "postgres" else None
    with new_store(backend, home, server) as spec:
        if spec.database_url:
            monkeypatch.setenv("TRATOS_DATABASE_URL", spec.database_url)
        else:
            monkeypatch.delenv("TRATOS_DATABASE_URL", raising=False)
        yield spec


@pytest.fixture
def empty_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[StoreSpec]:
    """Another empty store of the test's backend (to import into), dropped after the test."""
    server = request.getfixturevalue("postgres_server") if backend == "postgres" else None
    with new_store(backend, tmp_path / "empty-store", server) as spec:
        yield spec


@pytest.fixture(scope="module")
def module_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str, str], StoreSpec]]:
    """module_store(backend, name) -> a store kept for the whole module (made on first use):
    for templates that tests copy (`backends.copy_store`) or share read-only. Ask for it from a
    function-scoped fixture that also uses `store`, so that postgres skips (or fails under CI)
    with the usual message when the server is not there."""
    made: dict[tuple[str, str], StoreSpec] = {}
    with ExitStack() as stack:
        def make(backend: str, name: str) -> StoreSpec:
            if (backend, name) not in made:
                home = tmp_path_factory.mktemp(f"{name}-{backend}") / "tratos"
                made[backend, name] = stack.enter_context(new_store(backend, home))
            return made[backend, name]

        yield make


@pytest.fixture
def home(store: StoreSpec) -> Path:
    return Path(store.home)


@pytest.fixture
def store_env(store: StoreSpec) -> dict[str, str]:
    """A full environment for a subprocess (the real `tratos` script) on this test's store."""
    return store.env()


@pytest.fixture
def make_app(store: StoreSpec, home: Path) -> Iterator[Callable[[], Tratos]]:
    opened: list[Tratos] = []

    def make() -> Tratos:
        app = store.open()
        opened.append(app)
        return app

    yield make
    for app in opened:
        app.close()


@pytest.fixture
def app(make_app: Callable[[], Tratos]) -> Tratos:
    return make_app()


# ----------------------------------------------------- summary per backend

_BACKEND_OF: dict[str, str] = {}
_OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("backend") in BACKENDS:
            _BACKEND_OF[item.nodeid] = callspec.params["backend"]
        elif "postgres_server" in getattr(item, "fixturenames", ()):
            _BACKEND_OF[item.nodeid] = "postgres"  # needs the server, without a sqlite twin
        elif "sqlite_store" in getattr(item, "fixturenames", ()):
            _BACKEND_OF[item.nodeid] = "sqlite"  # a SQLite-only case (file contents, WAL)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # noqa: ANN201
    """The backend travels with the report: under pytest-xdist the summary is written by a process
    that collected nothing (ADR-55)."""
    outcome = yield
    backend = _BACKEND_OF.get(item.nodeid)
    if backend is not None:
        outcome.get_result().user_properties.append(("backend", backend))


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    counts = {backend: Counter() for backend in BACKENDS}
    skip_reason: dict[str, str] = {}
    for outcome in _OUTCOMES:
        for report in terminalreporter.stats.get(outcome, ()):
            backend = dict(getattr(report, "user_properties", ())).get("backend")
            if backend is None:
                continue
            counts[backend][outcome] += 1
            if outcome == "skipped" and isinstance(report.longrepr, tuple):
                skip_reason.setdefault(backend, str(report.longrepr[2]))
    if not any(counts.values()):
        return
    for backend in BACKENDS:
        tally = counts[backend]
        parts = [f"{tally[o]} {o}" for o in _OUTCOMES if tally[o] or o == "passed"]
        line = f"{backend}: {', '.join(parts)}"
        if tally["skipped"] and not tally["passed"] and backend in skip_reason:
            line += f" ({skip_reason[backend]})"
        terminalreporter.write_line(line)
