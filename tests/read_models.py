"""Read models caught up incrementally, compared with a rebuild from scratch, row for row (SPEC §7).

`rebuilt(app)` projects `app`'s whole log into a private in-memory database and
returns every row of every read model (`ReadModels.dump()`); the read models a
store caught up incrementally must dump the very same rows. `catch_up(app)` does
what every command does before it reads: the read models and the stream heads of
the store caught up from where they stood.
"""

from __future__ import annotations

from typing import Any

from projections import ReadModels
from projections.heads import StreamHeads


def rebuilt(app: Any) -> dict:
    """The read models of `app`'s log, built from scratch in a private database."""
    with ReadModels.scratch(app) as scratch:
        scratch.catch_up()
        return scratch.dump()


def catch_up(app: Any) -> int:
    """Catch the store's read models and stream heads up, as a command does; returns the events applied."""
    with ReadModels(app) as models:
        applied = models.catch_up()
    heads = StreamHeads(app)
    try:
        heads.catch_up()
    finally:
        heads.close()
    return applied


def caught_up(app: Any) -> dict:
    """The store's own read models, caught up incrementally from where they stood: every row."""
    catch_up(app)
    with ReadModels(app) as models:
        return models.dump()
