"""The dispatcher at scale (issue 11), on registries shaped like real ones: the demo's 95 units
copied around their own bases (a few hundred metres), on the islands and in the ports too, each
with a fresh position (bench.common.clustered_registry), at 10k, 100k and 1M units.

Measured in one run, each beside its baseline:
- the Nanji island incident (building collapse IV; no mainland land unit can reach it):
  ours (settled units counted, not walked) vs brute force (the same model over every unit);
- land suggestions over 200 incident points across Wenzhou's land: p50 and p99 vs brute force's;
- maritime suggestions per second over 20 sea incidents on the demo registry and at 100k, at
  the first ask of each incident and asked again (as consoles refresh them): ours (sea
  searches grown as far as the ranking needs, and remembered across requests) vs a search of
  the whole sea graph per request (scipy's, as before; bench/wholesea.py);
- the worst stall of a request while the index rebuilds at 1M (quick: 100k) under 1,000
  position reports a second: trees built on a native thread vs built inline (the old way);
  and the k-nearest query's own p50 and p99 under that traffic beside the same query without
  it;
- where the land tail comes from, at the largest size: the points walked only beside
  scanned only.
Every ranking is also checked equal to brute force on the points timed against it. The index
is built as the server builds it: zoned by land reach, grouped by county.

Run: python -m bench.bench_dispatch_scale [--quick]
"""

from __future__ import annotations

import gc
import sys
import time
from dataclasses import replace
from typing import Any

import numpy as np

from bench.common import NOW, clustered_registry, incident_points, print_table, stats, times_ms

NANJI = (27.465, 121.065)


def _row(size: Any, metric: str, value: float, base_name: str, base: float, unit: str,
         higher_is_better: bool = False) -> dict:
    ratio = (value / base if higher_is_better else base / value) if value and base else None
    return {"bench": "dispatch_scale", "size": size, "metric": metric, "value": value,
            "unit": unit, "baseline_name": base_name, "baseline_value": base, "ratio": ratio}


def _sea_rate(d, index, points, rounds: int, warm: bool = False) -> float:
    """Maritime suggestions a second over these incidents asked `rounds` times (`warm`: after
    one round not counted, as a console's refreshes follow the first ask)."""
    from rescue.dispatch import DispatchRequest

    reqs = [DispatchRequest(la, lo, "maritime_distress", "IV", location=loc)
            for la, lo, loc in points]
    for r in reqs if warm else ():
        d.suggest(index, r, now=NOW)
    t = time.perf_counter()
    for _ in range(rounds):
        for r in reqs:
            d.suggest(index, r, now=NOW)
    return rounds * len(reqs) / (time.perf_counter() - t)


