"""ResourceIndex: exact nearest-first walks against a brute-force haversine ranking."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.distance import haversine_km
from resources import spatial_walk
from resources.model import Home, Resource
from resources.spatial import IndexFilter, ResourceIndex
from resources.spatial_parts import TIERS, readiness_tiers
from resources.spatial_trees import Job
from resources.vocabulary import STATUSES, Vocabulary

VOCAB = Vocabulary.default()
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
CAPS = ("hoist", "medevac", "water_rescue", "search", "search_dog")
KINDS = ("land_team", "helicopter", "vessel")
AREAS = ("330302", "330305", "330305M", "3303", "330305001", "3304")


def unit(id: str, lat: float, lon: float, *, pos=None, age_s=None, caps=("search",),
         kind="land_team", status="available", area="330302", exercise=None,
         ready=300.0) -> Resource:
    plat, plon = pos if pos is not None else (None, None)
    ptime = None if age_s is None or pos is None else NOW - timedelta(seconds=age_s)
    return Resource(
        id=id, name=id, call_sign=None, kind=kind, tier=None, agency=None,
        capabilities=tuple(sorted(caps)), crew=1, capacity=0, speed_kmh=50.0,
        readiness_s=ready, range_km=500.0 if kind == "helicopter" else None,
        home=Home(None, lat, lon), lat=plat, lon=plon, position_time=ptime, status=status,
        area=area, exercise=exercise,
    )


def effective(r: Resource, max_age_s: float) -> tuple[float, float, bool]:
    if r.has_position and r.position_time is not None and \
            (NOW - r.position_time).total_seconds() <= max_age_s:
        return r.lat, r.lon, False
    return r.home.lat, r.home.lon, True


def matches(r: Resource, f: IndexFilter) -> bool:
    return ((f.kinds is None or r.kind in f.kinds)
            and (f.statuses is None or r.status in f.statuses)
            and set(f.capabilities_all or ()) <= set(r.capabilities)
            and (f.capabilities_any is None or bool(set(f.capabilities_any) & set(r.capabilities)))
            and (f.area_prefix is None or r.area.startswith(f.area_prefix))
            and (f.group is None or (county(r.area) == f.group) != f.group_out)
            and (f.tiers is None or int(readiness_tiers(r.readiness_s)) in f.tiers)
            and r.exercise == f.exercise)


def county(area: str) -> str | None:
    """A made-up grouper: the first six digits of a code that long."""
    return area[:6] if len(area) >= 6 else None


def zone_of(lat: float, lon: float) -> int:
    """A made-up land reach: sea south of 27.6 N (-1), an island east of 120.9 E (1), the
    mainland (0)."""
    return -1 if lat < 27.6 else (1 if lon > 120.9 else 0)


def zoner(lats, lons):
    return np.array([zone_of(a, o) for a, o in zip(lats, lons, strict=True)], dtype=np.int32)


def brute(rs, lat, lon, f, max_age_s=1800.0):
    out = []
    for r in rs:
        if matches(r, f):
            elat, elon, fh = effective(r, max_age_s)
            if f.zone is not None and VOCAB.mode_of(r.kind) == "land" and \
                    zone_of(elat, elon) != f.zone:
                continue
            out.append((float(haversine_km(lat, lon, elat, elon)), r.id, fh, (elat, elon)))
    out.sort(key=lambda t: (t[0], t[1]))
    return out


def walked(idx: ResourceIndex, lat, lon, f, batch=4, max_age_s=1800.0, reach_km=None):
    """Every batch of a walk; with `reach_km` (a hint) the walk also reports its frontiers,
    which must never pass a resource it has yet to yield."""
    out = []
    extra = {} if reach_km is None else {"reach_km": lambda: reach_km, "frontiers": True}
    frontier = 0.0
    for b in idx.walk(lat, lon, where=f, now=NOW, max_age_s=max_age_s, batch=batch, **extra):
        assert len(b) <= batch and (len(b) > 0 or reach_km is not None)
        for row, km, la, lo, fh in zip(b.rows, b.km, b.lat, b.lon, b.from_home, strict=True):
            assert km >= frontier - 1e-9
            out.append((float(km), idx.ids[row], bool(fh), (float(la), float(lo))))
        if not np.isnan(b.frontier):
            assert b.frontier >= frontier - 1e-9
            frontier = b.frontier
    return out


def assert_same_ranking(got, want):
    assert sorted(g[1] for g in got) == sorted(w[1] for w in want)
    info = {w[1]: w for w in want}
    for g in got:
        w = info[g[1]]
        assert g[0] == pytest.approx(w[0], abs=1e-6)
        assert g[2] == w[2] and g[3] == w[3]
    for a, b in zip(got, got[1:], strict=False):
        assert b[0] >= a[0] - 1e-9
        if a[3] == b[3]:  # same place: exact tie, broken by id
            assert a[1] < b[1]
    assert [g[0] for g in got] == pytest.approx([w[0] for w in want], abs=1e-6)


# ------------------------------------------------------------------------ unit tests


def test_nearest_orders_by_great_circle_distance_with_filter() -> None:
    rs = [unit("a", 28.00, 120.60), unit("b", 28.10, 120.60, caps=("hoist",)),
          unit("c", 27.90, 120.60, status="assigned"), unit("d", 28.50, 120.60)]
    idx = ResourceIndex.build(rs, VOCAB)
    hits = idx.nearest(28.0, 120.6, 10, now=NOW)
    assert [h.resource.id for h in hits] == ["a", "b", "d"]  # c is not available
    assert hits[0].km == pytest.approx(0.0)
    assert hits[1].km == pytest.approx(haversine_km(28, 120.6, 28.1, 120.6))
    hoist = idx.nearest(28.0, 120.6, 5, where=IndexFilter(capabilities_all=frozenset({"hoist"})),
                        now=NOW)
    assert [h.resource.id for h in hoist] == ["b"]
    anyst = idx.nearest(28.0, 120.6, 5, where=IndexFilter(statuses=None), now=NOW)
    assert [h.resource.id for h in anyst][:3] == ["a", "b", "c"]


def test_stale_position_falls_back_to_home() -> None:
    r = unit("a", 28.0, 120.6, pos=(27.0, 121.0), age_s=60)
    idx = ResourceIndex.build([r], VOCAB)
    [h] = idx.nearest(27.0, 121.0, 1, now=NOW)
    assert not h.from_home and h.km == pytest.approx(0.0)
    [h] = idx.nearest(27.0, 121.0, 1, now=NOW, max_age_s=30)
    assert h.from_home and h.km == pytest.approx(haversine_km(27, 121, 28, 120.6))
    # a position with no time is never trusted
    idx.upsert(replace(r, position_time=None))
    [h] = idx.nearest(27.0, 121.0, 1, now=NOW)
    assert h.from_home


def test_upsert_remove_and_rebuild_keep_answers_exact() -> None:
    rng = np.random.default_rng(1)
    rs = [unit(f"r{i:03d}", 27.5 + rng.random(), 120.3 + rng.random()) for i in range(300)]
    idx = ResourceIndex.build(rs, VOCAB)
    idx.REBUILD_MIN = 64  # rebuild several times in this run
    cur = {r.id: r for r in rs}
    for step in range(400):
        rid = f"r{rng.integers(0, 330):03d}"
        if step % 7 == 0 and rid in cur:
            idx.remove(rid)
            del cur[rid]
        else:
            base = cur.get(rid) or unit(rid, 27.5 + rng.random(), 120.3 + rng.random())
            nr = replace(base, lat=27.5 + rng.random(), lon=120.3 + rng.random(),
                         position_time=NOW - timedelta(seconds=float(rng.integers(0, 3600))))
            idx.upsert(nr)
            cur[rid] = nr
        if step % 50 == 49:  # a walk now and then: the overflowing overlay is rebuilt
            f = IndexFilter()
            assert_same_ranking(walked(idx, 28.0, 120.8, f), brute(cur.values(), 28.0, 120.8, f))
    assert idx.rebuilds > 0 and len(idx) == len(cur)
    f = IndexFilter()
    assert_same_ranking(walked(idx, 28.0, 120.8, f), brute(cur.values(), 28.0, 120.8, f))


def test_without_a_builder_writes_alone_never_rebuild() -> None:
    """An index without a background builder rebuilds when a walk needs its trees, not on
    the write that filled the overlay (a simulation's writes would pay for unread trees)."""
    rs = [unit(f"r{i:03d}", 27.5 + i / 300, 120.5) for i in range(300)]
    idx = ResourceIndex.build(rs, VOCAB)
    idx.REBUILD_MIN = idx.REBUILD_MAX = 16
    for i, r in enumerate(rs[:200]):
        idx.upsert(replace(r, lat=28.5 - i / 300, lon=120.6, position_time=NOW))
    assert idx.rebuilds == 0 and len(idx._ov) == 200
    [h] = idx.nearest(28.5, 120.6, 1, now=NOW)
    assert h.resource.id == "r000" and idx.rebuilds == 1 and len(idx._ov) == 0


def test_place_and_move_index_the_same_unit() -> None:
    """`place` (a feed holding the moved unit) leaves the index as `move` does."""
    rs = [unit(f"r{i:02d}", 27.5 + i / 100, 120.5) for i in range(40)]
    a, b = ResourceIndex.build(rs, VOCAB), ResourceIndex.build(rs, VOCAB)
    for i, r in enumerate(rs[:20]):
        t = NOW - timedelta(seconds=i)
        assert a.move(r.id, 28.0 - i / 200, 120.6, t, r.version + 1)
        assert b.place(replace(r, lat=28.0 - i / 200, lon=120.6, position_time=t,
                               version=r.version + 1))
    assert not a.move("nobody", 28, 120, NOW, 2) and not b.place(unit("nobody", 28, 120))
    assert [a.get(r.id) for r in rs] == [b.get(r.id) for r in rs]
    assert walked(a, 28.0, 120.6, IndexFilter()) == walked(b, 28.0, 120.6, IndexFilter())


def test_place_many_indexes_as_place_one_by_one() -> None:
    """A tick's moves at once (`place_many`): the same units, columns, overlay and walks as
    `place` of each, rounds after rounds, with units that do not move, lose their position
    or are not indexed."""
    rng = np.random.default_rng(5)
    rs = [unit(f"r{i:02d}", 27.5 + i / 100, 120.5, pos=(27.6, 120.4) if i % 3 else None,
               age_s=5) for i in range(60)]
    a, b = ResourceIndex.build(rs, VOCAB), ResourceIndex.build(rs, VOCAB)
    current = {r.id: r for r in rs}
    gen0 = {x: x._c["pos_gen"][: x._n].copy() for x in (a, b)}  # generations count from here
    for k in range(6):
        batch = []
        for i in rng.choice(60, size=40, replace=False).tolist():
            r = current[f"r{i:02d}"]
            lat, lon = ((None, None) if i % 11 == 0 else (r.lat, r.lon) if i % 7 == 0
                        else (27.0 + rng.random(), 120.0 + rng.random()))
            batch.append(replace(r, lat=lat, lon=lon, position_time=NOW + timedelta(minutes=k),
                                 version=r.version + 1))
        for r in batch:
            assert a.place(r)
            current[r.id] = r
        b.place_many([*batch, unit("nobody", 28, 120, pos=(28, 120))])
        assert [a.get(r.id) for r in rs] == [b.get(r.id) for r in rs]
        for col in ("pos_lat", "pos_lon", "position_time", "pos_zone"):
            assert np.array_equal(a._c[col][: a._n], b._c[col][: b._n], equal_nan=True), col
        assert np.array_equal(a._c["pos_gen"][: a._n] - gen0[a], b._c["pos_gen"][: b._n] - gen0[b])
        assert sorted(a._ov._slot) == sorted(b._ov._slot)
        for lat, lon in ((27.5, 120.5), (28.0, 120.9)):
            assert walked(a, lat, lon, IndexFilter()) == walked(b, lat, lon, IndexFilter())
    b.place_many([])  # nothing to do


def test_new_capability_or_kind_is_found_before_any_rebuild() -> None:
    rs = [unit(f"u{i:02d}", 28 + i * 0.01, 120.5) for i in range(50)]
    rs.append(unit("h", 28.3, 120.5, caps=("hoist",), kind="helicopter"))
    idx = ResourceIndex.build(rs, VOCAB)
    idx.upsert(replace(rs[0], capabilities=("hoist",)))
    idx.upsert(replace(rs[1], kind="helicopter", range_km=300.0))
    hoist = IndexFilter(capabilities_all=frozenset({"hoist"}))
    assert [h.resource.id for h in idx.nearest(28, 120.5, 3, where=hoist, now=NOW)] == ["u00", "h"]
    heli = IndexFilter(kinds=frozenset({"helicopter"}))
    assert [h.resource.id for h in idx.nearest(28, 120.5, 3, where=heli, now=NOW)] == ["u01", "h"]
    assert idx.rebuilds == 0


def test_columns_and_resource_by_row() -> None:
    r = unit("h", 28.0, 120.6, kind="helicopter", caps=("hoist", "medevac"), pos=(28.1, 120.7),
             age_s=10, area="3303")
    idx = ResourceIndex.build([r, unit("x", 1, 2)], VOCAB)
    row = idx.row_of("h")
    assert idx.ids[row] == "h" and idx.resource(row) is r and idx.get("h") is r
    assert idx.kind_code[row] == VOCAB.kind_code("helicopter")
    assert int(idx.cap_mask[row]) == VOCAB.capability_mask(["hoist", "medevac"])
    assert idx.range_km[row] == 500.0 and np.isnan(idx.range_km[idx.row_of("x")])
    assert idx.position_time[row] == pytest.approx((NOW - timedelta(seconds=10)).timestamp())
    assert (idx.pos_lat[row], idx.home_lon[row]) == (28.1, 120.6)
    assert idx.area[row] == "3303" and idx.exercise[row] is None
    assert np.isnan(idx.pos_lat[idx.row_of("x")])


def test_filters_area_exercise_kinds_any() -> None:
    rs = [unit("a", 28, 120.6, area="330305M", kind="vessel", caps=("water_rescue",)),
          unit("b", 28, 120.7, area="330305001", caps=("search_dog",)),
          unit("c", 28, 120.8, area="3304"), unit("e", 28, 120.6, exercise="ex1")]
    idx = ResourceIndex.build(rs, VOCAB)

    def ids(**kw):
        return [h.resource.id for h in idx.nearest(28, 120.6, 10, where=IndexFilter(**kw),
                                                   now=NOW)]
    assert ids(area_prefix="330305") == ["a", "b"]
    assert ids(area_prefix="330305M") == ["a"]
    assert ids(exercise="ex1") == ["e"]
    assert ids(exercise="nope") == []
    assert ids(kinds=frozenset({"vessel"})) == ["a"]
    assert ids(capabilities_any=frozenset({"search_dog", "water_rescue"})) == ["a", "b"]
    assert ids(capabilities_all=frozenset({"not_a_capability"})) == []


def test_bounds_and_version() -> None:
    rs = [unit("a", 28, 120.6, caps=("hoist",), kind="helicopter"),
          unit("b", 28, 120.7, caps=("hoist",), kind="helicopter", status="assigned"),
          unit("c", 28, 120.8)]
    rs[1] = replace(rs[1], speed_kmh=300.0, readiness_s=60.0)
    idx = ResourceIndex.build(rs, VOCAB)
    hoist = IndexFilter(capabilities_all=frozenset({"hoist"}))
    assert classes(idx.bounds(hoist)) == [(300.0, 60.0)]  # whatever the status
    assert idx.bounds(IndexFilter(capabilities_all=frozenset({"diving"}))) is None
    v = idx.version
    idx.upsert(replace(rs[0], lat=28.1, lon=120.6, position_time=NOW, status="assigned"))
    assert idx.version == v  # moves and status changes keep bounds valid
    idx.upsert(replace(rs[0], speed_kmh=400.0))
    # the readiest and the fastest bound apart: neither beats the other everywhere
    assert idx.version > v and classes(idx.bounds(hoist)) == [(300.0, 60.0), (400.0, 300.0)]
    idx.upsert(replace(rs[0], speed_kmh=250.0))  # slower and less ready: bounds nothing
    assert classes(idx.bounds(hoist)) == [(300.0, 60.0)]


def classes(bounds):
    return list(zip(bounds[0].tolist(), bounds[1].tolist(), strict=True))


def test_empty_index() -> None:
    idx = ResourceIndex.build([], VOCAB)
    assert idx.nearest(28, 120, 3, now=NOW) == [] and list(idx.walk(28, 120, now=NOW)) == []
    idx.upsert(unit("a", 28, 120))
    assert [h.resource.id for h in idx.nearest(28, 120, 3, now=NOW)] == ["a"]


# ------------------------------------------------------------------------ property test

# A coarse grid makes duplicate places (exact ties) and shared homes common.
coord = st.tuples(st.integers(0, 6).map(lambda i: 27.6 + 0.1 * i),
                  st.integers(0, 6).map(lambda i: 120.5 + 0.1 * i))
free_coord = st.tuples(st.floats(27.0, 29.0), st.floats(120.0, 122.0))
place = st.one_of(coord, free_coord)


@st.composite
def resources_st(draw, id):
    home = draw(place)
    pos = draw(st.one_of(st.none(), place))
    return unit(id, *home, pos=pos, age_s=draw(st.sampled_from([None, 0, 600, 1800, 1801, 7200])),
                caps=draw(st.sets(st.sampled_from(CAPS), max_size=3)),
                kind=draw(st.sampled_from(KINDS)),
                status=draw(st.sampled_from(STATUSES[:3])),
                area=draw(st.sampled_from(AREAS)),
                exercise=draw(st.sampled_from([None, None, "ex1"])), ready=draw(readiness))


readiness = st.sampled_from([60.0, 300.0, 301.0, 900.0, 4000.0])  # across the index's tiers


filters = st.builds(
    IndexFilter,
    kinds=st.one_of(st.none(), st.sets(st.sampled_from(KINDS), min_size=1).map(frozenset)),
    capabilities_all=st.one_of(st.none(), st.sets(st.sampled_from(CAPS), min_size=1,
                                                  max_size=2).map(frozenset)),
    capabilities_any=st.one_of(st.none(), st.sets(st.sampled_from(CAPS), min_size=1, max_size=2).map(frozenset)),
    statuses=st.one_of(st.none(), st.just(frozenset({"available"})),
                       st.sets(st.sampled_from(STATUSES[:3]), min_size=1).map(frozenset)),
    area_prefix=st.sampled_from([None, "33", "3303", "330305", "330305M"]),
    exercise=st.sampled_from([None, "ex1"]),
    tiers=st.one_of(st.none(), st.sets(st.integers(0, TIERS - 1), min_size=1).map(frozenset)),
)


@st.composite
def scenario(draw):
    n = draw(st.integers(0, 40))
    initial = [draw(resources_st(f"u{i:02d}")) for i in range(n)]
    ops = []
    for _ in range(draw(st.integers(0, 40))):
        i = draw(st.integers(0, n + 5))
        kind = draw(st.sampled_from(["move", "move", "replace", "regroup", "regroup", "remove"]))
        if kind == "regroup":  # same places, other kind / capabilities / status / readiness
            ops.append(("regroup", f"u{i:02d}", (draw(st.sampled_from(KINDS)),
                        tuple(sorted(draw(st.sets(st.sampled_from(CAPS), max_size=3)))),
                        draw(st.sampled_from(STATUSES[:3])), draw(readiness)), None))
        elif kind == "move":
            ops.append(("move", f"u{i:02d}", draw(place), draw(st.sampled_from([0, 100, 5000]))))
        elif kind == "replace":
            ops.append(("replace", f"u{i:02d}", draw(resources_st(f"u{i:02d}")), None))
        else:
            ops.append(("remove", f"u{i:02d}", None, None))
    return initial, ops


class Deferred:
    """A spawner whose builds finish when the test says: either the snapshot is read at once
    and the result handed over later (updates arrive while the thread builds), or the whole
    build runs later (the thread starts late)."""

    def __init__(self, read_now: bool) -> None:
        self.read_now, self.pending = read_now, []

    def __call__(self, fn):
        job = Job()
        self.pending.append((job, fn() if self.read_now else fn))
        return job

    def finish(self) -> None:
        for job, got in self.pending:
            job.result, job.done = (got if self.read_now else got()), True
        self.pending = []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sc=scenario(), q=place, f=filters, k=st.integers(1, 8), batch=st.integers(1, 9),
       threshold=st.integers(1, 10), zone=st.sampled_from([None, None, -1, 0, 1]),
       background=st.sampled_from([None, True, False]), finish_every=st.integers(1, 6),
       group=st.sampled_from([None, None, "330305", "330302", "999999"]),
       group_out=st.booleans(), whole=st.booleans(),
       reach=st.sampled_from([None, 0.0, 5.0, 40.0]))
