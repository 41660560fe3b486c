"""Load generators for the command benchmarks, each in its own process (under gevent).

    python -m bench.command_load answerers SPEC.json  # units that accept every directive
    python -m bench.command_load issuer SPEC.json     # a centre issuing directives over HTTP
    python -m bench.command_load frames SPEC.json     # snapshot streams posting JPEG frames

As bench.loadgen: prints "ready", waits for a line on stdin, prints one JSON line at the end.
The issuer times each directive from the moment its POST is sent to the moment the unit's
acceptance reaches the issuer's own socket (the round trip an operator waits for).
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import contextlib  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402

from bench.loadgen import _ms, connect, pct, wait_start  # noqa: E402
from bench.wsclient import SioClient  # noqa: E402


def answerers(spec: dict[str, Any]) -> dict[str, Any]:
    """Each unit answers `accepted` to every directive addressed to it, at once."""
    answered = [0]
    clients: list[SioClient] = []

    def one(u: dict[str, Any]) -> None:
        holder: list[SioClient] = []

        def on_event(name: str, data: Any) -> None:
            if name != "events":
                return
            for ev in data["events"]:
                if ev.get("type") == "directive.issued":
                    answered[0] += 1
                    holder[0].emit("answer", {"id": uuid.uuid4().hex, "state": "accepted",
                                              "directive": ev["payload"]["directive"]["id"]},
                                   ack_id=answered[0])

        client = connect(lambda: SioClient(spec["url"], "/field", u["auth"], on_event=on_event))
        holder.append(client)
        clients.append(client)
        with contextlib.suppress(Exception):
            client.run()

    greenlets = [gevent.spawn(one, u) for u in spec["units"]]
    deadline = time.time() + 120
    while len(clients) < len(greenlets) and time.time() < deadline:
        gevent.sleep(0.1)
    wait_start()
    gevent.sleep(spec["duration"])
    for c in clients:
        c.close()
    gevent.killall(greenlets, timeout=2)
    return {"connected": len(clients), "answered": answered[0]}


def issuer(spec: dict[str, Any]) -> dict[str, Any]:
    host, port = spec["url"].replace("http://", "").split(":")
    sent_at: dict[str, float] = {}
    answered_at: dict[str, float] = {}
    codes: dict[int, int] = {}

    def on_event(name: str, data: Any) -> None:
        if name != "events":
            return
        now = time.time()
        for ev in data["events"]:
            if ev.get("type") == "directive.answered" \
                    and ev["payload"]["answer"]["state"] == "accepted":
                answered_at.setdefault(ev["payload"]["directive"]["id"], now)

    centre = connect(lambda: SioClient(spec["url"], "/centre", spec["auth"], on_event=on_event))
    reader = gevent.spawn(centre.run)
    units = [u["id"] for u in spec["units"]]
    rng = random.Random(7)
    wait_start()
    period = 1.0 / spec["rate"]
    running = [True]

    def sender(k: int) -> None:  # a few connections, as a console's browser has
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        nxt = time.time() + k * period
        while running[0]:
            gevent.sleep(max(0.0, nxt - time.time()))
            nxt += period * spec["connections"]
            directive: dict[str, Any] = {"to": {"resources": [rng.choice(units)]},
                                         "text": "报告当前位置与人员状态 (report position)"}
            if spec.get("bare"):
                directive["issuer"] = "bench"  # the bare server routes the answer by it
            body = json.dumps(directive)
            t0 = time.time()
            conn.request("POST", "/api/v1/directives", body=body, headers={
                "Authorization": f"Bearer {spec['token']}", "Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            codes[resp.status] = codes.get(resp.status, 0) + 1
            if resp.status == 201:
                sent_at[json.loads(data)["id"]] = t0
        conn.close()

    senders = [gevent.spawn(sender, k) for k in range(spec["connections"])]
    gevent.sleep(spec["duration"])
    running[0] = False
    gevent.joinall(senders, timeout=10)
    gevent.sleep(3)  # the last answers
    reader.kill()
    centre.close()
    trips = [answered_at[i] - t for i, t in sent_at.items() if i in answered_at]
    return {"issued": len(sent_at), "answered": len(trips), "codes": codes,
            "p50_ms": _ms(pct(trips, 0.5)), "p99_ms": _ms(pct(trips, 0.99)),
            "max_ms": _ms(max(trips, default=None))}


def frames(spec: dict[str, Any]) -> dict[str, Any]:
    """Closed loop: each stream posts its next frame as soon as the last is acknowledged."""
    host, port = spec["url"].replace("http://", "").split(":")
    frame = bytes.fromhex(spec["frame_hex"])
    acks: list[float] = []
    codes: dict[int, int] = {}
    running = [False]
    stopped = [False]

    def one(s: dict[str, Any]) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        path = f"/api/v1/incidents/{s['incident']}/streams/{s['name']}/frames"
        while not stopped[0]:
            t0 = time.time()
            conn.request("POST", path, body=frame, headers={
                "Authorization": f"Bearer {spec['token']}", "Content-Type": "image/jpeg"})
            resp = conn.getresponse()
            resp.read()
            if running[0]:
                codes[resp.status] = codes.get(resp.status, 0) + 1
                if resp.status == 201:
                    acks.append(time.time() - t0)
        conn.close()

    wait_start()
    greenlets = [gevent.spawn(one, s) for s in spec["streams"]]
    gevent.sleep(spec.get("warmup", 2.0))
    running[0] = True
    t0 = time.time()
    gevent.sleep(spec["duration"])
    running[0] = False
    elapsed = time.time() - t0
    stopped[0] = True
    gevent.joinall(greenlets, timeout=30)
    return {"frames": len(acks), "frames_per_s": round(len(acks) / elapsed, 1),
            "p50_ms": _ms(pct(acks, 0.5)), "p99_ms": _ms(pct(acks, 0.99)), "codes": codes}


def main() -> None:
    mode, path = sys.argv[1], sys.argv[2]
    with open(path) as f:
        spec = json.load(f)
    result = {"answerers": answerers, "issuer": issuer, "frames": frames}[mode](spec)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
