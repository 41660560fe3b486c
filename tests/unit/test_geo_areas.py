"""AreaIndex on the committed areas file: chains, sea sectors, coverage, validation, files."""

import json
import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
import shapely.ops
from pyproj import Geod

from geo.areas import RECLAIMED_KM, SHORE_KM, AreaIndex, OutsideCoverage
from geo.distance import haversine_km
from geo.geography import Geography
from geo.landsea import LandMask

GEOD = Geod(ellps="WGS84")
DONGTOU = (27.836, 121.157)  # Bei'ao, on Dongtou's main island
OUJIANG = (27.96, 120.98)  # estuary water between Lingkun and Yueqing, inside Dongtou district
WENZHOU_COUNTIES = {"330302", "330303", "330304", "330305", "330324", "330326", "330327",
                    "330328", "330329", "330381", "330382", "330383"}


@pytest.fixture(scope="module")
def land() -> LandMask:
    return LandMask.load()


@pytest.fixture(scope="module")
def ix(land) -> AreaIndex:
    return AreaIndex.from_file(land=land)


def codes(loc):
    return [a.code for a in loc.chain]


def test_wencheng_point_resolves_to_a_township(ix):
    loc = ix.locate(27.78, 120.08)
    assert codes(loc)[:3] == ["33", "3303", "330328"]
    town = loc.chain[3]
    assert town.level == 4 and town.parent == "330328" and len(town.code) == 9
    assert town.approximate and town.kind == "admin"
    assert ix.get("330328").name == "文成县"
    assert loc.surface == "land" and loc.chain[0].level == 1


def test_dongtou_main_island_is_land(ix, land):
    assert land.is_land(*DONGTOU)
    loc = ix.locate(*DONGTOU)
    assert loc.surface == "land"
    assert codes(loc)[:3] == ["33", "3303", "330305"]
    assert len(loc.chain) == 4


def test_thirty_km_east_of_dongtou_is_sea(ix, land):
    lon, lat, _ = GEOD.fwd(DONGTOU[1], DONGTOU[0], 90.0, 30_000.0)
    assert haversine_km(DONGTOU[0], DONGTOU[1], lat, lon) == pytest.approx(30, rel=0.01)
    assert not land.is_land(lat, lon)
    loc = ix.locate(lat, lon)
    assert loc.surface == "sea" and loc.shore
    assert loc.maritime is not None and loc.maritime.code == "3303M"
    c = codes(loc)
    assert c[:2] == ["33", "3303"] and len(c) == 4
    county, sector = loc.chain[2], loc.chain[3]
    assert county.code in WENZHOU_COUNTIES and county.kind == "admin"
    assert sector.code == county.code + "M" and sector.kind == "maritime" and sector.level == 4


@pytest.mark.parametrize("point", [OUJIANG, (27.93, 120.89)])
def test_estuary_inside_a_county_is_sea_with_the_admin_chain(ix, land, point):
    assert not land.is_land(*point)
    county = ix.geometry(ix.locate(*point).chain[2].code)
    assert county.covers(shapely.Point(point[1], point[0]))  # the admin polygon claims it
    loc = ix.locate(*point)
    assert loc.surface == "sea" and loc.shore
    assert loc.chain[-1].kind == "admin" and loc.chain[-1].level == 4
    assert codes(loc)[:2] == ["33", "3303"] and loc.chain[2].code in WENZHOU_COUNTIES
    assert loc.maritime is not None and loc.maritime.code == "3303M"


def test_without_a_mask_the_admin_polygons_decide(land):
    bare = AreaIndex.from_file(land=None)
    assert bare.land is None
    assert bare.locate(*OUJIANG).surface == "land"  # the old, wrong answer
    assert bare.locate(*DONGTOU).surface == "land"


def test_mask_is_loaded_lazily(land):
    calls = []

    def loader():
        calls.append(1)
        return land

    lazy = AreaIndex.from_file(land=loader)
    assert calls == []
    assert lazy.locate(*OUJIANG).surface == "sea"
    lazy.locate(*DONGTOU)
    assert calls == [1]


