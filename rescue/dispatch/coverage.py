"""Coverage: at every site of every target, the best ETA of the available live units that can
serve it, under the dispatcher's own travel model (rescue.dispatch.eta, DESIGN §5).

Pure domain: no Flask, no wall clock (`now` is passed in), no I/O besides the geography.

Why it is fast. The dispatcher asks "who reaches this point?"; coverage asks it of thousands of
points at once, so the question is turned round: one row per unit, its ETA to every site.
- air and land rows are numpy over the sites: great circle / speed + readiness (out and back
  within range), great circle x the site's detour factor / speed + readiness (same landmass
  class, linked islands included). Same functions, same inputs as the dispatcher: equal up to
  float rounding (numpy's vectorised sin/cos may differ from its scalar path in the last bit).
- sea rows take ONE bounded shortest-path search from the vessel over the sea graph (undirected,
  so distances from the vessel are distances to it) and `SeaField.km_to` for the sites within
  reach, cached per position: a vessel waiting in port is routed once per process. The route
  (snap legs + graph path, or the direct line over water) equals the dispatcher's, whose
  search starts at the site, up to float rounding; the dispatcher may then trim grid zigzag
  near the vessel by a line of sight up its search tree, which a search from the vessel cannot
  reproduce, so there coverage's route is longer (by up to ~1.5 % on the demo), never shorter:
  coverage never claims a cover the dispatcher would not give (see `_Untrimmed`).
- ETAs past the target's horizon are not worked out (the sea search stops there): such a site
  reports no ETA.

Incremental (`refresh`): a unit whose Resource object is not the one last seen (the index
replaces the object on every change), that disappeared, or whose fresh position has since gone
stale, gets its rows recomputed in the targets whose capability it has (had); only those
targets re-take their minimum. Units that cannot serve (busy, out of service, exercise units)
have no row, so a busy unit's position reports cost nothing. Everything else is kept.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from geo.distance import haversine_km
from geo.seagraph import SeaField
from geo.travel import air_eta_s, air_in_range, land_eta_s, sea_eta_s
from rescue.dispatch.coverage_grid import Grid, Sites
from rescue.dispatch.coverage_targets import CoverageConfig, CoverageTarget
from rescue.dispatch.eta import eta_seconds
from rescue.dispatch.policy import DispatchPolicy

SEA_CACHE_MAX = 1024  # positions x targets kept (each a float per site: ~25 MB when full)


@dataclass(frozen=True)
class Unit:
    """A resource as coverage sees it at one moment: where the model places it (a fresh
    position, else its home base) and until when that holds (`stale_at`, epoch seconds)."""

    id: str
    kind: str
    mode: str
    caps: frozenset[str]
    speed_kmh: float
    readiness_s: float
    range_km: float  # nan: unlimited
    lat: float
    lon: float
    area: str
    name: str
    eligible: bool  # available, live, and placed (a stale position with the fallback allowed)
    home: tuple[float, float] = (math.nan, math.nan)
    stale_at: float = math.inf


def unit_view(r: Any, now_s: float, policy: DispatchPolicy,
              kind_modes: Mapping[str, str]) -> Unit:
    """The index's position rule (resources.spatial): fresh within max age, else home."""
    pt = r.position_time.timestamp() if r.position_time is not None else math.nan
    fresh = r.lat is not None and r.lon is not None and now_s - pt <= policy.max_position_age_s
    stale = not fresh and r.lat is not None
    lat, lon = (r.lat, r.lon) if fresh else (r.home.lat, r.home.lon)
    eligible = (r.status == "available" and r.exercise is None
                and (not stale or policy.stale_fallback))
    return Unit(r.id, r.kind, kind_modes.get(r.kind, ""), frozenset(r.capabilities),
                float(r.speed_kmh), float(r.readiness_s),
                math.nan if r.range_km is None else float(r.range_km), float(lat), float(lon),
                r.area, r.name, eligible, (float(r.home.lat), float(r.home.lon)),
                pt + policy.max_position_age_s if fresh else math.inf)


def serves(u: Unit, t: CoverageTarget) -> bool:
    return u.eligible and t.capability in u.caps and u.mode in t.modes


class _Untrimmed(SeaField):
    """`SeaField.km_to` without its line-of-sight trim at the target's end.

    Why: the dispatcher searches from the incident (here: the site) and trims the zigzag at the
    vessel's end; searching from the vessel, the same trim would shorten the site's end, which
    the dispatcher never does. Untrimmed, the route is the dispatcher's graph route and direct
    line (symmetric) without its trim: equal to its length up to float rounding where that
    trim finds nothing, else longer, never shorter. Coverage thus never claims a cover that
    the dispatcher would not give."""

    def _shortcut(self, km: np.ndarray, best: np.ndarray, qx: np.ndarray, qy: np.ndarray,
                  pre: np.ndarray) -> None:
        return None


