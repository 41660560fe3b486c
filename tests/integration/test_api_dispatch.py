"""Suggestions over HTTP: shape, validation, scope, and the index following the event log."""

from __future__ import annotations

import pytest

from tests.integration.conftest import team

COLLAPSE = {"lat": 27.78, "lon": 120.08, "category": "building_collapse", "severity": "III"}


def registry(client, h) -> None:
    units = [
        team("wc-heavy", caps=["heavy_rescue", "search_dog"], lat=27.787, lon=120.09),
        team("rs-heavy", area="330381", caps=["heavy_rescue"], lat=27.78, lon=120.63),
        team("wc-med", caps=["medical"], lat=27.79, lon=120.095),
        team("city-struct", area="3303", kind="expert_team", caps=["structural_expert"],
             lat=28.0, lon=120.67),
        team("heli-medevac", area="3303", kind="helicopter", caps=["medevac", "hoist"],
             lat=27.914, lon=120.851, speed_kmh=240, readiness_s=900, range_km=700),
    ]
    for u in units:
        r = client.post("/api/v1/resources", json=u, headers=h)
        assert r.status_code == 201, r.json


def test_adhoc_suggestion_shape_and_order(client, tokens) -> None:
    h = tokens.header("operator", area="3303")
    registry(client, h)
    r = client.post("/api/v1/dispatch/suggest", json=COLLAPSE, headers=h)
    assert r.status_code == 200, r.json
    s = r.json
    assert {"incident", "requirements", "plan"} <= set(s)
    caps = {req["capability"] for req in s["requirements"]}
    assert {"heavy_rescue", "medical", "structural_expert"} <= caps
    for req in s["requirements"]:
        assert {"capability", "count", "candidates", "shortfall"} <= set(req)
        etas = [c["eta_s"] for c in req["candidates"]]
        assert etas == sorted(etas)
        for c in req["candidates"]:
            assert {"resource_id", "kind", "mode", "eta_s", "distance_km", "relation",
                    "reason"} <= set(c)
    heavy = next(q for q in s["requirements"] if q["capability"] == "heavy_rescue")
    assert heavy["candidates"][0]["resource_id"] == "wc-heavy"
    assert heavy["candidates"][0]["relation"] == "own_area"
    # Named as an operator asks for them, with whose they are.
    assert heavy["candidates"][0]["name"] == "Team wc-heavy"
    assert heavy["candidates"][0]["call_sign"] == "WC-HEAVY"
    assert [c["area"] for c in heavy["candidates"]] == ["330328", "330381"]
    assert all(p["resource_id"] for p in s["plan"])
    assert len({p["resource_id"] for p in s["plan"]}) == len(s["plan"])


@pytest.mark.parametrize("patch,status,field", [
    ({"category": "alien_invasion"}, 400, "category"),
    ({"severity": "7"}, 400, "severity"),
    ({"k": 10**9}, 400, "k"),
    ({"k": 0}, 400, "k"),
    ({"lat": 90.0, "lon": 0.0}, 422, "lat"),
    ({"lat": "north"}, 400, "lat"),
])
def test_bad_suggest_requests_are_4xx_naming_the_problem(client, tokens, patch, status, field):
    h = tokens.header("operator", area="33")
    r = client.post("/api/v1/dispatch/suggest", json={**COLLAPSE, **patch}, headers=h)
    assert r.status_code == status, r.json
    assert r.json["error"]["field"] == field


def test_incident_suggestions_k_bounds_and_scope(client, tokens) -> None:
    h = tokens.header("operator", area="330328")
    city = tokens.header("operator", area="3303")
    registry(client, city)
    iid = client.post("/api/v1/incidents", json={k: v for k, v in COLLAPSE.items()},
                      headers=h).json["id"]
    r = client.get(f"/api/v1/incidents/{iid}/suggestions?k=2", headers=h)
    assert r.status_code == 200
    assert r.json["incident"] == iid
    assert all(len(q["candidates"]) <= 2 for q in r.json["requirements"])
    assert client.get(f"/api/v1/incidents/{iid}/suggestions?k=1000000000",
                      headers=h).status_code == 400
    dongtou = tokens.header("operator", area="330305")
    assert client.get(f"/api/v1/incidents/{iid}/suggestions", headers=dongtou).status_code == 404
    assert client.post("/api/v1/dispatch/suggest", json=COLLAPSE,
                       headers=dongtou).status_code == 403
    # candidates from the city are shown to the county but not assignable by it
    s = r.json
    struct = next(q for q in s["requirements"] if q["capability"] == "structural_expert")
    assert struct["candidates"][0]["resource_id"] == "city-struct"
    assert struct["candidates"][0]["assignable"] is False
    assert struct["candidates"][0]["relation"] == "mutual_aid_higher"


def test_assigned_and_moved_units_are_seen_by_the_next_suggestion(client, tokens) -> None:
    h = tokens.header("operator", area="3303")
    registry(client, h)
    iid = client.post("/api/v1/incidents", json=COLLAPSE, headers=h).json["id"]

    def heavy_ids() -> list[str]:
        s = client.get(f"/api/v1/incidents/{iid}/suggestions?k=5", headers=h).json
        q = next(q for q in s["requirements"] if q["capability"] == "heavy_rescue")
        return [c["resource_id"] for c in q["candidates"]]

    assert heavy_ids() == ["wc-heavy", "rs-heavy"]
    assert client.post(f"/api/v1/incidents/{iid}/assignments", json={"resource_id": "wc-heavy"},
                       headers=h).status_code == 201
    assert heavy_ids() == ["rs-heavy"]
    client.delete(f"/api/v1/incidents/{iid}/assignments/wc-heavy", headers=h)
    # move the Wencheng team far away: it now ranks second
    client.post("/api/v1/resources/wc-heavy/position", json={"lat": 28.35, "lon": 121.1},
                headers=h)
    assert heavy_ids() == ["rs-heavy", "wc-heavy"]
