"""Tokens: revoke one before it expires (an admin: any; anyone: the one they use)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from rescue.api import contract as m
from rescue.api.contract import Contract
from rescue.api.deps import body, caller, ctx
from rescue.auth import bearer
from rescue.events import iso
from rescue.incidents import SEVERITIES
from rescue.services.tokens import revoke_token

JSON_ERRORS = m.JSON_ERRORS


def register(bp: Blueprint, c: Contract) -> None:
    @bp.get("/me")
    @c.spec.validate(resp=c.resp(200, m.MeOut, errors=(401,)), tags=["tokens"],
                     skip_validation=True)
    def me():  # noqa: ANN202
        """Who this token speaks for (centre, level, area), and the console's settings."""
        x = ctx()
        p = caller()
        area = x.geography.areas.get(p.area) if p.area else None
        expires = x.tokens.expiry(bearer(request.headers.get("Authorization")))
        cfg = x.config
        return jsonify({
            "role": p.role, "name": p.name, "area": p.area,
            "area_name": area.name if area else None,
            "area_name_en": (area.name_en or None) if area else None,
            "level": area.level if area else None,
            "categories": list(p.categories) if p.categories is not None else None,
            "resource": p.resource_id, "expires_at": iso(expires) if expires else None,
            "settings": {"tile_url": cfg.tile_url,
                         "max_position_age_s": cfg.position_max_age_s,
                         "dispatch_amber_s": cfg.dispatch_amber_s,
                         "dispatch_red_s": cfg.dispatch_red_s},
            "vocabulary": {
                "categories": [c for c in x.plans.categories
                               if p.categories is None or c in p.categories],
                "severities": list(SEVERITIES),
                "kinds": dict(x.vocab.kind_modes), "statuses": list(x.vocab.statuses),
                "capabilities": list(x.vocab.capabilities),
                "incident_statuses": list(m.INCIDENT_STATUSES)}})

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
        return jsonify(out), 200
