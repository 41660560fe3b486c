"""Land travel over an imported road network: the route, not the straight line, decides; the
pruned ranking still equals brute force."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.geography import Geography
from geo.roads import import_osm
from rescue.dispatch.dispatcher import Dispatcher, DispatchRequest
from rescue.dispatch.plans import load_plans
from resources.spatial import ResourceIndex
from resources.vocabulary import Vocabulary
from tests.unit.test_dispatch_helpers import NOW, res

FIXTURE = Path(__file__).parents[1] / "data" / "roads" / "wenzhou_river.osm"
SOUTH_BANK = (27.778, 120.070)  # the incident; the only road bridge is at lon 120.090


@pytest.fixture(scope="module")
def geographies(tmp_path_factory):
    path = tmp_path_factory.mktemp("roads") / "roads.npz"
    import_osm(FIXTURE).save(path)
    return Geography.load(), Geography.load(roads_path=path)


def heavy(index_geo, units, k=5, method="walk"):
    geo = index_geo
    d = Dispatcher(geo, load_plans())
    ix = ResourceIndex.build(units, Vocabulary.default())
    s = d.suggest(ix, DispatchRequest(*SOUTH_BANK, "building_collapse", "IV"), now=NOW, k=k,
                  method=method)
    q = next(r for r in s.requirements if r.requirement.capability == "heavy_rescue")
    return [(c.resource_id, c.eta_s, round(c.distance_km, 3)) for c in q.candidates]


def test_the_bridge_decides_who_is_nearest(geographies) -> None:
    plain, roads = geographies
    units = [res("north-bank", "land_team", ["heavy_rescue"], 27.782, 120.070, area="330328"),
             res("south-bank", "land_team", ["heavy_rescue"], 27.778, 120.085, area="330328")]
    without = heavy(plain, units)
    assert [u for u, *_ in without] == ["north-bank", "south-bank"]
    with_roads = heavy(roads, units)
    assert [u for u, *_ in with_roads] == ["south-bank", "north-bank"]
    north = dict((u, km) for u, _, km in with_roads)["north-bank"]
    assert north > 4.0  # round over the bridge, not 0.45 km across the water


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.floats(27.775, 27.79), st.floats(120.06, 120.11),
                          st.floats(20, 80), st.floats(60, 1800)), min_size=1, max_size=25))
def test_pruned_ranking_equals_brute_force_with_roads(geographies, units) -> None:
    _, roads = geographies
    rs = [res(f"u{i:02d}", "land_team", ["heavy_rescue"], lat, lon, speed=v, ready=r,
              area="330328") for i, (lat, lon, v, r) in enumerate(units)]
    fast = heavy(roads, rs, k=5)
    slow = heavy(roads, rs, k=5, method="brute_force")
    assert fast == slow
    etas = [e for _, e, _ in fast]
    assert etas == sorted(etas)
    assert np.all(np.isfinite(etas))
