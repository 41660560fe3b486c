"""The land mask (OSM coastline): islands present, landmass ids, coast distance in km."""

import json

import numpy as np
import pytest
import shapely

from geo.landsea import DEFAULT_PATH, LandMask

ISLANDS = {  # (lat, lon) inside the island
    "Nanji 南麂": (27.466, 121.073),
    "Luxi 鹿西": (27.995, 121.18),
    "Dongtou main island (Bei'ao) 洞头": (27.836, 121.157),
    "Lingkun 灵昆": (27.965, 120.92),
}
OUJIANG = [(27.96, 120.98), (27.93, 120.89), (27.98, 120.92)]  # estuary water, inside counties


@pytest.fixture(scope="module")
def land() -> LandMask:
    return LandMask.load()


def test_file_shape():
    fc = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    ids = [f["properties"]["landmass"] for f in fc["features"]]
    assert ids == list(range(len(ids)))
    lons = [c[0] for f in fc["features"] for ring in f["geometry"]["coordinates"]
            for c in (ring[0] if f["geometry"]["type"] == "MultiPolygon" else ring)]
    assert min(lons) >= 119.0 - 1e-6 and max(lons) <= 123.5 + 1e-6
    assert fc["bbox"] == [119.0, 26.0, 123.5, 29.5]
    assert "OpenStreetMap" in fc["source"] and "ODbL" in fc["source"]
    assert len(ids) > 100  # every island over 0.01 km2, not a handful of fused blobs
    areas = [f["properties"]["area_km2"] for f in fc["features"]]
    assert areas == sorted(areas, reverse=True) and min(areas) >= 0.01


@pytest.mark.parametrize("name", ISLANDS)
def test_islands_are_separate_landmasses(land, name):
    lat, lon = ISLANDS[name]
    assert land.is_land(lat, lon)
    assert land.landmass(lat, lon) not in (None, 0)


def test_islands_of_the_osm_coastline(land):
    dongtou = land.landmass(27.836, 121.157)
    lingkun = land.landmass(27.965, 120.92)
    assert dongtou not in (None, 0) and lingkun not in (None, 0) and dongtou != lingkun
    assert land.landmass(27.87, 121.05) == lingkun  # Niyu: reclaimed land joins it to Lingkun
    assert land.landmass(27.465, 121.07) not in (None, 0, dongtou, lingkun)  # Nanji
    area = {i: p.area for p, i in zip(land.polygons, land.ids, strict=True)}
    assert area[dongtou] < area[lingkun] < area[0]


@pytest.mark.parametrize("point", OUJIANG)
def test_estuary_is_water(land, point):
    assert not land.is_land(*point)
    assert land.covers(*point)


def test_scalar_and_vectorised_agree(land):
    rng = np.random.default_rng(3)
    lats, lons = rng.uniform(27.0, 28.6, 400), rng.uniform(119.8, 121.8, 400)
    many = land.is_land_many(lats, lons)
    assert [land.is_land(a, b) for a, b in zip(lats, lons, strict=True)] == many.tolist()
    assert 0 < many.sum() < len(lats)


def test_near_coast_agrees_with_the_metric_distance(land):
    rng = np.random.default_rng(4)
    lats, lons = rng.uniform(27.3, 28.3, 300), rng.uniform(120.5, 121.5, 300)
    d = land.distance_to_coast_km(lats, lons)
    for la, lo, dk in zip(lats, lons, d, strict=True):
        if abs(dk - 1.0) > 0.03:  # the equirectangular test is within 2 % at 1 km
            assert land.near_coast(la, lo, 1.0) == (dk <= 1.0)


def test_covers_only_its_bbox(land):
    assert land.covers(28.0, 120.67) and not land.covers(30.27, 120.16)  # Hangzhou


def test_mainland_and_sea(land):
    assert land.landmass(28.0, 120.67) == 0  # Wenzhou city
    assert land.landmass(27.5, 122.0) is None
    assert land.landmass(26.7, 119.6) == 0  # Fujian coast is in the mask too
    got = land.is_land_many(np.array([28.0, 27.5, np.nan]), np.array([120.67, 122.0, 120.0]))
    assert got.tolist() == [True, False, False]
    ms = land.landmass_many([28.0, 27.5], [120.67, 122.0])
    assert ms[0] == 0 and np.isnan(ms[1])


def test_distance_to_coast(land):
    # 20 km due east of Nanji's east shore lies open sea ~20 km from any coast
    d = land.distance_to_coast_km(27.466, 121.35)
    assert 15 < d < 30
    assert land.distance_to_coast_km(28.45, 119.8) > 50  # inland Lishui
    many = land.distance_to_coast_km(np.array([27.466, 28.45]), np.array([121.35, 119.8]))
    assert many.shape == (2,)


def test_geometry_parts_in_landmass_order(land):
    assert land.geometry.geoms[0].equals(land.polygons[0])
    assert land.geometry.geom_type == "MultiPolygon"


def test_raster_landmass_equals_the_polygon_test(land):
    """The landmass raster answers exactly as the polygons: random points over the mask, and
    points on / within a hair (down to 1e-13 degrees) of every coastline vertex and edge."""
    rng = np.random.default_rng(5)
    lats, lons = rng.uniform(25.9, 29.6, 20000), rng.uniform(118.9, 123.6, 20000)
    got = land.landmass_many(lats, lons)
    assert np.array_equal(got, land.landmass_many_exact(lats, lons), equal_nan=True)
    assert 0 < np.isnan(got).sum() < len(got)
    rings = shapely.segmentize(shapely.get_rings(land.polygons), 0.0007)
    xy = shapely.get_coordinates(rings)
    i = rng.integers(0, len(xy), 6000)
    for scale in (3e-3, 1e-4, 1e-7, 1e-10, 1e-13, 0.0):
        la = xy[i, 1] + rng.normal(0, scale, len(i))
        lo = xy[i, 0] + rng.normal(0, scale, len(i))
        assert np.array_equal(land.landmass_many(la, lo), land.landmass_many_exact(la, lo),
                              equal_nan=True)
    edge = land.raster
    assert 0 < edge.mixed_fraction < 0.05  # most cells answer without the polygons
    # outside the raster and non-finite points fall back to the polygons
    odd = land.landmass_many([np.nan, 10.0, 28.0], [120.0, 10.0, np.inf])
    assert np.isnan(odd).all()
