"""The days by which something must be done, read by the calendar and the status alike.

Imports nothing but the calendar: the read side calls it without building a pydantic model.
"""

from __future__ import annotations

from datetime import date

from domain.model.calendar import days_after


def answer_by(reported_on: date, response_days: int) -> date:
    """The last day to acknowledge a reported mistake: the terms' response time after the report
    (acknowledging later is warned of, `Relationship.acknowledge_mistake`)."""
    return days_after(reported_on, response_days)
