"""Layers and the lazy Geography bundle."""

import pytest

from geo.distance import haversine_km
from geo.geography import Geography
from geo.layers import LayerStore

POINT_LAYERS = {"airports", "ports", "standby_points", "helipads", "hospitals"}


@pytest.fixture(scope="module")
def layers() -> LayerStore:
    return LayerStore.load()


def test_names(layers):
    assert POINT_LAYERS | {"land", "admin"} <= set(layers.names())
    with pytest.raises(KeyError):
        layers.get("nope")


@pytest.mark.parametrize("name", sorted(POINT_LAYERS))
def test_point_layers_are_honest_geojson(layers, name):
    fc = layers.get(name)
    assert fc["type"] == "FeatureCollection" and fc["features"]
    for f in fc["features"]:
        p = f["properties"]
        assert p["name"] and p["name_en"] and isinstance(p["approximate"], bool)
        lon, lat = f["geometry"]["coordinates"]
        assert 20 < lat < 35 and 115 < lon < 125


def test_longwan_airport(layers):
    f = next(f for f in layers.get("airports")["features"] if f["properties"]["id"] == "ZSWZ")
    lon, lat = f["geometry"]["coordinates"]
    assert haversine_km(lat, lon, 27.914, 120.851) < 1.0
    assert f["properties"]["area"].startswith("330303")


def test_wmu_first_hospital_listed(layers):
    names = {f["properties"]["name"] for f in layers.get("hospitals")["features"]}
    assert "温州医科大学附属第一医院" in names


def test_geography_is_lazy(tmp_path):
    g = Geography.load(tmp_path)  # an empty dir: nothing is read until asked
    assert "areas" not in vars(g)
    with pytest.raises(FileNotFoundError):
        _ = g.areas


def test_geography_default_bundle():
    g = Geography.load()
    assert g.areas.get("3303").name == "温州市"
    assert g.land.is_land(28.0, 120.67)
    assert "airports" in g.layers.names()
    assert g.areas is g.areas  # cached
