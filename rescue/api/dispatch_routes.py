"""Suggestions: for an incident, and ad hoc for a point, category and severity."""

from __future__ import annotations

from flask import Blueprint, jsonify

from rescue.api.deps import caller, ctx, int_arg, json_body
from rescue.services import dispatch as svc


def register(bp: Blueprint) -> None:
    @bp.get("/incidents/<iid>/suggestions")
    def suggestions(iid: str):  # noqa: ANN202
        c = ctx()
        k = int_arg("k", 5, lo=1, hi=svc.MAX_K)
        return jsonify(svc.suggest_for_incident(c, caller(), iid, k, c.clock()))

    @bp.post("/dispatch/suggest")
    def suggest():  # noqa: ANN202
        c = ctx()
        return jsonify(svc.suggest_adhoc(c, caller(), json_body(), c.clock()))
