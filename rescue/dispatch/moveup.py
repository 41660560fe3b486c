"""Move-up: which available units to send where so that lost cover comes back.

Greedy, target by target (in the file's order), up to `per_target` moves each: every candidate
(an available unit with the capability and an allowed mode, not moved yet) is tried at every
post of its travel mode (map-layer places named in the coverage file, the home bases of units
of that mode, the target's own points, and the centre of the target's largest uncovered
patch), and scored by the cover it restores and loses across every target it serves, each
target's count taken as a share of its sites (a county seat of twelve weighs as much as a
twelfth of the sea). The best move is kept only if it restores cells of this target and, so
weighed, restores more than it uncovers; ties go to the shorter move. Each suggestion's
"before" includes the earlier ones.

The unit's own time to its post is the dispatcher's model from the post (EtaModel): a land team
is never sent to an island without a link, a vessel never inland.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from geo.distance import haversine_km
from rescue.dispatch.coverage import Coverage, Unit, serves, summary, unit_row
from rescue.dispatch.coverage_targets import CoverageTarget
from rescue.dispatch.eta import EtaModel, eta_seconds
from rescue.dispatch.sources import ListSource

SAME_PLACE_KM = 0.5
POST_REACH_KM = 15.0  # posts farther than this from every cell are outside the region


@dataclass(frozen=True)
class Post:
    name: str
    lat: float
    lon: float
    source: str  # "layer:<name>", "base", "point" or "gap"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "lat": round(self.lat, 6), "lon": round(self.lon, 6),
                "source": self.source}


def layer_posts(geography: Any, layers: Iterable[str]) -> list[Post]:
    out = []
    for name in layers:
        try:
            fc = geography.layers.get(name)
        except KeyError:
            continue
        for f in fc.get("features", []):
            g = f.get("geometry") or {}
            if g.get("type") == "Point":
                lon, lat = g["coordinates"][:2]
                p = f.get("properties") or {}
                label = " ".join(x for x in (p.get("name"), p.get("name_en")) if x)
                out.append(Post(label or name, float(lat), float(lon), f"layer:{name}"))
    return out


def static_posts(cov: Coverage, mode: str) -> list[Post]:
    """The places of the file's layers for `mode` and the home bases of that mode's units."""
    out = layer_posts(cov.geography, cov.config.posts.get(mode, ()))
    return out + [Post(f"base of {u.name}", u.home[0], u.home[1], "base")
                  for u in sorted(cov.units.values(), key=lambda u: u.id) if u.mode == mode]


def in_region(cov: Coverage, cands: list[Post]) -> list[Post]:
    """Posts near a cell of the grid, each place once."""
    if not cands:
        return []
    grid, seen, out = cov.grid, set(), []
    near = grid.nearest_cell([p.lat for p in cands], [p.lon for p in cands])
    for p, c in zip(cands, near, strict=True):
        key = (round(p.lat, 3), round(p.lon, 3))
        if key in seen or haversine_km(p.lat, p.lon, grid.lat[c], grid.lon[c]) > POST_REACH_KM:
            continue
        seen.add(key)
        out.append(p)
    return out


def gap_centre(cov: Coverage, t: CoverageTarget, uncovered: np.ndarray) -> Post | None:
    """The uncovered site nearest the middle of the target's largest uncovered patch (cells
    touching at edges or corners)."""
    s = cov.sites[t.name]
    if t.points or not uncovered.any():
        return None
    grid = cov.grid
    cells = s.cell[uncovered]
    mask = np.zeros(grid.shape, bool)
    mask[grid.iy[cells], grid.ix[cells]] = True
    labels, n = ndimage.label(mask, structure=np.ones((3, 3)))
    lab = labels[grid.iy[cells], grid.ix[cells]]
    big = int(np.argmax(np.bincount(lab)[1:])) + 1
    members = np.flatnonzero(uncovered)[lab == big]
    x, y = grid.xy(s.lat[members], s.lon[members])
    j = members[int(np.argmin((x - x.mean()) ** 2 + (y - y.mean()) ** 2))]
    return Post(f"gap centre ({len(members)} cells)", float(s.lat[j]), float(s.lon[j]), "gap")


def _best(rows: dict[str, np.ndarray], n: int, without: str | None = None) -> np.ndarray:
    vals = [r for k, r in rows.items() if k != without]
    return np.min(np.vstack(vals), axis=0) if vals else np.full(n, np.inf)


def _covered(best: np.ndarray, t: CoverageTarget) -> np.ndarray:
    """eta_seconds(best) <= max_eta_s, without rounding every value: ceil(x - 1e-6) <= M
    exactly when x <= floor(M) + 1e-6."""
    return best <= math.floor(t.max_eta_s) + 1e-6


def _eta_s(best: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(best), eta_seconds(best), -1)


def travel_s(cov: Coverage, u: Unit, post: Post) -> tuple[float, float] | None:
    """(ETA s, km) of the unit to the post under the dispatcher's model, None if it cannot."""
    r = cov.resource(u.id)
    try:
        loc = cov.geography.areas.locate(post.lat, post.lon)
    except ValueError:
        return None
    now = cov.now
    assert now is not None
    batch = ListSource([r], cov.kind_modes).everything(
        post.lat, post.lon, next(iter(u.caps)), now=now,
        max_age_s=cov.policy.max_position_age_s, exercise=None)
    if len(batch) != 1:
        return None
    ev = EtaModel(post.lat, post.lon, loc, cov.geography, cov.policy).evaluate(batch)
    eta = float(ev.eta_s[0])
    return (eta, float(ev.km[0])) if math.isfinite(eta) else None