def test_walk_and_nearest_equal_brute_force(sc, q, f, k, batch, threshold, zone, background,
                                            finish_every, group, group_out, whole,
                                            reach) -> None:
    saved = spatial_walk.READ_WHOLE
    spatial_walk.READ_WHOLE = saved if whole else 0  # small trees by rounds too
    try:
        _walk_and_nearest(sc, q, f, k, batch, threshold, zone, background, finish_every,
                          group, group_out, reach)
    finally:
        spatial_walk.READ_WHOLE = saved


def _walk_and_nearest(sc, q, f, k, batch, threshold, zone, background, finish_every, group,
                      group_out, reach) -> None:
    initial, ops = sc
    spawn = None if background is None else Deferred(read_now=background)
    idx = ResourceIndex.build(initial, VOCAB, zoner=zoner if zone is not None else None,
                              spawn=spawn, grouper=county if group is not None else None)
    f = replace(f, zone=zone, group=group, group_out=group_out)
    idx.REBUILD_MAX = threshold  # exercise the overlay and the rebuilds
    idx.COMPACT_MIN = threshold  # and compactions while a background build is under way
    cur = {r.id: r for r in initial}
    counted = replace(f, zone=None, area_prefix=None, group=None, group_out=False)
    assert idx.count(counted) == sum(matches(r, counted) for r in cur.values())  # then kept
    selected = replace(f, zone=None)
    assert_selects(idx, selected, cur)  # then kept
    for step, (op, rid, arg, age) in enumerate(ops):
        if spawn is not None and step % finish_every == 0:
            spawn.finish()
        if step % finish_every == 0:
            assert_selects(idx, selected, cur)
        if op == "remove":
            assert idx.remove(rid) == (rid in cur)
            cur.pop(rid, None)
        elif op == "replace":
            idx.upsert(arg)
            cur[rid] = arg
        elif op == "regroup" and rid in cur:
            kind, caps, status, ready = arg
            r = replace(cur[rid], kind=kind, capabilities=caps, status=status,
                        readiness_s=ready)
            idx.upsert(r)
            cur[rid] = r
        elif op == "move" and rid in cur:
            r = replace(cur[rid], lat=arg[0], lon=arg[1],
                        position_time=NOW - timedelta(seconds=age))
            idx.upsert(r)
            cur[rid] = r
    assert len(idx) == len(cur)
    assert idx.count(counted) == sum(matches(r, counted) for r in cur.values())
    assert_selects(idx, selected, cur)
    want = brute(cur.values(), q[0], q[1], f)
    assert_same_ranking(walked(idx, q[0], q[1], f, batch=batch, reach_km=reach), want)
    hits = idx.nearest(q[0], q[1], k, where=f, now=NOW)
    got = [(h.km, h.resource.id, h.from_home, effective(h.resource, 1800)[:2]) for h in hits]
    spatial_walk.NUMPY_ONLY = True  # the compiled step answers exactly as the NumPy path
    try:
        plain = idx.nearest(q[0], q[1], k, where=f, now=NOW)
    finally:
        spatial_walk.NUMPY_ONLY = False
    assert [(h.km, h.resource.id, h.from_home) for h in plain] == \
        [(h.km, h.resource.id, h.from_home) for h in hits]
    assert [g[0] for g in got] == pytest.approx([w[0] for w in want[:k]], abs=1e-6)
    if len(want) > k and want[k][0] - want[k - 1][0] > 1e-6 or len(want) <= k:
        assert {g[1] for g in got} == {w[1] for w in want[:k]}


