"""The area hierarchy (province -> city -> county -> township, plus maritime SAR areas).

Why: every incident, resource and centre is scoped by area code; `locate` turns a point into
the chain of areas answering for it.  Locate queries one STRtree over the *leaf* polygons (the
deepest area at each place: township cells, counties without townships, sea sectors), whose
chains are precomputed, so a lookup is one tree query and one prepared point-in-polygon test.

Land or sea is the land mask's call (geo.landsea, real coastlines), not the admin polygons':
county polygons include estuaries and inshore channels, so a point in the Oujiang is inside
Longwan district yet at sea.  Such a point keeps its admin chain with surface "sea"; mask land
that no admin polygon covers (reclaimed land) takes the admin leaf next to it.  The mask is
loaded lazily on the first locate; outside its bbox the admin polygons decide.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np
import shapely
import shapely.ops
from pyproj import Transformer
from shapely.geometry import mapping, shape

from geo.distance import haversine_km

if TYPE_CHECKING:
    from geo.landsea import LandMask

DEFAULT_PATH = Path(__file__).parent / "data" / "areas.geojson"
SHORE_KM = 1.0  # land this close to covered sea counts as shore
SNAP_KM = 0.3  # a point this close to a leaf area (coastline/edge fuzz) belongs to it
RECLAIMED_KM = 3.0  # mask land outside every admin polygon joins an admin leaf this close
_KM_PER_DEG_MIN = 90.0  # km per degree of longitude at 36 N: bounds degree searches from above
_ADJACENT_DEG = 1e-4  # ~10 m: topological slack for `neighbours` between separately cut cells
REQUIRED_COLUMNS = ("code", "name", "level", "geometry")


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    level: int
    parent: str | None
    kind: str = "admin"  # "admin" | "maritime"
    approximate: bool = False
    seat_lat: float | None = None
    seat_lon: float | None = None
    name_en: str = ""


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float
    surface: str  # "land" | "sea"
    chain: tuple[Area, ...]  # province first, most specific last
    maritime: Area | None  # the SAR region for sea and shore points
    shore: bool


class OutsideCoverage(ValueError):
    """The point is valid but no area of this index answers for it."""


def _packaged_land() -> LandMask:
    from geo.landsea import LandMask

    return LandMask.load()


PACKAGED_LAND = _packaged_land  # default `land` of from_file / from_geodataframe
LandSource = Union["LandMask", Callable[[], "LandMask"], None]


def _check_coord(value: Any, field: str, limit: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{field} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or abs(v) > limit:
        raise ValueError(f"{field} must be a finite number within ±{limit:g}, got {value!r}")
    return v


def _opt_float(v: Any) -> float | None:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v == "":
        return None
    return float(v)


def _truthy(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes", "y")
    return bool(v) if v is not None and not (isinstance(v, float) and math.isnan(v)) else False


def _default_parent(code: str, level: int) -> str | None:
    return {1: None, 2: code[:2], 3: code[:4], 4: code[:6]}.get(level)


def _area_from_record(rec: Mapping[str, Any]) -> Area:
    code = str(rec["code"]).strip()
    level = int(rec["level"])
    if not code or level not in (1, 2, 3, 4):
        raise ValueError(f"level must be 1..4 and code non-empty (code={code!r}, level={level})")
    parent = rec.get("parent")
    parent = None if parent is None or (isinstance(parent, float) and math.isnan(parent)) \
        else str(parent)
    kind = rec.get("kind") or "admin"
    if kind not in ("admin", "maritime"):
        raise ValueError(f"kind must be 'admin' or 'maritime' (code={code}, kind={kind!r})")
    return Area(code=code, name=str(rec["name"]), level=level,
                parent=parent if parent else _default_parent(code, level), kind=kind,
                approximate=_truthy(rec.get("approximate")),
                seat_lat=_opt_float(rec.get("seat_lat")), seat_lon=_opt_float(rec.get("seat_lon")),
                name_en=str(rec.get("name_en") or ""))


class AreaIndex:
    """Immutable index of areas and their polygons (WGS84)."""

    def __init__(self, areas: Iterable[Area], geometries: Mapping[str, Any],
                 land: LandSource = None):
        """`land`: a LandMask, a zero-argument loader of one (called on the first locate), or
        None to let the admin polygons alone decide land and sea."""
        self._land_source = land
        self._areas: dict[str, Area] = {}
        for a in areas:
            if a.code in self._areas:
                raise ValueError(f"code {a.code} appears twice")
            self._areas[a.code] = a
        self._geoms = {c: g for c, g in geometries.items() if c in self._areas}
        for a in self._areas.values():
            if a.parent is not None and a.parent not in self._areas:
                raise ValueError(f"parent {a.parent} of area {a.code} is not in the index")
            g = self._geoms.get(a.code)
            if g is None or g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon"):
                raise ValueError(f"geometry of area {a.code} must be a non-empty (Multi)Polygon")
        self._children: dict[str | None, list[str]] = {}
        for a in sorted(self._areas.values(), key=lambda a: a.code):
            self._children.setdefault(a.parent, []).append(a.code)
        self._chains = {c: tuple(self._areas[x] for x in self._ancestor_codes(c))
                        for c in self._areas}
        has_child_of_kind = {(a.parent, a.kind) for a in self._areas.values()}
        self._leaves = [c for c, a in sorted(self._areas.items())
                        if (c, a.kind) not in has_child_of_kind
                        and not (a.kind == "maritime" and a.level < 4 and self._sectors_of(c))]
        self._leaf_geoms = [self._geoms[c] for c in self._leaves]
        for g in self._leaf_geoms:
            shapely.prepare(g)
        self._tree = shapely.STRtree(self._leaf_geoms)
        self._fc_cache: dict[tuple, dict] = {}

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_file(cls, path: str | Path | None = None,
                  land: LandSource = PACKAGED_LAND) -> AreaIndex:
        """Read a GeoJSON FeatureCollection in WGS84 (the committed areas file by default).

        `land` defaults to the packaged land mask, loaded on the first locate.
        """
        with open(path or DEFAULT_PATH, encoding="utf-8") as fh:
            fc = json.load(fh)
        areas, geoms = [], {}
        for f in fc["features"]:
            a = _area_from_record(f["properties"])
            areas.append(a)
            geoms[a.code] = shapely.make_valid(shape(f["geometry"]))
        return cls(areas, geoms, land)

    @classmethod
    def from_geodataframe(cls, gdf, land: LandSource = PACKAGED_LAND) -> AreaIndex:
        """Build from a GeoDataFrame in any CRS (reprojected to WGS84)."""
        areas, geoms = cls._records_from_gdf(gdf)
        return cls(areas, geoms, land)

    @staticmethod
    def _records_from_gdf(gdf) -> tuple[list[Area], dict[str, Any]]:
        missing = [c for c in REQUIRED_COLUMNS if c not in gdf.columns]
        if missing:
            raise ValueError(f"missing required column(s): {', '.join(missing)}")
        if gdf.crs is None:
            minx, miny, maxx, maxy = gdf.total_bounds
            if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
                raise ValueError("geometry has no CRS and is not in longitude/latitude")
            gdf = gdf.set_crs("EPSG:4326")
        gdf = gdf.to_crs("EPSG:4326")
        areas, geoms = [], {}
        for rec in gdf.to_dict("records"):
            a = _area_from_record(rec)
            areas.append(a)
            geoms[a.code] = shapely.make_valid(rec["geometry"])
        return areas, geoms

    def replace_from(self, gdf) -> AreaIndex:
        """A new index with the areas of `gdf` (real boundaries) replacing or adding to these.

        Approximate descendants of a replaced area (e.g. derived township cells) are clipped to
        its new polygon so the hierarchy stays nested.
        """
        new_areas, new_geoms = self._records_from_gdf(gdf)
        areas = dict(self._areas)
        geoms = dict(self._geoms)
        for a in new_areas:
            areas[a.code] = a
            geoms[a.code] = new_geoms[a.code]
        replaced = {a.code for a in new_areas}
        for code, a in list(areas.items()):
            if code in replaced or not a.approximate:
                continue
            anc = [x for x in self._ancestor_codes(code)[:-1]
                   if x in replaced and areas[x].kind == a.kind]
            for p in anc:
                clipped = shapely.make_valid(geoms[code].intersection(geoms[p]))
                clipped = shapely.union_all([g for g in shapely.get_parts(clipped)
                                             if g.geom_type in ("Polygon", "MultiPolygon")])
                if clipped.is_empty:
                    del areas[code], geoms[code]
                    break
                geoms[code] = clipped
        return AreaIndex(areas.values(), geoms, self._land_source)

    @cached_property
    def land(self) -> LandMask | None:
        """The land mask deciding land or sea (loaded on first use), or None."""
        src = self._land_source
        return src() if callable(src) and not hasattr(src, "is_land") else src

    # ------------------------------------------------------------------ queries

    def locate(self, lat: float, lon: float) -> Location:
        """The area chain answering for a point; OutsideCoverage where none does."""
        lat = _check_coord(lat, "lat", 90.0)
        lon = _check_coord(lon, "lon", 180.0)
        pt = shapely.Point(lon, lat)
        hits = self._tree.query(pt, predicate="intersects")
        if len(hits) == 0:
            leaf = self._nearest_leaf(pt, lat, lon)
        elif len(hits) == 1:
            leaf = self._leaves[hits[0]]
        else:  # on a shared edge: deterministic choice, land before sea
            leaf = min((self._leaves[i] for i in hits),
                       key=lambda c: (self._areas[c].kind != "admin", -self._areas[c].level, c))
        chain = self._chains[leaf]
        sea_leaf = chain[-1].kind == "maritime"
        mask = self.land
        if mask is None or not mask.covers(lat, lon):  # the admin polygons decide
            if sea_leaf:
                return Location(lat, lon, "sea", chain, self._maritime_of(leaf), True)
            region = self._shore_region(lon, lat)
            return Location(lat, lon, "land", chain, region, region is not None)
        if not mask.is_land(lat, lon):  # at sea, even inside a county (an estuary)
            return Location(lat, lon, "sea", chain, self._maritime_of(leaf), True)
        if sea_leaf:  # land the admin polygons leave to the sea (reclaimed)
            leaf = self._admin_leaf_near(pt, lat, lon) or leaf
            chain = self._chains[leaf]
        if not mask.near_coast(lat, lon, SHORE_KM):
            return Location(lat, lon, "land", chain, None, False)
        region = self._shore_region(lon, lat) or self._maritime_of(leaf)
        return Location(lat, lon, "land", chain, region, True)

    def _nearest_leaf(self, pt, lat: float, lon: float) -> str:
        # degrees only bound the candidate search; the distance itself is measured in km
        idx = self._tree.query_nearest(pt, max_distance=SNAP_KM / _KM_PER_DEG_MIN,
                                       all_matches=False)
        if len(idx):
            code = self._leaves[idx[0]]
            near = shapely.ops.nearest_points(self._geoms[code], pt)[0]
            if haversine_km(lat, lon, near.y, near.x) <= SNAP_KM:
                return code
        raise OutsideCoverage(f"no area covers lat={lat}, lon={lon}")

    @cached_property
    def _admin_leaves(self) -> tuple[list[str], Any]:
        codes = [c for c in self._leaves if self._areas[c].kind == "admin"]
        return codes, shapely.STRtree([self._geoms[c] for c in codes])

    def _admin_leaf_near(self, pt, lat: float, lon: float) -> str | None:
        """The admin leaf nearest to pt if within RECLAIMED_KM (measured in km), else None."""
        codes, tree = self._admin_leaves
        idx = tree.query_nearest(pt, max_distance=RECLAIMED_KM / _KM_PER_DEG_MIN,
                                 all_matches=False)
        if len(idx):
            code = codes[idx[0]]
            near = shapely.ops.nearest_points(self._geoms[code], pt)[0]
            if haversine_km(lat, lon, near.y, near.x) <= RECLAIMED_KM:
                return code
        return None

    def _sectors_of(self, region_code: str) -> list[str]:
        city = self._areas[region_code].parent
        return [c for c, a in self._areas.items()
                if a.kind == "maritime" and a.level == 4 and a.code[:4] == (city or "")[:4]]

    def _maritime_of(self, code: str) -> Area | None:
        for a in reversed(self._chains[code]):
            if a.kind == "maritime" and a.level <= 3:
                return a
        city = next((a for a in self._chains[code] if a.level == 2), None)
        return self._areas.get(f"{city.code}M") if city else None

    @cached_property
    def _regions(self) -> list[Area]:
        return [a for a in self._areas.values() if a.kind == "maritime" and a.level <= 3]

    @cached_property
    def _shore_zones(self) -> list[tuple[Area, Any]]:
        """Each maritime region grown by SHORE_KM on a local metric projection."""
        zones = []
        for a in self._regions:
            g = self._geoms[a.code]
            c = g.centroid
            proj = (f"+proj=tmerc +lat_0={c.y:.4f} +lon_0={c.x:.4f} +k=1 +ellps=WGS84 "
                    "+units=m +no_defs")
            fwd = Transformer.from_crs("EPSG:4326", proj, always_xy=True)
            back = Transformer.from_crs(proj, "EPSG:4326", always_xy=True)
            metric = shapely.transform(g, lambda xy, t=fwd: np.column_stack(t.transform(*xy.T)))
            grown = metric.buffer(SHORE_KM * 1000.0, quad_segs=4)
            zone = shapely.transform(grown, lambda xy, t=back: np.column_stack(t.transform(*xy.T)))
            shapely.prepare(zone)
            zones.append((a, zone))
        return zones

    def _shore_region(self, lon: float, lat: float) -> Area | None:
        for a, zone in self._shore_zones:
            if shapely.contains_xy(zone, lon, lat):
                return a
        return None

    def get(self, code: str) -> Area | None:
        return self._areas.get(code)

    def __len__(self) -> int:
        return len(self._areas)

    def __iter__(self):
        return iter(self._areas.values())

    def geometry(self, code: str):
        """The polygon of an area (WGS84), or None."""
        return self._geoms.get(code)

    def children(self, code: str | None) -> list[Area]:
        return [self._areas[c] for c in self._children.get(code, [])]

    def _ancestor_codes(self, code: str) -> list[str]:
        out, seen = [], set()
        cur: str | None = code
        while cur is not None:
            if cur in seen:
                raise ValueError(f"cycle in parents at {cur}")
            seen.add(cur)
            out.append(cur)
            cur = self._areas[cur].parent
        return out[::-1]

    def ancestors(self, code: str) -> tuple[Area, ...]:
        """Root first, including the area itself; () for an unknown code."""
        return self._chains.get(code, ())

    def is_within(self, code: str, scope_code: str) -> bool:
        return any(a.code == scope_code for a in self._chains.get(code, ()))

    @cached_property
    def _trees_by_level(self) -> dict[tuple[int, str], tuple[list[str], Any]]:
        groups: dict[tuple[int, str], list[str]] = {}
        for c, a in sorted(self._areas.items()):
            groups.setdefault((a.level, a.kind), []).append(c)
        return {k: (codes, shapely.STRtree([self._geoms[c] for c in codes]))
                for k, codes in groups.items()}

    def neighbours(self, code: str) -> frozenset[str]:
        """Areas of the same level and kind that share a border (within ~10 m)."""
        a = self._areas.get(code)
        if a is None:
            return frozenset()
        codes, tree = self._trees_by_level[(a.level, a.kind)]
        hits = tree.query(self._geoms[code], predicate="dwithin", distance=_ADJACENT_DEG)
        return frozenset(codes[i] for i in hits) - {code}

    # ------------------------------------------------------------------ export

    @staticmethod
    def area_properties(a: Area) -> dict:
        return {"code": a.code, "name": a.name, "name_en": a.name_en, "level": a.level,
                "parent": a.parent, "kind": a.kind, "approximate": a.approximate,
                "seat_lat": a.seat_lat, "seat_lon": a.seat_lon}

    def feature_collection(self, level: int | None = None, parent: str | None = None) -> dict:
        """GeoJSON of the areas, optionally one level and/or the children of one parent."""
        key = (level, parent)
        if key not in self._fc_cache:
            feats = [{"type": "Feature", "properties": self.area_properties(a),
                      "geometry": mapping(self._geoms[a.code])}
                     for a in sorted(self._areas.values(), key=lambda a: (a.level, a.code))
                     if (level is None or a.level == level)
                     and (parent is None or a.parent == parent)]
            self._fc_cache[key] = {"type": "FeatureCollection", "features": feats}
        return self._fc_cache[key]
