"""The log follower: one per server process, reading new events in seq order and handing
each batch to its subscribers (the live push router, the spatial index).

Seq order is commit order (rescue.events), so "everything after my cursor" never misses an
event committed later. Two ways in, one order out:
- local commits are offered straight from memory (no read-back), used only while they
  continue the cursor exactly (seq = cursor + 1, + 2, ...);
- anything else (other processes, Celery workers, a lost ring, a gap) is read from the log
  after the cursor. A doorbell ring says how far the log has grown; without one the follower
  still looks once per `period_s`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

log = logging.getLogger(__name__)

EventDict = dict[str, Any]
ReadAfter = Callable[[int, int], list[EventDict]]
Subscriber = Callable[[list[EventDict]], None]


class LogFollower:
    def __init__(self, read_after: ReadAfter, *, start_seq: int, page: int = 200,
                 period_s: float = 1.0, max_offered: int = 100_000) -> None:
        self._read_after = read_after
        self.cursor = start_seq
        self.page = page
        self.period_s = period_s
        self._max_offered = max_offered
        self._offered: dict[int, EventDict] = {}
        self._offered_lock = threading.Lock()
        self._rung = start_seq
        self._subscribers: list[Subscriber] = []
        self._wake = threading.Event()
        self._advanced = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None
        self.last_lag_ms = 0.0
        self.read_errors = 0

    @property
    def lag_seq(self) -> int:
        """Seqs announced by a ring but not yet delivered."""
        return max(0, self._rung - self.cursor)

    def subscribe(self, fn: Subscriber) -> None:
        self._subscribers.append(fn)

    # ------------------------------------------------------------------ inputs

    def offer(self, events: list[EventDict]) -> None:
        """Events this process has just committed, in seq order."""
        if not events:
            return
        with self._offered_lock:
            if len(self._offered) < self._max_offered:
                for ev in events:
                    if ev["seq"] > self.cursor:
                        self._offered[ev["seq"]] = ev
        self.ring(events[-1]["seq"])

    def ring(self, seq: int | None = None) -> None:
        if seq is not None and seq > self._rung:
            self._rung = seq
        self._wake.set()

    # ------------------------------------------------------------------ the loop

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self.run, name="log-follower", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def run(self) -> None:
        while not self._stop:
            rung = self._wake.wait(self.period_s)
            self._wake.clear()
            if self._stop:
                return
            try:
                self.drain(check_log=not rung or self._rung > self.cursor)
            except Exception:  # noqa: BLE001 - the follower must outlive a bad moment
                self.read_errors += 1
                log.exception("log follower: reading the log failed; retrying")
                time.sleep(min(5.0, 0.2 * self.read_errors))

    def drain(self, check_log: bool = True) -> int:
        """Deliver everything committed after the cursor; returns how many events."""
        delivered = 0
        while True:
            batch = self._take_offered()
            if not batch:
                if not check_log:
                    break
                batch = self._read_after(self.cursor, self.page)
                if not batch:
                    break
            self._deliver(batch)
            delivered += len(batch)
            # Under gevent a page is run without a break; between pages, requests and
            # sockets get their turn (sleep(0) would not let the hub poll for I/O).
            time.sleep(0.001)
            if len(batch) < self.page and self._rung <= self.cursor and not self._offered:
                check_log = False
        self.read_errors = 0
        return delivered

    def _take_offered(self) -> list[EventDict]:
        out: list[EventDict] = []
        with self._offered_lock:
            nxt = self.cursor + 1
            while nxt in self._offered and len(out) < self.page:
                out.append(self._offered.pop(nxt))
                nxt += 1
            if not out and self._offered:
                for s in [s for s in self._offered if s <= self.cursor]:
                    del self._offered[s]
        return out

    def _deliver(self, batch: list[EventDict]) -> None:
        for fn in self._subscribers:
            try:
                fn(batch)
            except Exception:  # noqa: BLE001 - one subscriber must not starve the others
                log.exception("log follower: subscriber %r failed", fn)
        with self._advanced:
            self.cursor = batch[-1]["seq"]
            self._advanced.notify_all()
        try:
            at = datetime.fromisoformat(batch[-1]["time"].replace("Z", "+00:00"))
            self.last_lag_ms = max(0.0, (time.time() - at.timestamp()) * 1000.0)
        except (KeyError, ValueError, AttributeError):
            pass

    def wait_for(self, seq: int, timeout: float) -> bool:
        """Block until the cursor reaches `seq` (tests, read-your-writes)."""
        deadline = time.monotonic() + timeout
        with self._advanced:
            while self.cursor < seq:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._advanced.wait(left)
        return True
