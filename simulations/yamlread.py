"""Reading a YAML document node by node, so that every refusal names its line and field.

PyYAML's composed nodes keep their position; converting them by hand (rather than loading to
plain Python first) lets a scenario error say `line 14, generators[2].rate_per_hour: must be a
number >= 0` instead of a bare "invalid value".
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from resources.fields import bad_character


class ScenarioError(ValueError):
    """A refused scenario: where (line, field) and why."""

    def __init__(self, line: int | None, field: str, message: str) -> None:
        self.line = line
        self.field = field
        self.message = message
        where = f"line {line}, " if line is not None else ""
        super().__init__(f"{where}{field}: {message}" if field else f"{where}{message}")


def compose(text: str) -> Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ScenarioError(line, "", f"not valid YAML: {getattr(e, 'problem', e)}") from None
    except RecursionError:  # PyYAML composes recursively: a hostile file nests thousands deep
        raise ScenarioError(None, "", "nested too deeply") from None


def line_of(node: Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


def fail(node: Node | None, field: str, message: str) -> ScenarioError:
    return ScenarioError(line_of(node), field, message)


def mapping(node: Node, field: str, allowed: Collection[str] | None = None,
            required: Collection[str] = ()) -> dict[str, Node]:
    if not isinstance(node, MappingNode):
        raise fail(node, field, "must be a mapping (key: value)")
    out: dict[str, Node] = {}
    for k, v in node.value:
        if not isinstance(k, ScalarNode):
            raise fail(k, field, "keys must be plain names")
        key = str(k.value)
        here = f"{field}.{key}" if field else key
        if allowed is not None and key not in allowed:
            raise fail(k, here, "unknown field; one of: " + ", ".join(sorted(allowed)))
        if key in out:
            raise fail(k, here, "given twice")
        out[key] = v
    for key in required:
        if key not in out:
            raise fail(node, f"{field}.{key}" if field else key, "is required")
    return out


def sequence(node: Node, field: str) -> list[Node]:
    if not isinstance(node, SequenceNode):
        raise fail(node, field, "must be a list")
    return list(node.value)


def plain(node: Node, field: str) -> Any:
    """The node as plain Python (YAML's own typing: 12 is int, 1.5 float, true bool). YAML
    escapes can write what JSON refused (a NUL, a lone surrogate): refused here by name."""
    try:
        value = yaml.safe_load(yaml.serialize(node))
    except RecursionError:
        raise fail(node, field, "nested too deeply") from None
    problem = _bad_text(value)
    if problem:
        raise fail(node, field, problem)
    return value


def _bad_text(value: Any) -> str | None:
    if isinstance(value, str):
        return bad_character(value)
    if isinstance(value, dict):
        return next((p for k, v in value.items() for p in (_bad_text(k), _bad_text(v)) if p),
                    None)
    if isinstance(value, list):
        return next((p for v in value if (p := _bad_text(v))), None)
    return None


def scalar(node: Node, field: str) -> Any:
    if not isinstance(node, ScalarNode):
        raise fail(node, field, "must be a single value")
    return plain(node, field)


def text(node: Node, field: str, *, maximum: int = 200) -> str:
    v = scalar(node, field)
    if not isinstance(v, str) or not v.strip():
        raise fail(node, field, "must be non-empty text")
    if len(v) > maximum:
        raise fail(node, field, f"at most {maximum} characters")
    return v


def number(node: Node, field: str, *, lo: float = -math.inf, hi: float = math.inf) -> float:
    v = scalar(node, field)
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise fail(node, field, "must be a number")
    if not lo <= v <= hi:
        raise fail(node, field, f"must be between {lo:g} and {hi:g}")
    return float(v)


def integer(node: Node, field: str, *, lo: int, hi: int) -> int:
    v = scalar(node, field)
    if isinstance(v, bool) or not isinstance(v, int):
        raise fail(node, field, "must be a whole number")
    if not lo <= v <= hi:
        raise fail(node, field, f"must be between {lo} and {hi}")
    return v


def choice(node: Node, field: str, options: Collection[str]) -> str:
    v = scalar(node, field)
    if not isinstance(v, str) or v not in options:
        raise fail(node, field, "must be one of: " + ", ".join(sorted(options)))
    return v


_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*h)?\s*(?:(\d+(?:\.\d+)?)\s*m(?:in)?)?"
                       r"\s*(?:(\d+(?:\.\d+)?)\s*s)?\s*$")


def duration(node: Node, field: str, *, lo: float = 0.0, hi: float = 30 * 86400.0) -> float:
    """Seconds from `90`, `90s`, `15m`, `2h`, `1h30m`."""
    v = scalar(node, field)
    if isinstance(v, bool):
        raise fail(node, field, "must be a duration such as 90s, 15m, 2h or 1h30m")
    if isinstance(v, int | float):
        seconds = float(v)
    else:
        m = _DURATION.match(str(v)) if isinstance(v, str) else None
        if not m or not any(m.groups()):
            raise fail(node, field, "must be a duration such as 90s, 15m, 2h or 1h30m")
        h, mi, s = (float(g) if g else 0.0 for g in m.groups())
        seconds = h * 3600 + mi * 60 + s
    if not math.isfinite(seconds) or not lo <= seconds <= hi:
        raise fail(node, field, f"must be between {lo:g} s and {hi:g} s")
    return seconds
