"""Suggestions: for an incident, and ad hoc for a point, category and severity."""

from __future__ import annotations

from flask import Blueprint, jsonify

from rescue.api import contract as m
from rescue.api.contract import Contract
from rescue.api.deps import body, caller, ctx, query
from rescue.services import dispatch as svc


def register(bp: Blueprint, c: Contract) -> None:
    @bp.get("/incidents/<iid:iid>/suggestions")
    @c.spec.validate(query=m.SuggestionsQuery,
                     resp=c.resp(200, m.SuggestionOut, errors=(400, 401, 403, 404)),
                     tags=["dispatch"], skip_validation=True)
    def suggestions(iid: str):  # noqa: ANN202
        """The best available units for each requirement of the incident's plan, by ETA."""
        x = ctx()
        q = query(m.SuggestionsQuery)
        return jsonify(svc.suggest_for_incident(x, caller(), iid, q.k, x.now_for(iid)))

    @bp.post("/dispatch/suggest")
    @c.spec.validate(json=c.SuggestIn,
                     resp=c.resp(200, m.SuggestionOut, errors=(400, 401, 403, 413, 415, 422)),
                     tags=["dispatch"], skip_validation=True)
    def suggest():  # noqa: ANN202
        """Suggestions for a point, category and severity (no incident stored)."""
        x = ctx()
        return jsonify(svc.suggest_adhoc(x, caller(), body(c.SuggestIn), x.clock()))
