"""Exactness of the pruned ranking: on random registries near Wenzhou (real geography, real
ResourceIndex), the top k and the plan pool equal `rank_brute_force` for every mode, with stale
positions, grounded aircraft and out-of-range aircraft in the mix."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from geo.areas import OutsideCoverage
from rescue.context import CountyGrouper
from rescue.dispatch import scanning
from rescue.dispatch.dispatcher import Dispatcher, DispatchRequest
from rescue.dispatch.eta import EtaModel
from rescue.dispatch.jurisdiction import Jurisdiction
from rescue.dispatch.plans import load_plans
from rescue.dispatch.policy import DispatchPolicy
from rescue.dispatch.ranked import settled_of
from rescue.dispatch.ranking import (
    Context,
    Query,
    rank,
    rank_brute_force,
    rank_many,
    rank_scan,
)
from rescue.dispatch.sources import IndexSource, ListSource
from resources.spatial import ResourceIndex
from resources.vocabulary import Vocabulary
from tests.unit.test_dispatch_helpers import NOW, geography, res

KINDS = {  # kind -> (speed range km/h, readiness range s)
    "land_team": ((30, 70), (120, 900)), "volunteer_team": ((20, 50), (300, 1800)),
    "helicopter": ((180, 280), (600, 1500)), "drone": ((50, 110), (60, 300)),
    "fixed_wing": ((250, 400), (1200, 2400)),
    "vessel": ((20, 45), (600, 1800)), "volunteer_vessel": ((12, 30), (300, 1200)),
}
AREAS = ("330302", "330303", "330305", "330326", "330328", "330381", "3303", "33", "331002")
CAPS = ("medevac", "search")


def registry(seed: int, n: int, center: tuple[float, float]):
    rng = np.random.default_rng(seed)
    out = []
    kinds = list(KINDS)
    for i in range(n):
        kind = kinds[rng.integers(len(kinds))]
        (s0, s1), (r0, r1) = KINDS[kind]
        lat = center[0] + rng.normal(0, 0.25)
        lon = center[1] + rng.normal(0, 0.3)
        air = kind in ("helicopter", "drone", "fixed_wing")
        rng_km = float(rng.uniform(20, 300)) if air and rng.random() < 0.5 else None
        age = [30.0, 600.0, 3600.0, None][rng.integers(4)]
        home = (lat + rng.normal(0, 0.05), lon + rng.normal(0, 0.05))
        caps = [c for c in CAPS if rng.random() < 0.6] or [CAPS[0]]
        status = "available" if rng.random() < 0.9 else "assigned"
        # integer speeds and readiness make exact ETA ties (and the id tie-break) likely
        out.append(res(f"r{i:04d}", kind, caps, lat, lon, area=AREAS[rng.integers(len(AREAS))],
                       speed=float(rng.integers(s0, s1)), ready=float(rng.integers(r0, r1) // 60 * 60),
                       rng=rng_km, age_s=age, home=home, status=status))
    return out


def context(lat, lon, weather=None, policy=None):
    geo = geography()
    try:
        loc = geo.areas.locate(lat, lon)
    except OutsideCoverage:
        assume(False)
    pol = policy or DispatchPolicy()
    return Context(lat, lon, EtaModel(lat, lon, loc, geo, pol, weather),
                   Jurisdiction(geo.areas, loc), pol, NOW)


def rows(result):
    return ([(c.resource_id, c.eta_s, round(c.distance_km, 9), c.relation, c.reason)
             for c in result.candidates],
            [(c.resource_id, c.cost) for c in result.pool])


# Anywhere near Wenzhou, and the cases no land unit (or only an island's) can reach: Nanji and
# Dongtou islands, the open sea off Nanji.
ISLANDS = [(27.465, 121.065), (27.8357, 121.1567), (27.43, 121.12), (27.47, 121.09)]
points = st.one_of(st.tuples(st.floats(27.5, 28.2), st.floats(120.4, 121.6)),
                   st.sampled_from(ISLANDS))


def indexed(rs, zoned: bool) -> ResourceIndex:
    """The index as the server builds it (zoned by land reach: settled units are counted, not
    walked; grouped by county: a county's own units are walked apart) or bare (one walk of
    every unit)."""
    if not zoned:
        return ResourceIndex.build(rs, Vocabulary.default())
    return ResourceIndex.build(rs, Vocabulary.default(), zoner=geography().reach.components,
                               grouper=CountyGrouper(geography))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), n=st.integers(1, 150), point=points,
       k=st.integers(1, 8), pool=st.integers(0, 6),
       modes=st.sampled_from([("air",), ("sea",), ("land",), None, ("air", "sea")]),
       wind=st.sampled_from([None, 40.0, 70.0, 100.0]),
       stale_fallback=st.booleans(), zoned=st.booleans())
def test_pruned_ranking_equals_brute_force(seed, n, point, k, pool, modes, wind, stale_fallback,
                                           zoned):
    rs = registry(seed, n, point)
    index = indexed(rs, zoned)
    src = IndexSource(index, batch=8)
    weather = None if wind is None else {"wind_kmh": wind, "visibility_km": 5.0}
    ctx = context(*point, weather, DispatchPolicy(stale_fallback=stale_fallback))
    for cap in CAPS:
        q = Query(cap, k=k, pool=pool, modes=modes, kinds=("helicopter", "vessel"))
        fast = rank(src, q, ctx)
        brute = rank_brute_force(src, q, ctx)
        assert rows(fast) == rows(brute)
        # an independent oracle: plain Resource records, no index at all
        assert rows(rank_brute_force(ListSource(rs), q, ctx)) == rows(brute)
        if fast.exhausted and not fast.skipped:
            assert (fast.feasible, fast.matched, fast.outcomes) == (brute.feasible,
                                                                    brute.matched, brute.outcomes)
        else:
            assert fast.feasible >= max(k, pool)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), n=st.integers(1, 150), point=points,
       k=st.integers(1, 8), pool=st.integers(0, 6),
       modes=st.lists(st.sampled_from([("air",), ("sea",), ("land",), None, ("air", "sea")]),
                      min_size=1, max_size=4),
       wind=st.sampled_from([None, 70.0]))
def test_lockstep_ranking_equals_each_ranking_alone(seed, n, point, k, pool, modes, wind):
    """rank_many (one model evaluation per round for every requirement still walking) gives
    each requirement exactly what `rank` alone gives: lists, statistics, and the oracle's."""
    rs = registry(seed, n, point)
    index = indexed(rs, seed % 2 == 0)
    src = IndexSource(index, batch=8)
    weather = None if wind is None else {"wind_kmh": wind, "visibility_km": 5.0}
    ctx = context(*point, weather)
    qs = [Query(CAPS[i % 2], k=k, pool=pool, modes=m, kinds=(("helicopter",), None)[i % 2])
          for i, m in enumerate(modes)]
    together = rank_many(src, qs, ctx)
    for q, got in zip(qs, together, strict=True):
        alone = rank(src, q, ctx)
        assert rows(got) == rows(alone) == rows(rank_brute_force(src, q, ctx))
        assert (got.matched, got.feasible, got.outcomes, got.skipped, got.batches,
                got.exhausted) == (alone.matched, alone.feasible, alone.outcomes, alone.skipped,
                                   alone.batches, alone.exhausted)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), point=points,
       category=st.sampled_from(["building_collapse", "maritime_distress", "medical_evacuation",
                                 "vessel_fire"]),
       severity=st.sampled_from(["I", "II", "III", "IV"]), zoned=st.booleans(),
       scan=st.booleans())
