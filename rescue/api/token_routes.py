"""Tokens: revoke one before it expires (an admin: any; anyone: the one they use)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from rescue.api import contract as m
from rescue.api.contract import Contract
from rescue.api.deps import body, caller, ctx
from rescue.auth import bearer
from rescue.services.tokens import revoke_token

JSON_ERRORS = (400, 401, 403, 413, 415)


def register(bp: Blueprint, c: Contract) -> None:
    @bp.post("/tokens/revoke")
    @c.spec.validate(json=m.RevokeIn, resp=c.resp(200, m.RevokedOut, errors=JSON_ERRORS),
                     tags=["tokens"], skip_validation=True)
    def revoke():  # noqa: ANN202
        """Withdraw a token before it expires; every server refuses it within a second."""
        x = ctx()
        principal = caller()
        own = bearer(request.headers.get("Authorization"))
        out = revoke_token(x.uow(), principal, body(m.RevokeIn), x.tokens, x.clock(),
                           own_token=own)
        x.revocations.add(out["token_id"])  # at once here; other servers through the log
        return jsonify(out), 200
