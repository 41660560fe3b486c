"""Sea routing speed: point-to-point routes, and one-to-many fields for a fleet of vessels.

Baselines, measured in the same run on the same graph:
- routes: a pure-Python heapq Dijkstra between the same snapped nodes (early exit, no
  smoothing), i.e. what a straightforward implementation without scipy would cost;
- fields: one SeaGraph.route per vessel, the loop that field_from + km_to replaces.
"""

from __future__ import annotations

import heapq
import time

import numpy as np

from geo.seagraph import SeaGraph

SEA_BOX = (120.6, 27.0, 121.9, 28.4)  # lon_min, lat_min, lon_max, lat_max: the Wenzhou sea area


def _sea_points(graph: SeaGraph, n: int, rng: np.random.Generator) -> np.ndarray:
    lo0, la0, lo1, la1 = SEA_BOX
    out = np.empty((0, 2))
    while len(out) < n:
        lon, lat = rng.uniform(lo0, lo1, 4 * n), rng.uniform(la0, la1, 4 * n)
        x, y = graph.frame.xy(lon, lat)
        sea = ~graph.land.on_land(x, y)
        out = np.concatenate([out, np.column_stack([lat[sea], lon[sea]])])
    return out[:n]


def _heapq_dijkstra(indptr, indices, data, s: int, t: int) -> float:
    dist = {s: 0.0}
    heap = [(0.0, s)]
    done = set()
    while heap:
        d, u = heapq.heappop(heap)
        if u == t:
            return d
        if u in done:
            continue
        done.add(u)
        for k in range(indptr[u], indptr[u + 1]):
            v = indices[k]
            nd = d + data[k]
            if nd < dist.get(v, np.inf):
                dist[v] = nd
                heapq.heappush(heap, (nd, v))
    return np.inf


def _row(bench, size, metric, value, base_name, base_value, unit) -> dict:
    return {"bench": bench, "size": size, "metric": metric, "value": value,
            "baseline_name": base_name, "baseline_value": base_value,
            "ratio": value / base_value if base_value else float("nan"), "unit": unit}


def main(quick: bool = False) -> list[dict]:
    rng = np.random.default_rng(2017)
    t0 = time.perf_counter()
    graph = SeaGraph.load()
    load_s = time.perf_counter() - t0
    n_routes = 40 if quick else 300
    pairs = _sea_points(graph, 2 * n_routes, rng).reshape(n_routes, 2, 2)
    rows = []

    t0 = time.perf_counter()
    routes = [graph.route(*a, *b) for a, b in pairs]
    ours = n_routes / (time.perf_counter() - t0)
    g = graph.graph
    indptr, indices, data = g.indptr.tolist(), g.indices.tolist(), g.data.tolist()
    ends = [graph._snap(p[:, 0], p[:, 1])[3][:, 0] for p in pairs]
    n_base = max(5, n_routes // 10)
    t0 = time.perf_counter()
    for s, t in ends[:n_base]:
        _heapq_dijkstra(indptr, indices, data, int(s), int(t))
    base = n_base / (time.perf_counter() - t0)
    rows.append(_row("sea_route", n_routes, "routes_per_s", ours,
                     "python heapq dijkstra (same graph)", base, "1/s"))

    n_fields = 5 if quick else 30
    fleet = 200
    srcs = _sea_points(graph, n_fields, rng)
    vessels = [_sea_points(graph, fleet, rng) for _ in range(n_fields)]
    t0 = time.perf_counter()
    for s, v in zip(srcs, vessels, strict=True):
        graph.field_from(*s).km_to(v[:, 0], v[:, 1])
    field_s = (time.perf_counter() - t0) / n_fields
    n_loop = 1 if quick else 3
    t0 = time.perf_counter()
    for s, v in zip(srcs[:n_loop], vessels[:n_loop], strict=True):
        for lat, lon in v:
            graph.route(s[0], s[1], lat, lon)
    loop_s = (time.perf_counter() - t0) / n_loop
    rows.append(_row("sea_field", fleet, "fields_per_s", 1 / field_s,
                     "per-vessel route loop", 1 / loop_s, "1/s"))

    found = sum(r is not None for r in routes)
    print(f"sea graph: {graph.n} nodes, {graph.n_edges} edges, load {load_s * 1000:.0f} ms; "
          f"{found}/{n_routes} random pairs routed")
    print(f"{'bench':<10} {'size':>6} {'metric':<14} {'value':>10}  {'baseline':<36} {'value':>10} "
          f"{'ratio':>8}")
    for r in rows:
        print(f"{r['bench']:<10} {r['size']:>6} {r['metric']:<14} {r['value']:>10.1f}  "
              f"{r['baseline_name']:<36} {r['baseline_value']:>10.2f} {r['ratio']:>7.1f}x")
    return rows


if __name__ == "__main__":
    main()
