"""Directives (DESIGN §13): a centre orders units or a subordinate centre, and sees the answers.

Who may direct whom: a centre whose scope covers the unit's owning area, or the area of the
incident the unit works on (a unit on mutual aid takes orders from the centre leading that
incident and from its own, and both see every directive); a centre may direct the centres
below it. Every directive and answer is an event concerning the incident's area, the issuer's
area and each recipient's areas, so the issuer, the centres above it and the recipients' own
centres all see it, live and on resume; the units addressed receive it on `/field`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from geo.areas import AreaIndex
from realtime.visibility import Viewer
from rescue.auth import Forbidden, Principal
from rescue.directives import (
    ANSWERS,
    DEFAULT_DEADLINE_S,
    Directive,
    Recipient,
    deadline_after,
)
from rescue.events import Event
from rescue.incidents import Incident
from rescue.services.common import (
    first_answer,
    lat_lon,
    nonblank_text,
    refuse_unknown,
    require_trainee,
    viewer_of,
)
from rescue.services.incidents import readable_incident
from rescue.services.messages import author
from rescue.uow import UnitOfWork
from resources.errors import Conflict, NotFound, ValidationError
from resources.fields import check_text
from resources.model import format_time

MAX_TEXT = 2000
MAX_REASON = 500
MAX_RECIPIENTS = 100
MAX_DEADLINE_S = 7 * 24 * 3600
# The time now on the clock of an exercise (None: live, the wall clock).
Clock = Callable[[str | None], datetime]


@dataclass(frozen=True)
class Answered:
    """What became of an answer: the §6 ack, and the directive as it now stands."""

    directive: Directive
    seq: int | None
    duplicate: bool = False
    ignored: str | None = None

    def ack(self, now: datetime) -> dict[str, Any]:
        return {"ok": True, "seq": self.seq, "duplicate": self.duplicate,
                "ignored": self.ignored, "state": self.directive.state(now)}


# ----------------------------------------------------------------------------- issuing


def _deadline_s(value: Any) -> int:
    if value is None:
        return DEFAULT_DEADLINE_S
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) \
            or not 1 <= value <= MAX_DEADLINE_S:
        raise ValidationError("deadline_s", f"must be whole seconds from 1 to {MAX_DEADLINE_S}")
    return value


def _target(to: Any) -> tuple[str, Any]:
    if not isinstance(to, dict):
        raise ValidationError("to", 'must be {"resources": [ID, ...]} or {"area": CODE}')
    refuse_unknown(to, {"resources", "area"}, "to.")
    if ("resources" in to) == ("area" in to):
        raise ValidationError("to", 'name either "resources" or "area"')
    if "area" in to:
        return "area", check_text(to["area"], "to.area", maximum=32, minimum=1)
    ids = to["resources"]
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_RECIPIENTS:
        raise ValidationError("to.resources", f"must list 1 to {MAX_RECIPIENTS} unit ids")
    out: list[str] = []
    for i, rid in enumerate(ids):
        rid = check_text(rid, f"to.resources[{i}]", maximum=64, minimum=1)
        if rid in out:
            raise ValidationError(f"to.resources[{i}]", "names a unit twice")
        out.append(rid)
    return "resources", out


def _ordered(*groups: Any) -> tuple[str, ...]:
    out: list[str] = []
    for g in groups:
        for a in (g,) if isinstance(g, str) or g is None else g:
            if a and a not in out:
                out.append(a)
    return tuple(out)


def _to_units(uow: UnitOfWork, principal: Principal, ids: list[str], inc: Incident | None
              ) -> tuple[tuple[Recipient, ...], tuple[str, ...], str | None]:
    """The unit recipients, the areas they concern, and their exercise; 404 for a unit the
    caller may not direct (as for one that does not exist: no leak of what is elsewhere)."""
    found = uow.resources.get_many(ids)
    links = uow.links.get_many(ids)
    areas: list[str] = []
    exercises = set()
    for i, rid in enumerate(ids):
        r = found.get(rid)
        link = links.get(rid)
        if r is None or not (principal.covers_area(r.area)
                             or (link is not None and principal.covers_area(link.incident_area))):
            raise NotFound(f"no unit {rid!r} you may direct", field=f"to.resources[{i}]")
        areas.extend(a for a in (r.area, link.incident_area if link else None) if a)
        exercises.add(r.exercise)
    if len(exercises) > 1:
        raise ValidationError("to.resources", "mixes units of different exercises")
    exercise = exercises.pop()
    if inc is not None and inc.exercise != exercise:
        raise ValidationError("incident", "belongs to another exercise than the units")
    return tuple(Recipient("unit", rid) for rid in ids), tuple(areas), exercise


def _to_area(principal: Principal, code: str, areas: AreaIndex, inc: Incident | None
             ) -> tuple[tuple[Recipient, ...], tuple[str, ...], str | None]:
    if areas.get(code) is None:
        raise NotFound(f"no centre for area code {code!r}", field="to.area")
    if not principal.covers_area(code) or code == principal.area:
        raise Forbidden(f"area {code} is not a centre below yours")
    return (Recipient("area", code),), (code,), inc.exercise if inc else None


def issue_directive(uow: UnitOfWork, principal: Principal, data: dict[str, Any],
                    areas: AreaIndex, clock: Clock, message_id: str | None = None
                    ) -> tuple[Directive, bool]:
    """Issue a directive; returns (it, whether this was a resend answered as the first time).
    Its time and deadline are on the clock of its exercise (the wall clock when live)."""
    principal.require("operator", "trainer")
    refuse_unknown(data, {"id", "to", "text", "incident", "lat", "lon", "deadline_s"})
    kind, target = _target(data.get("to"))
    text = nonblank_text(data.get("text"), "text", MAX_TEXT)
    seconds = _deadline_s(data.get("deadline_s"))
    point = lat_lon(data) if "lat" in data or "lon" in data else (None, None)
    incident_id = data.get("incident")
    if incident_id is not None:
        incident_id = check_text(incident_id, "incident", maximum=40, minimum=1)
    with uow:
        first = first_answer(uow, principal, message_id)
        if first is not None and first.seq is not None:
            stored = uow.directives.by_seq(first.seq)
            if stored is None:
                raise ValidationError("id", "was already used for another message")
            return stored, True
        inc = None
        if incident_id is not None:
            inc = readable_incident(principal, uow.incidents.get(incident_id), incident_id)
        if kind == "area":
            recipients, concerned, exercise = _to_area(principal, target, areas, inc)
        else:
            recipients, concerned, exercise = _to_units(uow, principal, target, inc)
        if principal.role == "trainer" and exercise is None:
            raise Forbidden("trainers direct exercise units and incidents only")
        require_trainee(principal, exercise, uow)
        now = clock(exercise)
        d = Directive(
            id="dir-" + uuid.uuid4().hex[:12], text=text, issuer=author(principal, areas),
            recipients=recipients, issued=now, deadline=deadline_after(now, seconds),
            areas=_ordered(inc.area if inc else None, concerned, principal.area),
            units=tuple(r.id for r in recipients if r.kind == "unit"),
            category=inc.category if inc else None, exercise=exercise,
            incident=inc.id if inc else None, lat=point[0], lon=point[1])
        ev = uow.record(_event("directive.issued", d, now))
        d = replace(d, seq=ev.seq)
        uow.directives.add(d)
        if message_id is not None:
            uow.remember_messages([(principal.source, message_id, ev.seq, None)], now)
        uow.commit()
    return d, False


def _event(type_: str, d: Directive, now: datetime, **extra: Any) -> Event:
    """Every event of a directive concerns what the directive concerns."""
    return Event(type=type_, area=d.area, exercise=d.exercise, time=now,
                 payload={"directive": d.to_dict(now), **extra}, areas=d.areas, units=d.units,
                 category=d.category)


# ----------------------------------------------------------------------------- reading


def readable_directive(principal: Principal, d: Directive | None, directive_id: str
                       ) -> Directive:
    """The directive if the caller sees it, by the events' own rule; 404 otherwise."""
    if d is None or not viewer_of(principal, d.exercise).sees(d.scope()):
        raise NotFound(f"no directive {directive_id!r} in your scope", field="id")
    return d


