"""The `rescue` command line, run as a user runs it (a subprocess, a temp data dir)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geo.areas import AreaIndex
from rescue.auth import TokenService
from rescue.config import Config
from tests.integration.conftest import team

RESCUE = str(Path(sys.executable).with_name("rescue"))


def run(data_dir: Path, *args: str, env: dict | None = None, check: bool = True):
    e = {**os.environ, "RESCUE_DATA_DIR": str(data_dir), **(env or {})}
    e.pop("DATABASE_URL", None)
    e.pop("REDIS_URL", None)
    p = subprocess.run([RESCUE, *args], env=e, capture_output=True, text=True, timeout=180)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def test_token_create_prints_a_verifiable_token_last(tmp_path) -> None:
    out = run(tmp_path, "token", "create", "--role", "operator", "--area", "330328").stdout
    token = out.strip().splitlines()[-1]
    secret = Config(data_dir=tmp_path).resolved_secret_key()
    p = TokenService(secret).verify(token)
    assert (p.role, p.area) == ("operator", "330328")
    field = run(tmp_path, "token", "create", "--role", "field", "--resource", "u1").stdout
    assert TokenService(secret).verify(field.split()[-1]).resource_id == "u1"
    bad = run(tmp_path, "token", "create", "--role", "operator", check=False)
    assert bad.returncode == 1 and "area" in bad.stderr


def test_resources_import_all_or_nothing(tmp_path) -> None:
    good = [team("c1"), team("c2", caps=["medical"])]
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [t["lon"], t["lat"]]},
         "properties": {k: v for k, v in t.items() if k not in ("lat", "lon")}} for t in good]}
    f = tmp_path / "units.geojson"
    f.write_text(json.dumps(fc))
    out = run(tmp_path, "resources", "import", str(f)).stdout
    assert json.loads(out.strip().splitlines()[-1])["created"] == 2
    fc["features"][1]["properties"]["kind"] = "zeppelin"
    fc["features"][0]["properties"]["id"] = "c3"
    f.write_text(json.dumps(fc))
    bad = run(tmp_path, "resources", "import", str(f), check=False)
    assert bad.returncode == 1 and "row 2: kind" in bad.stderr


def test_suggest_prints_a_table(tmp_path) -> None:
    run(tmp_path, "demo")
    out = run(tmp_path, "suggest", "--lat", "27.78", "--lon", "120.08", "--category",
              "building_collapse", "--severity", "III").stdout
    assert "heavy_rescue" in out and "eta" in out.lower()
    js = run(tmp_path, "suggest", "--lat", "27.78", "--lon", "120.08", "--category",
             "building_collapse", "--severity", "III", "--json").stdout
    assert json.loads(js)["requirements"]
    bad = run(tmp_path, "suggest", "--lat", "27.78", "--lon", "120.08", "--category", "nope",
              "--severity", "III", check=False)
    assert bad.returncode == 1 and "category" in bad.stderr


def test_an_invalid_plan_file_stops_the_start_with_line_and_problem(tmp_path) -> None:
    plans = tmp_path / "plans.yaml"
    plans.write_text("scale: {I: 3, II: 2, III: 1.5, IV: 1}\ncategories:\n  fire:\n"
                     "    requirements:\n      - {capability: hoistt, count: 1}\n")
    p = run(tmp_path, "serve", "--port", "1", env={"RESCUE_PLANS": str(plans)}, check=False)
    assert p.returncode == 2
    assert "line 5" in p.stderr and "hoistt" in p.stderr


def test_areas_import_replaces_an_approximate_township(tmp_path) -> None:
    base = AreaIndex.from_file()
    township = next(a for a in base.children("330328") if a.approximate)
    geom = base.geometry(township.code)
    # A "surveyed" boundary in a projected CRS: the importer must reproject it.
    gdf = gpd.GeoDataFrame(
        {"code": [township.code], "name": [township.name + "（实测）"], "level": [4],
         "parent": ["330328"], "approximate": [False]},
        geometry=[geom], crs="EPSG:4326").to_crs("EPSG:32651")
    f = tmp_path / "surveyed.gpkg"
    gdf.to_file(f)
    out = run(tmp_path, "areas", "import", str(f)).stdout
    assert "imported 1 areas" in out
    imported = AreaIndex.from_file(tmp_path / "areas.geojson")
    a = imported.get(township.code)
    assert a.name.endswith("（实测）") and a.approximate is False
    inside = shapely.Point(geom.representative_point())
    assert imported.locate(inside.y, inside.x).chain[-1].code == township.code
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "x"},
         "geometry": {"type": "Point", "coordinates": [120, 27]}}]}))
    p = run(tmp_path, "areas", "import", str(bad), check=False)
    assert p.returncode == 1 and "code" in p.stderr


@pytest.mark.parametrize("args", [["serve", "--port", "notaport"], ["nonsense"]])
def test_usage_errors_exit_nonzero(tmp_path, args) -> None:
    assert run(tmp_path, *args, check=False).returncode == 2


def test_roads_import_is_used_by_suggest(tmp_path) -> None:
    osm = Path(__file__).parents[1] / "data" / "roads" / "wenzhou_river.osm"
    out = run(tmp_path, "roads", "import", str(osm)).stdout
    assert "road nodes" in out and (tmp_path / "roads.npz").exists()
    units = [team("north", lat=27.782, lon=120.070), team("south", lat=27.778, lon=120.085)]
    f = tmp_path / "units.geojson"
    f.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [u["lon"], u["lat"]]},
         "properties": {k: v for k, v in u.items() if k not in ("lat", "lon")}} for u in units]}))
    run(tmp_path, "resources", "import", str(f))
    js = json.loads(run(tmp_path, "suggest", "--lat", "27.778", "--lon", "120.070", "--category",
                        "building_collapse", "--severity", "IV", "--json").stdout)
    heavy = next(q for q in js["requirements"] if q["capability"] == "heavy_rescue")
    assert [c["resource_id"] for c in heavy["candidates"]] == ["south", "north"]
    bad = tmp_path / "broken.osm"
    bad.write_text("<osm><way id='1'>")
    p = run(tmp_path, "roads", "import", str(bad), check=False)
    assert p.returncode == 1 and "broken.osm" in p.stderr


def test_an_invalid_dispatch_policy_stops_the_start(tmp_path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("detour: 1.3\narea_detour:\n  '330328': 0.5\n")
    p = run(tmp_path, "serve", "--port", "1", env={"RESCUE_DISPATCH_POLICY": str(policy)},
            check=False)
    assert p.returncode == 2
    assert "policy.yaml line 3" in p.stderr and "area_detour.330328" in p.stderr
