"""Checks for the strings that enter the store.

A lone surrogate cannot be encoded as UTF-8 and a NUL cannot be stored in a PostgreSQL text
column: either would make a record that can be written (or half written) but never read
back. Every string from outside goes through here and is refused with its field named.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from resources.errors import ValidationError

_SURROGATE = re.compile("[\ud800-\udfff]")
# NUL and the C0/C1 controls other than tab, newline and carriage return.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def bad_character(value: str) -> str | None:
    """What is wrong with a string, or None."""
    if _SURROGATE.search(value):
        return "contains a lone surrogate (not valid Unicode text)"
    m = _CONTROL.search(value)
    if m:
        return f"contains the control character U+{ord(m.group()):04X}"
    return None


def check_text(value: Any, field: str, *, maximum: int, minimum: int = 0) -> str:
    """A string of `minimum` to `maximum` characters with no surrogate or control character."""
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a string, got {type(value).__name__}", "type")
    problem = bad_character(value)
    if problem:
        raise ValidationError(field, problem)
    if len(value) > maximum:
        raise ValidationError(field, f"must be at most {maximum} characters", "too_long")
    if len(value) < minimum:
        raise ValidationError(field, "must not be empty" if minimum == 1
                              else f"must be at least {minimum} characters")
    return value


def has_surrogate(value: Any) -> bool:
    """Whether a lone surrogate hides anywhere in a JSON-shaped value. Readers ask this of
    every stored payload: orjson (C) refuses a lone surrogate, so a value it encodes has none
    and only the rare refusal is walked."""
    try:
        orjson.dumps(value)
        return False
    except TypeError:
        return _walk_has_surrogate(value)


def _walk_has_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_walk_has_surrogate(k) or _walk_has_surrogate(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_walk_has_surrogate(v) for v in value)
    return False


def scrub(value: Any) -> Any:
    """The value with every lone surrogate replaced by U+FFFD: how readers serve what an
    older release could store (as a JSON escape) instead of failing on it."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value
