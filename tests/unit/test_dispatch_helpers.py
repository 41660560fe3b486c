"""Shared builders for the dispatcher tests (no tests here): resources, a cached real
geography, and small fakes of the geography for model-only unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from types import SimpleNamespace

import numpy as np

from geo.distance import haversine_km
from resources.model import Home, Resource

NOW = datetime(2024, 7, 1, 8, 0, tzinfo=UTC)


def res(id: str, kind: str, caps, lat: float, lon: float, *, area: str = "330302",
        speed: float = 60.0, ready: float = 300.0, rng: float | None = None,
        age_s: float | None = 60.0, home: tuple[float, float] | None = None,
        status: str = "available", exercise: str | None = None) -> Resource:
    """A resource at (lat, lon) reported `age_s` ago (None: no position, at home)."""
    hlat, hlon = home if home is not None else (lat, lon)
    has_pos = age_s is not None
    return Resource(
        id=id, name=id, call_sign=None, kind=kind, tier=None, agency=None,
        capabilities=tuple(sorted(set(caps))), crew=4, capacity=4, speed_kmh=float(speed),
        readiness_s=float(ready), range_km=rng, home=Home("base", hlat, hlon),
        lat=lat if has_pos else None, lon=lon if has_pos else None,
        position_time=NOW - timedelta(seconds=age_s) if has_pos else None,
        status=status, area=area, exercise=exercise,
    )


@cache
def geography():
    """The real committed geography (loaded lazily, once per test session)."""
    from geo.geography import Geography

    return Geography.load()


def area(code: str, level: int, name: str | None = None):
    return SimpleNamespace(code=code, name=name or code, level=level)


def location(surface: str = "land", shore: bool = False, county: str = "330302"):
    chain = (area("33", 1), area("3303", 2), area(county, 3))
    maritime = area("3303M", 2) if surface == "sea" or shore else None
    return SimpleNamespace(surface=surface, shore=shore, chain=chain, maritime=maritime)


class FakeReach:
    """Mainland west of 121.0 E (component 0), one island east of it (1), sea north of 28.5 N."""

    def components(self, lats, lons):
        lats, lons = np.atleast_1d(lats), np.atleast_1d(lons)
        return np.where(lats > 28.5, -1, np.where(lons < 121.0, 0, 1))

    def component(self, lat, lon):
        c = int(self.components(lat, lon)[0])
        return None if c < 0 else c


class FakeField:
    def __init__(self, lat, lon, factor):
        self.lat, self.lon, self.factor = lat, lon, factor

    def km_to(self, lats, lons):
        d = np.atleast_1d(haversine_km(self.lat, self.lon, lats, lons)) * self.factor
        return np.where(np.atleast_1d(lons) < 120.5, np.inf, d)  # "inland" west of 120.5 E


class FakeSea:
    def __init__(self, factor: float = 1.3):
        self.factor = factor
        self.fields = 0

    def field_from(self, lat, lon):
        self.fields += 1
        return FakeField(lat, lon, self.factor)


class FakeAreas:
    """330302 neighbours 330303; 3303xx within 3303 within 33."""

    def is_within(self, code, scope):
        return code.startswith(scope)

    def neighbours(self, code):
        return frozenset({"330303"}) if code == "330302" else frozenset()


def fake_geography():
    return SimpleNamespace(reach=FakeReach(), sea=FakeSea(), areas=FakeAreas())
