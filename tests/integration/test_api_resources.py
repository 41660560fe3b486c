"""The registry over HTTP: shapes, scope, validation, reports, import/export, events."""

from __future__ import annotations

import io
import json
import math
from datetime import timedelta

import pytest

from tests.integration.conftest import team

WENCHENG = {"area": "330328"}
DONGTOU = {"area": "330305"}


def test_health_needs_no_token(client) -> None:
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json["status"] == "ok"


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc", "Bearer "])
def test_missing_or_bad_token_is_401(client, header) -> None:
    r = client.get("/api/v1/resources", headers={"Authorization": header} if header else {})
    assert r.status_code == 401
    assert r.json["error"]["code"] == "unauthorized"


def test_locate_gives_chain_and_surface(client, tokens) -> None:
    h = tokens.header("operator", area="33")
    r = client.get("/api/v1/locate?lat=27.78&lon=120.08", headers=h)
    assert r.status_code == 200
    codes = [a["code"] for a in r.json["areas"]]
    assert codes[:3] == ["33", "3303", "330328"] and len(codes[3]) == 9
    assert r.json["surface"] == "land"
    sea = client.get("/api/v1/locate?lat=27.84&lon=121.46", headers=h).json
    assert sea["surface"] == "sea" and sea["maritime"]["code"] == "3303M"
    for bad in ("lat=nan&lon=120", "lat=91&lon=120", "lat=abc&lon=1", "lon=120"):
        r = client.get(f"/api/v1/locate?{bad}", headers=h)
        assert r.status_code == 400, bad
        assert r.json["error"]["field"] == "lat"
    assert client.get("/api/v1/locate?lat=89.9&lon=0", headers=h).status_code == 422


def test_create_get_list_as_geojson(client, tokens) -> None:
    h = tokens.header("operator", **WENCHENG)
    r = client.post("/api/v1/resources", json=team("wc-1"), headers=h)
    assert r.status_code == 201, r.json
    body = r.json
    for key in ("id", "name", "call_sign", "kind", "tier", "agency", "capabilities", "crew",
                "capacity", "speed_kmh", "readiness_s", "range_km", "home", "lat", "lon",
                "position_time", "status", "area"):
        assert key in body
    fc = client.get("/api/v1/resources", headers=h).json
    assert fc["type"] == "FeatureCollection"
    (f,) = fc["features"]
    assert f["geometry"]["coordinates"] == [120.09, 27.79]
    assert f["properties"]["id"] == "wc-1"
    assert client.get("/api/v1/resources/wc-1", headers=h).json["id"] == "wc-1"


def test_scope_other_county_cannot_read_or_change(client, tokens) -> None:
    wc = tokens.header("operator", **WENCHENG)
    dt = tokens.header("operator", **DONGTOU)
    assert client.post("/api/v1/resources", json=team("wc-1"), headers=wc).status_code == 201
    assert client.get("/api/v1/resources/wc-1", headers=dt).status_code == 404
    assert client.patch("/api/v1/resources/wc-1", json={"crew": 3}, headers=dt).status_code == 404
    assert client.delete("/api/v1/resources/wc-1", headers=dt).status_code == 404
    assert client.get("/api/v1/resources", headers=dt).json["features"] == []
    r = client.post("/api/v1/resources", json=team("x", area="330328"), headers=dt)
    assert r.status_code == 403
    # the city sees both counties
    city = tokens.header("operator", area="3303")
    assert client.get("/api/v1/resources/wc-1", headers=city).status_code == 200


@pytest.mark.parametrize("patch,field", [
    ({"lat": float("nan")}, "lat"),
    ({"lat": 91}, "lat"),
    ({"lon": "120"}, "lon"),
    ({"speed_kmh": -5}, "speed_kmh"),
    ({"speed_kmh": "fast"}, "speed_kmh"),
    ({"readiness_s": 0}, "readiness_s"),
    ({"crew": True}, "crew"),
    ({"kind": "submarine"}, "kind"),
    ({"capabilities": ["hoist", "teleport"]}, "capabilities[1]"),
    ({"colour": "red"}, "colour"),
    ({"home": {"name": "x", "lat": 27.7, "lon": 999}}, "home.lon"),
    ({"area": "999999"}, "area"),
])
def test_bad_input_is_400_naming_the_field(client, tokens, patch, field) -> None:
    h = tokens.header("operator", area="33")
    r = client.post("/api/v1/resources", json={**team("bad"), **patch}, headers=h)
    assert r.status_code == 400, r.json
    assert r.json["error"]["field"] == field


