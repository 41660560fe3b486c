"""One JSON error shape for every failure: {"error": {"code", "message", "field"}}."""

from __future__ import annotations

import logging
import math

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from geo.areas import OutsideCoverage
from rescue.api.deps import RateLimited, TooLarge, UnsupportedMediaType
from rescue.auth import Forbidden, Unauthorized
from rescue.blobs import BlobStoreError
from rescue.ingest import IngestUnavailable
from rescue.media import MediaTooLarge, MediaTypeRefused
from resources.errors import Conflict, NotFound, ValidationError

log = logging.getLogger(__name__)


def error_response(status: int, code: str, message: str, field: str | None = None):  # noqa: ANN201
    resp = jsonify({"error": {"code": code, "message": message, "field": field}})
    resp.status_code = status
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="rescue"'
    return resp


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ValidationError)
    def _validation(e: ValidationError):  # noqa: ANN202
        return error_response(400, e.code, e.message, e.field)

    @app.errorhandler(MediaTooLarge)
    def _media_too_large(e: MediaTooLarge):  # noqa: ANN202
        return error_response(413, e.code, e.message, e.field)

    @app.errorhandler(MediaTypeRefused)
    def _media_refused(e: MediaTypeRefused):  # noqa: ANN202
        return error_response(415, e.code, e.message, e.field)

    @app.errorhandler(BlobStoreError)
    def _blobs_down(e: BlobStoreError):  # noqa: ANN202
        resp = error_response(503, "unavailable", str(e))
        resp.headers["Retry-After"] = "5"
        return resp

    @app.errorhandler(OutsideCoverage)
    def _outside(e: OutsideCoverage):  # noqa: ANN202
        return error_response(422, "outside_coverage", str(e), "lat")

    @app.errorhandler(NotFound)
    def _not_found(e: NotFound):  # noqa: ANN202
        return error_response(404, "not_found", e.message, e.field)

    @app.errorhandler(Conflict)
    def _conflict(e: Conflict):  # noqa: ANN202
        return error_response(409, e.code, e.message, e.field)

    @app.errorhandler(Unauthorized)
    def _unauthorized(e: Unauthorized):  # noqa: ANN202
        return error_response(401, "unauthorized", str(e))

    @app.errorhandler(Forbidden)
    def _forbidden(e: Forbidden):  # noqa: ANN202
        return error_response(403, "forbidden", str(e))

    @app.errorhandler(RateLimited)
    def _rate_limited(e: RateLimited):  # noqa: ANN202
        resp = error_response(429, "rate_limited", str(e))
        resp.headers["Retry-After"] = str(max(1, math.ceil(e.retry_after_s)))
        return resp

    @app.errorhandler(IngestUnavailable)
    def _unavailable(e: IngestUnavailable):  # noqa: ANN202
        resp = error_response(503, "unavailable", e.message)
        resp.headers["Retry-After"] = "1"
        return resp

    @app.errorhandler(UnsupportedMediaType)
    def _media(e: UnsupportedMediaType):  # noqa: ANN202
        return error_response(415, "unsupported_media_type", str(e), "Content-Type")

    @app.errorhandler(TooLarge)
    def _too_large(e: TooLarge):  # noqa: ANN202
        return error_response(413, "too_large", str(e), "body")

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException):  # noqa: ANN202
        code = (e.name or "error").lower().replace(" ", "_")
        resp = error_response(e.code or 500, code, e.description or e.name)
        for name, value in e.get_headers():  # e.g. Allow on a 405
            if name.lower() != "content-type":
                resp.headers[name] = value
        return resp

    @app.errorhandler(Exception)
    def _unexpected(e: Exception):  # noqa: ANN202
        log.exception("unhandled error")
        return error_response(500, "internal", "internal error; it has been logged")
