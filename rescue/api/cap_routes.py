"""CAP out (DESIGN §12): each incident as a CAP 1.2 alert, and an Atom feed of the current
alerts in the caller's scope (what a public warning system or a neighbour polls)."""

from __future__ import annotations

from flask import Blueprint, Response, request
from pydantic import Field

from rescue import cap
from rescue.api.contract import ID_PATTERN, Contract, Lax
from rescue.api.deps import caller, ctx, query
from rescue.incident_repo import IncidentFilter
from rescue.services import incidents as svc

API = "/api/v1"
OPEN = frozenset({"reported", "responding", "on_scene", "contained"})


class CapFeedQuery(Lax):
    exercise: str | None = Field(None, pattern=ID_PATTERN, description="an exercise's alerts "
                                 "(status Exercise) instead of the live ones")
    limit: int = Field(500, ge=1, le=5000)


def register(bp: Blueprint, c: Contract) -> None:
    doc = c.spec.validate
    c.bytes_out(f"{API}/incidents/{{iid}}/cap", "get", cap.CONTENT_TYPE)
    c.bytes_out(f"{API}/cap.atom", "get", "application/atom+xml")

    @bp.get("/incidents/<iid:iid>/cap")
    @doc(resp=c.resp(200, None), tags=["standards"], skip_validation=True)
    def incident_cap(iid: str):  # noqa: ANN202
        """The incident as a CAP 1.2 alert: Alert when reported, Update after a change,
        Cancel when closed; Exercise for an exercise's incidents."""
        x = ctx()
        inc = svc.get_incident(x.uow(readonly=True), caller(), iid)
        doc_ = cap.alert(inc, sender=x.config.cap_sender, now=x.now_for(iid))
        return Response(cap.to_xml(doc_), mimetype=cap.CONTENT_TYPE)

    @bp.get("/cap.atom")
    @doc(query=CapFeedQuery, resp=c.resp(200, None), tags=["standards"], skip_validation=True)
    def cap_feed():  # noqa: ANN202
        """An Atom feed of the open incidents in the caller's scope, each linking to its CAP
        alert."""
        x = ctx()
        q = query(CapFeedQuery)
        items = svc.list_incidents(x.uow(readonly=True), caller(), IncidentFilter(
            statuses=OPEN, exercise=q.exercise, limit=q.limit))
        base = request.host_url.rstrip("/")
        feed = cap.feed(items, title="Current alerts", self_url=f"{base}{API}/cap.atom",
                        cap_url=lambda iid: f"{base}{API}/incidents/{iid}/cap",
                        now=x.now_in(q.exercise))
        return Response(cap.to_xml(feed), mimetype="application/atom+xml")
