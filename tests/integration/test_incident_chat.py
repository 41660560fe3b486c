"""Incident chat (issue 12 §2): one thread per incident for the centres that see it and the
units assigned to it; messages are events scoped like the incident, idempotent by client id,
bounded, with the author's role and level."""

from __future__ import annotations

import pytest

from tests.integration.conftest import team

WENCHENG = dict(area="330328")


@pytest.fixture
def scene(client, tokens):
    """A Wencheng collapse with one Wencheng team assigned and one not."""
    op = tokens.header("operator", **WENCHENG, name="Wencheng duty officer")
    for rid in ("wc-1", "wc-2"):
        assert client.post("/api/v1/resources", json=team(rid), headers=op).status_code == 201
    inc = client.post("/api/v1/incidents", json={
        "title": "house collapse", "category": "building_collapse", "severity": "IV",
        "persons_at_risk": 3, "lat": 27.78, "lon": 120.08}, headers=op).json
    r = client.post(f"/api/v1/incidents/{inc['id']}/assignments",
                    json={"resource_id": "wc-1"}, headers=op)
    assert r.status_code in (200, 201), r.json
    return inc["id"], op


def test_centres_and_assigned_units_share_one_thread(client, tokens, scene) -> None:
    iid, op = scene
    url = f"/api/v1/incidents/{iid}/messages"
    r = client.post(url, json={"id": "m-1", "text": "东侧墙体有二次坍塌风险 (east wall may fall)"},
                    headers=op)
    assert r.status_code == 201, r.json
    first = r.json
    assert first["role"] == "operator" and first["level"] == "county"
    assert first["author"].startswith("operator:330328") and not first["duplicate"]
    # A resend (a retry over a weak link) is stored once and answered as the first time.
    again = client.post(url, json={"id": "m-1", "text": "东侧墙体有二次坍塌风险 (east wall may fall)"},
                        headers=op)
    assert again.status_code == 201 and again.json["duplicate"]
    assert again.json["seq"] == first["seq"] and again.json["id"] == "m-1"
    # The team on scene answers from its field token; the other team is not on it.
    unit = tokens.header("field", resource_id="wc-1")
    r = client.post(url, json={"text": "收到，已撤离东侧 (east side cleared)"},
                    headers={**unit, "Idempotency-Key": "u-7"})
    assert r.status_code == 201 and r.json["role"] == "field" and r.json["unit"] == "wc-1"
    assert client.post(url, json={"text": "hello"},
                       headers=tokens.header("field", resource_id="wc-2")).status_code == 404
    city = tokens.header("operator", area="3303")
    r = client.post(url, json={"text": "市指挥中心已派增援"}, headers=city)
    assert r.status_code == 201 and r.json["level"] == "city"
    thread = client.get(url, headers=op).json["messages"]
    assert [m["role"] for m in thread] == ["operator", "field", "operator"]
    assert [m["seq"] for m in thread] == sorted(m["seq"] for m in thread)
    assert client.get(f"{url}?after={thread[0]['seq']}", headers=unit).json["messages"] \
        == thread[1:]
    # Lucheng sees neither the incident nor its thread, nor the events.
    lucheng = tokens.header("operator", area="330302")
    assert client.get(url, headers=lucheng).status_code == 404
    assert client.post(url, json={"text": "hi"}, headers=lucheng).status_code == 404
    for h, sees in ((op, True), (city, True), (tokens.header("operator", area="33"), True),
                    (lucheng, False), (unit, True)):
        evs = client.get("/api/v1/events?type=message.&limit=100", headers=h).json["events"]
        assert (len(evs) == 3) == sees, (h, len(evs))


@pytest.mark.parametrize("body,field", [
    ({"text": ""}, "text"), ({"text": "   "}, "text"), ({"text": "x" * 2001}, "text"),
    ({"text": "a\x00b"}, "text"), ('{"text": "a\\ud800"}', "text"), ({"text": 5}, "text"),
    ({}, "text"), ({"text": "ok", "id": ""}, "id"), ({"text": "ok", "id": "x" * 81}, "id"),
    ({"text": "ok", "to": "all"}, "to"),
])
def test_bad_messages_are_refused_naming_the_field(client, scene, body, field) -> None:
    iid, op = scene
    url = f"/api/v1/incidents/{iid}/messages"
    r = (client.post(url, data=body, headers={**op, "Content-Type": "application/json"})
         if isinstance(body, str) else client.post(url, json=body, headers=op))
    assert r.status_code == 400 and r.json["error"]["field"] == field, r.json
    assert client.get(f"/api/v1/incidents/{iid}/messages", headers=op).json["messages"] == []


def test_an_id_reused_on_another_incident_is_refused(client, tokens, scene) -> None:
    iid, op = scene
    other = client.post("/api/v1/incidents", json={
        "title": "flood", "category": "flood", "severity": "IV", "persons_at_risk": 1,
        "lat": 27.79, "lon": 120.07}, headers=op).json
    assert client.post(f"/api/v1/incidents/{iid}/messages", json={"id": "k", "text": "a"},
                       headers=op).status_code == 201
    r = client.post(f"/api/v1/incidents/{other['id']}/messages", json={"id": "k", "text": "b"},
                    headers=op)
    assert r.status_code == 400 and r.json["error"]["field"] == "id"
