"""The pluggable pub/sub between processes, used as a doorbell (DESIGN §6).

Like python-socketio's client managers: an in-process bus for the embedded default and a Redis
bus when several processes (servers, Celery workers, simulations) share one log. Delivery
follows the log: the bus only says "the log has grown to seq n", and each server's follower
reads the log itself. Messages are plain dicts; the bus knows nothing of incidents.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], None]


class EventBus(ABC):
    def __init__(self) -> None:
        self._handlers: list[Handler] = []
        self._lock = threading.Lock()

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        with self._lock:
            self._handlers.append(handler)

        def unsubscribe() -> None:
            with self._lock:
                if handler in self._handlers:
                    self._handlers.remove(handler)

        return unsubscribe

    def _deliver(self, message: dict[str, Any]) -> None:
        with self._lock:
            handlers = list(self._handlers)
        for h in handlers:
            try:
                h(message)
            except Exception:  # one broken subscriber must not starve the others
                log.exception("event bus subscriber failed")

    @abstractmethod
    def publish(self, message: dict[str, Any]) -> None: ...

    @abstractmethod
    def close(self) -> None:
        """Stop background listeners."""


class InProcessBus(EventBus):
    def publish(self, message: dict[str, Any]) -> None:
        self._deliver(message)

    def close(self) -> None:
        with self._lock:
            self._handlers.clear()


class RedisBus(EventBus):
    """Publishes on a Redis channel; a listener thread delivers to local subscribers. Redis
    may be down at start or go away later: the listener keeps trying, once a second."""

    def __init__(self, url: str, channel: str = "rescue:events", *, listen: bool = True) -> None:
        super().__init__()
        import redis  # imported here: the embedded default does not need it

        self.channel = channel
        # Short timeouts: a dead Redis must cost a ring, not a stuck sender.
        self._redis = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5,
                                           health_check_interval=30)
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()
        if listen:
            self._thread = threading.Thread(target=self._listen, name="redis-bus", daemon=True)
            self._thread.start()

    def _listen(self) -> None:
        failures = 0
        while not self._closed.is_set():
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self.channel)
                pubsub.get_message(timeout=1.0)  # reads Redis's confirmation
                self.connected.set()
                failures = 0
                while not self._closed.is_set():
                    raw = pubsub.get_message(timeout=1.0)
                    if raw is not None:
                        self._on_message(raw)
            except Exception as exc:  # noqa: BLE001 - Redis away: say so, retry
                self.connected.clear()
                failures += 1
                if failures in (1, 10) or failures % 100 == 0:
                    log.warning("redis bus: %s: %s; retrying", type(exc).__name__, exc)
                self._closed.wait(1.0)
            finally:
                with contextlib.suppress(Exception):
                    pubsub.close()

    def _on_message(self, raw: dict[str, Any]) -> None:
        try:
            message = json.loads(raw["data"])
        except (ValueError, TypeError, KeyError):
            log.warning("dropping malformed message on %s", self.channel)
            return
        self._deliver(message)

    def publish(self, message: dict[str, Any]) -> None:
        self._redis.publish(self.channel, json.dumps(message, separators=(",", ":")))

    def close(self) -> None:
        self._closed.set()
        if self._thread is not None:
            self._thread.join(timeout=3)
        self._redis.close()


def make_bus(redis_url: str | None, **kwargs: Any) -> EventBus:
    return RedisBus(redis_url, **kwargs) if redis_url else InProcessBus()


class Doorbell:
    """Rings "the log has grown to seq n" through a bus without ever blocking the committer.

    Only the highest seq matters, so rings are merged: a sender thread publishes the latest
    one. A bus that is down costs a logged warning, never a failed request: followers also
    check the log about once a second, so a lost ring delays an event and never loses it.
    """

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self._latest = 0
        self._sent = 0
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._failures = 0

    def ring(self, seq: int) -> None:
        if isinstance(self.bus, InProcessBus):
            self.bus.publish({"seq": seq})  # local subscribers only: cheap, cannot fail
            return
        with self._cv:
            if seq <= self._latest or self._closed:
                return
            self._latest = seq
            if self._thread is None:
                self._thread = threading.Thread(target=self._send, name="doorbell", daemon=True)
                self._thread.start()
            self._cv.notify()

    def on_ring(self, handler: Callable[[int], None]) -> Callable[[], None]:
        def relay(message: dict[str, Any]) -> None:
            seq = message.get("seq")
            if isinstance(seq, int) and not isinstance(seq, bool):
                handler(seq)

        return self.bus.subscribe(relay)

    def _send(self) -> None:
        while True:
            with self._cv:
                while self._latest <= self._sent and not self._closed:
                    self._cv.wait()
                if self._closed:
                    return
                seq = self._latest
            try:
                self.bus.publish({"seq": seq})
                self._sent = seq
                self._failures = 0
            except Exception as exc:  # noqa: BLE001 - the periodic check covers a lost ring
                self._failures += 1
                if self._failures in (1, 10, 100) or self._failures % 1000 == 0:
                    log.warning("doorbell: cannot ring (%s: %s); followers fall back to their "
                                "periodic check", type(exc).__name__, exc)
                self._sent = seq  # do not spin on a dead bus; the next commit rings again
                time.sleep(min(1.0, 0.05 * self._failures))

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=2)
