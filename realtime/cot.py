"""Cursor-on-Target (CoT) XML as ATAK, WinTAK and pytak speak it over a TCP stream: a run of
`<event>` elements (with or without XML declarations between them) in, events out.

Geometry-free and framework-free like the rest of `realtime`: it splits a byte stream into
events, reads the few fields a position report carries, and writes events. Bounded: an event
larger than MAX_EVENT, or a stream that never closes one, is refused.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape, quoteattr

MAX_EVENT = 64 * 1024
MS_TO_KMH = 3.6
PING, PONG = "t-x-c-t", "t-x-c-t-r"
UNKNOWN = "9999999.0"  # CoT's "not known" for hae, ce and le


class CotError(ValueError):
    """A stream or event that cannot be read."""


@dataclass(frozen=True, slots=True)
class CotEvent:
    uid: str
    type: str
    time: datetime | None
    lat: float | None = None
    lon: float | None = None
    speed_kmh: float | None = None
    course: float | None = None
    callsign: str | None = None

    @property
    def is_ping(self) -> bool:
        return self.type == PING

    @property
    def is_position(self) -> bool:
        return self.type.startswith("a-") and self.lat is not None and self.lon is not None


class EventSplitter:
    """Bytes in, complete `<event>...</event>` documents out."""

    def __init__(self, limit: int = MAX_EVENT) -> None:
        self.limit = limit
        self.buf = b""

    def feed(self, data: bytes) -> list[bytes]:
        self.buf += data
        out: list[bytes] = []
        while True:
            start = self.buf.find(b"<event")
            if start < 0:
                if len(self.buf) > self.limit:
                    raise CotError("no <event> in the stream")
                self.buf = self.buf[-8:]  # keep what may start a tag
                return out
            end = self.buf.find(b"</event>", start)
            if end < 0:
                if len(self.buf) - start > self.limit:
                    raise CotError(f"an event longer than {self.limit} bytes")
                self.buf = self.buf[start:]
                return out
            end += len(b"</event>")
            out.append(self.buf[start:end])
            self.buf = self.buf[end:]


def _float(v: str | None) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except ValueError:
        return None
    return f if math.isfinite(f) else None


def _time(v: str | None) -> datetime | None:
    if not v:
        return None
    try:
        t = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t.astimezone(UTC) if t.tzinfo else None


def parse_event(doc: bytes) -> CotEvent:
    """One `<event>`; CotError when it is not one we can read."""
    try:
        root = ET.fromstring(doc)
    except ET.ParseError as e:
        raise CotError(f"not well-formed XML: {e}") from None
    if root.tag != "event":
        raise CotError(f"expected <event>, got <{root.tag[:40]}>")
    uid, type_ = root.get("uid"), root.get("type")
    if not uid or not type_ or len(uid) > 200 or len(type_) > 100:
        raise CotError("an event needs a uid and a type")
    point = root.find("point")
    lat = lon = None
    if point is not None:
        lat, lon = _float(point.get("lat")), _float(point.get("lon"))
        if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180 \
                or (lat == 0 and lon == 0):
            lat = lon = None
    speed = course = None
    callsign = None
    detail = root.find("detail")
    if detail is not None:
        track = detail.find("track")
        if track is not None:
            ms = _float(track.get("speed"))
            speed = ms * MS_TO_KMH if ms is not None and 0 <= ms < 2000 else None
            course = _float(track.get("course"))
            course = course if course is not None and 0 <= course <= 360 else None
        contact = detail.find("contact")
        if contact is not None:
            callsign = (contact.get("callsign") or "")[:100] or None
    return CotEvent(uid, type_, _time(root.get("time")), lat, lon, speed, course, callsign)


def cot_time(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{t.microsecond // 1000:03d}Z"


def build_event(uid: str, type_: str, now: datetime, stale_s: float, *, lat: float,
                lon: float, callsign: str | None = None, remarks: str | None = None,
                speed_kmh: float | None = None, course: float | None = None,
                how: str = "m-g") -> bytes:
    """One CoT event as ATAK shows it: a point with a callsign, remarks and a track."""
    detail = []
    if callsign:
        detail.append(f"<contact callsign={quoteattr(callsign)}/>")
    if speed_kmh is not None or course is not None:
        detail.append(f"<track speed=\"{(speed_kmh or 0) / MS_TO_KMH:.2f}\" "
                      f"course=\"{course or 0:.1f}\"/>")
    if remarks:
        detail.append(f"<remarks>{escape(remarks)}</remarks>")
    t = cot_time(now)
    return (f"<event version=\"2.0\" uid={quoteattr(uid)} type={quoteattr(type_)} "
            f"how=\"{how}\" time=\"{t}\" start=\"{t}\" "
            f"stale=\"{cot_time(now + timedelta(seconds=stale_s))}\">"
            f"<point lat=\"{lat:.6f}\" lon=\"{lon:.6f}\" hae=\"{UNKNOWN}\" ce=\"{UNKNOWN}\" "
            f"le=\"{UNKNOWN}\"/><detail>{''.join(detail)}</detail></event>").encode()


def pong(now: datetime) -> bytes:
    t = cot_time(now)
    return (f"<event version=\"2.0\" uid=\"takPong\" type=\"{PONG}\" how=\"h-g-i-g-o\" "
            f"time=\"{t}\" start=\"{t}\" stale=\"{cot_time(now + timedelta(seconds=20))}\">"
            f"<point lat=\"0.0\" lon=\"0.0\" hae=\"{UNKNOWN}\" ce=\"{UNKNOWN}\" "
            f"le=\"{UNKNOWN}\"/><detail/></event>").encode()


def delete_event(uid: str, now: datetime) -> bytes:
    """Tells a TAK client to drop a marker (an incident that closed)."""
    t = cot_time(now)
    return (f"<event version=\"2.0\" uid=\"{uid}-del\" type=\"t-x-d-d\" how=\"h-g-i-g-o\" "
            f"time=\"{t}\" start=\"{t}\" stale=\"{cot_time(now + timedelta(seconds=20))}\">"
            f"<point lat=\"0.0\" lon=\"0.0\" hae=\"{UNKNOWN}\" ce=\"{UNKNOWN}\" "
            f"le=\"{UNKNOWN}\"/><detail><link uid={quoteattr(uid)} relation=\"none\" "
            f"type=\"none\"/><__forcedelete/></detail></event>").encode()
