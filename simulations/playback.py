"""One viewer's replay, served by the server the viewer is connected to (DESIGN §11).

The viewer receives, in this order: while a long fold runs, `replay_progress` messages (how
far, 0 to 1); a `replay` message with the picture at the replay's moment
(simulations.state, folded from the log as this viewer may see it), then `events`
frames with exactly the recorded events after it, in recorded order, each when the shared
clock passes its recorded time; a `replay` message again whenever the clock changes (pause,
resume, speed, the end), and a new picture after every seek. Nothing is written to the log.

The loop knows no sockets: it talks to a sink (realtime.channels) that emits to this one
client, waits for its queue to drain, and says whether it is still connected.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from realtime.visibility import Viewer
from rescue.events import EventQuery
from simulations.checkpoints import Checkpoints, Mark, due, key_of
from simulations.replays import ClockCache, Replay
from simulations.state import Picture

if TYPE_CHECKING:
    from rescue.context import RescueContext

log = logging.getLogger(__name__)

Read = Callable[[EventQuery], list[dict[str, Any]]]
REPORT_EVERY_S = 0.5
PROGRESS_EVERY_S = 0.5  # a long fold tells its viewer how far it is, at most this often
LOOK_EVERY_S = 0.25  # and looks this often for a checkpoint another fold saved further on
PATIENCE_S = 1.5  # following another fold: how long without a new checkpoint from it


class Sink(Protocol):
    def emit(self, event: str, data: dict[str, Any]) -> None: ...

    def connected(self) -> bool: ...

    def drain(self) -> None: ...

    def sleep(self, seconds: float) -> None: ...


def log_reader(ctx: RescueContext) -> Read:
    """Reads of the shared log, each in a read-only unit of work of its own."""
    def read(q: EventQuery) -> list[dict[str, Any]]:
        with ctx.uow(readonly=True) as uow:
            return uow.events.read_dicts(q)

    return read


def event_time(ev: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(ev["time"])


class Slice:
    """Reading one replay's events as one viewer may see them."""

    def __init__(self, replay: Replay, viewer: Viewer, read: Read, page: int = 1000,
                 checkpoints: Checkpoints | None = None,
                 look_every_s: float = LOOK_EVERY_S, patience_s: float = PATIENCE_S) -> None:
        self.replay = replay
        self.viewer = viewer
        self.read = read
        self.page = page
        self.checkpoints = checkpoints
        self.look_every_s = look_every_s
        self.patience_s = patience_s
        self.leaps = 0  # checkpoints leapt to mid-fold (tests)
        self.key = key_of(viewer, replay.source)

    def after(self, seq: int, limit: int | None = None) -> tuple[list[dict[str, Any]], int]:
        """The slice's next events after `seq` (up to its end) and the last seq read (the
        cursor moves past events the slice leaves out too)."""
        r = self.replay
        if seq >= r.seq_to:
            return [], seq
        area = r.source.get("area")
        rows = self.read(EventQuery(after=seq, until=r.seq_to, limit=limit or self.page,
                                    viewer=self.viewer, area_prefix=area))
        if not rows:
            return [], r.seq_to
        return [ev for ev in rows if r.keeps(ev)], rows[-1]["seq"]

    def picture(self, at: datetime, *, inclusive: bool = False,
                progress: Callable[[float], None] | None = None
                ) -> tuple[Picture, int, list[dict[str, Any]]]:
        """The picture just before `at` (or at it, `inclusive`): every event before the
        slice, then the slice's while their recorded time is before `at`. Returns it, the
        cursor, and the events read beyond it (the first ones to stream: a replay sent from
        its start sends every event of the slice). It folds from the nearest checkpoint and
        leaves new ones behind it (simulations.checkpoints). `progress`, after every page:
        how far the fold is from its start to `at`, by recorded time (0 to 1)."""
        r = self.replay
        nearest = (lambda **_: None) if self.checkpoints is None else functools.partial(
            self.checkpoints.nearest, self.key, seq_from=r.seq_from, seq_to=r.seq_to, at=at,
            inclusive=inclusive)
        start = nearest()
        pic = start.picture if start is not None else Picture()
        seq = start.seq if start is not None else 0
        latest = start.max_time if start is not None else None
        folded = 0  # since the last checkpoint
        first: datetime | None = None  # the first event's time (progress)
        looked = led = time.monotonic()
        following = leapt = False
        done = seq  # the last event folded
        while True:
            if time.monotonic() - looked >= self.look_every_s:
                # Another fold of the same key (the replay's fold ahead, another viewer) may
                # have saved one further on meanwhile: leap to it, and follow that fold
                # (wait for its next one) while it keeps saving, instead of folding beside it
                # at half the speed each.
                looked = time.monotonic()
                ahead = nearest(beyond=seq)
                if ahead is not None:
                    pic, seq, latest, folded = ahead.picture, ahead.seq, ahead.max_time, 0
                    self.leaps += 1
                    following, led, leapt = True, looked, True
                elif following and looked - led > self.patience_s:
                    following = False  # it stopped (done, or gone): fold on alone
            if following and not leapt:
                time.sleep(self.look_every_s)
                continue
            leapt = False  # (after a leap, one page: it may be the last one needed)
            events, last = self.after(seq)
            for i, ev in enumerate(events):
                t = event_time(ev)
                if ev["seq"] > r.seq_from and (t > at or (t == at and not inclusive)):
                    self._leave_end(pic, done, latest, folded)
                    return pic, max(ev["seq"] - 1, pic.seq), events[i:]
                pic.apply(ev)
                folded += 1
                done = ev["seq"]
                latest = t if latest is None or t > latest else latest
                if self.checkpoints is not None and due(self.checkpoints, folded, pic):
                    self.checkpoints.save(self.key, Mark(pic, ev["seq"], latest))
                    folded = 0
            if last >= r.seq_to or last == seq:
                self._leave_end(pic, done, latest, folded)
                return pic, max(last, pic.seq), []
            seq = last
            if progress is not None and events:
                first = first or event_time(events[0])
                span = (at - first).total_seconds()
                progress(min(1.0, max(0.0, (event_time(events[-1]) - first).total_seconds()
                                      / span)) if span > 0 else 1.0)
            time.sleep(0.001)  # a long fold: the server's other clients between pages

    def _leave_end(self, pic: Picture, seq: int, latest: datetime | None, folded: int) -> None:
        """A long fold leaves its end behind: a fold of the same key following it (another
        viewer of the same moment) lands there instead of folding the last stretch again."""
        if self.checkpoints is not None and latest is not None and \
                folded >= self.checkpoints.every // 4:
            self.checkpoints.save(self.key, Mark(pic, seq, latest))