def test_whole_suggestion_equals_brute_force(seed, point, category, severity, zoned, scan):
    rs = registry(seed, 120, point)
    caps = ("heavy_rescue", "medical", "structural_expert", "medevac", "hoist", "water_rescue",
            "search", "firefighting", "towing", "search_dog")
    rng = np.random.default_rng(seed)
    rs = [r.__class__(**{**{f: getattr(r, f) for f in r.__slots__},
                         "capabilities": tuple(sorted(set(rng.choice(caps, 3))))}) for r in rs]
    index = indexed(rs, zoned)
    # the walks, never a scan; or a (pruned) scan for every requirement
    d = Dispatcher(geography(), load_plans(), scan_below=10**6 if scan else 0)
    try:
        req = DispatchRequest(point[0], point[1], category, severity)
        fast = d.suggest(index, req, now=NOW, k=5)
    except Exception as exc:  # noqa: BLE001 - only "outside coverage" is acceptable here
        assume(type(exc).__name__ != "ValidationError")
        raise
    brute = d.suggest(index, req, now=NOW, k=5, method="brute_force")
    assert fast.to_dict() == brute.to_dict()
    # the plan pools too (the plan shows only what the assignment took from them)
    assert [rows(r.ranking)[1] for r in fast.requirements] == \
        [rows(r.ranking)[1] for r in brute.requirements]


