"""The resource model (DESIGN §4, §7): an immutable record plus strict conversion from and to
the JSON shape.

Strict because the registry is fed by operators, imports and field units: a string where a
number belongs, a bool where a count belongs, an unknown field or an unknown capability is an
error naming the field (``home.lat``, ``capabilities[2]``), never a silent coercion.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

from resources.errors import Conflict, ValidationError
from resources.fields import bad_character
from resources.status import (  # noqa: F401 - re-exported: part of the model's interface
    TRANSITIONS,
    apply_position,
    apply_status,
    can_transition,
    check_transition,
)
from resources.vocabulary import Vocabulary  # noqa: F401 - re-exported

# Unanchored bodies of the id and area patterns: the URL converters, the published contract
# and the validators here all build on these.
ID_BODY = r"[A-Za-z0-9_-]{1,64}"
ID_RE = re.compile(f"^{ID_BODY}$")
RESERVED_IDS = frozenset({"export", "import"})
# GB/T 2260 style: 2 (province), 4 (city), 6 (county), 9 (township) digits; "M" marks a sea sector.
AREA_BODY = r"\d{2}(?:\d{2}(?:\d{2}(?:\d{3})?)?)?M?"
AREA_RE = re.compile(f"^{AREA_BODY}$")
MMSI_RE = re.compile(r"^\d{9}$")
COT_UID_RE = re.compile(r"^[!-~]{1,64}$")
MAX_SPEED_KMH = 5000.0
MAX_COUNT = 1_000_000  # crew, capacity: far above any unit, far below any column's range
MAX_VERSION = 2**31 - 1
MAX_READINESS_S = 7 * 24 * 3600.0
MAX_RANGE_KM = 40_000.0

FIELDS = (
    "id", "name", "call_sign", "kind", "tier", "agency", "capabilities", "crew", "capacity",
    "speed_kmh", "readiness_s", "range_km", "home", "lat", "lon", "position_time", "status",
    "status_time", "area", "exercise", "version", "mmsi", "cot_uid",
)
HOME_FIELDS = ("name", "lat", "lon")
IMMUTABLE_ON_UPDATE = ("id", "exercise")


@dataclass(frozen=True, slots=True)
class Home:
    name: str | None
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Resource:
    """One rescue resource. `lat`/`lon`/`position_time` are the last reported position (None
    until one is known); `version` grows by one with every stored change."""

    id: str
    name: str
    call_sign: str | None
    kind: str
    tier: str | None
    agency: str | None
    capabilities: tuple[str, ...]
    crew: int
    capacity: int
    speed_kmh: float
    readiness_s: float
    range_km: float | None
    home: Home
    lat: float | None
    lon: float | None
    position_time: datetime | None
    status: str
    area: str
    exercise: str | None = None
    version: int = 1
    status_time: datetime | None = None
    # What the unit's own equipment calls it (DESIGN §12): its AIS transponder's MMSI, its
    # TAK client's Cursor-on-Target uid. Positions from those feeds find the unit by them.
    mmsi: str | None = None
    cot_uid: str | None = None

    @property
    def has_position(self) -> bool:
        return self.lat is not None and self.lon is not None


# ----------------------------------------------------------------------------- times


# Times a report can carry: no clock is set to year 1 or 9999 on purpose (and arithmetic near
# those ends overflows).
MIN_YEAR, MAX_YEAR = 1900, 2999


def parse_time(value: Any, field: str) -> datetime:
    """ISO 8601 with a zone (or an aware datetime) -> aware UTC datetime."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError(field, "not an ISO 8601 time") from None
    else:
        raise ValidationError(field, "must be an ISO 8601 time string", "type")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValidationError(field, "time needs a zone (e.g. 2024-05-01T08:00:00Z)")
    try:
        utc = dt.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not MIN_YEAR <= utc.year <= MAX_YEAR:
        raise ValidationError(field, f"must be a time between the years {MIN_YEAR} and "
                              f"{MAX_YEAR}")
    return utc


