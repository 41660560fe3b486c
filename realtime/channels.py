"""The Socket.IO namespaces `/centre` and `/field` (DESIGN §6), over any backend.

realtime knows events, viewers and sockets; what a token means, how the log is read and what
a field message does come from the backend that rescue (the composition root) hands in:

- `authenticate(namespace, auth)` -> Admission (who, what they see, where they resume) or
  raises Refused, which the client receives as a connect error;
- `read_backlog(viewer, after, until, limit)` -> visible events in seq order;
- `head()` -> the log's last seq;
- `handlers(namespace)` -> {event name: fn(context, data) -> ack dict}.

A client that connects with `last_seq` is first served from the log, page by page, as fast
as its link drains (each page waits for its outgoing queue to empty), then joins the live
router exactly where it stands. A client evicted by the router for being slow goes through
the same path from its last complete seq.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from realtime.coalesce import coalesce_positions
from realtime.ratelimit import RateLimiter
from realtime.router import Router
from realtime.visibility import Viewer

log = logging.getLogger(__name__)

NAMESPACES = ("/centre", "/field")
Ack = dict[str, Any]
Handler = Callable[[Any, Any], Ack]


class Refused(Exception):
    """A connection refused: `code` and `message` reach the client as the connect error."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Admission:
    viewer: Viewer
    context: Any  # the backend's idea of the caller (e.g. its principal), handed to handlers
    last_seq: int | None = None
    rate_key: str | None = None  # field units: the unit's id (its own rate limit)
    hello: Mapping[str, Any] = field(default_factory=dict)
    credential: str | None = None  # what a revocation names (drop_credential)
    stream: Stream | None = None  # served by its own loop instead of the live log (a replay)
    # What the client is sent first, before any backlog: (event name, data) pairs, read when
    # it is served (e.g. the open directives addressed to a unit that reconnects).
    opening: Callable[[], list[tuple[str, dict[str, Any]]]] | None = None


class StreamSink(Protocol):
    """What a stream may do with its one client."""

    def emit(self, event: str, data: dict[str, Any]) -> None: ...

    def connected(self) -> bool: ...

    def drain(self) -> None: ...

    def sleep(self, seconds: float) -> None: ...


class Stream(Protocol):
    """A client fed by something other than the live log (a replay): `serve` runs in the
    client's background task until the client leaves."""

    def serve(self, sink: StreamSink) -> None: ...


class Backend(Protocol):
    def authenticate(self, namespace: str, auth: Any) -> Admission: ...

    def read_backlog(self, viewer: Viewer, after: int, until: int, limit: int
                     ) -> list[dict[str, Any]]: ...

    def head(self) -> int: ...

    def handlers(self, namespace: str) -> Mapping[str, Handler]: ...


@dataclass(eq=False)
class Client:
    sid: str
    namespace: str
    admission: Admission
    cursor: int
    connected: bool = True
    caught_up: int = 0
    opened: bool = False  # its opening was sent (once per connection, not after an eviction)


def error_ack(code: str, message: str, field_name: str | None = None, **extra: Any) -> Ack:
    return {"ok": False, "error": {"code": code, "message": message, "field": field_name},
            **extra}


