"""Replays (DESIGN §11): a recorded slice of the log and one shared clock that says where it
stands. Every server serves its own joined clients from the row (simulations.playback), so a
pause, seek or speed change made through any server reaches every viewer.

The clock is an anchor, not a ticking value: playing at speed x, the replayed moment is
`anchor_time + (wall - anchor_wall) * x`, clamped to the slice; paused, it is `anchor_time`;
as fast as possible, it is as far as the viewers got (`reached_time`). A seek bumps
`generation`, which tells every server to rebuild its viewers' picture at the new moment.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from rescue import tables
from rescue.auth import Principal
from rescue.db import writing
from rescue.events import iso
from resources.errors import Conflict, NotFound, ValidationError

PREFIX = "rp-"
STATES = ("paused", "playing", "ended")


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def new_replay_id() -> str:
    return PREFIX + uuid.uuid4().hex[:10]


@dataclass(frozen=True)
class Replay:
    id: str
    owner: str
    source: Mapping[str, Any]
    exercise: str | None
    area: str
    seq_from: int
    seq_to: int
    time_from: datetime
    time_to: datetime
    state: str
    speed: float | None
    anchor_wall: datetime
    anchor_time: datetime
    generation: int
    reached_time: datetime | None
    created: datetime
    updated: datetime
    prepare_job: str | None = None

    def position(self, wall: datetime) -> datetime:
        """The replayed moment at this wall time."""
        if self.state != "playing":
            return self.anchor_time
        if self.speed is None:
            return max(self.anchor_time, self.reached_time or self.anchor_time)
        at = self.anchor_time + (wall - self.anchor_wall) * self.speed
        return min(max(at, self.time_from), self.time_to)

    def effective_state(self, wall: datetime) -> str:
        if self.state == "playing" and self.position(wall) >= self.time_to:
            return "ended"
        return self.state

    def keeps(self, event: Mapping[str, Any]) -> bool:
        """Whether an event read from the log belongs to the slice (beyond the SQL filter)."""
        units = self.source.get("units")
        if not units:
            return True
        return incident_of(event["payload"]) == self.source["incident"] \
            or any(u in units for u in event["units"])

    def status(self, wall: datetime) -> dict[str, Any]:
        """What viewers are told whenever it changes (`replay` messages)."""
        return {"id": self.id, "state": self.effective_state(wall), "speed": self.speed,
                "time": iso(self.position(wall)), "from": iso(self.time_from),
                "to": iso(self.time_to), "generation": self.generation}

    def to_dict(self, wall: datetime) -> dict[str, Any]:
        return {**self.status(wall), "owner": self.owner, "source": dict(self.source),
                "exercise": self.exercise, "area": self.area, "seq_from": self.seq_from,
                "seq_to": self.seq_to, "created": iso(self.created),
                "prepare_job": self.prepare_job,
                "join": {"namespace": "/centre", "auth": {"exercise": self.id}}}


def incident_of(payload: Mapping[str, Any]) -> str | None:
    """The incident an event is about: the incident itself, or the incident of the message,
    photo, frame or directive it carries."""
    inc = payload.get("incident")
    if isinstance(inc, Mapping):
        return inc.get("id")
    if isinstance(inc, str):
        return inc
    if isinstance(payload.get("incident_id"), str):
        return payload["incident_id"]
    for key in ("message", "media", "frame", "directive"):
        item = payload.get(key)
        if isinstance(item, Mapping):
            found = item.get("incident_id") or item.get("incident")
            return found if isinstance(found, str) else None
    return None


def can_watch(principal: Principal, r: Replay) -> bool:
    if principal.role == "admin" or r.owner == principal.label:
        return True
    return principal.role != "field" and principal.covers_area(r.area)


class ReplayStore:
    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock

    # ---------------------------------------------------------------- reading
    def get(self, replay_id: str) -> Replay:
        with self.engine.connect() as conn:
            row = conn.execute(select(tables.replays)
                               .where(tables.replays.c.id == replay_id)).mappings().first()
        if row is None:
            raise NotFound(f"no replay {replay_id!r}", field="id")
        return Replay(**{k: row[k] for k in Replay.__dataclass_fields__})

    def readable(self, principal: Principal, replay_id: str) -> Replay:
        r = self.get(replay_id)
        if not can_watch(principal, r):
            raise NotFound(f"no replay {replay_id!r} in your scope", field="id")
        return r

    def list(self, principal: Principal, limit: int = 100) -> list[Replay]:
        t = tables.replays
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).order_by(t.c.created.desc()).limit(2000)).mappings()
            items = [Replay(**{k: r[k] for k in Replay.__dataclass_fields__}) for r in rows]
        return [r for r in items if can_watch(principal, r)][:limit]

    def bounds(self, exercise: str) -> tuple[datetime | None, datetime | None]:
        """The first and last recorded times of an exercise."""
        t = tables.events
        with self.engine.connect() as conn:
            row = conn.execute(select(func.min(t.c.time), func.max(t.c.time))
                               .where(t.c.exercise == exercise)).first()
        if row is None or row[0] is None:
            return None, None
        return _aware(row[0]), _aware(row[1])

    # ---------------------------------------------------------------- creating
    def create(self, principal: Principal, source: Mapping[str, Any], exercise: str | None,
               area: str, time_from: datetime, time_to: datetime,
               speed: float | None) -> Replay:
        """A paused replay of the events between the two moments (the slice is fixed now:
        what the log gains later is not in it)."""
        if time_to < time_from:
            raise ValidationError("to", "is before from")
        seq_from, seq_to = self.seq_range(exercise, time_from, time_to)
        now = self.clock()
        rid = new_replay_id()
        with writing(self.engine) as conn:
            conn.execute(insert(tables.replays).values(
                id=rid, owner=principal.label, source=dict(source), exercise=exercise, area=area,
                seq_from=seq_from, seq_to=seq_to, time_from=time_from, time_to=time_to,
                state="paused", speed=speed, anchor_wall=now, anchor_time=time_from,
                generation=0, reached_time=None, created=now, updated=now))
        return self.get(rid)

    def seq_range(self, exercise: str | None, t0: datetime, t1: datetime) -> tuple[int, int]:
        """Events after `seq_from` and up to `seq_to` are the slice: the first at or after
        t0 starts it, the last at or before t1 ends it (seq order is the recorded order)."""
        t = tables.events
        own = t.c.exercise.is_(None) if exercise is None else t.c.exercise == exercise
        with self.engine.connect() as conn:
            first = conn.execute(select(t.c.seq).where(own, t.c.time >= t0)
                                 .order_by(t.c.time, t.c.seq).limit(1)).scalar()
            last = conn.execute(select(t.c.seq).where(own, t.c.time <= t1)
                                .order_by(t.c.time.desc(), t.c.seq.desc()).limit(1)).scalar()
            head = conn.execute(select(func.coalesce(func.max(t.c.seq), 0))).scalar() or 0
        seq_from = int(first) - 1 if first is not None else int(head)
        seq_to = int(last) if last is not None else seq_from
        return seq_from, max(seq_from, seq_to)

    def set_prepare_job(self, replay_id: str, job_id: str) -> None:
        """The job folding the replay ahead (simulations.prepare); not a clock change."""
        t = tables.replays
        with writing(self.engine) as conn:
            conn.execute(update(t).where(t.c.id == replay_id).values(prepare_job=job_id))

    # ---------------------------------------------------------------- the clock
    def _write(self, r: Replay, **values: Any) -> Replay:
        t = tables.replays
        with writing(self.engine) as conn:
            done = conn.execute(update(t).where(t.c.id == r.id, t.c.updated == r.updated)
                                .values(updated=self.clock(), **values)).rowcount
        if not done:
            raise Conflict(f"replay {r.id} changed meanwhile; try again", field="id",
                           code="changed")
        return self.get(r.id)

    def pause(self, r: Replay) -> Replay:
        now = self.clock()
        return self._write(r, state="paused", anchor_time=r.position(now), anchor_wall=now)

    def resume(self, r: Replay) -> Replay:
        now = self.clock()
        if r.effective_state(now) == "ended" or r.anchor_time >= r.time_to:
            return self.seek(replace(r, state="playing"), r.time_from, state="playing")
        if r.state == "playing":
            return r
        return self._write(r, state="playing", anchor_wall=now, reached_time=r.anchor_time)

    def seek(self, r: Replay, at: datetime, state: str | None = None) -> Replay:
        at = min(max(at, r.time_from), r.time_to)
        return self._write(r, anchor_time=at, anchor_wall=self.clock(), reached_time=at,
                           generation=r.generation + 1, state=state or r.state)

    def set_speed(self, r: Replay, speed: float | None) -> Replay:
        now = self.clock()
        here = r.position(now)
        return self._write(r, speed=speed, anchor_time=here, anchor_wall=now, reached_time=here)

    def reached(self, replay_id: str, generation: int, at: datetime) -> None:
        """As fast as possible: a server's viewers got this far (the furthest counts)."""
        t = tables.replays
        with writing(self.engine) as conn:
            conn.execute(update(t).where(
                t.c.id == replay_id, t.c.generation == generation,
                (t.c.reached_time.is_(None)) | (t.c.reached_time < at)).values(reached_time=at))


class ClockCache:
    """Replay rows as every viewer's loop asks for them: read at most every `ttl` per
    replay per process (thirty trainees watching ask once, not thirty times)."""

    def __init__(self, store: ReplayStore, ttl: timedelta = timedelta(milliseconds=100)) -> None:
        self.store = store
        self.ttl = ttl
        self._rows: dict[str, tuple[datetime, Replay | None]] = {}

    def get(self, replay_id: str, wall: datetime) -> Replay | None:
        hit = self._rows.get(replay_id)
        if hit is not None and wall - hit[0] < self.ttl:
            return hit[1]
        try:
            row: Replay | None = self.store.get(replay_id)
        except NotFound:
            row = None
        self._rows[replay_id] = (wall, row)
        if len(self._rows) > 1000:
            self._rows.pop(next(iter(self._rows)))
        return row
