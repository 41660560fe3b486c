"""Tokens: revoke one before it expires (an admin: any; anyone: the one they use)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from rescue.api.deps import caller, ctx, json_body
from rescue.auth import bearer
from rescue.services.tokens import revoke_token


def register(bp: Blueprint) -> None:
    @bp.post("/tokens/revoke")
    def revoke():  # noqa: ANN202
        c = ctx()
        principal = caller()
        own = bearer(request.headers.get("Authorization"))
        out = revoke_token(c.uow(), principal, json_body(), c.tokens, c.clock(), own_token=own)
        c.revocations.add(out["token_id"])  # at once here; other servers through the log
        return jsonify(out), 200
