"""The event log, scoped: for polling clients, resume over plain HTTP, and audit.

The same viewer rule as `/centre` and `/field` (realtime.visibility): a centre sees events
concerning its area and below, a desk only its categories, a field unit what names it.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from rescue.api.deps import caller, ctx, int_arg
from rescue.auth import Forbidden
from rescue.events import EventQuery
from rescue.push import viewer_of
from resources.errors import ValidationError
from resources.fields import check_text
from resources.model import AREA_RE, ID_RE


def register(bp: Blueprint) -> None:
    @bp.get("/events")
    def events():  # noqa: ANN202
        principal = caller()
        after = int_arg("after", 0, lo=0, hi=2**62)
        limit = int_arg("limit", 100, lo=1, hi=1000)
        exercise = request.args.get("exercise") or None
        if exercise is not None and not ID_RE.match(exercise):
            raise ValidationError("exercise", "must be an exercise id", code="bad_request")
        asked = request.args.get("area") or None
        if asked is not None:
            if not AREA_RE.match(asked):
                raise ValidationError("area", f"{asked[:20]!r} is not an area code",
                                      code="bad_request")
            scope = principal.event_area_prefix()
            if principal.role == "field" or (scope is not None and not asked.startswith(scope)):
                raise Forbidden(f"area {asked} is outside your scope")
        types = request.args.get("type") or None
        if types is not None:
            check_text(types, "type", maximum=64)
        with ctx().uow(readonly=True) as uow:
            # Read up to the head as it stands first: with fewer than `limit` events given,
            # the reader is complete up to that head (later commits all have larger seqs).
            head = uow.events.head()
            items = uow.events.read(EventQuery(
                after=after, until=head, limit=limit, area_prefix=asked, types_prefix=types,
                viewer=viewer_of(principal, exercise)))
            last = items[-1].seq if len(items) == limit else max(after, head)
        return jsonify({"events": [e.to_dict() for e in items], "last_seq": last})
