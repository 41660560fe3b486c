"""Load generators for the realtime benchmarks, each in its own process (under gevent).

    python -m bench.loadgen centres SPEC.json   # N centre clients; probes measure latency
    python -m bench.loadgen field SPEC.json     # field units sending positions over /field
    python -m bench.loadgen http SPEC.json      # field units posting positions over HTTP

SPEC is a JSON object (url, clients or units, rate, duration, ...). The process prints
"ready" when connected, waits for a line on stdin to start, and prints one JSON line with
its measurements at the end. Latency is measured from the fix time a field unit stamps on a
position (its wall clock when sending) to the wall clock of the centre that receives it:
both run on this machine.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import contextlib  # noqa: E402
import gc  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402

from bench.wsclient import SioClient  # noqa: E402


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="microseconds").replace(
        "+00:00", "Z")


def epoch(s: str) -> float:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def connect(make: Any, attempts: int = 5) -> Any:
    for i in range(attempts):
        try:
            return make()
        except Exception:  # noqa: BLE001 - the server is busy accepting: try again
            if i == attempts - 1:
                raise
            gevent.sleep(0.2 * (i + 1))
    return None


def wait_start() -> None:
    # The generator's own collector pauses would be measured as server latency: freeze what
    # is connected and make full passes rare.
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)
    print("ready", flush=True)
    sys.stdin.readline()


# ---------------------------------------------------------------------------- centres


def centres(spec: dict[str, Any]) -> dict[str, Any]:
    latencies: list[float] = []
    ready_at: dict[int, float] = {}
    received = [0]
    clients: list[SioClient] = []
    failed = [0]

    def on_event_for(i: int, probe: bool):  # noqa: ANN202
        def on_event(name: str, data: Any) -> None:
            now = time.time()
            if name == "ready":
                ready_at[i] = now
                return
            if name != "events":
                return
            for ev in data["events"]:
                received[0] += 1
                if probe and ev.get("type") == "resource.position":
                    t = ev["payload"].get("time")
                    if t:
                        latencies.append(now - epoch(t))
        return on_event

    def one(i: int, c: dict[str, Any]) -> None:
        try:
            client = connect(lambda: SioClient(spec["url"], "/centre", c["auth"],
                                               on_event=on_event_for(i, c.get("probe", False)),
                                               decode=c.get("probe", False)))
        except Exception:  # noqa: BLE001 - counted
            failed[0] += 1
            return
        clients.append(client)
        with contextlib.suppress(Exception):  # the end of the run closes it
            client.run()

    t_connect = time.time()
    greenlets = [gevent.spawn(one, i, c) for i, c in enumerate(spec["clients"])]
    deadline = time.time() + 120
    while len(clients) + failed[0] < len(greenlets) and time.time() < deadline:
        gevent.sleep(0.1)
    connected_in = time.time() - t_connect
    wait_start()
    gevent.sleep(spec.get("warmup", 2.0))
    latencies.clear()
    gevent.sleep(spec["duration"])
    for c in clients:
        c.close()
    gevent.killall(greenlets, timeout=2)
    return {"connected": len(clients), "failed": failed[0], "connect_s": connected_in,
            "samples": len(latencies), "p50_ms": _ms(pct(latencies, 0.5)),
            "p99_ms": _ms(pct(latencies, 0.99)), "max_ms": _ms(max(latencies, default=None)),
            "frames": sum(c.frames for c in clients), "received_by_probes": received[0]}


def _ms(x: float | None) -> float | None:
    return None if x is None else round(x * 1000, 2)


# ---------------------------------------------------------------------------- field units


def field(spec: dict[str, Any]) -> dict[str, Any]:
    """Open loop: each unit sends at rate/units Hz, whatever the acks do. With "window",
    closed loop instead: each unit keeps that many positions in flight."""
    units = spec["units"]
    window = spec.get("window")
    warmup = spec.get("warmup", 2.0)
    period = len(units) / spec["rate"] if not window else 0
    acks: list[float] = []
    seqs: list[int] = []
    codes: dict[str, int] = {}
    sent = [0]
    running = [True]
    go = gevent.event.Event()

    def one(u: dict[str, Any], offset: float) -> None:
        pending: dict[int, float] = {}
        freed = gevent.event.Event()

        def on_ack(ack_id: int, ack: Any) -> None:
            t0 = pending.pop(ack_id, None)
            if t0 is not None and running[0]:
                acks.append(time.time() - t0)
            code = "ok" if ack.get("ok") else ack["error"]["code"]
            codes[code] = codes.get(code, 0) + 1
            if ack.get("seq"):
                seqs.append(ack["seq"])
            freed.set()

        client = connect(lambda: SioClient(spec["url"], "/field", u["auth"], on_ack=on_ack))
        reader = gevent.spawn(client.run)
        go.wait()
        gevent.sleep(offset)
        n = 0
        nxt = time.time()
        while running[0]:
            if window:
                while len(pending) >= window and running[0]:
                    freed.clear()
                    freed.wait(1.0)
            now = time.time()
            n += 1
            pending[n] = now
            fix = {"id": uuid.uuid4().hex, "lat": u["lat"] + n * 1e-6, "lon": u["lon"],
                   "time": iso(now)}
            if spec.get("bare"):  # the bare server routes by the area the message names
                fix["area"] = u.get("area")
            client.emit("position", fix, ack_id=n)
            sent[0] += 1
            if not window:
                nxt += period
                gevent.sleep(max(0.0, nxt - time.time()))
        gevent.sleep(2)
        reader.kill()
        client.close()

    greenlets = []
    for i, u in enumerate(units):
        greenlets.append(gevent.spawn(one, u, (i / len(units)) * period if period else 0))
    wait_start()
    go.set()
    gevent.sleep(warmup)  # connections settle, caches warm: not measured
    sent[0] = 0
    acks.clear()
    codes.clear()
    t0 = time.time()
    gevent.sleep(spec["duration"])
    elapsed = time.time() - t0
    running[0] = False
    done = len(acks)
    gevent.joinall(greenlets, timeout=5)
    return {"sent": sent[0], "acked": done, "acks_per_s": round(done / elapsed, 1),
            "ack_p50_ms": _ms(pct(acks, 0.5)), "ack_p99_ms": _ms(pct(acks, 0.99)),
            "codes": codes, "seqs": seqs if spec.get("report_seqs") else []}


# ---------------------------------------------------------------------------- HTTP


def http_field(spec: dict[str, Any]) -> dict[str, Any]:
    """Closed loop over kept-alive HTTP connections, one per unit."""
    host, port = spec["url"].replace("http://", "").split(":")
    acks: list[float] = []
    seqs: list[int] = []
    codes: dict[int, int] = {}
    running = [True]

    def one(u: dict[str, Any]) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        n = 0
        while running[0]:
            n += 1
            now = time.time()
            body = json.dumps({"lat": u["lat"] + n * 1e-6, "lon": u["lon"], "time": iso(now)})
            conn.request("POST", f"/api/v1/resources/{u['id']}/position", body=body, headers={
                "Authorization": f"Bearer {u['token']}", "Content-Type": "application/json",
                "Idempotency-Key": uuid.uuid4().hex})
            resp = conn.getresponse()
            data = resp.read()
            codes[resp.status] = codes.get(resp.status, 0) + 1
            if resp.status == 200 and running[0]:
                acks.append(time.time() - now)
                seq = json.loads(data).get("seq")
                if seq:
                    seqs.append(seq)
        conn.close()

    greenlets = [gevent.spawn(one, u) for u in spec["units"]]
    gevent.sleep(1)
    wait_start()
    acks.clear()
    seqs.clear()
    codes.clear()
    t0 = time.time()
    gevent.sleep(spec["duration"])
    elapsed = time.time() - t0
    running[0] = False
    done = len(acks)
    gevent.joinall(greenlets, timeout=10)
    return {"acked": done, "acks_per_s": round(done / elapsed, 1),
            "ack_p50_ms": _ms(pct(acks, 0.5)), "ack_p99_ms": _ms(pct(acks, 0.99)),
            "codes": codes, "seqs": seqs}


def main() -> None:
    mode, path = sys.argv[1], sys.argv[2]
    with open(path) as f:
        spec = json.load(f)
    result = {"centres": centres, "field": field, "http": http_field}[mode](spec)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
