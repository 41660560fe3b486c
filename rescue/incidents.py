"""Incidents: the domain model and its lifecycle rules. Pure: no I/O, the clock is passed in."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from resources.errors import Conflict, ValidationError
from resources.fields import check_text

SEVERITIES = ("I", "II", "III", "IV")
# An incident id is part of its URL: letters, digits, _ and -, at most 40.
INCIDENT_ID_BODY = r"[A-Za-z0-9_-]{1,40}"
INCIDENT_ID_RE = re.compile(f"^{INCIDENT_ID_BODY}$")
STATUSES = ("reported", "responding", "on_scene", "contained", "closed")

# Lead level by severity (national emergency plan): IV county, III city, II province, and I
# national (the State Council leads; the province's centre acts for it here). Townships act
# first whatever the level. At sea the city's maritime SAR sub-centre leads at least: a county
# never leads an incident at sea alone.
LEAD_LEVEL = {"IV": "county", "III": "city", "II": "province", "I": "national"}
_LEVEL_NUMBER = {"national": 1, "province": 1, "city": 2, "county": 3}

_TRANSITIONS: dict[str, frozenset[str]] = {
    "reported": frozenset({"responding", "on_scene", "contained", "closed"}),
    "responding": frozenset({"on_scene", "contained", "closed"}),
    "on_scene": frozenset({"contained", "closed"}),
    "contained": frozenset({"responding", "on_scene", "closed"}),
    "closed": frozenset(),
}

MAX_NEEDS = 50
UPDATABLE = frozenset({"title", "severity", "status", "persons_at_risk", "weather", "release_all"})
WEATHER_FIELDS = frozenset({"wind_kmh", "visibility_km", "wave_m"})


@dataclass(frozen=True)
class AreaRef:
    code: str
    name: str
    level: int
    kind: str = "admin"

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "level": self.level, "kind": self.kind}


@dataclass(frozen=True)
class Assignment:
    resource_id: str
    assigned_at: datetime
    assigned_by: str
    requirement: str | None = None
    eta_s: int | None = None
    released_at: datetime | None = None
    area: str | None = None  # the unit's owning area (None in records made before it was kept)

    @property
    def active(self) -> bool:
        return self.released_at is None


@dataclass(frozen=True)
class Sitrep:
    id: str
    time: datetime
    author: str
    text: str
    casualties: int = 0
    persons_rescued: int = 0
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Incident:
    id: str
    title: str
    category: str
    severity: str
    lat: float
    lon: float
    persons_at_risk: int
    status: str
    areas: tuple[AreaRef, ...]
    surface: str
    reported_at: datetime
    updated_at: datetime
    exercise: str | None = None
    maritime: AreaRef | None = None
    weather: Mapping[str, float] | None = None
    assignments: tuple[Assignment, ...] = ()
    sitreps: tuple[Sitrep, ...] = ()
    version: int = 1

    @property
    def area(self) -> str:
        """The most specific area: the event scope of everything about this incident."""
        return self.areas[-1].code

    @property
    def at_sea(self) -> bool:
        return self.surface == "sea"

    @property
    def lead_level(self) -> str:
        level = LEAD_LEVEL[self.severity]
        return "city" if self.at_sea and level == "county" else level

    @property
    def lead_area(self) -> str:
        """The area whose centre leads: the province's for national and provincial grades
        (acting for the State Council at grade I), the city's maritime SAR sub-centre for a
        city-level incident at sea, else the admin area at the lead level."""
        if self.at_sea and self.lead_level == "city" and self.maritime is not None:
            return self.maritime.code
        want = _LEVEL_NUMBER[self.lead_level]
        chosen = self.areas[0].code
        for a in self.areas:
            if a.level <= want and a.kind == "admin":
                chosen = a.code
        return chosen

    def active_assignments(self) -> tuple[Assignment, ...]:
        return tuple(a for a in self.assignments if a.active)

    def unit_areas(self) -> tuple[str, ...]:
        """Owning areas of the units working on it: events about it concern them too."""
        return tuple(a.area for a in self.active_assignments() if a.area)

    def unit_ids(self) -> tuple[str, ...]:
        return tuple(a.resource_id for a in self.active_assignments())


def new_incident_id() -> str:
    return "inc-" + uuid.uuid4().hex[:12]


def validate_severity(value: object, field_name: str = "severity") -> str:
    if not isinstance(value, str) or value not in SEVERITIES:
        raise ValidationError(field_name, f"must be one of {', '.join(SEVERITIES)}, got {value!r}")
    return value


def validate_count(value: object, field_name: str, *, maximum: int = 1_000_000) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON Schema counts 2.0 as an integer, and so do we
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field_name, f"must be a whole number, got {type(value).__name__}")
    if not 0 <= value <= maximum:
        raise ValidationError(field_name, f"must be between 0 and {maximum}")
    return value


def validate_text(value: object, field_name: str, *, maximum: int = 4000, required: bool = True) -> str:
    value = check_text(value, field_name, maximum=maximum).strip()
    if required and not value:
        raise ValidationError(field_name, "must not be empty")
    if len(value) > maximum:
        raise ValidationError(field_name, f"must be at most {maximum} characters")
    return value


def validate_weather(value: object) -> dict[str, float] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValidationError("weather", "must be an object")
    unknown = set(value) - WEATHER_FIELDS
    if unknown:
        raise ValidationError(f"weather.{sorted(unknown)[0]}", "unknown field")
    out: dict[str, float] = {}
    for key, v in value.items():
        if v is None:
            continue  # not known
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
            raise ValidationError(f"weather.{key}", "must be a non-negative number")
        out[key] = float(v)
    return out


def check_transition(current: str, new: str) -> None:
    if new not in STATUSES:
        raise ValidationError("status", f"must be one of {', '.join(STATUSES)}, got {new!r}")
    if new == current:
        return
    if new not in _TRANSITIONS[current]:
        raise Conflict(f"an incident cannot go from {current} to {new}")


def change_status(inc: Incident, new: str, now: datetime, *, release_all: bool = False) -> Incident:
    """Closing needs every unit released first (or release_all, which the caller applies)."""
    check_transition(inc.status, new)
    if new == "closed" and inc.active_assignments() and not release_all:
        ids = ", ".join(a.resource_id for a in inc.active_assignments())
        raise Conflict(f"release the assigned units before closing ({ids}), or pass release_all")
    return replace(inc, status=new, updated_at=now, version=inc.version + 1)


def escalate(inc: Incident, severity: str, now: datetime) -> tuple[Incident, bool]:
    """Returns the incident with its new severity and whether the lead moved up."""
    severity = validate_severity(severity)
    raised = SEVERITIES.index(severity) < SEVERITIES.index(inc.severity)
    return replace(inc, severity=severity, updated_at=now, version=inc.version + 1), raised


def add_assignment(inc: Incident, assignment: Assignment) -> Incident:
    if inc.status == "closed":
        raise Conflict(f"incident {inc.id} is closed and takes no assignment")
    if any(a.resource_id == assignment.resource_id for a in inc.active_assignments()):
        raise Conflict(f"{assignment.resource_id} is already assigned to {inc.id}")
    status = "responding" if inc.status == "reported" else inc.status
    return replace(inc, assignments=inc.assignments + (assignment,), status=status,
                   updated_at=assignment.assigned_at, version=inc.version + 1)


def release_assignment(inc: Incident, resource_id: str, now: datetime) -> Incident:
    found = False
    out = []
    for a in inc.assignments:
        if a.active and a.resource_id == resource_id:
            a = replace(a, released_at=now)
            found = True
        out.append(a)
    if not found:
        raise Conflict(f"{resource_id} has no active assignment to {inc.id}")
    return replace(inc, assignments=tuple(out), updated_at=now, version=inc.version + 1)


def add_sitrep(inc: Incident, sitrep: Sitrep) -> Incident:
    if inc.status == "closed":
        raise Conflict(f"incident {inc.id} is closed")
    return replace(inc, sitreps=inc.sitreps + (sitrep,), updated_at=sitrep.time,
                   version=inc.version + 1)


@dataclass(frozen=True)
class SitrepInput:
    text: str
    casualties: int = 0
    persons_rescued: int = 0
    needs: tuple[str, ...] = field(default_factory=tuple)


def parse_sitrep(data: Mapping[str, Any]) -> SitrepInput:
    allowed = {"text", "casualties", "persons_rescued", "needs", "client_id"}
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError(sorted(unknown)[0], "unknown field")
    if "text" not in data:
        raise ValidationError("text", "is required")
    needs = data.get("needs", [])
    if not isinstance(needs, list) or not all(isinstance(n, str) and n.strip() for n in needs):
        raise ValidationError("needs", "must be a list of non-empty strings")
    if len(needs) > MAX_NEEDS:
        raise ValidationError("needs", f"must list at most {MAX_NEEDS} needs", "too_long")
    for i, n in enumerate(needs):
        check_text(n, f"needs[{i}]", maximum=200)
    return SitrepInput(
        text=validate_text(data["text"], "text"),
        casualties=validate_count(data.get("casualties", 0), "casualties"),
        persons_rescued=validate_count(data.get("persons_rescued", 0), "persons_rescued"),
        needs=tuple(n.strip() for n in needs),
    )
