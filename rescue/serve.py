"""The gevent server for `rescue serve`: HTTP and Socket.IO (websocket) on one port.

Our own rather than SocketIO.run for one reason: TCP_NODELAY. pywsgi writes a response's
headers and body in separate sends; with Nagle's algorithm the body waits for the client's
delayed ACK of the headers, so every request on a kept-alive connection took ~45 ms instead
of ~5 (a browser or field client capped at ~20 requests a second per connection).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
from collections import OrderedDict
from typing import Any

from flask import Flask
from gevent import pywsgi
from geventwebsocket.handler import WebSocketHandler

log = logging.getLogger(__name__)


class NoDelayHandler(WebSocketHandler):
    """Sends small writes at once (see the module docstring)."""

    def __init__(self, sock: socket.socket, address: Any, server: Any, *args: Any,
                 **kwargs: Any) -> None:
        with contextlib.suppress(OSError):  # not TCP (a unix socket): nothing to tune
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().__init__(sock, address, server, *args, **kwargs)

    def log_request(self) -> None:
        """No access log line per request: /metrics has the latency per route."""


def _fast_websocket_frames() -> None:
    """gevent-websocket unmasks client frames one byte at a time in Python and checks UTF-8
    in Python twice per message, then decodes it (which checks UTF-8 again, in C, and closes
    the socket with 1007 when it fails). At a thousand field messages a second that was a
    tenth of the server's time: unmask with one integer XOR, and let the decode check. Its
    writes go through gevent's sendall, which makes a system call for the buffer size on
    each frame: write with send instead."""
    from geventwebsocket.exceptions import WebSocketError
    from geventwebsocket.websocket import MSG_SOCKET_DEAD, Header, Stream, WebSocket

    def unmask(self: Any, payload: bytes) -> bytes:
        n = len(payload)
        if not n:
            return payload
        mask = (bytes(self.mask) * (n // 4 + 1))[:n]
        return (int.from_bytes(payload, "big") ^ int.from_bytes(mask, "big")).to_bytes(n, "big")

    def decode_checks_it(self: Any, payload: bytes) -> None:
        self.utf8validate_last = (True, True, 0, 0)

    Header.mask_payload = Header.unmask_payload = unmask
    WebSocket.validate_utf8 = decode_checks_it

    # gevent's sendall asks the kernel for SO_SNDBUF on every call (to chunk megabytes);
    # frames are small and many: send directly, waiting only when the socket is full.
    def send_all(sock: Any, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[sock.send(view):]

    def stream_init(self: Any, handler: Any) -> None:
        self.handler = handler
        self.read = handler.rfile.read
        sock = handler.socket
        self.write = lambda data: send_all(sock, data)

    Stream.__init__ = stream_init

    # One live frame goes to every member of a room: python-socketio encodes it once, but
    # each member's socket turned that text into bytes and a frame again. Keep the last
    # frames built, by the identity of their text, and send the same bytes to all.
    built: OrderedDict[int, tuple[str, bytes]] = OrderedDict()
    plain_send_frame = WebSocket.send_frame

    def send_frame(self: Any, message: Any, opcode: int) -> None:
        if opcode != WebSocket.OPCODE_TEXT or not isinstance(message, str) or self.closed:
            return plain_send_frame(self, message, opcode)
        hit = built.get(id(message))
        if hit is None or hit[0] is not message:
            data = message.encode("utf-8")
            hit = (message, Header.encode_header(True, opcode, b"", len(data), 0) + data)
            built[id(message)] = hit
            if len(built) > 256:
                built.popitem(last=False)
        try:
            self.raw_write(hit[1])
        except OSError:
            raise WebSocketError(MSG_SOCKET_DEAD) from None

    WebSocket.send_frame = send_frame


def serve(app: Flask, host: str, port: int, *, on_stop: Any = None) -> None:
    """Serve until SIGTERM or SIGINT, then stop accepting and call `on_stop`."""
    import gevent

    _fast_websocket_frames()

    server = pywsgi.WSGIServer((host, port), app, handler_class=NoDelayHandler, log=None,
                               error_log=logging.getLogger("rescue.http"))

    def stop(*_: Any) -> None:
        log.info("stopping: no new connections; closing")
        gevent.spawn(server.stop, timeout=5)

    gevent.signal_handler(signal.SIGTERM, stop)
    gevent.signal_handler(signal.SIGINT, stop)
    server.serve_forever()
    if on_stop is not None:
        on_stop()
