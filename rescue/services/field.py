"""Field messages (positions, statuses, situation reports) and how a batch of them is applied.

Units report over weak links: messages arrive late, out of order and more than once. Each
carries the client's message id; a message seen before is answered as the first time (same
seq, `duplicate`) and never applied again, even after a restart, because the id is
remembered in the same transaction as the change. A position older than the stored one is
acknowledged and ignored. Parsing (`parse_*`) happens before a message is queued, so a bad
message is refused at once naming its field; `apply_batch` applies many messages in one
transaction (the ingest's group commit) and refuses any single one without spoiling the others.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, NamedTuple

from rescue import incidents as dom
from rescue.auth import Forbidden, Principal
from rescue.events import Event
from rescue.incidents import Incident
from rescue.services.common import (
    lat_lon,
    position_event,
    readable_resource,
    refuse_unknown,
    report_time,
    require_resource_write,
    resource_event,
)
from rescue.services.incidents import sitrep_in
from rescue.uow import Remembered, UnitOfWork
from resources.errors import ResourceError, ValidationError
from resources.fields import check_text
from resources.model import Resource
from resources.status import (
    apply_position,
    apply_status,
    checked_places,
    checked_time,
    position_applied,
)
from resources.vocabulary import STATUSES

MAX_MESSAGE_ID = 80


@dataclass(frozen=True)
class Position:
    lat: float
    lon: float
    time: datetime
    speed_kmh: float | None = None
    heading: float | None = None


@dataclass(frozen=True)
class Status:
    status: str
    time: datetime
    note: str | None = None


@dataclass(frozen=True)
class SitrepReport:
    incident_id: str
    report: dom.SitrepInput
    time: datetime


@dataclass(frozen=True)
class FieldMessage:
    """One report, parsed. `source` scopes the message id: the unit's for field tokens."""

    principal: Principal
    body: Position | Status | SitrepReport
    resource_id: str | None = None
    message_id: str | None = None

    @property
    def source(self) -> str:
        return self.principal.source

    @property
    def kind(self) -> str:
        return {Position: "position", Status: "status", SitrepReport: "sitrep"}[type(self.body)]


@dataclass(frozen=True)
class Outcome:
    """What became of a message: the ack of DESIGN §6 plus what the HTTP twins return."""

    ok: bool
    seq: int | None = None
    duplicate: bool = False
    ignored: str | None = None
    error: Exception | None = None
    resource: Resource | None = None
    incident: Incident | None = None
    sitrep_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def ack(self) -> dict[str, Any]:
        if not self.ok:
            e = self.error
            return {"ok": False, "error": {"code": getattr(e, "code", "error"),
                                           "message": getattr(e, "message", str(e)),
                                           "field": getattr(e, "field", None)}, **self.extra}
        return {"ok": True, "seq": self.seq, "duplicate": self.duplicate,
                "ignored": self.ignored, **self.extra}


# ----------------------------------------------------------------------------- parsing


def message_id(value: Any, field_name: str = "id") -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_MESSAGE_ID:
        raise ValidationError(field_name, f"must be a string of 1 to {MAX_MESSAGE_ID} characters")
    return check_text(value, field_name, maximum=MAX_MESSAGE_ID)


def _optional_number(data: Mapping[str, Any], key: str, lo: float, hi: float) -> float | None:
    v = data.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ValidationError(key, "must be a finite number")
    if not lo <= v <= hi:
        raise ValidationError(key, f"must be between {lo:g} and {hi:g}")
    return float(v)


def _time(data: Mapping[str, Any], now: datetime, required: bool) -> datetime:
    if required and data.get("time") is None:
        raise ValidationError("time", "is required: the moment of the fix or report")
    return report_time(data.get("time"), now)


def parse_position(data: Mapping[str, Any], now: datetime, *, id_key: str = "id",
                   time_required: bool = True) -> tuple[Position, str | None]:
    refuse_unknown(data, {id_key, "lat", "lon", "time", "speed_kmh", "heading"})
    lat, lon = lat_lon(dict(data))
    return Position(lat, lon, _time(data, now, time_required),
                    _optional_number(data, "speed_kmh", 0, 5000),
                    _optional_number(data, "heading", 0, 360)), message_id(data.get(id_key), id_key)


