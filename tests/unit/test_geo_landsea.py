"""The land mask: islands present, landmass ids, coast distance measured in km."""

import json

import numpy as np
import pytest

from geo.landsea import DEFAULT_PATH, LandMask

ISLANDS = {  # (lat, lon) inside the island
    "Nanji 南麂": (27.466, 121.073),
    "Luxi 鹿西": (27.995, 121.18),
}


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


@pytest.mark.parametrize("name", ISLANDS)
def test_islands_are_separate_landmasses(land, name):
    lat, lon = ISLANDS[name]
    assert land.is_land(lat, lon)
    assert land.landmass(lat, lon) not in (None, 0)


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
