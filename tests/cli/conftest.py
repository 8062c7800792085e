"""Fixtures of the CLI tests: a private store folder per test, and a contract in force built once."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import IN_FORCE, given

from domain.application import Tratos


@pytest.fixture
def cli_home(tmp_path: Path) -> Path:
    """An empty tratos home for one test."""
    return tmp_path / "tratos"


@pytest.fixture(scope="module")
def in_force_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """acme with terms and a contract signed by both, recorded once per module through the CLI."""
    home = tmp_path_factory.mktemp("template") / "tratos"
    given(home, IN_FORCE)
    return home


@pytest.fixture
def in_force(in_force_template: Path, tmp_path: Path) -> Path:
    """A private copy of the in-force store for one test."""
    home = tmp_path / "tratos"
    shutil.copytree(in_force_template, home)
    return home


@pytest.fixture
def read_back() -> Iterator:
    """read_back(home, handle) -> the Relationship as a new process would load it from the store."""
    apps: list[Tratos] = []

    def load(home: Path, handle: str = "acme"):
        app = Tratos(home=home)
        apps.append(app)
        return app.relationship(handle)

    yield load
    for app in apps:
        app.close()
