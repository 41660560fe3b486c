"""Directives with real clients (issue 12 §5) against `rescue serve --demo`.

A Wencheng directive to a unit is received over `/field` and answered there; the answers reach
Wencheng, the city and the province but not Lucheng. A directive nobody accepts turns overdue
by itself (the server's deadline watch) and is pushed to the issuer. A unit that reconnects
receives its open directives first. A Lucheng operator cannot direct a Wencheng unit.
"""

from __future__ import annotations

import pytest
import requests

from tests.e2e.sockets import Listener, field_token, head
from tests.integration.conftest import team

WENCHENG, LUCHENG, CITY, PROVINCE = "330328", "330302", "3303", "33"


@pytest.fixture(scope="module")
def world(server):
    admin = server.h("admin")
    for rid in ("dir-e2e-1", "dir-e2e-2"):
        r = requests.post(f"{server.api}/resources", json=team(rid, area=WENCHENG),
                          headers=admin, timeout=10)
        assert r.status_code == 201, r.text
    start = head(server.api, server.tokens["admin"])
    centres = {a: Listener(server.base, server.tokens[f"operator {a}"], last_seq=start).connect()
               for a in (WENCHENG, LUCHENG, CITY, PROVINCE)}
    units = {rid: Listener(server.base, field_token(server.log.parent, rid), "/field",
                           last_seq=start).connect() for rid in ("dir-e2e-1", "dir-e2e-2")}
    yield server, centres, units
    for c in (*centres.values(), *units.values()):
        c.disconnect()


def issue(server, area: str, **body) -> requests.Response:
    body.setdefault("text", "撤离东侧 (clear the east side)")
    return requests.post(f"{server.api}/directives", json=body, timeout=10,
                         headers=server.h(f"operator {area}"))


def about(directive_id: str, type_: str):
    return lambda e: e["type"] == type_ and e["payload"]["directive"]["id"] == directive_id


def test_received_over_field_answered_and_seen_above_not_beside(world) -> None:
    server, centres, units = world
    r = issue(server, WENCHENG, to={"resources": ["dir-e2e-1"]})
    assert r.status_code == 201, r.text
    did = r.json()["id"]
    unit = units["dir-e2e-1"]
    got = unit.wait_for(about(did, "directive.issued"))
    assert got["payload"]["directive"]["text"].startswith("撤离东侧")
    for state in ("received", "accepted"):
        ack = unit.sio.call("answer", {"id": f"ans-{state}", "directive": did, "state": state},
                            namespace="/field", timeout=10)
        assert ack["ok"] and ack["seq"] and not ack["duplicate"], ack
    again = unit.sio.call("answer", {"id": "ans-accepted", "directive": did,
                                     "state": "accepted"}, namespace="/field", timeout=10)
    assert again["duplicate"] and again["seq"] == ack["seq"]
    bad = unit.sio.call("answer", {"directive": did, "state": "unable"}, namespace="/field",
                        timeout=10)
    assert not bad["ok"] and bad["error"]["field"] == "reason"
    for area in (WENCHENG, CITY, PROVINCE):
        e = centres[area].wait_for(lambda e: about(did, "directive.answered")(e)
                                   and e["payload"]["answer"]["state"] == "accepted")
        assert e["seq"] == ack["seq"]
    assert centres[LUCHENG].wait_seq(ack["seq"])
    assert not [e for e in centres[LUCHENG].events if e["type"].startswith("directive.")]
    assert not [e for e in units["dir-e2e-2"].events if e["type"].startswith("directive.")]


def test_a_lucheng_operator_cannot_direct_a_wencheng_unit(world) -> None:
    server, _, _ = world
    r = issue(server, LUCHENG, to={"resources": ["dir-e2e-1"]})
    assert r.status_code == 404 and r.json()["error"]["field"] == "to.resources[0]"


def test_unanswered_turns_overdue_and_is_pushed_to_the_issuer(world) -> None:
    server, centres, _ = world
    did = issue(server, WENCHENG, to={"resources": ["dir-e2e-2"]}, deadline_s=1).json()["id"]
    e = centres[WENCHENG].wait_for(about(did, "directive.overdue"), timeout=15)
    assert e["payload"]["late"] == ["unit:dir-e2e-2"]
    board = requests.get(f"{server.api}/directives", headers=server.h(f"operator {CITY}"),
                         timeout=10).json()["directives"]
    assert board[0]["state"] == "overdue"  # overdue first
    assert did in [d["id"] for d in board if d["state"] == "overdue"]


def test_a_reconnecting_unit_receives_its_open_directives_first(world) -> None:
    server, _, units = world
    unit = units["dir-e2e-2"]
    unit.disconnect()
    did = issue(server, WENCHENG, to={"resources": ["dir-e2e-2"]},
                text="return to base for fuel").json()["id"]
    unit.order.clear()
    unit.connect()
    assert unit.order[0] == "directives", unit.order
    assert did in [d["id"] for d in unit.directives]
    assert all(d["state"] in ("open", "overdue") for d in unit.directives)


def test_a_county_centre_answers_the_city_over_its_socket(world) -> None:
    server, centres, _ = world
    r = issue(server, CITY, to={"area": WENCHENG}, text="组织第二梯队 (raise a second echelon)")
    assert r.status_code == 201, r.text
    did = r.json()["id"]
    wc = centres[WENCHENG]
    wc.wait_for(about(did, "directive.issued"))
    ack = wc.sio.call("answer", {"id": "c-1", "directive": did, "state": "accepted"},
                      namespace="/centre", timeout=10)
    assert ack["ok"] and ack["state"] == "open", ack
    # Lucheng neither sees it nor may answer it.
    bad = centres[LUCHENG].sio.call("answer", {"directive": did, "state": "done"},
                                    namespace="/centre", timeout=10)
    assert not bad["ok"] and bad["error"]["code"] == "not_found"
    e = centres[CITY].wait_for(lambda e: about(did, "directive.answered")(e))
    assert e["payload"]["answer"]["by"].startswith("operator:330328")
