"""Request helpers: the caller, the JSON body and typed query parameters, all validated."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request

from rescue.auth import Principal, bearer
from rescue.context import RescueContext
from rescue.plugins import check_exercise
from rescue.services.common import lat_lon  # noqa: F401 - re-exported for handlers
from resources.errors import ValidationError
from resources.fields import bad_character
from resources.jsonin import parse_json


def ctx() -> RescueContext:
    return current_app.extensions["rescue"]


def caller() -> Principal:
    """The verified principal of this request (401 without a valid bearer token)."""
    if "principal" not in g:
        g.principal = ctx().tokens.verify(bearer(request.headers.get("Authorization")))
    return g.principal


class RateLimited(Exception):
    """429 with Retry-After: one unit sends faster than its limit."""

    def __init__(self, retry_after_s: float) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(f"too many messages; retry in {retry_after_s:.2f} s")


def idempotency_key(data: dict[str, Any] | None = None, field: str = "client_id"
                    ) -> str | None:
    """The client's message id: the Idempotency-Key header (or `field` in the body, `client_id`
    as before). A resend with the same key is answered as the first time and applied once."""
    from rescue.services.field import message_id

    header = request.headers.get("Idempotency-Key")
    body = (data or {}).get(field)
    key = message_id(header, "Idempotency-Key") if header is not None else None
    cid = message_id(body, field) if body is not None else None
    if key is not None and cid is not None and key != cid:
        raise ValidationError(field, "differs from the Idempotency-Key header")
    return key or cid


MAX_JSON_BODY = 1024 * 1024


class UnsupportedMediaType(Exception):
    """415: a JSON endpoint was sent something that does not say it is JSON."""


class TooLarge(Exception):
    """413, with the limit in the message."""


def json_body() -> dict[str, Any]:
    """The request's JSON object, strictly parsed (resources.jsonin): 415 unless the body
    says it is JSON, 413 past a megabyte, 400 naming the field otherwise."""
    mime = (request.mimetype or "").lower()
    if mime != "application/json" and not (mime.startswith("application/")
                                           and mime.endswith("+json")):
        raise UnsupportedMediaType(f"send the body as application/json (got "
                                   f"{request.mimetype or 'no Content-Type'})")
    if request.content_length is not None and request.content_length > MAX_JSON_BODY:
        raise TooLarge(f"the body is larger than {MAX_JSON_BODY} bytes")
    raw = request.get_data(cache=True)
    if len(raw) > MAX_JSON_BODY:
        raise TooLarge(f"the body is larger than {MAX_JSON_BODY} bytes")
    if not raw.strip():
        raise ValidationError("body", "expected a JSON object", code="bad_request")
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise ValidationError("body", f"expected a JSON object, got {type(data).__name__}",
                              code="bad_request")
    return data


def check_request_text() -> None:
    """Query parameters: no lone surrogate, no control character, no megabyte strings. Run
    before every request, so no handler can forget it. (Path parameters cannot carry them:
    every route's converters match only what can name something, rescue.api.paths.)"""
    for name, values in request.args.lists():
        for value in (name, *values):
            problem = bad_character(value)
            if problem or len(value) > 2000:
                raise ValidationError(str(name)[:40], problem or "is longer than 2000 characters",
                                      code="bad_request")


def contract() -> Any:
    """The app's contract (rescue.api.contract.Contract)."""
    return current_app.extensions["rescue_contract"]


def body(model: Any) -> dict[str, Any]:
    """The JSON body, strictly parsed, then checked against its contract model; returns the
    body as sent (the service layer applies the domain rules with their own messages)."""
    data = json_body()
    _check(model, data)
    return data


def query(model: Any) -> Any:
    """The query string validated into its contract model (a repeated name counts as a
    comma-separated list). An `exercise` asked for must be one the caller may see (404
    otherwise): every listing that reads inside an exercise passes here."""
    q = _check(model, {k: ",".join(v) for k, v in request.args.lists()})
    exercise = getattr(q, "exercise", None)
    if exercise:
        check_exercise(ctx(), caller(), exercise)
    return q


def _check(model: Any, data: Any) -> Any:
    from pydantic import ValidationError as PydanticError

    try:
        return model.model_validate(data)
    except PydanticError as e:
        raise contract_error(e, data) from None


_CODES = {"extra_forbidden": "unknown_field", "missing": "required",
          "union_tag_invalid": "unknown", "union_tag_not_found": "required",
          "literal_error": "unknown"}


def contract_error(e: Any, data: Any) -> ValidationError:
    """A pydantic error as ours: the field as a path (home.lat, capabilities[1]), a short
    message, a code."""
    err = e.errors(include_url=False)[0]
    loc = list(err["loc"])
    if isinstance(data, dict) and loc and loc[0] == data.get("kind"):
        loc = loc[1:]  # the discriminated union's tag (resources by kind)
    if err["type"].startswith("union_tag"):
        loc = ["kind"]
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif str(part) != "root":
            path = f"{path}.{part}" if path else str(part)
    kind = err["type"]
    code = _CODES.get(kind, "type" if kind.endswith("_type") else "invalid")
    message = err["msg"] if len(err["msg"]) <= 200 else err["msg"][:197] + "..."
    return ValidationError(path or "body", message, code=code)


def no_body() -> None:
    """An action without parameters (contract.ActionIn): nothing, or an empty JSON object."""
    from rescue.api.contract import ActionIn

    if request.content_length:
        body(ActionIn)
