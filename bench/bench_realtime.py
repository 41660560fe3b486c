"""Live push at scale: N centre clients, M field updates a second, ours beside a bare
python-socketio server (one emit per update per room) in the same run.

Figures: delivery latency p50/p99 from a field unit's emit to a centre's receipt, field ack
latency, the highest update rate each server sustains at 1,000 centres with p99 under
100 ms, server memory per connection, and a 10,000-event resume. Load generators run in
their own processes (bench/loadgen.py); this machine has 2 cores, so they share the
machine with the server: the figures are for the pair.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from bench.served import LoadGen, Served, centre_specs, load_units, start_bare, start_rescue
from bench.wsclient import SioClient

DURATION = 10.0
PROBES = 30


def run_point(server: Served, bare: bool, units: list[dict[str, Any]], n: int, rate: float,
              duration: float = DURATION) -> dict[str, Any]:
    clients = LoadGen("centres", {"url": server.url, "clients": centre_specs(n, PROBES, bare),
                                  "duration": duration + 1})
    clients.ready()
    rss_before = server.rss_kb()
    field_units = [{**u, "auth": {"area": u["area"]}} if bare else u for u in units]
    field = LoadGen("field", {"url": server.url, "units": field_units, "rate": rate,
                              "duration": duration, "bare": bare})
    field.ready()
    clients.start()
    field.start()
    cpu0, t0 = server.cpu_s(), time.monotonic()
    f = field.result()
    cpu = (server.cpu_s() - cpu0) / (time.monotonic() - t0)
    c = clients.result()
    return {"clients": c, "field": f, "rss_kb": server.rss_kb(), "rss_before_kb": rss_before,
            "server_cpu": round(cpu, 2)}


def ok(point: dict[str, Any], rate: float) -> bool:
    """Sustained: p99 under 100 ms, every client connected, acks keeping up with sends."""
    c, f = point["clients"], point["field"]
    return (c["failed"] == 0 and c["p99_ms"] is not None and c["p99_ms"] < 100
            and f["acks_per_s"] >= 0.9 * rate)


def resume_10k(server: Served, bare: bool, token: str | None) -> float:
    """Seconds from asking for the last 10,000 events to having them all."""
    import gevent
    import gevent.event  # not bench.loadgen: importing it would patch everything (patch_all)

    done = gevent.event.Event()
    got = [0]

    def on_event(name: str, data: Any) -> None:
        if name == "events":
            got[0] += len(data["events"])
        elif name == "ready":
            done.set()

    if bare:
        auth: dict[str, Any] = {"scope": "33", "backlog": 10_000}
    else:
        from tests.e2e.sockets import head

        assert token is not None
        last = head(server.url + "/api/v1", token)
        auth = {"token": token, "last_seq": max(0, last - 10_000)}
    t0 = time.perf_counter()
    client = SioClient(server.url, "/centre", auth, on_event=on_event, decode=True)
    reader = gevent.spawn(client.run)
    done.wait(60)
    elapsed = time.perf_counter() - t0
    reader.kill()
    client.close()
    return elapsed


def main(quick: bool = False) -> list[dict[str, Any]]:
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        # the resume probe runs here; the rest of the bench only starts processes
        monkey.patch_socket()
    n_units = 300 if quick else 1000
    points = [(100, 250)] if quick else [(100, 1000), (1000, 250), (1000, 500), (1000, 1000),
                                         (1000, 2000)]
    most = [] if quick else [2000, 3000]
    rows: list[dict[str, Any]] = []
    ours = start_rescue()
    bare = start_bare()
    try:
        units = load_units(ours, n_units)
        results: dict[tuple[str, int, float], dict[str, Any]] = {}
        for n, rate in points:
            for name, server in (("ours", ours), ("bare", bare)):
                key = (name, n, rate)
                print(f"   realtime: {name} {n} centres, {rate:g} updates/s", file=sys.stderr,
                      flush=True)
                results[key] = run_point(server, name == "bare", units, n, rate)
                r = results[key]
                print(f"     p50 {r['clients']['p50_ms']} ms p99 {r['clients']['p99_ms']} ms, "
                      f"acks {r['field']['acks_per_s']}/s (p50 {r['field']['ack_p50_ms']} ms, "
                      f"p99 {r['field']['ack_p99_ms']} ms) codes {r['field']['codes']}, "
                      f"connected {r['clients']['connected']}, server CPU {r['server_cpu']:.0%}",
                      file=sys.stderr, flush=True)
        for n, rate in points:
            o, b = results[("ours", n, rate)], results[("bare", n, rate)]
            rows.append({"bench": "realtime", "size": f"{n} centres, {rate:g}/s",
                         "metric": "delivery p50 / p99 (ms)",
                         "value": f"{o['clients']['p50_ms']} / {o['clients']['p99_ms']}",
                         "unit": "ms", "baseline_name": "bare python-socketio",
                         "baseline_value": f"{b['clients']['p50_ms']} / {b['clients']['p99_ms']}",
                         "ratio": _ratio(b["clients"]["p99_ms"], o["clients"]["p99_ms"])})
        best = {name: max([rate for (nm, n, rate), r in results.items()
                           if nm == name and n == 1000 and ok(r, rate)], default=0.0)
                for name in ("ours", "bare")}
        if not quick:
            o, b = best["ours"], best["bare"]
            rows.append({"bench": "realtime", "size": "1000 centres",
                         "metric": "highest rate at p99 < 100 ms", "value": o,
                         "unit": "updates/s", "baseline_name": "bare python-socketio",
                         "baseline_value": b, "ratio": _ratio(o, b)})
            big = results[("ours", 1000, 250)]
            per = (big["rss_kb"] - big["rss_before_kb"]) / 1000
            bbig = results[("bare", 1000, 250)]
            bper = (bbig["rss_kb"] - bbig["rss_before_kb"]) / 1000
            rows.append({"bench": "realtime", "size": "1000 centres",
                         "metric": "server memory per connection", "value": round(per, 1),
                         "unit": "KB", "baseline_name": "bare python-socketio",
                         "baseline_value": round(bper, 1), "ratio": _ratio(bper, per)})
        for n in most:
            print(f"   realtime: ours {n} centres at 250 updates/s", file=sys.stderr, flush=True)
            r = run_point(ours, False, units, n, 250)
            print(f"     p99 {r['clients']['p99_ms']} ms, connected {r['clients']['connected']}"
                  f"/{n}", file=sys.stderr, flush=True)
            rows.append({"bench": "realtime", "size": f"{n} centres, 250/s",
                         "metric": "delivery p99 (ms), connected",
                         "value": f"{r['clients']['p99_ms']}, {r['clients']['connected']}",
                         "unit": "", "baseline_name": None, "baseline_value": None,
                         "ratio": None})
        admin = ours.tokens["admin"]
        t_ours = min(resume_10k(ours, False, admin) for _ in range(3))
        t_bare = min(resume_10k(bare, True, None) for _ in range(3))
        rows.append({"bench": "realtime", "size": "10,000 events", "metric": "resume",
                     "value": round(t_ours * 1000), "unit": "ms",
                     "baseline_name": "bare: one emit per event",
                     "baseline_value": round(t_bare * 1000), "ratio": _ratio(t_bare, t_ours)})
    finally:
        ours.stop()
        bare.stop()
    return rows


def _ratio(baseline: float | None, ours: float | None) -> float | None:
    if not baseline or not ours:
        return None
    return round(baseline / ours, 2)


if __name__ == "__main__":
    from bench.common import print_table

    print_table(main(quick="--quick" in sys.argv))
