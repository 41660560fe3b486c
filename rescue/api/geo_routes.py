"""Health, areas, locate and layers."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from rescue.api import contract as m
from rescue.api.contract import Contract
from rescue.api.deps import caller, ctx, query
from resources.errors import NotFound


def _area_dict(a) -> dict:  # noqa: ANN001 - geo.areas.Area
    return {"code": a.code, "name": a.name, "level": a.level, "parent": a.parent,
            "kind": a.kind, "approximate": a.approximate}


def register(bp: Blueprint, c: Contract) -> None:
    doc = c.spec.validate

    @bp.get("/health")
    @doc(resp=c.resp(200, m.HealthOut, errors=()), tags=["system"], security={},
         skip_validation=True)
    def health():  # noqa: ANN202
        """Liveness and the backing services (no token needed)."""
        x = ctx()
        with x.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return jsonify({"status": "ok", "database": x.engine.dialect.name,
                        "pubsub": type(x.bus).__name__, "resources_indexed": len(x.feed.index),
                        "time": x.clock().isoformat().replace("+00:00", "Z")})

    @bp.get("/areas")
    @doc(query=c.AreasQuery, resp=c.resp(200, m.FeatureCollection, errors=(400, 401)),
         tags=["geo"], skip_validation=True)
    def areas():  # noqa: ANN202
        """Areas as GeoJSON, optionally one level and/or the children of one parent."""
        caller()
        q = query(c.AreasQuery)
        return jsonify(ctx().geography.areas.feature_collection(level=q.level,
                                                                 parent=q.parent or None))

    @bp.get("/areas/<areacode:code>")
    @doc(resp=c.resp(200, m.AreaDetail, errors=(400, 401, 404)), tags=["geo"],
         skip_validation=True)
    def area(code: str):  # noqa: ANN202
        """One area with its ancestors, children and neighbours."""
        caller()
        areas = ctx().geography.areas
        a = areas.get(code)
        if a is None:
            raise NotFound(f"no area {code!r}", field="code")
        out = _area_dict(a)
        out["ancestors"] = [_area_dict(x) for x in areas.ancestors(code)]
        out["children"] = [_area_dict(x) for x in areas.children(code)]
        out["neighbours"] = sorted(areas.neighbours(code))
        if a.seat_lat is not None:
            out["seat"] = {"lat": a.seat_lat, "lon": a.seat_lon}
        return jsonify(out)

    @bp.get("/locate")
    @doc(query=m.LocateQuery, resp=c.resp(200, m.LocateOut, errors=(400, 401, 422)),
         tags=["geo"], skip_validation=True)
    def locate():  # noqa: ANN202
        """The area chain and surface (land or sea) of a point; 422 outside coverage."""
        caller()
        q = query(m.LocateQuery)
        loc = ctx().geography.areas.locate(q.lat, q.lon)
        return jsonify({
            "lat": q.lat, "lon": q.lon, "surface": loc.surface, "shore": loc.shore,
            "areas": [_area_dict(a) for a in loc.chain],
            "area": loc.chain[-1].code if loc.chain else None,
            "maritime": _area_dict(loc.maritime) if loc.maritime else None,
        })

    @bp.get("/layers")
    @doc(resp=c.resp(200, m.LayersOut, errors=(401,)), tags=["geo"], skip_validation=True)
    def layers():  # noqa: ANN202
        """The point layers (airports, ports, standby points, helipads, hospitals)."""
        caller()
        store = ctx().geography.layers
        return jsonify({"layers": [{"name": n, "url": f"/api/v1/layers/{n}"}
                                   for n in store.names()]})

    @bp.get("/layers/<name:name>")
    @doc(resp=c.resp(200, m.FeatureCollection, errors=(400, 401, 404)), tags=["geo"],
         skip_validation=True)
    def layer(name: str):  # noqa: ANN202
        """One layer as GeoJSON."""
        caller()
        store = ctx().geography.layers
        if name not in store.names():
            raise NotFound(f"no layer {name!r}; see /api/v1/layers", field="name")
        return jsonify(store.get(name))
