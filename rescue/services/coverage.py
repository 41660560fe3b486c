"""Coverage for operators: the cells of the caller's scope with the best ETA per target, what
is not covered, and the move-ups that would restore it (issue 11 §4).

State lives with the context (`RescueContext.coverage`, one `CoverageKeeper` per process):
the targets file is read at start, the grid on the first request. Each request first brings
the index up to date with the log (`ctx.index()`, read-your-writes) and hands the live units
to `Coverage.refresh`, which recomputes only the units that changed since the last request;
move-up suggestions are kept until the coverage changes.

Scope (DESIGN §7): an operator sees the cells that meet its area or anything below it (a
county sees its sea sector; a township its own cells); a department desk the same, since
coverage is no incident's business; an admin everything. Suggestions are shown when they
restore a visible cell or move a unit of the caller's area; `movable` says which units the
caller may move itself.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import numpy as np
import shapely

from rescue.auth import Principal
from rescue.dispatch.coverage import Coverage, Refreshed, summary
from rescue.dispatch.coverage_grid import Grid
from rescue.dispatch.coverage_targets import CoverageConfig, load_coverage
from rescue.dispatch.moveup import suggest
from rescue.offload import cooperative_pause, run_blocking
from resources.errors import ValidationError
from resources.model import format_time


class CoverageKeeper:
    """The process's coverage state: config, grid, rows, suggestions, scope masks."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        geo = ctx.geography
        self.config: CoverageConfig = load_coverage(
            ctx.config.coverage_path, ctx.vocab, known_areas={a.code for a in geo.areas},
            layers=geo.layers.names(), inside=lambda codes, lat, lon: any(
                shapely.intersects_xy(geo.areas.geometry(c), lon, lat) for c in codes))
        self._lock = threading.Lock()
        self._coverage: Coverage | None = None
        self._moveups: tuple[int, list[dict[str, Any]]] | None = None
        self._scopes: dict[str, np.ndarray] = {}
        self.last: Refreshed | None = None

    def _built(self) -> Coverage:
        """The grid and each target's sites, made on the first request: ~1.5 s, most of it
        in GEOS and PROJ (the region's outline, the coast's distances), which hold the loop
        between any pauses, so under a server it runs off the event loop. Later work (a
        refresh, move-ups) stays on the loop and pauses between units."""
        if self._coverage is None:
            cov = run_blocking(self._build)
            cov.pause = cov.grid.pause = pause = cooperative_pause()
            # The sites vessels may reach, joined to the sea graph a chunk at a time (the
            # graph's caches are the dispatcher's too: this stays on the loop's thread).
            prepare = getattr(cov.geography.sea, "prepare", None)
            for s in cov.sites.values() if prepare is not None else ():
                prepare(s.lat[s.sea_ok], s.lon[s.sea_ok], pause)
            self._coverage = cov
        return self._coverage

    def _build(self) -> Coverage:
        ctx = self.ctx
        grid = Grid(ctx.geography, self.config.areas, self.config.cell_km)
        cov = Coverage(grid, self.config, ctx.geography, ctx.policy, ctx.vocab.kind_modes)
        # Made here, off the loop, not by the requests that read them: the coast's distances,
        # the cells' outlines (every GeoJSON answer) and their tree (a scope's cells).
        grid.coast_km, grid.rings, grid.cells_meeting(shapely.Point())  # noqa: B018
        return cov

    def current(self, now: datetime) -> Coverage:
        """The coverage of the live units as the log stands now (incremental)."""
        with self.ctx.index() as index:
            rows = [index.get(i) for i in set(index.ids)]
        live = [r for r in rows if r is not None and r.exercise is None]
        with self._lock:
            cov = self._built()
            self.last = cov.refresh(live, now)
            return cov

    def moveups(self, cov: Coverage) -> list[dict[str, Any]]:
        with self._lock:
            if self._moveups is None or self._moveups[0] != cov.version:
                self._moveups = (cov.version, suggest(cov))
            return self._moveups[1]

    def visible(self, principal: Principal) -> np.ndarray | None:
        """Indices of the cells the principal sees (None: all of them)."""
        if principal.role == "admin":
            return None
        scope = principal.area or "\x00"
        got = self._scopes.get(scope)
        if got is None:
            areas = self.ctx.geography.areas
            geoms = [areas.geometry(a.code) for a in areas if a.code.startswith(scope)]
            grid = self._built().grid
            got = (grid.cells_meeting(shapely.union_all(geoms)) if geoms
                   else np.empty(0, np.int64))
            self._scopes[scope] = got
        return got


