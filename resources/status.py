"""Status transitions and time-ordered updates of a resource, as pure functions.

Field units send position and status over flaky links; messages arrive late and out of
order. An update older than what is stored is ignored (returned unchanged, flag False) rather
than applied, so the registry converges on the newest report whatever the arrival order.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from resources.errors import Conflict, ValidationError

if TYPE_CHECKING:
    from resources.model import Resource

# Which status changes are legal. Staying in the same status is always allowed (a no-op).
TRANSITIONS: dict[str, frozenset[str]] = {
    # tasked by a centre, self-deployed (en_route) or withdrawn for maintenance
    "available": frozenset({"assigned", "en_route", "out_of_service"}),
    # moving off, or the assignment is cancelled
    "assigned": frozenset({"en_route", "available", "out_of_service"}),
    # arrives, is recalled, or is stood down
    "en_route": frozenset({"on_scene", "returning", "available", "out_of_service"}),
    # leaves the scene or is released there
    "on_scene": frozenset({"returning", "available", "out_of_service"}),
    # back home, or re-tasked on the way (a returning unit cannot be on scene without a new task)
    "returning": frozenset({"available", "assigned", "en_route", "out_of_service"}),
    # back in service
    "out_of_service": frozenset({"available"}),
}


def can_transition(old: str, new: str) -> bool:
    """True when `old -> new` is a legal status change (same status included)."""
    return old == new or new in TRANSITIONS.get(old, frozenset())


def check_transition(old: str, new: str) -> None:
    """Raise Conflict (code ``illegal_transition``) unless `old -> new` is legal."""
    if not can_transition(old, new):
        raise Conflict(f"status cannot change from {old} to {new}", field="status",
                       code="illegal_transition")


def _aware(time: datetime, field: str) -> datetime:
    if not isinstance(time, datetime) or time.tzinfo is None or time.utcoffset() is None:
        raise ValidationError(field, "needs an aware datetime")
    return time


def apply_position(r: Resource, lat: float, lon: float, time: datetime,
                   version: int | None = None) -> tuple[Resource, bool]:
    """The resource at a new reported position; `(r, False)` when the report is not newer
    than the stored one (older, or a repeat of it). Its version is `version` (default: left
    as it is, for the repository to set)."""
    lat, lon = checked_place(lat, lon)
    return position_applied(r, lat, lon, checked_time(time),
                            r.version if version is None else version)


def checked_place(lat: Any, lon: Any) -> tuple[float, float]:
    """A reported position's lat and lon, checked (400 naming the field)."""
    from resources.model import _lat, _lon

    return _lat(lat, "lat"), _lon(lon, "lon")


def checked_places(lats: list[Any], lons: list[Any]) -> tuple[list[float], list[float]]:
    """`checked_place` of many positions: floats within range pass in a few passes over the
    lists (a simulation's tick checks hundreds); anything else is checked one by one, so
    that the error names the field as `checked_place` does."""
    if (lats and lons and all(type(v) is float for v in lats)
            and all(type(v) is float for v in lons)
            and math.isfinite(sum(lats) + sum(lons))
            and min(lats) >= -90.0 and max(lats) <= 90.0
            and min(lons) >= -180.0 and max(lons) <= 180.0):
        return lats, lons
    checked = [checked_place(a, b) for a, b in zip(lats, lons, strict=True)]
    return [a for a, _ in checked], [b for _, b in checked]


def checked_time(time: Any) -> datetime:
    """A reported position's time, checked: aware and within the years a report can carry."""
    from resources.model import parse_time

    return parse_time(_aware(time, "time"), "time")


def position_applied(r: Resource, lat: float, lon: float, time: datetime,
                     version: int) -> tuple[Resource, bool]:
    """`apply_position`'s rule on a position and time already checked (fixes that share
    their time check it once)."""
    from resources.model import with_position

    if r.position_time is not None:
        if time < r.position_time:
            return r, False
        if time == r.position_time and (r.lat, r.lon) == (lat, lon):
            return r, False
    if not (math.isfinite(lat) and math.isfinite(lon)):  # pragma: no cover - _lat/_lon check
        raise ValidationError("lat", "must be finite")
    return with_position(r, lat, lon, time, version), True


def apply_status(r: Resource, status: str, time: datetime, *,
                 statuses: tuple[str, ...] | None = None) -> tuple[Resource, bool]:
    """The resource in a new status; `(r, False)` when the report is older than the stored
    status time or changes nothing. Raises Conflict on an illegal transition."""
    from resources.model import parse_time
    from resources.vocabulary import STATUSES

    if not isinstance(status, str) or status not in (statuses or STATUSES):
        raise ValidationError("status", f"unknown status {status!r}", "unknown")
    time = parse_time(_aware(time, "time"), "time")
    if r.status_time is not None and time < r.status_time:
        return r, False
    if status == r.status:
        return r, False
    check_transition(r.status, status)
    return replace(r, status=status, status_time=time), True