class Playback:
    """realtime.channels' Stream for one client joined to one replay."""

    def __init__(self, replay_id: str, viewer: Viewer, read: Read, clocks: ClockCache,
                 now: Callable[[], datetime], page: int = 500,
                 checkpoints: Checkpoints | None = None,
                 progress_every_s: float = PROGRESS_EVERY_S) -> None:
        self.replay_id = replay_id
        self.checkpoints = checkpoints
        self.progress_every_s = progress_every_s
        self.viewer = viewer
        self.read = read
        self.clocks = clocks
        self.now = now
        self.page = page
        self.sent = 0  # events sent (tests, logs)

    def serve(self, sink: Sink) -> None:
        generation: int | None = None
        told: tuple[Any, ...] | None = None
        cursor = 0
        buffered: deque[dict[str, Any]] = deque()
        slice_: Slice | None = None
        last_report = 0.0
        while sink.connected():
            wall = self.now()
            r = self.clocks.get(self.replay_id, wall)
            if r is None:
                sink.emit("replay", {"replay": {"id": self.replay_id, "state": "gone"}})
                return
            if r.generation != generation:
                generation = r.generation
                slice_ = Slice(r, self.viewer, self.read, checkpoints=self.checkpoints)
                pic, cursor, ahead = slice_.picture(r.anchor_time,
                                                    progress=self._progress(sink, r))
                buffered = deque(ahead)
                told = (r.updated, "paused" if r.state == "paused" else "playing")
                sink.emit("replay", {"replay": {**r.status(wall), "state": told[1]},
                                     "picture": pic.to_dict()})
                sink.drain()
                continue
            assert slice_ is not None
            slice_.replay = r
            finished = not buffered and cursor >= r.seq_to
            shown = r.effective_state(wall)
            if shown == "ended" and not finished:
                shown = "playing"  # the clock is at the end; the last events are on their way
            if (r.updated, shown) != told:
                told = (r.updated, shown)
                sink.emit("replay", {"replay": {**r.status(wall), "state": shown}})
            if r.state != "playing":
                sink.sleep(0.1)
                continue
            if not buffered:
                events, cursor_read = slice_.after(cursor, self.page)
                buffered.extend(events)
                if not events:
                    cursor = cursor_read
                    if r.speed is None and cursor >= r.seq_to:
                        self._reached(r, r.time_to)
                    sink.sleep(0.1)
                    continue
            frame: list[dict[str, Any]] = []
            speed = r.speed
            position = r.position(wall) if speed is not None else None
            wait = 0.1
            while buffered and len(frame) < self.page:
                due = event_time(buffered[0])
                if position is not None and speed is not None and due > position:
                    wait = min(0.1, max(0.005, (due - position).total_seconds() / speed))
                    break
                frame.append(buffered.popleft())
            if not frame:
                sink.sleep(wait)
                continue
            cursor = frame[-1]["seq"]
            at = event_time(frame[-1])
            sink.emit("events", {"events": frame, "last_seq": cursor, "replay": r.id,
                                 "time": frame[-1]["time"]})
            self.sent += len(frame)
            sink.drain()
            if r.speed is None and wall.timestamp() - last_report >= REPORT_EVERY_S:
                last_report = wall.timestamp()
                self._reached(r, at)

    def _progress(self, sink: Sink, r: Replay) -> Callable[[float], None]:
        """A long fold's progress, told to the viewer (`replay_progress`) at most every
        `progress_every_s`: the console shows it while the picture is rebuilt."""
        last = [time.monotonic()]

        def tell(done: float) -> None:
            if time.monotonic() - last[0] >= self.progress_every_s:
                last[0] = time.monotonic()
                sink.emit("replay_progress", {"replay": r.id, "generation": r.generation,
                                              "done": round(done, 3)})
        return tell

    def _reached(self, r: Replay, at: datetime) -> None:
        if r.reached_time is None or at > r.reached_time:
            self.clocks.store.reached(r.id, r.generation, at)