def parse_status(data: Mapping[str, Any], now: datetime, *, id_key: str = "id",
                 time_required: bool = True) -> tuple[Status, str | None]:
    refuse_unknown(data, {id_key, "status", "time", "note"})
    status = data.get("status")
    if status is None:
        raise ValidationError("status", "is required")
    if not isinstance(status, str) or status not in STATUSES:
        raise ValidationError("status", f"must be one of {', '.join(STATUSES)}")
    note = data.get("note")
    if note is not None:
        note = check_text(note, "note", maximum=500)
    return Status(status, _time(data, now, time_required), note), message_id(data.get(id_key), id_key)


def parse_sitrep(data: Mapping[str, Any], now: datetime, *, incident_id: str | None = None,
                 id_key: str = "id", time_required: bool = False
                 ) -> tuple[SitrepReport, str | None]:
    fields = {k: v for k, v in data.items() if k not in (id_key, "time", "incident")}
    if incident_id is None:
        incident_id = data.get("incident")
        if not isinstance(incident_id, str) or not incident_id:
            raise ValidationError("incident", "is required: the incident this report is about")
        check_text(incident_id, "incident", maximum=40)
    return (SitrepReport(incident_id, dom.parse_sitrep(fields), _time(data, now, time_required)),
            message_id(data.get(id_key), id_key))


# ----------------------------------------------------------------------------- applying


def _reporting(principal: Principal, r: Resource, uow: UnitOfWork) -> None:
    if principal.role == "field":
        if r.id != principal.resource_id:
            raise Forbidden("a field token reports for its own unit only")
        return
    require_resource_write(principal, r, uow)


def apply_batch(uow: UnitOfWork, messages: list[FieldMessage], now: datetime, *,
                new_sitrep_id: Callable[[], str] | None = None) -> list[Outcome]:
    """Apply messages in order inside the caller's open unit of work (which commits).

    Reads are done in bulk (resources, assignments, remembered ids); each unit is written once
    with its last state; events are appended in message order. A refused message writes
    nothing; the others go on. Database errors propagate: the caller rolls back and may retry
    the messages one by one.
    """
    new_sitrep_id = new_sitrep_id or (lambda: "sr-" + uuid.uuid4().hex[:12])
    pairs = [(m.source, m.message_id) for m in messages if m.message_id is not None]
    remembered: dict[tuple[str, str], Remembered] = uow.seen_pairs(pairs) if pairs else {}
    unit_ids = {m.resource_id for m in messages if m.resource_id is not None}
    stored = uow.resources.get_many(unit_ids) if unit_ids else {}
    links = uow.links.get_many(unit_ids) if unit_ids else {}
    current = dict(stored)
    outcomes: list[Any] = [None] * len(messages)  # Outcome, or ("dup", index of the first)
    events: list[tuple[int, Event]] = []
    remember: list[tuple[int, str, str, str | None]] = []  # (index, source, id, outcome)
    first_of: dict[tuple[str, str], int] = {}

    for i, m in enumerate(messages):
        key = (m.source, m.message_id) if m.message_id is not None else None
        if key is not None:
            if key in remembered:
                rem = remembered[key]
                outcomes[i] = Outcome(True, seq=rem.seq, duplicate=True, ignored=rem.outcome,
                                      resource=current.get(m.resource_id or ""))
                continue
            if key in first_of:  # the same message twice in one batch
                outcomes[i] = ("dup", first_of[key])
                continue
        try:
            if isinstance(m.body, SitrepReport):
                inc, s, ev = sitrep_in(uow, m.principal, m.body.incident_id, m.body.report, now,
                                       sitrep_id=new_sitrep_id(), time=m.body.time)
                events.append((i, ev))
                outcomes[i] = Outcome(True, incident=inc, sitrep_id=s.id)
                ignored = None
            else:
                rid = m.resource_id or ""
                r = readable_resource(m.principal, current.get(rid), rid)
                _reporting(m.principal, r, uow)
                made, r2, ignored = _apply_unit(m.body, r, links.get(rid), now)
                if made is not None:
                    current[rid] = r2
                    events.append((i, made))
                outcomes[i] = Outcome(True, ignored=ignored, resource=current[rid])
        except (ResourceError, Forbidden) as e:
            outcomes[i] = Outcome(False, error=e)
            continue
        if key is not None:
            first_of[key] = i
            remember.append((i, key[0], key[1], ignored))

    changes = [(stored[rid], r) for rid, r in current.items() if r is not stored[rid]]
    uow.resources.store_versions(changes)
    seq_of: dict[int, int] = {}
    for (i, _), ev in zip(events, uow.record_many([e for _, e in events]), strict=True):
        seq_of[i] = ev.seq or 0
    uow.remember_messages([(s, mid, seq_of.get(i), o) for i, s, mid, o in remember], now)
    final: list[Outcome] = []
    for i, o in enumerate(outcomes):
        if isinstance(o, tuple):  # a repeat inside the batch answers as its first
            first = final[o[1]]
            o = replace(first, duplicate=True)
        elif o is not None and o.ok and not o.duplicate:
            o = replace(o, seq=seq_of.get(i))
        final.append(o)  # type: ignore[arg-type]
    return final


