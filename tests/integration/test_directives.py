"""Directives (issue 12 §1) over HTTP on SQLite and PostgreSQL: who may direct whom, answers
and their order, overdue, mutual aid, centres directing centres, cancel, hostile bodies."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rescue.services.directives import announce_overdue
from tests.integration.conftest import team

WENCHENG, LUCHENG, RUIAN, CITY, PROVINCE = "330328", "330302", "330381", "3303", "33"


@pytest.fixture
def world(client, tokens):
    """Two Wencheng teams, a Ruian boat, a Lucheng team, and a Wencheng collapse."""
    op = {a: tokens.header("operator", area=a) for a in (WENCHENG, LUCHENG, RUIAN, CITY,
                                                         PROVINCE)}
    admin = tokens.header("admin")
    for rid, area, lat, lon in (("wc-1", WENCHENG, 27.79, 120.09),
                                ("wc-2", WENCHENG, 27.79, 120.09),
                                ("ra-1", RUIAN, 27.78, 120.65), ("lc-1", LUCHENG, 28.01, 120.65)):
        r = client.post("/api/v1/resources", json=team(rid, area=area, lat=lat, lon=lon),
                        headers=admin)
        assert r.status_code == 201, r.json
    inc = client.post("/api/v1/incidents", json={
        "title": "house collapse", "category": "building_collapse", "severity": "IV",
        "persons_at_risk": 3, "lat": 27.78, "lon": 120.08}, headers=op[WENCHENG]).json
    return op, inc["id"]


def unit(tokens, rid):
    return tokens.header("field", resource_id=rid)


def issue(client, headers, **body):
    body.setdefault("text", "撤离东侧 (clear the east side)")
    return client.post("/api/v1/directives", json=body, headers=headers)


def answer(client, headers, did, state, **extra):
    return client.post(f"/api/v1/directives/{did}/answer", json={"state": state, **extra},
                       headers=headers)


def seen(client, headers, did):
    """The directive's event types this caller sees in GET /events."""
    evs = client.get("/api/v1/events?limit=1000", headers=headers).json["events"]
    return [e["type"] for e in evs if e["type"].startswith("directive.")
            and e["payload"]["directive"]["id"] == did]


def test_a_unit_receives_answers_and_every_centre_above_sees_it(client, tokens, world) -> None:
    op, iid = world
    r = issue(client, op[WENCHENG], id="d-1", to={"resources": ["wc-1"]}, incident=iid,
              lat=27.781, lon=120.081)
    assert r.status_code == 201, r.json
    d = r.json
    assert d["state"] == "open" and d["deadline_s"] == 120 and not d["duplicate"]
    assert d["recipients"] == [{"kind": "unit", "id": "wc-1", "state": "issued", "time": None,
                                "reason": None, "by": None}]
    assert d["issuer"]["level"] == "county" and d["incident"] == iid
    again = issue(client, op[WENCHENG], id="d-1", to={"resources": ["wc-1"]}, incident=iid)
    assert again.status_code == 201 and again.json["duplicate"] and again.json["id"] == d["id"]

    wc1 = unit(tokens, "wc-1")
    r = answer(client, wc1, d["id"], "received", id="a-1")
    assert r.status_code == 200 and r.json["ok"] and r.json["ignored"] is None
    r = answer(client, wc1, d["id"], "accepted", id="a-2")
    assert r.json["directive"]["recipients"][0]["state"] == "accepted"
    accepted_seq = r.json["seq"]
    # A late "received" (a weak link delivered it after) is acknowledged and ignored; a resend
    # of the acceptance is answered as the first time.
    r = answer(client, wc1, d["id"], "received", id="a-3")
    assert r.status_code == 200 and r.json["ignored"] == "older" and r.json["seq"] is None
    dup = answer(client, wc1, d["id"], "accepted", id="a-2")
    assert dup.json["duplicate"] and dup.json["seq"] == accepted_seq
    assert dup.json["ignored"] is None
    r = answer(client, wc1, d["id"], "done")
    assert r.json["state"] == "closed"

    every = ["directive.issued", "directive.answered", "directive.answered",
             "directive.answered"]
    for who in (op[WENCHENG], op[CITY], op[PROVINCE], wc1):
        assert seen(client, who, d["id"]) == every
    for who in (op[LUCHENG], unit(tokens, "wc-2"), op[RUIAN]):
        assert seen(client, who, d["id"]) == []
        assert client.get(f"/api/v1/directives/{d['id']}", headers=who).status_code == 404
    # Another unit cannot answer it; the board lists it as closed.
    assert answer(client, unit(tokens, "wc-2"), d["id"], "accepted").status_code == 404
    closed = client.get("/api/v1/directives?state=closed", headers=op[CITY]).json["directives"]
    assert [x["id"] for x in closed] == [d["id"]]


