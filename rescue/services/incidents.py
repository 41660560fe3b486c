"""Handlers for incidents: report, change, escalate, sitreps, assign and release units."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from geo.areas import AreaIndex, Location
from rescue import incidents as dom
from rescue.auth import Forbidden, Principal
from rescue.events import Event
from rescue.incident_repo import IncidentFilter, incident_to_dict
from rescue.incidents import INCIDENT_ID_RE, AreaRef, Assignment, Incident, Sitrep
from rescue.links import Link
from rescue.services.common import lat_lon, require_trainee, resource_event
from rescue.uow import UnitOfWork
from resources.errors import Conflict, NotFound, ValidationError

T = TypeVar("T")
_REPORT_FIELDS = {"title", "category", "severity", "lat", "lon", "persons_at_risk", "weather",
                  "exercise", "id"}
_BUSY = frozenset({"assigned", "en_route", "on_scene"})


class StaleIncident(Conflict):
    """Someone else changed the incident between our read and our write: retry."""


def _retrying(fn: Callable[[], T], attempts: int = 5) -> T:
    for i in range(attempts):
        try:
            return fn()
        except StaleIncident:
            if i == attempts - 1:
                raise
    raise AssertionError("unreachable")


def area_refs(loc: Location) -> tuple[tuple[AreaRef, ...], AreaRef | None]:
    chain = tuple(AreaRef(a.code, a.name, a.level, a.kind) for a in loc.chain)
    m = loc.maritime
    return chain, (AreaRef(m.code, m.name, m.level, m.kind) if m else None)


def incident_event(type_: str, inc: Incident, now: datetime, *,
                   also_units: tuple[str, ...] = (), also_areas: tuple[str, ...] = (),
                   **extra: Any) -> Event:
    """Incident business: it concerns the incident's area and the owning areas of the units
    working on it, names those units (they receive it on /field), and carries the category."""
    return about_incident(type_, inc, now, {"incident": incident_to_dict(inc), **extra},
                          also_units=also_units, also_areas=also_areas)


def about_incident(type_: str, inc: Incident, now: datetime, payload: dict[str, Any], *,
                   also_units: tuple[str, ...] = (), also_areas: tuple[str, ...] = ()
                   ) -> Event:
    """An event scoped like the incident (see incident_event) with its own payload: chat,
    media, frames reach exactly whoever works the incident."""
    return Event(type=type_, area=inc.area, exercise=inc.exercise, time=now, payload=payload,
                 areas=inc.unit_areas() + also_areas, units=inc.unit_ids() + also_units,
                 category=inc.category)


def postable_incident(uow: UnitOfWork, principal: Principal, incident_id: str) -> Incident:
    """The incident if the caller may add to it (a message, a photo, a frame): a unit
    assigned to it, or a centre that sees it (an operator inside an exercise once joined)."""
    inc = readable_incident(principal, uow.incidents.get(incident_id), incident_id)
    if principal.role != "field":
        principal.require("operator", "trainer")
        require_trainee(principal, inc.exercise, uow)
    return inc


def link_of(inc: Incident, resource_id: str) -> Link:
    return Link(resource_id, inc.id, inc.area, inc.category, inc.exercise)


def readable_incident(principal: Principal, inc: Incident | None, incident_id: str) -> Incident:
    if inc is None or not can_read_incident(principal, inc):
        raise NotFound(f"no incident {incident_id!r} in your scope", field="id")
    return inc


def can_read_incident(principal: Principal, inc: Incident) -> bool:
    if principal.role == "field":
        return any(a.resource_id == principal.resource_id for a in inc.active_assignments())
    return principal.covers_area(inc.area) and principal.covers_category(inc.category)


def _require_write(principal: Principal, inc: Incident, uow: UnitOfWork) -> None:
    principal.require("operator", "trainer")
    if principal.role == "trainer" and inc.exercise is None:
        raise Forbidden("trainers act on exercise incidents only")
    require_trainee(principal, inc.exercise, uow)


def report_incident(uow: UnitOfWork, principal: Principal, data: dict[str, Any],
                    areas: AreaIndex, categories: Collection[str], now: datetime,
                    *, new_id: Callable[[], str] = dom.new_incident_id) -> Incident:
    principal.require("operator", "trainer")
    unknown = set(data) - _REPORT_FIELDS
    if unknown:
        raise ValidationError(sorted(unknown)[0], "unknown field")
    category = data.get("category")
    if not isinstance(category, str) or category not in categories:
        raise ValidationError("category", f"unknown category {category!r}; one of: "
                              + ", ".join(sorted(categories)))
    severity = dom.validate_severity(data.get("severity"))
    lat, lon = lat_lon(data)
    persons = dom.validate_count(data.get("persons_at_risk", 0), "persons_at_risk")
    title = data.get("title")
    title = dom.validate_text(category.replace("_", " ") if title is None else title, "title",
                              maximum=200)
    weather = dom.validate_weather(data.get("weather"))
    exercise = data.get("exercise")
    if exercise is not None and not isinstance(exercise, str):
        raise ValidationError("exercise", "must be an exercise id")
    if principal.role == "trainer" and exercise is None:
        raise Forbidden("trainers report exercise incidents only (set 'exercise')")
    iid = data.get("id")
    if iid is None:
        iid = new_id()
    elif not isinstance(iid, str) or not INCIDENT_ID_RE.match(iid):
        raise ValidationError("id", "must be 1 to 40 letters, digits, _ or - (it is part of "
                              "the incident's URL)")
    loc = areas.locate(lat, lon)
    chain, maritime = area_refs(loc)
    if not chain:
        raise ValidationError("lat", "the point resolves to no area")
    inc = Incident(id=iid, title=title, category=category, severity=severity, lat=lat, lon=lon,
                   persons_at_risk=persons, status="reported", areas=chain, surface=loc.surface,
                   maritime=maritime, weather=weather, reported_at=now, updated_at=now,
                   exercise=exercise)
    if not principal.covers_area(inc.area):
        raise Forbidden(f"the incident lies in {inc.area}, outside your scope")
    if not principal.covers_category(category):
        raise Forbidden(f"your desk does not handle {category}")
    with uow:
        if uow.incidents.get(inc.id) is not None:
            raise Conflict(f"incident {inc.id} already exists", field="id", code="exists")
        uow.incidents.add(inc)
        uow.record(incident_event("incident.reported", inc, now))
        uow.commit()
    return inc


def get_incident(uow: UnitOfWork, principal: Principal, incident_id: str) -> Incident:
    with uow:
        return readable_incident(principal, uow.incidents.get(incident_id), incident_id)


def list_incidents(uow: UnitOfWork, principal: Principal, flt: IncidentFilter) -> list[Incident]:
    if principal.role == "field":
        raise Forbidden("field units see their own assignments only")
    if principal.role != "admin":
        flt = replace(flt, area_prefix=_narrow(flt.area_prefix, principal.area or "\x00"))
        if flt.area_prefix is None:
            return []
    with uow:
        items = uow.incidents.list(flt)
    return [i for i in items if principal.covers_category(i.category)]


def _narrow(asked: str | None, scope: str) -> str | None:
    if asked is None or asked.startswith(scope):
        return asked or scope
    return scope if scope.startswith(asked) else None


def _save(uow: UnitOfWork, new: Incident, old: Incident) -> None:
    try:
        uow.incidents.save(new, expected_version=old.version)
    except Conflict as e:
        raise StaleIncident(e.message) from None


def update_incident(uow: UnitOfWork, principal: Principal, incident_id: str,
                    data: dict[str, Any], now: datetime) -> Incident:
    """Change what the body names; a field sent as null is left as it is (as one not sent)."""
    data = {k: v for k, v in data.items() if v is not None}
    unknown = set(data) - dom.UPDATABLE
    if unknown:
        raise ValidationError(sorted(unknown)[0], "unknown or read-only field")
    release_all = data.get("release_all", False)
    if not isinstance(release_all, bool):
        raise ValidationError("release_all", "must be true or false")

    def run() -> Incident:
        with uow:
            old = readable_incident(principal, uow.incidents.get(incident_id, for_update=True),
                                    incident_id)
            _require_write(principal, old, uow)
            inc = old
            events: list[tuple[str, dict[str, Any]]] = []
            changed = {}
            if "title" in data:
                inc = replace(inc, title=dom.validate_text(data["title"], "title", maximum=200))
                changed["title"] = inc.title
            if "persons_at_risk" in data:
                inc = replace(inc, persons_at_risk=dom.validate_count(
                    data["persons_at_risk"], "persons_at_risk"))
                changed["persons_at_risk"] = inc.persons_at_risk
            if "weather" in data:
                inc = replace(inc, weather=dom.validate_weather(data["weather"]))
                changed["weather"] = inc.weather
            if "severity" in data and data["severity"] != inc.severity:
                before = (inc.severity, inc.lead_level, inc.lead_area)
                inc, raised = dom.escalate(inc, data["severity"], now)
                events.append(("incident.escalated" if raised else "incident.deescalated", {
                    "from": before[0], "to": inc.severity, "lead_level": inc.lead_level,
                    "lead_area": inc.lead_area, "previous_lead_area": before[2]}))
            released: list[str] = []
            if "status" in data and data["status"] != inc.status:
                if not isinstance(data["status"], str):
                    raise ValidationError("status", "must be a string")
                if data["status"] == "closed" and release_all:
                    for a in inc.active_assignments():
                        inc = dom.release_assignment(inc, a.resource_id, now)
                        released.append(a.resource_id)
                prev = inc.status
                inc = dom.change_status(inc, data["status"], now)
                events.append(("incident.status", {"from": prev, "to": inc.status}))
            if changed:
                events.append(("incident.updated", {"changed": sorted(changed)}))
            if inc is old:
                return old
            inc = replace(inc, updated_at=now, version=old.version + 1)
            _save(uow, inc, old)
            freed_areas = tuple(a.area for a in old.active_assignments()
                                if a.resource_id in released and a.area)
            for rid in released:
                _free_resource(uow, inc, rid, now)
            for type_, extra in events:
                uow.record(incident_event(type_, inc, now, also_units=tuple(released),
                                          also_areas=freed_areas, **extra))
            uow.commit()
            return inc

    return _retrying(run)


def sitrep_in(uow: UnitOfWork, principal: Principal, incident_id: str,
              parsed: dom.SitrepInput, now: datetime, *, sitrep_id: str,
              time: datetime | None = None) -> tuple[Incident, Sitrep, Event]:
    """A situation report inside the caller's open unit of work; returns the event to record.
    Raises before writing anything when the report is refused."""
    old = readable_incident(principal, uow.incidents.get(incident_id, for_update=True),
                            incident_id)
    if principal.role != "field":
        _require_write(principal, old, uow)
    s = Sitrep(id=sitrep_id, time=time or now, author=principal.label, text=parsed.text,
               casualties=parsed.casualties, persons_rescued=parsed.persons_rescued,
               needs=parsed.needs)
    inc = dom.add_sitrep(old, s)
    _save(uow, inc, old)
    return inc, s, Event(type="sitrep.added", area=inc.area, exercise=inc.exercise, time=now,
                         payload={"incident_id": inc.id,
                                  "sitrep": incident_to_dict(inc)["sitreps"][-1]},
                         areas=inc.unit_areas(), units=inc.unit_ids(), category=inc.category)


def assign_resource(uow: UnitOfWork, principal: Principal, incident_id: str,
                    data: dict[str, Any], now: datetime) -> Incident:
    """Atomic across processes: the unit's status flips available->assigned in one conditional
    UPDATE, so of two operators racing for one unit exactly one succeeds (the other gets 409)."""
    unknown = set(data) - {"resource_id", "requirement", "eta_s"}
    if unknown:
        raise ValidationError(sorted(unknown)[0], "unknown field")
    rid = data.get("resource_id")
    if not isinstance(rid, str) or not rid:
        raise ValidationError("resource_id", "is required")
    requirement = data.get("requirement")
    if requirement is not None and not isinstance(requirement, str):
        raise ValidationError("requirement", "must be a capability name")
    eta = data.get("eta_s")
    if eta is not None:
        eta = dom.validate_count(eta, "eta_s", maximum=10**7)

    def run() -> Incident:
        with uow:
            old = readable_incident(principal, uow.incidents.get(incident_id, for_update=True),
                                    incident_id)
            _require_write(principal, old, uow)
            if old.status == "closed":
                raise Conflict(f"incident {old.id} is closed and takes no assignment",
                               field="status", code="closed")
            res = uow.resources.get(rid)
            if res is None or not (principal.role == "admin" or principal.covers_area(res.area)):
                if res is None:
                    raise NotFound(f"no resource {rid!r}", field="resource_id")
                raise Forbidden(f"{rid} belongs to {res.area}; ask a centre whose scope covers "
                                "it (mutual aid)")
            if res.exercise != old.exercise:
                raise ValidationError("resource_id", "live units serve live incidents and "
                                      "exercise units their exercise only")
            inc = dom.add_assignment(old, Assignment(resource_id=rid, assigned_at=now,
                                                     assigned_by=principal.label,
                                                     requirement=requirement, eta_s=eta,
                                                     area=res.area))
            taken = uow.resources.compare_and_set_status(rid, {"available"}, "assigned", time=now)
            if taken is None:
                current = uow.resources.get(rid)
                raise Conflict(f"{rid} is not available (now {current.status if current else 'gone'})",
                               field="resource_id", code="unavailable")
            _save(uow, inc, old)
            link = link_of(inc, rid)
            uow.links.set(link)
            uow.record(resource_event("resource.assigned", taken, now, link=link,
                                      incident_business=True, incident_id=inc.id,
                                      requirement=requirement))
            uow.record(incident_event("incident.assignment", inc, now, resource_id=rid))
            uow.commit()
            return inc

    return _retrying(run)


def _free_resource(uow: UnitOfWork, inc: Incident, rid: str, now: datetime) -> None:
    link = link_of(inc, rid)
    uow.links.clear(rid)
    res = uow.resources.get(rid)
    if res is None:
        return
    new_status = "available" if res.status == "assigned" else "returning"
    freed = uow.resources.compare_and_set_status(rid, _BUSY | {"returning"}, new_status, time=now)
    if freed is not None:
        uow.record(resource_event("resource.released", freed, now, link=link,
                                  incident_business=True, incident_id=inc.id))


def release_resource(uow: UnitOfWork, principal: Principal, incident_id: str,
                     resource_id: str, now: datetime) -> Incident:
    def run() -> Incident:
        with uow:
            old = readable_incident(principal, uow.incidents.get(incident_id, for_update=True),
                                    incident_id)
            _require_write(principal, old, uow)
            inc = dom.release_assignment(old, resource_id, now)
            _save(uow, inc, old)
            _free_resource(uow, inc, resource_id, now)
            area = next((a.area for a in old.active_assignments()
                         if a.resource_id == resource_id and a.area), None)
            uow.record(incident_event("incident.release", inc, now, resource_id=resource_id,
                                      also_units=(resource_id,),
                                      also_areas=(area,) if area else ()))
            uow.commit()
            return inc

    return _retrying(run)