def assert_selects(idx: ResourceIndex, f: IndexFilter, cur: dict[str, Resource]) -> None:
    """`select` gives the rows of exactly the live units matching, ascending, read-only."""
    rows = idx.select(f)
    assert list(rows) == sorted(set(rows.tolist()))
    assert sorted(idx.ids[rows].tolist()) == sorted(r.id for r in cur.values() if matches(r, f))
    assert all(idx.row_of(idx.ids[r]) == r for r in rows)
    with pytest.raises(ValueError):
        rows[:1] = 0


def test_select_keeps_rows_through_changes_and_dropped_logs() -> None:
    """Kept sets follow status changes, new units, removals, a new exercise, a compaction,
    and a log grown past its bound (the sets are dropped and found again)."""
    rs = [unit(f"u{i}", 27.9, 120.6 + i / 100, caps=("search", "hoist")[: 1 + i % 2])
          for i in range(12)]
    idx = ResourceIndex.build(rs, VOCAB)
    cur = {r.id: r for r in rs}
    f = IndexFilter(capabilities_all=frozenset({"hoist"}))
    g = IndexFilter(capabilities_all=frozenset({"search"}), exercise="ex9")
    for step in range(40):
        assert_selects(idx, f, cur)
        assert_selects(idx, g, cur)
        rid = f"u{step % 15}"
        if step % 7 == 3 and rid in cur:
            assert idx.remove(rid)
            del cur[rid]
            continue
        status = ("available", "assigned")[step % 2]
        base = cur.get(rid) or unit(rid, 27.8, 120.7, caps=("hoist", "search"))
        r = replace(base, status=status, exercise="ex9" if step == 20 else base.exercise)
        idx.upsert(r)
        cur[rid] = r
        if step == 30:
            idx.rebuild()
        idx._selections.LOG_MIN = 3 if step > 25 else 1024
    with pytest.raises(ValueError, match="zone"):
        idx.select(replace(f, zone=0))


