"""A scan's columns kept between scans (rescue/dispatch/scan_rows.py, ResourceIndex.select)
equal the columns gathered afresh, through every kind of change a unit can make."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rescue.dispatch.eta import Settled
from rescue.dispatch.sources import IndexSource
from resources.spatial import ResourceIndex
from resources.vocabulary import Vocabulary
from tests.unit.test_dispatch_helpers import NOW, res

VOCAB = Vocabulary.default()
KINDS = ("land_team", "helicopter", "vessel")
AREAS = ("330302", "330305", "330305001", "330324")


class Unkept:
    """The index seen without `select`: its sources find the rows by reading every row."""

    def __init__(self, index: ResourceIndex) -> None:
        self._index = index

    def __getattr__(self, name: str):
        if name == "select":
            raise AttributeError(name)
        return getattr(self._index, name)

    def __len__(self) -> int:
        return len(self._index)


def county(area: str) -> str | None:
    return area[:6] if len(area) >= 6 else None


def zoner(lats, lons):
    return np.where(np.asarray(lons) > 120.9, 1, 0).astype(np.int32)


def assert_same_scan(index: ResourceIndex, kept: IndexSource, settled: Settled | None) -> None:
    fresh = IndexSource(Unkept(index))
    for modes in (None, ("land",), ("sea", "air")):
        args = dict(now=NOW, max_age_s=1800.0, exercise=None, modes=modes, group="330305")
        if settled is not None:
            args["settled"] = settled
        a = kept.scan(27.9, 120.7, "search", **args)
        b = fresh.scan(27.9, 120.7, "search", **args)
        for name in ("dist_km", "speed_kmh", "readiness_s", "mode_code", "kind_code", "own"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), name
        everyone = np.arange(len(a))
        assert a.take(everyone).ids.tolist() == b.take(everyone).ids.tolist()


change = st.tuples(
    st.integers(0, 11),
    st.sampled_from(["status", "speed", "ready", "kind", "area", "caps", "move", "remove",
                     "add"]),
    st.integers(0, 3),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.lists(change, max_size=30),
       settled=st.sampled_from([None, Settled(frozenset(), 0),
                                Settled(frozenset({("helicopter", 1)}), None)]))
def test_kept_scan_columns_equal_fresh_ones(changes, settled) -> None:
    units = {f"u{i}": res(f"u{i}", KINDS[i % 3], ("search",) if i % 4 else ("search", "hoist"),
                          27.9 + i / 100, 120.6 + i / 40, area=AREAS[i % 4]) for i in range(8)}
    index = ResourceIndex.build(units.values(), VOCAB, zoner=zoner, grouper=county)
    kept = IndexSource(index)
    assert_same_scan(index, kept, settled)
    for i, what, v in changes:
        rid = f"u{i}"
        r = units.get(rid)
        if what == "remove":
            index.remove(rid)
            units.pop(rid, None)
        elif r is None or what == "add":
            r = res(rid, KINDS[v % 3], ("search",), 27.95, 120.5 + v / 10, area=AREAS[v])
        elif what == "status":
            r = replace(r, status=("available", "assigned", "available", "out_of_service")[v])
        elif what == "speed":
            r = replace(r, speed_kmh=20.0 + 30 * v)
        elif what == "ready":
            r = replace(r, readiness_s=60.0 + 400 * v)
        elif what == "kind":
            r = replace(r, kind=KINDS[v % 3])
        elif what == "area":
            r = replace(r, area=AREAS[v])
        elif what == "caps":
            r = replace(r, capabilities=(("search",), ("hoist",), ("hoist", "search"), ())[v])
        else:
            r = replace(r, lat=27.8 + v / 20, lon=120.5 + v / 5)
        if what != "remove":
            index.upsert(r)
            units[rid] = r
        assert_same_scan(index, kept, settled)


def test_kept_columns_serve_later_requests_until_a_change() -> None:
    """A dispatcher's requests share the kept columns (one source per request), and a status
    change gives new ones."""
    units = [res(f"u{i}", "land_team", ("search",), 27.9, 120.6 + i / 50) for i in range(5)]
    index = ResourceIndex.build(units, VOCAB)
    shared: dict = {}

    def columns(src: IndexSource):
        return src.scan(27.9, 120.7, "search", now=NOW, max_age_s=1800.0, exercise=None)

    first = columns(IndexSource(index, shared_cache=shared))
    again = columns(IndexSource(index, shared_cache=shared))
    assert again.speed_kmh is first.speed_kmh
    index.upsert(replace(units[2], status="assigned"))
    later = columns(IndexSource(index, shared_cache=shared))
    assert later.speed_kmh is not first.speed_kmh and len(later) == 4
