"""Import/export round trips through geopandas (GeoJSON, CSV, GeoPackage) and whole-file
rejection of a bad row."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from resources.errors import ValidationError
from resources.io import FORMATS, export, read_resources, read_rows
from resources.model import Home, Resource, Vocabulary, resource_to_dict

VOCAB = Vocabulary.default()
T = datetime(2024, 5, 1, 8, 30, 15, 123456, tzinfo=UTC)


def fleet() -> list[Resource]:
    base = dict(tier=None, agency=None, call_sign=None, crew=0, capacity=0, range_km=None,
                lat=None, lon=None, position_time=None, status="available", exercise=None)
    return [
        Resource(id="heli-1", name="Longwan rescue helicopter, 1", kind="helicopter",
                 capabilities=("hoist", "medevac", "night_ops"), speed_kmh=250.0,
                 readiness_s=900.0, home=Home("Longwan airport", 27.912, 120.852), area="3303",
                 **{**base, "range_km": 600.0, "call_sign": "B-7185", "crew": 4,
                    "lat": 27.95, "lon": 121.01, "position_time": T}),
        Resource(id="v-dongtou", name="东海救101", kind="vessel",
                 capabilities=("towing", "water_rescue"), speed_kmh=37.0, readiness_s=1200.0,
                 home=Home(None, 27.84, 121.16), area="330305M",
                 **{**base, "tier": "national", "agency": "East China Sea Rescue Bureau",
                    "capacity": 40, "status": "on_scene", "status_time": T}),
        Resource(id="team-x", name="Ex team", kind="volunteer_team", capabilities=(),
                 speed_kmh=40.0, readiness_s=1800.0, home=Home("Wencheng", 27.79, 120.09),
                 area="330328001", **{**base, "exercise": "ex-7", "crew": 12}),
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip(fmt: str) -> None:
    rs = fleet()
    data = export(rs, fmt)
    assert isinstance(data, bytes) and data
    assert read_resources(data, fmt, VOCAB) == rs
    rows = read_rows(data, fmt)
    assert rows[0]["capabilities"] == ["hoist", "medevac", "night_ops"]
    assert rows[0]["home"] == {"name": "Longwan airport", "lat": 27.912, "lon": 120.852}


@pytest.mark.parametrize("fmt", FORMATS)
def test_bad_row_rejects_the_whole_file_naming_row_and_field(fmt: str) -> None:
    rs = fleet()
    data = export(rs, fmt)
    if fmt == "csv":
        text = data.decode().splitlines()
        cells = text[2].split(",")
        cells[9] = "fast"  # speed_kmh of data row 2
        text[2] = ",".join(cells)
        bad = "\n".join(text).encode()
    else:
        rows = [resource_to_dict(r) for r in rs]
        rows[1]["speed_kmh"] = -5.0
        from dataclasses import replace
        rs2 = list(rs)
        rs2[1] = replace(rs[1], speed_kmh=-5.0)  # not valid, but export does not validate
        bad = export(rs2, fmt)
    with pytest.raises(ValidationError) as e:
        read_resources(bad, fmt, VOCAB)
    assert e.value.field == "row 2: speed_kmh"
    assert "row 2: speed_kmh" in str(e.value)


def test_csv_capabilities_are_semicolon_separated_and_checked() -> None:
    csv = (b"name,kind,capabilities,speed_kmh,readiness_s,home_lat,home_lon,area\n"
           b"A,land_team, heavy_rescue ; search_dog ,50,600,28.0,120.6,330302\n"
           b"B,land_team,search;teleport,50,600,28.0,120.6,330302\n")
    rows = read_rows(csv, "csv")
    assert rows[0]["capabilities"] == ["heavy_rescue", "search_dog"]
    assert rows[0]["speed_kmh"] == 50 and rows[0]["home"] == {"lat": 28.0, "lon": 120.6}
    with pytest.raises(ValidationError) as e:
        read_resources(csv, "csv", VOCAB)
    assert e.value.field == "row 2: capabilities[1]"


def test_unknown_column_and_aircraft_without_range_are_rejected() -> None:
    csv = (b"name,kind,speed_kmh,readiness_s,home_lat,home_lon,area,colour\n"
           b"A,land_team,50,600,28.0,120.6,330302,red\n")
    with pytest.raises(ValidationError) as e:
        read_resources(csv, "csv", VOCAB)
    assert e.value.field == "row 1: colour"
    csv = (b"name,kind,speed_kmh,readiness_s,home_lat,home_lon,area\n"
           b"A,land_team,50,600,28.0,120.6,330302\nH,drone,80,60,28.0,120.6,3303\n")
    with pytest.raises(ValidationError) as e:
        read_resources(csv, "csv", VOCAB)
    assert e.value.field == "row 2: range_km"


def test_geojson_in_the_api_shape_and_geometry_as_home() -> None:
    d = resource_to_dict(fleet()[0])
    d.pop("lat"), d.pop("lon")
    d.pop("position_time")
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [120.85, 27.91]},
         "properties": d},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [120.6, 28.0]},
         "properties": {"name": "T", "kind": "land_team", "speed_kmh": 50,
                        "readiness_s": 600, "area": "330302", "capabilities": ["search"]}},
    ]}
    rs = read_resources(json.dumps(fc).encode(), "geojson", VOCAB)
    assert rs[0].home == Home("Longwan airport", 27.912, 120.852)
    assert rs[0].capabilities == ("hoist", "medevac", "night_ops")
    assert rs[1].home == Home(None, 28.0, 120.6) and rs[1].capabilities == ("search",)
    assert rs[1].id  # generated, stable
    assert read_resources(json.dumps(fc).encode(), "geojson", VOCAB)[1].id == rs[1].id


def test_unreadable_and_unknown_format(tmp_path) -> None:
    with pytest.raises(ValidationError) as e:
        read_rows(b"this is not a geopackage", "gpkg")
    assert e.value.field == "file"
    with pytest.raises(ValidationError) as e:
        read_rows(b"x", "shp")
    assert e.value.field == "format"
    p = tmp_path / "r.csv"
    p.write_bytes(export(fleet(), "csv"))
    assert len(read_rows(p, "csv")) == 3


def test_one_bad_cell_is_reported_at_its_own_row_in_geojson() -> None:
    good = {"name": "T", "kind": "land_team", "speed_kmh": 50, "readiness_s": 600,
            "area": "330302"}
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [120.6, 28.0]},
              "properties": {**good, "name": f"T{i}", "speed_kmh": "x" if i == 3 else 50}}
             for i in range(1, 5)]
    data = json.dumps({"type": "FeatureCollection", "features": feats}).encode()
    with pytest.raises(ValidationError) as e:
        read_resources(data, "geojson", VOCAB)
    assert e.value.field == "row 3: speed_kmh"
    feats[1]["geometry"] = {"type": "LineString", "coordinates": [[120, 28], [121, 28]]}
    with pytest.raises(ValidationError) as e:
        read_rows(json.dumps({"type": "FeatureCollection", "features": feats}).encode(),
                  "geojson")
    assert e.value.field == "row 2: geometry"
