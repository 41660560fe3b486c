"""Incidents: report, list (GeoJSON), get, change, sitreps, assignments."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from rescue.api import contract as m
from rescue.api.contract import Contract
from rescue.api.deps import body, caller, ctx, idempotency_key, query
from rescue.api.geojson import collection, point_feature
from rescue.events import EventQuery
from rescue.incident_repo import IncidentFilter, incident_to_dict
from rescue.services import incidents as svc
from rescue.services.field import FieldMessage, parse_sitrep

JSON_ERRORS = m.JSON_ERRORS + (404, 409)


def _filter(q: Any) -> IncidentFilter:
    """The listing's filter from its validated query (IncidentsQuery)."""
    statuses = [s for s in (q.status or "").split(",") if s]
    return IncidentFilter(area_prefix=q.area or None,
                          statuses=frozenset(statuses) if statuses else None,
                          category=q.category or None, exercise=q.exercise or None,
                          limit=q.limit, offset=q.offset)


def _sitrep_events(c, seq: int | None) -> list[dict]:  # noqa: ANN001 - RescueContext
    """The sitrep.added event with this seq (a resend's original report)."""
    if not seq:
        return []
    with c.uow(readonly=True) as uow:
        evs = uow.events.read(EventQuery(after=seq - 1, until=seq, limit=1, all_exercises=True))
    return [e.payload for e in evs if e.type == "sitrep.added"]


def register(bp: Blueprint, c: Contract) -> None:
    doc = c.spec.validate

    @bp.get("/incidents")
    @doc(query=c.IncidentsQuery, resp=c.resp(200, m.IncidentCollection, errors=(400, 401, 403, 404)),
         tags=["incidents"], skip_validation=True)
    def list_incidents():  # noqa: ANN202
        """Incidents in scope, newest first, as GeoJSON."""
        items = svc.list_incidents(ctx().uow(readonly=True), caller(),
                                   _filter(query(c.IncidentsQuery)))
        return jsonify(collection(point_feature(i.lat, i.lon, incident_to_dict(i), i.id)
                                  for i in items))

    @bp.post("/incidents")
    @doc(json=c.IncidentIn, resp=c.resp(201, m.IncidentOut, errors=JSON_ERRORS + (422,)),
         tags=["incidents"], skip_validation=True)
    def report():  # noqa: ANN202
        """Report an incident: its area chain, surface and lead come from its place."""
        x = ctx()
        inc = svc.report_incident(x.uow(), caller(), body(c.IncidentIn), x.geography.areas,
                                  x.plans.categories, x.clock())
        return jsonify(incident_to_dict(inc)), 201, {"Location": f"/api/v1/incidents/{inc.id}"}

    @bp.get("/incidents/<iid:iid>")
    @doc(resp=c.resp(200, m.IncidentOut), tags=["incidents"], skip_validation=True)
    def get(iid: str):  # noqa: ANN202
        """One incident (404 outside your scope)."""
        return jsonify(incident_to_dict(svc.get_incident(ctx().uow(readonly=True), caller(), iid)))

    @bp.patch("/incidents/<iid:iid>")
    @doc(json=c.IncidentPatch, resp=c.resp(200, m.IncidentOut, errors=JSON_ERRORS),
         tags=["incidents"], skip_validation=True)
    def patch(iid: str):  # noqa: ANN202
        """Change, escalate, or move the incident through its statuses (409 when illegal)."""
        x = ctx()
        inc = svc.update_incident(x.uow(), caller(), iid, body(c.IncidentPatch), x.now_for(iid))
        return jsonify(incident_to_dict(inc))

    @bp.post("/incidents/<iid:iid>/sitreps")
    @doc(json=m.SitrepIn, resp=c.resp(201, m.SitrepCreated, errors=JSON_ERRORS + (503,)),
         tags=["incidents"], skip_validation=True)
    def sitrep(iid: str):  # noqa: ANN202
        """A situation report; a resend with the same Idempotency-Key is stored once."""
        x = ctx()
        principal = caller()
        data = body(m.SitrepIn)
        key = idempotency_key(data)
        sr, _ = parse_sitrep({k: v for k, v in data.items() if k != "client_id"}, x.clock(),
                             incident_id=iid)
        outcome = x.ingest.submit(FieldMessage(principal, sr, None, key))
        if not outcome.ok:
            raise outcome.error  # type: ignore[misc]
        if outcome.duplicate:  # answered as the first time: the report as it was stored
            inc = svc.get_incident(x.uow(readonly=True), principal, iid)
            sid = next((s["sitrep"]["id"] for s in _sitrep_events(x, outcome.seq)), None)
            return jsonify({"incident": incident_to_dict(inc), "sitrep_id": sid,
                            "seq": outcome.seq, "duplicate": True}), 201
        assert outcome.incident is not None
        return jsonify({"incident": incident_to_dict(outcome.incident),
                        "sitrep_id": outcome.sitrep_id, "seq": outcome.seq,
                        "duplicate": False}), 201

    @bp.post("/incidents/<iid:iid>/messages")
    @doc(json=m.MessageIn, resp=c.resp(201, m.MessageCreated, errors=JSON_ERRORS),
         tags=["incidents"], skip_validation=True)
    def post_message(iid: str):  # noqa: ANN202
        """Post to the incident's chat thread (centres that see it, units assigned to it);
        a resend with the same `id` (or Idempotency-Key) is stored once."""
        from rescue.services.messages import post_message

        x = ctx()
        data = body(m.MessageIn)
        mid = idempotency_key(data, "id")
        msg, duplicate = post_message(x.uow(), caller(), iid, data, x.geography.areas,
                                      x.now_for(iid), message_id=mid)
        return jsonify({**msg, "duplicate": duplicate}), 201  # a resend: as the first time

    @bp.get("/incidents/<iid:iid>/messages")
    @doc(query=m.MessagesQuery, resp=c.resp(200, m.MessageList), tags=["incidents"],
         skip_validation=True)
    def list_messages(iid: str):  # noqa: ANN202
        """The incident's chat thread, oldest first (`after` a seq, to page or catch up)."""
        from rescue.services.messages import thread

        q = query(m.MessagesQuery)
        return jsonify({"messages": thread(ctx().uow(readonly=True), caller(), iid, q.after,
                                           q.limit)})

    @bp.post("/incidents/<iid:iid>/assignments")
    @doc(json=c.AssignmentIn, resp=c.resp(201, m.IncidentOut, errors=JSON_ERRORS),
         tags=["dispatch"], skip_validation=True)
    def assign(iid: str):  # noqa: ANN202
        """Assign a unit; of two racing for one unit exactly one gets 201, the other 409."""
        x = ctx()
        inc = svc.assign_resource(x.uow(), caller(), iid, body(c.AssignmentIn), x.now_for(iid))
        return jsonify(incident_to_dict(inc)), 201

    @bp.delete("/incidents/<iid:iid>/assignments/<rid:rid>")
    @doc(resp=c.resp(200, m.IncidentOut, errors=(400, 401, 403, 404, 409)),
         tags=["dispatch"], skip_validation=True)
    def release(iid: str, rid: str):  # noqa: ANN202
        """Release a unit from the incident."""
        x = ctx()
        inc = svc.release_resource(x.uow(), caller(), iid, rid, x.now_for(iid))
        return jsonify(incident_to_dict(inc))