def test_geography_shares_its_land_mask():
    geo = Geography.load()
    assert geo.areas.locate(*OUJIANG).surface == "sea"
    assert geo.areas.land is geo.land


def test_longwan_airport(ix):
    loc = ix.locate(27.914, 120.851)
    assert codes(loc)[:3] == ["33", "3303", "330303"]


def test_nanji_island_is_pingyang_land(ix, land):
    assert land.is_land(27.466, 121.073)
    loc = ix.locate(27.466, 121.073)
    assert loc.surface == "land" and codes(loc)[:3] == ["33", "3303", "330326"]
    assert loc.chain[3].name == "南麂镇"
    assert land.landmass(27.466, 121.073) != 0  # an island, not the mainland


def test_hangzhou_stops_at_county(ix):
    loc = ix.locate(30.2741, 120.1551)
    assert codes(loc)[:2] == ["33", "3301"]
    assert loc.chain[-1].level == 3 and not loc.shore and loc.maritime is None


def test_longgang_has_no_township_level(ix):
    loc = ix.locate(27.578, 120.553)
    assert codes(loc) == ["33", "3303", "330383"]


def test_outside_coverage(ix):
    with pytest.raises(OutsideCoverage):
        ix.locate(39.9042, 116.4074)  # Beijing
    with pytest.raises(OutsideCoverage):
        ix.locate(26.9, 120.2)  # Fujian (Fuding), land but not ours
    with pytest.raises(OutsideCoverage):
        ix.locate(25.0, 124.5)  # open sea beyond Wenzhou's SAR region


@pytest.mark.parametrize("lat,lon,field", [
    (math.nan, 120.0, "lat"), (28.0, math.nan, "lon"), (91.0, 120.0, "lat"),
    (28.0, -181.0, "lon"), (math.inf, 120.0, "lat"), ("28", 120.0, "lat"), (28.0, None, "lon"),
])
def test_bad_input_names_the_field(ix, lat, lon, field):
    with pytest.raises(ValueError, match=field) as e:
        ix.locate(lat, lon)
    assert not isinstance(e.value, OutsideCoverage)


def test_hierarchy_and_counts(ix):
    assert {a.code for a in ix.children("3303") if a.kind == "admin"} == WENZHOU_COUNTIES
    assert len([a for a in ix.children("33")]) == 11
    assert ix.get("3303M").kind == "maritime" and ix.get("3303M").parent == "3303"
    assert [a.code for a in ix.ancestors("330305M")] == ["33", "3303", "330305", "330305M"]
    assert ix.is_within("330305M", "3303") and ix.is_within("330328", "330328")
    assert not ix.is_within("330328", "3301")
    townships = [a for a in ix if a.level == 4 and a.kind == "admin"]
    assert len(townships) > 150
    assert all(a.code.startswith(a.parent) and a.approximate for a in townships)
    for a in ix:
        assert a.name and (a.level == 1) == (a.parent is None)


def test_every_township_cell_lies_within_its_county(ix):
    for a in ix:
        if a.level == 4:
            cell, county = ix.geometry(a.code), ix.geometry(a.parent)
            if a.kind == "maritime":
                county = ix.geometry("3303M")
            outside = cell.difference(county)
            assert outside.area < 1e-12, a.code  # ~0.01 m2: floating point only
            if a.seat_lat is not None:
                assert cell.buffer(1e-6).contains(shapely.Point(a.seat_lon, a.seat_lat)), a.code


def test_township_cells_cover_their_county(ix):
    for c in ("330305", "330328", "330326"):
        cells = shapely.union_all([ix.geometry(a.code) for a in ix.children(c)
                                   if a.kind == "admin"])
        assert cells.area == pytest.approx(ix.geometry(c).area, rel=1e-4)


def test_neighbours(ix):
    assert "330304" in ix.neighbours("330302")  # Lucheng borders Ouhai
    assert "330329" in ix.neighbours("330328")  # Wencheng borders Taishun
    assert "330305" not in ix.neighbours("330329")
    assert ix.neighbours("nope") == frozenset()


