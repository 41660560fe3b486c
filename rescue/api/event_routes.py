"""The event log, scoped: for polling clients, resume over plain HTTP, and audit.

The same viewer rule as `/centre` and `/field` (realtime.visibility): a centre sees events
concerning its area and below, a desk only its categories, a field unit what names it.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from rescue.api import contract as m
from rescue.api.contract import Contract
from rescue.api.deps import caller, ctx, query
from rescue.auth import Forbidden
from rescue.events import EventQuery
from rescue.services.common import viewer_of


def register(bp: Blueprint, c: Contract) -> None:
    @bp.get("/events")
    @c.spec.validate(query=m.EventsQuery, resp=c.resp(200, m.EventPage, errors=(400, 401, 403, 404)),
                     tags=["events"], skip_validation=True)
    def events():  # noqa: ANN202
        """Events after a seq that the caller may see, in seq order; `last_seq` is where to
        continue (complete up to it)."""
        principal = caller()
        q = query(m.EventsQuery)
        if q.area is not None:
            scope = principal.event_area_prefix()
            if principal.role == "field" or (scope is not None and not q.area.startswith(scope)):
                raise Forbidden(f"area {q.area} is outside your scope")
        with ctx().uow(readonly=True) as uow:
            # Read up to the head as it stands first: with fewer than `limit` events given,
            # the reader is complete up to that head (later commits all have larger seqs).
            head = uow.events.head()
            items = uow.events.read(EventQuery(
                after=q.after, until=head, limit=q.limit, area_prefix=q.area,
                types_prefix=q.type, viewer=viewer_of(principal, q.exercise)))
            last = items[-1].seq if len(items) == q.limit else max(q.after, head)
        return jsonify({"events": [e.to_dict() for e in items], "last_seq": last})