def test_only_a_centre_covering_the_unit_may_direct_it(client, tokens, world) -> None:
    op, _ = world
    r = issue(client, op[LUCHENG], to={"resources": ["wc-1"]})
    assert r.status_code == 404 and r.json["error"]["field"] == "to.resources[0]"
    r = issue(client, op[LUCHENG], to={"area": WENCHENG})
    assert r.status_code == 403
    r = issue(client, unit(tokens, "wc-1"), to={"resources": ["wc-2"]})
    assert r.status_code == 403
    r = issue(client, op[WENCHENG], to={"area": WENCHENG})  # not a centre below itself
    assert r.status_code == 403
    r = issue(client, op[WENCHENG], to={"resources": ["wc-1", "nope"]})
    assert r.status_code == 404 and r.json["error"]["field"] == "to.resources[1]"
    assert client.get("/api/v1/directives", headers=op[WENCHENG]).json["directives"] == []


def test_mutual_aid_the_lead_and_the_home_centre_both_direct_and_see(client, tokens,
                                                                      world) -> None:
    op, iid = world
    r = client.post(f"/api/v1/incidents/{iid}/assignments", json={"resource_id": "ra-1"},
                    headers=op[CITY])
    assert r.status_code in (200, 201), r.json
    lead = issue(client, op[WENCHENG], to={"resources": ["ra-1"]}, incident=iid).json
    home = issue(client, op[RUIAN], to={"resources": ["ra-1"]}, text="report fuel state")
    assert home.status_code == 201, home.json
    for who in (op[WENCHENG], op[RUIAN], op[CITY], unit(tokens, "ra-1")):
        ids = {x["id"] for x in client.get("/api/v1/directives", headers=who).json["directives"]}
        assert ids == {lead["id"], home.json["id"]}
    assert client.get("/api/v1/directives", headers=op[LUCHENG]).json["directives"] == []
    assert issue(client, op[LUCHENG], to={"resources": ["ra-1"]}).status_code == 404
    # Released, the Ruian boat answers to Ruian only again.
    r = client.delete(f"/api/v1/incidents/{iid}/assignments/ra-1", headers=op[WENCHENG])
    assert r.status_code in (200, 204), r.json
    assert issue(client, op[WENCHENG], to={"resources": ["ra-1"]}).status_code == 404


def test_unanswered_becomes_overdue_once_and_acceptance_reopens(client, tokens, world, ctx,
                                                                clock) -> None:
    op, iid = world
    d = issue(client, op[WENCHENG], to={"resources": ["wc-1", "wc-2"]}, deadline_s=30).json
    assert announce_overdue(ctx.uow, ctx.now_in) == 0
    assert answer(client, unit(tokens, "wc-1"), d["id"], "accepted").status_code == 200
    clock.t += timedelta(seconds=31)
    board = client.get("/api/v1/directives?state=overdue", headers=op[CITY]).json["directives"]
    assert [(x["id"], x["late"]) for x in board] == [(d["id"], ["unit:wc-2"])]
    assert announce_overdue(ctx.uow, ctx.now_in) == 1
    assert announce_overdue(ctx.uow, ctx.now_in) == 0  # once
    assert seen(client, op[PROVINCE], d["id"]) == ["directive.issued", "directive.answered",
                                                   "directive.overdue"]
    evs = client.get("/api/v1/events?limit=1000", headers=unit(tokens, "wc-2")).json["events"]
    late = [e for e in evs if e["type"] == "directive.overdue"]
    assert late and late[0]["payload"]["late"] == ["unit:wc-2"]
    # The late unit accepts: open again (still waited for until done).
    assert answer(client, unit(tokens, "wc-2"), d["id"], "accepted").json["state"] == "open"
    assert client.get("/api/v1/directives?state=overdue",
                      headers=op[CITY]).json["directives"] == []


def test_a_centre_directs_the_centre_below_it(client, tokens, world) -> None:
    op, iid = world
    d = issue(client, op[CITY], to={"area": WENCHENG}, incident=iid,
              text="组织第二梯队 (raise a second echelon)").json
    assert d["recipients"][0] == {"kind": "area", "id": WENCHENG, "state": "issued",
                                  "time": None, "reason": None, "by": None}
    r = answer(client, op[WENCHENG], d["id"], "unable", reason="all teams committed")
    assert r.status_code == 200 and r.json["state"] == "closed"
    assert r.json["directive"]["recipients"][0]["reason"] == "all teams committed"
    assert seen(client, op[PROVINCE], d["id"])[-1] == "directive.answered"
    assert answer(client, op[LUCHENG], d["id"], "accepted").status_code == 404
    # The city may not answer for the county it directed.
    assert answer(client, op[CITY], d["id"], "done").status_code == 400


