"""Where a simulation keeps its state while it runs, and how it lands in the shared database.

An automatic run keeps everything in memory (the in-memory repositories behind the same unit
of work the HTTP handlers use) with its own spatial index fed by its commits, so a 24-hour
typhoon takes seconds, not the hours a database round trip per event would. Every so often,
and at the end, the new events (with their ids) and the rows they touched are written to the
database in one transaction, where `GET /events?exercise=`, replays and reports read them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import delete, insert

from rescue import tables
from rescue.context import IndexFeed
from rescue.events import Event
from rescue.incident_repo import _row as incident_row
from rescue.incidents import Incident
from rescue.uow import InMemoryStore, InMemoryUnitOfWork, SqlUnitOfWork, UnitOfWork
from resources import tables as resource_tables
from resources.model import Resource
from resources.repository import ResourceFilter
from resources.spatial import ResourceIndex
from resources.sql import _row_values as resource_row
from resources.vocabulary import Vocabulary

INCIDENT_OF = re.compile(r"^(ex-[0-9a-f]{10})-i\d+$")


def exercise_of(incident_id: str) -> str | None:
    """The exercise an incident id was made in (`Ids`), if it looks like one."""
    m = INCIDENT_OF.match(incident_id)
    return m.group(1) if m else None


class Ids:
    """Ids inside an exercise: its id and a counter, so that two runs differ only by it."""

    def __init__(self, exercise: str) -> None:
        self.exercise = exercise
        self._n: dict[str, int] = {}

    def next(self, kind: str) -> str:
        n = self._n.get(kind, 0) + 1
        self._n[kind] = n
        return f"{self.exercise}-{kind}{n}"

    def event(self) -> str:
        return self.next("e")

    def incident(self) -> str:
        return self.next("i")


class MemoryStore:
    def __init__(self, exercise: str, vocab: Vocabulary) -> None:
        self.exercise = exercise
        self.ids = Ids(exercise)
        self.data = InMemoryStore()
        self.feed = IndexFeed(vocab)
        self.unflushed: list[Event] = []
        self.total_events = 0

    def uow(self) -> UnitOfWork:
        return InMemoryUnitOfWork(self.data, on_commit=self._committed, event_ids=self.ids.event)

    def _committed(self, events: list[Event]) -> None:
        self.feed.apply_events(events)
        self.unflushed.extend(events)
        self.total_events += len(events)

    def units(self) -> list[Resource]:
        """The exercise's units (its copies), by id."""
        return self.data.resources.list(ResourceFilter(exercise=self.exercise, limit=None))

    def others(self) -> list[dict[str, Any]]:
        """Events written by anyone but the engine: none, in memory."""
        return []

    @property
    def index(self) -> ResourceIndex:
        return self.feed.index

    def resource(self, rid: str) -> Resource:
        r = self.data.resources.get(rid)
        assert r is not None, rid
        return r

    def incident(self, iid: str) -> Incident:
        inc = self.data.incidents.get(iid)
        assert inc is not None, iid
        return inc

    def flush(self, writer: Callable[[], UnitOfWork]) -> int:
        """Write what changed since the last flush (from the engine's own thread); returns the
        number of events written."""
        events, self.unflushed = self.unflushed, []
        if not events:
            return 0
        units, incidents = touched(events)
        uow = writer()
        assert isinstance(uow, SqlUnitOfWork)
        with uow:
            assert uow.conn is not None
            write_rows(uow.conn, [r for r in (self.data.resources.get(u) for u in sorted(units))
                                  if r is not None],
                       [i for i in (self.data.incidents.get(x) for x in sorted(incidents))
                        if i is not None],
                       self.data.links.get_many(units), units)
            for i in range(0, len(events), 5000):
                uow.record_many(events[i:i + 5000])  # the database gives them its own seqs
            uow.commit()
        # Flushed events live in the database now (replays and reports read them there).
        self.data.events.forget(events[-1].seq or 0)
        return len(events)


def touched(events: Iterable[Event]) -> tuple[set[str], set[str]]:
    units: set[str] = set()
    incidents: set[str] = set()
    for ev in events:
        units.update(ev.units)
        p = ev.payload
        if "resource" in p:
            units.add(p["resource"]["id"])
        elif ev.type == "resource.position":
            units.add(p["id"])
        if "incident" in p:
            incidents.add(p["incident"]["id"])
        elif "incident_id" in p:
            incidents.add(p["incident_id"])
    return units, incidents


def write_rows(conn: Any, resources: list[Resource], incidents: list[Incident],
               links: dict[str, Any], units: set[str]) -> None:
    """Replace these exercise rows with their current state (the exercise owns them)."""
    rt, it, lt = resource_tables.resources, tables.incidents, tables.unit_assignments
    ids = [r.id for r in resources]
    for i in range(0, len(ids), 500):
        conn.execute(delete(rt).where(rt.c.id.in_(ids[i:i + 500])))
    for i in range(0, len(resources), 1000):
        conn.execute(insert(rt), [resource_row(r) for r in resources[i:i + 1000]])
    iids = [x.id for x in incidents]
    for i in range(0, len(iids), 500):
        conn.execute(delete(it).where(it.c.id.in_(iids[i:i + 500])))
    if incidents:
        conn.execute(insert(it), [incident_row(x) for x in incidents])
    uids = sorted(units)
    for i in range(0, len(uids), 500):
        conn.execute(delete(lt).where(lt.c.resource_id.in_(uids[i:i + 500])))
    if links:
        conn.execute(insert(lt), [{"resource_id": k, "incident_id": v.incident_id,
                                   "incident_area": v.incident_area, "category": v.category,
                                   "exercise": v.exercise} for k, v in sorted(links.items())])