def test_pruning_examines_far_fewer_candidates():
    center = (27.95, 120.65)
    rs = registry(7, 3000, center)
    index = ResourceIndex.build(rs, Vocabulary.default())
    ctx = context(*center)
    q = Query("search", k=5, pool=0, modes=("land",))
    fast = rank(IndexSource(index, batch=8), q, ctx)
    brute = rank_brute_force(IndexSource(index), q, ctx)
    assert rows(fast) == rows(brute)
    # rows read (matched) and rows whose ETA was worked out (not skipped by their bound)
    assert not fast.exhausted and fast.matched < brute.matched / 4
    assert fast.matched - fast.skipped < brute.matched / 20


@pytest.mark.parametrize("modes", [("air",), ("land",), ("sea",)])
def test_every_mode_returns_candidates_of_that_mode(modes):
    rs = registry(3, 400, (27.9, 121.0))
    index = ResourceIndex.build(rs, Vocabulary.default())
    ctx = context(27.85, 121.3)  # at sea east of Dongtou: sea and air, never land
    got = rank(IndexSource(index), Query("search", k=5, modes=modes), ctx)
    if modes == ("land",):
        assert got.candidates == [] and got.outcomes["unreachable"] > 0
    else:
        assert got.candidates and {c.mode for c in got.candidates} == set(modes)


def test_bounds_kept_across_requests_are_per_exercise():
    """A live request must not leave its (max speed, min readiness) for an exercise's request:
    faster exercise units would make the lower bound too high and stop the walk too early."""
    center = (27.95, 120.65)
    rs = [res(f"live{i}", "land_team", ["search"], center[0] + 0.01 * i, center[1],
              speed=41.0, ready=0.0) for i in range(1, 4)]
    rs += [res(f"slow{i}", "land_team", ["search"], center[0] + 0.02 * i, center[1],
               speed=40.0, ready=0.0, exercise="ex1") for i in range(1, 6)]
    rs.append(res("fast", "land_team", ["search"], center[0] + 0.18, center[1], speed=1000.0,
                  ready=0.0, exercise="ex1"))
    index = ResourceIndex.build(rs, Vocabulary.default())
    shared: dict = {}
    q = Query("search", k=1, modes=("land",))
    live = context(*center)
    rank(IndexSource(index, batch=2, shared_cache=shared), q, live)
    ex = context(*center)
    ex.exercise = "ex1"
    got = rank(IndexSource(index, batch=2, shared_cache=shared), q, ex)
    brute = rank_brute_force(IndexSource(index), q, ex)
    assert brute.candidates[0].resource_id == "fast"
    assert rows(got) == rows(brute)


def test_the_scan_sorts_what_it_needs_in_order() -> None:
    rng = np.random.default_rng(3)
    for n in (0, 5, scanning.SCAN_FIRST, 3 * scanning.SCAN_FIRST + 7):
        opt = rng.integers(0, 50, n)  # many ties across the cut
        cost = opt + rng.choice([0, 600], n)  # with a penalty or none
        got = list(scanning._ascending(opt, cost))
        joined = np.concatenate([o for o, _ in got]) if got else np.empty(0, np.int64)
        assert sorted(joined.tolist()) == list(range(n))
        assert (np.diff(opt[joined]) >= 0).all()
        rests = np.concatenate([r for _, r in got]) if got else np.empty(0)
        for i in rng.integers(0, max(n, 1), 20) if n else ():  # the least cost from i on
            assert rests[i] == cost[joined[i:]].min()


