"""`GET /metrics` (Prometheus text) and the `rescue field` drill tool against a served demo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import requests

from tests.e2e.sockets import Listener, field_token


def metric(text: str, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        if key == name or key == f"{name}{{{want}}}":
            return float(value)
    raise AssertionError(f"no {name}{{{want}}} in /metrics")


def test_metrics_count_clients_deliveries_and_field_messages(server) -> None:
    centre = Listener(server.base, server.tokens["operator 3303"]).connect()
    token = field_token(server.log.parent, "vv-dt-2")
    rescue = Path(sys.executable).with_name("rescue")
    out = subprocess.run([str(rescue), "field", "--unit", "vv-dt-2", "--token", token,
                          "--url", server.base, "--count", "5", "--interval", "0.1"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "acknowledged 5" in out.stdout, out.stdout
    centre.wait_for(lambda e: e["type"] == "resource.position"
                    and e["payload"]["id"] == "vv-dt-2")
    text = requests.get(server.base + "/metrics", timeout=10).text
    assert metric(text, "rescue_socket_clients", namespace="/centre") >= 1
    assert metric(text, "rescue_field_messages_total", event="position", outcome="applied") >= 5
    assert metric(text, "rescue_events_delivered_total", namespace="live") >= 1
    assert metric(text, "rescue_follower_seq") > 0
    assert "rescue_http_request_seconds_bucket" in text
    assert 'route="/api/v1/resources/<rid:rid>"' in text
    centre.disconnect()
