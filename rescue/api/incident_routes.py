"""Incidents: report, list (GeoJSON), get, change, sitreps, assignments."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from rescue.api.deps import caller, ctx, idempotency_key, int_arg, json_body, list_arg
from rescue.api.geojson import collection, point_feature
from rescue.events import EventQuery
from rescue.incident_repo import IncidentFilter, incident_to_dict
from rescue.incidents import STATUSES
from rescue.services import incidents as svc
from rescue.services.field import FieldMessage, parse_sitrep
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


def _sitrep_events(c, seq: int | None) -> list[dict]:  # noqa: ANN001 - RescueContext
    """The sitrep.added event with this seq (a resend's original report)."""
    if not seq:
        return []
    with c.uow(readonly=True) as uow:
        evs = uow.events.read(EventQuery(after=seq - 1, until=seq, limit=1, all_exercises=True))
    return [e.payload for e in evs if e.type == "sitrep.added"]


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
        principal = caller()
        data = json_body()
        key = idempotency_key(data)
        body, _ = parse_sitrep({k: v for k, v in data.items() if k != "client_id"}, c.clock(),
                               incident_id=iid)
        outcome = c.ingest.submit(FieldMessage(principal, body, None, key))
        if not outcome.ok:
            raise outcome.error  # type: ignore[misc]
        if outcome.duplicate:  # answered as the first time: the report as it was stored
            inc = svc.get_incident(c.uow(readonly=True), principal, iid)
            sid = next((s["sitrep"]["id"] for s in _sitrep_events(c, outcome.seq)), None)
            return jsonify({"incident": incident_to_dict(inc), "sitrep_id": sid,
                            "seq": outcome.seq, "duplicate": True}), 200
        return jsonify({"incident": incident_to_dict(outcome.incident),
                        "sitrep_id": outcome.sitrep_id, "seq": outcome.seq,
                        "duplicate": False}), 201

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
