"""Who sees what, live and over GET /events, against a served demo (`rescue serve --demo`).

A Ruian boat sent on mutual aid to a Wencheng collapse is seen by both counties, the city and
the province, and by the boat itself; a sibling county sees nothing of it; desks see only
their categories (and the units, which carry none); a township sees its own incidents and not
its county's units. Every client's socket stream equals its GET /events, in order, unique.
"""

from __future__ import annotations

import pytest
import requests

from tests.e2e.sockets import Listener, assert_same_view, field_token, head, http_events

WENCHENG_POINT = {"lat": 27.78, "lon": 120.08}  # 大峃镇, Wencheng
BEIAO_POINT = {"lat": 27.8357, "lon": 121.1567}  # 北岙街道, Dongtou
LUCHENG_POINT = {"lat": 28.0157, "lon": 120.6556}
FIRE_DESK = "fire"
MEDICAL_DESK = "medical"


def _desk_token(server, categories: str) -> str:
    import subprocess
    import sys
    from pathlib import Path

    rescue = Path(sys.executable).with_name("rescue")
    out = subprocess.run([str(rescue), "token", "create", "--role", "operator", "--area", "3303",
                          "--categories", categories],
                         env={"RESCUE_DATA_DIR": str(server.log.parent), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def world(server):
    tokens = {
        "beiao": server.tokens["operator 330305001"],
        "dongtou": server.tokens["operator 330305"],
        "wencheng": server.tokens["operator 330328"],
        "ruian": server.tokens["operator 330381"],
        "lucheng": server.tokens["operator 330302"],
        "city": server.tokens["operator 3303"],
        "province": server.tokens["operator 33"],
        "admin": server.tokens["admin"],
        FIRE_DESK: _desk_token(server, "fire,building_collapse,hazmat"),
        MEDICAL_DESK: _desk_token(server, "medical_evacuation"),
        "boat": field_token(server.log.parent, "vv-ra-1"),
        "heli": server.tokens["field ecsrfs-wz-heli-1"],
    }
    start = head(server.api, tokens["admin"])
    clients = {}
    for name, token in tokens.items():
        ns = "/field" if name in ("boat", "heli") else "/centre"
        clients[name] = Listener(server.base, token, ns, last_seq=start).connect()
    yield server, tokens, clients, start
    for c in clients.values():
        c.disconnect()


def post(server, token: str, path: str, body: dict, expect: int = 201) -> dict:
    r = requests.post(server.api + path, json=body, timeout=30,
                      headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == expect, r.text
    return r.json()


def test_visibility_matrix_live_and_over_http(world) -> None:
    server, tokens, clients, start = world
    seq = {}
    i1 = post(server, tokens["wencheng"], "/incidents",
              {"category": "building_collapse", "severity": "IV", **WENCHENG_POINT,
               "title": "文成房屋倒塌 house collapse"})
    post(server, tokens["city"], f"/incidents/{i1['id']}/assignments",
         {"resource_id": "vv-ra-1"})
    ack = clients["boat"].sio.call("position", {"id": "p1", "lat": 27.70, "lon": 120.60,
                                                "time": "2026-12-01T20:00:00Z"},
                                   namespace="/field", timeout=10)
    assert ack["ok"] and ack["seq"], ack
    seq["position"] = ack["seq"]
    ack = clients["boat"].sio.call("sitrep", {"id": "s1", "incident": i1["id"],
                                              "text": "two trapped, access by river"},
                                   namespace="/field", timeout=10)
    assert ack["ok"], ack
    seq["sitrep"] = ack["seq"]
    i2 = post(server, tokens["dongtou"], "/incidents",
              {"category": "building_collapse", "severity": "IV", **BEIAO_POINT})
    i3 = post(server, tokens["lucheng"], "/incidents",
              {"category": "medical_evacuation", "severity": "IV", **LUCHENG_POINT})
    st = requests.post(server.api + "/resources/dt-bluesky/status", timeout=10,
                       json={"status": "en_route"},
                       headers={"Authorization": f"Bearer {tokens['dongtou']}"})
    assert st.status_code == 200, st.text
    seq["dt_status"] = st.json()["seq"]
    end = head(server.api, tokens["admin"])

    everything = http_events(server.api, tokens["admin"], after=start)
    by_type = {}
    for e in everything:
        by_type.setdefault((e["type"], (e["payload"].get("incident") or {}).get("id")), e["seq"])
    seq["i1"] = by_type[("incident.reported", i1["id"])]
    seq["assigned"] = next(e["seq"] for e in everything if e["type"] == "resource.assigned")
    seq["assignment"] = by_type[("incident.assignment", i1["id"])]
    seq["i2"] = by_type[("incident.reported", i2["id"])]
    seq["i3"] = by_type[("incident.reported", i3["id"])]

    sees = {
        "wencheng": {"i1", "assigned", "assignment", "position", "sitrep"},
        "ruian": {"assigned", "assignment", "position", "sitrep"},
        "boat": {"assigned", "assignment", "position", "sitrep"},
        "dongtou": {"i2", "dt_status"},
        "beiao": {"i2"},
        "lucheng": {"i3"},
        "city": set(seq), "province": set(seq), "admin": set(seq),
        FIRE_DESK: {"i1", "assigned", "assignment", "position", "sitrep", "i2", "dt_status"},
        MEDICAL_DESK: {"i3", "position", "dt_status"},
        "heli": set(),
    }
    for name, expected in sees.items():
        client = clients[name]
        assert client.wait_seq(end), f"{name} stopped at {client.last_seq}, log at {end}"
        live = client.seqs(after=start)
        assert live == sorted(set(live)), f"{name}: duplicates or disorder {live}"
        assert {k for k, s in seq.items() if s in live} == expected, name
        assert_same_view([e for e in client.events if e["seq"] > start],
                         http_events(server.api, tokens[name], after=start), name)


def test_a_refused_token_gets_a_connect_error(server) -> None:
    import socketio

    for ns, auth in (("/centre", {"token": "garbage"}), ("/centre", None),
                     ("/field", {"token": server.tokens["operator 3303"]}),
                     ("/centre", {"token": server.tokens["field ecsrfs-wz-heli-1"]}),
                     ("/", {"token": server.tokens["admin"]}),
                     ("/centre", {"token": server.tokens["admin"], "last_seq": 10**12}),
                     ("/centre", {"token": server.tokens["admin"], "last_seq": "x"})):
        sio = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            sio.connect(server.base, namespaces=[ns], auth=auth, transports=["websocket"],
                        wait_timeout=5)
        sio.disconnect()