def test_a_centre_records_an_answer_heard_by_radio(client, tokens, world) -> None:
    op, _ = world
    d = issue(client, op[WENCHENG], to={"resources": ["wc-1"]}).json
    r = answer(client, op[WENCHENG], d["id"], "accepted", recipient="wc-1")
    assert r.status_code == 200 and r.json["directive"]["recipients"][0]["by"].startswith(
        "operator:330328")
    assert answer(client, op[WENCHENG], d["id"], "done").status_code == 400  # for whom?


def test_cancel_closes_it_for_everyone(client, tokens, world) -> None:
    op, _ = world
    d = issue(client, op[WENCHENG], to={"resources": ["wc-1"]}).json
    assert client.post(f"/api/v1/directives/{d['id']}/cancel",
                       headers=op[LUCHENG]).status_code == 404
    assert client.post(f"/api/v1/directives/{d['id']}/cancel",
                       headers=unit(tokens, "wc-1")).status_code == 403
    r = client.post(f"/api/v1/directives/{d['id']}/cancel", headers=op[CITY])
    assert r.status_code == 200 and r.json["state"] == "closed" and r.json["cancelled"]
    assert answer(client, unit(tokens, "wc-1"), d["id"], "accepted").status_code == 409
    assert client.post(f"/api/v1/directives/{d['id']}/cancel",
                       headers=op[WENCHENG]).status_code == 409


@pytest.mark.parametrize("body, field", [
    ({"to": {"resources": ["wc-1"], "area": WENCHENG}}, "to"),
    ({"to": {"resources": []}}, "to.resources"),
    ({"to": {"resources": ["wc-1", "wc-1"]}}, "to.resources[1]"),
    ({"to": ["wc-1"]}, "to"),
    ({"to": {"resources": ["wc-1"]}, "text": "a\x00b"}, "text"),
    ({"to": {"resources": ["wc-1"]}, "text": "   "}, "text"),
    ({"to": {"resources": ["wc-1"]}, "text": "x" * 2001}, "text"),
    ({"to": {"resources": ["wc-1"]}, "deadline_s": 0}, "deadline_s"),
    ({"to": {"resources": ["wc-1"]}, "deadline_s": "120"}, "deadline_s"),
    ({"to": {"resources": ["wc-1"]}, "deadline_s": True}, "deadline_s"),
    ({"to": {"resources": ["wc-1"]}, "lat": 27.7}, "lon"),
    ({"to": {"resources": ["wc-1"]}, "lat": 91, "lon": 120}, "lat"),
    ({"to": {"resources": ["wc-1"]}, "priority": "high"}, "priority"),
    ({"to": {"area": "99"}}, "to.area"),
    ({"to": {"resources": ["wc-1"]}, "incident": "inc-nope"}, "id"),
])
def test_hostile_directives_are_refused_naming_the_field(client, world, body, field) -> None:
    op, _ = world
    r = issue(client, op[WENCHENG], **body)
    assert 400 <= r.status_code < 500, r.json
    assert r.json["error"]["field"] == field, r.json


def test_hostile_answers_are_refused_naming_the_field(client, tokens, world) -> None:
    op, _ = world
    d = issue(client, op[WENCHENG], to={"resources": ["wc-1"]}).json
    wc1 = unit(tokens, "wc-1")
    for body, field in (({"state": "maybe"}, "state"), ({"state": "unable"}, "reason"),
                        ({"state": "done", "extra": 1}, "extra"),
                        ('{"state": "unable", "reason": "a\\ud800"}', "reason"),
                        ({"state": "done", "recipient": "wc-2"}, None)):
        r = answer(client, wc1, d["id"], **body) if isinstance(body, dict) else \
            client.post(f"/api/v1/directives/{d['id']}/answer", data=body,
                        headers={**wc1, "Content-Type": "application/json"})
        assert 400 <= r.status_code < 500, (body, r.json)
        if field:
            assert r.json["error"]["field"] == field, (body, r.json)
    r = client.post("/api/v1/directives/dir-nope/answer", json={"state": "done"}, headers=wc1)
    assert r.status_code == 404
