"""AIS in (DESIGN §12): NMEA `!AIVDM`/`!AIVDO` sentences, as a receiver or a recorded log gives
them, decoded with pyais into reports the composition root acts on.

A transport like `/field`: it knows sentences, fragments and checksums, not units or
incidents. Multi-sentence messages are assembled per channel and sequence id (an incomplete
one is dropped after a while); tag blocks give the receiver's time. Garbage, bad checksums and
truncated messages are counted, never raised: a receiver on a noisy link sends plenty.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from pyais.exceptions import AISBaseException
from pyais.messages import NMEAMessage, NMEASentenceFactory

log = logging.getLogger(__name__)

KNOT_KMH = 1.852
FRAGMENT_TTL_S = 10.0
MAX_PENDING = 1000
# Distress devices by MMSI prefix (ITU-R M.585): AIS-SART, man overboard, EPIRB-AIS.
DEVICES = {"970": "sart", "972": "mob", "974": "epirb"}
SART_ACTIVE = 14  # navigational status of an active SART / MOB / EPIRB (15: test)
POSITION_TYPES = {1, 2, 3, 18, 19}
STATIC_TYPES = {5, 24}


@dataclass(frozen=True, slots=True)
class AisReport:
    """One decoded message that matters here."""

    mmsi: str
    kind: str  # position | static | alert
    time: datetime
    msg_type: int
    lat: float | None = None
    lon: float | None = None
    speed_kmh: float | None = None
    course: float | None = None
    heading: float | None = None
    nav_status: int | None = None
    name: str | None = None
    device: str | None = None  # sart | mob | epirb
    aircraft: bool = False  # type 9: a SAR aircraft
    payload: str = ""  # digest of the message's bits: the same message heard twice is one

    @property
    def has_position(self) -> bool:
        return self.lat is not None and self.lon is not None


def _num(v: Any, missing: float, scale: float = 1.0) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f == missing else f * scale


def _position(d: Any) -> tuple[float | None, float | None]:
    lat, lon = getattr(d, "lat", None), getattr(d, "lon", None)
    if lat is None or lon is None:
        return None, None
    lat, lon = float(lat), float(lon)
    if abs(lat) > 90 or abs(lon) > 180:  # 91 / 181: not available
        return None, None
    return lat, lon


def report_of(d: Any, at: datetime) -> AisReport | None:
    """The report of one decoded pyais message, or None for types not used here."""
    t = int(getattr(d, "msg_type", 0))
    mmsi = f"{int(getattr(d, 'mmsi', 0)):09d}"
    device = DEVICES.get(mmsi[:3])
    if t in POSITION_TYPES or t == 9:
        lat, lon = _position(d)
        status = getattr(d, "status", None)
        status = int(status) if status is not None else None
        speed = _num(getattr(d, "speed", None), 102.3 if t != 9 else 1023, KNOT_KMH)
        kind = "alert" if device and status == SART_ACTIVE else "position"
        return AisReport(mmsi, kind, at, t, lat, lon, speed,
                         _num(getattr(d, "course", None), 360.0),
                         _num(getattr(d, "heading", None), 511), status, device=device,
                         aircraft=t == 9)
    if t in STATIC_TYPES:
        name = (getattr(d, "shipname", None) or "").strip() or None
        return AisReport(mmsi, "static", at, t, name=name, device=device) if name else None
    if t == 14 and device:  # safety broadcast: "SART ACTIVE", "MOB TEST", ...
        text = str(getattr(d, "text", "") or "").upper()
        if "ACTIVE" in text:
            return AisReport(mmsi, "alert", at, t, device=device)
    return None


class AisDecoder:
    """Lines in, reports out; counts what it could not use (`stats`)."""

    def __init__(self, clock: Any = lambda: datetime.now(UTC)) -> None:
        self.clock = clock
        self.stats: Counter[str] = Counter()
        self._parts: OrderedDict[tuple[str, str], tuple[float, list[Any]]] = OrderedDict()

    def feed(self, raw: bytes | str) -> list[AisReport]:
        """Every report a chunk of text completes (a datagram may hold several lines)."""
        data = raw.encode("ascii", "replace") if isinstance(raw, str) else raw
        out: list[AisReport] = []
        for line in data.splitlines():
            line = line.strip()
            if line:
                r = self._line(line)
                if r is not None:
                    out.append(r)
        return out

    def _line(self, line: bytes) -> AisReport | None:
        self.stats["sentences"] += 1
        try:
            s = NMEASentenceFactory.produce(line)
        except (AISBaseException, ValueError, IndexError, TypeError):
            self.stats["garbage"] += 1
            return None
        if not isinstance(s, NMEAMessage):
            self.stats["other"] += 1
            return None
        if not s.is_valid:
            self.stats["bad_checksum"] += 1
            return None
        at = self._time(s)
        whole: Any = s if s.is_single else self._assemble(s)
        if whole is None:
            return None
        try:
            decoded = whole.decode()
        except (AISBaseException, ValueError, IndexError, TypeError, KeyError):
            self.stats["undecodable"] += 1
            return None
        report = report_of(decoded, at)
        self.stats["decoded" if report is not None else "unused"] += 1
        if report is None:
            return None
        digest = hashlib.blake2b(bytes(whole.payload), digest_size=8).hexdigest()
        return replace(report, payload=digest)

    def _time(self, s: Any) -> datetime:
        tb = getattr(s, "tag_block", None)
        if tb is not None:
            try:
                tb.init()
                stamp = tb.receiver_timestamp
                if stamp:
                    secs = float(stamp)
                    return datetime.fromtimestamp(secs / 1000 if secs > 1e11 else secs, UTC)
            except (AISBaseException, ValueError, TypeError, OverflowError, OSError):
                self.stats["bad_tag_block"] += 1
        return self.clock()

    def _assemble(self, s: Any) -> Any | None:
        key = (str(s.channel), str(s.seq_id))
        now = time.monotonic()
        while self._parts and (len(self._parts) > MAX_PENDING
                               or now - next(iter(self._parts.values()))[0] > FRAGMENT_TTL_S):
            self._parts.popitem(last=False)
            self.stats["incomplete"] += 1
        if s.frag_num == 1:
            if key in self._parts:
                self.stats["incomplete"] += 1
            self._parts[key] = (now, [s])
            return None
        pending = self._parts.get(key)
        if pending is None or len(pending[1]) != s.frag_num - 1:
            self.stats["out_of_order"] += 1
            self._parts.pop(key, None)
            return None
        pending[1].append(s)
        if s.frag_num < s.frag_cnt:
            return None
        del self._parts[key]
        try:
            return NMEAMessage.assemble_from_iterable(pending[1])
        except (AISBaseException, ValueError, IndexError):
            self.stats["undecodable"] += 1
            return None