def test_shore(ix):
    # Nanji island is small: all of it lies within SHORE_KM of the sea
    assert pytest.approx(1.0) == SHORE_KM
    assert ix.locate(27.466, 121.073).shore
    assert not ix.locate(27.78, 120.08).shore  # Wencheng, far inland


def test_locate_agrees_with_brute_force(ix, land):
    """Admin leaf covering the point (or the sector at sea); mask decides land or sea; mask land
    that only a sea sector covers (reclaimed) goes to an admin leaf within RECLAIMED_KM."""
    rng = np.random.default_rng(7)
    leaves = [a for a in ix if a.level == 4 or (a.level == 3 and a.code in ("330383",))]
    seen = set()
    for lat, lon in zip(rng.uniform(27.0, 28.6, 300), rng.uniform(119.6, 121.8, 300),
                        strict=True):
        p = shapely.Point(lon, lat)
        truth = {a.code for a in leaves if ix.geometry(a.code).covers(p)}
        on_land = land.is_land(lat, lon)
        try:
            loc = ix.locate(lat, lon)
        except OutsideCoverage:
            assert not truth
            continue
        got = loc.chain[-1].code
        assert loc.surface == ("land" if on_land else "sea")
        admin = {c for c in truth if ix.get(c).kind == "admin"}
        if on_land and truth and not admin:  # reclaimed land outside every admin polygon
            assert ix.get(got).kind == "admin"
            near = shapely.ops.nearest_points(ix.geometry(got), p)[0]
            assert haversine_km(lat, lon, near.y, near.x) <= RECLAIMED_KM
        elif truth:
            assert got in truth
        seen.add((loc.surface, ix.get(got).kind))
    assert {("land", "admin"), ("sea", "admin"), ("sea", "maritime")} <= seen


def test_feature_collection_round_trips(ix, tmp_path):
    fc = ix.feature_collection()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == len(ix)
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    again = AreaIndex.from_file(path)
    assert {a.code: a for a in again} == {a.code: a for a in ix}
    assert codes(again.locate(27.78, 120.08)) == codes(ix.locate(27.78, 120.08))
    counties = ix.feature_collection(level=3, parent="3303")
    assert {f["properties"]["code"] for f in counties["features"]} == WENZHOU_COUNTIES | {"3303M"}
    props = counties["features"][0]["properties"]
    assert {"code", "name", "name_en", "level", "parent", "kind", "approximate", "seat_lat",
            "seat_lon"} <= set(props)


def test_geodataframe_in_another_crs(ix):
    gdf = gpd.read_file(json.dumps(ix.feature_collection()), engine="pyogrio")
    gdf = gdf.set_crs("EPSG:4326", allow_override=True).to_crs("EPSG:32651")
    again = AreaIndex.from_geodataframe(gdf)
    assert codes(again.locate(27.914, 120.851))[:3] == ["33", "3303", "330303"]


def test_replace_from_real_boundaries(ix):
    # a "real" Dongtou boundary: the current one shrunk a little, in a metric CRS
    src = gpd.GeoDataFrame(
        {"code": ["330305"], "name": ["洞头区"], "level": [3], "parent": ["3303"]},
        geometry=[ix.geometry("330305")], crs="EPSG:4326").to_crs("EPSG:32651")
    src["geometry"] = src.buffer(-200)
    new = ix.replace_from(src)
    assert new.get("330305").name == "洞头区" and len(new) == len(ix)
    assert codes(new.locate(*DONGTOU))[:3] == ["33", "3303", "330305"]
    county = new.geometry("330305")
    for a in new.children("330305"):
        if a.kind == "admin":
            assert new.geometry(a.code).difference(county).area < 1e-9
    assert ix.geometry("330305") is not county  # the original index is unchanged


def test_replace_from_validates(ix):
    bad = gpd.GeoDataFrame({"code": ["x"]}, geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4326")
    with pytest.raises(ValueError, match="name"):
        ix.replace_from(bad)
    orphan = gpd.GeoDataFrame({"code": ["999999"], "name": ["?"], "level": [3],
                               "parent": ["9999"]},
                              geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4326")
    with pytest.raises(ValueError, match="parent"):
        ix.replace_from(orphan)
