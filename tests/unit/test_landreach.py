"""Land reachability: landmasses joined by fixed links; islands without one stay apart."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely

from geo.landreach import LandReach, Link, read_links
from geo.landsea import LandMask

WENZHOU = (28.00, 120.65)  # Lucheng, mainland
DONGTOU = (27.836, 121.157)  # Bei'ao, Dongtou main island
NIYU = (27.87, 121.05)  # one OSM polygon with Lingkun (reclaimed land along the causeway)
LINGKUN = (27.965, 120.92)
NANJI = (27.465, 121.08)  # Nanji island, Pingyang: no fixed link
LUXI = (27.99, 121.19)  # Luxi island, Dongtou: no fixed link
AT_SEA = (27.6, 121.5)


@pytest.fixture(scope="module")
def land() -> LandMask:
    return LandMask.load()


@pytest.fixture(scope="module")
def reach(land) -> LandReach:
    return LandReach.load(land)


def test_mainland_reaches_dongtou_but_not_unlinked_islands(reach):
    assert reach.reachable(*WENZHOU, *DONGTOU)
    assert reach.reachable(*DONGTOU, *NIYU)
    assert reach.reachable(*WENZHOU, *LINGKUN)
    assert not reach.reachable(*WENZHOU, *NANJI)
    assert not reach.reachable(*WENZHOU, *LUXI)
    assert not reach.reachable(*NANJI, *LUXI)
    assert reach.reachable(*NANJI, *NANJI)
    assert not reach.reachable(*WENZHOU, *AT_SEA)
    assert reach.component(*WENZHOU) == 0
    assert reach.component(*AT_SEA) is None


def test_dongtou_and_lingkun_are_reachable_only_over_the_links(land, reach):
    assert land.landmass(*DONGTOU) not in (None, 0)  # an island in the mask, not the mainland
    assert land.landmass(*LINGKUN) not in (None, 0)
    assert land.landmass(*DONGTOU) != land.landmass(*LINGKUN)
    bare = LandReach(land, [])
    assert not bare.reachable(*WENZHOU, *DONGTOU)
    assert not bare.reachable(*WENZHOU, *LINGKUN)
    assert not bare.reachable(*LINGKUN, *DONGTOU)
    assert reach.reachable(*WENZHOU, *DONGTOU) and reach.reachable(*LINGKUN, *DONGTOU)


def test_link_endpoints_lie_on_their_islands(land, reach):
    """Each endpoint on (or within a few hundred metres of) the landmass it is named for."""
    names = {"Lingkun": LINGKUN, "Niyu": NIYU, "Bei'ao": DONGTOU}
    by_name = {link.name.split()[0]: link for link in reach.links}
    assert {"灵昆大桥", "灵霓大堤", "窄门大桥", "深门大桥", "花岗大桥", "浅门大桥"} <= set(by_name)
    for link in reach.links:
        for end in (link.a, link.b):
            if land.landmass(*end) is None:
                assert land.distance_to_coast_km(*end) < 0.4, link.name
    lingkun = land.landmass(*names["Lingkun"])
    assert {by_name["灵昆大桥"].landmass_a, by_name["灵昆大桥"].landmass_b} == {0, lingkun}
    assert by_name["窄门大桥"].landmass_a == lingkun  # Niyu
    assert by_name["浅门大桥"].landmass_b == land.landmass(*names["Bei'ao"])


def test_every_configured_link_lands_on_land(reach):
    assert len(reach.links) >= 5
    for link in reach.links:
        assert link.landmass_a is not None and link.landmass_b is not None, link.name
    names = " ".join(link.name for link in reach.links)
    assert "灵霓" in names and "南麂" not in names and "鹿西" not in names


def test_components_vectorised_equals_scalar(reach, land):
    rng = np.random.default_rng(5)
    lats = np.concatenate([rng.uniform(27.0, 28.6, 300), [WENZHOU[0], NANJI[0], LUXI[0]]])
    lons = np.concatenate([rng.uniform(120.4, 121.9, 300), [WENZHOU[1], NANJI[1], LUXI[1]]])
    comps = reach.components(lats, lons)
    assert comps.dtype.kind == "i" and comps.shape == lats.shape
    for la, lo, c in zip(lats, lons, comps, strict=True):
        s = reach.component(la, lo)
        assert c == (-1 if s is None else s)
    assert np.array_equal(comps >= 0, land.is_land_many(lats, lons))


def test_links_join_islands_transitively(tmp_path):
    mainland = shapely.box(120.0, 27.0, 120.1, 27.5)
    a = shapely.box(120.2, 27.2, 120.25, 27.25)
    b = shapely.box(120.3, 27.2, 120.35, 27.25)
    c = shapely.box(120.5, 27.2, 120.55, 27.25)  # no link
    land = LandMask([mainland, a, b, c], [0, 1, 2, 3])
    links = {"links": [
        {"name": "mainland-a", "a": {"lat": 27.22, "lon": 120.09}, "b": {"lat": 27.22, "lon": 120.21}},
        # endpoint 0.5 km off b's coast: snapped onto b
        {"name": "a-b", "a": {"lat": 27.22, "lon": 120.24},
         "b": {"lat": 27.22, "lon": 120.2950}},
        {"name": "nowhere", "a": {"lat": 27.4, "lon": 120.4}, "b": {"lat": 27.22, "lon": 120.52}},
    ]}
    path = tmp_path / "links.json"
    path.write_text(json.dumps(links), encoding="utf-8")
    reach = LandReach.load(land, path)
    assert reach.reachable(27.1, 120.05, 27.23, 120.33)
    assert not reach.reachable(27.1, 120.05, 27.23, 120.53)
    assert reach.component(27.23, 120.33) == 0
    assert reach.links[2].landmass_a is None  # at sea: ignored, joins nothing
    np.testing.assert_array_equal(
        reach.components([27.1, 27.23, 27.23, 27.23, 27.4], [120.05, 120.22, 120.33, 120.53, 120.4]),
        [0, 0, 0, 3, -1])


def test_links_file_shape():
    links = read_links()
    assert all(isinstance(x, Link) and x.name and len(x.a) == 2 and len(x.b) == 2 for x in links)


def test_vectorised_components_equal_the_scalar_ones(reach):
    rng = np.random.default_rng(9)
    lats, lons = rng.uniform(27.2, 28.5, 3000), rng.uniform(120.0, 121.6, 3000)
    many = reach.components(lats, lons)
    one = [reach.component(a, b) for a, b in zip(lats, lons, strict=True)]
    assert many.tolist() == [-1 if c is None else c for c in one]
    assert {0, -1} <= set(many.tolist()) and len(set(many.tolist())) > 3
    assert reach.components([], []).tolist() == []
