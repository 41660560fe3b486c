"""Building the sea navigation graph (offline: scripts/build_seagraph.py).

Kept apart from geo.seagraph, which loads and routes: building checks every candidate edge
against the land polygons, work done once per land mask, never in a server.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from geo.distance import haversine_km
from geo.seagraph import _MICRO, Frame, Land, land_digest


def build_arrays(polygons, bbox, spacing_km: float = 1.5, coast_offset_km: float = 0.06,
                 coast_step_km: float = 0.4) -> dict:
    """Nodes (micro-degrees) and upper-triangular CSR edges (great-circle km) of a sea graph.

    Grid nodes every `spacing_km`, 16-connected; coast nodes every `coast_step_km` on each
    landmass buffered by `coast_offset_km`, joined to their nearest coast and grid nodes. Every
    edge that comes near land is tested not to touch it; only the largest component is kept.
    """
    polygons = shapely.get_parts(np.asarray(polygons, dtype=object)).ravel()
    frame = Frame((bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2)
    land = Land(polygons, frame)
    s = float(spacing_km)
    x0, y0 = frame.xy(bbox[0], bbox[1])
    x1, y1 = frame.xy(bbox[2], bbox[3])
    gx, gy = np.meshgrid(np.arange(x0 + s / 2, x1, s), np.arange(y0 + s / 2, y1, s))
    # coast nodes: buffered rings, simplified then resampled, thinned to one per half step
    rings = shapely.boundary(shapely.buffer(land.polys, coast_offset_km, quad_segs=2))
    rings = shapely.segmentize(shapely.simplify(rings, coast_offset_km / 2), coast_step_km)
    cxy = shapely.get_coordinates(rings)
    _, first = np.unique(np.round(cxy / (coast_step_km / 2)), axis=0, return_index=True)
    cxy = cxy[np.sort(first)]
    cxy = cxy[(cxy[:, 0] > x0) & (cxy[:, 0] < x1) & (cxy[:, 1] > y0) & (cxy[:, 1] < y1)]
    # quantise to micro-degrees first, so the stored nodes are exactly the ones tested
    lon, lat = frame.lonlat(np.concatenate([gx.ravel(), cxy[:, 0]]),
                            np.concatenate([gy.ravel(), cxy[:, 1]]))
    lon_u, lat_u = np.round(lon * _MICRO).astype(np.int64), np.round(lat * _MICRO).astype(np.int64)
    x, y = frame.xy(lon_u / _MICRO, lat_u / _MICRO)
    sea = ~land.on_land(x, y)
    n_grid = gx.size
    gid = np.where(sea[:n_grid], np.arange(n_grid), -1).reshape(gx.shape)
    pairs = []
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1), (1, 2), (2, 1), (2, -1), (1, -2)):
        nr, nc = gid.shape
        a = gid[: nr - dr, max(0, -dc): nc - max(0, dc)]
        b = gid[dr:, max(0, dc): nc + min(0, dc)]
        ok = (a >= 0) & (b >= 0)
        pairs.append(np.column_stack([a[ok], b[ok]]))
    grid_pairs = np.concatenate(pairs)
    near = shapely.dwithin(land.union, shapely.points(x, y), s * np.sqrt(5) / 2 + 1e-6)
    check = near[grid_pairs[:, 0]] | near[grid_pairs[:, 1]]
    coast = np.flatnonzero(sea[n_grid:]) + n_grid
    cand = [grid_pairs[~check]]
    tocheck = [grid_pairs[check]]
    xy = np.column_stack([x, y])
    if len(coast):
        seas = np.flatnonzero(sea)
        grid_sea = seas[seas < n_grid]
        for pool, k, r in ((coast, 10, 4 * coast_step_km), (grid_sea, 6, 2 * s)):
            _, idx = cKDTree(xy[pool]).query(xy[coast], k=k, distance_upper_bound=r)
            ok = idx < len(pool)
            src = np.broadcast_to(coast[:, None], idx.shape)[ok]
            tocheck.append(np.column_stack([src, pool[idx[ok]]]))
    tc = np.concatenate(tocheck)
    tc = tc[tc[:, 0] != tc[:, 1]]
    tc = np.unique(np.sort(tc, axis=1), axis=0)
    tc = tc[land.clear(x[tc[:, 0]], y[tc[:, 0]], x[tc[:, 1]], y[tc[:, 1]])]
    e = np.unique(np.sort(np.concatenate(cand + [tc]), axis=1), axis=0)
    # keep the largest connected component
    n_all = len(x)
    adj = csr_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n_all, n_all))
    _, label = connected_components(adj, directed=False)
    big = np.bincount(label[e[:, 0]]).argmax()
    keep = np.flatnonzero((label == big) & sea)
    new = np.full(n_all, -1)
    new[keep] = np.arange(len(keep))
    e = new[e]
    e = e[(e[:, 0] >= 0) & (e[:, 1] >= 0)]
    e = e[np.lexsort((e[:, 1], e[:, 0]))]
    lat_k, lon_k = lat_u[keep] / _MICRO, lon_u[keep] / _MICRO
    km = haversine_km(lat_k[e[:, 0]], lon_k[e[:, 0]], lat_k[e[:, 1]], lon_k[e[:, 1]])
    indptr = np.concatenate([[0], np.cumsum(np.bincount(e[:, 0], minlength=len(keep)))])
    return {
        "lat_u": lat_u[keep].astype(np.int32), "lon_u": lon_u[keep].astype(np.int32),
        "indptr": indptr.astype(np.int32), "indices": e[:, 1].astype(np.int32),
        "km": km.astype(np.float32), "bbox": np.asarray(bbox, float),
        "spacing_km": s, "land_digest": land_digest(polygons),
    }
