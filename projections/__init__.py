"""Read models rebuilt from the event log: relationships, money, changes, mistakes, lessons, timeline.

`ReadModels(app)` is the whole public surface; see `projections/models.py`.
"""

from projections.models import ReadModels

__all__ = ["ReadModels"]
