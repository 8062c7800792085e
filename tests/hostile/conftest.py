"""What the hostile-input tests share: the CLI tests' helpers, and an empty home on each backend."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))  # cli_support, shared with tests/cli

from cli_support import use_database  # noqa: E402


@pytest.fixture
def cli_home(store) -> Iterator[Path]:
    """An empty tratos home for one test, its store on this test's backend (as tests/cli's)."""
    with use_database(Path(store.home), store.database_url) as home:
        yield home
