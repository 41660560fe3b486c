"""Exercise rows: who ran what, in which state, how far. Shared by every server and worker.

A run is alive while its heartbeat is fresh: a worker killed mid-run (kill -9, lost machine)
stops beating, and the next read marks the exercise failed instead of running forever.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select, update

from rescue import tables
from rescue.auth import Principal
from rescue.db import writing
from rescue.events import iso
from resources.errors import Conflict, NotFound
from simulations.scenario import Scenario

ACTIVE = frozenset({"queued", "running"})
HEARTBEAT_S = 5.0
STALE_AFTER = timedelta(seconds=60)


def new_exercise_id() -> str:
    return "ex-" + uuid.uuid4().hex[:10]


@dataclass(frozen=True)
class Exercise:
    id: str
    scenario: str
    scenario_text: str
    seed: int
    scale: float
    mode: str
    speed: float | None
    owner: str
    area: str | None
    state: str
    progress: float
    sim_time: datetime | None
    message: str | None
    error: Any
    job_id: str | None
    parent: str | None
    summary: Any
    created: datetime
    updated: datetime
    fork: Any = None
    trainees: Any = None
    clock_wall: datetime | None = None
    clock_sim: datetime | None = None

    def now(self, wall: datetime) -> datetime | None:
        """The exercise's own clock while it runs in (scaled) real time, else None."""
        if self.state != "running" or self.clock_wall is None or self.clock_sim is None:
            return None
        return self.clock_sim + (wall - self.clock_wall) * (self.speed or 1.0)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "scenario": self.scenario, "seed": self.seed, "scale": self.scale,
                "mode": self.mode,
                "speed": self.speed, "owner": self.owner, "area": self.area,
                "state": self.state, "progress": round(self.progress, 4),
                "sim_time": iso(self.sim_time) if self.sim_time else None,
                "message": self.message, "error": self.error, "job_id": self.job_id,
                "parent": self.parent, "summary": self.summary, "fork": self.fork,
                "trainees": list(self.trainees or ()),
                "clock": ({"wall": iso(self.clock_wall), "sim": iso(self.clock_sim),
                           "speed": self.speed or 1.0}
                          if self.state == "running" and self.clock_wall and self.clock_sim
                          else None),
                "join": {"namespace": "/centre", "auth": {"exercise": self.id},
                         "console": f"/?exercise={self.id}"},
                "created": iso(self.created), "updated": iso(self.updated),
                "report": f"/api/v1/exercises/{self.id}/report"}


class ExerciseStore:
    def __init__(self, engine: Engine, clock: Callable[[], datetime],
                 stale_after: timedelta | None = None) -> None:
        self.engine = engine
        self.clock = clock
        # RESCUE_EXERCISE_STALE_S: how long without a heartbeat before a run counts as dead.
        self.stale_after = stale_after or timedelta(
            seconds=float(os.environ.get("RESCUE_EXERCISE_STALE_S", STALE_AFTER.total_seconds())))

    def create(self, principal: Principal, scenario: Scenario, *, mode: str = "auto",
               speed: float | None = None, scale: float = 1.0, exercise_id: str | None = None,
               parent: str | None = None, state: str = "queued",
               fork: dict[str, Any] | None = None) -> Exercise:
        now = self.clock()
        eid = exercise_id or new_exercise_id()
        with writing(self.engine) as conn:
            if conn.execute(select(tables.exercises.c.id)
                            .where(tables.exercises.c.id == eid)).first() is not None:
                raise Conflict(f"exercise {eid} already exists", field="id", code="exists")
            conn.execute(insert(tables.exercises).values(
                id=eid, scenario=scenario.name, scenario_text=scenario.text, seed=scenario.seed,
                scale=scale, mode=mode, speed=speed, owner=principal.label, area=scenario.area,
                state=state, progress=0.0, message=state, parent=parent, created=now,
                updated=now, fork=fork))
        return self.get(eid)

    def _row(self, exercise_id: str) -> Exercise:
        with self.engine.connect() as conn:
            row = conn.execute(select(tables.exercises)
                               .where(tables.exercises.c.id == exercise_id)).mappings().first()
        if row is None:
            raise NotFound(f"no exercise {exercise_id!r}", field="id")
        return _exercise(row)

    def get(self, exercise_id: str) -> Exercise:
        return self._reaped(self._row(exercise_id))

    def _reaped(self, ex: Exercise) -> Exercise:
        """A running exercise whose heartbeat stopped is failed: its worker died."""
        if ex.state == "running" and self.clock() - ex.updated > self.stale_after:
            err = {"code": "died", "message": "the process running the exercise stopped "
                   f"(no heartbeat since {iso(ex.updated)})", "field": None}
            self.set(ex.id, only_if=ACTIVE, state="failed", error=err, message=err["message"])
            return self._row(ex.id)
        return ex

    def readable(self, principal: Principal, exercise_id: str) -> Exercise:
        ex = self.get(exercise_id)
        if not can_see(principal, ex):
            raise NotFound(f"no exercise {exercise_id!r} in your scope", field="id")
        return ex

    def list(self, principal: Principal, limit: int = 100) -> list[Exercise]:
        t = tables.exercises
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).order_by(t.c.created.desc()).limit(2000)).mappings()
            items = [_exercise(r) for r in rows]
        return [self._reaped(e) for e in items if can_see(principal, e)][:limit]

    def set(self, exercise_id: str, *, only_if: frozenset[str] | None = None,
            **values: Any) -> bool:
        t = tables.exercises
        stmt = update(t).where(t.c.id == exercise_id)
        if only_if is not None:
            stmt = stmt.where(t.c.state.in_(sorted(only_if)))
        with writing(self.engine) as conn:
            return conn.execute(stmt.values(updated=self.clock(), **values)).rowcount == 1

    def join(self, principal: Principal, exercise_id: str) -> Exercise:
        """An operator joins as a trainee: from now on they may act on its incidents."""
        ex = self.readable(principal, exercise_id)
        if ex.mode != "trainees":
            raise Conflict(f"exercise {ex.id} runs automatically; nobody joins it",
                           field="mode", code="not_trainees")
        if ex.state not in ACTIVE:
            raise Conflict(f"exercise {ex.id} is {ex.state}", field="state", code="not_active")
        joined = sorted({*(ex.trainees or ()), principal.label})
        self.set(ex.id, trainees=joined)
        return self.get(ex.id)

    def state(self, exercise_id: str) -> str:
        with self.engine.connect() as conn:
            return conn.execute(select(tables.exercises.c.state)
                                .where(tables.exercises.c.id == exercise_id)).scalar_one()


def _exercise(row: Any) -> Exercise:
    return Exercise(**{k: row[k] for k in Exercise.__dataclass_fields__})


def can_see(principal: Principal, ex: Exercise) -> bool:
    if principal.role == "admin" or ex.owner == principal.label:
        return True
    return principal.role != "field" and ex.area is not None and principal.covers_area(ex.area)
