"""Resume with `last_seq`: after a dropped connection, after a server restart, and for a
client too slow to keep up. Each time the client's sequence is complete, unique and ordered:
exactly what GET /events gives the same token."""

from __future__ import annotations

import json
import socket
import time

import requests
import websocket

from tests.conftest import stop_process
from tests.e2e.conftest import start_server
from tests.e2e.sockets import (
    Listener,
    assert_same_view,
    head,
    http_events,
    import_units,
    units_geojson,
)


def report(api: str, token: str, n: int, title: str = "collapse") -> list[str]:
    ids = []
    for i in range(n):
        r = requests.post(api + "/incidents", timeout=30, headers={"Authorization": f"Bearer {token}"},
                          json={"category": "building_collapse", "severity": "IV",
                                "lat": 27.78 + i * 1e-4, "lon": 120.08, "title": f"{title} {i}"})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def assert_complete(client: Listener, api: str, token: str, after: int) -> None:
    assert_same_view([e for e in client.events if e["seq"] > after],
                     http_events(api, token, after=after))


def test_resume_after_a_dropped_connection(server) -> None:
    token = server.tokens["operator 330328"]
    admin = server.tokens["admin"]
    start = head(server.api, admin)
    c = Listener(server.base, token, last_seq=start).connect()
    watcher = Listener(server.base, admin).connect()  # sees events once the server pushed them
    report(server.api, token, 3, "before")
    assert c.wait_seq(head(server.api, token))
    c.disconnect()
    report(server.api, token, 25, "while away")
    # Until the server's follower has pushed them live, a client that comes back is joined to
    # the live stream at once and gets them from it (complete, but not "from the log": this
    # test failed 1 run in 6 that way, 2026-12-05).
    assert watcher.wait_seq(head(server.api, admin))
    watcher.disconnect()
    c.connect()  # with the last_seq it had
    report(server.api, token, 3, "after")
    assert c.wait_seq(head(server.api, server.tokens["admin"]))
    assert c.ready_info["caught_up"] > 0  # served from the log first, then live
    assert_complete(c, server.api, token, start)
    c.disconnect()


def test_a_backlog_of_ten_thousand_events_arrives_complete(server) -> None:
    """Resume from 0 on a log grown by a bulk import: paged from the log, then live."""
    admin = server.tokens["admin"]
    r = import_units(server.api, admin, units_geojson(10_000, "bulk"))
    assert r.status_code == 201, r.text
    end = head(server.api, admin)
    c = Listener(server.base, server.tokens["operator 330302"], last_seq=0)
    t0 = time.monotonic()
    c.connect()
    assert c.wait_seq(end, timeout=60)
    elapsed = time.monotonic() - t0
    assert len([e for e in c.events if e["type"] == "resource.created"]) >= 10_000
    assert_complete(c, server.api, server.tokens["operator 330302"], 0)
    c.disconnect()
    print(f"10,000-event backlog in {elapsed:.2f} s")


def test_resume_across_a_server_restart(tmp_path) -> None:
    data = tmp_path / "restart"
    s = start_server(data)
    try:
        token = s.tokens["operator 330328"]
        c = Listener(s.base, token, last_seq=0).connect()
        report(s.api, token, 2)
        assert c.wait_seq(head(s.api, token))
        c.disconnect()
        stop_process(s.proc)
        s = start_server(data)  # same database and secret: same tokens
        report(s.api, token, 4, "after restart")
        c.connect(s.base)
        report(s.api, token, 1, "live again")
        assert c.wait_seq(head(s.api, s.tokens["admin"]))
        assert_complete(c, s.api, token, 0)
        c.disconnect()
    finally:
        stop_process(s.proc)


class RawClient:
    """A websocket that speaks just enough Engine.IO/Socket.IO to connect and then reads only
    when told to: the slow client on a saturated link (a 4 KB receive window)."""

    def __init__(self, base: str, token: str, last_seq: int) -> None:
        url = base.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
        self.ws = websocket.create_connection(
            url, timeout=10, sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)])
        assert self.ws.recv().startswith("0")  # engine.io open
        self.ws.send("40/centre," + json.dumps({"token": token, "last_seq": last_seq}))
        self.events: list[dict] = []
        self.last_seq = last_seq

    def read_all(self, until_seq: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while self.last_seq < until_seq and time.monotonic() < deadline:
            msg = self.ws.recv()
            if msg == "2":
                self.ws.send("3")  # pong
            elif msg.startswith("42/centre,"):
                name, data = json.loads(msg[len("42/centre,"):])
                if name == "events":
                    self.events += data["events"]
                    self.last_seq = data["last_seq"]


def test_a_slow_client_is_served_from_the_log_and_loses_nothing(tmp_path) -> None:
    s = start_server(tmp_path / "slow", {"RESCUE_CLIENT_QUEUE_MAX": "4"})
    try:
        admin = s.tokens["admin"]
        start = head(s.api, admin)
        slow = RawClient(s.base, admin, start)
        fast = Listener(s.base, s.tokens["operator 3303"], last_seq=start).connect()
        time.sleep(0.5)
        for i in range(4):  # several MB of frames the slow client does not read
            r = import_units(s.api, admin, units_geojson(3000, f"b{i}"))
            assert r.status_code == 201, r.text
            report(s.api, admin, 2, f"between imports {i}")
        end = head(s.api, admin)
        assert fast.wait_seq(end, timeout=60)
        metrics = requests.get(s.base + "/metrics", timeout=10).text
        evictions = next(line for line in metrics.splitlines()
                         if line.startswith("rescue_slow_client_evictions"))
        slow.read_all(end)
        assert_same_view(slow.events, http_events(s.api, admin, after=start), "slow client")
        assert float(evictions.split()[-1]) >= 1, evictions
        assert_complete(fast, s.api, s.tokens["operator 3303"], start)
        fast.disconnect()
        slow.ws.close()
    finally:
        stop_process(s.proc)
