"""Incidents over HTTP: lifecycle, escalation, sitreps, scope and atomic assignment."""

from __future__ import annotations

import threading

import pytest

from tests.integration.conftest import team

WENCHENG_POINT = {"lat": 27.78, "lon": 120.08}


def report(client, h, **kw):
    body = {"title": "房屋倒塌 house collapse", "category": "building_collapse",
            "severity": "IV", "persons_at_risk": 3, **WENCHENG_POINT, **kw}
    return client.post("/api/v1/incidents", json=body, headers=h)


def test_report_resolves_areas_and_lead(client, tokens) -> None:
    h = tokens.header("operator", area="330328")
    r = report(client, h)
    assert r.status_code == 201, r.json
    inc = r.json
    for key in ("id", "title", "category", "severity", "lat", "lon", "persons_at_risk", "status",
                "areas", "surface", "lead_level", "assignments", "exercise"):
        assert key in inc
    assert [a["code"] for a in inc["areas"]][:3] == ["33", "3303", "330328"]
    assert inc["lead_level"] == "county" and inc["status"] == "reported"
    assert inc["surface"] == "land" and inc["exercise"] is None
    fc = client.get("/api/v1/incidents", headers=h).json
    assert fc["type"] == "FeatureCollection"
    assert fc["features"][0]["geometry"]["coordinates"] == [120.08, 27.78]


@pytest.mark.parametrize("patch,field", [
    ({"category": "alien_invasion"}, "category"),
    ({"severity": "7"}, "severity"),
    ({"severity": 4}, "severity"),
    ({"lat": float("nan")}, "lat"),
    ({"lat": 95}, "lat"),
    ({"persons_at_risk": -1}, "persons_at_risk"),
    ({"persons_at_risk": "many"}, "persons_at_risk"),
    ({"weather": {"wind_kmh": "strong"}}, "weather.wind_kmh"),
    ({"colour": 1}, "colour"),
])
def test_bad_reports_are_400_naming_the_field(client, tokens, patch, field) -> None:
    r = report(client, tokens.header("operator", area="33"), **patch)
    assert r.status_code == 400, r.json
    assert r.json["error"]["field"] == field


def test_north_pole_is_outside_coverage(client, tokens) -> None:
    r = report(client, tokens.header("operator", area="33"), lat=89.99, lon=0.0)
    assert r.status_code == 422
    assert r.json["error"]["code"] == "outside_coverage"


def test_other_county_cannot_report_or_see(client, tokens) -> None:
    dongtou = tokens.header("operator", area="330305")
    assert report(client, dongtou).status_code == 403
    iid = report(client, tokens.header("operator", area="330328")).json["id"]
    assert client.get(f"/api/v1/incidents/{iid}", headers=dongtou).status_code == 404
    assert client.patch(f"/api/v1/incidents/{iid}", json={"severity": "III"},
                        headers=dongtou).status_code == 404
    assert client.get("/api/v1/incidents", headers=dongtou).json["features"] == []


def test_department_desk_sees_its_categories_only(client, tokens) -> None:
    wc = tokens.header("operator", area="330328")
    report(client, wc)
    desk = tokens.header("operator", area="3303", categories=["maritime_distress"])
    assert client.get("/api/v1/incidents", headers=desk).json["features"] == []
    assert report(client, desk).status_code == 403


def test_escalation_moves_the_lead_and_is_an_event(client, tokens) -> None:
    h = tokens.header("operator", area="330328")
    iid = report(client, h).json["id"]
    r = client.patch(f"/api/v1/incidents/{iid}", json={"severity": "II"}, headers=h)
    assert r.status_code == 200
    assert r.json["lead_level"] == "province" and r.json["lead_area"] == "33"
    evs = client.get("/api/v1/events?type=incident.", headers=h).json["events"]
    esc = [e for e in evs if e["type"] == "incident.escalated"]
    assert esc and esc[0]["payload"]["from"] == "IV" and esc[0]["payload"]["to"] == "II"


