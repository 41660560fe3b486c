"""Command and the scene at scale (issue 12 §5).

- Directive round trip with 1,000 units connected on /field: a provincial operator issues
  directives over HTTP to units picked at random; each unit accepts at once over its socket;
  timed from the POST to the acceptance arriving on the issuer's own /centre socket. Beside
  a bare python-socketio server doing the same hops with nothing stored (bench.bare_server).
- Snapshot frames ingested per second by one server process with 100 streams posting 640×480
  JPEGs in a closed loop, beside writing the same bytes to files (write, rename) in the same
  run: the floor any server that keeps frames must pay.

Load generators run in their own processes (bench/command_load.py) on the same 2 cores.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from bench.served import LoadGen, Served, load_units, start_bare, start_rescue

DURATION = 20.0
RATE = 10.0  # directives a second: a province's busiest hour in a typhoon is far below
STREAMS = 100
INCIDENTS = 10


def _ratio(baseline: float | None, ours: float | None) -> float | None:
    return round(baseline / ours, 2) if baseline and ours else None


def round_trip(server: Served, bare: bool, units: list[dict[str, Any]], token: str | None,
               duration: float) -> dict[str, Any]:
    field_units = [{**u, "auth": {"unit": u["id"]}} if bare else u for u in units]
    answerers = LoadGen("answerers", {"url": server.url, "units": field_units,
                                      "duration": duration + 8}, module="bench.command_load")
    answerers.ready()
    issuer = LoadGen("issuer", {
        "url": server.url, "units": units, "rate": RATE, "duration": duration,
        "connections": 4, "bare": bare, "token": token or "",
        "auth": {"issuer": "bench"} if bare else {"token": token}},
        module="bench.command_load")
    issuer.ready()
    answerers.start()
    issuer.start()
    out = issuer.result()
    out["answerers"] = answerers.result()
    return out


def scene_frame() -> bytes:
    """A 640×480 JPEG with a scene's detail (noise over gradients): ~40-60 KB."""
    from PIL import Image, ImageFilter

    noise = Image.effect_noise((640, 480), 40).filter(ImageFilter.GaussianBlur(1))
    img = Image.merge("RGB", (noise, noise.rotate(180), Image.linear_gradient("L").resize(
        (640, 480))))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=70)
    return buf.getvalue()


def disk_floor(frame: bytes, seconds: float = 5.0) -> float:
    """Frames a second written as files the way a store keeps them (temporary name, rename),
    one process: the baseline for ingest."""
    root = Path(tempfile.mkdtemp(prefix="frames-floor-"))
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        d = root / f"{n % 256:02x}"
        d.mkdir(exist_ok=True)
        tmp = d / f".part-{n}"
        tmp.write_bytes(frame)
        os.replace(tmp, d / f"f{n}.jpg")
        n += 1
    return n / (time.perf_counter() - t0)


def ingest(server: Served, frame: bytes, duration: float) -> dict[str, Any]:
    admin = server.tokens["admin"]
    h = {"Authorization": f"Bearer {admin}"}
    incidents = []
    for i in range(INCIDENTS):
        r = requests.post(f"{server.url}/api/v1/incidents", headers=h, timeout=30, json={
            "title": f"bench scene {i}", "category": "flood", "severity": "III",
            "lat": 27.9 + i * 0.01, "lon": 120.6})
        r.raise_for_status()
        incidents.append(r.json()["id"])
    streams = [{"incident": incidents[i % INCIDENTS], "name": f"cam-{i}"}
               for i in range(STREAMS)]
    gen = LoadGen("frames", {"url": server.url, "token": admin, "streams": streams,
                             "frame_hex": frame.hex(), "duration": duration},
                  module="bench.command_load")
    gen.ready()
    cpu0, t0 = server.cpu_s(), time.monotonic()
    gen.start()
    out = gen.result()
    out["server_cpu"] = round((server.cpu_s() - cpu0) / (time.monotonic() - t0), 2)
    return out


def main(quick: bool = False) -> list[dict[str, Any]]:
    n_units = 200 if quick else 1000
    duration = 8.0 if quick else DURATION
    rows: list[dict[str, Any]] = []
    ours = start_rescue()
    bare = start_bare()
    try:
        units = load_units(ours, n_units)
        token = ours.tokens["operator 33"]
        print(f"   command: directive round trip, {n_units} units, ours", file=sys.stderr,
              flush=True)
        o = round_trip(ours, False, units, token, duration)
        print(f"     {o}", file=sys.stderr, flush=True)
        print("   command: directive round trip, bare", file=sys.stderr, flush=True)
        b = round_trip(bare, True, units, None, duration)
        print(f"     {b}", file=sys.stderr, flush=True)
        rows.append({"bench": "command", "size": f"{n_units} units, {RATE:g}/s",
                     "metric": "directive round trip p50 / p99",
                     "value": f"{o['p50_ms']} / {o['p99_ms']}", "unit": "ms",
                     "baseline_name": "bare python-socketio, nothing stored",
                     "baseline_value": f"{b['p50_ms']} / {b['p99_ms']}",
                     "ratio": _ratio(b["p99_ms"], o["p99_ms"])})
        rows.append({"bench": "command", "size": f"{n_units} units, {RATE:g}/s",
                     "metric": "directives answered / issued",
                     "value": f"{o['answered']} / {o['issued']}", "unit": "",
                     "baseline_name": "bare", "baseline_value":
                     f"{b['answered']} / {b['issued']}", "ratio": None})
        frame = scene_frame()
        floor = disk_floor(frame)
        print(f"   command: frames, {STREAMS} streams of {len(frame)} B; disk floor "
              f"{floor:.0f}/s", file=sys.stderr, flush=True)
        f = ingest(ours, frame, duration)
        print(f"     {f}", file=sys.stderr, flush=True)
        rows.append({"bench": "command", "size": f"{STREAMS} streams, {len(frame) // 1024} KB",
                     "metric": "frames ingested per process", "value": f["frames_per_s"],
                     "unit": "frames/s", "baseline_name": "write + rename the same bytes",
                     "baseline_value": round(floor, 1),
                     "ratio": round(f["frames_per_s"] / floor, 3) if floor else None})
        rows.append({"bench": "command", "size": f"{STREAMS} streams",
                     "metric": "frame ack p50 / p99", "value": f"{f['p50_ms']} / {f['p99_ms']}",
                     "unit": "ms", "baseline_name": None, "baseline_value": None,
                     "ratio": None})
    finally:
        ours.stop()
        bare.stop()
    return rows


if __name__ == "__main__":
    from bench.common import print_table

    print_table(main(quick="--quick" in sys.argv))
