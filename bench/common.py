"""Shared helpers of the benchmarks: a private redis-server, statistics, tables, and a seeded
synthetic registry of the Wenzhou area."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from resources.model import Home, Resource

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

# County-level seats of Wenzhou (lat, lon): homes cluster around them.
SEATS = {
    "330302": (28.0157, 120.6556), "330303": (27.9345, 120.8128), "330304": (28.0064, 120.6367),
    "330305": (27.8357, 121.1567), "330324": (28.1532, 120.6908), "330326": (27.6618, 120.5654),
    "330327": (27.5177, 120.4253), "330328": (27.7900, 120.0890), "330329": (27.5581, 119.7177),
    "330381": (27.7786, 120.6553), "330382": (28.1131, 120.9680), "330383": (27.5784, 120.5521),
}
COASTAL = ("330303", "330305", "330326", "330327", "330381", "330382", "330383")

KINDS = {  # kind: (share, speed km/h, readiness s, range km, capabilities with probability)
    "land_team": (0.40, 50, 900, None, {"heavy_rescue": .4, "search": .6, "medical": .3,
                                        "rope_rescue": .2, "firefighting": .3, "hazmat": .08,
                                        "flood_rescue": .25, "search_dog": .06}),
    "volunteer_team": (0.30, 40, 1800, None, {"search": .7, "medical": .2, "evacuation": .5,
                                              "flood_rescue": .3, "transport": .3}),
    "expert_team": (0.03, 60, 1800, None, {"structural_expert": .8, "hazmat": .3,
                                           "communications": .3}),
    "helicopter": (0.01, 250, 900, 600.0, {"hoist": .7, "medevac": .6, "search": .6,
                                           "firefighting_air": .2, "night_ops": .4}),
    "fixed_wing": (0.005, 400, 1800, 2000.0, {"search": .9, "survey": .8, "transport": .3}),
    "drone": (0.055, 80, 300, 60.0, {"survey": .9, "search": .5, "night_ops": .3,
                                     "communications": .2}),
    "vessel": (0.08, 35, 1200, None, {"water_rescue": .8, "towing": .5, "diving": .3,
                                      "medevac": .2, "firefighting": .15, "search": .5}),
    "volunteer_vessel": (0.12, 25, 1800, None, {"water_rescue": .6, "search": .5,
                                                "towing": .2, "transport": .3}),
}
STATUS_MIX = {"available": .70, "assigned": .08, "en_route": .05, "on_scene": .07,
              "returning": .04, "out_of_service": .06}


def synthetic_registry(n: int, seed: int = 7, now: datetime = NOW) -> list[Resource]:
    """n resources around Wenzhou's county seats (vessels at the coast and at sea), with a
    realistic mix of kinds, capabilities and statuses; 60 % report a position up to 3 h old."""
    rng = np.random.default_rng(seed)
    kinds = list(KINDS)
    kind_i = rng.choice(len(kinds), n, p=np.array([KINDS[k][0] for k in kinds]) /
                        sum(KINDS[k][0] for k in kinds))
    seats = list(SEATS)
    coastal_i = np.array([seats.index(c) for c in COASTAL])
    seat_i = rng.integers(0, len(seats), n)
    at_sea = np.isin(np.array(kinds)[kind_i], ["vessel", "volunteer_vessel"])
    seat_i[at_sea] = coastal_i[rng.integers(0, len(coastal_i), at_sea.sum())]
    slat = np.array([SEATS[s][0] for s in seats])[seat_i]
    slon = np.array([SEATS[s][1] for s in seats])[seat_i]
    hlat = slat + rng.normal(0, 0.06, n)
    hlon = slon + rng.normal(0, 0.06, n) + np.where(at_sea, 0.15, 0.0)
    has_pos = rng.random(n) < 0.6
    plat = hlat + rng.normal(0, 0.08, n)
    plon = hlon + rng.normal(0, 0.08, n) + np.where(at_sea, rng.random(n) * 0.6, 0.0)
    age = rng.uniform(0, 3 * 3600, n)
    statuses = list(STATUS_MIX)
    status_i = rng.choice(len(statuses), n, p=list(STATUS_MIX.values()))
    cap_draw = rng.random((n, 8))
    cap_sets: list[tuple[str, ...]] = []
    for i in range(n):
        probs = KINDS[kinds[kind_i[i]]][4]
        cap_sets.append(tuple(sorted(c for j, (c, p) in enumerate(probs.items())
                                     if cap_draw[i, j] < p)))
    times = [now - timedelta(seconds=float(a)) for a in age]
    out = []
    for i in range(n):
        k = kinds[kind_i[i]]
        _, speed, ready, rng_km, _ = KINDS[k]
        area = seats[seat_i[i]] + ("M" if at_sea[i] else "")
        p = bool(has_pos[i])
        out.append(Resource(
            id=f"s{i:07d}", name=f"{k} {i}", call_sign=None, kind=k, tier=None, agency=None,
            capabilities=cap_sets[i], crew=4, capacity=0, speed_kmh=float(speed),
            readiness_s=float(ready), range_km=rng_km, home=Home(None, float(hlat[i]),
                                                                 float(hlon[i])),
            lat=float(plat[i]) if p else None, lon=float(plon[i]) if p else None,
            position_time=times[i] if p else None, status=statuses[status_i[i]], area=area))
    return out


def clustered_registry(n: int, seed: int = 7, now: datetime = NOW,
                       spread_m: float = 300.0) -> list[Resource]:
    """n units shaped like a real registry: copies of the demo's 95 units (kind, capabilities,
    speed, readiness, range, area), each within a few hundred metres of that unit's base (at
    bases and ports, on the islands too), every one with a fresh position near its base."""
    from rescue.demo import demo_registry
    from resources.model import resource_from_dict
    from resources.vocabulary import Vocabulary

    vocab = Vocabulary.default()
    demo = [resource_from_dict(r, vocab) for r in demo_registry()]
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(demo), n)
    km = spread_m / 1000.0
    home_dy, home_dx = rng.normal(0, km, n), rng.normal(0, km, n)
    pos_dy, pos_dx = rng.normal(0, km, n), rng.normal(0, km, n)
    age = rng.uniform(0, 600, n)
    statuses = list(STATUS_MIX)
    status_i = rng.choice(len(statuses), n, p=list(STATUS_MIX.values()))
    out = []
    for i in range(n):
        t = demo[pick[i]]
        lat0 = t.home.lat
        kx = 111.195 * np.cos(np.radians(lat0))  # km per degree of longitude here
        hlat, hlon = lat0 + home_dy[i] / 111.195, t.home.lon + home_dx[i] / kx
        out.append(Resource(
            id=f"c{i:07d}", name=f"{t.kind} {i}", call_sign=None, kind=t.kind, tier=None,
            agency=None, capabilities=t.capabilities, crew=t.crew, capacity=t.capacity,
            speed_kmh=t.speed_kmh, readiness_s=t.readiness_s, range_km=t.range_km,
            home=Home(None, float(hlat), float(hlon)),
            lat=float(hlat + pos_dy[i] / 111.195), lon=float(hlon + pos_dx[i] / kx),
            position_time=now - timedelta(seconds=float(age[i])),
            status=statuses[status_i[i]], area=t.area))
    return out


def incident_points(geo: Any, m: int, surface: str,
                    seed: int) -> list[tuple[float, float, Any]]:
    """m incident points inside Wenzhou (city 3303) on the given surface ("land" or "sea"),
    each with its located `geo.areas.Location`: (lat, lon, location)."""
    out: list = []
    s = seed
    while len(out) < m:
        for p in query_points(4 * m, seed=s):
            try:
                loc = geo.areas.locate(*p)
            except ValueError:
                continue
            if loc.surface == surface and any(a.code == "3303" for a in loc.chain):
                out.append((float(p[0]), float(p[1]), loc))
        s += 1
    return out[:m]


def times_ms(fn: Any, items: Any) -> np.ndarray:
    """Milliseconds of fn(item), item by item."""
    out = []
    for it in items:
        t = time.perf_counter()
        fn(it)
        out.append(time.perf_counter() - t)
    return np.array(out) * 1000.0


def query_points(m: int, seed: int = 11) -> np.ndarray:
    """m random incident points over Wenzhou's land and near sea: (m, 2) lat, lon."""
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(27.3, 28.4, m), rng.uniform(119.8, 121.5, m)])


def stats(samples: Sequence[float]) -> tuple[float, float]:
    """(median, p99) of samples."""
    a = np.asarray(samples, dtype=float)
    return float(np.median(a)), float(np.percentile(a, 99))


def print_table(rows: Sequence[dict]) -> None:
    """Aligned plain-text table of benchmark rows."""
    cols = ["bench", "size", "metric", "value", "unit", "baseline_name", "baseline_value",
            "ratio"]
    fmt = [[_fmt(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(f[i]) for f in fmt)) if fmt else len(c)
              for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    for f in fmt:
        print("  ".join(v.ljust(w) for v, w in zip(f, widths, strict=True)))


def _fmt(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e5 else f"{v:.0f}"
    return str(v)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A private redis-server on a free port (never the machine's own); yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not found on PATH")
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", workdir],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 10
            while True:
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("redis-server did not start")
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
