"""Shared fixtures: every store test gets a fresh store of its own.

`make_app` opens Application instances on one store, as separate processes
would; the backend is SQLite in a temporary folder (PostgreSQL joins through
the `backend` parameter once it lands).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from domain.application import Tratos


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def make_app(home: Path) -> Iterator[Callable[[], Tratos]]:
    opened: list[Tratos] = []

    def make() -> Tratos:
        app = Tratos(home=home)
        opened.append(app)
        return app

    yield make
    for app in opened:
        app.close()


@pytest.fixture
def app(make_app: Callable[[], Tratos]) -> Tratos:
    return make_app()
