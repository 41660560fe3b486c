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


def serve(app: Flask, host: str, port: int, *, on_stop: Any = None) -> None:
    """Serve until SIGTERM or SIGINT, then stop accepting and call `on_stop`."""
    import gevent

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
