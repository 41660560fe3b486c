"""The event log: the unit of history.

Every state change appends an event in the same transaction as the change. Live push, resume
and replay all read this log, so events are frozen and carry enough payload to rebuild state.
`seq` is global and monotonic, and allocated in commit order (see SqlEventLog.append).

Besides its main `area`, an event names every area it concerns (`areas`: an incident's, and
the owning area of each unit involved), the `units` it is about, and the incident `category`
for incident business: who may see it is decided from these alone (realtime.visibility).
"""

from __future__ import annotations

import functools
import json
import os
import random
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    Insert,
    Select,
    Table,
    Text,
    and_,
    cast,
    false,
    func,
    insert,
    or_,
    select,
    text,
)

from realtime.visibility import Viewer
from rescue import tables
from rescue.db import json_text, sqlite_insert_json
from resources.fields import has_surrogate, scrub


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def new_event_id() -> str:
    """32 random hex digits. Not os.urandom (nor uuid4, built on it): its system call lets go
    of the GIL, and a thread that lets go of it for every event waits to get it back whenever
    another thread is busy (a simulation's flush thread). A generator of our own, seeded from
    the system's in each process: not the random module's shared one, which any library (or
    a test framework, per example) may seed to a fixed value, repeating ids."""
    return f"{_id_generator().getrandbits(128):032x}"


_ids: list[random.Random] = []  # the process's generator, made at first use


def _id_generator() -> random.Random:
    if not _ids:
        _ids.append(random.Random())
    return _ids[0]


# A forked child seeds its own at first use instead of repeating its parent's ids. Not
# os.getpid() at each call: a system call per event, slow where system calls are (gVisor).
os.register_at_fork(after_in_child=_ids.clear)


