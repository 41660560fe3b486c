"""How units move in a simulation: a leg is a polyline travelled at constant pace over a time
window, so a position is a lookup, not a process per unit.

Routes follow the travel mode the dispatcher used: sea legs the sea graph's route around the
islands, air legs the great circle, land legs the straight line travelled in the time the
dispatcher computed with its detour factor (roads, when imported, only change that time).
"""

from __future__ import annotations

import bisect
import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from geo.distance import haversine_km


@dataclass(frozen=True)
class Leg:
    coords: tuple[tuple[float, float], ...]  # (lat, lon)
    cum_km: tuple[float, ...]  # cumulative length at each vertex
    t0: float
    t1: float

    @classmethod
    def along(cls, coords: list[tuple[float, float]], t0: float, t1: float) -> Leg:
        if len(coords) == 1:  # turned back where it started
            coords = [coords[0], coords[0]]
        lat = np.array([c[0] for c in coords])
        lon = np.array([c[1] for c in coords])
        seg = np.atleast_1d(haversine_km(lat[:-1], lon[:-1], lat[1:], lon[1:]))
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        return cls(tuple((float(a), float(b)) for a, b in coords),
                   tuple(float(x) for x in cum), t0, max(t1, t0))

    @property
    def km(self) -> float:
        return self.cum_km[-1]

    @property
    def end(self) -> tuple[float, float]:
        return self.coords[-1]

    def fraction(self, t: float) -> float:
        if self.t1 <= self.t0:
            return 1.0
        return min(max((t - self.t0) / (self.t1 - self.t0), 0.0), 1.0)

    def at(self, t: float) -> tuple[float, float, float]:
        """(lat, lon, heading in degrees) at time t."""
        target = self.fraction(t) * self.km
        cum = self.cum_km
        # the segment holding `target`: the first whose end is not before it (the last one
        # past the end)
        i = min(max(bisect.bisect_left(cum, target, 1) - 1, 0), len(cum) - 2)
        (la0, lo0), (la1, lo1) = self.coords[i], self.coords[i + 1]
        span = cum[i + 1] - cum[i]
        f = 0.0 if span <= 0 else (target - cum[i]) / span
        lat, lon = la0 + (la1 - la0) * f, lo0 + (lo1 - lo0) * f
        return round(lat, 6), round(lon, 6), self._headings[i]

    def at_tick(self, t: float, every: float) -> tuple[float, float, float]:
        """`at(t)`, for a reporter that asks at t, t + every, ... while the leg lasts: its
        first ask works out all of them in one vectorised pass (equal to `at` to the bit,
        tested), the others look theirs up. An ask off that grid is answered by `at`."""
        track = self._track
        got = track.get(t)
        if got is not None:
            return got
        if track:  # worked out already, from another moment
            return self.at(t)
        times = t + every * np.arange(max(int(np.ceil((self.t1 - t) / every)), 1))
        track.update(zip(times.tolist(), self._many(times), strict=True))
        return track[t]

    def _many(self, times: np.ndarray) -> list[tuple[float, float, float]]:
        """`at` of many moments: the same operations on arrays."""
        cum = np.asarray(self.cum_km)
        if self.t1 <= self.t0:
            frac = np.ones(len(times))
        else:
            frac = np.minimum(np.maximum((times - self.t0) / (self.t1 - self.t0), 0.0), 1.0)
        target = frac * self.km
        i = np.clip(np.searchsorted(cum[1:], target, "left"), 0, len(cum) - 2)
        span = cum[i + 1] - cum[i]
        f = np.divide(target - cum[i], span, out=np.zeros(len(times)), where=span > 0)
        pts = np.asarray(self.coords)
        (la0, lo0), (la1, lo1) = pts[i].T, pts[i + 1].T
        lat, lon = la0 + (la1 - la0) * f, lo0 + (lo1 - lo0) * f
        heads = self._headings
        return [(round(a, 6), round(b, 6), heads[k]) for a, b, k in
                zip(lat.tolist(), lon.tolist(), i.tolist(), strict=True)]

    @functools.cached_property
    def _track(self) -> dict[float, tuple[float, float, float]]:
        """`at_tick`'s answers by moment."""
        return {}

    @functools.cached_property
    def _headings(self) -> tuple[float, ...]:
        """Each segment's heading (a fix asks for it every minute of the leg)."""
        c = self.coords
        return tuple(bearing(*c[i], *c[i + 1]) for i in range(len(c) - 1))

    @functools.cached_property
    def speed_kmh(self) -> float:
        """Its pace (asked at every fix of the leg)."""
        hours = (self.t1 - self.t0) / 3600
        return round(self.km / hours, 1) if hours > 0 else 0.0

    def back(self, t: float, now: float) -> Leg:
        """The way back from where the unit is at `t` along this leg to the leg's start,
        taking as long as it took to get there."""
        lat, lon, _ = self.at(t)
        target = self.fraction(t) * self.km
        keep = [c for c, k in zip(self.coords, self.cum_km, strict=True) if k < target]
        coords = [(lat, lon), *reversed(keep)]
        return Leg.along(coords, now, now + max(t - self.t0, 0.0))


def bearing(lat0: float, lon0: float, lat1: float, lon1: float) -> float:
    y = math.sin(math.radians(lon1 - lon0)) * math.cos(math.radians(lat1))
    x = (math.cos(math.radians(lat0)) * math.sin(math.radians(lat1))
         - math.sin(math.radians(lat0)) * math.cos(math.radians(lat1))
         * math.cos(math.radians(lon1 - lon0)))
    return round((math.degrees(math.atan2(y, x)) + 360) % 360, 1)


def great_circle(a: tuple[float, float], b: tuple[float, float], steps: int = 16
                 ) -> list[tuple[float, float]]:
    """Points on the great circle from a to b (slerp of unit vectors)."""
    def vec(p: tuple[float, float]) -> np.ndarray:
        la, lo = math.radians(p[0]), math.radians(p[1])
        return np.array([math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)])

    va, vb = vec(a), vec(b)
    omega = math.acos(float(np.clip(va @ vb, -1.0, 1.0)))
    if omega < 1e-9:
        return [a, b]
    out = []
    for i in range(steps + 1):
        f = i / steps
        v = (math.sin((1 - f) * omega) * va + math.sin(f * omega) * vb) / math.sin(omega)
        out.append((math.degrees(math.asin(v[2])), math.degrees(math.atan2(v[1], v[0]))))
    return out


def route(mode: str, a: tuple[float, float], b: tuple[float, float], sea: Any
          ) -> list[tuple[float, float]]:
    """The path a unit of this travel mode follows from a to b."""
    if mode == "sea" and sea is not None:
        r = sea.route(a[0], a[1], b[0], b[1])
        if r is not None and len(r.coords) >= 2:
            return [a, *[(float(x), float(y)) for x, y in r.coords[1:-1]], b]
    if mode == "air":
        return great_circle(a, b)
    return [a, b]
