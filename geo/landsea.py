"""Land or sea: the land mask of the Wenzhou region (geo/data/land.geojson).

Why separate from the areas: the mask covers every coast in the region (Taizhou, Fujian too),
carries landmass ids for land reachability, and is what sea routing avoids.  Built by
scripts/build_geodata.py as the union of the same county shapes the areas use.
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


class LandMask:
    """Landmass polygons (WGS84); id 0 is the mainland, others by decreasing area."""

    def __init__(self, polygons: list, landmass_ids: list[int]):
        if len(polygons) != len(landmass_ids):
            raise ValueError("one landmass id per polygon")
        self.polygons = np.asarray(polygons, dtype=object)
        self.ids = np.asarray(landmass_ids, dtype=int)
        shapely.prepare(self.polygons)
        self._tree = shapely.STRtree(self.polygons)
        minx, miny, maxx, maxy = shapely.total_bounds(self.polygons)
        self.bbox = (float(minx), float(miny), float(maxx), float(maxy))

    @classmethod
    def load(cls, path: str | Path | None = None) -> LandMask:
        with open(path or DEFAULT_PATH, encoding="utf-8") as fh:
            fc = json.load(fh)
        polys, ids = [], []
        for i, f in enumerate(fc["features"]):
            g = shape(f["geometry"])
            for part in shapely.get_parts(g):  # a landmass clipped by the bbox may be multi
                polys.append(part)
                ids.append(int(f["properties"].get("landmass", i)))
        return cls(polys, ids)

    @cached_property
    def geometry(self):
        """All land as one MultiPolygon (WGS84), parts in landmass order."""
        return shapely.MultiPolygon(list(self.polygons))

    # ------------------------------------------------------------------ point queries

    def _hits(self, lats, lons) -> tuple[np.ndarray, np.ndarray]:
        lats = np.atleast_1d(np.asarray(lats, dtype=float))
        lons = np.atleast_1d(np.asarray(lons, dtype=float))
        ok = np.isfinite(lats) & np.isfinite(lons)
        pts = shapely.points(np.where(ok, lons, 0.0), np.where(ok, lats, 90.0))
        qi, pi = self._tree.query(pts, predicate="intersects")
        return qi, pi

    def is_land(self, lat: float, lon: float) -> bool:
        return bool(self.is_land_many([lat], [lon])[0])

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
        edges = shapely.box(*self.bbox).exterior.buffer(1e-6)  # artificial edges of the clip
        coast = shapely.union_all(shapely.boundary(self.polygons)).difference(edges)
        coast_m = shapely.transform(coast, lambda xy: np.column_stack(fwd.transform(*xy.T)))
        shapely.prepare(coast_m)
        return fwd, coast_m

    def distance_to_coast_km(self, lat, lon):
        """Distance (km, unsigned) to the nearest coastline; float for scalars."""
        fwd, coast = self._frame
        x, y = fwd.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        d = shapely.distance(shapely.points(x, y), coast) / 1000.0
        return float(d) if np.ndim(d) == 0 else np.asarray(d)
