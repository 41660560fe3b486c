"""Event fan-out between processes: the pluggable pub/sub behind live push.

Like python-socketio's client managers: an in-process bus for the embedded default and a Redis
bus when several processes (servers, Celery workers, replays) must reach each other's clients.
Messages are plain dicts (serialised events); the bus knows nothing of incidents.
"""

from __future__ import annotations

import json
import logging
import threading
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
    """Publishes on a Redis channel; a listener thread delivers to local subscribers."""

    def __init__(self, url: str, channel: str = "rescue:events", *, listen: bool = True) -> None:
        super().__init__()
        import redis  # imported here: the embedded default does not need it

        self.channel = channel
        self._redis = redis.Redis.from_url(url)
        self._pubsub = None
        self._thread = None
        if listen:
            self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            self._pubsub.subscribe(**{channel: self._on_message})
            self._thread = self._pubsub.run_in_thread(sleep_time=0.05, daemon=True)

    def _on_message(self, raw: dict[str, Any]) -> None:
        try:
            message = json.loads(raw["data"])
        except (ValueError, TypeError):
            log.warning("dropping malformed message on %s", self.channel)
            return
        self._deliver(message)

    def publish(self, message: dict[str, Any]) -> None:
        self._redis.publish(self.channel, json.dumps(message, separators=(",", ":")))

    def close(self) -> None:
        if self._thread is not None:
            self._thread.stop()
            self._thread.join(timeout=2)
        if self._pubsub is not None:
            self._pubsub.close()
        self._redis.close()


def make_bus(redis_url: str | None, **kwargs: Any) -> EventBus:
    return RedisBus(redis_url, **kwargs) if redis_url else InProcessBus()
