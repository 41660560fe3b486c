"""HTTP requests on a kept-alive connection (a browser, a field client) beside a new
connection per request, against `rescue serve` in the same run. Before TCP_NODELAY every
request after the first on a kept-alive connection waited ~40 ms for a delayed ACK."""

from __future__ import annotations

import http.client
import statistics
import sys
import time
from typing import Any

from bench.served import start_rescue


def _one(conn: http.client.HTTPConnection, path: str, token: str) -> float:
    t = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 200, resp.status
    return time.perf_counter() - t


def measure(host: str, port: int, path: str, token: str, n: int) -> tuple[float, float]:
    """(p50 kept-alive, p50 new connection each) in seconds."""
    conn = http.client.HTTPConnection(host, port, timeout=30)
    _one(conn, path, token)  # the first request opens it
    kept = [_one(conn, path, token) for _ in range(n)]
    conn.close()
    fresh = []
    for _ in range(n):
        c = http.client.HTTPConnection(host, port, timeout=30)  # connects on its first request
        fresh.append(_one(c, path, token))
        c.close()
    return statistics.median(kept), statistics.median(fresh)


def main(quick: bool = False) -> list[dict[str, Any]]:
    server = start_rescue()
    rows = []
    try:
        host, port = server.url.replace("http://", "").split(":")
        token = server.tokens["admin"]
        n = 50 if quick else 300
        for path in ("/api/v1/health", "/api/v1/resources/vv-dt-1", "/api/v1/incidents"):
            kept, fresh = measure(host, int(port), path, token, n)
            rows.append({"bench": "http", "size": path, "metric": "request p50, kept-alive",
                         "value": round(kept * 1000, 2), "unit": "ms",
                         "baseline_name": "new connection per request",
                         "baseline_value": round(fresh * 1000, 2),
                         "ratio": round(fresh / kept, 2)})
    finally:
        server.stop()
    return rows


if __name__ == "__main__":
    from bench.common import print_table

    print_table(main(quick="--quick" in sys.argv))
