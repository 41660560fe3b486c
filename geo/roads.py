"""Road network: an OSM importer and land distances over roads.

Why: land ETAs otherwise use great-circle x a detour factor. With an imported road graph the
dispatcher asks one question per incident: how far is each unit from here by road? Like the sea
graph, `RoadGraph.field_from` runs ONE shortest-path search from the incident and
`RoadField.km_to` answers for every unit at once. Units drive TO the incident, so the search
runs on the reversed graph: dist[v] is the road km from node v to the incident, one-ways obeyed.

Distances: every edge is the haversine length between its two nodes, and the legs joining a
point to the graph are great-circle too, so by the triangle inequality on the sphere a road
distance is never shorter than the great-circle distance between its ends. `km_to` also clamps
to that bound, so rounding can never break it (the dispatcher's lower bound relies on it).

Joining a point to the graph: the few nearest road nodes (k-d tree over unit-sphere vectors)
that are within `max_snap_km` and not more than `snap_slack_km` further than the nearest one.
The slack keeps straight legs from becoming off-road shortcuts (across a river, or against a
one-way to the node ahead). Points with no node within `max_snap_km` get inf.
"""

from __future__ import annotations

import bz2
import gzip
import json
import logging
import threading
import xml.etree.ElementTree as ET
import zlib
from array import array
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
from scipy.sparse import csc_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from geo.distance import haversine_km, km_to_chord, unit_vectors

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

# Road classes, in order of importance; the per-edge class is an index into this tuple.
CLASSES = (
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link", "secondary",
    "secondary_link", "tertiary", "tertiary_link", "unclassified", "residential",
    "living_street", "service", "road", "track",
)
_CLASS = {c: i for i, c in enumerate(CLASSES)}
_DENIED = {"no", "private"}
_EMERGENCY_OK = {"yes", "designated", "permissive", "official"}
_FWD, _BWD, _BOTH = 1, -1, 0
E7 = 1e7  # OSM stores coordinates as integers of 1e-7 degree; so do we
SNAP_K = 4
MAX_SNAP_KM = 5.0
SNAP_SLACK_KM = 0.05
_REPORT_EVERY = 200_000
_CHUNK = 1 << 16


def way_direction(tags: dict[str, str]) -> int | None:
    """1 / -1 / 0 (forward, backward, both) for a drivable way, None for a way to skip."""
    hw = tags.get("highway")
    if hw not in _CLASS or tags.get("area") == "yes" or tags.get("route") == "ferry":
        return None
    if tags.get("emergency") not in _EMERGENCY_OK and any(
        tags.get(k) in _DENIED for k in ("access", "vehicle", "motor_vehicle", "motorcar")
    ):
        return None
    ow = tags.get("oneway")
    if ow in ("yes", "true", "1"):
        return _FWD
    if ow in ("-1", "reverse"):
        return _BWD
    if ow in ("no", "false", "0", "reversible", "alternating"):  # time-varying: either way
        return _BOTH
    implied = hw in ("motorway", "motorway_link") or tags.get("junction") in (
        "roundabout", "circular")
    return _FWD if implied else _BOTH


class _Collector:
    """Compact, append-only arrays of what the parser saw (no per-element Python objects)."""

    def __init__(self, bbox, tracks: bool) -> None:
        self.bbox = None if bbox is None else tuple(float(v) for v in bbox)
        self.tracks = tracks
        self.node_id, self.lat7, self.lon7 = array("q"), array("i"), array("i")
        self.refs, self.way_len = array("q"), array("q")
        self.way_dir, self.way_cls = array("b"), array("B")
        self.ways_seen = 0

    def node(self, nid: int, lat: float, lon: float) -> None:
        b = self.bbox
        if b is not None and not (b[0] <= lon <= b[2] and b[1] <= lat <= b[3]):
            return  # ways are cut where their nodes are missing
        self.node_id.append(nid)
        self.lat7.append(round(lat * E7))
        self.lon7.append(round(lon * E7))

    def way(self, refs: list[int], tags: dict[str, str]) -> None:
        self.ways_seen += 1
        d = way_direction(tags)
        if d is None or len(refs) < 2 or (tags["highway"] == "track" and not self.tracks):
            return
        self.refs.extend(refs)
        self.way_len.append(len(refs))
        self.way_dir.append(d)
        self.way_cls.append(_CLASS[tags["highway"]])


