"""HTTP API v1 (DESIGN §7): JSON under /api/v1, bearer tokens, one error shape, one contract
(rescue.api.contract) for validation and the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, Flask

from rescue.api.contract import Contract


def register_api(app: Flask, contract: Contract) -> None:
    from rescue.api import (
        cap_routes,
        coverage_routes,
        directive_routes,
        dispatch_routes,
        event_routes,
        geo_routes,
        incident_routes,
        media_routes,
        openapi,
        resource_routes,
        standards_routes,
        token_routes,
    )
    from rescue.api.deps import check_request_text
    from rescue.api.paths import install as install_paths

    install_paths(app)
    app.extensions["rescue_contract"] = contract
    bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
    bp.before_request(check_request_text)
    from rescue.plugins import load_plugins

    for module in (geo_routes, resource_routes, incident_routes, dispatch_routes, event_routes,
                   token_routes, directive_routes, media_routes, cap_routes,
                   standards_routes):
        module.register(bp, contract)
    coverage_routes.register(bp, contract, app.extensions["rescue"].coverage.config.names)
    for plugin in load_plugins():
        if hasattr(plugin, "register_routes"):
            plugin.register_routes(bp, contract)
    openapi.register(bp, contract)
    app.register_blueprint(bp)
