"""Position coalescing: of a unit's positions within `interval_s` of each other in one batch,
only the latest is sent. Nothing but `resource.position` is ever coalesced, and never across
batches: a batch's `last_seq` is the resume point, so a position held back past it could be
lost by a reconnect."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

POSITION = "resource.position"


def _unit(ev: Mapping[str, Any]) -> str | None:
    payload = ev.get("payload") or {}
    return payload.get("id")


def _time(ev: Mapping[str, Any]) -> float:
    return datetime.fromisoformat(ev["time"].replace("Z", "+00:00")).timestamp()


def coalesce_positions(events: list[dict[str, Any]], interval_s: float) -> list[dict[str, Any]]:
    """The batch in seq order without the positions superseded within `interval_s`."""
    if interval_s <= 0 or len(events) < 2:
        return events
    kept_at: dict[str, float] = {}  # unit -> time of the position kept after this point
    drop: set[int] = set()
    for i in range(len(events) - 1, -1, -1):
        ev = events[i]
        if ev.get("type") != POSITION:
            continue
        unit = _unit(ev)
        if unit is None:
            continue
        t = _time(ev)
        anchor = kept_at.get(unit)
        if anchor is not None and anchor - t <= interval_s:
            drop.add(i)
        else:
            kept_at[unit] = t
    if not drop:
        return events
    return [ev for i, ev in enumerate(events) if i not in drop]