def test_sitrep_is_attached_and_an_event(client, tokens) -> None:
    h = tokens.header("operator", area="330328")
    iid = report(client, h).json["id"]
    r = client.post(f"/api/v1/incidents/{iid}/sitreps", headers=h, json={
        "text": "两人被困 two trapped", "casualties": 1, "persons_rescued": 2,
        "needs": ["crane", "medics"]})
    assert r.status_code == 201, r.json
    (s,) = r.json["incident"]["sitreps"]
    assert s["persons_rescued"] == 2 and s["needs"] == ["crane", "medics"]
    bad = client.post(f"/api/v1/incidents/{iid}/sitreps", headers=h, json={"casualties": 1})
    assert bad.status_code == 400 and bad.json["error"]["field"] == "text"
    types = [e["type"] for e in client.get("/api/v1/events", headers=h).json["events"]]
    assert "sitrep.added" in types


def test_assignment_lifecycle_and_closing_rules(client, tokens) -> None:
    h = tokens.header("operator", area="330328")
    client.post("/api/v1/resources", json=team("wc-1"), headers=h)
    iid = report(client, h).json["id"]
    r = client.post(f"/api/v1/incidents/{iid}/assignments", json={"resource_id": "wc-1"},
                    headers=h)
    assert r.status_code == 201, r.json
    assert r.json["status"] == "responding"
    assert client.get("/api/v1/resources/wc-1", headers=h).json["status"] == "assigned"
    # a closed incident must release first
    r = client.patch(f"/api/v1/incidents/{iid}", json={"status": "closed"}, headers=h)
    assert r.status_code == 409
    r = client.delete(f"/api/v1/incidents/{iid}/assignments/wc-1", headers=h)
    assert r.status_code == 200
    assert client.get("/api/v1/resources/wc-1", headers=h).json["status"] == "available"
    assert client.patch(f"/api/v1/incidents/{iid}", json={"status": "closed"},
                        headers=h).status_code == 200
    r = client.post(f"/api/v1/incidents/{iid}/assignments", json={"resource_id": "wc-1"},
                    headers=h)
    assert r.status_code == 409
    r = client.patch(f"/api/v1/incidents/{iid}", json={"status": "responding"}, headers=h)
    assert r.status_code == 409


def test_close_with_release_all(client, tokens) -> None:
    h = tokens.header("operator", area="330328")
    client.post("/api/v1/resources", json=team("wc-1"), headers=h)
    iid = report(client, h).json["id"]
    client.post(f"/api/v1/incidents/{iid}/assignments", json={"resource_id": "wc-1"}, headers=h)
    r = client.patch(f"/api/v1/incidents/{iid}", json={"status": "closed", "release_all": True},
                     headers=h)
    assert r.status_code == 200, r.json
    assert client.get("/api/v1/resources/wc-1", headers=h).json["status"] == "available"


def test_exercise_units_never_serve_live_incidents(client, tokens) -> None:
    admin = tokens.header("admin")
    client.post("/api/v1/resources", json=team("ex-1", exercise="drill1"), headers=admin)
    iid = report(client, admin).json["id"]
    r = client.post(f"/api/v1/incidents/{iid}/assignments", json={"resource_id": "ex-1"},
                    headers=admin)
    assert r.status_code == 400 and r.json["error"]["field"] == "resource_id"


def test_twenty_concurrent_assignments_of_one_unit_give_one_success(app, client, tokens) -> None:
    h = tokens.header("operator", area="3303")
    client.post("/api/v1/resources", json=team("hot"), headers=h)
    ids = [report(client, h).json["id"] for _ in range(4)]
    results: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(20)

    def go(i: int) -> None:
        c = app.test_client()
        barrier.wait()
        r = c.post(f"/api/v1/incidents/{ids[i % 4]}/assignments", json={"resource_id": "hot"},
                   headers=h)
        with lock:
            results.append(r.status_code)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201] + [409] * 19
    assigned = [i for i in ids
                if any(a["active"] for a in client.get(f"/api/v1/incidents/{i}",
                                                       headers=h).json["assignments"])]
    assert len(assigned) == 1


def test_concurrent_assignments_of_different_units_to_one_incident_all_succeed(app, client,
                                                                             tokens) -> None:
    h = tokens.header("operator", area="3303")
    for i in range(8):
        client.post("/api/v1/resources", json=team(f"u{i}"), headers=h)
    iid = report(client, h).json["id"]
    results: list[int] = []
    barrier = threading.Barrier(8)

    def go(i: int) -> None:
        c = app.test_client()
        barrier.wait()
        results.append(c.post(f"/api/v1/incidents/{iid}/assignments",
                              json={"resource_id": f"u{i}"}, headers=h).status_code)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [201] * 8
    assert len(client.get(f"/api/v1/incidents/{iid}", headers=h).json["assignments"]) == 8
