"""Request helpers: the caller, the JSON body and typed query parameters, all validated."""

from __future__ import annotations

import math
from typing import Any

from flask import current_app, g, request

from rescue.auth import Principal, bearer
from rescue.context import RescueContext
from rescue.services.common import lat_lon  # noqa: F401 - re-exported for handlers
from resources.errors import ValidationError


def ctx() -> RescueContext:
    return current_app.extensions["rescue"]


def caller() -> Principal:
    """The verified principal of this request (401 without a valid bearer token)."""
    if "principal" not in g:
        g.principal = ctx().tokens.verify(bearer(request.headers.get("Authorization")))
    return g.principal


def json_body() -> dict[str, Any]:
    data = request.get_json(silent=True, force=True)
    if data is None:
        raise ValidationError("body", "expected a JSON object (Content-Type: application/json)",
                              code="bad_request")
    if not isinstance(data, dict):
        raise ValidationError("body", f"expected a JSON object, got {type(data).__name__}",
                              code="bad_request")
    return data


def float_arg(name: str, *, required: bool = False, lo: float | None = None,
              hi: float | None = None) -> float | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        if required:
            raise ValidationError(name, "is required", code="bad_request")
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValidationError(name, f"must be a number, got {raw!r}", code="bad_request") from None
    if not math.isfinite(value):
        raise ValidationError(name, "must be a finite number", code="bad_request")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValidationError(name, f"must be between {lo} and {hi}", code="bad_request")
    return value


def int_arg(name: str, default: int, *, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(name, f"must be a whole number, got {raw!r}", code="bad_request") from None
    if not lo <= value <= hi:
        raise ValidationError(name, f"must be between {lo} and {hi}", code="bad_request")
    return value


def list_arg(name: str) -> list[str] | None:
    raw = request.args.getlist(name)
    if not raw:
        return None
    out: list[str] = []
    for r in raw:
        out.extend(x.strip() for x in r.split(",") if x.strip())
    return out or None
