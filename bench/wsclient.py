"""A minimal Socket.IO-over-websocket client for load generators (run under gevent).

Thousands of them live in one process, so the per-frame cost must be a few microseconds:
frames are split by hand and only clients that measure ("probes") decode the JSON. Speaks
just enough of RFC 6455, Engine.IO 4 and Socket.IO 5: connect with auth, answer pings, emit
with or without an ack id, and hand each `events` frame to a callback.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import struct
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse


class WsError(Exception):
    pass


class SioClient:
    def __init__(self, url: str, namespace: str, auth: dict[str, Any], *,
                 on_event: Callable[[str, Any], None] | None = None,
                 on_ack: Callable[[int, Any], None] | None = None,
                 decode: bool = True, timeout: float = 30.0) -> None:
        self.namespace = namespace
        self.on_event = on_event
        self.on_ack = on_ack
        self.decode = decode
        self.frames = 0
        u = urlparse(url)
        self.sock = socket.create_connection((u.hostname, u.port or 80), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                           f"Host: {u.hostname}:{u.port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
        self._buf = b""
        while b"\r\n\r\n" not in self._buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise WsError("closed during the handshake")
            self._buf += chunk
        head, self._buf = self._buf.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise WsError(head.decode(errors="replace"))
        opened = self._next()  # Engine.IO open packet
        if not opened.startswith(b"0"):
            raise WsError(f"unexpected {opened[:40]!r}")
        self.send_text(f"40{namespace}," + json.dumps(auth))
        reply = self._next()
        while reply == b"2":
            self.send_text("3")
            reply = self._next()
        if not reply.startswith(f"40{namespace}".encode()):
            raise WsError(f"refused: {reply[:200]!r}")
        self.sock.settimeout(None)

    # ------------------------------------------------------------------ frames

    def send_text(self, text: str) -> None:
        data = text.encode()
        n = len(data)
        head = bytes([0x81])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        # masking a small payload byte by byte is fine for a load generator
        masked = bytes(b ^ mask[i & 3] for i, b in enumerate(data))
        self.sock.sendall(head + mask + masked)

    def _fill(self, need: int) -> None:
        while len(self._buf) < need:
            chunk = self.sock.recv(262144)
            if not chunk:
                raise WsError("closed")
            self._buf += chunk

    def _next(self) -> bytes:
        """The next complete message (continuation frames joined)."""
        out = b""
        while True:
            self._fill(2)
            b0, b1 = self._buf[0], self._buf[1]
            n = b1 & 0x7F
            pos = 2
            if n == 126:
                self._fill(4)
                n = struct.unpack("!H", self._buf[2:4])[0]
                pos = 4
            elif n == 127:
                self._fill(10)
                n = struct.unpack("!Q", self._buf[2:10])[0]
                pos = 10
            self._fill(pos + n)
            payload = self._buf[pos:pos + n]
            self._buf = self._buf[pos + n:]
            opcode = b0 & 0x0F
            if opcode == 8:
                raise WsError("closed by the server")
            if opcode in (9, 10):
                continue
            out += payload
            if b0 & 0x80:
                return out

    # ------------------------------------------------------------------ socket.io

    def emit(self, event: str, data: Any, ack_id: int | None = None) -> None:
        tail = "" if ack_id is None else str(ack_id)
        self.send_text(f"42{self.namespace},{tail}" + json.dumps([event, data]))

    def run(self) -> None:
        """Read until the connection ends; answer pings; dispatch events and acks."""
        prefix_ev = f"42{self.namespace},".encode()
        prefix_ack = f"43{self.namespace},".encode()
        while True:
            msg = self._next()
            if msg == b"2":
                self.send_text("3")
                continue
            self.frames += 1
            if msg.startswith(prefix_ev):
                if self.decode and self.on_event is not None:
                    name, data = json.loads(msg[len(prefix_ev):])
                    self.on_event(name, data)
            elif msg.startswith(prefix_ack) and self.on_ack is not None:
                body = msg[len(prefix_ack):]
                i = body.index(b"[")
                self.on_ack(int(body[:i]), json.loads(body[i:])[0])

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