def test_growing_batches_walk_the_same_order() -> None:
    rng = np.random.default_rng(4)
    rs = [unit(f"u{i:04d}", 27.9 + rng.normal(0, 0.2), 120.7 + rng.normal(0, 0.2),
               pos=(27.9 + rng.normal(0, 0.2), 120.7 + rng.normal(0, 0.2)),
               age_s=float(rng.choice([60.0, 7200.0])), caps=("search",)) for i in range(700)]
    rs += [unit("twin-b", 27.95, 120.75), unit("twin-a", 27.95, 120.75)]  # an exact tie
    idx = ResourceIndex.build(rs, Vocabulary.default())
    f = IndexFilter(capabilities_all=frozenset({"search"}))
    flat = walked(idx, 27.95, 120.75, f, batch=700)
    sizes, grown = [], []
    for b in idx.walk(27.95, 120.75, where=f, now=NOW, batch=4, grow=True):
        sizes.append(len(b))
        grown += [(float(km), idx.ids[r]) for r, km in zip(b.rows, b.km, strict=True)]
    assert grown == [(km, rid) for km, rid, _, _ in flat] and len(grown) == 702
    assert sizes[0] <= 4 and len(sizes) < 40 and max(sizes) > 64
    assert [rid for _, rid in grown[:2]] == ["twin-a", "twin-b"]


