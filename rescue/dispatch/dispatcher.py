"""The dispatcher: for an incident, the best available resources per requirement of its response
plan, ranked exactly by ETA, and a recommended plan (DESIGN §5, §7 `suggestion`).

Pure: no Flask, no wall clock (`now` is passed in), no I/O besides what the geography loads
lazily. `suggest(..., method="brute_force")` runs the same pipeline over `rank_brute_force`
(for tests and the bench baseline).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from rescue.dispatch.eta import EtaModel
from rescue.dispatch.jurisdiction import Jurisdiction
from rescue.dispatch.planner import PoolEntry, plan_assignment
from rescue.dispatch.plans import SEVERITIES, Requirement, ResponsePlans
from rescue.dispatch.policy import DispatchPolicy
from rescue.dispatch.ranking import (
    Candidate,
    Context,
    Query,
    RankResult,
    rank_brute_force,
    rank_many,
)
from rescue.dispatch.seasearch import SeaSearches
from rescue.dispatch.shortfall import shared_shortfall, shortfall
from rescue.dispatch.sources import ListSource, mode_map
from resources.errors import ValidationError

K_MAX = 50
# A requirement no more units than this could meet is ranked by one scan (scanning.rank_scan:
# cheap columns of every matching unit, the ETA worked out only for those that could make a
# list) rather than a walk (each class of units apart, a few tree queries each). A scan costs
# ~70-80 ns a matching unit (the matching rows and their slow columns are kept by the index
# between scans: ResourceIndex.select, scan_rows.py); a walk follows the geography: little
# where units are spread, much where thousands are stacked at bases far from the incident. So
# above this a requirement walks, and a walk still going after a quarter of what its scan
# would cost is finished by the scan (ranking.WALK_BUDGET). Measured (2026-12-03; building
# collapse IV, 3 requirements, 200 points; zoned, grouped index), p50/p99 ms at 1M: clustered
# (15-169k units a requirement) walk only 18.7/76, scan only 21.9/41, walk then scan 20.9/42;
# uniform (17-126k) walk only 3.4/4.3, scan only 23.7/26, walk then scan 3.5/4.4.
SCAN_BELOW = 32_768


@dataclass(frozen=True)
class DispatchRequest:
    """What to suggest for: a point, a category and a severity (I..IV).

    `location` is the point's `geo.areas.Location` (located from lat/lon when None); `weather`
    a mapping with `wind_kmh`, `visibility_km` (optional); `exercise` restricts candidates to
    that exercise's resources (None: live ones only).
    """

    lat: float
    lon: float
    category: str
    severity: str
    location: Any = None
    weather: Any = None
    exercise: str | None = None
    incident_id: str | None = None


@dataclass
class RequirementSuggestion:
    requirement: Requirement
    candidates: list[Candidate]
    shortfall: dict[str, str] | None
    ranking: RankResult

    def to_dict(self) -> dict[str, Any]:
        r = self.requirement
        return {"capability": r.capability, "count": r.count,
                "candidates": [c.to_dict() for c in self.candidates],
                "shortfall": self.shortfall,
                "modes": list(r.modes) if r.modes else None,
                "kinds": list(r.kinds) if r.kinds else None}


@dataclass(frozen=True)
class PlanItem:
    requirement: str
    resource_id: str
    eta_s: int
    reason: str
    candidate: Candidate

    def to_dict(self) -> dict[str, Any]:
        c = self.candidate
        return {"requirement": self.requirement, "resource_id": self.resource_id,
                "eta_s": self.eta_s, "reason": self.reason, "kind": c.kind, "mode": c.mode,
                "relation": c.relation, "distance_km": round(c.distance_km, 3)}


@dataclass
class Suggestion:
    request: DispatchRequest
    location: Any
    requirements: list[RequirementSuggestion]
    plan: list[PlanItem]
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def latest_eta_s(self) -> int | None:
        return max((p.eta_s for p in self.plan), default=None)

    def to_dict(self) -> dict[str, Any]:
        """DESIGN §7 `suggestion` (plus descriptive extras)."""
        req, loc = self.request, self.location
        return {
            "incident": req.incident_id,
            "category": req.category,
            "severity": req.severity,
            "lat": req.lat,
            "lon": req.lon,
            "surface": getattr(loc, "surface", None),
            "areas": [{"code": a.code, "name": a.name, "level": a.level}
                      for a in getattr(loc, "chain", ())],
            "exercise": req.exercise,
            "requirements": [r.to_dict() for r in self.requirements],
            "plan": [p.to_dict() for p in self.plan],
            "plan_latest_eta_s": self.latest_eta_s,
        }


def as_source(index: Any, vocabulary: Any = None, shared_cache: dict | None = None,
              scan_below: int = 0) -> Any:
    """A ranking source for `index`: itself if it already speaks the protocol, else the adapter
    over resources.spatial.ResourceIndex."""
    if hasattr(index, "everything") and hasattr(index, "walk") and not hasattr(index, "upsert"):
        return index
    from rescue.dispatch.sources import IndexSource

    return IndexSource(index, vocabulary, shared_cache=shared_cache, scan_below=scan_below)


class Dispatcher:
    """Suggestions for incidents; see the module docstring."""

    def __init__(self, geography: Any, plans: ResponsePlans,
                 policy: DispatchPolicy | None = None, *, remember_sea: bool = True,
                 scan_below: int = SCAN_BELOW) -> None:
        self.geography = geography
        self.plans = plans
        self.policy = policy if policy is not None else DispatchPolicy()
        self._neighbours: dict[str, frozenset[str]] = {}  # the area index is static
        self._relations: dict[tuple, dict[str, str]] = {}  # likewise, per incident county
        self._bounds: dict[int, dict] = {}  # per index (by id): bounds keyed by its version
        # the last incidents' sea searches (answers never change); off: one search per request
        self._sea = SeaSearches() if remember_sea else None
        # could_serve's models, by request: a waiting incident asks about many units
        self._models: dict[tuple, tuple[EtaModel, dict[int, tuple[Any, frozenset[str]]]]] = {}
        self.scan_below = scan_below

    def could_serve(self, unit: Any, request: DispatchRequest, *, now: datetime,
                    vocabulary: Any = None) -> bool:
        """Whether the model lets this one unit reach the request at all (not grounded, not
        out of range or unreachable), whatever its capabilities and status: a waiting
        incident asks again for a unit that came free only if it could come. Kinds the model
        settles from the request alone (grounded, a land team for a boat at sea) are answered
        without evaluating the unit."""
        modes = mode_map(vocabulary)
        model, settled = self._model_of(request)
        held = settled.get(id(modes))
        if held is None or held[0] is not modes:  # (the table is held: its id stays its own)
            got = model.settled(modes)
            held = settled[id(modes)] = (modes, got.done if got is not None else frozenset())
        if unit.kind in held[1]:
            return False
        batch = ListSource([unit], modes)._batch([unit], request.lat, request.lon, now,
                                                 self.policy.max_position_age_s)
        return bool(np.isfinite(model.evaluate(batch).eta_s[0]))

    def _model_of(self, request: DispatchRequest
                  ) -> tuple[EtaModel, dict[int, tuple[Any, frozenset[str]]]]:
        """The request's model (and its settled kinds by kind-mode table), remembered by what
        the model reads of the request."""
        weather = request.weather
        key: tuple | None = (request.lat, request.lon, request.location,
                             tuple(sorted(weather.items())) if isinstance(weather, Mapping)
                             else weather)
        try:
            got = self._models.get(key)  # type: ignore[arg-type]
        except TypeError:  # an unhashable weather value or location: not remembered
            key, got = None, None
        if got is None:
            got = (EtaModel(request.lat, request.lon, self._locate(request), self.geography,
                            self.policy, weather, sea_searches=self._sea), {})
            if len(self._models) > 512:
                self._models.clear()
            if key is not None:
                self._models[key] = got
        return got

    # ---- validation
    def _check(self, request: DispatchRequest, k: Any) -> tuple[Requirement, ...]:
        for name, lo, hi in (("lat", -90.0, 90.0), ("lon", -180.0, 180.0)):
            v = getattr(request, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) \
                    or not lo <= v <= hi:
                raise ValidationError(name, f"must be a number within [{lo:g}, {hi:g}]")
        if request.category not in self.plans.plans:
            raise ValidationError("category", f"unknown category {request.category!r} "
                                  f"(one of: {', '.join(self.plans.categories)})")
        if request.severity not in SEVERITIES:
            raise ValidationError("severity", "must be one of I, II, III, IV")
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= K_MAX:
            raise ValidationError("k", f"must be an integer within 1..{K_MAX}")
        return self.plans.requirements(request.category, request.severity)

    def _locate(self, request: DispatchRequest) -> Any:
        if request.location is not None:
            return request.location
        try:
            return self.geography.areas.locate(request.lat, request.lon)
        except ValueError as exc:  # geo.areas.OutsideCoverage
            raise ValidationError("lat", f"the point is outside the covered area: {exc}") from exc

    # ---- the suggestion
    def suggest(self, index: Any, request: DispatchRequest, *, now: datetime, k: int = 5,
                method: str = "walk", vocabulary: Any = None) -> Suggestion:
        """Ranked candidates per requirement (top `k`, exact), shortfalls and a plan."""
        requirements = self._check(request, k)
        location = self._locate(request)
        if len(self._bounds) > 8:
            self._bounds.clear()
        source = as_source(index, vocabulary, self._bounds.setdefault(id(index), {}),
                           self.scan_below)
        model = EtaModel(request.lat, request.lon, location, self.geography, self.policy,
                         request.weather, sea_searches=self._sea)
        ctx = Context(request.lat, request.lon, model,
                      Jurisdiction(self.geography.areas, location, self._neighbours,
                                   self._relations),
                      self.policy, now,
                      request.exercise)
        slots = sum(r.count for r in requirements)
        queries = [Query(req.capability, k=k, pool=slots, modes=req.modes, kinds=req.kinds)
                   for req in requirements]
        if method == "brute_force":
            ranked = [rank_brute_force(source, q, ctx) for q in queries]
        else:  # the requirements' walks in lockstep, one model evaluation per round
            ranked = rank_many(source, queries, ctx)
        results: list[RequirementSuggestion] = []
        for req, res in zip(requirements, ranked, strict=True):
            short = shortfall(req.capability, req.count, res.feasible, res.matched, res.outcomes,
                              request.weather)
            results.append(RequirementSuggestion(req, res.candidates, short, res))
        plan = self._plan(results)
        stats = {"examined": sum(r.ranking.matched for r in results),
                 "sea_fields": model.sea_fields_built, "method": method}
        return Suggestion(request, location, results, plan, stats)

    def _plan(self, results: list[RequirementSuggestion]) -> list[PlanItem]:
        pools = [[PoolEntry(c.resource_id, c.eta_s, c.relation == "own_area", c.preferred)
                  for c in r.ranking.pool] for r in results]
        counts = [r.requirement.count for r in results]
        out = plan_assignment(pools, counts, local_margin_s=self.policy.local_margin_s,
                              kind_preference_s=self.policy.kind_preference_s)
        by_id = [{c.resource_id: c for c in r.ranking.pool} for r in results]
        items = [PlanItem(results[e.requirement].requirement.capability, e.resource_id, e.eta_s,
                          e.reason, by_id[e.requirement][e.resource_id]) for e in out.entries]
        for r, missing in zip(results, out.unfilled, strict=True):
            if missing and r.shortfall is None:
                req = r.requirement
                r.shortfall = shared_shortfall(req.capability, req.count, req.count - missing)
        return items