class Distances:
    """Distances from a position to a target's sites, cached per (position, target): sea
    route km (bounded), great-circle km, and the position's land reachability class."""

    def __init__(self, geography: Any, policy: DispatchPolicy) -> None:
        self.geography = geography
        self.cap = math.inf if policy.sea_limit_km is None else float(policy.sea_limit_km)
        self._cache: dict[tuple[float, float, str], tuple[float, np.ndarray]] = {}
        self._gc: dict[tuple[float, float, str], np.ndarray] = {}
        self._comp: dict[tuple[float, float], int] = {}
        self.searches = 0

    def gc_km(self, lat: float, lon: float, key: str, sites: Sites) -> np.ndarray:
        got = self._gc.get((lat, lon, key))
        if got is None:
            if len(self._gc) >= SEA_CACHE_MAX:
                self._gc.clear()
            # argument order as the dispatcher's sources: (incident, unit)
            got = self._gc[(lat, lon, key)] = np.asarray(
                haversine_km(sites.lat, sites.lon, lat, lon), dtype=float)
        return got

    def component(self, lat: float, lon: float) -> int:
        got = self._comp.get((lat, lon))
        if got is None:
            if len(self._comp) >= SEA_CACHE_MAX:
                self._comp.clear()
            got = self._comp[(lat, lon)] = int(
                np.asarray(self.geography.reach.components([lat], [lon]))[0])
        return got

    def km(self, lat: float, lon: float, key: str, sites: Sites, limit_km: float) -> np.ndarray:
        """Route km to each site, exact where <= limit_km, inf beyond (a fresh array)."""
        limit = min(limit_km, self.cap)
        hit = self._cache.get((lat, lon, key))
        if hit is None or hit[0] < limit:
            out = np.full(len(sites), np.inf)
            # a route is never shorter than the great circle (geo.seagraph): the others are
            # out of reach (slack for the float32 edge lengths)
            near = haversine_km(sites.lat, sites.lon, lat, lon) <= limit * (1 + 1e-6) + 1e-6
            near &= sites.sea_ok  # a vessel reaches no other site (unit_row): left at inf
            if near.any() and limit > 0:
                f = self.geography.sea.field_from(lat, lon, limit_km=limit)
                f = _Untrimmed(f.graph, f.src, f._q[0], f._q[1], f._pre, f._out, f.dist,
                               f.pred, f.limit_km)
                out[near] = f.km_to(sites.lat[near], sites.lon[near])
                self.searches += 1
            if len(self._cache) >= SEA_CACHE_MAX:
                self._cache.clear()
            hit = self._cache[(lat, lon, key)] = (limit, out)
        km = hit[1].copy()
        km[km > limit] = np.inf
        return km


def unit_row(u: Unit, t: CoverageTarget, s: Sites, sea: Distances,
             at: tuple[float, float] | None = None) -> np.ndarray | None:
    """ETA (s, float) from unit `u` (or `u` standing `at` a post) to each site of `t`; inf where
    it cannot serve or past the horizon. None when it reaches no site."""
    lat, lon = at if at is not None else (u.lat, u.lon)
    if len(s) == 0 or u.speed_kmh <= 0:
        return None
    if u.mode == "sea":
        limit = u.speed_kmh * (t.horizon_s - u.readiness_s) / 3600.0
        if limit < 0:
            return None
        km = sea.km(lat, lon, t.name, s, limit * (1 + 1e-9) + 1e-6)
        eta = np.asarray(sea_eta_s(km, u.speed_kmh, u.readiness_s), dtype=float)
        eta[~s.sea_ok | ~np.isfinite(km)] = np.inf
    else:
        d = sea.gc_km(lat, lon, t.name, s)
        if u.mode == "air":
            eta = np.asarray(air_eta_s(d, u.speed_kmh, u.readiness_s), dtype=float)
            eta[~np.asarray(air_in_range(d, u.range_km))] = np.inf
        elif u.mode == "land":
            eta = np.asarray(land_eta_s(d, u.speed_kmh, u.readiness_s, s.detour), dtype=float)
            eta[(s.component < 0) | (s.component != sea.component(lat, lon))] = np.inf
        else:
            return None
    eta[~np.isfinite(eta) | (eta > t.horizon_s)] = np.inf
    return eta if np.isfinite(eta).any() else None


@dataclass
class Refreshed:
    """What a refresh did: units re-read, targets whose minimum was re-taken, seconds."""

    units: int = 0
    targets: list[str] = field(default_factory=list)
    seconds: float = 0.0
    sea_searches: int = 0


