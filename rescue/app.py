"""The Flask application factory (the composition root for HTTP and Socket.IO)."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from flask_socketio import SocketIO

from rescue.api import register_api
from rescue.api.errors import register_error_handlers
from rescue.config import Config
from rescue.context import RescueContext

log = logging.getLogger(__name__)


def create_app(config: Config | None = None, *, context: RescueContext | None = None,
               async_mode: str | None = "threading") -> Flask:
    """Build an app. `async_mode` is "gevent" under `rescue serve` (monkey-patched first);
    tests and tools that only use the WSGI test client keep the default."""
    config = config or Config.from_env()
    app = Flask(__name__)
    app.config.update(SECRET_KEY=config.resolved_secret_key(), JSON_SORT_KEYS=False,
                      MAX_CONTENT_LENGTH=64 * 1024 * 1024, TESTING=config.testing)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    ctx = context or RescueContext(config)
    app.extensions["rescue"] = ctx
    register_error_handlers(app)
    register_api(app)

    socketio = SocketIO(async_mode=async_mode, message_queue=config.redis_url,
                        cors_allowed_origins="*", json=app.json)
    socketio.init_app(app)
    app.extensions["rescue_socketio"] = socketio

    @app.get("/")
    def index():  # noqa: ANN202
        return jsonify({"service": "rescue", "api": "/api/v1",
                        "openapi": "/api/v1/openapi.json"})

    return app