def _sea_rows(size: Any, geo, plans, index, points, rounds: int) -> list[dict]:
    """First asks (a sea search each) and repeated asks, ours beside a search of the whole sea
    graph per request (scipy's, bench/wholesea.py), each by a dispatcher of its own (nothing
    remembered from another run)."""
    from bench.wholesea import WholeGraphSea, WithSea
    from rescue.dispatch import Dispatcher, DispatchRequest

    whole = WithSea(geo, WholeGraphSea(geo.sea))
    # What the geography keeps across dispatchers (the incidents' joins to the sea graph),
    # warmed for both sides alike: the first side timed would otherwise pay it alone.
    _sea_rate(Dispatcher(geo, plans, remember_sea=False), index, points, 1)
    first = _sea_rate(Dispatcher(geo, plans), index, points, 1)
    first_base = _sea_rate(Dispatcher(whole, plans, remember_sea=False), index, points, 1)
    repeat = _sea_rate(Dispatcher(geo, plans), index, points, rounds, warm=True)
    repeat_base = _sea_rate(Dispatcher(whole, plans, remember_sea=False), index, points,
                            max(1, rounds // 4), warm=True)
    base = "whole-graph sea search per request"
    ours, theirs = Dispatcher(geo, plans), Dispatcher(whole, plans, remember_sea=False)
    for la, lo, loc in points:  # the same suggestions, to the last second and unit
        req = DispatchRequest(la, lo, "maritime_distress", "IV", location=loc)
        a, b = (d.suggest(index, req, now=NOW).to_dict() for d in (ours, theirs))
        assert a == b, (la, lo)
    return [_row(size, "maritime first ask of each incident, mean", 1000.0 / first, base,
                 1000.0 / first_base, "ms"),
            _row(size, "maritime suggestions, first ask of each incident", first, base,
                 first_base, "per s", higher_is_better=True),
            _row(size, "maritime suggestions, asked again", repeat, base, repeat_base, "per s",
                 higher_is_better=True)]


def _tail_rows(size: Any, geo, plans, index, points) -> list[dict]:
    """Where the land tail comes from: the same points walked only (every requirement, no
    hand-over to a scan) beside scanned only (no walk at all). Ours is in between: a
    requirement that more than SCAN_BELOW units could meet walks, and hands over to the scan
    once the walk has cost a quarter of the scan (ranking.WALK_BUDGET)."""
    from rescue.dispatch import Dispatcher, DispatchRequest

    def timed(d) -> tuple[float, float]:
        def one(p):
            d.suggest(index, DispatchRequest(p[0], p[1], "building_collapse", "IV",
                                             location=p[2]), now=NOW)
        one(points[0])
        return stats(times_ms(one, points))

    w50, w99 = timed(Dispatcher(geo, plans, scan_below=0))  # (0: never scans nor hands over)
    s50, s99 = timed(Dispatcher(geo, plans, scan_below=10**12))
    return [_row(size, "land p50, walk only", w50, "scan only p50", s50, "ms"),
            _row(size, "land p99, walk only", w99, "scan only p99", s99, "ms")]


def _stall(rs: list, vocab, zoner, grouper, spawn, seconds: float) -> tuple[float, int, list]:
    """Worst latency (ms) of a position report or a k-nearest query while 1,000 reports a
    second arrive for `seconds` (the overlay fills and the index rebuilds), the rebuilds, and
    the k-nearest queries' own times (ms): the same query asked 200 times first, without
    traffic, then every tenth report."""
    from resources.spatial import IndexFilter, ResourceIndex

    ix = ResourceIndex.build(rs, vocab, zoner=zoner, grouper=grouper, spawn=spawn)
    ix.REBUILD_MAX = 2000  # rebuild every 2 s of traffic: several rebuilds in the window
    # What the server does once set up (rescue.gcpolicy): the registry and the index kept out
    # of the collector's passes. Without it a full pass over this process's millions of
    # objects (~0.6 s, on 2026-12-05) can land in the window: the collector's stall, not the
    # index's, and one the server does not have.
    gc.collect()
    gc.freeze()
    rng = np.random.default_rng(5)
    where = IndexFilter(capabilities_all=frozenset({"medical"}))

    def query() -> None:
        ix.nearest(28.0, 120.66, 5, where=where, now=NOW)

    query()  # (the flat tree, built on first use)
    time.sleep(1.0 if spawn is not None else 0.0)
    query()
    quiet = times_ms(lambda _: query(), range(200))
    worst, t_end, i, busy = 0.0, time.perf_counter() + seconds, 0, []
    next_at = time.perf_counter()
    while time.perf_counter() < t_end:
        r = rs[int(rng.integers(len(rs)))]
        r = replace(r, lat=r.home.lat + 0.001, lon=r.home.lon, position_time=NOW)
        t = time.perf_counter()
        ix.upsert(r)
        if i % 10 == 0:  # and a query now and then
            q = time.perf_counter()
            query()
            busy.append((time.perf_counter() - q) * 1000.0)
        worst = max(worst, time.perf_counter() - t)
        i += 1
        next_at += 0.001  # 1,000 reports a second
        pause = next_at - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    gc.unfreeze()
    return worst * 1000.0, ix.rebuilds, [quiet, np.asarray(busy)]


def main(quick: bool = False) -> list[dict]:
    from geo.geography import Geography
    from rescue.context import CountyGrouper
    from rescue.demo import demo_registry
    from rescue.dispatch import Dispatcher, DispatchRequest, load_plans
    from rescue.offload import start_native
    from resources.model import resource_from_dict
    from resources.spatial import ResourceIndex
    from resources.vocabulary import Vocabulary

    geo = Geography.load()
    vocab = Vocabulary.default()
    plans = load_plans()
    d = Dispatcher(geo, plans)
    zoner = geo.reach.components
    grouper = CountyGrouper(lambda: geo)  # the index as the server builds it
    land = incident_points(geo, 60 if quick else 200, "land", 21)
    sea = incident_points(geo, 20, "sea", 23)
    rows: list[dict] = []

    def suggest(index, p, method="walk", category="building_collapse"):
        req = DispatchRequest(p[0], p[1], category, "IV", location=p[2] if len(p) > 2 else None)
        return d.suggest(index, req, now=NOW, method=method)

    demo = ResourceIndex.build([resource_from_dict(r, vocab) for r in demo_registry()], vocab,
                               zoner=zoner, grouper=grouper)
    rows += _sea_rows("demo 95", geo, plans, demo, sea, 10)
    sizes = [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
    for n in sizes:
        t0 = time.perf_counter()
        rs = clustered_registry(n)
        index = ResourceIndex.build(rs, vocab, zoner=zoner, grouper=grouper)
        print(f"# {n:,} units generated and indexed in {time.perf_counter() - t0:.1f} s",
              file=sys.stderr)
        gc.collect()
        gc.freeze()  # a long-lived registry: the collector need not walk it mid-measurement
        # the island
        island = [NANJI] * 20
        ours_ms = times_ms(lambda p, ix=index: suggest(ix, p), island)
        brute_ms = times_ms(lambda p, ix=index: suggest(ix, p, "brute_force"), island[:5])
        assert suggest(index, NANJI).to_dict() == suggest(index, NANJI, "brute_force").to_dict()
        rows.append(_row(n, "Nanji island median", float(np.median(ours_ms)), "brute force",
                         float(np.median(brute_ms)), "ms"))
        # land, everywhere
        ours_ms = times_ms(lambda p, ix=index: suggest(ix, p), land)
        nb = len(land) if n <= 100_000 else 20
        brute_ms = times_ms(lambda p, ix=index: suggest(ix, p, "brute_force"), land[:nb])
        for p in land[:5]:
            assert suggest(index, p).to_dict() == suggest(index, p, "brute_force").to_dict()
        (m50, m99), (b50, b99) = stats(ours_ms), stats(brute_ms)
        rows.append(_row(n, "land suggestion p50", m50, "brute force p50", b50, "ms"))
        rows.append(_row(n, "land suggestion p99", m99, "brute force p99", b99, "ms"))
        rows.append(_row(n, "land p99 / p50", m99 / m50, "brute force p99 / p50", b99 / b50,
                         "x"))
        if n == sizes[-1]:
            rows += _tail_rows(n, geo, plans, index, land)
        if n == 100_000:
            rows += _sea_rows(n, geo, plans, index, sea, 5)
        gc.unfreeze()
        if n == sizes[-1]:
            secs = 6.0 if quick else 30.0  # (a 1M build takes 10-20 s beside the traffic)
            bg, bg_rebuilds, (quiet, busy) = _stall(rs, vocab, zoner, grouper, start_native,
                                                    secs)
            inline, in_rebuilds, _ = _stall(rs, vocab, zoner, grouper, None, secs)
            (q50, q99), (b50, b99) = stats(quiet), stats(busy)
            rows.append(_row(n, "k nearest p50 under 1,000 reports/s", b50 * 1000.0,
                             "the same query without traffic", q50 * 1000.0, "us"))
            rows.append(_row(n, "k nearest p99 under 1,000 reports/s", b99 * 1000.0,
                             "the same query without traffic", q99 * 1000.0, "us"))
            rows.append(_row(n, f"worst stall, 1,000 reports/s ({bg_rebuilds} rebuilds)", bg,
                             f"inline rebuilds ({in_rebuilds})", inline, "ms"))
        del index, rs
    return rows


if __name__ == "__main__":
    print_table(main(quick="--quick" in sys.argv))
