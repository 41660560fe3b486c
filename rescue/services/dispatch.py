"""Suggestions: the dispatcher fed by the live index, for an incident or an ad hoc point."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rescue import incidents as dom
from rescue.auth import Forbidden, Principal
from rescue.context import RescueContext
from rescue.services.common import lat_lon
from rescue.services.incidents import get_incident
from resources.errors import ValidationError

MAX_K = 50
_ADHOC_FIELDS = {"lat", "lon", "category", "severity", "k", "weather", "exercise"}


def validate_k(value: Any, field: str = "k") -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, "must be a whole number")
    if not 1 <= value <= MAX_K:
        raise ValidationError(field, f"must be between 1 and {MAX_K}")
    return value


def suggest_for_incident(ctx: RescueContext, principal: Principal, incident_id: str, k: int,
                         now: datetime) -> dict[str, Any]:
    principal.require("operator", "trainer")
    inc = get_incident(ctx.uow(readonly=True), principal, incident_id)
    return _suggest(ctx, principal, lat=inc.lat, lon=inc.lon, category=inc.category,
                    severity=inc.severity, weather=inc.weather, exercise=inc.exercise,
                    incident_id=inc.id, k=k, now=now)


def suggest_adhoc(ctx: RescueContext, principal: Principal, data: dict[str, Any],
                  now: datetime) -> dict[str, Any]:
    principal.require("operator", "trainer")
    unknown = set(data) - _ADHOC_FIELDS
    if unknown:
        raise ValidationError(sorted(unknown)[0], "unknown field")
    lat, lon = lat_lon(data)
    category = data.get("category")
    if not isinstance(category, str) or not category:
        raise ValidationError("category", "is required")
    severity = dom.validate_severity(data.get("severity"))
    k = validate_k(data.get("k", 5))
    exercise = data.get("exercise")
    if exercise is not None and not isinstance(exercise, str):
        raise ValidationError("exercise", "must be an exercise id")
    return _suggest(ctx, principal, lat=lat, lon=lon, category=category, severity=severity,
                    weather=dom.validate_weather(data.get("weather")), exercise=exercise,
                    incident_id=None, k=k, now=now)


def _suggest(ctx: RescueContext, principal: Principal, **kw: Any) -> dict[str, Any]:
    out = _suggest_object(ctx, principal, **kw).to_dict()
    # Name each candidate (an operator asks a neighbour for a unit by name and call sign, not by
    # registry id), and say which ones this caller can assign directly; others need mutual aid.
    for req in out.get("requirements", []):
        for c in req.get("candidates", []):
            r = ctx.feed.index.get(c["resource_id"])
            if r is not None:
                c.setdefault("name", r.name)
                c.setdefault("call_sign", r.call_sign)
                c.setdefault("area", r.area)
            c.setdefault("assignable", principal.role == "admin"
                         or principal.covers_area(c.get("area")))
    return out


def _suggest_object(ctx: RescueContext, principal: Principal, *, lat: float, lon: float,
                    category: str, severity: str, weather: Any, exercise: str | None,
                    incident_id: str | None, k: int, now: datetime):  # noqa: ANN202
    """The dispatcher's Suggestion for a point, after the caller's scope is checked."""
    from rescue.dispatch.dispatcher import DispatchRequest

    validate_k(k)
    location = ctx.geography.areas.locate(lat, lon)
    area = location.chain[-1].code if location.chain else None
    if not principal.covers_area(area):
        raise Forbidden(f"the point lies in {area}, outside your scope")
    if principal.role == "trainer" and exercise is None:
        raise Forbidden("trainers ask for suggestions inside an exercise")
    request = DispatchRequest(lat=lat, lon=lon, category=category, severity=severity,
                              location=location, weather=weather, exercise=exercise,
                              incident_id=incident_id)
    with ctx.index() as index:
        return ctx.dispatcher.suggest(index, request, now=now, k=k)
