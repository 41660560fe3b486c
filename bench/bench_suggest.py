"""Dispatcher speed: a full suggestion (ranking + plan) over synthetic registries near Wenzhou.

Measured in the same run, on the same registry (bench.common.synthetic_registry) and points:
- ours: `Dispatcher.suggest` (index walk, ETA lower-bound pruning, plan), building_collapse
  severity IV on land (heavy_rescue, medical, structural_expert; k = 5) at 10k, 100k and 1M
  resources, and maritime_distress IV at sea (sea + air) at 100k;
- brute force: the same pipeline over `rank_brute_force` (every candidate evaluated);
- Redis GEOSEARCH: the 50 nearest per capability from a private redis-server, one pipelined
  round trip (a distance-only shortlist, not exact under the ETA model).
Ratios are baseline / ours (how many times faster). Run: python -m bench.bench_suggest [--quick]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from bench.common import (
    NOW,
    incident_points,
    print_table,
    redis_server,
    stats,
    synthetic_registry,
    times_ms,
)


def _row(bench, size, metric, value, base_name, base_value, unit) -> dict:
    return {"bench": bench, "size": size, "metric": metric, "value": value, "unit": unit,
            "baseline_name": base_name, "baseline_value": base_value,
            "ratio": base_value / value if value else float("nan")}


def _incident_points(geo, m: int, surface: str, seed: int) -> tuple[np.ndarray, dict]:
    """m points inside Wenzhou (city 3303) with the given surface, and their locations."""
    got = incident_points(geo, m, surface, seed)
    return np.array([(la, lo) for la, lo, _ in got]), {(la, lo): loc for la, lo, loc in got}


def _load_redis(client, resources, caps) -> None:
    client.flushdb()
    for cap in caps:
        members: list = []
        pipe = client.pipeline(transaction=False)
        for r in resources:
            if cap in r.capabilities and r.status == "available":
                lat, lon = (r.lat, r.lon) if r.lat is not None else (r.home.lat, r.home.lon)
                members += [lon, lat, r.id]
                if len(members) >= 30000:
                    pipe.geoadd(f"cap:{cap}", members)
                    members = []
        if members:
            pipe.geoadd(f"cap:{cap}", members)
        pipe.execute()


def main(quick: bool = False) -> list[dict]:
    import redis

    from geo.geography import Geography
    from rescue.context import CountyGrouper
    from rescue.dispatch import Dispatcher, DispatchRequest, load_plans
    from resources.spatial import ResourceIndex
    from resources.vocabulary import Vocabulary

    geo = Geography.load()
    d = Dispatcher(geo, load_plans())
    sizes = [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
    # fresh incident points for every size: nothing about the incident is memoised across runs
    m_land, m_sea = (40, 20) if quick else (300, 100)
    land_sets, sea_pts, locs = [], None, {}
    for i, _ in enumerate(sizes):
        pts, more = _incident_points(geo, m_land, "land", 100 + 10 * i)
        land_sets.append(pts)
        locs.update(more)
    sea_pts, more = _incident_points(geo, m_sea, "sea", 12)
    locs.update(more)
    geo.sea, geo.reach  # noqa: B018 - load the lazy parts before timing
    caps = [r.capability for r in d.plans.requirements("building_collapse", "IV")]
    rows: list[dict] = []
    with redis_server() as url:
        client = redis.Redis.from_url(url)
        for n, land_pts in zip(sizes, land_sets, strict=True):
            t0 = time.perf_counter()
            rs = synthetic_registry(n)
            index = ResourceIndex.build(rs, Vocabulary.default(), zoner=geo.reach.components,
                                        grouper=CountyGrouper(lambda: geo))  # as served
            print(f"# {n:,} resources indexed in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

            def suggest(p, category="building_collapse", method="walk", index=index):
                req = DispatchRequest(float(p[0]), float(p[1]), category, "IV",
                                      location=locs[tuple(p)])
                return d.suggest(index, req, now=NOW, k=5, method=method)

            suggest(sea_pts[0], "maritime_distress")  # warm the sea graph
            ours = times_ms(suggest, land_pts)
            n_brute = int(min(len(land_pts), max(5, 1_000_000 // n)))
            brute = times_ms(lambda p: suggest(p, method="brute_force"), land_pts[:n_brute])
            med, p99 = stats(ours)
            bmed, bp99 = stats(brute)
            name = "brute force (same model)"
            rows.append(_row("suggest_land", n, "median_ms", med, name, bmed, "ms"))
            rows.append(_row("suggest_land", n, "p99_ms", p99, name, bp99, "ms"))
            _load_redis(client, rs, caps)

            def geosearch(p):
                pipe = client.pipeline(transaction=False)
                for cap in caps:
                    pipe.geosearch(f"cap:{cap}", longitude=float(p[1]), latitude=float(p[0]),
                                   radius=300, unit="km", sort="ASC", count=50, withdist=True)
                pipe.execute()

            gs = times_ms(geosearch, land_pts)
            rows.append(_row("suggest_land", n, "median_ms", med, "redis GEOSEARCH x3 shortlist",
                             float(np.median(gs)), "ms"))
            examined = float(np.mean([suggest(p).stats["examined"] for p in land_pts[:30]]))
            every = float(suggest(land_pts[0], method="brute_force").stats["examined"])
            rows.append(_row("suggest_land", n, "candidates_examined", examined,
                             "brute force examines", every, "count"))
            if n == 100_000:
                sea = times_ms(lambda p: suggest(p, "maritime_distress"), sea_pts)
                sb = times_ms(lambda p: suggest(p, "maritime_distress", "brute_force"),
                              sea_pts[:10])
                smed, sp99 = stats(sea)
                sbmed, sbp99 = stats(sb)
                rows.append(_row("suggest_sea", n, "median_ms", smed, name, sbmed, "ms"))
                rows.append(_row("suggest_sea", n, "p99_ms", sp99, name, sbp99, "ms"))
            del index, rs
    return rows


if __name__ == "__main__":
    print_table(main(quick="--quick" in sys.argv))
