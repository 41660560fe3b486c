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

    def landmass_many(self, lats, lons) -> np.ndarray:
        """Float array of landmass ids, NaN at sea (lowest id where polygons touch)."""
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