def test_walk_through_many_units_on_one_spot() -> None:
    """A base holding more units than a round's first query: the rounds widen from a
    radius of zero (every unit at the incident's own spot) and each unit comes once."""
    rs = [unit(f"b{i:03d}", 28.0, 120.6) for i in range(300)]
    rs += [unit(f"f{i:03d}", 28.0 + 0.01 * i, 120.6) for i in range(1, 30)]
    idx = ResourceIndex.build(rs, VOCAB)
    got = walked(idx, 28.0, 120.6, IndexFilter(), batch=4)
    assert_same_ranking(got, brute(rs, 28.0, 120.6, IndexFilter()))
    assert [g[1] for g in got[:300]] == sorted(r.id for r in rs[:300])  # ties by id


def test_a_failed_background_build_is_logged_and_built_inline(caplog) -> None:
    """The builder thread died (out of memory, a bug): the next update or walk logs it and
    rebuilds inline; answers stay exact."""
    def failing(fn):
        job = Job()
        job.error, job.done = MemoryError("no room for the trees"), True
        return job

    rs = [unit(f"u{i:03d}", 27.9 + 0.001 * i, 120.6) for i in range(50)]
    idx = ResourceIndex.build(rs, VOCAB, spawn=failing)
    idx.REBUILD_MAX, idx.REBUILD_MIN = 4, 4
    cur = {r.id: r for r in rs}
    for i in range(12):
        r = replace(cur[f"u{i:03d}"], lat=28.2, lon=120.7 + 0.001 * i, position_time=NOW)
        idx.upsert(r)
        cur[r.id] = r
    assert "background index build failed" in caplog.text and idx.rebuilds > 0
    assert_same_ranking(walked(idx, 28.0, 120.6, IndexFilter()),
                        brute(cur.values(), 28.0, 120.6, IndexFilter()))


