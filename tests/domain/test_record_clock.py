"""When a billing record says it was generated: TRATOS_NOW pins it, a pinned day gives its noon,
else the machine's clock, always with Spain's offset (FechaHoraHusoGenRegistro)."""

from datetime import datetime

import pytest

from domain.adapters.clock import record_moment
from domain.model.errors import BadInput
from domain.model.fingerprints import record_time


def test_tratos_now_pins_the_time_with_its_offset(monkeypatch):
    monkeypatch.setenv("TRATOS_NOW", "2026-01-15T10:30:00+01:00")
    assert record_time(record_moment()) == "2026-01-15T10:30:00+01:00"


def test_a_pinned_day_is_generated_at_its_noon_in_madrid(monkeypatch):
    monkeypatch.delenv("TRATOS_NOW", raising=False)
    monkeypatch.setenv("TRATOS_TODAY", "2026-07-01")
    assert record_time(record_moment()) == "2026-07-01T12:00:00+02:00"  # summer time
    monkeypatch.setenv("TRATOS_TODAY", "2026-01-15")
    assert record_time(record_moment()) == "2026-01-15T12:00:00+01:00"


def test_the_machines_clock_says_its_zone(monkeypatch):
    monkeypatch.delenv("TRATOS_NOW", raising=False)
    monkeypatch.delenv("TRATOS_TODAY", raising=False)
    moment = record_moment()
    assert moment.utcoffset() is not None and abs((moment - datetime.now(moment.tzinfo)).total_seconds()) < 60


@pytest.mark.parametrize("value", ["", "2026-01-15", "2026-01-15T10:30:00", "soon"])
def test_a_time_without_its_zone_is_bad_input(monkeypatch, value):
    monkeypatch.setenv("TRATOS_NOW", value)
    with pytest.raises(BadInput, match="TRATOS_NOW is not a time with its zone"):
        record_moment()
