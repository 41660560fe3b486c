"""Line of sight over water, compiled: which straight segments cross a land boundary, and
a sea route's shortcut (the shortest leg in sight to an ancestor of its node).

Why: the sea distances test many short segments against the coast (a route's shortcut, the
last leg to a vessel: ~10 per vessel, thousands when a port full of vessels lies behind an
island), and through shapely each batch costs ~20 µs of calls plus ~2.6 µs a segment. Here the
coastline's edges sit in a uniform grid of cells; a segment reads the edges of the cells it
passes through (every cell it touches, with a margin: never fewer) and tests each with the
orientation predicates. geo.seagraph.Land.clear adds the one case this cannot see: a
segment crossing no boundary lies wholly on land or wholly at sea, as its first end does.
"""

from __future__ import annotations

import numpy as np
import shapely
from numba import njit


class EdgeGrid:
    """The boundary edges of polygons (frame km) bucketed by a uniform grid of `cell` km."""

    def __init__(self, polygons: np.ndarray, cell: float = 0.5) -> None:
        # (their union's parts: the count of boundaries crossed tells land from sea only
        # where no two polygons overlap)
        polygons = np.asarray(polygons, dtype=object)
        if len(polygons):
            polygons = shapely.get_parts(shapely.union_all(polygons))
        rings = shapely.get_rings(polygons)
        xy, ring = shapely.get_coordinates(rings, return_index=True)
        same = ring[1:] == ring[:-1]  # (consecutive vertices of one ring make an edge)
        self.edges = np.ascontiguousarray(
            np.column_stack([xy[:-1][same], xy[1:][same]]), dtype=float)  # x0 y0 x1 y1
        self.cell = float(cell)
        lo = xy.min(axis=0) - cell if len(xy) else np.zeros(2)
        hi = xy.max(axis=0) + cell if len(xy) else np.ones(2)
        self.origin = np.asarray(lo, float)
        self.nx = int(np.ceil((hi[0] - lo[0]) / cell)) + 1
        self.ny = int(np.ceil((hi[1] - lo[1]) / cell)) + 1
        self.start, self.members = _bucket(self.edges, self.origin[0], self.origin[1],
                                           self.cell, self.nx, self.ny)
        # Cells no edge touches lie wholly on land or at sea: which, by their centres.
        empty = np.flatnonzero(np.diff(self.start) == 0)
        cx = self.origin[0] + (empty % self.nx + 0.5) * self.cell
        cy = self.origin[1] + (empty // self.nx + 0.5) * self.cell
        self.state = np.full(self.nx * self.ny, -1, np.int8)  # -1: edges in it
        union = shapely.multipolygons(list(polygons)) if len(polygons) else None
        self.state[empty] = 0 if union is None else shapely.intersects_xy(union, cx, cy)
        # what each compiled step reads of the grid, in its order
        self._grid = (self.edges, self.start, self.members, self.state, self.origin[0],
                      self.origin[1], self.cell, self.nx, self.ny)

    def clear(self, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray,
              y1: np.ndarray) -> np.ndarray:
        """True where the segment touches no land: it meets no edge, and its first end
        lies at sea (crossing no boundary, the whole of it lies where that end does)."""
        return _clear(np.ascontiguousarray(x0, float), np.ascontiguousarray(y0, float),
                      np.ascontiguousarray(x1, float), np.ascontiguousarray(y1, float),
                      *self._grid)

    def shortest_in_sight(self, km: np.ndarray, d: np.ndarray, x0: np.ndarray,
                          y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> None:
        """km[i] = the least d[i, h] below km[i] whose segment (x0[i], y0[i]) ->
        (x1[i, h], y1[i, h]) is clear, in place (tried least first: the first clear one
        ends it)."""
        _shortest_in_sight(km, np.ascontiguousarray(d, float), np.ascontiguousarray(x0, float),
                           np.ascontiguousarray(y0, float), np.ascontiguousarray(x1, float),
                           np.ascontiguousarray(y1, float), *self._grid)


@njit(cache=True, nogil=True)
def _bucket(edges: np.ndarray, ox: float, oy: float, cell: float, nx: int,
            ny: int) -> tuple[np.ndarray, np.ndarray]:
    """(start, members): cell c holds edges members[start[c]:start[c + 1]], every cell an
    edge's bounding box touches (one cell further where it lies on a cell's border)."""
    counts = np.zeros(nx * ny + 1, np.int64)
    for pass_ in range(2):
        if pass_ == 1:
            start = np.zeros(nx * ny + 1, np.int64)
            for c in range(nx * ny):
                start[c + 1] = start[c] + counts[c]
            members = np.empty(start[nx * ny], np.int64)
            fill = start[:-1].copy()
        for e in range(edges.shape[0]):
            i0, i1, j0, j1 = _span(min(edges[e, 0], edges[e, 2]), max(edges[e, 0], edges[e, 2]),
                                   min(edges[e, 1], edges[e, 3]), max(edges[e, 1], edges[e, 3]),
                                   ox, oy, cell, nx, ny)
            for j in range(j0, j1 + 1):
                for i in range(i0, i1 + 1):
                    c = j * nx + i
                    if pass_ == 0:
                        counts[c] += 1
                    else:
                        members[fill[c]] = e
                        fill[c] += 1
    return start, members


@njit(cache=True, nogil=True)
def _span(xa: float, xb: float, ya: float, yb: float, ox: float, oy: float, cell: float,
          nx: int, ny: int) -> tuple[int, int, int, int]:
    """The cells (i0..i1, j0..j1) a box [xa, xb] x [ya, yb] touches, one more each way where
    rounding could hide one, clipped to the grid."""
    i0 = max(_cell_of((xa - ox) / cell - 1e-9, nx), 0)
    i1 = min(_cell_of((xb - ox) / cell + 1e-9, nx), nx - 1)
    j0 = max(_cell_of((ya - oy) / cell - 1e-9, ny), 0)
    j1 = min(_cell_of((yb - oy) / cell + 1e-9, ny), ny - 1)
    return i0, i1, j0, j1


@njit(cache=True, nogil=True)
def _cell_of(f: float, n: int) -> int:
    """floor(f) held within [-1, n] before it becomes an int (a float beyond int64's
    range would not convert), so a far end still spans the cells up to the grid's edge; NaN
    gives -1 (no cell)."""
    if not f > -1.0:
        return -1
    return int(np.floor(min(f, float(n))))


@njit(cache=True, nogil=True)
def _shortest_in_sight(km: np.ndarray, d: np.ndarray, x0: np.ndarray, y0: np.ndarray,
                       x1: np.ndarray, y1: np.ndarray, edges: np.ndarray, start: np.ndarray,
                       members: np.ndarray, state: np.ndarray, ox: float, oy: float,
                       cell: float, nx: int, ny: int) -> None:
    for i in range(km.shape[0]):
        if not np.isfinite(km[i]):
            continue
        order = np.argsort(d[i], kind="mergesort")
        for h in order:
            if not d[i, h] < km[i]:
                break
            if _clear1(x0[i], y0[i], x1[i, h], y1[i, h], edges, start, members, state, ox,
                       oy, cell, nx, ny):
                km[i] = d[i, h]
                break


@njit(cache=True, nogil=True)
def _clear(x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray,
           edges: np.ndarray, start: np.ndarray, members: np.ndarray, state: np.ndarray,
           ox: float, oy: float, cell: float, nx: int, ny: int) -> np.ndarray:
    out = np.zeros(x0.shape[0], np.bool_)
    for s in range(x0.shape[0]):
        out[s] = _clear1(x0[s], y0[s], x1[s], y1[s], edges, start, members, state, ox, oy,
                         cell, nx, ny)
    return out


@njit(cache=True, nogil=True)
def _clear1(ax: float, ay: float, bx: float, by: float, edges: np.ndarray,
            start: np.ndarray, members: np.ndarray, state: np.ndarray, ox: float, oy: float,
            cell: float, nx: int, ny: int) -> bool:
    """One segment (see EdgeGrid.clear)."""
    return not _crossed(ax, ay, bx, by, edges, start, members, ox, oy, cell, nx, ny) and \
        not _inside(ax, ay, edges, start, members, state, ox, oy, cell, nx, ny)


@njit(cache=True, nogil=True)
def _inside(px: float, py: float, edges: np.ndarray, start: np.ndarray, members: np.ndarray,
            state: np.ndarray, ox: float, oy: float, cell: float, nx: int, ny: int) -> bool:
    """Whether a point off every edge lies on land: the state of the first cell without
    edges to its right (beyond the grid: sea), flipped by each edge the way there crosses
    (counted in the cell holding the crossing, half-open in y, so each once)."""
    i = _cell_of((px - ox) / cell, nx)
    j = _cell_of((py - oy) / cell, ny)
    if i < 0 or j < 0 or i >= nx or j >= ny:
        return False  # (the grid holds all the land)
    k = i
    while k < nx and state[j * nx + k] < 0:
        k += 1
    land = k < nx and state[j * nx + k] == 1
    if k == i:
        return land
    for c in range(i, k):
        lo, hi = ox + c * cell, ox + (c + 1) * cell
        for m in range(start[j * nx + c], start[j * nx + c + 1]):
            e = members[m]
            ex0, ey0, ex1, ey1 = edges[e, 0], edges[e, 1], edges[e, 2], edges[e, 3]
            if (ey0 > py) == (ey1 > py):
                continue
            xc = ex0 + (py - ey0) * (ex1 - ex0) / (ey1 - ey0)
            if xc > px and lo <= xc < hi:
                land = not land
    return land


@njit(cache=True, nogil=True)
def _crossed(ax: float, ay: float, bx: float, by: float, edges: np.ndarray,
             start: np.ndarray, members: np.ndarray, ox: float, oy: float, cell: float,
             nx: int, ny: int) -> bool:
    """Whether segment a-b touches or crosses an edge."""
    # column by column: the segment's y range within each column's x range (with the
    # end's own y where an end lies in the column: no rounding can shorten it)
    xa, xb = min(ax, bx), max(ax, bx)
    i0, i1, _, _ = _span(xa, xb, 0.0, 0.0, ox, oy, cell, nx, ny)
    for i in range(i0, i1 + 1):
        cx0 = max(ox + i * cell, xa)
        cx1 = min(ox + (i + 1) * cell, xb)
        if bx != ax:
            ya_ = ay + (by - ay) * (cx0 - ax) / (bx - ax)
            yb_ = ay + (by - ay) * (cx1 - ax) / (bx - ax)
        else:
            ya_, yb_ = ay, by
        ylo, yhi = min(ya_, yb_), max(ya_, yb_)
        if cx0 <= ax <= cx1:
            ylo, yhi = min(ylo, ay), max(yhi, ay)
        if cx0 <= bx <= cx1:
            ylo, yhi = min(ylo, by), max(yhi, by)
        _, _, j0, j1 = _span(cx0, cx1, ylo, yhi, ox, oy, cell, nx, ny)
        for j in range(j0, j1 + 1):
            c = j * nx + i
            for m in range(start[c], start[c + 1]):
                e = members[m]
                if _touch(ax, ay, bx, by, edges[e, 0], edges[e, 1], edges[e, 2],
                          edges[e, 3]):
                    return True
    return False


@njit(cache=True, nogil=True)
def _orient(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> float:
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)


@njit(cache=True, nogil=True)
def _within(ax: float, ay: float, bx: float, by: float, px: float, py: float) -> bool:
    """p (collinear with a-b) lies on the closed segment a-b."""
    return min(ax, bx) <= px <= max(ax, bx) and min(ay, by) <= py <= max(ay, by)


@njit(cache=True, nogil=True)
def _touch(ax: float, ay: float, bx: float, by: float, cx: float, cy: float, dx: float,
           dy: float) -> bool:
    """Segments a-b and c-d share a point (crossing or touching)."""
    d1 = _orient(cx, cy, dx, dy, ax, ay)
    d2 = _orient(cx, cy, dx, dy, bx, by)
    d3 = _orient(ax, ay, bx, by, cx, cy)
    d4 = _orient(ax, ay, bx, by, dx, dy)
    if ((d1 > 0.0 and d2 < 0.0) or (d1 < 0.0 and d2 > 0.0)) and \
            ((d3 > 0.0 and d4 < 0.0) or (d3 < 0.0 and d4 > 0.0)):
        return True
    return (d1 == 0.0 and _within(cx, cy, dx, dy, ax, ay)) or \
        (d2 == 0.0 and _within(cx, cy, dx, dy, bx, by)) or \
        (d3 == 0.0 and _within(ax, ay, bx, by, cx, cy)) or \
        (d4 == 0.0 and _within(ax, ay, bx, by, dx, dy))


@njit(cache=True, nogil=True)
def ancestors(pred: np.ndarray, start: np.ndarray, n: int, hops: np.ndarray) -> np.ndarray:
    """For each start node, its ancestor `hops[h]` steps up the search's tree (hops
    ascending; the root, a node whose predecessor is not a graph node, stays put)."""
    out = np.empty((start.shape[0], hops.shape[0]), np.int64)
    for i in range(start.shape[0]):
        cur, done = start[i], 0
        for h in range(hops.shape[0]):
            while done < hops[h]:
                nxt = pred[cur]
                if 0 <= nxt < n:
                    cur = nxt
                done += 1
            out[i, h] = cur
    return out


def warm() -> None:
    """Compile the grid's steps now (see rescue/warmup.py)."""
    grid = EdgeGrid(np.array([shapely.box(0.0, 0.0, 1.0, 1.0)], dtype=object))
    grid.clear(np.zeros(1), np.zeros(1), np.ones(1), np.ones(1))
    grid.shortest_in_sight(np.ones(1), np.ones((1, 2)), np.zeros(1), np.zeros(1),
                           np.ones((1, 2)), np.ones((1, 2)))
    ancestors(np.array([1, -9999]), np.array([0], np.int64), 2, np.array([2, 4]))
