"""A replay on a real server: a recorded exercise played at 100x to a socket client joined with
the replay id, in order and complete, while a live centre connected at the same time receives
nothing of it; seeks through HTTP rebuild the client's picture from the log."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
import socketio

from realtime.field_client import ordered_client
from simulations.state import Picture, fold, from_dict
from tests.e2e.sockets import Listener, http_events


class ReplayClient:
    """A console in replay mode, reduced to what it receives."""

    def __init__(self, base: str, token: str, replay: str) -> None:
        self.events: list[dict[str, Any]] = []
        self.states: list[dict[str, Any]] = []
        self.pictures = 0
        self.picture: Picture | None = None
        self.cv = threading.Condition()
        self.sio = ordered_client(reconnection=False)
        self.sio.on("events", self._events, namespace="/centre")
        self.sio.on("replay", self._replay, namespace="/centre")
        self.sio.connect(base, namespaces=["/centre"], transports=["websocket"],
                         auth={"token": token, "exercise": replay}, wait_timeout=10)

    def _events(self, msg: dict[str, Any]) -> None:
        with self.cv:
            self.events.extend(msg["events"])
            assert self.picture is not None
            self.picture.fold(msg["events"])
            self.cv.notify_all()

    def _replay(self, msg: dict[str, Any]) -> None:
        with self.cv:
            self.states.append(msg["replay"])
            if "picture" in msg:
                self.pictures += 1
                self.picture = from_dict(msg["picture"])
            self.cv.notify_all()

    def wait(self, pred, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        with self.cv:
            while not pred(self):
                left = deadline - time.monotonic()
                assert left > 0, f"timed out; states {self.states[-3:]}"
                self.cv.wait(left)


def ended(c: ReplayClient) -> bool:
    return bool(c.states) and c.states[-1]["state"] == "ended"


def recorded_exercise(server) -> str:
    trainer = server.h("trainer 3303")
    r = requests.post(server.api + "/exercises", json={"scenario": "dongtou_person_in_water",
                                                       "seed": 5}, headers=trainer, timeout=10)
    assert r.status_code == 201, r.text
    eid = r.json()["id"]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        ex = requests.get(f"{server.api}/exercises/{eid}", headers=trainer, timeout=10).json()
        if ex["state"] in ("done", "failed"):
            assert ex["state"] == "done", ex
            return eid
        time.sleep(0.5)
    raise AssertionError("the exercise did not finish")


def test_a_replay_at_100x_reaches_its_viewers_and_no_live_centre(server) -> None:
    eid = recorded_exercise(server)
    trainer = server.h("trainer 3303")
    live = Listener(server.base, server.tokens["operator 3303"]).connect()
    rp = requests.post(server.api + "/replays", json={"exercise": eid, "speed": 100},
                       headers=trainer, timeout=10).json()
    start = datetime.fromisoformat(rp["from"])
    # Half an hour of the rescue: 18 s at 100x.
    window = requests.post(server.api + "/replays", json={
        "exercise": eid, "speed": 100, "from": rp["from"],
        "to": (start + timedelta(minutes=30)).isoformat()}, headers=trainer, timeout=10).json()
    assert window["state"] == "paused"
    viewer = ReplayClient(server.base, server.tokens["trainer 3303"], window["id"])
    viewer.wait(lambda c: c.pictures == 1)
    time.sleep(1.0)
    assert viewer.events == [], "a replay is created paused"
    began = time.monotonic()
    r = requests.post(f"{server.api}/replays/{window['id']}/resume", headers=trainer, timeout=10)
    assert r.status_code == 200 and r.json()["state"] == "playing"
    viewer.wait(ended, timeout=60)
    took = time.monotonic() - began
    logged = [e for e in http_events(server.api, server.tokens["trainer 3303"], exercise=eid)
              if datetime.fromisoformat(e["time"]) <= start + timedelta(minutes=30)]
    assert [e["seq"] for e in viewer.events] == [e["seq"] for e in logged]
    assert viewer.events == logged
    assert 16 < took < 24, took
    assert viewer.picture is not None and viewer.picture.to_dict() == fold(logged).to_dict()
    # The live centre, connected all along, got nothing of the exercise or its replay.
    assert not any(e["exercise"] for e in live.events)
    assert not any(e["type"].startswith(("incident.", "exercise.")) for e in live.events)
    live.disconnect()

    # Seek back, then forward, as fast as possible: the same picture as the uninterrupted run.
    whole = http_events(server.api, server.tokens["trainer 3303"], exercise=eid)
    requests.post(f"{server.api}/replays/{rp['id']}/speed", json={"speed": None},
                  headers=trainer, timeout=10)
    full = ReplayClient(server.base, server.tokens["trainer 3303"], rp["id"])
    full.wait(lambda c: c.pictures == 1)
    requests.post(f"{server.api}/replays/{rp['id']}/seek",
                  json={"time": (start + timedelta(minutes=90)).isoformat()},
                  headers=trainer, timeout=10)
    full.wait(lambda c: c.pictures == 2)
    requests.post(f"{server.api}/replays/{rp['id']}/seek",
                  json={"time": (start + timedelta(minutes=20)).isoformat()},
                  headers=trainer, timeout=10)
    full.wait(lambda c: c.pictures == 3)
    requests.post(f"{server.api}/replays/{rp['id']}/resume", headers=trainer, timeout=10)
    full.wait(ended, timeout=60)
    assert full.picture is not None and full.picture.to_dict() == fold(whole).to_dict()
    # Nothing of it was written to the log.
    after = http_events(server.api, server.tokens["admin"])
    assert not any(e["type"].startswith("replay") for e in after)
    full.sio.disconnect()
    viewer.sio.disconnect()


def test_joining_a_replay_needs_a_token_that_may_see_it(server) -> None:
    trainer = server.h("trainer 3303")
    rp = requests.post(server.api + "/replays", json={"area": "330305"}, headers=trainer,
                       timeout=10).json()
    for token, code in [(server.tokens["operator 330302"], "not_found"),
                        ("forged", "unauthorized")]:
        errors: list[Any] = []
        sio = ordered_client(reconnection=False)
        sio.on("connect_error", errors.append, namespace="/centre")
        with pytest.raises(socketio.exceptions.ConnectionError):
            sio.connect(server.base, namespaces=["/centre"], transports=["websocket"],
                        auth={"token": token, "exercise": rp["id"]}, wait_timeout=5)
        assert errors and code in str(errors[0]), errors
        sio.disconnect()
    ok = ReplayClient(server.base, server.tokens["operator 330305"], rp["id"])
    ok.wait(lambda c: c.pictures == 1)
    ok.sio.disconnect()
