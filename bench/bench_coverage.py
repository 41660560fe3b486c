"""Coverage recompute over the demo registry (95 units) and the packaged targets (Wenzhou and
its sea, 2.5 km cells): a full recompute from nothing (the static grid and sites built), an
incremental one after one vessel goes out of service (its routes are known: the target's
minimum is re-taken), and one after that vessel reports a new position (one new sea search).

Baseline, measured in the same run: the naive per-cell evaluation, one dispatcher EtaModel per
site over every candidate (rescue.dispatch.coverage_oracle, what coverage means written the
obvious way; one sea search per site at sea). It takes minutes over every site, so it is timed
on a random sample of each target's sites and scaled to all of them (per-site cost x sites);
the incremental baseline is that for the one target the vessel serves.

And a server's event loop while it builds coverage: the worst latency of a /health request
asked every 5 ms during the first GET /coverage of a fresh `rescue serve --demo` (which builds
the grid), beside the worst while nothing else runs, in the same server.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
from datetime import UTC, datetime

import numpy as np
import requests

from bench.served import start_rescue
from geo.geography import Geography
from rescue.demo import demo_registry
from rescue.dispatch.coverage import Coverage
from rescue.dispatch.coverage_grid import Grid
from rescue.dispatch.coverage_oracle import naive_best
from rescue.dispatch.coverage_targets import load_coverage
from rescue.dispatch.moveup import suggest
from rescue.dispatch.policy_file import load_policy
from resources.model import resource_from_dict
from resources.vocabulary import Vocabulary

NOW = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
VESSEL = "ecsrb-dt-fast"  # the Dongtou fast rescue boat: water_rescue only among the targets


def _row(size: str, metric: str, value: float, base_name: str, base: float | None,
         unit: str) -> dict:
    return {"bench": "coverage", "size": size, "metric": metric, "value": round(value, 3),
            "unit": unit, "baseline_name": base_name,
            "baseline_value": None if base is None else round(base, 3),
            "ratio": round(base / value, 1) if base and value else None}


def _beats(url: str, during: threading.Thread | None, seconds: float) -> float:
    """The worst /health latency (ms), asked every 5 ms while `during` runs (else for
    `seconds`)."""
    worst, session = 0.0, requests.Session()
    if during is not None:
        during.start()
    end = time.perf_counter() + seconds
    while (during.is_alive() if during is not None else time.perf_counter() < end):
        t = time.perf_counter()
        session.get(url + "/api/v1/health", timeout=30).raise_for_status()
        worst = max(worst, time.perf_counter() - t)
        time.sleep(0.005)
    return 1000 * worst


def served_stall() -> dict:
    server = start_rescue()
    try:
        h = {"Authorization": f"Bearer {server.tokens['admin']}"}
        idle = _beats(server.url, None, 2.0)
        got: dict = {}

        def first() -> None:
            got["r"] = requests.get(server.url + "/api/v1/coverage", headers=h, timeout=120)

        stall = _beats(server.url, threading.Thread(target=first), 0)
        assert got["r"].status_code == 200, got["r"].text[:200]
    finally:
        server.stop()
    return _row("rescue serve --demo, first GET /coverage (builds the grid)",
                "worst /health latency during it (ms)", stall,
                "worst /health latency, idle", idle, "ms")


def main(quick: bool = False) -> list[dict]:
    geo, vocab, policy = Geography.load(), Vocabulary.default(), load_policy()
    cfg = load_coverage(vocabulary=vocab)
    units = [resource_from_dict(d, vocab) for d in demo_registry()]
    t0 = time.perf_counter()
    geo.areas.locate(27.9, 120.7)  # the geography's own lazy loads are not the grid's
    _ = geo.sea, geo.reach
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    grid = Grid(geo, cfg.areas, cfg.cell_km)
    Coverage(grid, cfg, geo, policy, vocab.kind_modes)  # sites (and the coast distances)
    static_s = time.perf_counter() - t0

    def fresh() -> Coverage:
        return Coverage(grid, cfg, geo, policy, vocab.kind_modes)

    full = []
    for _ in range(3 if quick else 7):
        cov = fresh()
        t0 = time.perf_counter()
        cov.refresh(units, NOW)
        full.append(time.perf_counter() - t0)
    cov = fresh()
    cov.refresh(units, NOW)
    incr, out = [], dataclasses.replace(next(u for u in units if u.id == VESSEL),
                                        status="out_of_service")
    for i in range(10 if quick else 40):
        now_units = [out if (u.id == VESSEL and i % 2 == 0) else u for u in units]
        t0 = time.perf_counter()
        done = cov.refresh(now_units, NOW)
        incr.append(time.perf_counter() - t0)
        assert done.targets == ["water_rescue_coast"], done

    cov.refresh([out if u.id == VESSEL else u for u in units], NOW)
    t0 = time.perf_counter()
    n_moves = len(suggest(cov))
    moveup_s = time.perf_counter() - t0  # cold: the posts' sea routes are searched first
    rng = np.random.default_rng(11)
    moves, boat = [], next(u for u in units if u.id == VESSEL)
    for i in range(5 if quick else 20):  # a new fix each time: one new sea search
        lat, lon = 27.80 - 0.01 * i, 121.20 + 0.01 * i
        now_units = [dataclasses.replace(boat, lat=lat, lon=lon, position_time=NOW)
                     if u.id == VESSEL else u for u in units]
        t0 = time.perf_counter()
        done = cov.refresh(now_units, NOW)
        moves.append(time.perf_counter() - t0)
        assert done.sea_searches == 1, done
    per_site: dict[str, float] = {}
    for t in cfg.targets:
        s = cov.sites[t.name]
        k = min(len(s), (8 if quick else 40) if "sea" in t.modes else (40 if quick else 200))
        which = rng.choice(len(s), k, replace=False)
        t0 = time.perf_counter()
        naive_best(t, s, units, geo, policy, NOW, vocab.kind_modes, which)
        per_site[t.name] = (time.perf_counter() - t0) / k
    naive_full = sum(per_site[n] * len(cov.sites[n]) for n in per_site)
    naive_incr = per_site["water_rescue_coast"] * len(cov.sites["water_rescue_coast"])

    cells = len(grid)
    sites = sum(len(s) for s in cov.sites.values())
    size = f"demo {len(units)} units, {cells} cells, {len(cfg.targets)} targets, {sites} sites"
    print(f"   geography {load_s:.2f} s, grid and sites {static_s:.2f} s (once per process); "
          f"naive per site (ms): " + ", ".join(f"{n} {1000 * v:.2f}"
                                               for n, v in per_site.items()), file=sys.stderr)
    med_full, med_incr = float(np.median(full)), float(np.median(incr))
    return [
        _row(size, "full_recompute_ms", 1000 * med_full,
             "naive per-cell EtaModel (sampled, scaled to every site)", 1000 * naive_full, "ms"),
        _row(size, "incremental_recompute_ms", 1000 * med_incr,
             "naive per-cell EtaModel over the target it changes", 1000 * naive_incr, "ms"),
        _row(size, "incremental_after_a_move_ms", 1000 * float(np.median(moves)),
             "naive per-cell EtaModel over the target it changes", 1000 * naive_incr, "ms"),
        _row(size, f"moveup_{n_moves}_suggestions_ms", 1000 * moveup_s,
             "first call, no baseline", None, "ms"),
        _row(size, "grid_and_sites_s", static_s, "once per process (no baseline)", None, "s"),
        served_stall(),
    ]


if __name__ == "__main__":
    from bench.common import print_table

    print_table(main(quick="--quick" in sys.argv))