def list_directives(uow: UnitOfWork, viewer: Viewer, now: datetime, state: str | None,
                    incident: str | None, limit: int) -> list[Directive]:
    """The board: what the viewer sees, overdue first, then by time of issue."""
    with uow:
        items = uow.directives.query(viewer, now, state, incident, limit)
    return sorted(items, key=lambda d: (d.state(now) != "overdue", d.seq or 0))


def open_for(uow: UnitOfWork, principal: Principal, exercise: str | None) -> list[Directive]:
    """The open directives addressed to this unit or to this centre (sent first when it
    connects, before any backlog)."""
    if principal.role == "field":
        key = f"unit:{principal.resource_id}"
    elif principal.area is not None:
        key = f"area:{principal.area}"
    else:
        return []
    with uow:
        return uow.directives.addressed_to(key, exercise)


# ----------------------------------------------------------------------------- answering


def parse_answer(data: Any, *, socket: bool = False) -> tuple[str, str | None, str | None]:
    """(state, reason, recipient) from an answer body; `socket` bodies also carry the
    directive's id and the client's message id."""
    if not isinstance(data, dict):
        raise ValidationError("body", "expected a JSON object")
    allowed = {"id", "state", "reason", "recipient"} | ({"directive"} if socket else set())
    refuse_unknown(data, allowed)
    state = data.get("state")
    if state not in ANSWERS:
        raise ValidationError("state", f"must be one of {', '.join(ANSWERS)}")
    reason = data.get("reason")
    if reason is not None:
        reason = nonblank_text(reason, "reason", MAX_REASON)
    elif state == "unable":
        raise ValidationError("reason", "is required when unable")
    recipient = data.get("recipient")
    if recipient is not None:
        recipient = check_text(recipient, "recipient", maximum=80, minimum=1)
    return state, reason, recipient