@pytest.mark.parametrize("seed", [1, 2])
def test_a_scan_over_thousands_equals_brute_force_and_classifies_few(seed) -> None:
    """Beyond SCAN_FIRST units the scan sorts its first piece only; lists, pools and counts
    are still the brute force's (ListSource: everything; IndexSource: lazy columns)."""
    center = (27.95, 120.65)
    rs = registry(seed, 3 * scanning.SCAN_FIRST, center)
    index = ResourceIndex.build(rs, Vocabulary.default())
    ctx = context(*center)
    for q in (Query("search", k=5, pool=3, modes=("land",)),
              Query("medevac", k=8, pool=2, modes=("air", "land"))):
        brute = rank_brute_force(IndexSource(index), q, ctx)
        for source in (IndexSource(index), ListSource(rs)):
            got = rank_scan(source, q, ctx)
            assert rows(got) == rows(brute)
            assert got.matched == brute.matched and got.land_matched == brute.land_matched
            assert got.matched - got.skipped < brute.matched / 10


@pytest.mark.parametrize(("seed", "after"), [(3, 1), (4, 1), (3, 3), (4, 4)])
def test_walks_over_budget_are_finished_by_scans(seed, after, monkeypatch) -> None:
    """A walk still going when its time is up (ranking.WALK_BUDGET of the scans' estimated
    cost) hands over to a scan, and the lists are the brute force's either way; a source
    told not to scan never hands over."""
    from rescue.dispatch import ranking

    center = (27.95, 120.65)
    rs = registry(seed, 400, center)
    index = indexed(rs, True)
    ctx = context(*center)
    qs = [Query("search", k=5, pool=3, modes=("land",)),
          Query("medevac", k=4, pool=2, modes=("air", "land"), kinds=("helicopter",))]
    scanned = []

    def counted(source, q, ctx, settled=None):
        scanned.append(q.capability)
        return rank_scan(source, q, ctx, settled)

    monkeypatch.setattr(ranking, "rank_scan", counted)
    looks = iter(range(10**6))  # the time is up from the `after`-th look on (rounds walked)
    monkeypatch.setattr(ranking, "CLOCK", lambda: 0.0 if next(looks) < after else 1e9)
    src = IndexSource(index, batch=4, scan_below=1)  # (every requirement walks first)
    handed = rank_many(src, qs, ctx)
    assert sorted(scanned) == sorted(q.capability for q in qs)
    for q, got in zip(qs, handed, strict=True):
        assert rows(got) == rows(rank_brute_force(src, q, ctx))
    scanned.clear()
    walked = rank_many(IndexSource(index, batch=4), qs, ctx)  # scan_below 0: walks only
    assert scanned == []
    for q, got in zip(qs, walked, strict=True):
        assert rows(got) == rows(rank_brute_force(src, q, ctx))


def test_a_sea_scan_asks_the_nearest_first() -> None:
    """Where sea routes are asked the first chunk stops past NEAR_SPREAD of the k-th (or m-th)
    optimistic ETA, at least k (m) units; the answers stay the brute force's."""
    from rescue.dispatch.scanning import _near

    opt = np.array([100.0, 110, 115, 130, 200, 600, 900])
    assert _near(opt, 3) == 4  # 115 * 1.2 = 138
    assert _near(opt, 5) == 5
    assert _near(opt[:2], 5) == 2
    for seed, point in ((5, ISLANDS[0]), (6, ISLANDS[2]), (7, (27.7, 121.3))):
        rs = registry(seed, 600, point)
        src = IndexSource(indexed(rs, True), scan_below=10**6)
        ctx = context(*point)
        for q in (Query("search", k=5, pool=3, modes=("sea",)),
                  Query("medevac", k=3, pool=6, modes=None, kinds=("vessel",))):
            got = rank_scan(src, q, ctx, settled_of(src, ctx))
            assert rows(got) == rows(rank_brute_force(src, q, ctx))
