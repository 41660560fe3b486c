"""CAP out (issue 10 §3): every incident category gives a CAP 1.2 alert that validates (the
standard's structure as an XML schema written from it, and its cross-element rules here);
the message type follows the incident's life; reads are scoped; an Atom feed lists the
caller's current alerts."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
import xmlschema

from rescue import cap

SCHEMA = xmlschema.XMLSchema(Path(__file__).resolve().parents[1] / "fixtures"
                             / "cap-1.2-rules.xsd")
NS = {"c": cap.NS}
WENCHENG_LAND = (27.78, 120.08)
SEA_OFF_DONGTOU = (27.80, 121.25)
SEA_CATEGORIES = {"maritime_distress", "person_overboard", "vessel_fire"}


def check_cap(xml: bytes) -> ET.Element:
    """Valid against the structure, and the rules a schema cannot say."""
    SCHEMA.validate(xml)
    root = ET.fromstring(xml)
    assert root.tag == f"{{{cap.NS}}}alert"
    scope = root.findtext("c:scope", namespaces=NS)
    if scope == "Restricted":
        assert root.findtext("c:restriction", namespaces=NS), "Restricted needs a restriction"
    if scope == "Private":
        assert root.findtext("c:addresses", namespaces=NS), "Private needs addresses"
    if root.findtext("c:msgType", namespaces=NS) in ("Update", "Cancel"):
        refs = root.findtext("c:references", namespaces=NS)
        assert refs, "an Update or Cancel references the earlier message"
        for ref in refs.split():
            sender, ident, sent = ref.split(",")
            assert sender and ident and sent[-6] in "+-"
    for poly in root.iterfind(".//c:polygon", NS):
        pts = poly.text.split()
        assert len(pts) >= 4 and pts[0] == pts[-1], "a polygon is closed"
    for circle in root.iterfind(".//c:circle", NS):
        centre, radius = circle.text.split()
        lat, lon = map(float, centre.split(","))
        assert abs(lat) <= 90 and abs(lon) <= 180 and float(radius) > 0
    return root


@pytest.fixture
def op(tokens):
    return tokens.header("operator", area="33")


def report(client, op, category: str) -> dict:
    lat, lon = SEA_OFF_DONGTOU if category in SEA_CATEGORIES else WENCHENG_LAND
    r = client.post("/api/v1/incidents", json={
        "title": f"{category} 测试 & <check>", "category": category, "severity": "II",
        "persons_at_risk": 5, "lat": lat, "lon": lon}, headers=op)
    assert r.status_code == 201, r.json
    return r.json


def test_every_category_gives_a_valid_alert(client, ctx, op) -> None:
    categories = ctx.plans.categories
    assert len(categories) >= 13
    for category in categories:
        inc = report(client, op, category)
        r = client.get(f"/api/v1/incidents/{inc['id']}/cap", headers=op)
        assert r.status_code == 200 and r.mimetype == "application/cap+xml"
        root = check_cap(r.data)
        assert root.findtext("c:msgType", namespaces=NS) == "Alert"
        assert root.findtext("c:status", namespaces=NS) == "Actual"
        info = root.find("c:info", NS)
        assert info.findtext("c:severity", namespaces=NS) == "Severe"
        assert info.findtext("c:category", namespaces=NS) == cap.CATEGORIES[category][0]
        codes = [g.findtext("c:value", namespaces=NS) for g in info.iterfind(".//c:geocode", NS)]
        chain = [a["code"] for a in inc["areas"]]
        assert codes[0] == "33" and codes[:len(chain)] == chain
        if inc.get("maritime"):
            assert inc["maritime"]["code"] in codes
        assert "<check>" in info.findtext("c:headline", namespaces=NS)  # escaped, kept


def test_the_message_follows_the_incidents_life(client, op, tokens) -> None:
    inc = report(client, op, "building_collapse")
    url = f"/api/v1/incidents/{inc['id']}/cap"
    first = check_cap(client.get(url, headers=op).data)
    client.patch(f"/api/v1/incidents/{inc['id']}", json={"persons_at_risk": 9}, headers=op)
    update = check_cap(client.get(url, headers=op).data)
    assert update.findtext("c:msgType", namespaces=NS) == "Update"
    sender = first.findtext("c:sender", namespaces=NS)
    ident = first.findtext("c:identifier", namespaces=NS)
    assert update.findtext("c:references", namespaces=NS).startswith(f"{sender},{ident},")
    assert update.findtext("c:identifier", namespaces=NS) != ident
    client.patch(f"/api/v1/incidents/{inc['id']}", json={"status": "closed"}, headers=op)
    closed = check_cap(client.get(url, headers=op).data)
    assert closed.findtext("c:msgType", namespaces=NS) == "Cancel"
    info = closed.find("c:info", NS)
    assert info.findtext("c:urgency", namespaces=NS) == "Past"
    assert info.findtext("c:responseType", namespaces=NS) == "AllClear"
    lucheng = tokens.header("operator", area="330302")
    assert client.get(url, headers=lucheng).status_code == 404
    assert client.get(url, headers=tokens.header("field", resource_id="x")).status_code in (
        403, 404)


def test_an_exercise_incident_is_an_exercise_message(ctx, client, op) -> None:
    from rescue.incident_repo import incident_from_dict

    inc = incident_from_dict(report(client, op, "flood"))
    root = check_cap(cap.to_xml(cap.alert(replace(inc, exercise="ex-7"),
                                          sender="rescue@test", now=inc.reported_at)))
    assert root.findtext("c:status", namespaces=NS) == "Exercise"
    assert "ex-7" in root.findtext("c:note", namespaces=NS)


def test_the_atom_feed_lists_the_callers_current_alerts(client, op, tokens) -> None:
    mine = report(client, op, "landslide")
    closed = report(client, op, "fire")
    client.patch(f"/api/v1/incidents/{closed['id']}", json={"status": "closed"}, headers=op)
    wencheng = tokens.header("operator", area="330328")
    r = client.get("/api/v1/cap.atom", headers=wencheng)
    assert r.status_code == 200 and r.mimetype == "application/atom+xml"
    feed = ET.fromstring(r.data)
    atom = {"a": cap.ATOM}
    links = [e.find("a:link", atom).get("href") for e in feed.iterfind("a:entry", atom)]
    assert any(h.endswith(f"/incidents/{mine['id']}/cap") for h in links)
    assert not any(closed["id"] in h for h in links)
    lucheng = client.get("/api/v1/cap.atom", headers=tokens.header("operator", area="330302"))
    assert not ET.fromstring(lucheng.data).findall("a:entry", atom)
