"""Sea routing: shortest routes over water, around land and islands.

Why a precomputed graph: the dispatcher needs the sea distance from one incident to every
vessel at once, so one Dijkstra over a fixed navigation graph (`field_from`) beats any
per-vessel search. The graph is built offline (scripts/build_seagraph.py -> geo/data/seagraph.npz)
from the land polygons: a regular ~1.5 km grid of sea nodes plus nodes on the coastline buffered
by a few tens of metres (so narrow channels between islands stay navigable), 16-connected, every
edge checked not to cross land. Edge lengths are great-circle km.

Geometry: straight segments are straight in lon/lat (equivalently in the local equirectangular
km frame used here, an affine map of lon/lat, so "does this segment cross land" has the same
answer in both). Lengths are always measured on the sphere (haversine), so a route is never
shorter than the great-circle line between its ends.

Points outside the graph's bbox are joined to the nearest boundary nodes by open-ocean
great-circle legs: the land polygons cover only the bbox, and everything beyond it is assumed
to be open sea (true to the east of the Wenzhou area, which is where such legs come from).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree

from geo.distance import EARTH_RADIUS_KM, haversine_km
from geo.seaclear import EdgeGrid, ancestors
from geo.seafrontier import Frontier
from geo.seajoins import Joins

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_PATH = DATA_DIR / "seagraph.npz"
LAND_PATH = DATA_DIR / "land.geojson"
KM_PER_DEG = EARTH_RADIUS_KM * np.pi / 180.0
SHORE_KM = 2.0  # a point on land this close to water (a moored vessel) may start a route
SNAP_K = 12  # nearest nodes tried when joining a point to the graph
SLOTS = 32  # joins a search starts from, at most (a point has SNAP_K)
SHORTCUT_HOPS = np.array([2, 4, 8, 12, 16, 24, 32, 48, 64, 96])  # ancestors tried (SeaField)
_MICRO = 1e6
SNAP_CACHE = 200_000  # joined points kept (each ~200 bytes)
_COMPASS = [np.array([np.cos(a), np.sin(a)]) for a in np.arange(8) * np.pi / 4]


@dataclass
class SeaRoute:
    """A route over water: its length on the sphere and its polyline (lat, lon)."""

    km: float
    coords: list[tuple[float, float]]


class Frame:
    """Local equirectangular km frame: an affine map of lon/lat, so lines stay lines."""

    def __init__(self, lon0: float, lat0: float) -> None:
        self.lon0, self.lat0 = lon0, lat0
        self.kx = KM_PER_DEG * np.cos(np.radians(lat0))
        self.ky = KM_PER_DEG

    def xy(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        return (np.asarray(lon, float) - self.lon0) * self.kx, (
            np.asarray(lat, float) - self.lat0
        ) * self.ky

    def lonlat(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(x, float) / self.kx + self.lon0, np.asarray(y, float) / self.ky + self.lat0

    def geom(self, g):
        return shapely.transform(g, lambda c: (c - [self.lon0, self.lat0]) * [self.kx, self.ky])


class Land:
    """Land polygons in a Frame, prepared for vectorised point and segment tests."""

    def __init__(self, polygons_lonlat, frame: Frame) -> None:
        self.frame = frame
        self.polys = np.asarray(frame.geom(np.asarray(polygons_lonlat, dtype=object)))
        self.union = shapely.multipolygons(self.polys)
        shapely.prepare(self.union)
        self.tree = shapely.STRtree(self.polys)
        self.edges = EdgeGrid(self.polys)  # line of sight, compiled (geo/seaclear.py)

    def on_land(self, x, y) -> np.ndarray:
        """On land or on its boundary (a point on the coastline is not yet afloat)."""
        return shapely.intersects_xy(self.union, x, y)

    def clear(self, x0, y0, x1, y1) -> np.ndarray:
        """True where the straight segment (x0, y0) -> (x1, y1) touches no land."""
        x0, y0, x1, y1 = np.broadcast_arrays(*(np.asarray(v, float) for v in (x0, y0, x1, y1)))
        if x0.size == 0:
            return np.zeros(x0.shape, bool)
        return self.edges.clear(x0.ravel(), y0.ravel(), x1.ravel(), y1.ravel()).reshape(x0.shape)

    def exit_points(self, x, y, step: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
        """For points on land: the nearest point on their coast, stepped just out to sea."""
        pts = shapely.points(x, y)
        pi, poly = self.tree.query(pts, predicate="intersects")
        owner = np.full(len(x), -1)
        owner[pi[::-1]] = poly[::-1]
        qx, qy = np.array(x, float), np.array(y, float)
        for i in np.flatnonzero(owner >= 0):
            near = shapely.get_coordinates(
                shapely.shortest_line(shapely.boundary(self.polys[owner[i]]), pts[i])
            )[0]
            d = near - (x[i], y[i])
            norm = np.hypot(*d)
            dirs = ([d / norm] if norm > 1e-9 else []) + _COMPASS
            for s, u in ((s, u) for s in (step, 3 * step, 10 * step) for u in dirs):
                cx, cy = near + u * s
                if not self.on_land(cx, cy):
                    qx[i], qy[i] = cx, cy
                    break
        return qx, qy


def read_land(path: Path | str = LAND_PATH) -> np.ndarray:
    """Polygons (lon/lat) of a land GeoJSON FeatureCollection."""
    return shapely.get_parts(shapely.get_parts(shapely.from_geojson(Path(path).read_text())))


def land_digest(polygons) -> str:
    """Digest of the land geometry, stored with the graph to detect a stale graph."""
    wkb = shapely.to_wkb(np.asarray(polygons, dtype=object))
    return hashlib.sha256(b"".join(wkb)).hexdigest()[:16]


def _polygons_of(land) -> np.ndarray:
    if land is None:
        return read_land()
    geom = getattr(land, "geometry", land)
    if isinstance(geom, str | Path):
        return read_land(geom)
    return shapely.get_parts(shapely.get_parts(np.asarray(geom, dtype=object)).ravel())


class SeaGraph:
    """Navigation graph over the sea; see the module docstring."""

    def __init__(self, lat, lon, indptr, indices, km, bbox, polygons, meta=None,
                 shore_km: float = SHORE_KM) -> None:
        self.shore_km = float(shore_km)
        self.lat = np.asarray(lat, float)
        self.lon = np.asarray(lon, float)
        self.n = n = len(self.lat)
        self.bbox = tuple(float(v) for v in bbox)  # lon_min, lat_min, lon_max, lat_max
        self.meta = dict(meta or {})
        self.frame = Frame((self.bbox[0] + self.bbox[2]) / 2, (self.bbox[1] + self.bbox[3]) / 2)
        self.land = Land(polygons, self.frame)
        self.x, self.y = self.frame.xy(self.lon, self.lat)
        self.tree = cKDTree(np.column_stack([self.x, self.y]))
        rows = np.repeat(np.arange(n), np.diff(indptr))
        cols = np.asarray(indices)
        w = np.asarray(km, float)
        g = csr_matrix(
            (np.concatenate([w, w]), (np.concatenate([rows, cols]), np.concatenate([cols, rows]))),
            shape=(n, n),
        )
        self.graph = g  # both directions; searched by geo.seafrontier (the source is virtual)
        # The lengths as stored (float32, summed in float64 by the search: the same sums) take
        # half the memory a search reads, and memory is what a search waits for.
        self._km32 = g.data.astype(np.float32)
        if not np.array_equal(self._km32, g.data):
            self._km32 = g.data
        self.n_edges = len(w)
        self._snaps = Joins(SNAP_CACHE)  # joins made, remembered (geo/seajoins.py)
        lo0, la0, lo1, la1 = self.bbox
        edge = 1.5 * float(self.meta.get("spacing_km", 2.0))
        bx0, by0 = self.frame.xy(lo0, la0)
        bx1, by1 = self.frame.xy(lo1, la1)
        on_edge = (
            (self.x - bx0 < edge) | (bx1 - self.x < edge) | (self.y - by0 < edge) | (by1 - self.y < edge)
        )
        self.boundary = np.flatnonzero(on_edge)

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path | str | None = None, land=None, shore_km: float = SHORE_KM) -> SeaGraph:
        """Load the committed graph; `land` (a LandMask, geometry or path) defaults to land.geojson.

        `shore_km`: how far inland a point (a vessel moored in port) may be and still start a
        route, by a straight leg to the nearest water.
        """
        with np.load(Path(path) if path else DEFAULT_PATH) as z:
            polys = _polygons_of(land)
            meta = {"spacing_km": float(z["spacing_km"]), "land_digest": str(z["land_digest"])}
            if meta["land_digest"] != land_digest(polys):
                log.warning("seagraph.npz was built from other land polygons; rebuild it")
            return cls(
                z["lat_u"] / _MICRO, z["lon_u"] / _MICRO, z["indptr"], z["indices"],
                z["km"], z["bbox"], polys, meta, shore_km,
            )

    @classmethod
    def build(cls, polygons, bbox, **params) -> SeaGraph:
        """Build in memory from land polygons (lon/lat); parameters as build_arrays."""
        from geo.seagraph_build import build_arrays  # offline work, kept out of routing

        a = build_arrays(polygons, bbox, **params)
        return cls(a["lat_u"] / _MICRO, a["lon_u"] / _MICRO, a["indptr"], a["indices"], a["km"],
                   bbox, polygons, {"spacing_km": a["spacing_km"]})

    # ---- snapping -------------------------------------------------------------------------
    def _outside(self, lon, lat) -> np.ndarray:
        lo0, la0, lo1, la1 = self.bbox
        return (lon < lo0) | (lon > lo1) | (lat < la0) | (lat > la1)

    def joins(self, lats: Any, lons: Any) -> tuple:
        """Points joined to the graph (see `_snap`): to reuse one join for several questions."""
        return self._snap(lats, lons)

    def _snap(self, lats, lons):
        """Join points to the graph.

        Returns (qx, qy, pre_km, nodes (m, k), leg_km (m, k), outside): q is where the water
        part starts (the point itself, or for a shore point the water's edge, pre_km away);
        nodes are reachable from q by a straight leg over water (-1 / inf where not).
        Joins already made are taken from the cache; only new points are computed.
        """
        lat = np.atleast_1d(np.asarray(lats, float))
        lon = np.atleast_1d(np.asarray(lons, float))
        if len(lat) == 0:
            return self._snap_points(lat, lon)
        keys = list(zip(lat.tolist(), lon.tolist(), strict=True))
        return self._snaps.join(keys, lat, lon, self._snap_points)

    def prepare(self, lats: Any, lons: Any, pause: Callable[[], None] | None = None,
                chunk: int = 64) -> None:
        """Join these points to the graph now, `chunk` at a time with `pause` between, so
        that the searches that ask for them later find them joined. Why: a first join costs
        ~0.2 ms a point, and coverage asks for a thousand cells at once."""
        lat, lon = np.asarray(lats, float), np.asarray(lons, float)
        for i in range(0, len(lat), chunk):
            self._snap(lat[i:i + chunk], lon[i:i + chunk])
            if pause is not None:
                pause()

    def _snap_points(self, lat: np.ndarray, lon: np.ndarray):  # noqa: ANN202 - see _snap
        m = len(lat)
        x, y = self.frame.xy(lon, lat)
        outside = self._outside(lon, lat)
        qx, qy = x.copy(), y.copy()
        pre = np.zeros(m)
        landed = ~outside & self.land.on_land(x, y)
        if landed.any():
            ex, ey = self.land.exit_points(x[landed], y[landed])
            qx[landed], qy[landed] = ex, ey
            elon, elat = self.frame.lonlat(ex, ey)
            pre[landed] = haversine_km(lat[landed], lon[landed], elat, elon)
            # the water's edge is stepped up to 0.5 km out from the coast: allow for it
            still = self.land.on_land(ex, ey) | (pre[landed] > self.shore_km + 0.5)
            pre[np.flatnonzero(landed)[still]] = np.inf
        nodes = np.full((m, SNAP_K), -1)
        legs = np.full((m, SNAP_K), np.inf)
        inside = np.flatnonzero(~outside & np.isfinite(pre))
        for k, radius in ((SNAP_K, 6.0), (SNAP_K * 8, 25.0)):
            if len(inside) == 0:
                break
            _, idx = self.tree.query(np.column_stack([qx[inside], qy[inside]]), k=k,
                                     distance_upper_bound=radius)
            ok = idx < self.n
            safe = np.where(ok, idx, 0)
            ok &= self.land.clear(qx[inside, None], qy[inside, None], self.x[safe], self.y[safe])
            # keep the SNAP_K nearest clear ones
            order = np.argsort(~ok, axis=1, kind="stable")[:, :SNAP_K]
            sel = np.take_along_axis(safe, order, 1)
            okk = np.take_along_axis(ok, order, 1)
            nodes[inside] = np.where(okk, sel, -1)
            qlon, qlat = self.frame.lonlat(qx[inside], qy[inside])
            leg = haversine_km(qlat[:, None], qlon[:, None], self.lat[sel], self.lon[sel])
            legs[inside] = np.where(okk, leg + pre[inside, None], np.inf)
            inside = inside[~okk.any(axis=1)]  # retry the unjoined ones, wider
        if outside.any():
            b = self.boundary
            d = haversine_km(lat[outside, None], lon[outside, None], self.lat[b], self.lon[b])
            kk = min(SNAP_K, len(b))
            best = np.argsort(d, axis=1)[:, :kk]
            nodes[outside, :kk] = b[best]
            legs[outside, :kk] = np.take_along_axis(d, best, 1)
        return qx, qy, pre, nodes, legs, outside

    def _frontier(self, nodes: np.ndarray, legs: np.ndarray) -> Frontier | None:
        """A search from a point joined to the graph by these legs (None: joined nowhere)."""
        ok = nodes >= 0
        if not ok.any():
            return None
        g = self.graph
        return Frontier(g.indptr, g.indices, self._km32, self.n, nodes[ok][:SLOTS],
                        legs[ok][:SLOTS])

    # ---- public -------------------------------------------------------------------------
    def route(self, a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> SeaRoute | None:
        """Shortest route over water from a to b (None when either end cannot reach water)."""
        qx, qy, pre, nodes, legs, out = self._snap([a_lat, b_lat], [a_lon, b_lon])
        if not (np.isfinite(legs[0]).any() and np.isfinite(legs[1]).any()):
            return None
        ends = [(a_lat, a_lon), (b_lat, b_lon)]
        if self.land.clear(qx[0], qy[0], qx[1], qy[1]):
            return self._assemble(ends, qx, qy, pre, out, np.empty(0, int))
        gc = haversine_km(a_lat, a_lon, b_lat, b_lon)
        search = self._frontier(nodes[0], legs[0])
        if search is None:
            return None
        for limit in (2.0 * gc + 30.0, np.inf):
            search.grow(limit)
            tot = _within(search.dist[np.maximum(nodes[1], 0)], limit) + legs[1]
            if np.isfinite(tot).any():
                break
        else:
            return None
        end = nodes[1][int(np.argmin(tot))]
        return self._assemble(ends, qx, qy, pre, out, _walk(search.pred, end, self.n))

    def field_from(self, lat: float, lon: float, limit_km: float | None = None) -> SeaField:
        """One shortest-path search from a source; query many targets with SeaField.km_to.

        `limit_km` bounds the search: targets farther than that by water are unreachable (inf).
        """
        limit = np.inf if limit_km is None else float(limit_km)
        growing = GrowingField(self, lat, lon)
        growing.grow(limit)
        return growing.field(limit)  # (a search done before the limit still answers to it)

    def growing_from(self, lat: float, lon: float) -> GrowingField:
        """A search from a source that is taken only as far as asked, and further later."""
        return GrowingField(self, lat, lon)

    # ---- path assembly --------------------------------------------------------------------
    def _assemble(self, ends, qx, qy, pre, out, path) -> SeaRoute:
        """Polyline end a -> (water edge) -> smoothed nodes -> (water edge) -> end b."""
        xs = np.concatenate([[qx[0]], self.x[path], [qx[1]]])
        ys = np.concatenate([[qy[0]], self.y[path], [qy[1]]])
        lo, hi = int(bool(out[0])), len(xs) - int(bool(out[1]))
        keep = self._pull(xs[lo:hi], ys[lo:hi]) + lo
        keep = np.concatenate([[0] if lo else [], keep, [len(xs) - 1] if hi < len(xs) else []])
        keep = keep.astype(int)
        lon, lat = self.frame.lonlat(xs[keep], ys[keep])
        if out[0]:
            lat[0], lon[0] = ends[0]
        if out[1]:
            lat[-1], lon[-1] = ends[1]
        coords = list(zip(lat.tolist(), lon.tolist(), strict=True))
        if pre[0] > 0 and not out[0]:
            coords.insert(0, ends[0])
        if pre[1] > 0 and not out[1]:
            coords.append(ends[1])
        c = np.asarray(coords)
        km = float(haversine_km(c[:-1, 0], c[:-1, 1], c[1:, 0], c[1:, 1]).sum()) if len(c) > 1 else 0.0
        return SeaRoute(km=km, coords=coords)

    def _pull(self, xs, ys) -> np.ndarray:
        """String pulling, forwards and backwards; the shorter of the two polylines."""
        fwd = self._pull1(xs, ys)
        bwd = (len(xs) - 1 - self._pull1(xs[::-1], ys[::-1]))[::-1]
        lengths = [np.hypot(np.diff(xs[k]), np.diff(ys[k])).sum() for k in (fwd, bwd)]
        return fwd if lengths[0] <= lengths[1] else bwd

    def _pull1(self, xs, ys) -> np.ndarray:
        """From each kept vertex jump to the farthest one in line of sight."""
        m = len(xs)
        keep, i = [0], 0
        while i < m - 1:
            js = np.arange(i + 2, m)
            vis = self.land.clear(xs[i], ys[i], xs[js], ys[js]) if len(js) else js.astype(bool)
            i = int(js[vis].max()) if vis.any() else i + 1
            keep.append(i)
        return np.asarray(keep)


def _within(dist: np.ndarray, limit: float) -> np.ndarray:
    """Distances of a search grown to `limit`: beyond it (tentative, or none) inf."""
    return dist if limit == np.inf else np.where(dist <= limit, dist, np.inf)


def _walk(pred, end: int, source: int) -> np.ndarray:
    out = []
    while end != source and end >= 0:
        out.append(end)
        end = pred[end]
    return np.asarray(out[::-1], int)


class SeaField:
    """Shortest sea distances from one source to every graph node (from SeaGraph.field_from)."""

    def __init__(self, graph: SeaGraph, src, qx, qy, pre, outside, dist, pred,
                 limit_km: float = np.inf) -> None:
        self.graph, self.src = graph, src
        self._q, self._pre, self._out = (qx, qy), pre, outside
        self.dist, self.pred = dist, pred
        self.limit_km = limit_km

    def km_to(self, lats, lons) -> np.ndarray:
        """Sea km from the source to each point (inf where unreachable), vectorised."""
        return self.km_and_approach(lats, lons)[0]

    def km_and_approach(self, lats, lons) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`km_to`, with each point's best graph approach before any straight leg (min over
        its joins of node distance + leg; inf without one) and whether it has a join at all:
        what a bounded search needs to know whether an answer is final (SeaSearch.km)."""
        lats = np.atleast_1d(np.asarray(lats, float))
        if self.dist is None:
            inf = np.full(len(lats), np.inf)
            return inf, inf, np.zeros(len(lats), bool)
        return self.km_of_joins(self.graph._snap(lats, np.atleast_1d(np.asarray(lons, float))))

    def km_of_joins(self, joins: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`km_and_approach` of points already joined to the graph (SeaGraph.joins)."""
        qx, qy, pre, nodes, legs, out = joins
        if self.dist is None:
            inf = np.full(len(qx), np.inf)
            return inf, inf, np.zeros(len(qx), bool)
        g = self.graph
        joined = (nodes >= 0) & np.isfinite(legs)
        tot = np.where(nodes >= 0, _within(self.dist[np.maximum(nodes, 0)], self.limit_km) + legs,
                       np.inf)
        km = tot.min(axis=1)
        approach = km.copy()
        self._shortcut(km, np.maximum(nodes[np.arange(len(km)), tot.argmin(axis=1)], 0), qx, qy, pre)
        # Direct line of sight over water (exact in open water).
        direct = np.isfinite(pre) & np.isfinite(self._pre) & ~out & (not self._out)
        idx = np.flatnonzero(direct)
        if len(idx):
            vis = g.land.clear(self._q[0], self._q[1], qx[idx], qy[idx])
            idx = idx[vis]
            slon, slat = g.frame.lonlat(*self._q)
            qlon, qlat = g.frame.lonlat(qx[idx], qy[idx])
            d = self._pre + pre[idx] + haversine_km(slat, slon, qlat, qlon)
            km[idx] = np.minimum(km[idx], d)
        km[km > self.limit_km] = np.inf
        return km, approach, joined.any(axis=1)

    def _shortcut(self, km, best, qx, qy, pre) -> None:
        """Tighten km in place: a straight leg over water to a node further up the tree.

        Grid paths zigzag (up to ~3 % long on a 16-connected grid); a line of sight from the
        target to an ancestor of its node removes most of that, as string pulling does. Of the
        ancestors at SHORTCUT_HOPS, the shortest leg in sight wins: they are tried shortest
        first and the first in sight ends it (one compiled step: geo/seaclear.py).
        """
        g, live = self.graph, np.isfinite(km)
        if not live.any():
            return
        anc = ancestors(self.pred, best, g.n, SHORTCUT_HOPS)
        qlon, qlat = g.frame.lonlat(qx, qy)
        d = self.dist[anc] + pre[:, None] + haversine_km(qlat[:, None], qlon[:, None],
                                                          g.lat[anc], g.lon[anc])
        g.land.edges.shortest_in_sight(km, d, qx, qy, g.x[anc], g.y[anc])

    def path_to(self, lat: float, lon: float) -> SeaRoute | None:
        """The route from the source to one point (smoothed, as SeaGraph.route)."""
        if self.dist is None:
            return None
        g = self.graph
        qx, qy, pre, nodes, legs, out = g._snap([lat], [lon])
        tot = np.where(nodes[0] >= 0,
                       _within(self.dist[np.maximum(nodes[0], 0)], self.limit_km) + legs[0],
                       np.inf)
        if not np.isfinite(tot).any():
            return None
        ends = [self.src, (lat, lon)]
        qxs = np.array([self._q[0], qx[0]])
        qys = np.array([self._q[1], qy[0]])
        pres = np.array([self._pre, pre[0]])
        outs = np.array([self._out, out[0]])
        if not outs.any() and g.land.clear(qxs[0], qys[0], qxs[1], qys[1]):
            return g._assemble(ends, qxs, qys, pres, outs, np.empty(0, int))
        path = _walk(self.pred, nodes[0][int(np.argmin(tot))], g.n)
        return g._assemble(ends, qxs, qys, pres, outs, path)


class GrowingField:
    """The sea search from one source, grown on demand (geo.seafrontier): `field()` answers
    as a search bounded to how far it has grown, `bound` says how far points' answers need."""

    def __init__(self, graph: SeaGraph, lat: float, lon: float) -> None:
        qx, qy, pre, nodes, legs, out = graph._snap([lat], [lon])
        self.graph, self.src = graph, (lat, lon)
        self._src = (qx[0], qy[0], pre[0], bool(out[0]))
        self.search = graph._frontier(nodes[0], legs[0])  # None: the source joins nowhere

    @property
    def radius(self) -> float:
        """Every node within it is settled (inf: the search is complete)."""
        return np.inf if self.search is None else self.search.radius

    def grow(self, limit: float) -> bool:
        """Settle every node within `limit` km; False if it already had."""
        return self.search is not None and self.search.grow(limit)

    def field(self, cap: float = np.inf) -> SeaField:
        """The field as far as grown (answers beyond min(radius, cap) are inf)."""
        s = self.search
        qx, qy, pre, out = self._src
        limit = min(self.radius, cap)
        return SeaField(self.graph, self.src, qx, qy, pre, out, None if s is None else s.dist,
                        None if s is None else s.pred, limit)

    def bound(self, nodes: np.ndarray, legs: np.ndarray) -> np.ndarray:
        """Each joined point's best approach as known now (`SeaField.km_and_approach`): exact
        once it is within `radius`, an upper bound before (inf: none of its joins seen yet).
        Why: once a point's bound is within the radius, its answer is the whole search's."""
        if self.search is None:
            return np.full(len(nodes), np.inf)
        d = self.search.tentative(np.maximum(nodes, 0))
        return np.where(nodes >= 0, d + legs, np.inf).min(axis=1)
