"""HTTP API v1 (DESIGN §7): JSON under /api/v1, bearer tokens, one error shape."""

from __future__ import annotations

from flask import Blueprint, Flask


def register_api(app: Flask) -> None:
    from rescue.api import (
        dispatch_routes,
        event_routes,
        geo_routes,
        incident_routes,
        openapi,
        resource_routes,
        token_routes,
    )
    from rescue.api.deps import check_request_text

    bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
    bp.before_request(check_request_text)
    for module in (geo_routes, resource_routes, incident_routes, dispatch_routes, event_routes,
                   token_routes, openapi):
        module.register(bp)
    app.register_blueprint(bp)