def test_a_group_first_joined_after_a_walk_is_found() -> None:
    """A filter compiled while no unit was in its group (impossible then) is not reused once
    a unit joins it."""
    idx = ResourceIndex.build([unit("a", 27.9, 120.6, area="330302")], VOCAB, grouper=county)
    f = IndexFilter(group="330305")
    assert idx.nearest(27.9, 120.6, 3, where=f, now=NOW) == []
    assert len(idx.select(f)) == 0
    idx.upsert(unit("b", 27.9, 120.7, area="330305001"))
    assert [h.resource.id for h in idx.nearest(27.9, 120.6, 3, where=f, now=NOW)] == ["b"]
    assert idx.ids[idx.select(f)].tolist() == ["b"]



@pytest.mark.parametrize("numpy_only", [False, True])
def test_nearest_reads_a_moved_unit_at_its_new_place_only(numpy_only: bool) -> None:
    """A move leaves the unit's old tree entry behind (stale by generation) and its new one in
    the overlay: neither path may count the old one, whose place was the nearest."""
    rs = [unit(f"u{i}", 27.9 + i / 100, 120.6, pos=(27.9 + i / 100, 120.6), age_s=60)
          for i in range(40)]
    idx = ResourceIndex.build(rs, VOCAB)
    idx.upsert(replace(rs[0], lat=28.5, lon=121.2, position_time=NOW))  # far away now
    idx.upsert(replace(rs[1], status="assigned"))  # out of the filter, still in the tree
    spatial_walk.NUMPY_ONLY = numpy_only
    try:
        hits = idx.nearest(27.9, 120.6, 3, where=IndexFilter(), now=NOW)
        whole = idx.nearest(27.9, 120.6, 40, where=IndexFilter(), now=NOW)
    finally:
        spatial_walk.NUMPY_ONLY = False
    assert [h.resource.id for h in hits] == ["u2", "u3", "u4"]
    assert [h.resource.id for h in whole][-1] == "u0" and len(whole) == 39
    assert whole[-1].km == pytest.approx(haversine_km(27.9, 120.6, 28.5, 121.2))


