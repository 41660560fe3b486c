"""`/field` as a hostile or unlucky client uses it: bad types, lone surrogates and NULs, huge
and deeply nested payloads, unknown events, floods; the server answers each with an error
ack or a disconnect, keeps serving everyone else, and stores nothing it cannot read back."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import requests
import websocket

from realtime.field_client import ordered_client
from tests.e2e.sockets import Listener, field_token, head, http_events

T = "2026-12-01T20:00:00Z"


def ago(seconds: float) -> str:
    """A fix time in the recent past (the server refuses fixes from the future)."""
    t = datetime.now(UTC) - timedelta(seconds=seconds)
    return t.isoformat().replace("+00:00", "Z")


def unit_client(server, token: str):
    sio = ordered_client(reconnection=False)
    sio.connect(server.base, namespaces=["/field"], auth={"token": token},
                transports=["websocket"], wait_timeout=10)
    return sio


def call(sio, event: str, data, timeout: float = 10):
    return sio.call(event, data, namespace="/field", timeout=timeout)


def test_bad_messages_get_an_error_ack_naming_the_field(server) -> None:
    sio = unit_client(server, server.tokens["field ecsrfs-wz-heli-2"])
    cases = [
        ("position", {"id": "b1", "lat": "27.8", "lon": 120.8, "time": T}, "lat"),
        ("position", {"id": "b2", "lat": 95, "lon": 120.8, "time": T}, "lat"),
        ("position", {"id": "b3", "lat": 27.8, "lon": 120.8}, "time"),
        ("position", {"id": "b4", "lat": 27.8, "lon": 120.8, "time": "yesterday"}, "time"),
        ("position", {"id": "x\ud800", "lat": 27.8, "lon": 120.8, "time": T}, "id"),
        ("position", {"id": ["list"], "lat": 27.8, "lon": 120.8, "time": T}, "id"),
        ("position", {"id": "b5", "lat": 27.8, "lon": 120.8, "time": T, "extra": 1}, "extra"),
        ("status", {"id": "b6", "status": "flying", "time": T}, "status"),
        ("sitrep", {"id": "b7", "text": "hello"}, "incident"),
        ("sitrep", {"id": "b8", "incident": "inc-none", "text": "x\ud800y"}, "text"),
        ("sitrep", {"id": "b9", "incident": "inc-none", "text": "a\x00b"}, "text"),
        ("sitrep", {"id": "b10", "incident": "inc-none", "text": "ok", "needs": ["x"] * 500},
         "needs"),
        ("position", [1, 2, 3], "body"),
        ("position", None, "body"),
    ]
    for event, data, field in cases:
        ack = call(sio, event, data)
        assert ack["ok"] is False and ack["error"]["field"] == field, (data, ack)
    ack = call(sio, "sitrep", {"id": "b11", "incident": "inc-none", "text": "fine"})
    assert ack["error"]["code"] == "not_found"
    ack = call(sio, "launch_missiles", {"id": "x"})
    assert ack["error"]["code"] == "unknown_event"
    assert call(sio, "position", {"id": "good", "lat": 27.8, "lon": 120.8, "time": T})["ok"]
    sio.disconnect()
    # the store is still readable by everyone
    for label in ("admin", "operator 3303"):
        r = requests.get(server.api + "/events?limit=1000",
                         headers={"Authorization": f"Bearer {server.tokens[label]}"}, timeout=10)
        assert r.status_code == 200


def test_huge_and_deeply_nested_payloads_cost_the_sender_its_link_only(server) -> None:
    token = server.tokens["field ecsrfs-wz-heli-2"]
    watcher = Listener(server.base, server.tokens["admin"]).connect()
    url = server.base.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    for payload in ('42/field,["position",{"id":"big","text":"' + "x" * (10 * 1024 * 1024) + '"}]',
                    '420/field,["position",' + "[" * 5000 + "]" * 5000 + "]",
                    '42/field,["position",{"lat":1}]',  # an event before the namespace connect
                    "garbage", '40/field,{"token":' + "[" * 3000 + "]" * 3000 + "}"):
        ws = websocket.create_connection(url, timeout=10)
        ws.recv()
        if not payload.startswith("40"):
            ws.send("40/field," + json.dumps({"token": token}))
            ws.recv()
        try:
            ws.send(payload)
            ws.settimeout(3)
            ws.recv()
        except (websocket.WebSocketException, OSError, TimeoutError):
            pass
        ws.close()
    # the server still serves: a new report goes out to a centre at once
    r = requests.post(server.api + "/incidents", timeout=10,
                      headers={"Authorization": f"Bearer {server.tokens['operator 330302']}"},
                      json={"category": "medical_evacuation", "severity": "IV", "lat": 28.0157,
                            "lon": 120.6556})
    assert r.status_code == 201
    watcher.wait_for(lambda e: e["type"] == "incident.reported"
                     and e["payload"]["incident"]["id"] == r.json()["id"], timeout=10)
    watcher.disconnect()


def test_a_flooding_unit_is_rate_limited_and_others_are_not_slowed(server, tmp_path) -> None:
    flood = unit_client(server, server.tokens["field ecsrfs-wz-heli-1"])
    calm = unit_client(server, field_token(server.log.parent, "vv-dt-3"))
    calm_acks = []

    def calm_unit() -> None:
        for i in range(8):
            calm_acks.append(call(calm, "position", {"id": f"calm-{i}", "lat": 27.82,
                                                     "lon": 121.15 + i * 1e-4,
                                                     "time": ago(60 - i)}))
            time.sleep(0.25)

    t = threading.Thread(target=calm_unit)
    t.start()
    acks = [call(flood, "position", {"id": f"f-{i}", "lat": 27.9, "lon": 120.8 + i * 1e-5,
                                     "time": ago(120 - i)})
            for i in range(60)]
    t.join()
    limited = [a for a in acks if not a["ok"]]
    assert limited and all(a["error"]["code"] == "rate_limited" and a["retry_after_s"] > 0
                           for a in limited)
    assert sum(a["ok"] for a in acks) >= 20  # the burst went through
    assert all(a["ok"] for a in calm_acks), calm_acks
    flood.disconnect()
    calm.disconnect()


def test_a_unit_receives_its_assignment_and_its_incident_as_they_happen(server, tmp_path) -> None:
    token = field_token(server.log.parent, "dt-drone")
    start = head(server.api, server.tokens["admin"])
    unit = Listener(server.base, token, "/field", last_seq=start).connect()
    dongtou = {"Authorization": f"Bearer {server.tokens['operator 330305']}"}
    inc = requests.post(server.api + "/incidents", headers=dongtou, timeout=10, json={
        "category": "building_collapse", "severity": "IV", "lat": 27.8357, "lon": 121.1567}).json()
    r = requests.post(f"{server.api}/incidents/{inc['id']}/assignments", headers=dongtou,
                      json={"resource_id": "dt-drone"}, timeout=10)
    assert r.status_code == 201, r.text
    unit.wait_for(lambda e: e["type"] == "resource.assigned")
    unit.wait_for(lambda e: e["type"] == "incident.assignment")
    requests.patch(f"{server.api}/incidents/{inc['id']}", headers=dongtou,
                   json={"status": "on_scene"}, timeout=10)
    unit.wait_for(lambda e: e["type"] == "incident.status")
    seen = [e["seq"] for e in unit.events]
    assert seen == [e["seq"] for e in http_events(server.api, token, after=start)]
    assert all("dt-drone" in e["units"] for e in unit.events)
    unit.disconnect()
