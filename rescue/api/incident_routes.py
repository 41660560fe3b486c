"""Incidents: report, list (GeoJSON), get, change, sitreps, assignments."""

from __future__ import annotations

import uuid

from flask import Blueprint, jsonify, request

from rescue.api.deps import caller, ctx, int_arg, json_body, list_arg
from rescue.api.geojson import collection, point_feature
from rescue.incident_repo import IncidentFilter, incident_to_dict
from rescue.incidents import STATUSES
from rescue.services import incidents as svc
from resources.errors import ValidationError


def _filter() -> IncidentFilter:
    statuses = list_arg("status")
    for s in statuses or ():
        if s not in STATUSES:
            raise ValidationError("status", f"unknown status {s!r}", code="bad_request")
    return IncidentFilter(
        area_prefix=request.args.get("area") or None,
        statuses=frozenset(statuses) if statuses else None,
        category=request.args.get("category") or None,
        exercise=request.args.get("exercise") or None,
        limit=int_arg("limit", 200, lo=1, hi=5000),
        offset=int_arg("offset", 0, lo=0, hi=10**9),
    )


def register(bp: Blueprint) -> None:
    @bp.get("/incidents")
    def list_incidents():  # noqa: ANN202
        items = svc.list_incidents(ctx().uow(readonly=True), caller(), _filter())
        return jsonify(collection(point_feature(i.lat, i.lon, incident_to_dict(i), i.id)
                                  for i in items))

    @bp.post("/incidents")
    def report():  # noqa: ANN202
        c = ctx()
        inc = svc.report_incident(c.uow(), caller(), json_body(), c.geography.areas,
                                  c.plans.categories, c.clock())
        return jsonify(incident_to_dict(inc)), 201, {"Location": f"/api/v1/incidents/{inc.id}"}

    @bp.get("/incidents/<iid>")
    def get(iid: str):  # noqa: ANN202
        return jsonify(incident_to_dict(svc.get_incident(ctx().uow(readonly=True), caller(), iid)))

    @bp.patch("/incidents/<iid>")
    def patch(iid: str):  # noqa: ANN202
        c = ctx()
        inc = svc.update_incident(c.uow(), caller(), iid, json_body(), c.clock())
        return jsonify(incident_to_dict(inc))

    @bp.post("/incidents/<iid>/sitreps")
    def sitrep(iid: str):  # noqa: ANN202
        c = ctx()
        inc, s = svc.add_sitrep(c.uow(), caller(), iid, json_body(), c.clock(),
                                sitrep_id="sr-" + uuid.uuid4().hex[:10])
        return jsonify({"incident": incident_to_dict(inc), "sitrep_id": s.id}), 201

    @bp.post("/incidents/<iid>/assignments")
    def assign(iid: str):  # noqa: ANN202
        c = ctx()
        inc = svc.assign_resource(c.uow(), caller(), iid, json_body(), c.clock())
        return jsonify(incident_to_dict(inc)), 201

    @bp.delete("/incidents/<iid>/assignments/<rid>")
    def release(iid: str, rid: str):  # noqa: ANN202
        c = ctx()
        inc = svc.release_resource(c.uow(), caller(), iid, rid, c.clock())
        return jsonify(incident_to_dict(inc))
