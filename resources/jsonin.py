"""JSON from outside, parsed strictly: one place that makes a whole class of defects impossible.

Every string anywhere in a body (keys included) is checked for lone surrogates and control
characters; nesting is bounded; numbers must be finite and integers safe (|n| <= 2**53, what
every JSON reader round-trips and every database column here holds); the error names the path
of the offending value (``home.name``, ``needs[3]``).
"""

from __future__ import annotations

import json
from typing import Any

from resources.errors import ValidationError
from resources.fields import bad_character

MAX_DEPTH = 32
MAX_SAFE_INT = 2**53


class _NonFinite(str):
    """What NaN and Infinity parse to: refused by the walk, with the path of the value."""


def _no_constant(name: str) -> _NonFinite:
    return _NonFinite(name)


def parse_json(raw: bytes | str, field: str = "body") -> Any:
    """Parse and check; raises ValidationError naming `field` or the path inside it."""
    try:
        value = json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise ValidationError(field, f"nested deeper than {MAX_DEPTH} levels",
                              code="bad_request") from None
    except UnicodeDecodeError:
        raise ValidationError(field, "is not UTF-8 text", code="bad_request") from None
    except ValueError as e:
        raise ValidationError(field, f"is not valid JSON ({e})", code="bad_request") from None
    check_value(value, "")
    return value


def check_value(value: Any, path: str, depth: int = 0) -> None:
    """Walk a parsed JSON value (iteratively deep enough for MAX_DEPTH)."""
    if depth > MAX_DEPTH:
        raise ValidationError(path or "body", f"nested deeper than {MAX_DEPTH} levels",
                              code="bad_request")
    if isinstance(value, _NonFinite):
        raise ValidationError(path or "body", f"must be a finite number, not {value}")
    if isinstance(value, str):
        problem = bad_character(value)
        if problem:
            raise ValidationError(path or "body", problem)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if abs(value) > MAX_SAFE_INT:
            raise ValidationError(path or "body", f"is beyond ±2^53 ({MAX_SAFE_INT})")
    elif isinstance(value, dict):
        for k, v in value.items():
            problem = bad_character(k)
            key = k if not problem else repr(k)[1:-1]
            if problem:
                raise ValidationError(f"{path}.{key}" if path else key, f"field name {problem}")
            check_value(v, f"{path}.{k}" if path else k, depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            check_value(v, f"{path}[{i}]", depth + 1)
