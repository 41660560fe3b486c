"""Pictures saved along a replay's fold, so that a seek folds from the nearest one instead of
from the start of the log (DESIGN §11).

A checkpoint is the picture after every event up to `seq` that one viewer sees in one slice's
filter (`key`), with the latest recorded time among them. The log below `seq` never changes
(events are never deleted and the seq lock leaves no gaps), so a checkpoint stays true for
good, and any server's fold may use one another server saved. A fold to the moment `at` of a
replay whose slice starts after `seq_from` may start from a checkpoint at `seq` when every
event it folded would have been folded anyway: `seq <= seq_from` (the events before the slice
are folded whatever their time), or all of them recorded before `at` (`max_time < at`).

Checkpoints are spaced by what they cost: one every `max(EVERY, PER_ENTRY x the picture's
size)` events folded, so that loading one costs about what folding the events after it does.
And bounded: past KEEP for one key (a live area replayed for months), the checkpoint where
they lie densest goes, so they stay spread evenly over the history (a seek anywhere folds at
most about history / KEEP events).
"""

from __future__ import annotations

import hashlib
import json
import logging
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson
from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError

from realtime.visibility import Viewer
from rescue import tables
from rescue.db import writing
from simulations import state
from simulations.state import Picture

log = logging.getLogger(__name__)

EVERY = 2000  # events folded between two checkpoints, at least
PER_ENTRY = 2.0  # and twice the picture's size: loading one costs about what folding those does
KEEP = 256  # checkpoints kept for one key: past it, those where they lie densest go


@dataclass(frozen=True)
class Mark:
    """A picture folded up to `seq` (every event up to it read), and the latest recorded
    time among the events folded."""

    picture: Picture
    seq: int
    max_time: datetime


def key_of(viewer: Viewer, source: Mapping[str, Any]) -> str:
    """Whose fold: the viewer's sight and the slice's own filter (area, incident, units), and
    the picture's version (a picture folded by other rules is not reused). The viewer's scope
    and the slice's area both keep the events with an area under them, so when one lies
    inside the other only the narrower counts: the province and the county replaying the
    county's area share their checkpoints."""
    scope, area = viewer.scope, source.get("area")
    if scope is None or (area is not None and area.startswith(scope)):
        scope, area = area, None
    elif area is not None and scope.startswith(area):
        area = None
    name = {"v": state.VERSION, "exercise": viewer.exercise, "scope": scope,
            "categories": sorted(viewer.categories) if viewer.categories is not None else None,
            "unit": viewer.unit, "area": area,
            "incident": source.get("incident"), "units": source.get("units")}
    return hashlib.sha256(json.dumps(name, sort_keys=True).encode()).hexdigest()


class Checkpoints(Protocol):
    every: int  # events folded between two checkpoints, at least ...
    per_entry: float  # ... and at least this many per unit and open incident in the picture

    def nearest(self, key: str, *, seq_from: int, seq_to: int, at: datetime,
                inclusive: bool, beyond: int = -1) -> Mark | None:
        """The furthest checkpoint a fold to `at` of the slice (seq_from, seq_to] may start
        from, or None; None too when it is not past `beyond` (a fold looking for one ahead
        of itself decodes none it cannot use)."""

    def save(self, key: str, mark: Mark) -> None:
        """Keep it (a checkpoint already saved at that seq stays as it is), thinning the key's
        checkpoints past `keep` (`thinned`)."""


def thinned(seqs: list[int], keep: int) -> list[int]:
    """Which of a key's checkpoints (seqs ascending) go once there are more than `keep`: each
    time the one whose going leaves the shortest gap between its neighbours (the older on a
    tie), never the first or the last, so they stay spread evenly over the whole history."""
    seqs, gone = list(seqs), []
    while len(seqs) > max(keep, 2):
        i = min(range(1, len(seqs) - 1), key=lambda j: seqs[j + 1] - seqs[j - 1])
        gone.append(seqs.pop(i))
    return gone


def due(store: Checkpoints, folded: int, pic: Picture) -> bool:
    """Whether a fold that folded `folded` events since its last checkpoint saves one now."""
    return folded >= max(store.every, store.per_entry * pic.size())


