"""Incident repositories (in-memory and SQL) and the incident's JSON form."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from rescue import tables
from rescue.events import iso
from rescue.incidents import AreaRef, Assignment, Incident, Sitrep
from resources.errors import Conflict
from resources.fields import has_surrogate, scrub


def incident_to_dict(inc: Incident) -> dict[str, Any]:
    return {
        "id": inc.id,
        "title": inc.title,
        "category": inc.category,
        "severity": inc.severity,
        "lat": inc.lat,
        "lon": inc.lon,
        "persons_at_risk": inc.persons_at_risk,
        "status": inc.status,
        "areas": [a.to_dict() for a in inc.areas],
        "area": inc.area,
        "surface": inc.surface,
        "maritime": inc.maritime.to_dict() if inc.maritime else None,
        "lead_level": inc.lead_level,
        "lead_area": inc.lead_area,
        "led_for": "state_council" if inc.severity == "I" else None,
        "weather": dict(inc.weather) if inc.weather else None,
        "assignments": [
            {
                "resource_id": a.resource_id,
                "requirement": a.requirement,
                "eta_s": a.eta_s,
                "assigned_at": iso(a.assigned_at),
                "assigned_by": a.assigned_by,
                "released_at": iso(a.released_at) if a.released_at else None,
                "active": a.active,
                "area": a.area,
            }
            for a in inc.assignments
        ],
        "sitreps": [
            {
                "id": s.id, "time": iso(s.time), "author": s.author, "text": s.text,
                "casualties": s.casualties, "persons_rescued": s.persons_rescued,
                "needs": list(s.needs),
            }
            for s in inc.sitreps
        ],
        "reported_at": iso(inc.reported_at),
        "updated_at": iso(inc.updated_at),
        "exercise": inc.exercise,
        "version": inc.version,
    }


def _t(s: str | None) -> datetime | None:
    if s is None:
        return None
    return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(UTC)


def incident_from_dict(d: Mapping[str, Any]) -> Incident:
    return Incident(
        id=d["id"], title=d["title"], category=d["category"], severity=d["severity"],
        lat=d["lat"], lon=d["lon"], persons_at_risk=d["persons_at_risk"], status=d["status"],
        areas=tuple(AreaRef(**a) for a in d["areas"]), surface=d["surface"],
        maritime=AreaRef(**d["maritime"]) if d.get("maritime") else None,
        weather=d.get("weather"),
        assignments=tuple(
            Assignment(resource_id=a["resource_id"], requirement=a.get("requirement"),
                       eta_s=a.get("eta_s"), assigned_at=_t(a["assigned_at"]),
                       assigned_by=a["assigned_by"], released_at=_t(a.get("released_at")),
                       area=a.get("area"))
            for a in d.get("assignments", [])
        ),
        sitreps=tuple(
            Sitrep(id=s["id"], time=_t(s["time"]), author=s["author"], text=s["text"],
                   casualties=s["casualties"], persons_rescued=s["persons_rescued"],
                   needs=tuple(s["needs"]))
            for s in d.get("sitreps", [])
        ),
        reported_at=_t(d["reported_at"]), updated_at=_t(d["updated_at"]),
        exercise=d.get("exercise"), version=d.get("version", 1),
    )


@dataclass(frozen=True)
class IncidentFilter:
    area_prefix: str | None = None
    statuses: frozenset[str] | None = None
    category: str | None = None
    exercise: str | None = None
    limit: int = 200
    offset: int = 0


class IncidentRepository(ABC):
    @abstractmethod
    def add(self, inc: Incident) -> None: ...

    @abstractmethod
    def get(self, incident_id: str, *, for_update: bool = False) -> Incident | None:
        """With for_update, concurrent writers of one incident queue instead of colliding."""

    @abstractmethod
    def save(self, inc: Incident, expected_version: int) -> None:
        """Optimistic concurrency: Conflict when someone else changed it meanwhile."""

    @abstractmethod
    def list(self, flt: IncidentFilter) -> list[Incident]: ...


class InMemoryIncidentRepository(IncidentRepository):
    def __init__(self) -> None:
        self._items: dict[str, Incident] = {}

    def add(self, inc: Incident) -> None:
        if inc.id in self._items:
            raise Conflict(f"incident {inc.id} exists")
        self._items[inc.id] = inc

    def get(self, incident_id: str, *, for_update: bool = False) -> Incident | None:
        return self._items.get(incident_id)

    def save(self, inc: Incident, expected_version: int) -> None:
        cur = self._items.get(inc.id)
        if cur is None or cur.version != expected_version:
            raise Conflict(f"incident {inc.id} was changed by someone else; reload and retry")
        self._items[inc.id] = inc

    def list(self, flt: IncidentFilter) -> list[Incident]:
        items = [i for i in self._items.values() if _match(i, flt)]
        items.sort(key=lambda i: (i.reported_at, i.id), reverse=True)
        return items[flt.offset:flt.offset + flt.limit]


def _match(i: Incident, f: IncidentFilter) -> bool:
    return (
        (f.area_prefix is None or i.area.startswith(f.area_prefix))
        and (f.statuses is None or i.status in f.statuses)
        and (f.category is None or i.category == f.category)
        and i.exercise == f.exercise
    )


class SqlIncidentRepository(IncidentRepository):
    def __init__(self, connection: Connection) -> None:
        self.conn = connection

    def add(self, inc: Incident) -> None:
        self.conn.execute(insert(tables.incidents).values(**_row(inc)))

    def get(self, incident_id: str, *, for_update: bool = False) -> Incident | None:
        stmt = select(tables.incidents.c.data).where(tables.incidents.c.id == incident_id)
        if for_update:
            stmt = stmt.with_for_update()  # ignored by SQLite, whose writers already queue
        row = self.conn.execute(stmt).first()
        return _incident(row.data) if row else None

    def save(self, inc: Incident, expected_version: int) -> None:
        t = tables.incidents
        res = self.conn.execute(
            update(t).where(t.c.id == inc.id, t.c.version == expected_version).values(**_row(inc))
        )
        if res.rowcount != 1:
            raise Conflict(f"incident {inc.id} was changed by someone else; reload and retry")

    def list(self, flt: IncidentFilter) -> list[Incident]:
        t = tables.incidents
        stmt = select(t.c.data).order_by(t.c.created.desc(), t.c.id.desc())
        if flt.area_prefix:
            stmt = stmt.where(t.c.area.startswith(flt.area_prefix, autoescape=True))
        if flt.statuses is not None:
            stmt = stmt.where(t.c.status.in_(sorted(flt.statuses)))
        if flt.category:
            stmt = stmt.where(t.c.category == flt.category)
        stmt = stmt.where(t.c.exercise.is_(None) if flt.exercise is None else t.c.exercise == flt.exercise)
        stmt = stmt.limit(flt.limit).offset(flt.offset)
        return [_incident(r.data) for r in self.conn.execute(stmt)]


def _incident(data: Mapping[str, Any]) -> Incident:
    """A stored incident; a lone surrogate an older release let in is read as U+FFFD."""
    return incident_from_dict(scrub(data) if has_surrogate(data) else data)


def _row(inc: Incident) -> dict[str, Any]:
    return {
        "id": inc.id, "category": inc.category, "severity": inc.severity, "status": inc.status,
        "area": inc.area, "exercise": inc.exercise, "created": inc.reported_at,
        "version": inc.version, "data": incident_to_dict(inc),
    }
