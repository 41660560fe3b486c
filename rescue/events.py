"""The event log: the unit of history.

Every state change appends an event in the same transaction as the change. Live push, resume
and replay all read this log, so events are frozen and carry enough payload to rebuild state.
`seq` is global and monotonic, and allocated in commit order (see SqlEventLog.append).
"""

from __future__ import annotations

import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, text

from rescue import tables


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Event:
    type: str
    area: str
    payload: Mapping[str, Any]
    time: datetime
    exercise: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    seq: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "id": self.id,
            "time": iso(self.time),
            "type": self.type,
            "area": self.area,
            "exercise": self.exercise,
            "payload": dict(self.payload),
        }


@dataclass(frozen=True)
class EventQuery:
    """Which events a reader may see: after a seq, inside an area scope, live or one exercise."""

    after: int = 0
    limit: int = 100
    area_prefix: str | None = None
    exercise: str | None = None
    all_exercises: bool = False
    types_prefix: str | None = None
    until: int | None = None


class EventLog(ABC):
    @abstractmethod
    def append(self, event: Event) -> Event:
        """Store the event and return it with its seq."""

    @abstractmethod
    def read(self, query: EventQuery) -> list[Event]:
        """Events matching the query, in seq order."""

    @abstractmethod
    def last_seq(self) -> int: ...


class InMemoryEventLog(EventLog):
    def __init__(self) -> None:
        self._events: list[Event] = []
        self._lock = threading.Lock()

    def append(self, event: Event) -> Event:
        with self._lock:
            stored = replace(event, seq=len(self._events) + 1)
            self._events.append(stored)
            return stored

    def read(self, query: EventQuery) -> list[Event]:
        out = []
        for ev in self._events[query.after:]:
            if _matches(ev, query):
                out.append(ev)
                if len(out) >= query.limit:
                    break
        return out

    def last_seq(self) -> int:
        return len(self._events)


def _matches(ev: Event, q: EventQuery) -> bool:
    if q.until is not None and ev.seq > q.until:
        return False
    if q.area_prefix and not ev.area.startswith(q.area_prefix):
        return False
    if not q.all_exercises and ev.exercise != q.exercise:
        return False
    return not (q.types_prefix and not ev.type.startswith(q.types_prefix))


class SqlEventLog(EventLog):
    """Works inside the caller's transaction; the unit of work commits."""

    # Any constant: serialises seq allocation with commit order on PostgreSQL, so a reader that
    # has seen seq n can never later find a smaller seq committed (no gaps on resume).
    _PG_LOCK_KEY = 7_301_330_3

    def __init__(self, connection: Connection) -> None:
        self.conn = connection

    def append(self, event: Event) -> Event:
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": self._PG_LOCK_KEY})
        result = self.conn.execute(
            insert(tables.events).values(
                id=event.id, time=event.time, type=event.type, area=event.area,
                exercise=event.exercise, payload=dict(event.payload),
            )
        )
        return replace(event, seq=int(result.inserted_primary_key[0]))

    def read(self, query: EventQuery) -> list[Event]:
        t = tables.events
        stmt = select(t).where(t.c.seq > query.after).order_by(t.c.seq).limit(query.limit)
        if query.area_prefix:
            stmt = stmt.where(t.c.area.startswith(query.area_prefix, autoescape=True))
        if not query.all_exercises:
            stmt = stmt.where(
                t.c.exercise.is_(None) if query.exercise is None else t.c.exercise == query.exercise
            )
        if query.types_prefix:
            stmt = stmt.where(t.c.type.startswith(query.types_prefix, autoescape=True))
        if query.until is not None:
            stmt = stmt.where(t.c.seq <= query.until)
        return [
            Event(seq=r.seq, id=r.id, time=_aware(r.time), type=r.type, area=r.area,
                  exercise=r.exercise, payload=r.payload)
            for r in self.conn.execute(stmt)
        ]

    def last_seq(self) -> int:
        return int(self.conn.execute(select(func.coalesce(func.max(tables.events.c.seq), 0))).scalar())


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)
