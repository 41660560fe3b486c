"""The travel-time model (DESIGN §5), evaluated on columnar candidate batches.

Per candidate, by the travel mode of its kind:
- air: great-circle km / speed + readiness; `out_of_range` when out and back exceeds its range;
  `grounded` when the request's weather exceeds the kind's flying limits (policy).
- sea: route km over water (one shortest-path field from the incident, built lazily the first
  time a sea candidate is examined) / speed + readiness; only for incidents at sea or on the
  shore, else `unreachable`.
- land: great-circle km x detour (>= 1, per area) / speed + readiness; `unreachable` for an
  incident at sea or on another landmass (LandReach components: linked islands count as one).
A position older than the policy's max age has already been replaced by the home base (the
index does it); such candidates carry the reason `position_stale_home_base`, or are infeasible
(`positions_stale`) when the policy forbids the fallback.

Why columnar: the ranking evaluates whole batches from the index's nearest-first walk, and the
brute-force oracle evaluates everything with the very same function, so both agree exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from geo.travel import air_eta_s, air_in_range, land_eta_s, least_eta_s, sea_eta_s
from rescue.dispatch.policy import DispatchPolicy
from rescue.dispatch.seasearch import SeaSearch, SeaSearches

# Candidate outcome codes (index into OUTCOMES). The first two are feasible.
OK, OK_STALE, OK_HOME, POSITIONS_STALE, GROUNDED, OUT_OF_RANGE, UNREACHABLE = range(7)
OUTCOMES = ("current_position", "position_stale_home_base", "home_base", "positions_stale",
            "grounded", "out_of_range", "unreachable")
FEASIBLE_MAX = OK_HOME
MODE_CODES = ("land", "air", "sea", "")  # travel modes as small integers (`optimistic_of`)


@dataclass
class Batch:
    """Candidates in columns (numpy arrays of equal length).

    `lat`/`lon` are the position the model uses (the index already fell back to the home base
    for stale positions and set `stale`); `dist_km` is the great-circle km from the incident;
    `range_km` is NaN for "unlimited"; `home` marks candidates placed at their home base (a
    stale position, or none reported yet); None means `stale`.
    """

    ids: np.ndarray
    kinds: np.ndarray
    modes: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    dist_km: np.ndarray
    speed_kmh: np.ndarray
    readiness_s: np.ndarray
    range_km: np.ndarray
    stale: np.ndarray
    areas: np.ndarray
    home: np.ndarray | None = None  # at the home base (stale, or no position reported yet)

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, idx: np.ndarray) -> Batch:
        return Batch(*(None if getattr(self, f) is None else getattr(self, f)[idx]
                       for f in _FIELDS))


_FIELDS = ("ids", "kinds", "modes", "lat", "lon", "dist_km", "speed_kmh", "readiness_s",
           "range_km", "stale", "areas", "home")


@dataclass(frozen=True)
class Settled:
    """Outcomes this request's model gives without looking at where a unit is.

    `kinds`: kind -> outcome code for every unit of that kind (grounded by the weather, a
    vessel for an incident inland, any land unit for an incident at sea). `zone`: land units
    are feasible only in this land reachability zone (geo.landreach component); the others are
    `unreachable`. None: land kinds are not settled (a road network may cross water)."""

    kinds: frozenset[tuple[str, int]]
    zone: int | None

    @property
    def done(self) -> frozenset[str]:
        """The settled kinds."""
        return frozenset(k for k, _ in self.kinds)


@dataclass
class Evaluated:
    """Model outcome for a batch: `eta_s` (float seconds, inf when infeasible), `km` travel
    distance (route / detoured / great circle), `code` (OUTCOMES index)."""

    eta_s: np.ndarray
    km: np.ndarray
    code: np.ndarray


def weather_value(weather: Any, name: str) -> float | None:
    if weather is None:
        return None
    v = weather.get(name) if isinstance(weather, Mapping) else getattr(weather, name, None)
    return None if v is None else float(v)


class EtaModel:
    """The ETA model for one request (incident point, location, weather, policy)."""

    def __init__(self, lat: float, lon: float, location: Any, geography: Any,
                 policy: DispatchPolicy, weather: Any = None, reach: Any = None,
                 sea_searches: SeaSearches | None = None) -> None:
        self.lat, self.lon = float(lat), float(lon)
        self.location = location
        self.geography = geography
        self._reach = reach  # land reachability (None: geography.reach)
        self.policy = policy
        self.at_sea = getattr(location, "surface", "land") == "sea"
        self.sea_ok = self.at_sea or bool(getattr(location, "shore", False))
        chain = tuple(a.code for a in getattr(location, "chain", ()))
        self.detour = policy.detour_for(chain)
        wind = weather_value(weather, "wind_kmh")
        vis = weather_value(weather, "visibility_km")
        self.grounded_kinds = policy.grounded_kinds(wind, vis)
        self._searches = sea_searches
        self._sea: SeaSearch | None = None
        self._builds_before = 0
        limit = policy.sea_limit_km
        self._model_limit = float(limit) if limit is not None else np.inf
        self._road_field: Any = None
        # With a road network loaded, land km is the road route (>= the straight line) where
        # one exists, else the detour estimate: only the straight line bounds both.
        self.roads = getattr(geography, "roads", None)
        self.land_bound_factor = 1.0 if self.roads is not None else self.detour
        self._component: int | None | bool = False  # False = not computed yet

    # ---- lazily built per request
    @property
    def reach(self) -> Any:
        return self._reach if self._reach is not None else self.geography.reach

    @property
    def sea(self) -> SeaSearch:
        """This incident's sea search: shared across requests when the dispatcher keeps them
        (rescue/dispatch/seasearch.py), else this request's own."""
        if self._sea is None:
            sea = self.geography.sea
            self._sea = (self._searches.get(sea, self.lat, self.lon, self._model_limit)
                         if self._searches is not None
                         else SeaSearch(sea, self.lat, self.lon, self._model_limit))
            self._builds_before = self._sea.builds
        return self._sea

    @property
    def sea_fields_built(self) -> int:
        """Sea searches this request ran (0 when every answer was already known)."""
        return 0 if self._sea is None else self._sea.builds - self._builds_before

    def sea_field(self) -> Any:
        """The sea field of the model (the policy's limit, else the whole graph)."""
        return self.sea.whole()

    def sea_km(self, lats: np.ndarray, lons: np.ndarray, dist_km: np.ndarray) -> np.ndarray:
        """Sea route km to these targets, exactly as the whole field gives them (see
        SeaSearch.km for how the search is bounded and remembered)."""
        return self.sea.km(lats, lons, np.asarray(dist_km, float))

    def road_field(self) -> Any:
        if self._road_field is None:
            self._road_field = self.roads.field_from(self.lat, self.lon)
        return self._road_field

    def incident_component(self) -> int | None:
        if self._component is False:
            comp = None if self.at_sea else self.reach.component(self.lat, self.lon)
            self._component = None if comp is None or comp < 0 else int(comp)
        return self._component  # type: ignore[return-value]

    def settled(self, kind_modes: Mapping[str, str]) -> Settled | None:
        """What `evaluate` would answer from a unit's kind (and land reachability zone) alone,
        so the ranking can count those units instead of reading them (an island incident).
        None when the policy refuses stale positions: then a unit's outcome depends on the age
        of its position too."""
        if not self.policy.stale_fallback:
            return None
        kinds: dict[str, int] = {}
        comp = None if self.at_sea else self.incident_component()
        no_land = comp is None and (self.at_sea or self.roads is None)
        cannot = {"sea": not self.sea_ok, "land": no_land, "air": False}
        for kind, mode in kind_modes.items():
            if mode in ("air", "sea") and kind in self.grounded_kinds:
                kinds[kind] = GROUNDED
            elif cannot.get(mode, True):
                kinds[kind] = UNREACHABLE
        zone = comp if self.roads is None else None
        return Settled(frozenset(kinds.items()), zone)

    # ---- the model
    def lower_bound_s(self, dist_km: float, classes: tuple[np.ndarray, np.ndarray],
                      modes: tuple[str, ...] | None = None) -> float:
        """Whole seconds no unseen candidate at >= `dist_km` can beat (see ranking), over the
        (speed, readiness) classes of the matching units (geo.travel.speed_classes).

        Land-only requirements use this request's detour factor (every land ETA has it);
        otherwise the straight line. The slack absorbs float rounding (sea edge lengths are
        stored as float32), so the bound never exceeds a true ETA. inf when no class moves."""
        factor = self.land_bound_factor if modes == ("land",) else 1.0
        raw = least_eta_s(dist_km, classes, factor)
        return float(np.ceil(raw * (1.0 - 1e-6) - 1e-3)) if np.isfinite(raw) else np.inf

    def optimistic(self, b: Batch) -> np.ndarray:
        """A cheap lower bound of each candidate's ETA (no reachability test, straight line at
        sea): lets the ranking skip the costly checks for candidates that cannot make a list."""
        return self.optimistic_of(b.dist_km, b.speed_kmh, b.readiness_s, b.modes)

    def optimistic_of(self, km: np.ndarray, speed_kmh: np.ndarray, readiness_s: np.ndarray,
                      modes: np.ndarray) -> np.ndarray:
        """`optimistic` on plain columns (straight-line km, a lower bound of it will do);
        `modes` holds mode names, or their MODE_CODES index as small integers (comparing
        hundreds of thousands of strings costs more than the rest)."""
        named = modes.dtype == object
        air, land, sea = ((modes == m) if named else (modes == MODE_CODES.index(m))
                          for m in ("air", "land", "sea"))
        if not self.sea_ok:
            sea = np.zeros(len(km), bool)
        eta = np.full(len(km), np.inf)
        speed, ready = speed_kmh.astype(float), readiness_s.astype(float)
        eta[air] = air_eta_s(km[air], speed[air], ready[air])
        eta[sea] = sea_eta_s(km[sea], speed[sea], ready[sea])
        eta[land] = land_eta_s(km[land], speed[land], ready[land], self.land_bound_factor)
        return eta

    def evaluate(self, b: Batch) -> Evaluated:
        n = len(b)
        eta = np.full(n, np.inf)
        km = np.array(b.dist_km, dtype=float, copy=True)
        home = b.stale if b.home is None else b.home
        code = np.where(b.stale, OK_STALE, np.where(home, OK_HOME, OK)).astype(np.int8)
        base = code.copy()
        if n == 0:
            return Evaluated(eta, km, code)
        air = b.modes == "air"
        sea = b.modes == "sea"
        land = b.modes == "land"
        speed = b.speed_kmh.astype(float)
        ready = b.readiness_s.astype(float)
        if air.any():
            i = np.flatnonzero(air)
            eta[i] = air_eta_s(b.dist_km[i], speed[i], ready[i])
            code[i[~air_in_range(b.dist_km[i], b.range_km[i].astype(float))]] = OUT_OF_RANGE
            if self.grounded_kinds:
                g = np.isin(b.kinds[i], list(self.grounded_kinds))
                code[i[g]] = GROUNDED
        if land.any():
            i = np.flatnonzero(land)
            comp = self.incident_component()
            if comp is None:
                code[i] = UNREACHABLE
            else:
                c = np.asarray(self.reach.components(b.lat[i], b.lon[i]))
                code[i[c != comp]] = UNREACHABLE
            km[i] = b.dist_km[i] * self.detour
            eta[i] = land_eta_s(b.dist_km[i], speed[i], ready[i], self.detour)
            if self.roads is not None and not self.at_sea:
                road = np.asarray(self.road_field().km_to(b.lat[i], b.lon[i]), dtype=float)
                by_road = np.isfinite(road)
                j = i[by_road]
                km[j] = road[by_road]
                eta[j] = land_eta_s(road[by_road], speed[j], ready[j], 1.0)
                code[j] = base[j]  # a road reaches it (over a bridge the links may not know)
        if sea.any():
            i = np.flatnonzero(sea)
            if not self.sea_ok:
                code[i] = UNREACHABLE
            else:
                route = self.sea_km(b.lat[i], b.lon[i], b.dist_km[i])
                km[i] = route
                eta[i] = sea_eta_s(route, speed[i], ready[i])
                code[i[~np.isfinite(route)]] = UNREACHABLE
            if self.grounded_kinds:  # small boats stay in port in a gale
                code[i[np.isin(b.kinds[i], list(self.grounded_kinds))]] = GROUNDED
        code[~(air | sea | land)] = UNREACHABLE  # a kind without a known travel mode
        if not self.policy.stale_fallback:
            code[b.stale.astype(bool)] = POSITIONS_STALE
        code[~np.isfinite(eta) & (code <= FEASIBLE_MAX)] = UNREACHABLE  # e.g. speed 0
        infeasible = code > FEASIBLE_MAX
        eta[infeasible] = np.inf
        return Evaluated(eta, km, code)


def eta_seconds(eta: np.ndarray) -> np.ndarray:
    """Whole seconds, rounded up (monotone, so integer order never contradicts the model)."""
    out = np.full(eta.shape, np.iinfo(np.int64).max, dtype=np.int64)
    fin = np.isfinite(eta)
    out[fin] = np.ceil(eta[fin] - 1e-6).astype(np.int64)
    return out