def _open(path: Path):
    raw = open(path, "rb")  # noqa: SIM115 - closed by the caller through the wrapper
    name = path.name.lower()
    if name.endswith(".gz"):
        return raw, gzip.GzipFile(fileobj=raw)
    if name.endswith(".bz2"):
        return raw, bz2.BZ2File(raw)
    return raw, raw


class _Target:
    """ElementTree parser target: expat calls it per tag, so no Element is ever built."""

    def __init__(self, col: _Collector) -> None:
        self.col, self.refs, self.tags = col, [], {}
        self.root: str | None = None
        self.elements, self.deleted = 0, False

    def start(self, tag: str, a: dict[str, str]) -> None:
        if self.root is None:
            self.root = tag
            if tag != "osm":
                raise ValueError(f"not an OSM XML file (root <{tag}>)")
        if tag == "nd":
            self.refs.append(int(a["ref"]))
        elif tag == "tag":
            self.tags[a["k"]] = a["v"]
        elif tag == "node":
            if a.get("action") != "delete":
                self.col.node(int(a["id"]), float(a["lat"]), float(a["lon"]))
            self.elements += 1
        elif tag == "way":
            self.refs, self.tags = [], {}
            self.deleted = a.get("action") == "delete"  # JOSM files

    def end(self, tag: str) -> None:
        if tag == "way":
            if not self.deleted:
                self.col.way(self.refs, self.tags)
            self.refs, self.tags = [], {}
            self.elements += 1

    def data(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def _parse_xml(path: Path, col: _Collector, progress: Progress | None) -> None:
    """Stream the file through expat in 1 MiB chunks; memory holds only the compact arrays.

    (A parser target rather than iterparse: the same parser without building and clearing an
    Element per tag, about twice as fast; see bench/bench_roads.py.)
    """
    size = max(path.stat().st_size, 1)
    raw, stream = _open(path)
    target = _Target(col)
    parser = ET.XMLParser(target=target)
    try:
        while chunk := stream.read(1 << 20):
            parser.feed(chunk)
            if progress:
                progress(0.8 * min(raw.tell() / size, 1.0),
                         f"read {target.elements:,} nodes and ways")
        parser.close()
    except ET.ParseError as e:
        line, column = getattr(e, "position", (None, None))
        raise ValueError(f"{path}: malformed OSM XML at line {line}, column {column}: {e}") from e
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(f"{path}: cannot read: {e}") from e
    except (KeyError, ValueError) as e:
        raise ValueError(f"{path}: {e}") from e
    finally:
        stream.close()
        raw.close()


def _parse_pbf(path: Path, col: _Collector, progress: Progress | None) -> None:
    try:
        import osmium
    except ImportError as e:
        raise ValueError(
            f"{path}: reading .osm.pbf needs the 'osmium' package (pip install osmium); "
            "or convert the file to .osm / .osm.gz (osmium cat FILE -o out.osm.gz)") from e

    class Handler(osmium.SimpleHandler):
        def node(self, n) -> None:
            if n.location.valid():
                col.node(n.id, n.location.lat, n.location.lon)

        def way(self, w) -> None:
            if "highway" in w.tags:
                col.way([r.ref for r in w.nodes], {t.k: t.v for t in w.tags})
            else:
                col.ways_seen += 1
            if progress and col.ways_seen % _REPORT_EVERY == 0:
                progress(0.4, f"read {col.ways_seen:,} ways")

    try:
        Handler().apply_file(str(path))
    except RuntimeError as e:
        raise ValueError(f"{path}: cannot read: {e}") from e


def import_osm(path: Path | str, *, bbox=None, progress: Progress | None = None,
               tracks: bool = True, imported_at: datetime | str | None = None) -> RoadGraph:
    """Read drivable roads from an OSM file (.osm, .osm.gz, .osm.bz2; .osm.pbf with osmium).

    bbox: (lon_min, lat_min, lon_max, lat_max); ways are cut at its edge. progress(fraction,
    message) is called now and then. imported_at (the caller's clock) goes into the metadata.
    Raises ValueError naming the file for unreadable or malformed input.
    """
    path = Path(path)
    col = _Collector(bbox, tracks)
    log.info("importing roads from %s", path)
    if progress:
        progress(0.0, f"reading {path.name}")
    if path.name.lower().endswith(".pbf"):
        _parse_pbf(path, col, progress)
    else:
        _parse_xml(path, col, progress)
    if progress:
        progress(0.8, f"building graph from {len(col.way_len):,} roads")
    meta = {"source": path.name, "imported_at": imported_at.isoformat()
            if isinstance(imported_at, datetime) else imported_at,
            "ways_read": col.ways_seen, "roads_kept": len(col.way_len),
            "bbox": list(col.bbox) if col.bbox else None}
    g = _build(col, meta)
    log.info("%s: %d roads -> %d nodes, %d edges, %d components", path.name,
             meta["roads_kept"], g.n, g.n_edges, g.meta["components"])
    if progress:
        progress(1.0, f"{g.n:,} nodes, {g.n_edges:,} edges")
    return g


def _np(a: array, dtype) -> np.ndarray:
    return np.frombuffer(a, dtype) if len(a) else np.zeros(0, dtype)


def _build(col: _Collector, meta: dict) -> RoadGraph:
    ids = _np(col.node_id, np.int64)
    order = np.argsort(ids, kind="stable")
    sid = ids[order]
    refs = _np(col.refs, np.int64)
    pos = np.minimum(np.searchsorted(sid, refs), max(len(sid) - 1, 0))
    idx = np.where(sid[pos] == refs, order[pos], -1) if len(sid) else np.full(len(refs), -1)
    del sid, pos
    way_of = np.repeat(np.arange(len(col.way_len)), _np(col.way_len, np.int64))
    a, b = idx[:-1], idx[1:]
    ok = (way_of[:-1] == way_of[1:]) & (a >= 0) & (b >= 0) & (a != b)
    a, b, w = a[ok], b[ok], way_of[:-1][ok]
    d = _np(col.way_dir, np.int8)[w]
    cls = _np(col.way_cls, np.uint8)[w]
    fwd, bwd = d >= 0, d <= 0
    src = np.concatenate([a[fwd], b[bwd]])
    dst = np.concatenate([b[fwd], a[bwd]])
    ecls = np.concatenate([cls[fwd], cls[bwd]])
    used = np.unique(np.concatenate([src, dst]))
    if len(used) == 0:
        raise ValueError(f"{meta['source']}: no drivable roads found")
    lat7 = _np(col.lat7, np.int32)[used]
    lon7 = _np(col.lon7, np.int32)[used]
    src, dst = np.searchsorted(used, src), np.searchsorted(used, dst)
    # parallel ways between the same two nodes: keep the best class (lengths are equal)
    keep = np.lexsort((ecls, dst, src))
    src, dst, ecls = src[keep], dst[keep], ecls[keep]
    first = np.concatenate([[True], (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])])
    src, dst, ecls = src[first], dst[first], ecls[first]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=len(used)))])
    del ids, order, refs, idx, way_of, a, b, ok, w, d, cls, fwd, bwd, src, keep, first, used
    return RoadGraph(lat7, lon7, indptr, dst.astype(np.int32), ecls, meta)


