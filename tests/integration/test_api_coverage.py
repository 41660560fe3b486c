"""Coverage over HTTP: the GeoJSON shape, scope by area, bad queries, and cover lost when a
unit goes out of service coming back with a move-up."""

from __future__ import annotations

import shapely
from shapely.geometry import shape

from tests.integration.conftest import team

# Two hoist helicopters at Longwan airport: the sea near the coast is covered twice over.
HELIS = [
    team("heli-a", area="3303", kind="helicopter", caps=["hoist", "medevac"], lat=27.914,
         lon=120.851, speed_kmh=280, readiness_s=900, range_km=800),
    team("heli-b", area="3303", kind="helicopter", caps=["hoist"], lat=27.9135, lon=120.85,
         speed_kmh=250, readiness_s=1200, range_km=900),
]


def _load(client, h) -> None:
    for u in HELIS:
        r = client.post("/api/v1/resources", json=u, headers=h)
        assert r.status_code == 201, r.json


def test_coverage_is_geojson_cells_with_eta_per_target(client, tokens) -> None:
    h = tokens.header("operator", area="3303")
    _load(client, h)
    r = client.get("/api/v1/coverage", headers=h)
    assert r.status_code == 200, r.json
    fc = r.json
    assert fc["type"] == "FeatureCollection" and fc["cell_km"] == 2.5
    names = {t["name"] for t in fc["targets"]}
    assert {"hoist_sea", "water_rescue_coast", "heavy_rescue_seats", "medical_land"} <= names
    assert len(fc["features"]) > 5000
    for f in fc["features"][:50]:
        assert f["type"] == "Feature" and f["geometry"]["type"] == "Polygon"
        ring = f["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1] and len(ring) == 5
        assert all(119 < lon < 124 and 26 < lat < 29 for lon, lat in ring)  # lon, lat order
        assert {"cell", "surface", "area"} <= set(f["properties"])
    hoist = [f["properties"]["hoist_sea"] for f in fc["features"]
             if "hoist_sea" in f["properties"]]
    assert hoist and all(set(v) >= {"best_eta_s", "covered"} for v in hoist)
    assert all(v["covered"] == (v["best_eta_s"] is not None and v["best_eta_s"] <= 45 * 60)
               for v in hoist)
    summary = next(t for t in fc["targets"] if t["name"] == "hoist_sea")["summary"]
    assert summary["sites"] == len(hoist) and summary["covered"] == summary["sites"]
    # Nobody has a medical team here: no ETA at all, nothing covered.
    med = [f["properties"]["medical_land"] for f in fc["features"]
           if "medical_land" in f["properties"]]
    assert med and all(v == {"best_eta_s": None, "covered": False, "unit": None} for v in med)
    one = client.get("/api/v1/coverage?target=hoist_sea", headers=h).json
    assert len(one["features"]) == len(hoist) and [t["name"] for t in one["targets"]] == [
        "hoist_sea"]
    assert all(set(f["properties"]) == {"cell", "surface", "area", "hoist_sea"}
               for f in one["features"])


def test_a_township_sees_only_its_cells_and_a_city_all(client, tokens, ctx) -> None:
    city = client.get("/api/v1/coverage", headers=tokens.header("operator", area="3303")).json
    town_code = "330305001"  # a Dongtou township
    town = client.get("/api/v1/coverage", headers=tokens.header("operator", area=town_code))
    assert town.status_code == 200, town.json
    cells = town.json["features"]
    assert 0 < len(cells) < len(city["features"]) / 50
    area = ctx.geography.areas.geometry(town_code)
    assert all(shapely.intersects(shape(f["geometry"]), area) for f in cells)
    lucheng = client.get("/api/v1/coverage",
                         headers=tokens.header("operator", area="330302")).json
    assert not {f["id"] for f in cells} & {f["id"] for f in lucheng["features"]}
    # A county sees its sea sector as well as its land.
    dongtou = client.get("/api/v1/coverage",
                         headers=tokens.header("operator", area="330305")).json["features"]
    assert {"land", "sea"} <= {f["properties"]["surface"] for f in dongtou}
    assert client.get("/api/v1/coverage", headers=tokens.header(
        "field", resource_id="heli-a")).status_code == 403


def test_bad_queries_are_400_naming_the_field(client, tokens) -> None:
    h = tokens.header("operator", area="3303")
    for url in ("/api/v1/coverage?target=nope", "/api/v1/coverage/moveup?target=HOIST",
                "/api/v1/coverage?target="):
        r = client.get(url, headers=h)
        assert r.status_code == 400, (url, r.json)
        assert r.json["error"]["field"] == "target"
    r = client.get("/api/v1/coverage?tagret=hoist_sea", headers=h)
    assert r.status_code == 400 and r.json["error"]["field"] == "tagret"
    assert client.get("/api/v1/coverage").status_code == 401


def test_a_unit_out_of_service_loses_cover_and_a_move_up_restores_it(client, tokens) -> None:
    h = tokens.header("operator", area="3303")
    _load(client, h)
    before = client.get("/api/v1/coverage/moveup?target=hoist_sea", headers=h).json
    hoist = before["targets"][0]["summary"]
    assert hoist["covered"] == hoist["sites"] and before["moveup"] == []
    r = client.post("/api/v1/resources/heli-a/status", json={"status": "out_of_service"},
                    headers=h)
    assert r.status_code == 200, r.json
    after = client.get("/api/v1/coverage?target=hoist_sea", headers=h).json
    lost = [f for f in after["features"] if not f["properties"]["hoist_sea"]["covered"]]
    assert lost and after["targets"][0]["summary"]["covered"] < hoist["sites"]
    moves = after["moveup"]
    assert moves and moves[0]["resource_id"] == "heli-b" and moves[0]["target"] == "hoist_sea"
    m = moves[0]
    assert m["restored"] > 0 and m["lost"] == 0 and m["movable"] is True
    assert m["after"]["covered"] == m["before"]["covered"] + m["restored"]
    assert m["travel_s"] > 1200 and m["post"]["name"]
    assert set(m["restored_cells"]) <= {f["id"] for f in lost}
    # Back in service: covered again, nothing to suggest for the hoist.
    client.post("/api/v1/resources/heli-a/status", json={"status": "available"}, headers=h)
    again = client.get("/api/v1/coverage/moveup?target=hoist_sea", headers=h).json
    assert again["targets"][0]["summary"]["covered"] == hoist["sites"]
    assert again["moveup"] == []


def test_hostile_queries_and_tokens(client, tokens) -> None:
    """Bytes that are not a target name, a name ten thousand long, the parameter twice, a
    token signed elsewhere: each a 4xx naming what is wrong, never a 5xx."""
    h = tokens.header("operator", area="3303")
    for url in ("/api/v1/coverage?target=%00", "/api/v1/coverage?target=%ED%A0%80",
                "/api/v1/coverage?target=" + "x" * 10_000,
                "/api/v1/coverage?target=hoist_sea&target=medical_land",
                "/api/v1/coverage/moveup?target=%F0%9F%9A%81"):
        r = client.get(url, headers=h)
        assert r.status_code == 400, (url[:60], r.status_code)
        assert r.json["error"]["field"] == "target"
    forged = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"}
    assert client.get("/api/v1/coverage", headers=forged).status_code == 401
    assert client.get("/api/v1/coverage", headers={"Authorization": "Bearer \x00"}
                      ).status_code == 401
