"""Coverage: the grid is metric, the fast path is the dispatcher's model per cell (air and land
to float rounding; sea never shorter, mostly equal), and an incremental refresh equals a full
one after units change status, move, leave, arrive or go stale."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from functools import cache

import numpy as np
import pytest
from pyproj import Geod

from rescue.demo import demo_registry
from rescue.dispatch.coverage import Coverage
from rescue.dispatch.coverage_grid import Grid
from rescue.dispatch.coverage_oracle import naive_best
from rescue.dispatch.coverage_targets import load_coverage
from rescue.dispatch.policy_file import load_policy
from resources.model import resource_from_dict
from resources.vocabulary import Vocabulary
from tests.unit.test_dispatch_helpers import NOW, geography, res

VOCAB = Vocabulary.default()


@cache
def config():
    return load_coverage(vocabulary=VOCAB)


@cache
def grid() -> Grid:
    return Grid(geography(), config().areas, config().cell_km)


def fresh(units) -> Coverage:
    cov = Coverage(grid(), config(), geography(), load_policy(), VOCAB.kind_modes)
    cov.refresh(units, NOW)
    return cov


def registry() -> list:
    """The demo registry, plus units with fresh and stale positions, and a medical team on
    Nanji (an island with no fixed link: it covers Nanji and nothing else by land)."""
    units = [resource_from_dict(d, VOCAB) for d in demo_registry()]
    return units + [
        res("x-boat", "vessel", ["water_rescue"], 27.70, 121.30, speed=30, ready=600,
            area="3303"),
        res("x-heli", "helicopter", ["hoist"], 27.60, 120.90, speed=250, ready=900, rng=500,
            age_s=3 * 3600, home=(27.914, 120.851), area="3303"),
        res("x-nanji-med", "land_team", ["medical", "heavy_rescue"], 27.467, 121.08,
            speed=30, ready=600, area="330326"),
    ]


def test_cells_are_cell_km_on_the_ground_over_the_city_and_its_sea() -> None:
    g = grid()
    geod = Geod(ellps="WGS84")
    pick = np.r_[np.argsort(g.lat)[:5], np.argsort(g.lat)[-5:]]  # south and north edges
    for c in pick:
        ring = np.asarray(g.rings[c])
        area, _ = geod.polygon_area_perimeter(ring[:, 0], ring[:, 1])
        assert abs(area) / 1e6 == pytest.approx(2.5 * 2.5, rel=0.01)
    assert all(str(code).startswith("3303") for code in g.leaf)
    assert {"land", "sea"} == set(g.surface)
    # neighbours' centres are 2.5 km apart in every corner of the region
    east = {(int(x), int(y)): i for i, (x, y) in enumerate(zip(g.ix, g.iy, strict=True))}
    pairs = [(i, east[(x + 1, y)]) for (x, y), i in east.items() if (x + 1, y) in east]
    a, b = np.array(pairs)[:: max(1, len(pairs) // 200)].T
    d = geod.inv(g.lon[a], g.lat[a], g.lon[b], g.lat[b])[2] / 1000
    assert np.allclose(d, 2.5, rtol=0.01)


def test_fast_path_equals_the_dispatcher_model_cell_by_cell() -> None:
    units = registry()
    cov = fresh(units)
    rng = np.random.default_rng(7)
    for t in config().targets:
        s = cov.sites[t.name]
        which = rng.choice(len(s), min(len(s), 40 if "sea" in t.modes else 150), replace=False)
        oracle = naive_best(t, s, units, geography(), load_policy(), NOW, VOCAB.kind_modes,
                            which)[which]
        fast = cov.best[t.name][which]
        assert np.array_equal(np.isfinite(fast), np.isfinite(oracle)), t.name
        f, o = fast[np.isfinite(fast)], oracle[np.isfinite(oracle)]
        assert np.isfinite(fast).sum() > len(which) // 4, t.name  # the sample reaches units
        if "sea" not in t.modes:  # the same functions on the same inputs: float rounding
            np.testing.assert_allclose(f, o, rtol=1e-12, err_msg=t.name)
        else:  # same route, less the dispatcher's trim near the vessel: never shorter
            assert np.all(f >= o * (1 - 1e-12)), t.name
            assert np.all(f <= o * 1.03), t.name
            assert np.mean(np.isclose(f, o, rtol=1e-9, atol=0)) > 0.8, t.name


def test_the_island_team_covers_its_island_only() -> None:
    cov = fresh(registry())
    s = cov.sites["medical_land"]
    nanji = np.flatnonzero(cov.best_unit["medical_land"] == "x-nanji-med")
    assert len(nanji) and np.all(s.lat[nanji] < 27.5) and np.all(s.lon[nanji] > 120.95)


def test_incremental_refresh_equals_a_full_one() -> None:
    units = {r.id: r for r in registry()}
    cov = fresh(units.values())
    names = [t.name for t in config().targets]

    def step(now, **changes) -> list[str]:
        for rid, new in changes.items():
            if new is None:
                units.pop(rid)
            else:
                units[rid] = new
        done = cov.refresh(units.values(), now)
        full = Coverage(grid(), config(), geography(), load_policy(), VOCAB.kind_modes)
        full.refresh(units.values(), now)
        for n in names:
            assert np.array_equal(cov.best[n], full.best[n]), n
            assert np.array_equal(cov.best_unit[n], full.best_unit[n]), n
        return done.targets

    replace = dataclasses.replace
    fast = units["ecsrb-dt-fast"]
    assert step(NOW, **{"ecsrb-dt-fast": replace(fast, status="out_of_service")}) == [
        "water_rescue_coast"]
    heli = units["ecsrfs-wz-heli-1"]
    moved = replace(heli, lat=27.50, lon=121.00, position_time=NOW)
    assert set(step(NOW, **{"ecsrfs-wz-heli-1": moved})) == {"hoist_sea"}
    assert step(NOW, **{"ecsrb-dt-fast": replace(fast, status="available")}) == [
        "water_rescue_coast"]
    assert "medical_land" in step(NOW, **{"x-nanji-med": None})
    step(NOW, **{"x-new": res("x-new", "land_team", ["medical"], 27.55, 119.75,
                              area="330329")})
    # an hour later the fixes are stale (the helicopter's, the boat's, the new team's): each
    # counts at its home base again, and only their targets are recomputed
    assert set(step(NOW + timedelta(hours=1))) == {"hoist_sea", "water_rescue_coast",
                                                   "medical_land"}
    # a busy unit's reports change nothing
    boat = replace(units["x-boat"], status="en_route")
    step(NOW + timedelta(hours=1), **{"x-boat": boat})
    assert step(NOW + timedelta(hours=1), **{"x-boat": replace(boat, lat=27.71)}) == []
    assert cov.refresh(units.values(), NOW + timedelta(hours=1)).units == 0