def _check(ctx: Any, principal: Principal, target: str | None) -> None:
    principal.require("operator")
    if target is not None and ctx.coverage.config.target(target) is None:
        raise ValidationError("target", f"unknown coverage target {target!r} (one of: "
                              f"{', '.join(ctx.coverage.config.names)})")


def coverage_geojson(ctx: Any, principal: Principal, now: datetime,
                     target: str | None = None) -> dict[str, Any]:
    """GET /coverage: the visible cells as GeoJSON, each with its best ETA and cover per
    target that applies to it; the targets with their summaries; the move-ups."""
    _check(ctx, principal, target)
    keeper = ctx.coverage
    cov = keeper.current(now)
    grid = cov.grid
    visible = keeper.visible(principal)
    shown = np.zeros(len(grid), bool)
    shown[np.arange(len(grid)) if visible is None else visible] = True
    per_cell: dict[int, dict[str, Any]] = {}
    targets = [t for t in cov.config.targets if target is None or t.name == target]
    for t in targets:
        for cell, value in _cell_values(cov, t.name).items():
            if shown[cell]:
                per_cell.setdefault(cell, {})[t.name] = value
    cells = sorted(per_cell) if target is not None else np.flatnonzero(shown).tolist()
    rings = grid.rings
    features = [{"type": "Feature", "id": c,
                 "geometry": {"type": "Polygon", "coordinates": [rings[c]]},
                 "properties": {"cell": c, "surface": grid.surface[c], "area": grid.leaf[c],
                                **per_cell.get(c, {})}}
                for c in cells]
    return {"type": "FeatureCollection", "features": features,
            "targets": _targets(cov, shown, target),
            "moveup": _moveups(ctx, principal, cov, shown, target),
            "computed_at": format_time(now), "cell_km": grid.cell_km,
            "recompute_ms": round(1000.0 * keeper.last.seconds, 3) if keeper.last else None}


def moveup(ctx: Any, principal: Principal, now: datetime, target: str | None = None
           ) -> dict[str, Any]:
    """GET /coverage/moveup: the suggestions and the targets' summaries alone."""
    _check(ctx, principal, target)
    keeper = ctx.coverage
    cov = keeper.current(now)
    visible = keeper.visible(principal)
    shown = np.zeros(len(cov.grid), bool)
    shown[np.arange(len(cov.grid)) if visible is None else visible] = True
    return {"moveup": _moveups(ctx, principal, cov, shown, target),
            "targets": _targets(cov, shown, target), "computed_at": format_time(now)}


def _cell_values(cov: Coverage, name: str) -> dict[int, dict[str, Any]]:
    """Per cell showing the target: the worst of its sites (a cell with two county seats is
    covered when both are)."""
    s = cov.sites[name]
    eta, ok, unit = cov.eta_s(name), cov.covered(name), cov.best_unit[name]
    out: dict[int, dict[str, Any]] = {}
    for i, c in enumerate(s.cell.tolist()):
        e = int(eta[i])
        v = {"best_eta_s": e if e >= 0 else None, "covered": bool(ok[i]), "unit": unit[i]}
        prev = out.get(c)
        if prev is None or _worse(v, prev):
            out[c] = v
    return out


def _worse(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Not covered is worse than covered; then the later ETA (none at all is the latest)."""
    if a["covered"] != b["covered"]:
        return not a["covered"]
    ea, eb = a["best_eta_s"], b["best_eta_s"]
    return eb is not None and (ea is None or ea > eb)


def _targets(cov: Coverage, shown: np.ndarray, target: str | None) -> list[dict[str, Any]]:
    out = []
    for t in cov.config.targets:
        if target is not None and t.name != target:
            continue
        s = cov.sites[t.name]
        mine = shown[s.cell] if len(s) else np.zeros(0, bool)
        eta, ok = cov.eta_s(t.name), cov.covered(t.name)
        d = t.to_dict()
        d["summary"] = summary(eta[mine], ok[mine])
        if s.names is not None:
            d["sites"] = [{"name": s.names[i], "lat": float(s.lat[i]), "lon": float(s.lon[i]),
                           "cell": int(s.cell[i]),
                           "best_eta_s": int(eta[i]) if eta[i] >= 0 else None,
                           "covered": bool(ok[i]), "unit": cov.best_unit[t.name][i]}
                          for i in np.flatnonzero(mine)]
        out.append(d)
    return out


def _moveups(ctx: Any, principal: Principal, cov: Coverage, shown: np.ndarray,
             target: str | None) -> list[dict[str, Any]]:
    out = []
    for m in ctx.coverage.moveups(cov):
        if target is not None and m["target"] != target:
            continue
        mine = principal.covers_area(m["area"])
        if mine or any(shown[c] for c in m["restored_cells"]):
            out.append({**m, "movable": mine})
    return out
