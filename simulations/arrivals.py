"""When and where incidents happen: scripted ones as written, generated ones drawn from the
scenario's seed alone (a non-homogeneous Poisson process by thinning, points uniform in the
generator's area on the right surface: sea categories on the water, the rest on land)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

from geo.areas import AreaIndex
from simulations.scenario import SEA_CATEGORIES, Generator, Profile, Scenario, ScenarioError

MAX_PLACEMENT_TRIES = 200


@dataclass(frozen=True)
class Arrival:
    at_s: float
    category: str
    severity: str
    lat: float
    lon: float
    title: str | None
    persons_at_risk: int
    source: str  # "incidents[i]" or "generators[i]"
    areas: tuple[str, ...]  # the point's area chain (for the weather over it)


def weight(profile: Profile, t: float, start_hour: float) -> float:
    """The relative rate at scenario time t (mean 1 over a day for hourly profiles)."""
    if profile.kind == "hourly":
        hour = int((start_hour + t / 3600) % 24)
        w = profile.hourly
        return w[hour] * 24 / sum(w)
    if profile.kind == "peak":
        z = (t - profile.peak_at_s) / profile.spread_s
        return math.exp(-0.5 * z * z)
    return 1.0


def _peak_norm(g: Generator) -> float:
    """For a bell, the mean weight over the generator's window (so its rate is the mean)."""
    p = g.profile
    ts = np.linspace(g.start_s, g.end_s, 512)
    z = (ts - p.peak_at_s) / p.spread_s
    return float(np.mean(np.exp(-0.5 * z * z))) or 1e-9


def arrivals(sc: Scenario, areas: AreaIndex) -> list[Arrival]:
    """Every incident of the run, in time order (ties: scripted first, then by generator)."""
    rng_root = np.random.SeedSequence(sc.seed)
    streams = rng_root.spawn(len(sc.generators) + 1)
    out: list[tuple[float, int, int, Arrival]] = []
    scripted_rng = np.random.default_rng(streams[-1])
    for i, s in enumerate(sc.incidents):
        where = f"incidents[{i}]"
        if s.lat is not None and s.lon is not None:
            lat, lon = s.lat, s.lon
            chain = _chain(areas, lat, lon)
        else:
            assert s.area is not None
            lat, lon, chain = place(areas, s.area, s.category, scripted_rng, None, where)
        out.append((s.at_s, 0, i, Arrival(s.at_s, s.category, s.severity, lat, lon, s.title,
                                          s.persons_at_risk, where, chain)))
    start_hour = sc.start.hour + sc.start.minute / 60  # local time of the scenario's zone
    for gi, g in enumerate(sc.generators):
        rng = np.random.default_rng(streams[gi])
        where = f"generators[{gi}]"
        norm = _peak_norm(g) if g.profile.kind == "peak" else 1.0
        w_max = (max(g.profile.hourly) * 24 / sum(g.profile.hourly)
                 if g.profile.kind == "hourly" else 1.0) / norm
        lam_max = g.rate_per_hour / 3600 * w_max
        if lam_max <= 0:
            continue
        t = g.start_s
        end = min(g.end_s, sc.duration_s)
        cats, probs = zip(*g.severity, strict=True)
        n = 0
        while True:
            t += float(rng.exponential(1 / lam_max))
            if t >= end:
                break
            if rng.random() * w_max > weight(g.profile, t, start_hour) / norm:
                continue
            severity = str(rng.choice(cats, p=probs))
            lo, hi = g.persons_at_risk
            persons = int(rng.integers(lo, hi + 1)) if hi > 0 else 0
            lat, lon, chain = place(areas, g.area, g.category, rng, g.box, where)
            out.append((t, 1 + gi, n, Arrival(round(t, 3), g.category, severity, lat, lon, None,
                                               persons, where, chain)))
            n += 1
    out.sort(key=lambda x: (x[0], x[1], x[2]))
    return [a for *_, a in out]


def _chain(areas: AreaIndex, lat: float, lon: float) -> tuple[str, ...]:
    try:
        return tuple(a.code for a in areas.locate(lat, lon).chain)
    except ValueError:  # outside coverage: report_incident refuses it, naming the point
        return ()


def place(areas: AreaIndex, code: str, category: str, rng: np.random.Generator,
          box: tuple[float, float, float, float] | None, where: str
          ) -> tuple[float, float, tuple[str, ...]]:
    """A uniform point in the area (and box) on the surface the category needs."""
    geom = areas.geometry(code)
    if geom is None:
        raise ScenarioError(None, f"{where}.area", f"no area {code!r} in this geography")
    lon0, lat0, lon1, lat1 = geom.bounds
    if box is not None:
        lat0, lon0 = max(lat0, box[0]), max(lon0, box[1])
        lat1, lon1 = min(lat1, box[2]), min(lon1, box[3])
    want = "sea" if category in SEA_CATEGORIES else "land"
    for _ in range(MAX_PLACEMENT_TRIES):
        lon = float(rng.uniform(lon0, lon1))
        lat = float(rng.uniform(lat0, lat1))
        if not shapely.contains_xy(geom, lon, lat):
            continue
        try:
            loc = areas.locate(lat, lon)
        except ValueError:
            continue
        if loc.surface == want:
            return round(lat, 5), round(lon, 5), tuple(a.code for a in loc.chain)
    raise ScenarioError(None, f"{where}.area",
                        f"found no {want} point in {code} for {category}")
