"""Road graph speed: OSM import, npz load, and one field per incident for a fleet of units.

A synthetic city grid (jittered, ~100 m blocks, some one-way streets, footways that the importer
must skip) is written as OSM XML into a temp dir, so the importer itself is measured.
Baselines, measured in the same run on the same data:
- import: a bare ElementTree.iterparse pass over the same file that only clears elements (the
  floor any streaming XML importer pays);
- field: one scipy Dijkstra per unit on the forward graph (from the unit's snap nodes), the loop
  that field_from + km_to replaces; its answers are checked against ours (on the 1M-node grid
  a sample of 20 units, timed and scaled to the fleet).
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from bench.common import print_table
from geo.roads import RoadGraph, import_osm

ORIGIN = (27.95, 120.55)  # lat, lon: Wenzhou's urban west
BLOCK_DEG = 0.0009  # ~100 m
SEG_PER_WAY = 5
UNITS = 200


def write_grid_osm(path: Path, side: int, seed: int = 5) -> dict:
    """A side x side jittered grid as OSM XML: one way per SEG_PER_WAY blocks of a street."""
    rng = np.random.default_rng(seed)
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    lat = ORIGIN[0] + ii * BLOCK_DEG + rng.normal(0, BLOCK_DEG * 0.1, ii.shape)
    lon = ORIGIN[1] + jj * BLOCK_DEG + rng.normal(0, BLOCK_DEG * 0.1, ii.shape)
    ids = np.arange(side * side).reshape(side, side) + 1
    n_ways = 0
    with open(path, "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="bench">\n')
        for chunk in np.array_split(np.arange(side * side), max(1, side * side // 50_000)):
            f.write("".join(f' <node id="{ids.flat[k]}" lat="{lat.flat[k]:.7f}" '
                            f'lon="{lon.flat[k]:.7f}" version="1"/>\n' for k in chunk))
        lines = []
        for street in range(side):
            for axis in (0, 1):
                refs = ids[street, :] if axis == 0 else ids[:, street]
                kind = ("primary" if street % 20 == 0 else "tertiary" if street % 5 == 0
                        else "residential")
                for s in range(0, side - 1, SEG_PER_WAY):
                    part = refs[s:s + SEG_PER_WAY + 1]
                    r = rng.random()
                    tags = {"highway": kind}
                    if r < 0.05:
                        tags = {"highway": "footway"}
                    elif r < 0.15 and kind == "residential":
                        tags["oneway"] = "yes" if r < 0.10 else "-1"
                    nds = "".join(f'<nd ref="{x}"/>' for x in part)
                    tg = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
                    n_ways += 1
                    lines.append(f' <way id="{n_ways}" version="1">{nds}{tg}</way>\n')
            if len(lines) > 20_000:
                f.write("".join(lines))
                lines = []
        f.write("".join(lines) + "</osm>\n")
    bbox = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
    return {"nodes": side * side, "ways": n_ways, "bbox": bbox}


def _bare_parse(path: Path) -> None:
    root = None
    for event, el in ET.iterparse(path, events=("start", "end")):
        if root is None:
            root = el
        elif event == "end" and el.tag in ("node", "way", "relation"):
            root.clear()


def _per_unit_baseline(g: RoadGraph, inc, units) -> np.ndarray:
    """Road km per unit by one forward Dijkstra each (same snapping), for the same answer."""
    fwd = csr_matrix((g.km, g.indices, g.indptr), shape=(g.n, g.n))
    inc_nodes, inc_legs = g.snap([inc[0]], [inc[1]])
    ok = inc_nodes[0] >= 0
    inc_nodes, inc_legs = inc_nodes[0][ok], inc_legs[0][ok]
    u_nodes, u_legs = g.snap(units[:, 0], units[:, 1])
    out = np.full(len(units), np.inf)
    for i in range(len(units)):
        sel = u_nodes[i] >= 0
        if not sel.any() or not len(inc_nodes):
            continue
        d = dijkstra(fwd, directed=True, indices=u_nodes[i][sel])
        tot = u_legs[i][sel][:, None] + d[:, inc_nodes] + inc_legs[None, :]
        out[i] = tot.min()
    return out


def _row(bench, size, metric, value, unit, base_name, base_value) -> dict:
    return {"bench": bench, "size": size, "metric": metric, "value": value, "unit": unit,
            "baseline_name": base_name, "baseline_value": base_value,
            "ratio": value / base_value if base_value else float("nan")}


def _one_size(side: int, quick: bool, tmp: Path, rng: np.random.Generator) -> list[dict]:
    rows = []
    osm = tmp / f"grid{side}.osm"
    info = write_grid_osm(osm, side)
    size = info["nodes"]
    t0 = time.perf_counter()
    g = import_osm(osm)
    imp_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    _bare_parse(osm)
    bare_s = time.perf_counter() - t0
    rows.append(_row("road_import", size, "ways_per_s", info["ways"] / imp_s, "1/s",
                     "bare iterparse pass", info["ways"] / bare_s))

    npz = tmp / f"grid{side}.npz"
    g.save(npz)
    t0 = time.perf_counter()
    h = RoadGraph.load(npz)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    h.prepare()
    prep_s = time.perf_counter() - t0
    rows.append(_row("road_load", size, "load_s", load_s, "s", "prepare (tree, reverse)",
                     prep_s))

    lo0, la0, lo1, la1 = info["bbox"]
    n_inc = 3 if quick else 10
    incs = np.column_stack([rng.uniform(la0, la1, n_inc), rng.uniform(lo0, lo1, n_inc)])
    fleets = [np.column_stack([rng.uniform(la0, la1, UNITS), rng.uniform(lo0, lo1, UNITS)])
              for _ in range(n_inc)]
    t0 = time.perf_counter()
    ours = [h.field_from(*inc).km_to(u[:, 0], u[:, 1]) for inc, u in zip(incs, fleets,
                                                                          strict=True)]
    field_s = (time.perf_counter() - t0) / n_inc
    # per-unit loop: on the largest graph only a sample of units, scaled to the whole fleet
    m = UNITS if size <= 120_000 else 20
    t0 = time.perf_counter()
    base = _per_unit_baseline(h, incs[0], fleets[0][:m])
    base_s = (time.perf_counter() - t0) * UNITS / m
    fin = np.isfinite(base)
    assert np.array_equal(fin, np.isfinite(ours[0][:m]))
    assert np.allclose(ours[0][:m][fin], base[fin], rtol=1e-9)
    rows.append(_row("road_field", size, f"fields_per_s ({UNITS} units)", 1 / field_s, "1/s",
                     "scipy dijkstra per unit", 1 / base_s))

    if not quick:
        tracemalloc.start()
        import_osm(osm)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rows.append(_row("road_import", size, "peak_traced_MB", peak / 2**20, "MB",
                         "osm file size MB", osm.stat().st_size / 2**20))
    print(f"grid {side}x{side}: {g.n} nodes, {g.n_edges} edges, {info['ways']} ways; "
          f"import {imp_s:.2f} s, npz {npz.stat().st_size / 2**20:.1f} MB load {load_s * 1e3:.0f}"
          f" ms + prepare {prep_s * 1e3:.0f} ms; field+km_to {field_s * 1e3:.1f} ms")
    return rows


def main(quick: bool = False) -> list[dict]:
    rng = np.random.default_rng(2017)
    rows: list[dict] = []
    sides = (100, 316) if quick else (100, 316, 1000)
    with tempfile.TemporaryDirectory() as tmp:
        for side in sides:
            rows += _one_size(side, quick, Path(tmp), rng)
    print_table(rows)
    return rows


if __name__ == "__main__":
    import sys

    main(quick="--quick" in sys.argv)
