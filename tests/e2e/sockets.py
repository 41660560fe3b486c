"""Socket.IO clients for the end-to-end tests: a centre (or field unit) that records every
frame, and helpers to read the same view over GET /events."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import socketio

from realtime.field_client import ordered_client


class Listener:
    """A `/centre` or `/field` client that keeps every event it receives, in order."""

    def __init__(self, base: str, token: str, namespace: str = "/centre", *,
                 last_seq: int | None = None, exercise: str | None = None) -> None:
        self.base = base
        self.token = token
        self.namespace = namespace
        self.exercise = exercise
        self.events: list[dict[str, Any]] = []
        self.last_seq: int | None = last_seq
        self.ready = threading.Event()
        self.ready_info: dict[str, Any] = {}
        self.frames = 0
        self.order: list[str] = []  # the name of every frame received, in order
        self.directives: list[dict[str, Any]] = []  # the opening's open directives
        self._cv = threading.Condition()
        self.sio = self._client()

    def _client(self) -> socketio.Client:
        sio = ordered_client(reconnection=False)
        sio.on("events", self._on_events, namespace=self.namespace)
        sio.on("ready", self._on_ready, namespace=self.namespace)
        sio.on("directives", self._on_directives, namespace=self.namespace)
        return sio

    def _on_directives(self, body: dict[str, Any]) -> None:
        with self._cv:
            self.order.append("directives")
            self.directives = body["directives"]
            self._cv.notify_all()

    def _on_events(self, batch: dict[str, Any]) -> None:
        with self._cv:
            self.order.append("events")
            self.events.extend(batch["events"])
            self.last_seq = batch["last_seq"]
            self.frames += 1
            self._cv.notify_all()

    def _on_ready(self, info: dict[str, Any]) -> None:
        self.ready_info = info
        with self._cv:
            self.order.append("ready")
            self.last_seq = info["last_seq"] if self.last_seq is None else max(
                self.last_seq, info["last_seq"])
            self._cv.notify_all()
        self.ready.set()

    def connect(self, base: str | None = None, wait_ready: bool = True) -> Listener:
        if base is not None:
            self.base = base
        self.ready.clear()
        auth: dict[str, Any] = {"token": self.token}
        if self.last_seq is not None:
            auth["last_seq"] = self.last_seq
        if self.exercise is not None:
            auth["exercise"] = self.exercise
        if self.sio.connected:
            self.sio.disconnect()
        self.sio = self._client()
        self.sio.connect(self.base, namespaces=[self.namespace], auth=auth,
                         transports=["websocket"], wait_timeout=10)
        if wait_ready:
            assert self.ready.wait(30), "no ready from the server"
        return self

    def disconnect(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()

    def wait_seq(self, seq: int, timeout: float = 20.0) -> bool:
        """Until the client's view is complete up to `seq`."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while self.last_seq is None or self.last_seq < seq:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(left)
        return True

    def wait_for(self, pred: Callable[[dict[str, Any]], bool], timeout: float = 20.0
                 ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                for e in self.events:
                    if pred(e):
                        return e
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching event; got {[x['type'] for x in self.events][-20:]}")
                self._cv.wait(left)

    def seqs(self, after: int = 0) -> list[int]:
        return [e["seq"] for e in self.events if e["seq"] > after]


def http_events(api: str, token: str, after: int = 0, **params: Any) -> list[dict[str, Any]]:
    """Everything GET /events gives this token after `after`, page by page."""
    out: list[dict[str, Any]] = []
    while True:
        r = requests.get(f"{api}/events", params={"after": after, "limit": 1000, **params},
                         headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert r.status_code == 200, r.text
        body = r.json()
        out += body["events"]
        if len(body["events"]) < 1000:
            return out
        after = body["last_seq"]


def demo_tokens(log_text: str) -> dict[str, str]:
    """The tokens `rescue serve --demo` prints, by label ("admin", "operator 3303", ...)."""
    tokens: dict[str, str] = {}
    for line in log_text.splitlines():
        m = re.match(r"^  (admin|operator|field|trainer)\s+(\S+)\s+(\S+)  \(", line)
        if m:
            label = m.group(1) if m.group(2) == "-" else f"{m.group(1)} {m.group(2)}"
            tokens.setdefault(label, m.group(3))
    return tokens


def head(api: str, token: str) -> int:
    r = requests.get(f"{api}/events", params={"after": 0, "limit": 1},
                     headers={"Authorization": f"Bearer {token}"}, timeout=10)
    body = r.json()
    last = body["last_seq"]
    # with one event per page, last_seq is that event's seq: page to the end
    while body["events"]:
        r = requests.get(f"{api}/events", params={"after": last, "limit": 1000},
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)
        body = r.json()
        last = body["last_seq"]
    return last


def field_token(data_dir: Path, unit: str, env: dict[str, str] | None = None) -> str:
    rescue = Path(sys.executable).with_name("rescue")
    out = subprocess.run([str(rescue), "token", "create", "--role", "field", "--resource", unit],
                         env={**(env or {}), "RESCUE_DATA_DIR": str(data_dir),
                              "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def assert_same_view(received: list[dict[str, Any]], logged: list[dict[str, Any]],
                     label: str = "") -> None:
    """What a client received equals its slice of the log: in seq order, no repeats, nothing
    missing but positions coalesced away, and each unit's last position delivered."""
    got = [e["seq"] for e in received]
    assert got == sorted(set(got)), f"{label}: duplicates or disorder"
    want_other = [e["seq"] for e in logged if e["type"] != "resource.position"]
    assert [e["seq"] for e in received if e["type"] != "resource.position"] == want_other, label
    logged_pos = {e["seq"] for e in logged if e["type"] == "resource.position"}
    got_pos = {e["seq"] for e in received if e["type"] == "resource.position"}
    assert got_pos <= logged_pos, f"{label}: a position not in the log"
    last: dict[str, int] = {}
    for e in logged:
        if e["type"] == "resource.position":
            last[e["payload"]["id"]] = e["seq"]
    missing = {u: s for u, s in last.items() if s not in got_pos}
    assert not missing, f"{label}: last positions not delivered: {missing}"


def units_geojson(n: int, prefix: str, area: str = "330302") -> str:
    """A FeatureCollection of n land teams owned by `area` (for bulk imports)."""
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [120.6, 27.95]},
         "properties": {"id": f"{prefix}-{i:05d}", "name": f"{prefix} {i}", "kind": "land_team",
                        "capabilities": ["search"], "speed_kmh": 40, "readiness_s": 600,
                        "area": area, "home": {"lat": 28.0, "lon": 120.65}}}
        for i in range(n)]})


def import_units(api: str, token: str, body: str, *, background: bool = False
                 ) -> requests.Response:
    return requests.post(f"{api}/resources/import?format=geojson"
                         + ("&async=true" if background else ""), data=body, timeout=300,
                         headers={"Authorization": f"Bearer {token}",
                                  "Content-Type": "application/geo+json"})
