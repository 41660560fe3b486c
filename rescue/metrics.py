"""Prometheus metrics (`GET /metrics`): connected clients, delivery, follower lag, field
messages, HTTP latency by route.

One registry per app (never prometheus_client's global one), so several apps in one test
process do not collide; gauges that mirror live state are read when scraped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.clients = Gauge("rescue_socket_clients", "Connected Socket.IO clients",
                             ["namespace"], registry=r)
        self.live_clients = Gauge("rescue_socket_live_clients",
                                  "Clients receiving live frames (caught up)", registry=r)
        self.events_delivered = Counter("rescue_events_delivered_total",
                                        "Events handed to clients (per recipient)",
                                        ["namespace"], registry=r)
        self.frames = Counter("rescue_frames_total", "Live frames emitted (one per view)",
                              registry=r)
        self.refused = Counter("rescue_socket_refused_total", "Refused socket connections",
                               ["namespace", "code"], registry=r)
        self.field = Counter("rescue_field_messages_total", "Field messages by outcome",
                             ["event", "outcome"], registry=r)
        self.follower_seq = Gauge("rescue_follower_seq", "Last seq delivered by the follower",
                                  registry=r)
        self.follower_lag_seq = Gauge("rescue_follower_lag_seq",
                                      "Seqs rung but not yet delivered", registry=r)
        self.follower_lag_ms = Gauge("rescue_follower_lag_ms",
                                     "Commit time to delivery of the last event (ms)",
                                     registry=r)
        self.slow_evictions = Gauge("rescue_slow_client_evictions",
                                    "Slow clients moved to log catch-up", registry=r)
        self.ingest_batch = Histogram("rescue_ingest_batch_size", "Field messages per commit",
                                      buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500), registry=r)
        self.ingest_seconds = Histogram("rescue_ingest_commit_seconds",
                                        "Time to apply and commit one batch",
                                        buckets=_LATENCY_BUCKETS, registry=r)
        self.http = Histogram("rescue_http_request_seconds", "HTTP latency by route",
                              ["method", "route", "status"], buckets=_LATENCY_BUCKETS,
                              registry=r)

    # ------------------------------------------------------------------ hooks

    def refused_connection(self, namespace: str, code: str) -> None:
        self.refused.labels(namespace, code).inc()

    def field_ack(self, namespace: str, event: str, ack: dict[str, Any]) -> None:
        if ack.get("ok"):
            outcome = "duplicate" if ack.get("duplicate") else (
                "ignored" if ack.get("ignored") else "applied")
        else:
            code = (ack.get("error") or {}).get("code")
            outcome = "rate_limited" if code == "rate_limited" else "rejected"
        self.field.labels(event, outcome).inc()

    def delivered(self, namespace: str, n: int) -> None:
        self.events_delivered.labels(namespace).inc(n)

    def frame(self, events: int, members: int) -> None:
        self.frames.inc()
        if events:
            self.events_delivered.labels("live").inc(events * members)

    def ingest(self, batch: int, seconds: float) -> None:
        self.ingest_batch.observe(batch)
        self.ingest_seconds.observe(seconds)

    def watch(self, refresh: Callable[[Metrics], None]) -> None:
        self._refresh = refresh

    # ------------------------------------------------------------------ Flask

    def init_app(self, app: Flask) -> None:
        @app.before_request
        def _start() -> None:
            g._metrics_t0 = time.perf_counter()

        @app.after_request
        def _observe(resp: Response) -> Response:
            t0 = g.pop("_metrics_t0", None)
            if t0 is not None:
                route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
                self.http.labels(request.method, route, str(resp.status_code)).observe(
                    time.perf_counter() - t0)
            return resp

        @app.get("/metrics")
        def metrics() -> Response:
            refresh = getattr(self, "_refresh", None)
            if refresh is not None:
                refresh(self)
            return Response(generate_latest(self.registry), mimetype=CONTENT_TYPE_LATEST)