def suggest(cov: Coverage, per_target: int = 3) -> list[dict[str, Any]]:
    """Move-up suggestions for the coverage's current state (module docstring)."""
    work = {n: dict(rows) for n, rows in cov.rows.items()}
    targets = list(cov.config.targets)
    modes = sorted({m for t in targets for m in t.modes})
    fixed = {m: static_posts(cov, m) for m in modes}
    used: set[str] = set()
    out: list[dict[str, Any]] = []
    for t in targets:
        for _ in range(per_target):
            if cov.pause is not None:
                cov.pause()
            move = _best_move(cov, t, targets, work, used, fixed)
            if move is None:
                break
            out.append(move)
            used.add(move["resource_id"])
    return out


def _best_move(cov: Coverage, t: CoverageTarget, targets: list[CoverageTarget],
               work: dict[str, dict[str, np.ndarray]], used: set[str],
               fixed: dict[str, list[Post]]) -> dict[str, Any] | None:
    n = {x.name: len(cov.sites[x.name]) for x in targets}
    now_best = {x.name: _best(work[x.name], n[x.name]) for x in targets}
    now_cov = {x.name: _covered(now_best[x.name], x) for x in targets}
    if n[t.name] == 0 or now_cov[t.name].all():
        return None
    units = sorted((u for u in cov.units.values() if serves(u, t) and u.id not in used),
                   key=lambda u: u.id)
    extra = [Post(p.name, p.lat, p.lon, "point") for p in t.points]
    gap = gap_centre(cov, t, ~now_cov[t.name])
    posts = {m: in_region(cov, fixed[m] + extra + ([gap] if gap else [])) for m in t.modes}
    s, gap_sites = cov.sites[t.name], ~now_cov[t.name]
    # nearest uncovered site of each post (great circle): a lower bound of every mode's km
    near = {m: np.array([cov.sea.gc_km(p.lat, p.lon, t.name, s)[gap_sites].min() for p in ps])
            for m, ps in posts.items() if ps}
    scored = []
    for u in units:
        ps = posts.get(u.mode, [])
        if not ps:
            continue
        mine = [x for x in targets if serves(u, x) and n[x.name]]
        without = {x.name: _best(work[x.name], n[x.name], u.id) for x in mine}
        reach = u.speed_kmh * (math.floor(t.max_eta_s) + 1e-6 - u.readiness_s) / 3600.0
        moved_km = np.atleast_1d(haversine_km(u.lat, u.lon, [p.lat for p in ps],
                                              [p.lon for p in ps]))
        for p, moved, gap_km in zip(ps, moved_km, near[u.mode], strict=True):
            if moved < SAME_PLACE_KM or gap_km > reach * (1 + 1e-9) + 1e-6:
                continue  # no gap site within its reach from there: restores nothing
            if cov.pause is not None:
                cov.pause()
            effects, rows, share = {}, {}, 0.0
            for x in mine:
                row = unit_row(u, x, cov.sites[x.name], cov.sea, at=(p.lat, p.lon))
                after = without[x.name] if row is None else np.minimum(without[x.name], row)
                c = _covered(after, x)
                won, lost = int((c & ~now_cov[x.name]).sum()), int((~c & now_cov[x.name]).sum())
                effects[x.name] = (won, lost, after, c)
                rows[x.name] = row
                share += (won - lost) / n[x.name]
            if effects[t.name][0] > 0 and share > 0:
                scored.append((-share, float(moved), u.id, p.name, u, p, effects, rows))
    scored.sort(key=lambda s: s[:4])
    for *_, u, p, effects, rows in scored:
        trip = travel_s(cov, u, p)
        if trip is None:
            continue
        for name, row in rows.items():
            work[name].pop(u.id, None)
            if row is not None:
                work[name][u.id] = row
        return _describe(cov, t, u, p, trip, effects, now_best[t.name], now_cov[t.name])
    return None


def _describe(cov: Coverage, t: CoverageTarget, u: Unit, p: Post, trip: tuple[float, float],
              effects: dict[str, tuple], best: np.ndarray, covered: np.ndarray
              ) -> dict[str, Any]:
    won, _, after_best, after_cov = effects[t.name]
    before = summary(_eta_s(best), covered)
    after = summary(_eta_s(after_best), after_cov)
    return {
        "target": t.name, "resource_id": u.id, "name": u.name, "kind": u.kind,
        "mode": u.mode, "area": u.area,
        "from": {"lat": round(u.lat, 6), "lon": round(u.lon, 6)}, "post": p.to_dict(),
        "travel_s": int(eta_seconds(np.array([trip[0]]))[0]),
        "distance_km": round(trip[1], 3),
        "restored": won, "lost": sum(e[1] for e in effects.values()),
        "effects": {k: {"restored": e[0], "lost": e[1]} for k, e in effects.items()},
        "before": before, "after": after,
        "eta_gain_s": {k: (before[k] - after[k] if before[k] is not None
                           and after[k] is not None else None)
                       for k in ("median_eta_s", "worst_eta_s")},
        "restored_cells": sorted({int(c) for c in cov.sites[t.name].cell[
            after_cov & ~covered]}),
    }
