"""Where directives are kept: their current state, beside the events that tell their story.

The in-memory repository serves unit tests; the SQL one answers the scoped queries of the
board (`GET /directives`) with the events' own visibility rule, and the deadline watch with
an index on (closed, deadline).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, insert, not_, or_, select, update

from realtime.visibility import Viewer
from rescue import tables
from rescue.directives import Directive
from rescue.events import joined, viewer_clause

MAX_PAGE = 500


class DirectiveRepository(ABC):
    @abstractmethod
    def add(self, d: Directive) -> None: ...

    @abstractmethod
    def save(self, d: Directive) -> None:
        """Store the directive's new state (answers, overdue, cancelled)."""

    @abstractmethod
    def get(self, directive_id: str, *, for_update: bool = False) -> Directive | None:
        """`for_update` holds the row to the end of the transaction (PostgreSQL), so two
        answers at once, or two servers' deadline watches, never overwrite each other."""

    @abstractmethod
    def by_seq(self, seq: int) -> Directive | None: ...

    @abstractmethod
    def query(self, viewer: Viewer, now: datetime, state: str | None = None,
              incident: str | None = None, limit: int = 200) -> list[Directive]:
        """What this viewer sees, in one state (or every directive not closed), oldest first."""

    @abstractmethod
    def addressed_to(self, key: str, exercise: str | None) -> list[Directive]:
        """Directives not closed with this recipient ("unit:ID" or "area:CODE")."""

    @abstractmethod
    def due(self, now: datetime, limit: int = 100) -> list[Directive]:
        """Directives still waited for whose overdue has not been announced: live ones past
        their deadline at `now`, and every such exercise directive (its clock is its own)."""


def _state_test(d: Directive, now: datetime, state: str | None) -> bool:
    s = d.state(now)
    return s != "closed" if state is None else s == state


class InMemoryDirectiveRepository(DirectiveRepository):
    def __init__(self) -> None:
        self._items: dict[str, Directive] = {}

    def add(self, d: Directive) -> None:
        self._items[d.id] = d

    def save(self, d: Directive) -> None:
        self._items[d.id] = d

    def get(self, directive_id: str, *, for_update: bool = False) -> Directive | None:
        return self._items.get(directive_id)

    def by_seq(self, seq: int) -> Directive | None:
        return next((d for d in self._items.values() if d.seq == seq), None)

    def query(self, viewer: Viewer, now: datetime, state: str | None = None,
              incident: str | None = None, limit: int = 200) -> list[Directive]:
        out = [d for d in sorted(self._items.values(), key=lambda d: d.seq or 0)
               if viewer.sees(d.scope()) and _state_test(d, now, state)
               and (incident is None or d.incident == incident)]
        return out[:limit]

    def addressed_to(self, key: str, exercise: str | None) -> list[Directive]:
        return [d for d in sorted(self._items.values(), key=lambda d: d.seq or 0)
                if d.exercise == exercise and not d.closed and d.recipient(key) is not None]

    def due(self, now: datetime, limit: int = 100) -> list[Directive]:
        return [d for d in self._items.values()
                if d.overdue_seq is None and _awaiting(d)
                and (d.exercise is not None or d.deadline <= now)][:limit]


def _awaiting(d: Directive) -> bool:
    return not d.closed and any(not r.accepted for r in d.recipients)


def _row(d: Directive) -> dict[str, Any]:
    return {"id": d.id, "seq": d.seq, "exercise": d.exercise, "incident_id": d.incident,
            "issued": d.issued, "deadline": d.deadline, "awaiting": _awaiting(d),
            "closed": d.closed, "overdue_seq": d.overdue_seq, "areas": joined(d.areas),
            "units": joined(d.units), "recipients": joined(tuple(r.key for r in d.recipients)),
            "category": d.category, "data": d.to_dict()}


class SqlDirectiveRepository(DirectiveRepository):
    def __init__(self, connection: Connection) -> None:
        self.conn = connection

    def add(self, d: Directive) -> None:
        self.conn.execute(insert(tables.directives).values(**_row(d)))

    def save(self, d: Directive) -> None:
        t = tables.directives
        self.conn.execute(update(t).where(t.c.id == d.id).values(**_row(d)))

    def _one(self, cond: Any, for_update: bool = False) -> Directive | None:
        stmt = select(tables.directives.c.data).where(cond)
        row = self.conn.execute(stmt.with_for_update() if for_update else stmt).first()
        return Directive.from_dict(row.data) if row is not None else None

    def get(self, directive_id: str, *, for_update: bool = False) -> Directive | None:
        return self._one(tables.directives.c.id == directive_id, for_update)

    def by_seq(self, seq: int) -> Directive | None:
        return self._one(tables.directives.c.seq == seq)

    def query(self, viewer: Viewer, now: datetime, state: str | None = None,
              incident: str | None = None, limit: int = 200) -> list[Directive]:
        t = tables.directives
        late = and_(t.c.awaiting, t.c.deadline <= now)
        cond = [viewer_clause(viewer, t)]
        if state == "closed":
            cond.append(t.c.closed)
        else:
            cond.append(not_(t.c.closed))
            if state == "overdue":
                cond.append(late)
            elif state == "open":
                cond.append(not_(late))
        if incident is not None:
            cond.append(t.c.incident_id == incident)
        rows = self.conn.execute(select(t.c.data).where(*cond).order_by(t.c.seq)
                                 .limit(min(limit, MAX_PAGE)))
        return [Directive.from_dict(r.data) for r in rows]

    def addressed_to(self, key: str, exercise: str | None) -> list[Directive]:
        t = tables.directives
        rows = self.conn.execute(select(t.c.data).where(
            not_(t.c.closed), t.c.recipients.contains(f" {key} ", autoescape=True),
            t.c.exercise.is_(None) if exercise is None else t.c.exercise == exercise,
        ).order_by(t.c.seq).limit(MAX_PAGE))
        return [Directive.from_dict(r.data) for r in rows]

    def due(self, now: datetime, limit: int = 100) -> list[Directive]:
        t = tables.directives
        rows = self.conn.execute(select(t.c.data).where(
            not_(t.c.closed), t.c.awaiting, t.c.overdue_seq.is_(None),
            or_(t.c.exercise.is_not(None), t.c.deadline <= now),
        ).order_by(t.c.deadline).limit(limit))
        return [Directive.from_dict(r.data) for r in rows]