def test_nan_literal_in_raw_json_is_rejected(client, tokens) -> None:
    h = tokens.header("operator", area="33")
    raw = json.dumps(team("n1")).replace('"lat": 27.79', '"lat": NaN')
    r = client.post("/api/v1/resources", data=raw, headers=h, content_type="application/json")
    assert r.status_code == 400 and r.json["error"]["field"] in ("lat", "home.lat")
    for body in ("[1,2]", "not json", ""):
        r = client.post("/api/v1/resources", data=body, headers=h, content_type="application/json")
        assert r.status_code == 400
        assert r.json["error"]["field"] == "body"


def test_position_reports_older_are_ignored_and_resends_not_reapplied(client, tokens, clock) -> None:
    op = tokens.header("operator", **WENCHENG)
    client.post("/api/v1/resources", json=team("wc-1"), headers=op)
    field = tokens.header("field", resource_id="wc-1")
    t1 = clock.t.isoformat()
    t0 = (clock.t - timedelta(minutes=5)).isoformat()
    r = client.post("/api/v1/resources/wc-1/position",
                    json={"lat": 27.80, "lon": 120.10, "time": t1, "client_id": "m1"}, headers=field)
    assert r.status_code == 200 and r.json["applied"] and r.json["seq"] > 0
    seq = r.json["seq"]
    again = client.post("/api/v1/resources/wc-1/position",
                        json={"lat": 27.80, "lon": 120.10, "time": t1, "client_id": "m1"},
                        headers=field).json
    assert again["duplicate"] and again["seq"] == seq
    old = client.post("/api/v1/resources/wc-1/position",
                      json={"lat": 27.70, "lon": 120.00, "time": t0}, headers=field).json
    assert old["applied"] is False
    got = client.get("/api/v1/resources/wc-1", headers=field).json
    assert (got["lat"], got["lon"]) == (27.80, 120.10)
    future = (clock.t + timedelta(hours=1)).isoformat()
    r = client.post("/api/v1/resources/wc-1/position", json={"lat": 27.8, "lon": 120.1,
                                                             "time": future}, headers=field)
    assert r.status_code == 400 and r.json["error"]["field"] == "time"


def test_field_token_only_reports_for_its_own_unit(client, tokens) -> None:
    op = tokens.header("operator", area="33")
    client.post("/api/v1/resources", json=team("a"), headers=op)
    client.post("/api/v1/resources", json=team("b"), headers=op)
    field = tokens.header("field", resource_id="a")
    assert client.post("/api/v1/resources/b/position", json={"lat": 27.8, "lon": 120.1},
                       headers=field).status_code == 404
    assert client.patch("/api/v1/resources/a", json={"crew": 1}, headers=field).status_code == 403
    r = client.post("/api/v1/resources/a/status", json={"status": "out_of_service"}, headers=field)
    assert r.status_code == 200 and r.json["resource"]["status"] == "out_of_service"
    r = client.post("/api/v1/resources/a/status", json={"status": "on_scene"}, headers=field)
    assert r.status_code == 409


def test_import_rejects_the_whole_file_on_one_bad_row(client, tokens) -> None:
    h = tokens.header("operator", area="3303")
    rows = [team("i1"), team("i2", speed_kmh="x"), team("i3")]
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
         "properties": {k: v for k, v in r.items() if k not in ("lat", "lon")}} for r in rows]}
    r = client.post("/api/v1/resources/import?format=geojson", data=json.dumps(fc), headers=h,
                    content_type="application/geo+json")
    assert r.status_code == 400, r.json
    assert r.json["error"]["field"].startswith("row 2")
    assert "speed_kmh" in r.json["error"]["field"]
    assert client.get("/api/v1/resources", headers=h).json["features"] == []
    fc["features"].pop(1)
    r = client.post("/api/v1/resources/import?format=geojson", data=json.dumps(fc), headers=h,
                    content_type="application/geo+json")
    assert r.status_code == 201 and r.json["created"] == 2


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg"])
def test_export_and_reimport_round_trip(client, tokens, fmt) -> None:
    h = tokens.header("operator", area="3303")
    for i, caps in enumerate((["heavy_rescue", "medical"], ["water_rescue"])):
        client.post("/api/v1/resources", json=team(f"e{i}", caps=caps), headers=h)
    r = client.get(f"/api/v1/resources/export?format={fmt}", headers=h)
    assert r.status_code == 200 and r.data
    client.delete("/api/v1/resources/e0", headers=h)
    client.delete("/api/v1/resources/e1", headers=h)
    r = client.post(f"/api/v1/resources/import?format={fmt}", data=r.data, headers=h,
                    content_type="application/octet-stream")
    assert r.status_code == 201, r.json
    back = client.get("/api/v1/resources/e0", headers=h).json
    assert back["capabilities"] == ["heavy_rescue", "medical"]
    assert math.isclose(back["home"]["lat"], 27.79)


