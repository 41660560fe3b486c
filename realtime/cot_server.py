"""The CoT (TAK) TCP listener: ATAK, WinTAK and pytak clients connect, stream `<event>`s in,
and receive the picture of the listener's scope as CoT.

A transport beside `/field` (DESIGN §12): what an event does, and what the picture is, come
from the composition root (`on_event(event) -> reply | None`, `snapshot() -> [bytes]`). Runs
under gevent in the server process. A client that cannot keep up is dropped (it reconnects
and gets a fresh snapshot), never allowed to hold the others back; a stream that is not CoT
is closed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

from realtime.cot import CotError, CotEvent, EventSplitter, parse_event

log = logging.getLogger(__name__)

MAX_QUEUED = 1000  # events waiting for one client before it is dropped as too slow
READ = 65_536


class _Client:
    def __init__(self, sock: Any, address: Any) -> None:
        from gevent.queue import Queue  # type: ignore[import-untyped]

        self.sock = sock
        self.address = address
        self.queue: Any = Queue(MAX_QUEUED)
        self.open = True

    def send(self, data: bytes) -> bool:
        from gevent.queue import Full  # type: ignore[import-untyped]

        try:
            self.queue.put_nowait(data)
            return True
        except Full:
            return False

    def close(self) -> None:
        self.open = False
        with contextlib.suppress(Exception):
            self.queue.put_nowait(None)
        with contextlib.suppress(OSError):
            self.sock.close()


class CotServer:
    def __init__(self, host: str, port: int, *,
                 on_event: Callable[[CotEvent, str | None], bytes | None],
                 snapshot: Callable[[], list[bytes]], ssl_context: Any = None,
                 identity: Callable[[Any], str | None] | None = None) -> None:
        """`on_event(event, identity)`: identity is what the connection's client certificate
        names (`identity(sock)`) on a TLS port, None on the plain one."""
        from gevent.server import StreamServer  # type: ignore[import-untyped]

        self.on_event = on_event
        self.snapshot = snapshot
        self.identity = identity
        self.clients: set[_Client] = set()
        self.stats: dict[str, int] = {"events": 0, "refused": 0, "dropped_slow": 0}
        tls = {"ssl_context": ssl_context} if ssl_context is not None else {}
        self.server = StreamServer((host, port), self._handle, **tls)

    @property
    def address(self) -> tuple[str, int]:
        return self.server.address

    def start(self) -> None:
        self.server.start()
        log.info("CoT: listening on tcp %s:%d (plain TCP: a trusted network only)",
                 *self.server.address)

    def stop(self) -> None:
        self.server.stop(timeout=2)
        for c in list(self.clients):
            c.close()

    def broadcast(self, events: list[bytes]) -> None:
        for c in list(self.clients):
            for data in events:
                if not c.send(data):
                    self.stats["dropped_slow"] += 1
                    log.info("CoT: client %s is too slow; dropping it", c.address)
                    c.close()
                    break

    def _handle(self, sock: Any, address: Any) -> None:
        import gevent  # type: ignore[import-untyped]

        client = _Client(sock, address)
        try:
            who = self.identity(sock) if self.identity is not None else None
        except Exception:  # noqa: BLE001 - a handshake that failed: no session
            log.info("CoT: no identity from %s; closing", address)
            client.close()
            return
        if self.identity is not None and who is None:
            client.close()
            return
        self.clients.add(client)
        writer = gevent.spawn(self._write, client)
        try:
            for data in self.snapshot():
                client.send(data)
            self._read(client, who)
        finally:
            self.clients.discard(client)
            client.close()
            writer.kill()

    def _read(self, client: _Client, who: str | None) -> None:
        splitter = EventSplitter()
        while client.open:
            try:
                data = client.sock.recv(READ)
            except OSError:
                return
            if not data:
                return
            try:
                docs = splitter.feed(data)
            except CotError as e:
                log.info("CoT: closing %s: %s", client.address, e)
                return
            for doc in docs:
                try:
                    event = parse_event(doc)
                except CotError:
                    self.stats["refused"] += 1
                    continue
                self.stats["events"] += 1
                try:
                    reply = self.on_event(event, who)
                except Exception:  # noqa: BLE001 - one bad event never ends the session
                    log.exception("CoT: handling %s failed", event.uid)
                    continue
                if reply:
                    client.send(reply)

    @staticmethod
    def _write(client: _Client) -> None:
        while client.open:
            data = client.queue.get()
            if data is None:
                return
            try:
                client.sock.sendall(data)
            except OSError:
                client.close()
                return