class Coverage:
    """Per-target rows and minima, kept current by `refresh` (module docstring)."""

    def __init__(self, grid: Grid, config: CoverageConfig, geography: Any,
                 policy: DispatchPolicy, kind_modes: Mapping[str, str],
                 pause: Callable[[], None] | None = None) -> None:
        """`pause` is called between units (a server's event loop lets others run)."""
        self.pause = pause
        self.grid, self.config, self.geography = grid, config, geography
        self.policy, self.kind_modes = policy, kind_modes
        self.sites: dict[str, Sites] = {t.name: grid.sites(t, policy) for t in config.targets}
        self.sea = Distances(geography, policy)
        self.units: dict[str, Unit] = {}
        self._seen: dict[str, object] = {}
        self.rows: dict[str, dict[str, np.ndarray]] = {t.name: {} for t in config.targets}
        self.best: dict[str, np.ndarray] = {n: np.full(len(s), np.inf)
                                            for n, s in self.sites.items()}
        self.best_unit: dict[str, np.ndarray] = {n: np.full(len(s), None, dtype=object)
                                                 for n, s in self.sites.items()}
        self.version = 0  # bumped whenever a minimum may have changed
        self.now: datetime | None = None

    def refresh(self, resources: Iterable[Any], now: datetime) -> Refreshed:
        """Bring the rows up to date with these resources (every live unit, as the index
        holds them) at `now`; only what changed is recomputed."""
        t0 = time.perf_counter()
        searches0 = self.sea.searches
        now_s = now.timestamp()
        self.now = now
        current = {r.id: r for r in resources if r.exercise is None}
        todo = [i for i, r in current.items()
                if self._seen.get(i) is not r or self.units[i].stale_at < now_s]
        todo += [i for i in self._seen if i not in current]
        views = {i: unit_view(current[i], now_s, self.policy, self.kind_modes)
                 for i in todo if i in current}
        # widest sea searches first: narrower ones at the same place then come from the cache
        h = max(t.horizon_s for t in self.config.targets)
        todo.sort(key=lambda i: -views[i].speed_kmh * (h - views[i].readiness_s)
                  if i in views else 0.0)
        dirty: set[str] = set()
        for i in todo:
            if self.pause is not None:
                self.pause()
            old, new = self.units.pop(i, None), views.get(i)
            self._seen.pop(i, None)
            if new is not None:
                self.units[i], self._seen[i] = new, current[i]
            for t in self.config.targets:
                if not any(u is not None and t.capability in u.caps for u in (old, new)):
                    continue
                rows = self.rows[t.name]
                had = rows.pop(i, None) is not None
                row = (unit_row(new, t, self.sites[t.name], self.sea)
                       if new is not None and serves(new, t) else None)
                if row is not None:
                    rows[i] = row
                if had or row is not None:
                    dirty.add(t.name)
        for name in sorted(dirty):
            self._remin(name)
        if dirty:
            self.version += 1
        return Refreshed(len(todo), sorted(dirty), time.perf_counter() - t0,
                         self.sea.searches - searches0)

    def _remin(self, name: str) -> None:
        rows = self.rows[name]
        n = len(self.sites[name])
        if not rows:
            self.best[name] = np.full(n, np.inf)
            self.best_unit[name] = np.full(n, None, dtype=object)
            return
        ids = np.array(list(rows), dtype=object)
        stack = np.vstack(list(rows.values()))
        arg = np.argmin(stack, axis=0)
        best: np.ndarray = np.take_along_axis(stack, arg[None, :], axis=0)[0]
        self.best[name] = best
        units = ids[arg]
        units[~np.isfinite(best)] = None
        self.best_unit[name] = units

    # ---- reading
    def resource(self, unit_id: str) -> Any:
        """The Resource object last seen for a unit (None if gone)."""
        return self._seen.get(unit_id)

    def eta_s(self, name: str) -> np.ndarray:
        """Best ETA per site in whole seconds (rounded up, as the dispatcher shows it); -1
        where no unit reaches it within the horizon."""
        e = eta_seconds(self.best[name])
        return np.where(np.isfinite(self.best[name]), e, -1)

    def covered(self, name: str) -> np.ndarray:
        t = self.config.target(name)
        assert t is not None
        e = self.eta_s(name)
        return (e >= 0) & (e <= t.max_eta_s)


def summary(eta_s: np.ndarray, covered: np.ndarray) -> dict[str, Any]:
    """Sites, covered, and the median and worst ETA (None where it falls on a site that no
    unit reaches within the horizon)."""
    vals = np.where(eta_s >= 0, eta_s, np.inf).astype(float)
    med = float(np.median(vals)) if len(vals) else math.inf
    worst = float(vals.max()) if len(vals) else math.inf
    return {"sites": int(len(vals)), "covered": int(covered.sum()),
            "median_eta_s": int(math.ceil(med)) if math.isfinite(med) else None,
            "worst_eta_s": int(worst) if math.isfinite(worst) else None}
