"""Road graph: OSM import, one-ways, ignored ways, islands, the great-circle lower bound.

The fixture (tests/data/roads/wenzhou_river.osm) is a hand-written network near 27.78 N
120.08 E: two river banks joined only by a bridge, false crossings (footbridge, ferry, private
bridge, area) that must be ignored, a one-way loop and an unconnected island road.
"""

from __future__ import annotations

import bz2
import gzip
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.distance import haversine_km
from geo.roads import SNAP_K, RoadGraph, import_osm, way_direction

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "roads" / "wenzhou_river.osm"
P = {  # node id: (lat, lon), as in the fixture
    101: (27.782, 120.070), 102: (27.782, 120.075), 103: (27.782, 120.080),
    104: (27.782, 120.085), 105: (27.782, 120.090),
    201: (27.778, 120.070), 202: (27.778, 120.075), 203: (27.778, 120.080),
    204: (27.778, 120.085), 205: (27.778, 120.090), 301: (27.780, 120.090),
    401: (27.782, 120.095), 402: (27.786, 120.095), 403: (27.782, 120.100),
    404: (27.786, 120.100), 501: (27.800, 120.120), 502: (27.800, 120.125),
    503: (27.803, 120.125),
}


def hsum(*ids: int) -> float:
    """Hand sum of haversine legs along a node sequence."""
    return sum(haversine_km(*P[a], *P[b]) for a, b in zip(ids[:-1], ids[1:], strict=True))


@pytest.fixture(scope="module")
def graph() -> RoadGraph:
    return import_osm(FIXTURE)


def km(g: RoadGraph, unit: tuple[float, float], incident: tuple[float, float]) -> float:
    return float(g.field_from(*incident).km_to([unit[0]], [unit[1]])[0])


def node_index(g: RoadGraph, nid: int) -> int:
    lat, lon = P[nid]
    return int(np.flatnonzero((np.abs(g.lat - lat) < 1e-9) & (np.abs(g.lon - lon) < 1e-9))[0])


def has_edge(g: RoadGraph, a: int, b: int) -> bool:
    i, j = node_index(g, a), node_index(g, b)
    return j in g.indices[g.indptr[i]:g.indptr[i + 1]]


def test_import_keeps_only_drivable_roads(graph):
    # 18 road nodes; the area corners and the river line are gone
    assert graph.n == 18 and graph.n_edges == 33
    assert graph.meta["components"] == 2 and graph.meta["roads_kept"] == 6
    assert graph.meta["source"] == "wenzhou_river.osm"
    for a, b in ((101, 201), (102, 202), (103, 203), (104, 204)):
        assert not has_edge(graph, a, b) and not has_edge(graph, b, a)
    assert has_edge(graph, 401, 402) and not has_edge(graph, 402, 401)
    assert graph.classes[graph.edge_class[graph.indptr[node_index(graph, 301)]]] == "secondary"


def test_river_route_goes_round_over_the_bridge(graph):
    road = hsum(101, 102, 103, 104, 105, 301, 205, 204, 203, 202, 201)
    gc = haversine_km(*P[101], *P[201])
    assert km(graph, P[101], P[201]) == pytest.approx(road, rel=1e-12)
    assert km(graph, P[201], P[101]) == pytest.approx(road, rel=1e-12)
    assert road > 8 * gc  # ignored crossings created no shortcut


def test_snap_legs_are_added(graph):
    unit, incident = (27.7823, 120.0702), (27.7779, 120.0752)
    expect = (haversine_km(*unit, *P[101]) + hsum(101, 102, 103, 104, 105, 301, 205, 204, 203, 202)
              + haversine_km(*P[202], *incident))
    assert km(graph, unit, incident) == pytest.approx(expect, rel=1e-12)


def test_one_way_is_obeyed(graph):
    there = km(graph, P[401], P[402])
    back = km(graph, P[402], P[401])
    assert there == pytest.approx(hsum(401, 402), rel=1e-12)
    assert back == pytest.approx(hsum(402, 404, 403, 401), rel=1e-12)
    assert back > 2 * there
    path = graph.field_from(*P[401]).path_to(*P[402])
    assert path == [P[402], P[404], P[403], P[401]]