def test_every_change_is_an_event_in_scope(client, tokens) -> None:
    wc = tokens.header("operator", **WENCHENG)
    client.post("/api/v1/resources", json=team("wc-1"), headers=wc)
    client.patch("/api/v1/resources/wc-1", json={"crew": 9}, headers=wc)
    client.post("/api/v1/resources/wc-1/position", json={"lat": 27.8, "lon": 120.1}, headers=wc)
    client.delete("/api/v1/resources/wc-1", headers=wc)
    evs = client.get("/api/v1/events", headers=wc).json["events"]
    assert [e["type"] for e in evs] == ["resource.created", "resource.updated",
                                        "resource.position", "resource.deleted"]
    assert all(e["area"] == "330328" for e in evs)
    seqs = [e["seq"] for e in evs]
    assert seqs == sorted(seqs)
    dt = tokens.header("operator", **DONGTOU)
    assert client.get("/api/v1/events", headers=dt).json["events"] == []
    assert client.get("/api/v1/events?area=3303", headers=wc).status_code == 403
    page = client.get(f"/api/v1/events?after={seqs[1]}&limit=1", headers=wc).json
    assert [e["seq"] for e in page["events"]] == [seqs[2]]


def test_openapi_is_generated_from_the_contract(client) -> None:
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/resources/{rid}/position" in spec["paths"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            ok = [c for c in op["responses"] if c.startswith("2")]
            assert ok, (method, path)
            for code, r in op["responses"].items():
                if code != "204" and not path.endswith("/export"):
                    # JSON, or the bytes of a photo or frame (declared as binary)
                    assert all("schema" in c for c in r["content"].values()) and r["content"], \
                        (method, path, code)
            if method in ("post", "patch") and not path.endswith("/import"):
                assert "requestBody" in op, (method, path)
    schemas = spec["components"]["schemas"]
    assert schemas["IncidentIn"]["additionalProperties"] is False
    assert "building_collapse" in schemas["IncidentIn"]["properties"]["category"]["enum"]
    limit = next(p for p in spec["paths"]["/api/v1/events"]["get"]["parameters"]
                 if p["name"] == "limit")
    assert limit["schema"]["minimum"] == 1 and limit["schema"]["maximum"] == 1000
    level = next(p for p in spec["paths"]["/api/v1/areas"]["get"]["parameters"]
                 if p["name"] == "level")
    assert level["schema"]["anyOf"][0]["minimum"] == 1


def test_csv_import_names_row_and_field(client, tokens) -> None:
    h = tokens.header("operator", area="3303")
    csv = ("id,name,kind,capabilities,speed_kmh,readiness_s,area,lat,lon,home_name,home_lat,home_lon\n"
           "c1,A,land_team,heavy_rescue,50,600,330328,27.79,120.09,b,27.79,120.09\n"
           "c2,B,land_team,heavy_rescue,50,600,330328,127.79,120.09,b,27.79,120.09\n")
    r = client.post("/api/v1/resources/import", data={"file": (io.BytesIO(csv.encode()), "r.csv")},
                    headers=h, content_type="multipart/form-data")
    assert r.status_code == 400, r.json
    assert r.json["error"]["field"].startswith("row 2")


def test_two_contract_models_of_one_name_are_refused() -> None:
    # Components are named by class name: a plugin's model named like one of ours once
    # replaced the field report's published schema without a word.
    from rescue.api.contract import _unique_names

    name_of = _unique_names()

    class ReportOut:
        pass

    first = ReportOut
    assert name_of(first) == name_of(first) == "ReportOut"

    class ReportOut:  # type: ignore[no-redef]  # noqa: F811
        pass

    with pytest.raises(ValueError, match="two contract models are named ReportOut"):
        name_of(ReportOut)