class RoadGraph:
    """Directed road graph: nodes (lat/lon at 1e-7 deg), CSR adjacency, per-edge class."""

    def __init__(self, lat_e7, lon_e7, indptr, indices, edge_class, meta=None, *,
                 classes=CLASSES, max_snap_km: float = MAX_SNAP_KM,
                 snap_slack_km: float = SNAP_SLACK_KM) -> None:
        self.lat_e7 = np.asarray(lat_e7, np.int32)
        self.lon_e7 = np.asarray(lon_e7, np.int32)
        self.lat, self.lon = self.lat_e7 / E7, self.lon_e7 / E7
        self.n = n = len(self.lat)
        self.indptr = np.asarray(indptr, np.int64)
        self.indices = np.asarray(indices, np.int32)
        self.edge_class = np.asarray(edge_class, np.uint8)
        self.classes = tuple(str(c) for c in classes)
        self.n_edges = len(self.indices)
        self.max_snap_km, self.snap_slack_km = float(max_snap_km), float(snap_slack_km)
        # every edge is measured on the sphere from the very coordinates points snap to
        self.km = np.empty(self.n_edges)
        for e0 in range(0, self.n_edges, _CHUNK):  # in chunks: bounded temporaries
            e = np.arange(e0, min(e0 + _CHUNK, self.n_edges))
            a, b = np.searchsorted(self.indptr, e, side="right") - 1, self.indices[e]
            self.km[e] = haversine_km(self.lat[a], self.lon[a], self.lat[b], self.lon[b])
        self.meta = dict(meta or {})
        self.meta.update(nodes=n, edges=self.n_edges)
        if "components" not in self.meta:
            fwd = csr_matrix((self.km, self.indices, self.indptr), shape=(n, n))
            self.meta["components"] = int(connected_components(fwd, directed=False)[0])
        if not self.meta.get("bbox"):
            self.meta["bbox"] = [float(self.lon.min()), float(self.lat.min()),
                                 float(self.lon.max()), float(self.lat.max())]
        self._lock = threading.Lock()
        self._rev: csr_matrix | None = None
        self._tree: cKDTree | None = None

    # ---- persistence ----------------------------------------------------------------------
    def save(self, path: Path | str) -> None:
        """Write an uncompressed .npz (loads in a fraction of a second)."""
        with open(path, "wb") as f:
            np.savez(f, lat_e7=self.lat_e7, lon_e7=self.lon_e7, indptr=self.indptr,
                     indices=self.indices, edge_class=self.edge_class,
                     classes=np.asarray(self.classes), meta=np.asarray(json.dumps(self.meta)))

    @classmethod
    def load(cls, path: Path | str, **params) -> RoadGraph:
        """Load a graph written by save(); params as the constructor (max_snap_km, ...)."""
        try:
            with np.load(path, allow_pickle=False) as z:
                return cls(z["lat_e7"], z["lon_e7"], z["indptr"], z["indices"],
                           z["edge_class"], json.loads(str(z["meta"])),
                           classes=z["classes"].tolist(), **params)
        except (OSError, KeyError, ValueError) as e:
            raise ValueError(f"{path}: not a road graph file: {e}") from e

    # ---- search -----------------------------------------------------------------------------
    def prepare(self) -> RoadGraph:
        """Build the k-d tree and the reversed search graph (done lazily on first use)."""
        with self._lock:
            if self._tree is None:
                n = self.n
                rev = csc_matrix((self.km, self.indices, self.indptr), shape=(n, n)).tocsr()
                # one extra row: the virtual incident node, its SNAP_K edges set per search
                self._rev = csr_matrix(
                    (np.concatenate([rev.data, np.ones(SNAP_K)]),
                     np.concatenate([rev.indices, np.zeros(SNAP_K, rev.indices.dtype)]),
                     np.concatenate([rev.indptr, [rev.indptr[-1] + SNAP_K]])),
                    shape=(n + 1, n + 1))
                self._tree = cKDTree(unit_vectors(self.lat, self.lon))
        return self

    def snap(self, lats, lons) -> tuple[np.ndarray, np.ndarray]:
        """Join points to the graph: (nodes (m, SNAP_K), -1 for none; leg km, inf for none)."""
        self.prepare()
        lat = np.atleast_1d(np.asarray(lats, float))
        lon = np.atleast_1d(np.asarray(lons, float))
        m = len(lat)
        nodes = np.full((m, SNAP_K), -1)
        legs = np.full((m, SNAP_K), np.inf)
        ok = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
        if len(ok) == 0:
            return nodes, legs
        # chord bound with a little headroom; the haversine test below is the rule
        _, idx = self._tree.query(unit_vectors(lat[ok], lon[ok]), k=SNAP_K,
                                  distance_upper_bound=km_to_chord(self.max_snap_km) * 1.001)
        idx = idx.reshape(len(ok), SNAP_K)
        found = idx < self.n
        safe = np.where(found, idx, 0)
        leg = haversine_km(lat[ok, None], lon[ok, None], self.lat[safe], self.lon[safe])
        leg = np.where(found & (leg <= self.max_snap_km), leg, np.inf)
        leg = np.where(leg <= leg.min(axis=1, keepdims=True) + self.snap_slack_km, leg, np.inf)
        live = np.isfinite(leg)
        nodes[ok] = np.where(live, safe, -1)
        legs[ok] = leg
        return nodes, legs

    def field_from(self, lat: float, lon: float, *, limit_km: float | None = None) -> RoadField:
        """Road km from every node to the point (lat, lon), one-ways obeyed; see RoadField.

        limit_km bounds the search (nodes further by road get inf): a cut-off, not an answer.
        """
        nodes, legs = self.snap([lat], [lon])
        nd, lg = nodes[0], legs[0]
        if not (nd >= 0).any():
            return RoadField(self, lat, lon, None, None)
        sel = nd >= 0
        nd, lg = np.resize(nd[sel], SNAP_K), np.resize(lg[sel], SNAP_K)
        with self._lock:
            self._rev.indices[-SNAP_K:] = nd
            self._rev.data[-SNAP_K:] = lg
            dist, pred = dijkstra(self._rev, directed=True, indices=self.n,
                                  return_predecessors=True,
                                  limit=np.inf if limit_km is None else float(limit_km))
        return RoadField(self, lat, lon, dist, pred)