def test_island_is_unreachable_but_has_its_own_roads(graph):
    assert km(graph, P[501], P[101]) == np.inf
    assert km(graph, P[101], P[503]) == np.inf
    assert km(graph, P[501], P[503]) == pytest.approx(hsum(501, 502, 503), rel=1e-12)
    assert graph.field_from(*P[101]).path_to(*P[501]) == []


def test_far_points_and_limit(graph):
    far = (27.9, 120.3)  # > 5 km from any road
    assert np.isinf(graph.field_from(*far).km_to([P[101][0]], [P[101][1]])).all()
    assert km(graph, far, P[101]) == np.inf
    f = graph.field_from(*P[201], limit_km=1.0)
    near, far_unit = f.km_to([P[202][0], P[101][0]], [P[202][1], P[101][1]])
    assert near == pytest.approx(hsum(202, 201)) and far_unit == np.inf
    assert np.isinf(f.km_to([np.nan], [120.0])).all()


def _oracle(g: RoadGraph, unit, incident) -> float:
    """Brute force: snap by sorting every node, all-pairs shortest paths by Floyd-Warshall."""
    d = np.full((g.n, g.n), np.inf)
    np.fill_diagonal(d, 0.0)
    src = np.repeat(np.arange(g.n), np.diff(g.indptr))
    d[src, g.indices] = haversine_km(g.lat[src], g.lon[src], g.lat[g.indices], g.lon[g.indices])
    for k in range(g.n):
        d = np.minimum(d, d[:, k:k + 1] + d[k:k + 1, :])

    def snap(p):
        leg = haversine_km(p[0], p[1], g.lat, g.lon)
        near = np.argsort(leg)[:SNAP_K]
        ok = (leg[near] <= g.max_snap_km) & (leg[near] <= leg[near[0]] + g.snap_slack_km)
        return near[ok], leg[near[ok]]

    (un, ul), (inn, il) = snap(unit), snap(incident)
    if not len(un) or not len(inn):
        return np.inf
    return float((ul[:, None] + d[np.ix_(un, inn)] + il[None, :]).min())


points = st.tuples(st.floats(27.774, 27.807), st.floats(120.055, 120.135))


@settings(max_examples=150, deadline=None)
@given(incident=points, units=st.lists(points, min_size=1, max_size=8))
def test_never_below_great_circle_and_equal_to_brute_force(graph, incident, units):
    u = np.asarray(units)
    got = graph.field_from(*incident).km_to(u[:, 0], u[:, 1])
    gc = haversine_km(u[:, 0], u[:, 1], *incident)
    assert (got >= gc).all()
    want = np.array([_oracle(graph, p, incident) for p in units])
    assert np.array_equal(np.isinf(got), np.isinf(want))
    fin = np.isfinite(want)
    np.testing.assert_allclose(got[fin], want[fin], rtol=1e-9)


def test_save_load_round_trip(graph, tmp_path):
    now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    g = import_osm(FIXTURE, imported_at=now)
    path = tmp_path / "roads.npz"
    g.save(path)
    h = RoadGraph.load(path)
    for name in ("lat_e7", "lon_e7", "indptr", "indices", "edge_class", "km"):
        np.testing.assert_array_equal(getattr(g, name), getattr(h, name))
    assert h.meta == g.meta and h.meta["imported_at"] == now.isoformat()
    assert h.classes == g.classes
    lats, lons = np.array([27.779, 27.7855, 27.801]), np.array([120.071, 120.097, 120.121])
    np.testing.assert_array_equal(g.field_from(*P[203]).km_to(lats, lons),
                                  h.field_from(*P[203]).km_to(lats, lons))
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="junk.npz"):
        RoadGraph.load(tmp_path / "junk.npz")


@pytest.mark.parametrize("suffix,opener", [(".osm.gz", gzip.open), (".osm.bz2", bz2.open)])
def test_compressed_input(graph, tmp_path, suffix, opener):
    path = tmp_path / f"wenzhou{suffix}"
    with opener(path, "wb") as f:
        f.write(FIXTURE.read_bytes())
    g = import_osm(path)
    np.testing.assert_array_equal(g.lat_e7, graph.lat_e7)
    np.testing.assert_array_equal(g.indices, graph.indices)