@pytest.mark.parametrize("numpy_only", [False, True])
@pytest.mark.parametrize("moved", [False, True])
def test_nearest_breaks_exact_ties_by_id(numpy_only: bool, moved: bool) -> None:
    """Units at one base (the same home) lie at exactly one distance: which of them make the
    k goes by id, whichever order the trees or the overlay hold them in."""
    ids = ["u7", "u2", "u9", "u4", "u1", "u8", "u3"]
    rs = [unit(i, 27.95, 120.65) for i in ids] + [unit("far", 28.3, 121.0)]
    idx = ResourceIndex.build(rs, VOCAB)
    if moved:  # two of them into the overlay, back at the same base
        for r in rs[:2]:
            idx.upsert(replace(r, lat=27.95, lon=120.65, position_time=NOW))
    spatial_walk.NUMPY_ONLY = numpy_only
    try:
        got = [h.resource.id for h in idx.nearest(27.9, 120.6, 3, where=IndexFilter(), now=NOW)]
    finally:
        spatial_walk.NUMPY_ONLY = False
    assert got == ["u1", "u2", "u3"]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), moved=st.integers(1, 400), k=st.integers(1, 12))
def test_the_compiled_search_reads_an_unsorted_overlay_exactly(seed, moved, k) -> None:
    """The compiled k-nearest search takes the overlay in its own order (not sorted by
    distance): with hundreds of moved units, many on the very same spots (exact ties), its
    answer is brute force's, ties by id."""
    rng = np.random.default_rng(seed)
    spots = [(27.9 + a / 40, 120.6 + b / 40) for a in range(5) for b in range(4)]
    rs = [unit(f"u{i:03d}", *spots[i % len(spots)], caps=("search",) if i % 3 else
               ("medical", "search")) for i in range(300)]
    idx = ResourceIndex.build(rs, VOCAB)
    idx.REBUILD_MAX = 10**9  # every move stays in the overlay
    for step, i in enumerate(rng.choice(len(rs), size=moved)):
        lat, lon = spots[int(rng.integers(len(spots)))]
        idx.move(rs[i].id, lat, lon, NOW, rs[i].version + 1 + step)
    assert len(idx._ov) > 0
    for f in (IndexFilter(capabilities_all=frozenset({"search"})),
              IndexFilter(capabilities_all=frozenset({"medical"}))):
        for q in ((27.95, 120.63), (27.9, 120.6), (28.2, 121.0)):
            want = brute([idx.get(r.id) for r in rs], *q, f)[:k]
            got = idx.nearest(*q, k, where=f, now=NOW)
            assert [h.resource.id for h in got] == [w[1] for w in want]
            assert [h.km for h in got] == pytest.approx([w[0] for w in want], abs=1e-6)