@dataclass(frozen=True)
class Event:
    type: str
    area: str
    payload: Mapping[str, Any]
    time: datetime
    exercise: str | None = None
    id: str = field(default_factory=lambda: new_event_id())
    seq: int | None = None
    areas: tuple[str, ...] = ()
    category: str | None = None
    units: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "areas", _areas(self.area, self.areas))
        object.__setattr__(self, "units", tuple(dict.fromkeys(self.units)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "id": self.id,
            "time": iso(self.time),
            "type": self.type,
            "area": self.area,
            "areas": list(self.areas),
            "category": self.category,
            "units": list(self.units),
            "exercise": self.exercise,
            "payload": dict(self.payload),
        }


def new_event(type: str, area: str, payload: Mapping[str, Any], time: datetime, *,
              exercise: str | None = None, areas: tuple[str, ...] = (),
              units: tuple[str, ...] = (), category: str | None = None) -> Event:
    """`Event(...)`, built directly (equal to it but for the random id, tested): a frozen
    dataclass sets each field through object.__setattr__, and a simulated day makes half a
    million position events."""
    new = object.__new__(Event)
    new.__dict__.update({
        "type": type, "area": area, "payload": payload, "time": time, "exercise": exercise,
        "id": new_event_id(), "seq": None,
        "areas": _areas(area, areas), "category": category,
        "units": units if isinstance(units, tuple) and len(units) < 2
        else tuple(dict.fromkeys(units))})
    return new


def _areas(area: str, areas: tuple[str, ...]) -> tuple[str, ...]:
    """An event's areas: the main one first; no repeats, no blanks besides a blank main one."""
    if not areas:  # the common case (a unit at home, an incident's own area)
        return (area,)
    if len(areas) == 1:  # a unit on an incident
        other = areas[0]
        return (area,) if not other or other == area else (area, other)
    return tuple(dict.fromkeys((area, *(a for a in areas if a))))


def with_fields(event: Event, **changes: Any) -> Event:
    """`replace` without re-running validation: for the seq and id a log assigns to an
    event already built (the hot path of every commit)."""
    new = object.__new__(Event)
    new.__dict__.update(event.__dict__)
    new.__dict__.update(changes)
    return new


def with_ids(events: list[Event], ids: list[str] | None) -> list[Event]:
    """The events with these ids (a runtime's), or as they are without any."""
    if ids is None:
        return events
    return [with_fields(e, id=i) for e, i in zip(events, ids, strict=True)]


@dataclass(frozen=True)
class EventQuery:
    """Which events a reader wants: after a seq, one of the areas under a prefix, what a viewer
    may see (which also fixes live or exercise), or live / one exercise / all of them."""

    after: int = 0
    limit: int = 100
    area_prefix: str | None = None
    exercise: str | None = None
    all_exercises: bool = False
    types_prefix: str | None = None
    until: int | None = None
    viewer: Viewer | None = None


class EventLog(ABC):
    @abstractmethod
    def append(self, event: Event) -> Event:
        """Store the event and return it with its seq."""

    def append_many(self, events: list[Event], *, bound: list[tuple] | None = None,
                    ids: list[str] | None = None) -> list[Event]:
        """Store events in order (one statement where the backend allows). `bound`: their rows
        as `sqlite_rows` made them beforehand (off the writing thread), where it applies.
        `ids`: the events' ids, given by the writer's runtime (a simulation's)."""
        return [self.append(e) for e in with_ids(events, ids)]

    def append_bulk(self, events: list[Event], *, bound: list[tuple] | None = None) -> int:
        """`append_many` for a writer that needs only how far the log grew: returns the last
        seq, not the events again with their seqs (a simulation's flush writes half a million,
        which it has already forgotten). At least one event."""
        last = self.append_many(events, bound=bound)[-1].seq
        assert last is not None
        return last

    @abstractmethod
    def read(self, query: EventQuery) -> list[Event]:
        """Events matching the query, in seq order."""

    @abstractmethod
    def last_seq(self) -> int: ...

    def read_dicts(self, query: EventQuery) -> list[dict[str, Any]]:
        """Events matching the query as wire dicts (`Event.to_dict`)."""
        return [e.to_dict() for e in self.read(query)]

    def head(self, until: int | None = None) -> int:
        """The last seq, or the last at or below `until`."""
        last = self.last_seq()
        return last if until is None else min(last, until)


class InMemoryEventLog(EventLog):
    def __init__(self) -> None:
        self._events: list[Event] = []
        self._base = 0  # seqs up to here were forgotten (`forget`)
        self._lock = threading.Lock()

    def append(self, event: Event) -> Event:
        with self._lock:
            stored = with_fields(event, seq=self._base + len(self._events) + 1)
            self._events.append(stored)
            return stored

    def append_many(self, events: list[Event], *, bound: list[tuple] | None = None,
                    ids: list[str] | None = None) -> list[Event]:
        with self._lock:
            first = self._base + len(self._events) + 1
            stored = ([with_fields(e, seq=first + i) for i, e in enumerate(events)]
                      if ids is None else  # one copy, not one for the id and one for the seq
                      [with_fields(e, seq=first + i, id=x)
                       for i, (e, x) in enumerate(zip(events, ids, strict=True))])
            self._events.extend(stored)
            return stored

    def read(self, query: EventQuery) -> list[Event]:
        out = []
        for ev in self._events[max(query.after - self._base, 0):]:
            if _matches(ev, query):
                out.append(ev)
                if len(out) >= query.limit:
                    break
        return out

    def last_seq(self) -> int:
        return self._base + len(self._events)

    def forget(self, through: int) -> None:
        """Drop the events up to seq `through` (kept elsewhere: a simulation's flushed to the
        database); seqs go on from where they were. Why: half a million events held for
        nothing make every full garbage collection of a long run slower."""
        with self._lock:
            drop = min(max(through - self._base, 0), len(self._events))
            del self._events[:drop]
            self._base += drop


def _matches(ev: Event, q: EventQuery) -> bool:
    if q.until is not None and (ev.seq or 0) > q.until:
        return False
    if q.area_prefix and not any(a.startswith(q.area_prefix) for a in ev.areas):
        return False
    if q.viewer is not None:
        if not q.viewer.sees(ev.to_dict()):
            return False
    elif not q.all_exercises and ev.exercise != q.exercise:
        return False
    return not (q.types_prefix and not ev.type.startswith(q.types_prefix))


EVENT_COLUMNS = ("id", "time", "type", "area", "exercise", "payload", "areas", "category",
                 "units")


def sqlite_rows(events: list[Event], dialect: Any) -> list[tuple]:
    """The events' rows (every column but seq, in EVENT_COLUMNS order) as an insert into
    SQLite stores them: values through the columns' own bind processors, so they read back
    exactly as the ordinary insert's; a time converted once however many events share it
    (a simulation's tick shares one). The payload stays a dict: `sqlite_insert_json` stores
    it as its JSON text."""
    t = tables.events
    procs = [t.c[c].type._cached_bind_processor(dialect) for c in EVENT_COLUMNS]
    time_p = procs[1]
    if any(p is not None for i, p in enumerate(procs) if i not in (1, 5)):
        values = SqlEventLog._values
        return [tuple(v[c] if p is None else p(v[c])
                      for c, p in zip(EVENT_COLUMNS, procs, strict=True))
                for v in map(values, events)]
    times: dict[datetime, Any] = {}
    rows = []
    for e in events:
        tm = times.get(e.time)
        if tm is None:
            tm = times[e.time] = e.time if time_p is None else time_p(e.time)
        payload = e.payload if type(e.payload) is dict else dict(e.payload)
        rows.append((e.id, tm, e.type, e.area, e.exercise, payload, joined(e.areas),
                     e.category, joined(e.units)))
    return rows


def joined(values: tuple[str, ...]) -> str:
    """Codes kept as " a b ": "has a code under p" is a LIKE on " " + p."""
    return " " + " ".join(values) + " " if values else ""


def _split(stored: str | None) -> tuple[str, ...]:
    return tuple(stored.split()) if stored else ()


def viewer_clause(viewer: Viewer, t: Table = tables.events) -> ColumnElement[bool]:
    """realtime.visibility.Viewer.sees, as SQL over the events table (or another table that
    keeps `exercise`, `areas`, `units` and `category` the events' way, as directives do)."""
    cond: list[ColumnElement[bool]] = [
        t.c.exercise.is_(None) if viewer.exercise is None else t.c.exercise == viewer.exercise]
    if viewer.unit is not None:
        cond.append(t.c.units.contains(f" {viewer.unit} ", autoescape=True))
        return and_(*cond)
    if viewer.scope is not None:
        cond.append(t.c.areas.contains(" " + viewer.scope, autoescape=True))
    if viewer.categories is not None:
        cats = sorted(viewer.categories)
        cond.append(or_(t.c.category.is_(None), t.c.category.in_(cats) if cats else false()))
    return and_(*cond)


class SqlEventLog(EventLog):
    """Works inside the caller's transaction; the unit of work commits."""

    # Any constant: serialises seq allocation with commit order on PostgreSQL, so a reader that
    # has seen seq n can never later find a smaller seq committed (no gaps on resume).
    _PG_LOCK_KEY = 7_301_330_3

    def __init__(self, connection: Connection) -> None:
        self.conn = connection

    def _lock(self) -> None:
        if self.conn.dialect.name == "postgresql" and not self.conn.info.get("rescue_seq_lock"):
            self.conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": self._PG_LOCK_KEY})
            # Held to the end of the transaction; forgotten when it ends (see rescue.db).
            self.conn.info["rescue_seq_lock"] = True

    @staticmethod
    def _values(event: Event) -> dict[str, Any]:
        return {"id": event.id, "time": event.time, "type": event.type, "area": event.area,
                "exercise": event.exercise, "payload": dict(event.payload),
                "areas": joined(event.areas), "category": event.category,
                "units": joined(event.units)}

    def append(self, event: Event) -> Event:
        self._lock()
        result = self.conn.execute(_insert_statement(), self._values(event))
        key = result.inserted_primary_key
        assert key is not None
        return with_fields(event, seq=int(key[0]))

    def append_many(self, events: list[Event], *, bound: list[tuple] | None = None,
                    ids: list[str] | None = None) -> list[Event]:
        if ids is not None:
            assert bound is None, "rows bound before the events had their ids"
            events = with_ids(events, ids)
        if len(events) < 2:
            return [self.append(e) for e in events]
        self._lock()
        if self.conn.dialect.name == "postgresql":
            return self._append_many_pg(events)
        if self.conn.dialect.name == "sqlite":
            return self._append_many_sqlite(events, bound)
        rows = self.conn.execute(_append_many_statement(),
                                 [self._values(e) for e in events]).all()
        return [with_fields(e, seq=int(r.seq)) for e, r in zip(events, rows, strict=True)]

    def append_bulk(self, events: list[Event], *, bound: list[tuple] | None = None) -> int:
        if self.conn.dialect.name != "sqlite":
            return super().append_bulk(events, bound=bound)
        self._lock()
        return self._insert_sqlite(events, bound)

    def _insert_sqlite(self, events: list[Event], bound: list[tuple] | None) -> int:
        """The SQLite insert of `_append_many_sqlite`; returns the last seq. SQLite numbers
        the rows (seq is its autoincrement key) in the order they are inserted, and from the
        first statement on the transaction holds its one write lock: no other connection's
        insert comes between, so the seqs are consecutive."""
        rows = bound if bound is not None else sqlite_rows(events, self.conn.dialect)
        sqlite_insert_json(self.conn, "events", EVENT_COLUMNS, rows, in_order=True)
        return int(self.conn.exec_driver_sql("SELECT last_insert_rowid()").scalar_one())

    def _append_many_sqlite(self, events: list[Event], bound: list[tuple] | None = None
                            ) -> list[Event]:
        """All the events in statements of thousands (`_insert_sqlite`). Why: an INSERT ..
        RETURNING per row, with SQLAlchemy's per-row parameter processing, cost ~50 us an
        event (a simulation flushes hundreds of thousands). Rows as `sqlite_rows` makes
        them."""
        last = self._insert_sqlite(events, bound)
        seq = last - len(events) + 1
        return [with_fields(e, seq=seq + i) for i, e in enumerate(events)]

    def _append_many_pg(self, events: list[Event]) -> list[Event]:
        """One statement over arrays, whatever the number of events: a multi-row VALUES
        of 9 parameters per event cost more to prepare than to run. Under the seq lock the
        rows take consecutive seqs in array order."""
        values = [self._values(e) for e in events]
        cols = EVENT_COLUMNS
        casts = ("text", "timestamptz", "text", "text", "text", "json", "text", "text", "text")
        arrays = [[v[c] for v in values] for c in cols]
        # As the JSON column's own processor writes them (json_text: a lone surrogate, which
        # the UTF-8 driver refuses, as its escape).
        arrays[5] = [json_text(p) for p in arrays[5]]
        sql = (f"INSERT INTO events ({', '.join(cols)}) SELECT * FROM unnest("
               + ", ".join(f"%s::{t}[]" for t in casts) + ") RETURNING seq")
        seqs = sorted(int(r[0]) for r in self.conn.exec_driver_sql(sql, tuple(arrays)))
        return [with_fields(e, seq=s) for e, s in zip(events, seqs, strict=True)]

    def read(self, query: EventQuery) -> list[Event]:
        return [event_from_row(r) for r in self.conn.execute(
            self._statement(query, select(tables.events)))]

    @staticmethod
    def _statement(query: EventQuery, stmt: Select) -> Select:
        t = tables.events
        stmt = stmt.where(t.c.seq > query.after).order_by(t.c.seq).limit(query.limit)
        if query.area_prefix:
            stmt = stmt.where(t.c.areas.contains(" " + query.area_prefix, autoescape=True))
        if query.viewer is not None:
            stmt = stmt.where(viewer_clause(query.viewer))
        elif not query.all_exercises:
            stmt = stmt.where(
                t.c.exercise.is_(None) if query.exercise is None else t.c.exercise == query.exercise
            )
        if query.types_prefix:
            stmt = stmt.where(t.c.type.startswith(query.types_prefix, autoescape=True))
        if query.until is not None:
            stmt = stmt.where(t.c.seq <= query.until)
        return stmt

    def read_dicts(self, query: EventQuery) -> list[dict[str, Any]]:
        """`read` as the wire dicts (`Event.to_dict`), without the objects in between: the
        path of backlogs and of the follower, where thousands of events go by at once."""
        t = tables.events
        sqlite = self.conn.dialect.name == "sqlite"
        # SQLite keeps times as text: read as stored and rewritten, not parsed and formatted
        # again (a third of a replay's read of a day of events).
        when = cast(t.c.time, Text).label("time") if sqlite else t.c.time
        cols = [t.c.seq, t.c.id, when, t.c.type, t.c.area, t.c.areas, t.c.category,
                t.c.units, t.c.exercise, cast(t.c.payload, Text).label("payload")]
        stmt = self._statement(query, select(*cols))
        out = []
        for r in self.conn.execute(stmt):
            areas = list(dict.fromkeys((r.area, *_split(r.areas)))) if r.areas else [r.area]
            out.append({"seq": r.seq, "id": r.id,
                        "time": _iso_stored(r.time) if sqlite else iso(_aware(r.time)),
                        "type": r.type, "area": r.area, "areas": areas,
                        "category": r.category, "units": list(_split(r.units)),
                        "exercise": r.exercise, "payload": load_payload(r.payload)})
        return out

    def head(self, until: int | None = None) -> int:
        """The last seq, or the last at or below `until`."""
        t = tables.events
        stmt = select(func.coalesce(func.max(t.c.seq), 0))
        if until is not None:
            stmt = stmt.where(t.c.seq <= until)
        return int(self.conn.execute(stmt).scalar() or 0)

    def last_seq(self) -> int:
        return self.head()


@functools.cache
def _insert_statement() -> Insert:
    return insert(tables.events)


@functools.cache
def _append_many_statement() -> Insert:
    t = tables.events
    return insert(t).returning(t.c.seq, sort_by_parameter_order=True)


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _iso_stored(raw: str) -> str:
    """`iso` of a time as SQLite keeps it ("2026-11-21 13:05:00.000000", UTC): the same
    text `iso` gives the parsed value ("2026-11-21T13:05:00Z"; microseconds only when
    not zero). Anything else stored is parsed the ordinary way."""
    if len(raw) == 26 and raw[10] == " " and raw[19] == ".":
        return (raw[:10] + "T" + (raw[11:19] if raw.endswith(".000000") else raw[11:])
                + "Z")
    return iso(_aware(datetime.fromisoformat(raw)))


def event_from_row(r: Any) -> Event:
    payload = r.payload
    if has_surrogate(payload):
        payload = scrub(payload)
    return Event(seq=r.seq, id=r.id, time=_aware(r.time), type=r.type, area=r.area,
                 exercise=r.exercise, payload=payload, areas=_split(r.areas),
                 category=r.category, units=_split(r.units))


def load_payload(raw: str | bytes | dict) -> dict[str, Any]:
    """A stored payload. Older releases could store a lone surrogate (as a JSON escape),
    which no reader can send on: it is read back as U+FFFD."""
    if isinstance(raw, dict):
        return scrub(raw) if has_surrogate(raw) else raw
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return scrub(json.loads(raw))