def test_bad_xml_names_file_and_line(tmp_path):
    bad = tmp_path / "broken.osm"
    bad.write_text('<?xml version="1.0"?>\n<osm version="0.6">\n  <node id="1" lat="27.7" lon=>\n')
    with pytest.raises(ValueError, match=r"broken\.osm.*line 3"):
        import_osm(bad)
    other = tmp_path / "other.osm"
    other.write_text("<gpx></gpx>")
    with pytest.raises(ValueError, match="other.osm.*not an OSM"):
        import_osm(other)
    notgz = tmp_path / "plain.osm.gz"
    notgz.write_text("<osm/>")
    with pytest.raises(ValueError, match="plain.osm.gz"):
        import_osm(notgz)
    empty = tmp_path / "empty.osm"
    empty.write_text("<osm/>")
    with pytest.raises(ValueError, match="empty.osm.*no drivable"):
        import_osm(empty)


def test_pbf_without_osmium_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "osmium", None)  # makes `import osmium` fail
    pbf = tmp_path / "zhejiang.osm.pbf"
    pbf.write_bytes(b"\0\0\0\x0dOSMHeader")
    with pytest.raises(ValueError, match=r"zhejiang\.osm\.pbf.*osmium"):
        import_osm(pbf)


def test_way_direction_tags():
    hw = {"highway": "residential"}
    assert way_direction(hw) == 0
    assert way_direction({**hw, "oneway": "yes"}) == 1
    assert way_direction({**hw, "oneway": "true"}) == 1
    assert way_direction({**hw, "oneway": "1"}) == 1
    assert way_direction({**hw, "oneway": "-1"}) == -1
    assert way_direction({"highway": "motorway"}) == 1
    assert way_direction({"highway": "motorway_link"}) == 1
    assert way_direction({"highway": "motorway", "oneway": "no"}) == 0
    assert way_direction({**hw, "junction": "roundabout"}) == 1
    for skip in ("footway", "path", "cycleway", "steps", "pedestrian", "construction"):
        assert way_direction({"highway": skip}) is None
    assert way_direction({**hw, "access": "no"}) is None
    assert way_direction({**hw, "motor_vehicle": "private"}) is None
    assert way_direction({**hw, "access": "private", "emergency": "yes"}) == 0
    assert way_direction({**hw, "area": "yes"}) is None
    assert way_direction({"route": "ferry"}) is None


def _write(tmp_path: Path, nodes: dict[int, tuple[float, float]], ways: list[tuple]) -> Path:
    lines = ['<osm version="0.6">']
    lines += [f'<node id="{i}" lat="{la}" lon="{lo}"/>' for i, (la, lo) in nodes.items()]
    for k, (refs, tags) in enumerate(ways):
        body = "".join(f'<nd ref="{r}"/>' for r in refs)
        body += "".join(f'<tag k="{a}" v="{b}"/>' for a, b in tags.items())
        lines.append(f'<way id="{k + 1}">{body}</way>')
    path = tmp_path / "t.osm"
    path.write_text("\n".join(lines + ["</osm>"]))
    return path


def test_reverse_oneway_motorway_tracks_bbox_and_missing_nodes(tmp_path):
    nodes = {1: (27.70, 120.00), 2: (27.70, 120.01), 3: (27.70, 120.02), 4: (27.71, 120.02),
             5: (27.71, 120.03), 6: (27.80, 120.50)}
    ways = [([1, 2], {"highway": "primary", "oneway": "-1"}),        # drive 2 -> 1 only
            ([2, 3], {"highway": "motorway"}),                       # implied 2 -> 3
            ([3, 99, 4], {"highway": "service"}),                    # node 99 missing: cut
            ([4, 5], {"highway": "track"}),
            ([5, 6], {"highway": "residential"})]                    # 6 outside bbox below
    path = _write(tmp_path, nodes, ways)
    g = import_osm(path)
    assert g.n == 6 and g.n_edges == 2 + 2 + 2  # 2->1, 2->3, 4<->5, 5<->6
    assert km(g, nodes[2], nodes[1]) < np.inf and km(g, nodes[1], nodes[2]) == np.inf
    assert km(g, nodes[2], nodes[3]) < np.inf and km(g, nodes[3], nodes[2]) == np.inf
    assert km(g, nodes[3], nodes[4]) == np.inf  # no road through the missing node
    h = import_osm(path, tracks=False, bbox=(119.9, 27.6, 120.1, 27.75))
    assert h.n == 3 and h.meta["bbox"] == [119.9, 27.6, 120.1, 27.75]


def test_progress_reports_fractions(tmp_path):
    seen: list[tuple[float, str]] = []
    import_osm(FIXTURE, progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)
