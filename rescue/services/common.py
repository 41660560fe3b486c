"""Helpers shared by the handlers: scope checks and event construction."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from geo.areas import AreaIndex
from realtime.visibility import Viewer
from rescue.auth import Forbidden, Principal
from rescue.events import Event, new_event
from rescue.links import Link
from rescue.uow import Remembered, UnitOfWork
from resources.errors import NotFound, ValidationError
from resources.fields import check_text
from resources.model import Resource, format_time, parse_time, resource_to_dict

# A report stamped further ahead than this is a broken clock, not news.
MAX_CLOCK_SKEW = timedelta(minutes=5)


def resource_event(type_: str, r: Resource, now: datetime, *, link: Link | None = None,
                   incident_business: bool = False, **extra: Any) -> Event:
    """An event about a unit: it concerns the unit's owning area and, while the unit works
    on an incident, that incident's area too (a unit on mutual aid is seen by both). An
    assignment or release is incident business and carries the incident's category."""
    return Event(type=type_, area=r.area, exercise=r.exercise, time=now,
                 payload={"resource": resource_to_dict(r), **extra},
                 areas=(link.incident_area,) if link else (), units=(r.id,),
                 category=link.category if link and incident_business else None)


def position_event(r: Resource, now: datetime, *, link: Link | None = None,
                   speed_kmh: float | None = None, heading: float | None = None) -> Event:
    """A position fix: a slim payload (the unit's id, where, when, how fast), because
    positions are most of the traffic and every centre in scope receives each of them."""
    payload: dict[str, Any] = {"id": r.id, "lat": r.lat, "lon": r.lon,
                               "time": format_time(r.position_time), "version": r.version,
                               "status": r.status, "kind": r.kind}
    if speed_kmh is not None:
        payload["speed_kmh"] = speed_kmh
    if heading is not None:
        payload["heading"] = heading
    return new_event("resource.position", r.area, payload, now, exercise=r.exercise,
                     areas=(link.incident_area,) if link else (), units=(r.id,))


def viewer_of(principal: Principal, exercise: str | None = None) -> Viewer:
    """What a principal may see, on the live log or inside one exercise (DESIGN §6): the one
    rule for push, `GET /events` and anything kept beside the log (directives)."""
    cats = frozenset(principal.categories) if principal.categories is not None else None
    if principal.role == "field":
        return Viewer(unit=principal.resource_id, exercise=exercise)
    if principal.role == "admin":
        return Viewer(scope=None, categories=cats, exercise=exercise)
    return Viewer(scope=principal.area or "\x00", categories=cats, exercise=exercise)


def refuse_unknown(data: Any, allowed: set[str], prefix: str = "") -> None:
    """400 naming the first field a body may not carry."""
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError(prefix + sorted(map(str, unknown))[0], "unknown field")


def nonblank_text(value: Any, field: str, maximum: int) -> str:
    """Text a person reads (a message, an order, a reason): 1..maximum characters, not only
    white space, no control characters or lone surrogates."""
    text = check_text(value, field, maximum=maximum, minimum=1)
    if not text.strip():
        raise ValidationError(field, "must not be blank")
    return text


def first_answer(uow: UnitOfWork, principal: Principal, message_id: str | None
                 ) -> Remembered | None:
    """How this caller's message id was handled before, if it was (a resend)."""
    if message_id is None:
        return None
    return uow.seen_pairs([(principal.source, message_id)]).get((principal.source, message_id))


def check_area_exists(areas: AreaIndex, code: str, field: str = "area") -> None:
    if areas.get(code) is None:
        raise ValidationError(field, f"unknown area code {code!r}")


def readable_resource(principal: Principal, r: Resource | None, resource_id: str) -> Resource:
    """The resource if the caller may see it; 404 otherwise (no leak of what exists elsewhere)."""
    if r is None or not can_read_resource(principal, r):
        raise NotFound(f"no resource {resource_id!r} in your scope", field="id")
    return r


def can_read_resource(principal: Principal, r: Resource) -> bool:
    if principal.role == "field":
        return r.id == principal.resource_id
    return principal.covers_area(r.area)


def require_resource_write(principal: Principal, r: Resource, uow: UnitOfWork) -> None:
    if principal.role == "field":
        raise Forbidden("field units may only report their own position and status")
    principal.require("operator", "trainer")
    if principal.role == "trainer" and r.exercise is None:
        raise Forbidden("trainers change exercise resources only")
    require_trainee(principal, r.exercise, uow)
    if not principal.covers_area(r.area):
        raise Forbidden(f"resource {r.id} belongs to area {r.area}, outside your scope")


def require_trainee(principal: Principal, exercise: str | None, uow: UnitOfWork) -> None:
    """An operator acts inside an exercise only after joining it as a trainee: a simulated
    incident is nobody's business by accident."""
    if exercise is not None and principal.role == "operator" \
            and principal.label not in uow.trainees(exercise):
        raise Forbidden(f"join exercise {exercise} as a trainee first "
                        f"(POST /api/v1/exercises/{exercise}/join)")


def report_time(value: Any, now: datetime, field: str = "time") -> datetime:
    if value is None:
        return now
    t = parse_time(value, field)
    if t - now > MAX_CLOCK_SKEW:
        raise ValidationError(field, "is in the future (check the unit's clock)")
    return t


def client_message_id(data: dict[str, Any]) -> str | None:
    cid = data.get("client_id")
    if cid is None:
        return None
    if not isinstance(cid, str) or not 1 <= len(cid) <= 80:
        raise ValidationError("client_id", "must be a string of 1 to 80 characters")
    return cid


def lat_lon(data: dict[str, Any], prefix: str = "") -> tuple[float, float]:
    """Latitude and longitude from a JSON object, finite and in range."""
    out = []
    for key, limit in (("lat", 90.0), ("lon", 180.0)):
        if key not in data:
            raise ValidationError(prefix + key, "is required")
        v = data[key]
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ValidationError(prefix + key, f"must be a number, got {type(v).__name__}")
        if not math.isfinite(v) or abs(v) > limit:
            raise ValidationError(prefix + key, f"must be a finite number within ±{limit:g}")
        out.append(float(v))
    return out[0], out[1]
