"""A field unit over `/field`: the reference client and a drill tool (`rescue field`).

It drives one unit along a route (or round its home base), sending a timestamped position
every `interval_s`. Every message gets an id and stays in an outbox until the server
acknowledges it; when the link drops, positions keep queueing (the fix time is when they
were taken, not when they arrive) and the outbox is resent in order after reconnecting. The
server applies a resent message once and answers with its original seq, so a resend after a
lost ack is harmless. Events for the unit (its assignments, its incidents) are printed, and
the client resumes them from the last seq it has seen.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

EARTH_KM = 6371.0088


def _vec(lat: float, lon: float) -> tuple[float, float, float]:
    la, lo = math.radians(lat), math.radians(lon)
    return (math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la))


def _latlon(v: tuple[float, float, float]) -> tuple[float, float]:
    x, y, z = v
    return math.degrees(math.atan2(z, math.hypot(x, y))), math.degrees(math.atan2(y, x))


def great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    va, vb = _vec(*a), _vec(*b)
    dot = max(-1.0, min(1.0, sum(p * q for p, q in zip(va, vb, strict=True))))
    return math.acos(dot) * EARTH_KM


def along(a: tuple[float, float], b: tuple[float, float], f: float) -> tuple[float, float]:
    """The point a fraction `f` of the way from a to b along the great circle."""
    va, vb = _vec(*a), _vec(*b)
    omega = math.acos(max(-1.0, min(1.0, sum(p * q for p, q in zip(va, vb, strict=True)))))
    if omega < 1e-12:
        return a
    s = math.sin(omega)
    wa, wb = math.sin((1 - f) * omega) / s, math.sin(f * omega) / s
    return _latlon(tuple(wa * p + wb * q for p, q in zip(va, vb, strict=True)))  # type: ignore[arg-type]


def load_route(path: Path) -> list[tuple[float, float]]:
    """(lat, lon) points from GeoJSON (a LineString, or Points in order), a JSON list of
    [lat, lon], or CSV lines `lat,lon`."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".csv", ".txt"):
        pts = []
        for line in text.splitlines():
            parts = [p.strip() for p in line.split(",")]
            try:
                pts.append((float(parts[0]), float(parts[1])))
            except (ValueError, IndexError):
                continue  # a header or a blank line
        return _checked(pts, path)
    data = json.loads(text)
    if isinstance(data, list):
        return _checked([(float(p[0]), float(p[1])) for p in data], path)
    geoms = [f["geometry"] for f in data.get("features", [])] if data.get(
        "type") == "FeatureCollection" else [data.get("geometry", data)]
    pts = []
    for g in geoms:
        if g["type"] == "LineString":
            pts += [(c[1], c[0]) for c in g["coordinates"]]
        elif g["type"] == "Point":
            pts.append((g["coordinates"][1], g["coordinates"][0]))
    return _checked(pts, path)


def _checked(pts: list[tuple[float, float]], path: Path) -> list[tuple[float, float]]:
    if len(pts) < 2:
        raise ValueError(f"{path}: a route needs at least two points")
    for lat, lon in pts:
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError(f"{path}: ({lat}, {lon}) is not a latitude and longitude")
    return pts


def loop_around(lat: float, lon: float, radius_km: float = 1.0, n: int = 24
                ) -> list[tuple[float, float]]:
    """A closed loop round a point (a unit with no route patrols round its base)."""
    out = []
    for i in range(n + 1):
        bearing = 2 * math.pi * i / n
        d = radius_km / EARTH_KM
        la, lo = math.radians(lat), math.radians(lon)
        la2 = math.asin(math.sin(la) * math.cos(d) + math.cos(la) * math.sin(d) * math.cos(bearing))
        lo2 = lo + math.atan2(math.sin(bearing) * math.sin(d) * math.cos(la),
                              math.cos(d) - math.sin(la) * math.sin(la2))
        out.append((math.degrees(la2), math.degrees(lo2)))
    return out


def walk(route: list[tuple[float, float]], speed_kmh: float, interval_s: float,
         loop: bool = False) -> Iterator[tuple[float, float, float]]:
    """(lat, lon, heading) every `interval_s` at `speed_kmh` along the route."""
    step = speed_kmh * interval_s / 3600.0
    while True:
        for a, b in zip(route, route[1:], strict=False):
            seg = great_circle_km(a, b)
            heading = _bearing(a, b)
            done = 0.0
            while done < seg:
                lat, lon = along(a, b, done / seg if seg else 1.0)
                yield lat, lon, heading
                done += step
        if not loop:
            yield route[-1][0], route[-1][1], 0.0
            return


def _bearing(a: tuple[float, float], b: tuple[float, float]) -> float:
    la1, la2 = math.radians(a[0]), math.radians(b[0])
    dlo = math.radians(b[1] - a[1])
    y = math.sin(dlo) * math.cos(la2)
    x = math.cos(la1) * math.sin(la2) - math.sin(la1) * math.cos(la2) * math.cos(dlo)
    return (math.degrees(math.atan2(y, x)) + 360.0) % 360.0


@dataclass
class Outbox:
    """Messages not yet acknowledged, oldest first (bounded: the oldest positions go first
    when a unit is cut off for very long)."""

    limit: int = 10_000
    items: deque[tuple[str, dict[str, Any]]] = field(default_factory=deque)
    dropped: int = 0

    def put(self, event: str, data: dict[str, Any]) -> None:
        if len(self.items) >= self.limit:
            self.items.popleft()
            self.dropped += 1
        self.items.append((event, data))