def _recipient_key(uow: UnitOfWork, principal: Principal, d: Directive,
                   asked: str | None) -> str:
    """Whom the caller answers for: a unit for itself; a centre for itself, or (recording
    an answer heard by radio) for a unit it may direct."""
    if principal.role == "field":
        key = f"unit:{principal.resource_id}"
        if asked not in (None, key, principal.resource_id):
            raise Forbidden("a unit answers for itself only")
        return key
    if asked is None:
        own = f"area:{principal.area}"
        if principal.area is not None and d.recipient(own) is not None:
            return own
        areas = [r for r in d.recipients if r.kind == "area"]
        if principal.role == "admin" and len(d.recipients) == 1 and areas:
            return areas[0].key
        raise ValidationError("recipient", "name the recipient you answer for "
                              "(unit:ID or the unit's id)")
    key = asked if ":" in asked else f"unit:{asked}"
    r = d.recipient(key)
    if r is None:
        raise ValidationError("recipient", f"{asked!r} is not a recipient of {d.id}")
    if r.kind == "area":
        if principal.role != "admin" and principal.area != r.id:
            raise Forbidden(f"only the centre of area {r.id} answers for it")
        return key
    unit = uow.resources.get(r.id)
    link = uow.links.get(r.id)
    if unit is None or not (principal.covers_area(unit.area) or (
            link is not None and principal.covers_area(link.incident_area))):
        raise Forbidden(f"you may not answer for unit {r.id}")
    return key


def answer_directive(uow: UnitOfWork, principal: Principal, directive_id: str,
                     data: dict[str, Any], clock: Clock,
                     message_id: str | None = None, *, socket: bool = False) -> Answered:
    state, reason, asked = parse_answer(data, socket=socket)
    with uow:
        d = readable_directive(principal, uow.directives.get(directive_id, for_update=True),
                               directive_id)
        first = first_answer(uow, principal, message_id)
        if first is not None:
            return Answered(d, first.seq, duplicate=True, ignored=first.outcome)
        key = _recipient_key(uow, principal, d, asked)
        if principal.role != "field":
            principal.require("operator", "trainer")
            require_trainee(principal, d.exercise, uow)
        if d.cancelled is not None:
            raise Conflict(f"directive {d.id} was cancelled", field="id", code="cancelled")
        at = clock(d.exercise)
        new = d.answer(key, state, at, reason, principal.label)
        if new is None:
            if message_id is not None:
                uow.remember_messages([(principal.source, message_id, None, "older")], at)
                uow.commit()
            return Answered(d, None, ignored="older")
        answer = {"recipient": key, "state": state, "reason": reason, "by": principal.label,
                  "time": format_time(at)}
        ev = uow.record(_event("directive.answered", new, at, answer=answer))
        uow.directives.save(new)
        if message_id is not None:
            uow.remember_messages([(principal.source, message_id, ev.seq, None)], at)
        uow.commit()
    return Answered(new, ev.seq)


def cancel_directive(uow: UnitOfWork, principal: Principal, directive_id: str,
                     clock: Clock) -> Directive:
    """Withdrawn by the issuing centre or one above it: closed, and everyone told."""
    principal.require("operator", "trainer")
    with uow:
        d = readable_directive(principal, uow.directives.get(directive_id, for_update=True),
                               directive_id)
        if not principal.covers_area(d.issuer_area) and principal.role != "admin":
            raise Forbidden("only the issuing centre or one above it cancels a directive")
        require_trainee(principal, d.exercise, uow)
        if d.closed:
            raise Conflict(f"directive {d.id} is already closed", field="id", code="closed")
        at = clock(d.exercise)
        new = replace(d, cancelled=at, cancelled_by=principal.label)
        uow.record(_event("directive.cancelled", new, at))
        uow.directives.save(new)
        uow.commit()
    return new


# ----------------------------------------------------------------------------- deadlines


def announce_overdue(uow_factory: Callable[[], UnitOfWork], clock: Clock) -> int:
    """Record `directive.overdue` for each directive whose deadline passed without every
    acceptance, once: each in its own transaction, holding the row, so that two servers
    watching at once announce it once and never over an answer that just came in."""
    with uow_factory() as uow:
        due = uow.directives.due(clock(None))
    announced = 0
    for candidate in due:
        if not candidate.late(clock(candidate.exercise)):
            continue  # an exercise's, whose clock has not reached it yet
        with uow_factory() as uow:
            d = uow.directives.get(candidate.id, for_update=True)
            at = clock(candidate.exercise)
            late = d.late(at) if d is not None else ()
            if d is None or d.overdue_seq is not None or not late:
                continue
            ev = uow.record(_event("directive.overdue", d, at,
                                   late=[r.key for r in late]))
            uow.directives.save(replace(d, overdue_seq=ev.seq))
            uow.commit()
            announced += 1
    return announced
