"""Land or sea: the land mask of the Wenzhou region (geo/data/land.geojson).

Why separate from the areas: the mask covers every coast in the region (Taizhou, Fujian too),
carries landmass ids for land reachability, and is what sea routing avoids.  Built by
scripts/build_geodata.py from OpenStreetMap coastline (land) polygons, not from the county
shapes: administrative polygons include estuaries and the channels between islands.

The mask answers only inside its `bbox` (the clip box of the build): outside it, "not in a
polygon" means "unknown", not "sea" (see `covers`).
"""

from __future__ import annotations

import json
import math
from functools import cached_property
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import shape

DEFAULT_PATH = Path(__file__).parent / "data" / "land.geojson"
_KM_PER_DEG = 6371.0088 * math.pi / 180.0
RASTER_DEG = 0.0015  # landmass raster cell (~167 m north-south, ~148 m east-west at 28 N)
_MIXED, _SEA = -2, -1


class LandmassRaster:
    """Landmass ids on a fine lon/lat grid; cells a coastline touches say "ask the polygons".

    Why: a point-in-polygon query costs ~100 µs a call on the coastline; a grid lookup costs
    nanoseconds. Exact by construction: every cell that any polygon edge comes within `eps`
    of is marked mixed and answered by the exact polygon test, so a "pure" cell lies wholly
    inside or outside every polygon; 4-connected pure cells therefore share one answer, which
    is computed once per connected region at a cell centre by the exact test. The `eps` margin
    also covers a point rounded into a neighbouring cell by the floor of the lookup.
    """

    def __init__(self, polygons, exact, step: float = RASTER_DEG, eps: float = 1e-9) -> None:
        from scipy import ndimage

        self.step = float(step)
        x0, y0, x1, y1 = shapely.total_bounds(polygons)
        self.x0, self.y0 = float(x0) - self.step, float(y0) - self.step
        self.nx = int(math.ceil((float(x1) + self.step - self.x0) / self.step)) + 1
        self.ny = int(math.ceil((float(y1) + self.step - self.y0) / self.step)) + 1
        mixed = np.zeros((self.ny, self.nx), bool)
        rings = shapely.segmentize(shapely.get_rings(polygons), self.step / 2)
        xy, ring = shapely.get_coordinates(rings, return_index=True)
        same = ring[1:] == ring[:-1]
        a, b = xy[:-1][same], xy[1:][same]
        lo = (np.minimum(a, b) - eps - (self.x0, self.y0)) / self.step
        hi = (np.maximum(a, b) + eps - (self.x0, self.y0)) / self.step
        i0, i1 = np.floor(lo).astype(np.int64), np.floor(hi).astype(np.int64)
        span = int((i1 - i0).max()) if len(i0) else 0
        for dx in range(span + 1):
            for dy in range(span + 1):
                ok = (i0[:, 0] + dx <= i1[:, 0]) & (i0[:, 1] + dy <= i1[:, 1])
                mixed[i0[ok, 1] + dy, i0[ok, 0] + dx] = True
        labels, n = ndimage.label(~mixed)
        flat = labels.ravel()
        rep = np.zeros(n + 1, np.int64)
        rep[flat] = np.arange(len(flat))  # any one cell of each region
        ry, rx = np.divmod(rep[1:], self.nx)
        got = exact((ry + 0.5) * self.step + self.y0, (rx + 0.5) * self.step + self.x0)
        table = np.concatenate([[_MIXED], np.where(np.isnan(got), _SEA, got)]).astype(np.int32)
        self.cells = table[labels]
        self.mixed_fraction = float(mixed.mean())

    def lookup(self, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
        """Landmass id per point, -1 at sea, -2 where the exact test must answer (a cell on
        a coastline, outside the grid, or not a finite point)."""
        fx = np.floor((lons - self.x0) / self.step)  # NaN stays NaN and fails the test
        fy = np.floor((lats - self.y0) / self.step)
        ok = (fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny)
        out = np.full(len(lats), _MIXED, np.int32)
        out[ok] = self.cells[fy[ok].astype(np.int64), fx[ok].astype(np.int64)]
        return out


class LandMask:
    """Landmass polygons (WGS84); id 0 is the mainland, others by decreasing area."""

    def __init__(self, polygons: list, landmass_ids: list[int],
                 bbox: tuple[float, float, float, float] | None = None):
        """`bbox` (lon_min, lat_min, lon_max, lat_max): where the mask is complete; defaults
        to the polygons' bounds."""
        if len(polygons) != len(landmass_ids):
            raise ValueError("one landmass id per polygon")
        self.polygons = np.asarray(polygons, dtype=object)
        self.ids = np.asarray(landmass_ids, dtype=int)
        shapely.prepare(self.polygons)
        self._tree = shapely.STRtree(self.polygons)
        if bbox is None:
            bbox = shapely.total_bounds(self.polygons)
        minx, miny, maxx, maxy = bbox
        self.bbox = (float(minx), float(miny), float(maxx), float(maxy))

    @classmethod
    def load(cls, path: str | Path | None = None) -> LandMask:
        with open(path or DEFAULT_PATH, encoding="utf-8") as fh:
            fc = json.load(fh)
        polys, ids = [], []
        for i, f in enumerate(fc["features"]):
            g = shape(f["geometry"])
            for part in shapely.get_parts(g):  # a landmass pinched by rounding may be multi
                polys.append(part)
                ids.append(int(f["properties"].get("landmass", i)))
        bbox = fc.get("bbox")
        return cls(polys, ids, tuple(bbox) if bbox else None)

    @cached_property
    def geometry(self):
        """All land as one MultiPolygon (WGS84), parts in landmass order (prepared)."""
        g = shapely.MultiPolygon(list(self.polygons))
        shapely.prepare(g)
        return g

    def covers(self, lat: float, lon: float) -> bool:
        """Is the point inside the mask's bbox, where "no polygon" really means sea?"""
        lo0, la0, lo1, la1 = self.bbox
        return lo0 <= lon <= lo1 and la0 <= lat <= la1

    # ------------------------------------------------------------------ point queries

    def _hits(self, lats, lons) -> tuple[np.ndarray, np.ndarray]:
        lats = np.atleast_1d(np.asarray(lats, dtype=float))
        lons = np.atleast_1d(np.asarray(lons, dtype=float))
        ok = np.isfinite(lats) & np.isfinite(lons)
        pts = shapely.points(np.where(ok, lons, 0.0), np.where(ok, lats, 90.0))
        qi, pi = self._tree.query(pts, predicate="intersects")
        return qi, pi

    def is_land(self, lat: float, lon: float) -> bool:
        """Scalar test on the prepared union (a few µs; the vectorised path costs ~100 µs)."""
        return bool(shapely.intersects_xy(self.geometry, float(lon), float(lat)))

    def is_land_many(self, lats, lons) -> np.ndarray:
        """Boolean array, vectorised."""
        n = len(np.atleast_1d(lats))
        qi, _ = self._hits(lats, lons)
        out = np.zeros(n, dtype=bool)
        out[qi] = True
        return out

    def landmass(self, lat: float, lon: float) -> int | None:
        m = self.landmass_many([lat], [lon])[0]
        return None if math.isnan(m) else int(m)

    @cached_property
    def raster(self) -> LandmassRaster:
        """The landmass raster, built on first use (~1 s), exact (see LandmassRaster)."""
        return LandmassRaster(self.polygons, self.landmass_many_exact)

    def landmass_many(self, lats, lons) -> np.ndarray:
        """Float array of landmass ids, NaN at sea (lowest id where polygons touch).

        The raster answers most points; those on a coastline cell go to the polygons."""
        lats = np.atleast_1d(np.asarray(lats, dtype=float))
        lons = np.atleast_1d(np.asarray(lons, dtype=float))
        got = self.raster.lookup(lats, lons)
        out = np.where(got == _SEA, np.nan, got.astype(float))
        ask = np.flatnonzero(got == _MIXED)
        if len(ask):
            out[ask] = self.landmass_many_exact(lats[ask], lons[ask])
        return out

    def landmass_many_exact(self, lats, lons) -> np.ndarray:
        """landmass_many by the polygons alone (the raster's oracle)."""
        n = len(np.atleast_1d(lats))
        qi, pi = self._hits(lats, lons)
        out = np.full(n, np.inf)
        np.minimum.at(out, qi, self.ids[pi].astype(float))
        out[np.isinf(out)] = np.nan
        return out

    # ------------------------------------------------------------------ coast distance

    @cached_property
    def _frame(self) -> tuple[Transformer, object]:
        """Local transverse Mercator and the coastline in it (clip edges of the bbox excluded)."""
        lon0 = (self.bbox[0] + self.bbox[2]) / 2
        lat0 = (self.bbox[1] + self.bbox[3]) / 2
        proj = f"+proj=tmerc +lat_0={lat0:.4f} +lon_0={lon0:.4f} +k=1 +ellps=WGS84 +units=m"
        fwd = Transformer.from_crs("EPSG:4326", proj, always_xy=True)
        coast_m = shapely.transform(self._coast_lonlat,
                                    lambda xy: np.column_stack(fwd.transform(*xy.T)))
        shapely.prepare(coast_m)
        return fwd, coast_m

    @cached_property
    def _coast_eqr(self) -> tuple[float, float, float, object]:
        """The coastline in a local equirectangular km frame (lon0, lat0, kx, prepared lines).

        Only for short-distance tests (near_coast): the frame's east-west scale is exact at
        lat0 and off by cos(lat)/cos(lat0) elsewhere, < 2 % across the bbox.
        """
        lon0 = (self.bbox[0] + self.bbox[2]) / 2
        lat0 = (self.bbox[1] + self.bbox[3]) / 2
        kx = _KM_PER_DEG * math.cos(math.radians(lat0))
        coast = shapely.transform(self._coast_lonlat,
                                  lambda c: (c - [lon0, lat0]) * [kx, _KM_PER_DEG])
        shapely.prepare(coast)
        return lon0, lat0, kx, coast

    @cached_property
    def _coast_lonlat(self):
        edges = shapely.box(*self.bbox).exterior.buffer(1e-6)  # artificial edges of the clip
        return shapely.union_all(shapely.boundary(self.polygons)).difference(edges)

    def near_coast(self, lat: float, lon: float, km: float) -> bool:
        """Within `km` of the coastline (scalar, ~15 µs; for km up to a few, see _coast_eqr)."""
        lon0, lat0, kx, coast = self._coast_eqr
        pt = shapely.Point((float(lon) - lon0) * kx, (float(lat) - lat0) * _KM_PER_DEG)
        return bool(shapely.dwithin(coast, pt, km))

    def distance_to_coast_km(self, lat, lon):
        """Distance (km, unsigned) to the nearest coastline; float for scalars."""
        fwd, coast = self._frame
        x, y = fwd.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        d = shapely.distance(shapely.points(x, y), coast) / 1000.0
        return float(d) if np.ndim(d) == 0 else np.asarray(d)