def ordered_client(**kwargs: Any) -> Any:
    """A python-socketio Client that handles incoming messages in the order they arrived.

    python-engineio's client hands each message to a new thread, so two frames that arrive
    back to back can be handled in either order; a client that resumes from the last seq it
    handled must see them in order. Acks and events are handled on the reader thread.
    (A browser's socket.io-client handles frames in order already.)"""
    import engineio
    import socketio

    class _OrderedEngineIO(engineio.Client):
        def _trigger_event(self, event: str, *args: Any, **kw: Any) -> Any:
            kw.pop("run_async", None)
            return super()._trigger_event(event, *args, run_async=False, **kw)

    class _OrderedClient(socketio.Client):
        def _engineio_client_class(self) -> type:
            return _OrderedEngineIO

    # websocket-client checks UTF-8 in pure Python (about 4 MB/s): a 10,000-event backlog
    # would spend more time in that check than the server spends reading and sending it.
    kwargs.setdefault("websocket_extra_options", {"skip_utf8_validation": True})
    return _OrderedClient(**kwargs)


class FieldUnit:
    """One unit's link. `sio` is a python-socketio Client (injected for tests)."""

    def __init__(self, url: str, token: str, *, sio: Any = None,
                 out: Callable[[str], None] = print, ack_timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.sio = sio or ordered_client(reconnection=False)
        self.out = out
        self.ack_timeout_s = ack_timeout_s
        self.outbox = Outbox()
        self.last_seq: int | None = None
        self.acked = 0
        self.duplicates = 0
        self.rejected = 0
        self.acks: dict[str, int | None] = {}  # message id -> the seq the server gave it
        self.sio.on("events", self._on_events, namespace="/field")
        self.sio.on("ready", lambda d: None, namespace="/field")

    def _on_events(self, batch: dict[str, Any]) -> None:
        for ev in batch.get("events", []):
            if ev["type"] in ("resource.assigned", "incident.assignment", "incident.status",
                              "incident.release", "resource.released", "sitrep.added"):
                self.out(f"event {ev['seq']}: {ev['type']} {json.dumps(ev['payload'], ensure_ascii=False)[:160]}")
        seq = batch.get("last_seq")
        if isinstance(seq, int) and (self.last_seq is None or seq > self.last_seq):
            self.last_seq = seq

    @property
    def connected(self) -> bool:
        return bool(self.sio.connected)

    def connect(self) -> None:
        auth: dict[str, Any] = {"token": self.token}
        if self.last_seq is not None:
            auth["last_seq"] = self.last_seq
        self.sio.connect(self.url, namespaces=["/field"], auth=auth,
                         transports=["websocket"], wait_timeout=10)

    def position(self, lat: float, lon: float, heading: float | None = None,
                 speed_kmh: float | None = None, at: datetime | None = None) -> None:
        data: dict[str, Any] = {"id": uuid.uuid4().hex, "lat": round(lat, 6),
                                "lon": round(lon, 6), "time": _iso(at)}
        if heading is not None:
            data["heading"] = round(heading, 1)
        if speed_kmh is not None:
            data["speed_kmh"] = speed_kmh
        self.outbox.put("position", data)

    def flush(self) -> bool:
        """Send the outbox in order; False when the link failed (kept for the next try)."""
        while self.outbox.items:
            event, data = self.outbox.items[0]
            try:
                ack = self.sio.call(event, data, namespace="/field", timeout=self.ack_timeout_s)
            except Exception as exc:  # noqa: BLE001 - a dropped link: keep it, try later
                log.info("link down (%s); %d messages waiting", type(exc).__name__,
                         len(self.outbox.items))
                return False
            if ack.get("ok"):
                self.acked += 1
                self.acks[data["id"]] = ack.get("seq")
                self.duplicates += bool(ack.get("duplicate"))
                self.outbox.items.popleft()
            elif (ack.get("error") or {}).get("code") == "rate_limited":
                time.sleep(float(ack.get("retry_after_s", 1.0)))
            else:
                self.rejected += 1
                self.out(f"refused: {ack['error']}")
                self.outbox.items.popleft()
        return True

    def close(self) -> None:
        try:
            self.sio.disconnect()
        except Exception:  # noqa: BLE001 - already gone
            log.debug("disconnect after a lost link", exc_info=True)


def _iso(at: datetime | None) -> str:
    return (at or datetime.now(UTC)).astimezone(UTC).isoformat().replace("+00:00", "Z")


def drive(unit: FieldUnit, points: Iterator[tuple[float, float, float]], *, interval_s: float,
          speed_kmh: float, stop: threading.Event | None = None,
          reconnect_s: float = 2.0) -> None:
    """Take a fix every interval, keep the link up, resend what is waiting."""
    stop = stop or threading.Event()
    next_try = 0.0
    for lat, lon, heading in points:
        if stop.is_set():
            break
        t0 = time.monotonic()
        unit.position(lat, lon, heading, speed_kmh)
        if not unit.connected and time.monotonic() >= next_try:
            try:
                unit.connect()
                unit.out(f"connected; {len(unit.outbox.items)} messages to send")
            except Exception as exc:  # noqa: BLE001 - try again later
                unit.out(f"cannot connect ({exc}); {len(unit.outbox.items)} waiting")
                next_try = time.monotonic() + reconnect_s
        if unit.connected and not unit.flush():
            unit.close()
            next_try = time.monotonic() + reconnect_s
        stop.wait(max(0.0, interval_s - (time.monotonic() - t0)))
    if unit.connected:
        unit.flush()
