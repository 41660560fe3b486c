"""Incident chat (DESIGN §13): one thread per incident for the centres that see it and the units
assigned to it. A message is a `message.posted` event scoped like the incident (its areas, its
units, its category), so it reaches exactly who works the incident, live and on resume; a
resend with the same client message id is stored once and answered as the first time.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from geo.areas import AreaIndex
from rescue.auth import Principal
from rescue.events import iso
from rescue.services.common import first_answer, nonblank_text, refuse_unknown
from rescue.services.incidents import about_incident, postable_incident, readable_incident
from rescue.uow import UnitOfWork
from resources.errors import ValidationError

MAX_TEXT = 2000
LEVELS = {1: "province", 2: "city", 3: "county", 4: "township"}


def author(principal: Principal, areas: AreaIndex) -> dict[str, Any]:
    """Who wrote it, as the thread shows it: role, level and area (or the unit)."""
    area = areas.get(principal.area) if principal.area else None
    return {"author": principal.label, "role": principal.role, "unit": principal.resource_id,
            "area": principal.area, "area_name": area.name if area else None,
            "level": LEVELS.get(area.level) if area else None}


def post_message(uow: UnitOfWork, principal: Principal, incident_id: str,
                 data: dict[str, Any], areas: AreaIndex, now: datetime,
                 message_id: str | None = None) -> tuple[dict[str, Any], bool]:
    """Post to the incident's thread; returns (the message with its seq, whether it is a
    resend answered as the first time)."""
    refuse_unknown(data, {"id", "text"})
    text = nonblank_text(data.get("text"), "text", MAX_TEXT)
    with uow:
        inc = postable_incident(uow, principal, incident_id)
        first = first_answer(uow, principal, message_id)
        if first is not None and first.seq is not None:
            stored = uow.messages.by_seq(first.seq)
            if stored is None or stored["incident_id"] != inc.id:
                raise ValidationError("id", "was already used for another message")
            return stored, True
        msg = {"id": message_id or "msg-" + uuid.uuid4().hex[:12], "incident_id": inc.id,
               "text": text, "time": iso(now), **author(principal, areas)}
        ev = uow.record(about_incident("message.posted", inc, now, {"message": msg}))
        assert ev.seq is not None
        uow.messages.add(inc.id, ev.seq, msg)
        if message_id is not None:
            uow.remember_messages([(principal.source, message_id, ev.seq, None)], now)
        uow.commit()
    return {**msg, "seq": ev.seq}, False


def thread(uow: UnitOfWork, principal: Principal, incident_id: str, after: int = 0,
           limit: int = 200) -> list[dict[str, Any]]:
    with uow:
        inc = readable_incident(principal, uow.incidents.get(incident_id), incident_id)
        return uow.messages.thread(inc.id, after, limit)
