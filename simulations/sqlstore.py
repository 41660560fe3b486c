"""Where an exercise with trainees in the loop keeps its state: the shared database itself.

Trainees act through the same HTTP API and console as on a live day, on the exercise's rows,
so the engine cannot keep the exercise in memory as automatic runs do: it writes through SQL
units of work like any other client, keeps its own spatial index of the exercise's units fed
by its commits and by what it reads back, and reads the exercise's log for what the trainees
did (the events it did not write itself).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rescue.context import IndexFeed
from rescue.events import Event, EventQuery
from rescue.incidents import Incident
from rescue.uow import SqlUnitOfWork, UnitOfWork
from resources.model import Resource
from resources.repository import ResourceFilter
from resources.spatial import ResourceIndex
from simulations.store import Ids

if TYPE_CHECKING:
    from rescue.context import RescueContext


class SqlStore:
    def __init__(self, ctx: RescueContext, exercise: str) -> None:
        self.ctx = ctx
        self.exercise = exercise
        self.ids = Ids(exercise)
        self.feed = IndexFeed(ctx.vocab)
        self.total_events = 0
        self.cursor = 0  # the exercise's log, read up to here
        self._mine: set[str] = set()  # ids of the events this engine wrote, not yet read back

    def uow(self) -> UnitOfWork:
        return SqlUnitOfWork(self.ctx.engine, on_commit=self._committed)

    def _committed(self, events: list[Event]) -> None:
        self.feed.apply_events(events)
        self.total_events += len(events)
        self._mine.update(e.id for e in events)
        last = events[-1].seq
        if last is not None:
            self.ctx.doorbell.ring(last)  # servers push it now, not at their next look

    @property
    def index(self) -> ResourceIndex:
        return self.feed.index

    def resource(self, rid: str) -> Resource:
        with self.ctx.uow(readonly=True) as uow:
            r = uow.resources.get(rid)
        assert r is not None, rid
        return r

    def incident(self, iid: str) -> Incident:
        with self.ctx.uow(readonly=True) as uow:
            inc = uow.incidents.get(iid)
        assert inc is not None, iid
        return inc

    def units(self) -> list[Resource]:
        with self.ctx.uow(readonly=True) as uow:
            return uow.resources.list(ResourceFilter(exercise=self.exercise, limit=None))

    def flush(self, writer: Any, *, wait: bool = False) -> int:
        """Everything is written as it happens."""
        return 0

    def others(self) -> list[dict[str, Any]]:
        """The exercise's events since the last call that this engine did not write: what the
        trainees did. They reach the engine's index too."""
        out: list[dict[str, Any]] = []
        while True:
            with self.ctx.uow(readonly=True) as uow:
                page = uow.events.read_dicts(EventQuery(after=self.cursor, limit=1000,
                                                        exercise=self.exercise))
            if not page:
                return out
            self.cursor = page[-1]["seq"]
            theirs = [e for e in page if e["id"] not in self._mine]
            self._mine.difference_update(e["id"] for e in page)
            if theirs:
                self.feed.apply(theirs)
                out.extend(theirs)
