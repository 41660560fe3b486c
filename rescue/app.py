"""The Flask application factory (the composition root for HTTP and Socket.IO)."""

from __future__ import annotations

import logging

from flask import Flask
from flask_socketio import SocketIO

from realtime.wire import TextPacket
from rescue.api import register_api
from rescue.api.contract import build as build_contract
from rescue.api.errors import register_error_handlers
from rescue.api.jsonout import install as install_json
from rescue.config import Config
from rescue.console import register as register_console
from rescue.context import RescueContext
from rescue.metrics import Metrics
from rescue.push import Realtime

log = logging.getLogger(__name__)

# Socket messages are small reports and acks; media goes over HTTP.
MAX_SOCKET_MESSAGE = 256 * 1024


def create_app(config: Config | None = None, *, context: RescueContext | None = None,
               async_mode: str | None = "threading", start_realtime: bool = False) -> Flask:
    """Build an app. `async_mode` is "gevent" under `rescue serve` (monkey-patched first);
    tests and tools that only use the WSGI test client keep the default. `start_realtime`
    runs the log follower and the live router (a serving process)."""
    config = config or Config.from_env()
    app = Flask(__name__)
    app.config.update(SECRET_KEY=config.resolved_secret_key(), JSON_SORT_KEYS=False,
                      MAX_CONTENT_LENGTH=64 * 1024 * 1024, TESTING=config.testing)
    install_json(app)
    ctx = context or RescueContext(config)
    app.extensions["rescue"] = ctx
    register_error_handlers(app)
    register_api(app, build_contract(
        kinds=dict(ctx.vocab.kind_modes), capabilities=ctx.vocab.capabilities,
        statuses=ctx.vocab.statuses, categories=ctx.plans.categories,
        areas=[a.code for a in ctx.geography.areas]))
    metrics = Metrics()
    metrics.init_app(app)
    ctx.ingest.observe = metrics.ingest

    # No message_queue: delivery follows the log (DESIGN §6). Each server's follower reads
    # the shared log and emits to its own clients; relaying through a queue as well would
    # deliver everything twice.
    # async_handlers=False: a client's messages are handled in its own reader, in order,
    # without a new greenlet each (a field unit's reports are sequential anyway, and the
    # spawn was a tenth of the cost of a position).
    socketio = SocketIO(async_mode=async_mode, cors_allowed_origins="*",
                        serializer=TextPacket, max_http_buffer_size=MAX_SOCKET_MESSAGE,
                        ping_interval=10, ping_timeout=20, async_handlers=False)
    socketio.init_app(app)
    app.extensions["rescue_socketio"] = socketio
    realtime = Realtime(ctx, socketio, metrics)
    realtime.install()
    app.extensions["rescue_realtime"] = realtime
    metrics.watch(lambda m: _refresh(m, realtime))
    if start_realtime:
        realtime.start()

    register_console(app, config.web_dir)
    return app


def _refresh(m: Metrics, rt: Realtime) -> None:
    for ns in ("/centre", "/field"):
        m.clients.labels(ns).set(rt.channels.clients(ns))
    m.live_clients.set(rt.router.clients())
    m.follower_seq.set(rt.follower.cursor)
    m.follower_lag_seq.set(rt.follower.lag_seq)
    m.follower_lag_ms.set(rt.follower.last_lag_ms)
    m.slow_evictions.set(rt.router.evictions)
