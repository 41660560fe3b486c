"""What the field-standard feeds share (DESIGN §12): finding the unit a transponder or a TAK
client names, and turning what it reports into that unit's own position message, so AIS and
CoT go through the same field path as `/field`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from rescue.auth import make_principal
from rescue.services.field import FieldMessage, parse_position
from rescue.uow import UnitOfWork

CACHE_S = 30.0
MAX_CACHED = 20_000


class UnitsByIdentity:
    """Live units by what their equipment calls them (`mmsi` or `cot_uid`), remembered for a
    while (a registry edit shows within CACHE_S), unknown values too: a feed names the same
    vessels and clients over and over."""

    def __init__(self, uow: Callable[[], UnitOfWork], column: str) -> None:
        self.uow = uow
        self.column = column
        self._known: dict[str, tuple[float, str | None]] = {}

    def lookup(self, values: Iterable[str]) -> dict[str, str]:
        wanted = set(values)
        now = time.monotonic()
        stale = {v for v in wanted if now - self._known.get(v, (-1e9, None))[0] > CACHE_S}
        if stale:
            with self.uow() as uow:
                found = uow.resources.ids_by_identity(self.column, stale)
            if len(self._known) > MAX_CACHED:
                self._known.clear()
            for v in stale:
                self._known[v] = (now, found.get(v))
        return {v: uid for v in wanted if (uid := self._known.get(v, (0.0, None))[1])}


def position_message(unit_id: str, lat: float | None, lon: float | None, at: datetime,
                     now: datetime, message_id: str, *, speed_kmh: float | None = None,
                     heading: float | None = None) -> FieldMessage:
    """A feed's report as the unit's own position message (validated as `/field` validates;
    a speed or heading out of range is left out rather than refusing the fix)."""
    body: dict[str, Any] = {"lat": lat, "lon": lon, "time": at.isoformat()}
    if speed_kmh is not None and 0 <= speed_kmh <= 5000:
        body["speed_kmh"] = round(speed_kmh, 2)
    if heading is not None and 0 <= heading <= 360:
        body["heading"] = heading
    position, _ = parse_position(body, now)
    return FieldMessage(make_principal("field", resource_id=unit_id), position, unit_id,
                        message_id)
