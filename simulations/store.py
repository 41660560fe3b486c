"""Where a simulation keeps its state while it runs, and how it lands in the shared database.

An automatic run keeps everything in memory (the in-memory repositories behind the same unit
of work the HTTP handlers use) with its own spatial index fed by its commits, so a 24-hour
typhoon takes seconds, not the hours a database round trip per event would. Every so often,
and at the end, the new events (with their ids) and the rows they touched are written to the
database in one transaction, where `GET /events?exercise=`, replays and reports read them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from rescue.context import CountyGrouper, IndexFeed, ReachZoner
from rescue.events import Event
from rescue.incidents import Incident
from rescue.offload import start_native
from rescue.uow import InMemoryStore, InMemoryUnitOfWork, UnitOfWork
from resources.model import Resource
from resources.repository import ResourceFilter
from resources.spatial import ResourceIndex
from resources.spatial_trees import Job
from resources.vocabulary import Vocabulary
from simulations.flushing import prepare, touched, write

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
    def __init__(self, exercise: str, vocab: Vocabulary, geography: Any = None) -> None:
        self.exercise = exercise
        self.ids = Ids(exercise)
        self.data = InMemoryStore()
        # Zoned and grouped like the served index (the dispatcher counts the units an island
        # or sea incident cannot use instead of reading them), built inline: no builder
        # thread, so a run's timing never shapes it.
        self.feed = IndexFeed(vocab) if geography is None else IndexFeed(
            vocab, zoner=ReachZoner(lambda: geography),
            grouper=CountyGrouper(lambda: geography))
        self.unflushed: list[Event] = []
        self.total_events = 0
        self._writing: Job | None = None  # the flush being written (`flush`)

    def uow(self) -> UnitOfWork:
        return InMemoryUnitOfWork(self.data, on_commit=self._committed, event_ids=self.ids.event)

    def _committed(self, events: list[Event]) -> None:
        self.feed.apply_events(events, self.data.resources.get)
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

    def flush(self, writer: Callable[[], UnitOfWork], *, wait: bool = False) -> int:
        """Hand what changed since the last flush to a writer thread and go on; returns the
        number of events handed over. The previous hand-off is written first (flushes land
        in order; its error, if any, is raised here); `wait`: return once this one is written.
        Why a thread: on SQLite the write of a 10,000-unit run (a quarter of its time) then
        overlaps the engine on a second core (simulations/flushing.py)."""
        self.wait_written()
        events, self.unflushed = self.unflushed, []
        if events:
            units, incidents = touched(events)
            uow = writer()
            flush = prepare(
                events,
                [r for r in (self.data.resources.get(u) for u in sorted(units)) if r is not None],
                [i for i in (self.data.incidents.get(x) for x in sorted(incidents))
                 if i is not None],
                self.data.links.get_many(units), units,
                getattr(getattr(uow, "engine", None), "dialect", None))
            # Flushed events live in the database (replays and reports read them there).
            self.data.events.forget(events[-1].seq or 0)
            if flush.bound_events is None:  # not SQLite: its driver holds the GIL a row
                write(uow, flush)
            else:
                self._writing = start_native(lambda: write(uow, flush))
        if wait:
            self.wait_written()
        return len(events)

    def wait_written(self) -> None:
        """Until the last hand-off is written; raises what its writer raised."""
        job, self._writing = self._writing, None
        if job is None:
            return
        while not job.done:
            time.sleep(0.002)  # rare: a flush takes less than the 2 s between flushes
        if job.error is not None:
            raise job.error
