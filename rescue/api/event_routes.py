"""The event log, scoped: for polling clients and audit."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from rescue.api.deps import caller, ctx, int_arg
from rescue.auth import Forbidden
from rescue.events import EventQuery


def register(bp: Blueprint) -> None:
    @bp.get("/events")
    def events():  # noqa: ANN202
        principal = caller()
        if principal.role == "field":
            raise Forbidden("field units receive their assignments on /field")
        after = int_arg("after", 0, lo=0, hi=2**62)
        limit = int_arg("limit", 100, lo=1, hi=1000)
        asked = request.args.get("area") or None
        scope = principal.event_area_prefix()
        prefix = scope
        if asked is not None:
            if scope is not None and not asked.startswith(scope):
                raise Forbidden(f"area {asked} is outside your scope")
            prefix = asked
        q = EventQuery(after=after, limit=limit, area_prefix=prefix,
                       exercise=request.args.get("exercise") or None,
                       types_prefix=request.args.get("type") or None)
        with ctx().uow(readonly=True) as uow:
            items = uow.events.read(q)
        return jsonify({"events": [e.to_dict() for e in items],
                        "last_seq": items[-1].seq if items else after})