class Channels:
    """Handlers registered on the python-socketio server itself (not through Flask-SocketIO's
    wrappers, which push a Flask request context per message: a third of the cost of a
    position at a thousand a second)."""

    def __init__(self, server: Any, router: Router, backend: Backend, *,
                 limiter: RateLimiter | None = None, page: int = 500, low_water: int = 4,
                 coalesce_s: float = 1.0, metrics: Any = None) -> None:
        self.server = server
        self.router = router
        self.backend = backend
        self.limiter = limiter
        self.page = page
        self.low_water = low_water
        self.coalesce_s = coalesce_s
        self.metrics = metrics
        self._clients: dict[tuple[str, str], Client] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ sockets

    def queue_len(self, sid: str, namespace: str) -> int:
        eio_sid = self.server.manager.eio_sid_from_sid(sid, namespace)
        sock = self.server.eio.sockets.get(eio_sid) if eio_sid else None
        return sock.queue.qsize() if sock is not None else 0

    def emit_room(self, event: str, room: str, namespace: str, data: dict[str, Any]) -> None:
        self.server.emit(event, data, to=room, namespace=namespace)

    def _enter(self, sid: str, room: str, namespace: str) -> None:
        self.server.enter_room(sid, room, namespace=namespace)

    def _leave(self, sid: str, room: str, namespace: str) -> None:
        self.server.leave_room(sid, room, namespace=namespace)

    def clients(self, namespace: str) -> int:
        return sum(1 for ns, _ in self._clients if ns == namespace)

    # ------------------------------------------------------------------ wiring

    def install(self) -> None:
        self.server.on("connect", self._refuse_default, namespace="/")
        for ns in NAMESPACES:
            self.server.on("connect", self._connect_handler(ns), namespace=ns)
            self.server.on("disconnect", self._disconnect_handler(ns), namespace=ns)
            for name, fn in self.backend.handlers(ns).items():
                self.server.on(name, self._event_handler(ns, name, fn), namespace=ns)
            self.server.on("*", self._unknown_handler(ns), namespace=ns)

    @staticmethod
    def _refuse_default(sid: str, environ: Any = None, auth: Any = None) -> None:
        """No anonymous namespace: clients connect to /centre or /field with a token."""
        from socketio.exceptions import ConnectionRefusedError

        raise ConnectionRefusedError({"code": "no_namespace",
                                      "message": "connect to /centre or /field"})

    def _connect_handler(self, ns: str) -> Callable[..., None]:
        def on_connect(sid: str, environ: Any = None, auth: Any = None) -> None:
            from socketio.exceptions import ConnectionRefusedError

            try:
                admission = self.backend.authenticate(ns, auth)
            except Refused as e:
                if self.metrics:
                    self.metrics.refused_connection(ns, e.code)
                raise ConnectionRefusedError({"code": e.code, "message": e.message}) from None
            cursor = (admission.last_seq if admission.last_seq is not None
                      else self.router.flushed_seq)
            client = Client(sid, ns, admission, cursor)
            with self._lock:
                self._clients[(ns, client.sid)] = client
            self.server.start_background_task(self._serve, client)

        return on_connect

    def _disconnect_handler(self, ns: str) -> Callable[..., None]:
        def on_disconnect(sid: str, *_: Any) -> None:
            with self._lock:
                client = self._clients.pop((ns, sid), None)
            if client is not None:
                client.connected = False
            self.router.leave(sid, ns)

        return on_disconnect

    def _event_handler(self, ns: str, name: str, fn: Handler) -> Callable[..., Ack]:
        def on_event(sid: str, data: Any = None, *extra: Any) -> Ack:
            client = self._clients.get((ns, sid))
            if client is None:
                return error_ack("not_connected", "connect with a token first")
            if extra:
                return self._count(ns, name, error_ack(
                    "invalid", "send one JSON object per message", "body"))
            if not isinstance(data, dict):
                return self._count(ns, name, error_ack(
                    "invalid", f"expected a JSON object, got {type(data).__name__}", "body"))
            key = client.admission.rate_key
            if key is not None and self.limiter is not None:
                wait = self.limiter.check(key)
                if wait > 0:
                    retry = round(wait, 3)
                    return self._count(ns, name, error_ack(
                        "rate_limited", f"too many messages from {key}; retry in {retry} s",
                        retry_after_s=retry))
            try:
                ack = fn(client.admission.context, data)
            except Exception:  # noqa: BLE001 - a socket event never crashes the server
                log.exception("%s %s failed", ns, name)
                ack = error_ack("internal", "internal error; it has been logged")
            return self._count(ns, name, ack)

        return on_event

    def _count(self, ns: str, name: str, ack: Ack) -> Ack:
        if self.metrics:
            self.metrics.field_ack(ns, name, ack)
        return ack

    def _unknown_handler(self, ns: str) -> Callable[..., Ack]:
        def on_unknown(event: Any = None, sid: str | None = None, *_: Any) -> Ack:
            return error_ack("unknown_event", f"{ns} has no event {str(event)[:40]!r}", "event")

        return on_unknown

    # ------------------------------------------------------------------ serving

    def _serve(self, client: Client) -> None:
        """From the log until caught up, then live. Runs again after an eviction."""
        deadline = time.monotonic() + 10
        while not self.server.manager.is_connected(client.sid, client.namespace):
            if not client.connected or time.monotonic() > deadline:
                return
            self.server.sleep(0.005)
        try:
            if client.admission.stream is not None:
                self._ready(client)
                client.admission.stream.serve(_ClientSink(self, client))
            else:
                self._open(client)
                self._catch_up(client)
        except Exception:  # noqa: BLE001 - drop this client, keep the server
            log.exception("serving %s on %s failed; disconnecting it", client.sid,
                          client.namespace)
            self.server.disconnect(client.sid, namespace=client.namespace)

    def _open(self, client: Client) -> None:
        opening = client.admission.opening
        if opening is None or client.opened:
            return
        client.opened = True
        for event, data in opening():
            self.server.emit(event, data, to=client.sid, namespace=client.namespace)

    def _catch_up(self, client: Client) -> None:
        sid, ns = client.sid, client.namespace
        viewer = client.admission.viewer
        while client.connected:
            target = self.router.flushed_seq
            if client.cursor >= target:
                if self.router.join(sid, ns, viewer, client.cursor, self._enter,
                                    joined=lambda: self._ready(client)):
                    return
                if client.cursor > self.router.flushed_seq:
                    self.server.sleep(0.02)  # this server's follower is behind the client
                continue
            page = self.backend.read_backlog(viewer, client.cursor, target, self.page)
            upto = page[-1]["seq"] if len(page) >= self.page else target
            events = coalesce_positions(page, self.coalesce_s)
            self.server.emit("events", {"events": events, "last_seq": upto, "backlog": True},
                               to=sid, namespace=ns)
            client.cursor = upto
            client.caught_up += len(events)
            if self.metrics:
                self.metrics.delivered(ns, len(events))
            while client.connected and self.queue_len(sid, ns) > self.low_water:
                self.server.sleep(0.005)

    def _ready(self, client: Client) -> None:
        self.server.emit("ready", {"last_seq": client.cursor, "caught_up": client.caught_up,
                                     **client.admission.hello},
                           to=client.sid, namespace=client.namespace)

    def drop_credential(self, credential: str) -> None:
        """Disconnect every client that connected with this (now revoked) credential."""
        with self._lock:
            gone = [c for c in self._clients.values() if c.admission.credential == credential]
        for c in gone:
            self.server.disconnect(c.sid, namespace=c.namespace)

    def evict(self, sid: str, namespace: str, cursor: int, room: str) -> None:
        """The router's on_evict: out of the room now, served from the log from `cursor`."""
        self._leave(sid, room, namespace)
        client = self._clients.get((namespace, sid))
        if client is None:
            return
        client.cursor = cursor
        self.server.start_background_task(self._serve, client)


class _ClientSink:
    """A stream's view of its one client."""

    def __init__(self, channels: Channels, client: Client) -> None:
        self.channels = channels
        self.client = client

    def emit(self, event: str, data: dict[str, Any]) -> None:
        self.channels.server.emit(event, data, to=self.client.sid,
                                  namespace=self.client.namespace)
        if event == "events" and self.channels.metrics:
            self.channels.metrics.delivered(self.client.namespace, len(data["events"]))

    def connected(self) -> bool:
        return self.client.connected

    def drain(self) -> None:
        c = self.channels
        while self.client.connected and c.queue_len(self.client.sid,
                                                     self.client.namespace) > c.low_water:
            c.server.sleep(0.005)

    def sleep(self, seconds: float) -> None:
        self.channels.server.sleep(seconds)
