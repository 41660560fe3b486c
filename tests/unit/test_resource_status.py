"""Status transitions and time-ordered position/status updates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from resources.errors import Conflict, ValidationError
from resources.model import Home, Resource
from resources.status import TRANSITIONS, apply_position, apply_status, can_transition
from resources.vocabulary import STATUSES

T = datetime(2024, 5, 1, 8, tzinfo=UTC)
R = Resource(id="a", name="A", call_sign=None, kind="land_team", tier=None, agency=None,
             capabilities=(), crew=0, capacity=0, speed_kmh=50.0, readiness_s=600.0,
             range_km=None, home=Home(None, 28.0, 120.6), lat=28.1, lon=120.7,
             position_time=T, status="available", area="330302", status_time=T)


def test_transition_table() -> None:
    assert set(TRANSITIONS) == set(STATUSES)
    assert all(t <= set(STATUSES) for t in TRANSITIONS.values())
    assert can_transition("out_of_service", "available")
    assert not can_transition("returning", "on_scene")
    assert not can_transition("out_of_service", "en_route")
    assert can_transition("available", "assigned") and can_transition("assigned", "en_route")
    assert can_transition("en_route", "on_scene") and can_transition("on_scene", "returning")
    assert can_transition("returning", "available") and can_transition("on_scene", "on_scene")


def test_newer_position_applies_older_is_ignored() -> None:
    r, applied = apply_position(R, 28.2, 120.8, T + timedelta(seconds=5))
    assert applied and (r.lat, r.lon, r.position_time) == (28.2, 120.8, T + timedelta(seconds=5))
    same, applied = apply_position(r, 27.0, 120.0, T + timedelta(seconds=1))
    assert not applied and same is r
    same, applied = apply_position(r, 28.2, 120.8, T + timedelta(seconds=5))
    assert not applied and same is r  # a resend
    with pytest.raises(ValidationError):
        apply_position(R, 95, 120, T + timedelta(seconds=9))
    with pytest.raises(ValidationError):
        apply_position(R, 28, 120, datetime(2024, 5, 1, 9))  # naive time


def test_status_updates_are_ordered_and_checked() -> None:
    r, applied = apply_status(R, "assigned", T + timedelta(seconds=1))
    assert applied and r.status == "assigned" and r.status_time == T + timedelta(seconds=1)
    old, applied = apply_status(r, "out_of_service", T)
    assert not applied and old is r
    with pytest.raises(Conflict) as e:
        apply_status(r, "returning", T + timedelta(seconds=2))
    assert e.value.code == "illegal_transition"
    with pytest.raises(ValidationError):
        apply_status(r, "sleeping", T + timedelta(seconds=2))
    same, applied = apply_status(r, "assigned", T + timedelta(seconds=3))
    assert not applied and same is r