class Fix(NamedTuple):
    """A unit's position at a moment its source shares with others (one tick of a
    simulation's moving units), checked by `apply_fixes`. A tuple: a tick makes hundreds."""

    resource_id: str
    lat: float
    lon: float
    speed_kmh: float | None = None
    heading: float | None = None


def apply_fixes(uow: UnitOfWork, principal: Principal, fixes: list[Fix], time: datetime,
                now: datetime) -> list[Event]:
    """Many units' fixes of one moment inside the caller's open unit of work: the changes and
    events `apply_batch` makes of the same fixes as Position messages without ids (tested
    equal), without its per-message machinery (ids remembered, outcomes, refusals one by
    one): a 10,000-unit simulation moves half a million fixes a day. A refused fix (a unit
    gone, out of scope, or a bad place) raises and the caller's transaction writes nothing."""
    time = checked_time(time)  # once for the tick
    lats, lons = checked_places([f.lat for f in fixes], [f.lon for f in fixes])
    stored = uow.resources.get_many({f.resource_id for f in fixes})
    links = uow.links.get_many(stored)
    current = dict(stored)
    events: list[Event] = []
    # What the scope checks read of a unit (its area and exercise; a field token: its id),
    # checked once a tick, not once a fix.
    own = principal.role == "field"
    allowed: set[tuple[str, ...]] = set()
    for f, lat, lon in zip(fixes, lats, lons, strict=True):
        rid = f.resource_id
        r = current.get(rid)
        key = ("unit", rid) if own or r is None else ("area", r.area, r.exercise or "")
        if r is None or key not in allowed:
            r = readable_resource(principal, r, rid)
            _reporting(principal, r, uow)
            allowed.add(key)
        moved, applied = position_applied(r, lat, lon, time, r.version + 1)
        if applied:
            current[rid] = moved
            events.append(position_event(moved, now, link=links.get(rid),
                                         speed_kmh=f.speed_kmh, heading=f.heading))
    uow.resources.store_versions([(stored[rid], r) for rid, r in current.items()
                                  if r is not stored[rid]])
    return uow.record_many(events)


def _apply_unit(body: Position | Status, r: Resource, link: Any, now: datetime
                ) -> tuple[Event | None, Resource, str | None]:
    """(event or None, the unit after, why ignored)."""
    if isinstance(body, Position):
        moved, applied = apply_position(r, body.lat, body.lon, body.time, r.version + 1)
        if not applied:
            return None, r, "older"
        return (position_event(moved, now, link=link, speed_kmh=body.speed_kmh,
                               heading=body.heading), moved, None)
    changed, applied = apply_status(r, body.status, body.time)
    if not applied:
        older = r.status_time is not None and body.time < r.status_time
        return None, r, "older" if older else "unchanged"
    changed = replace(changed, version=r.version + 1)
    extra: dict[str, Any] = {"note": body.note} if body.note else {}
    return resource_event("resource.status", changed, now, link=link, **extra), changed, None
