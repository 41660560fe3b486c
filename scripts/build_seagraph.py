"""Build geo/data/seagraph.npz (the sea navigation graph) from geo/data/land.geojson.

Run after the land polygons change: `.venv/bin/python scripts/build_seagraph.py`.
Takes a few seconds; the result (~1 MB for the OSM coastline) is committed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.seagraph import DEFAULT_PATH, LAND_PATH, SeaGraph, read_land  # noqa: E402
from geo.seagraph_build import build_arrays  # noqa: E402

BBOX = (119.0, 26.0, 123.5, 29.5)  # lon_min, lat_min, lon_max, lat_max (the land mask's bbox)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--land", default=str(LAND_PATH))
    ap.add_argument("--out", default=str(DEFAULT_PATH))
    ap.add_argument("--spacing-km", type=float, default=1.5)
    ap.add_argument("--coast-offset-km", type=float, default=0.06)
    ap.add_argument("--coast-step-km", type=float, default=0.4)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    t0 = time.perf_counter()
    polys = read_land(args.land)
    arrays = build_arrays(polys, BBOX, spacing_km=args.spacing_km,
                          coast_offset_km=args.coast_offset_km, coast_step_km=args.coast_step_km)
    np.savez_compressed(args.out, **arrays)
    t1 = time.perf_counter()
    SeaGraph.load(args.out, land=args.land)
    t2 = time.perf_counter()
    print(f"{args.out}: {len(arrays['lat_u'])} nodes, {len(arrays['indices'])} edges, "
          f"{Path(args.out).stat().st_size / 1e6:.2f} MB; build {t1 - t0:.1f} s, load {t2 - t1:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