def format_time(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return _iso_z(dt)


@functools.lru_cache(maxsize=256)
def _iso_z(dt: datetime) -> str:
    # Cached: the fixes of one moment (a simulation's tick, a feed's batch) share their time.
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


# ----------------------------------------------------------------------------- field checks


def _str(v: Any, field: str, *, optional: bool, max_len: int = 200) -> str | None:
    if v is None:
        if optional:
            return None
        raise ValidationError(field, "is required", "required")
    if not isinstance(v, str):
        raise ValidationError(field, "must be a string", "type")
    problem = bad_character(v)
    if problem:
        raise ValidationError(field, problem)
    v = v.strip()
    if not v:
        if optional:
            return None
        raise ValidationError(field, "must not be empty", "required")
    if len(v) > max_len:
        raise ValidationError(field, f"longer than {max_len} characters")
    return v


def _number(v: Any, field: str) -> float:
    if type(v) is float and math.isfinite(v):  # the common case, spared the ABC check
        return v
    if v is None:
        raise ValidationError(field, "is required", "required")
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise ValidationError(field, "must be a number", "type")
    f = float(v)
    if not math.isfinite(f):
        raise ValidationError(field, "must be finite")
    return f


def _positive(v: Any, field: str, upper: float = math.inf) -> float:
    f = _number(v, field)
    if not 0.0 < f <= upper:
        raise ValidationError(field, "must be positive" + ("" if upper == math.inf else f" and at most {upper:g}"))
    return f


def _count(v: Any, field: str, maximum: int = MAX_COUNT) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise ValidationError(field, "must be an integer", "type")
    if not (isinstance(v, numbers.Integral) or (math.isfinite(float(v)) and float(v).is_integer())):
        raise ValidationError(field, "must be an integer", "type")
    value = int(v) if isinstance(v, numbers.Integral) else int(float(v))
    if not 0 <= value <= maximum:
        raise ValidationError(field, f"must be between 0 and {maximum}")
    return value


def _lat(v: Any, field: str) -> float:
    f = _number(v, field)
    if not -90.0 <= f <= 90.0:
        raise ValidationError(field, "latitude must be within [-90, 90]")
    return f


def _lon(v: Any, field: str) -> float:
    f = _number(v, field)
    if not -180.0 <= f <= 180.0:
        raise ValidationError(field, "longitude must be within [-180, 180]")
    return f


def _capabilities(v: Any, vocab: Vocabulary) -> tuple[str, ...]:
    if v is None:
        return ()
    if isinstance(v, str) or not isinstance(v, list | tuple):
        raise ValidationError("capabilities", "must be a list of capability names", "type")
    seen: set[str] = set()
    for i, c in enumerate(v):
        f = f"capabilities[{i}]"
        if not isinstance(c, str):
            raise ValidationError(f, "must be a string", "type")
        if c not in vocab.capabilities:
            raise ValidationError(f, f"unknown capability {c!r}", "unknown")
        if c in seen:
            raise ValidationError(f, f"duplicate capability {c!r}")
        seen.add(c)
    return tuple(sorted(seen))


def _home(v: Any, old: Home | None) -> Home:
    if not isinstance(v, Mapping):
        raise ValidationError("home", "must be an object with lat and lon", "type" if v is not None else "required")
    for k in v:
        if k not in HOME_FIELDS:
            raise ValidationError(f"home.{k}", "unknown field", "unknown_field")
    merged = {"name": old.name, "lat": old.lat, "lon": old.lon} if old else {"name": None}
    merged.update(v)
    return Home(
        name=_str(merged.get("name"), "home.name", optional=True),
        lat=_lat(merged.get("lat"), "home.lat"),
        lon=_lon(merged.get("lon"), "home.lon"),
    )


def new_resource_id(exercise: str | None, kind: str, name: str, call_sign: str | None,
                    home: Home) -> str:
    """A short URL-safe id derived from what identifies the unit, so demo data and repeated
    imports of the same file get the same ids."""
    key = f"{exercise}|{kind}|{name}|{call_sign}|{home.lat:.5f}|{home.lon:.5f}"
    digest = hashlib.sha1(key.encode()).digest()
    return "r" + base64.b32encode(digest).decode().lower()[:11]


# ----------------------------------------------------------------------------- conversion


def resource_from_dict(data: Mapping[str, Any], vocab: Vocabulary, *,
                       existing: Resource | None = None) -> Resource:
    """Validate a JSON-shaped mapping into a Resource; with `existing`, a partial update (PATCH)
    of it. Raises ValidationError naming the field; Conflict on a stale `version`."""
    if not isinstance(data, Mapping):
        raise ValidationError(None, "a resource must be a JSON object", "type")
    for k in data:
        if k not in FIELDS:
            raise ValidationError(str(k), "unknown field", "unknown_field")
    if existing is not None:
        for k in IMMUTABLE_ON_UPDATE:
            if k in data and data[k] != getattr(existing, k):
                raise ValidationError(k, "cannot be changed", "immutable")
        if "version" in data:
            _count(data["version"], "version", MAX_VERSION)
            if data["version"] != existing.version:
                raise Conflict(f"resource {existing.id} is at version {existing.version}, "
                               f"not {data['version']}", field="version", code="stale_version")
        old = resource_to_dict(existing)
        merged: dict[str, Any] = {**old, **data}
        if "home" not in data:
            merged.pop("home")
    else:
        merged = dict(data)

    get = merged.get
    name = _str(get("name"), "name", optional=False)
    kind = get("kind")
    if kind is None:
        raise ValidationError("kind", "is required", "required")
    if not isinstance(kind, str):
        raise ValidationError("kind", "must be a string", "type")
    if kind not in vocab.kind_modes:
        raise ValidationError("kind", f"unknown kind {kind!r}", "unknown")
    if existing is not None and "home" not in merged:
        home = existing.home
    else:
        home = _home(get("home"), existing.home if existing else None)
    range_km = get("range_km")
    range_km = None if range_km is None else _positive(range_km, "range_km", MAX_RANGE_KM)
    if range_km is None and vocab.mode_of(kind) == "air":
        raise ValidationError("range_km", "is required for aircraft", "required")
    lat, lon = get("lat"), get("lon")
    if (lat is None) != (lon is None):
        raise ValidationError("lat" if lat is None else "lon", "lat and lon go together")
    lat = None if lat is None else _lat(lat, "lat")
    lon = None if lon is None else _lon(lon, "lon")
    ptime = get("position_time")
    ptime = None if ptime is None else parse_time(ptime, "position_time")
    if ptime is not None and lat is None:
        raise ValidationError("position_time", "given without lat and lon")
    status = get("status", "available")
    status = "available" if status is None else status
    if not isinstance(status, str):
        raise ValidationError("status", "must be a string", "type")
    if status not in vocab.statuses:
        raise ValidationError("status", f"unknown status {status!r}", "unknown")
    stime = get("status_time")
    stime = None if stime is None else parse_time(stime, "status_time")
    area = get("area")
    if area is None:
        raise ValidationError("area", "is required", "required")
    if not isinstance(area, str):
        raise ValidationError("area", "must be a string", "type")
    if not AREA_RE.match(area):
        raise ValidationError("area", f"{area!r} is not an area code (e.g. 330305, 330305M)")
    exercise = get("exercise")
    if exercise is not None and (not isinstance(exercise, str) or not ID_RE.match(exercise)):
        raise ValidationError("exercise", "must be an id (letters, digits, _ and -)")
    version = existing.version if existing is not None else get("version", 1)
    version = 1 if version is None else _count(version, "version", MAX_VERSION)
    if version < 1:
        raise ValidationError("version", "must be at least 1")
    call_sign = _str(get("call_sign"), "call_sign", optional=True, max_len=64)
    mmsi = get("mmsi")
    if mmsi is not None and (not isinstance(mmsi, str) or not MMSI_RE.match(mmsi)):
        raise ValidationError("mmsi", "must be the 9 digits of an MMSI, as text")
    cot_uid = get("cot_uid")
    if cot_uid is not None and (not isinstance(cot_uid, str) or not COT_UID_RE.match(cot_uid)):
        raise ValidationError("cot_uid", "must be 1-64 printable characters without spaces")

    rid = get("id")
    if rid is None:
        rid = new_resource_id(exercise, kind, name, call_sign, home)  # type: ignore[arg-type]
    elif not isinstance(rid, str) or not ID_RE.match(rid):
        raise ValidationError("id", "must be 1-64 letters, digits, _ or -")
    elif rid in RESERVED_IDS:
        raise ValidationError("id", f"{rid!r} is reserved: /resources/{rid} is a route")

    return Resource(
        id=rid,
        name=name,  # type: ignore[arg-type]
        call_sign=call_sign,
        kind=kind,
        tier=_str(get("tier"), "tier", optional=True, max_len=64),
        agency=_str(get("agency"), "agency", optional=True),
        capabilities=_capabilities(get("capabilities"), vocab),
        crew=_count(get("crew") if get("crew") is not None else 0, "crew"),
        capacity=_count(get("capacity") if get("capacity") is not None else 0, "capacity"),
        speed_kmh=_positive(get("speed_kmh"), "speed_kmh", MAX_SPEED_KMH),
        readiness_s=_positive(get("readiness_s"), "readiness_s", MAX_READINESS_S),
        range_km=range_km,
        home=home,
        lat=lat,
        lon=lon,
        position_time=ptime,
        status=status,
        area=area,
        exercise=exercise,
        version=version,
        status_time=stime,
        mmsi=mmsi,
        cot_uid=cot_uid,
    )


def resource_to_dict(r: Resource) -> dict[str, Any]:
    """The DESIGN §7 `resource` shape (plus exercise, version, status_time)."""
    return {
        "id": r.id,
        "name": r.name,
        "call_sign": r.call_sign,
        "kind": r.kind,
        "tier": r.tier,
        "agency": r.agency,
        "capabilities": list(r.capabilities),
        "crew": r.crew,
        "capacity": r.capacity,
        "speed_kmh": r.speed_kmh,
        "readiness_s": r.readiness_s,
        "range_km": r.range_km,
        "home": {"name": r.home.name, "lat": r.home.lat, "lon": r.home.lon},
        "lat": r.lat,
        "lon": r.lon,
        "position_time": format_time(r.position_time),
        "status": r.status,
        "status_time": format_time(r.status_time),
        "area": r.area,
        "exercise": r.exercise,
        "version": r.version,
        "mmsi": r.mmsi,
        "cot_uid": r.cot_uid,
    }


# Each field's slot setter, in field order (`with_position`).
_SETTERS = tuple(getattr(Resource, f.name).__set__ for f in fields(Resource))


def with_position(r: Resource, lat: float, lon: float, time: datetime | None,
                  version: int, *, _new: Any = object.__new__) -> Resource:
    """`replace(r, lat=, lon=, position_time=, version=)`, built directly through the slots'
    setters: a moving unit's every fix builds one, and the frozen dataclass's __init__ (each
    field through object.__setattr__) costs twice as much, dataclasses.replace four times.
    (tests/unit/test_resource_model.py holds them equal, field by field.)"""
    (s_id, s_name, s_call_sign, s_kind, s_tier, s_agency, s_capabilities, s_crew, s_capacity,
     s_speed_kmh, s_readiness_s, s_range_km, s_home, s_lat, s_lon, s_position_time, s_status,
     s_area, s_exercise, s_version, s_status_time, s_mmsi, s_cot_uid) = _SETTERS
    new = _new(Resource)
    s_id(new, r.id)
    s_name(new, r.name)
    s_call_sign(new, r.call_sign)
    s_kind(new, r.kind)
    s_tier(new, r.tier)
    s_agency(new, r.agency)
    s_capabilities(new, r.capabilities)
    s_crew(new, r.crew)
    s_capacity(new, r.capacity)
    s_speed_kmh(new, r.speed_kmh)
    s_readiness_s(new, r.readiness_s)
    s_range_km(new, r.range_km)
    s_home(new, r.home)
    s_lat(new, lat)
    s_lon(new, lon)
    s_position_time(new, time)
    s_status(new, r.status)
    s_area(new, r.area)
    s_exercise(new, r.exercise)
    s_version(new, version)
    s_status_time(new, r.status_time)
    s_mmsi(new, r.mmsi)
    s_cot_uid(new, r.cot_uid)
    return new


def effective_position(r: Resource) -> tuple[float, float]:
    """Where a listing places the unit: its last known position, else its home base."""
    if r.lat is not None and r.lon is not None:
        return r.lat, r.lon
    return r.home.lat, r.home.lon


def with_version(r: Resource, version: int) -> Resource:
    return replace(r, version=version)
