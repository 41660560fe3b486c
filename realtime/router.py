"""Live routing: from the follower's batches to the clients allowed to see each event.

Clients who see exactly the same events share a view (same namespace, exercise, scope,
categories or unit) and a Socket.IO room; every `window_s` the router sends each view its
pending events as one `events` frame (`{"events": [...], "last_seq": n}`), encoded once for
the whole room. Batching per view is the lever for throughput: the cost is per frame.

`last_seq` is the resume point: every event up to it that the client may see is in this
frame or an earlier one. Positions are coalesced inside a frame only (realtime.coalesce).

A slow client does not slow the others: before each frame the router looks at every member's
outgoing queue, and one that is too long leaves the room and is handed back (`on_evict`) to
be served from the log from its last complete seq (`on_evict(sid, namespace, seq, room)`):
nothing is lost, nothing is repeated.

Joining is exact: a client caught up to `flushed_seq` joins under the router's lock, so it
receives everything after it and nothing before it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from realtime.coalesce import coalesce_positions
from realtime.visibility import Viewer, prefixes

log = logging.getLogger(__name__)

EventDict = dict[str, Any]
Emit = Callable[[str, str, str, dict[str, Any]], None]  # (event, payload-room, namespace, data)


@dataclass(eq=False)
class View:
    namespace: str
    viewer: Viewer
    room: str
    members: set[str] = field(default_factory=set)
    pending: list[EventDict] = field(default_factory=list)
    sent_seq: int = 0
    sent_at: float = 0.0


class Router:
    def __init__(self, emit: Emit, *, queue_len: Callable[[str, str], int],
                 on_evict: Callable[[str, str, int, str], None], start_seq: int = 0,
                 coalesce_s: float = 1.0, max_frame: int = 500, max_queue: int = 64,
                 heartbeat_s: float = 10.0,
                 observe: Callable[[int, int], None] | None = None,
                 urgent: tuple[str, ...] = ()) -> None:
        self._emit = emit
        self.urgent = urgent  # event type prefixes that do not wait for the window
        self._urgent = threading.Event()
        self._queue_len = queue_len
        self._on_evict = on_evict
        self.coalesce_s = coalesce_s
        self.max_frame = max_frame
        self.max_queue = max_queue
        self.heartbeat_s = heartbeat_s
        self._observe = observe
        self.lock = threading.RLock()
        self.routed_seq = start_seq
        self.flushed_seq = start_seq
        self._views: dict[tuple[str, str], View] = {}
        self._by_prefix: dict[str, set[View]] = {}
        self._everywhere: set[View] = set()
        self._by_unit: dict[str, set[View]] = {}
        self._member_of: dict[tuple[str, str], View] = {}
        # Routed since the last flush: a view created now starts with its share of them.
        self._unflushed: list[EventDict] = []
        self._routed = threading.Event()
        self.evictions = 0

    # ------------------------------------------------------------------ membership

    def join(self, sid: str, namespace: str, viewer: Viewer, cursor: int,
             enter_room: Callable[[str, str, str], None],
             joined: Callable[[], None] | None = None) -> bool:
        """Join the live stream if `cursor` is exactly where live delivery stands; False means
        "read more of the log first" (the caller retries). `joined` runs under the lock, so
        whatever it sends goes out before the first live frame."""
        with self.lock:
            if cursor != self.flushed_seq:
                return False
            view = self._view(namespace, viewer)
            view.members.add(sid)
            self._member_of[(namespace, sid)] = view
            enter_room(sid, view.room, namespace)
            if joined is not None:
                joined()
            return True

    def leave(self, sid: str, namespace: str,
              leave_room: Callable[[str, str, str], None] | None = None) -> None:
        with self.lock:
            view = self._member_of.pop((namespace, sid), None)
            if view is None:
                return
            view.members.discard(sid)
            if leave_room is not None:
                leave_room(sid, view.room, namespace)
            if not view.members:
                self._drop(view)

    def is_live(self, sid: str, namespace: str) -> bool:
        return (namespace, sid) in self._member_of

    def clients(self, namespace: str | None = None) -> int:
        return sum(1 for ns, _ in self._member_of if namespace is None or ns == namespace)

    def _view(self, namespace: str, viewer: Viewer) -> View:
        key = (namespace, viewer.key)
        view = self._views.get(key)
        if view is None:
            view = View(namespace, viewer, room=f"v:{viewer.key}", sent_seq=self.flushed_seq,
                        sent_at=time.monotonic(),
                        pending=[ev for ev in self._unflushed if viewer.sees(ev)])
            self._views[key] = view
            if viewer.unit is not None:
                self._by_unit.setdefault(viewer.unit, set()).add(view)
            elif viewer.scope is None:
                self._everywhere.add(view)
            else:
                self._by_prefix.setdefault(viewer.scope, set()).add(view)
        return view

    def _drop(self, view: View) -> None:
        self._views.pop((view.namespace, view.viewer.key), None)
        v = view.viewer
        index = (self._by_unit.get(v.unit) if v.unit is not None else
                 self._everywhere if v.scope is None else self._by_prefix.get(v.scope))
        if index is not None:
            index.discard(view)
            if not index and v.unit is not None:
                self._by_unit.pop(v.unit, None)
            elif not index and v.scope is not None:
                self._by_prefix.pop(v.scope, None)

    # ------------------------------------------------------------------ routing

    def route(self, events: list[EventDict]) -> None:
        """The follower's subscriber: put each event on the views that may see it."""
        with self.lock:
            for ev in events:
                for view in self._candidates(ev):
                    if view.viewer.sees(ev):
                        view.pending.append(ev)
            if events:
                self._unflushed.extend(events)
                self.routed_seq = events[-1]["seq"]
                if self.urgent and any(ev["type"].startswith(self.urgent) for ev in events):
                    self._urgent.set()
        if events:
            self._routed.set()

    def _candidates(self, ev: EventDict) -> set[View]:
        out = set(self._everywhere)
        if self._by_prefix:
            for p in prefixes(ev.get("areas") or (ev["area"],)):
                views = self._by_prefix.get(p)
                if views:
                    out |= views
        if self._by_unit:
            for u in ev.get("units") or ():
                views = self._by_unit.get(u)
                if views:
                    out |= views
        return out

    def flush(self) -> int:
        """Send every view its pending events; returns the number of frames sent."""
        frames = 0
        with self.lock:
            upto = self.routed_seq
            now = time.monotonic()
            for view in list(self._views.values()):
                if view.pending:
                    self._evict_slow(view)
                    if view.members:
                        frames += self._send(view, view.pending, upto, now)
                    view.pending = []
                    if not view.members:
                        self._drop(view)
                elif (upto > view.sent_seq and view.members
                      and now - view.sent_at >= self.heartbeat_s):
                    frames += self._send(view, [], upto, now)  # keep cursors fresh
            self.flushed_seq = upto
            self._unflushed = []
        return frames

    def _send(self, view: View, pending: list[EventDict], upto: int, now: float) -> int:
        events = coalesce_positions(pending, self.coalesce_s)
        frames = 0
        for i in range(0, max(len(events), 1), self.max_frame):
            chunk = events[i:i + self.max_frame]
            last = upto if i + self.max_frame >= len(events) else chunk[-1]["seq"]
            self._emit("events", view.room, view.namespace, {"events": chunk, "last_seq": last})
            frames += 1
            if len(events) > self.max_frame:
                time.sleep(0.001)  # a burst (an import): let requests run between frames
        if self._observe:
            self._observe(len(events), len(view.members))
        view.sent_seq = upto
        view.sent_at = now
        return frames

    def _evict_slow(self, view: View) -> None:
        for sid in list(view.members):
            try:
                queued = self._queue_len(sid, view.namespace)
            except Exception:  # noqa: BLE001 - a client gone meanwhile
                continue
            if queued > self.max_queue:
                view.members.discard(sid)
                self._member_of.pop((view.namespace, sid), None)
                self.evictions += 1
                log.info("client %s on %s is slow (%d frames queued): serving it from the log "
                         "from seq %d", sid, view.namespace, queued, self.flushed_seq)
                self._on_evict(sid, view.namespace, self.flushed_seq, view.room)

    def run(self, window_s: float, stop: threading.Event) -> None:
        """Flush until `stop` is set: at once when events come after a quiet spell, at most
        once per `window_s` under load (the batch then grows with the load, not the
        latency), and every `window_s` anyway for heartbeats. An urgent event (an order to a
        unit, its answer) is sent at once even under load: an extra frame for a rare event."""
        last = 0.0
        while not stop.is_set():
            self._routed.wait(window_s)
            self._routed.clear()
            wait = last + window_s - time.monotonic()
            if wait > 0:
                self._urgent.wait(wait)  # the rest of the window, unless an order comes
            self._urgent.clear()
            last = time.monotonic()
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - keep flushing the other views
                log.exception("router flush failed")