def test_the_flat_tree_is_built_on_the_spawners_thread_and_then_read() -> None:
    """With a background builder the first k-nearest query does not wait for the flat tree:
    it answers by the other path and hands the build over; once built, the flat tree answers
    the same."""
    rs = [unit(f"u{i:02d}", 27.9 + i / 97, 120.6 + (i % 7) / 50) for i in range(60)]
    spawn = Deferred(read_now=False)
    idx = ResourceIndex.build(rs, VOCAB, spawn=spawn)
    f = IndexFilter(capabilities_all=frozenset({"search"}))
    tree = idx._compiled(f).trees[0]
    pending = len(spawn.pending)
    first = idx.nearest(28.0, 120.7, 5, where=f, now=NOW)
    assert tree._flat is None and len(spawn.pending) == pending + 1
    assert [h.resource.id for h in idx.nearest(28.0, 120.7, 5, where=f, now=NOW)] == \
        [h.resource.id for h in first]
    assert len(spawn.pending) == pending + 1  # (asked once)
    spawn.finish()
    again = idx.nearest(28.0, 120.7, 5, where=f, now=NOW)
    assert tree._flat is not None
    assert [(h.resource.id, h.km) for h in again] == [(h.resource.id, h.km) for h in first]


def test_a_background_rebuild_builds_the_flat_trees_queries_read_before_its_swap() -> None:
    """After a background rebuild, the trees whose flat copy k-nearest queries read come with
    theirs (built on the builder's thread, before the swap), so the first query after it takes
    the compiled path at once; a tree no query read gets none."""
    rs = [unit(f"u{i:03d}", 27.9 + i / 997, 120.6 + (i % 7) / 50,
               caps=("medical", "search") if i % 2 else ("search",)) for i in range(800)]
    spawn = Deferred(read_now=False)
    idx = ResourceIndex.build(rs, VOCAB, spawn=spawn)
    read = IndexFilter(capabilities_all=frozenset({"search"}))
    other = IndexFilter(capabilities_all=frozenset({"medical"}))
    idx.nearest(28.0, 120.7, 5, where=read, now=NOW)
    spawn.finish()
    idx.nearest(28.0, 120.7, 5, where=read, now=NOW)  # (read from the flat copy)
    before = idx._compiled(read).trees[0]
    assert before._flat is not None and before.flat_reads == 1
    assert idx._compiled(other).trees[0]._flat is None
    rebuilds = idx.rebuilds
    assert idx.rebuild_threshold < len(rs)
    for step in range(idx.rebuild_threshold + 1):  # moves until the overlay overflows
        r = rs[step]
        idx.move(r.id, r.home.lat + 0.01, r.home.lon, NOW, r.version + 1 + step)
    assert len(spawn.pending) == 1  # the rebuild, on the builder's thread
    spawn.finish()
    want = brute([idx.get(r.id) for r in rs], 28.0, 120.7, read)[:5]
    got = idx.nearest(28.0, 120.7, 5, where=read, now=NOW)  # swaps the new trees in
    assert idx.rebuilds == rebuilds + 1
    after = idx._compiled(read).trees[0]
    assert after is not before and after._flat is not None and after.flat_reads == 1
    # nothing to build for it after the swap (only the old trees' freeing is handed over)
    assert [fn.__name__ for _, fn in spawn.pending] == ["clear"] * len(spawn.pending)
    assert idx._compiled(other).trees[0]._flat is None
    assert [h.resource.id for h in got] == [w[1] for w in want]
    assert [h.km for h in got] == pytest.approx([w[0] for w in want], abs=1e-6)


@pytest.mark.parametrize("bad", [(np.nan, 120.6), (27.9, np.inf)])
def test_nearest_refuses_a_point_that_is_not_finite(bad) -> None:
    idx = ResourceIndex.build([unit("u1", 27.9, 120.6)], VOCAB)
    with pytest.raises(ValueError):
        idx.nearest(*bad, 1, where=IndexFilter(), now=NOW)
