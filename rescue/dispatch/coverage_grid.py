"""The coverage grid: square cells over the region and, per target, the sites it must reach.

Why a metric frame: a cell is `cell_km` on a side on the ground, so cells are laid out in a
Lambert azimuthal equal-area projection centred on the region (pyproj; every cell has the same
area, and no degree is ever taken for a distance) and only their centres and corners are
turned back into WGS84. A cell belongs to the region when its centre lies in one of the
region's areas (by `AreaIndex.locate`, which also says land or sea, shore, and the area chain
the dispatcher's detour factor reads).

A target's sites are the centres of the cells it applies to (`over: land|sea`, `coast_km`,
`area`), or its named points, each shown on the cell nearest to it. Everything here is static:
it is built once per process and reused by every recompute.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree

from rescue.dispatch.coverage_targets import CoverageTarget
from rescue.dispatch.policy import DispatchPolicy

log = logging.getLogger(__name__)


@dataclass
class Sites:
    """The points one target must reach, with what the travel model needs to know of each:
    `sea_ok` (at sea or on the shore: vessels may come), `at_sea`, `component` (land
    reachability class, -1 at sea), `detour` (the dispatcher's factor for its area chain)."""

    lat: np.ndarray
    lon: np.ndarray
    cell: np.ndarray  # index of the grid cell that shows it
    names: tuple[str, ...] | None  # the named points of a points target
    at_sea: np.ndarray
    sea_ok: np.ndarray
    component: np.ndarray
    detour: np.ndarray
    locations: list[Any]

    def __len__(self) -> int:
        return len(self.lat)


class Grid:
    """Cells of the region; see the module docstring."""

    def __init__(self, geography: Any, areas: tuple[str, ...], cell_km: float,
                 pause: Callable[[], None] | None = None) -> None:
        """`pause` is called now and then (a server's event loop lets others run)."""
        self.pause = pause
        self.geography = geography
        self.cell_km = float(cell_km)
        idx = geography.areas
        region = shapely.union_all([idx.geometry(c) for c in areas])
        c = region.centroid
        self.proj = (f"+proj=laea +lat_0={c.y:.5f} +lon_0={c.x:.5f} +ellps=WGS84 +units=m "
                     "+no_defs")
        self._fwd = Transformer.from_crs("EPSG:4326", self.proj, always_xy=True)
        self._back = Transformer.from_crs(self.proj, "EPSG:4326", always_xy=True)
        ring = np.asarray(shapely.get_coordinates(shapely.segmentize(region, 0.01)))
        mx, my = self._fwd.transform(ring[:, 0], ring[:, 1])
        size = self.cell_km * 1000.0
        self.x0, self.y0 = float(np.min(mx)), float(np.min(my))
        nx = int(np.ceil((np.max(mx) - self.x0) / size))
        ny = int(np.ceil((np.max(my) - self.y0) / size))
        ix, iy = (a.ravel() for a in np.meshgrid(np.arange(nx), np.arange(ny)))
        lon, lat = self._back.transform(self.x0 + (ix + 0.5) * size, self.y0 + (iy + 0.5) * size)
        shapely.prepare(region)
        inside = shapely.contains_xy(region, lon, lat)
        keep, locs = [], []
        for n, i in enumerate(np.flatnonzero(inside)):
            if pause is not None and n % 256 == 255:
                pause()
            try:
                loc = idx.locate(float(lat[i]), float(lon[i]))
            except ValueError:  # outside every area (an edge of the polygons)
                continue
            if loc.chain and any(loc.chain[-1].code.startswith(a) for a in areas):
                keep.append(i)
                locs.append(loc)
        k = np.asarray(keep, dtype=np.int64)
        self.ix, self.iy, self.lat, self.lon = ix[k], iy[k], np.asarray(lat)[k], \
            np.asarray(lon)[k]
        self.shape = (ny, nx)
        self.locations = locs
        self.surface = np.array([loc.surface for loc in locs], dtype=object)
        self.leaf = np.array([loc.chain[-1].code for loc in locs], dtype=object)

    def __len__(self) -> int:
        return len(self.lat)

    # ---- geometry
    @cached_property
    def rings(self) -> list[list[list[float]]]:
        """Each cell's outline in lon/lat (GeoJSON order, closed, 5 decimals ~ 1 m)."""
        size = self.cell_km * 1000.0
        corners = np.array([(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)], dtype=float)
        x = self.x0 + (self.ix[:, None] + corners[None, :, 0]) * size
        y = self.y0 + (self.iy[:, None] + corners[None, :, 1]) * size
        lon, lat = self._back.transform(x.ravel(), y.ravel())
        pts = np.round(np.column_stack([lon, lat]), 5).reshape(len(self), 5, 2)
        return pts.tolist()

    @cached_property
    def polygons(self) -> np.ndarray:
        return shapely.polygons(np.asarray(self.rings))

    @cached_property
    def _tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.polygons)

    def cells_meeting(self, geom: Any) -> np.ndarray:
        """Indices of the cells intersecting a (lon/lat) geometry."""
        return np.unique(self._tree.query(geom, predicate="intersects"))

    def xy(self, lat: Any, lon: Any) -> tuple[np.ndarray, np.ndarray]:
        """Metres in the grid's frame."""
        x, y = self._fwd.transform(np.asarray(lon, float), np.asarray(lat, float))
        return np.asarray(x), np.asarray(y)

    @cached_property
    def _centres(self) -> cKDTree:
        size = self.cell_km * 1000.0
        return cKDTree(np.column_stack([self.x0 + (self.ix + 0.5) * size,
                                        self.y0 + (self.iy + 0.5) * size]))

    def nearest_cell(self, lat: Any, lon: Any) -> np.ndarray:
        _, i = self._centres.query(np.column_stack(self.xy(lat, lon)))
        return np.atleast_1d(i).astype(np.int64)

    @cached_property
    def coast_km(self) -> np.ndarray:
        """Distance of each cell centre to the coastline (km, the land mask's own measure);
        in chunks, pausing between them (~0.1 s per thousand cells)."""
        out = np.empty(len(self))
        for i in range(0, len(self), 500):
            if self.pause is not None:
                self.pause()
            out[i:i + 500] = self.geography.land.distance_to_coast_km(self.lat[i:i + 500],
                                                                      self.lon[i:i + 500])
        return out

    # ---- the sites of a target
    def sites(self, target: CoverageTarget, policy: DispatchPolicy) -> Sites:
        geo = self.geography
        if target.points:
            lat = np.array([p.lat for p in target.points])
            lon = np.array([p.lon for p in target.points])
            locs: list[Any] = []
            for p in target.points:  # the file's check: inside the grid's areas' polygons
                try:
                    locs.append(geo.areas.locate(p.lat, p.lon))
                except ValueError:
                    log.warning("coverage target %s: %s is outside every area; left out",
                                target.name, p.name)
                    locs.append(None)
            keep = np.array([loc is not None and (target.area is None or
                                                  loc.chain[-1].code.startswith(target.area))
                             for loc in locs], bool)
            cell = self.nearest_cell(lat, lon)
            names: tuple[str, ...] | None = tuple(
                p.name for p, k in zip(target.points, keep, strict=True) if k)
            lat, lon, cell = lat[keep], lon[keep], cell[keep]
            locs = [loc for loc, k in zip(locs, keep, strict=True) if k]
        else:
            ok = self.surface == target.over
            if target.coast_km is not None:
                ok &= self.coast_km <= target.coast_km
            if target.area is not None:
                ok &= np.array([str(c).startswith(target.area) for c in self.leaf], bool)
            cell = np.flatnonzero(ok)
            lat, lon, names = self.lat[cell], self.lon[cell], None
            locs = [self.locations[i] for i in cell]
        at_sea = np.array([loc.surface == "sea" for loc in locs], bool)
        sea_ok = at_sea | np.array([bool(loc.shore) for loc in locs], bool)
        comp = (np.asarray(geo.reach.components(lat, lon), dtype=np.int64) if len(lat)
                else np.empty(0, np.int64))
        comp = np.where(at_sea, -1, comp)
        detour = np.array([policy.detour_for(tuple(a.code for a in loc.chain)) for loc in locs],
                          dtype=float)
        return Sites(lat, lon, cell, names, at_sea, sea_ok, comp, detour, locs)