def _usable(seq: int, max_time: datetime, seq_from: int, seq_to: int, at: datetime,
            inclusive: bool) -> bool:
    before = max_time <= at if inclusive else max_time < at
    return seq <= seq_to and (seq <= seq_from or before)


class MemoryCheckpoints:
    """In one process (unit tests, the contract test's reference)."""

    def __init__(self, every: int = EVERY, per_entry: float = PER_ENTRY,
                 keep: int = KEEP) -> None:
        self.every, self.per_entry, self.keep = every, per_entry, keep
        self._marks: dict[str, dict[int, tuple[bytes, datetime]]] = {}

    def nearest(self, key: str, *, seq_from: int, seq_to: int, at: datetime,
                inclusive: bool, beyond: int = -1) -> Mark | None:
        marks = self._marks.get(key, {})
        usable = [seq for seq, (_, max_time) in marks.items()
                  if _usable(seq, max_time, seq_from, seq_to, at, inclusive)]
        if not usable or max(usable) <= beyond:
            return None
        body, max_time = marks[max(usable)]
        return Mark(decode(body), max(usable), max_time)

    def save(self, key: str, mark: Mark) -> None:
        marks = self._marks.setdefault(key, {})
        marks.setdefault(mark.seq, (encode(mark.picture), mark.max_time))
        for seq in thinned(sorted(marks), self.keep):
            del marks[seq]


class SqlCheckpoints:
    """In the database beside the log, shared by every server."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime], every: int = EVERY,
                 per_entry: float = PER_ENTRY, keep: int = KEEP) -> None:
        self.every, self.per_entry, self.keep = every, per_entry, keep
        self.engine = engine
        self.clock = clock

    def nearest(self, key: str, *, seq_from: int, seq_to: int, at: datetime,
                inclusive: bool, beyond: int = -1) -> Mark | None:
        t = tables.picture_checkpoints
        before = t.c.max_time <= at if inclusive else t.c.max_time < at
        while True:
            with self.engine.connect() as conn:
                row = conn.execute(select(t.c.seq, t.c.max_time, t.c.body)
                                   .where(t.c.key == key, t.c.seq <= seq_to,
                                          (t.c.seq <= seq_from) | before)
                                   .order_by(t.c.seq.desc()).limit(1)).first()
            if row is None or row.seq <= beyond:
                return None
            try:
                return Mark(decode(row.body), int(row.seq), row.max_time)
            except (ValueError, KeyError, TypeError, zlib.error):
                # A damaged row: dropped (the next fold past it saves it again), and the one
                # before it tried.
                log.warning("checkpoint %s@%s unreadable; dropped", key, row.seq)
                with writing(self.engine) as w:
                    w.execute(delete(t).where(t.c.key == key, t.c.seq == row.seq))

    def save(self, key: str, mark: Mark) -> None:
        body = encode(mark.picture)
        try:
            with writing(self.engine) as conn:
                conn.execute(tables.picture_checkpoints.insert().values(
                    key=key, seq=mark.seq, max_time=mark.max_time, body=body,
                    created=self.clock()))
        except IntegrityError:
            return  # another fold saved the same point first: the same picture
        t = tables.picture_checkpoints
        with writing(self.engine) as conn:
            seqs = conn.execute(select(t.c.seq).where(t.c.key == key).order_by(t.c.seq)
                                ).scalars().all()
            gone = thinned(list(seqs), self.keep)
            if gone:
                conn.execute(delete(t).where(t.c.key == key, t.c.seq.in_(gone)))


def encode(pic: Picture) -> bytes:
    """The picture's wire form (it holds only open incidents: nothing else to keep), with the
    version of the rules that folded it. By orjson (a tenth of the standard module's time: a
    long fold saves dozens), by the standard module where orjson refuses a value."""
    body = {"v": state.VERSION, "picture": pic.to_dict()}
    try:
        text = orjson.dumps(body)
    except TypeError:
        text = json.dumps(body, separators=(",", ":")).encode()
    return zlib.compress(text, 1)


def decode(body: bytes) -> Picture:
    raw = zlib.decompress(body)
    try:
        d = orjson.loads(raw)
    except orjson.JSONDecodeError:
        d = json.loads(raw)
    if d.get("v") != state.VERSION:
        raise ValueError("a picture of another version")
    return state.from_dict(d["picture"])