class RoadField:
    """Road distances from every node to one point (from RoadGraph.field_from)."""

    def __init__(self, graph: RoadGraph, lat: float, lon: float, dist, pred) -> None:
        self.graph, self.lat, self.lon = graph, float(lat), float(lon)
        self.dist, self.pred = dist, pred

    def _best(self, lats, lons) -> tuple[np.ndarray, np.ndarray]:
        nodes, legs = self.graph.snap(lats, lons)
        if self.dist is None:
            return np.full(len(nodes), -1), np.full(len(nodes), np.inf)
        tot = np.where(nodes >= 0, self.dist[np.maximum(nodes, 0)] + legs, np.inf)
        j = tot.argmin(axis=1)
        rows = np.arange(len(nodes))
        return nodes[rows, j], tot[rows, j]

    def km_to(self, lats, lons) -> np.ndarray:
        """Road km from each point to the source (snap leg + road), inf where no route.

        Never below the great-circle distance: true by the triangle inequality, and clamped so
        that float rounding cannot break it either.
        """
        lats = np.atleast_1d(np.asarray(lats, float))
        lons = np.atleast_1d(np.asarray(lons, float))
        _, km = self._best(lats, lons)
        with np.errstate(invalid="ignore"):
            gc = haversine_km(lats, lons, self.lat, self.lon)
        return np.where(np.isfinite(km), np.maximum(km, gc), np.inf)

    def path_to(self, lat: float, lon: float) -> list[tuple[float, float]]:
        """The route (lat, lon) from the point to the source, for display; [] when none."""
        node, km = self._best([lat], [lon])
        if not np.isfinite(km[0]):
            return []
        g, v, out = self.graph, int(node[0]), [(float(lat), float(lon))]
        while 0 <= v < g.n:
            out.append((float(g.lat[v]), float(g.lon[v])))
            v = int(self.pred[v])
        out.append((self.lat, self.lon))
        return [p for i, p in enumerate(out) if i == 0 or p != out[i - 1]]
