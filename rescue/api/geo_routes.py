"""Health, areas, locate and layers."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy import text

from rescue.api.deps import caller, ctx, float_arg, int_arg
from resources.errors import NotFound


def _area_dict(a) -> dict:  # noqa: ANN001 - geo.areas.Area
    return {"code": a.code, "name": a.name, "level": a.level, "parent": a.parent,
            "kind": a.kind, "approximate": a.approximate}


def register(bp: Blueprint) -> None:
    @bp.get("/health")
    def health():  # noqa: ANN202
        c = ctx()
        with c.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return jsonify({"status": "ok", "database": c.engine.dialect.name,
                        "pubsub": type(c.bus).__name__, "resources_indexed": len(c.feed.index),
                        "time": c.clock().isoformat().replace("+00:00", "Z")})

    @bp.get("/areas")
    def areas():  # noqa: ANN202
        caller()
        level = int_arg("level", 0, lo=0, hi=4) or None
        parent = request.args.get("parent") or None
        return jsonify(ctx().geography.areas.feature_collection(level=level, parent=parent))

    @bp.get("/areas/<code>")
    def area(code: str):  # noqa: ANN202
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
    def locate():  # noqa: ANN202
        caller()
        lat = float_arg("lat", required=True, lo=-90, hi=90)
        lon = float_arg("lon", required=True, lo=-180, hi=180)
        loc = ctx().geography.areas.locate(lat, lon)
        return jsonify({
            "lat": lat, "lon": lon, "surface": loc.surface, "shore": loc.shore,
            "areas": [_area_dict(a) for a in loc.chain],
            "area": loc.chain[-1].code if loc.chain else None,
            "maritime": _area_dict(loc.maritime) if loc.maritime else None,
        })

    @bp.get("/layers")
    def layers():  # noqa: ANN202
        caller()
        store = ctx().geography.layers
        return jsonify({"layers": [{"name": n, "url": f"/api/v1/layers/{n}"}
                                   for n in store.names()]})

    @bp.get("/layers/<name>")
    def layer(name: str):  # noqa: ANN202
        caller()
        store = ctx().geography.layers
        if name not in store.names():
            raise NotFound(f"no layer {name!r}; see /api/v1/layers", field="name")
        return jsonify(store.get(name))

