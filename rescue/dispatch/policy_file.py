"""The dispatch policy as a YAML file (rescue/plans/dispatch_policy.yaml by default).

Why a file: detour factors per area and aircraft weather limits are operational data that a
centre calibrates, not code. Validated at start with the line of each problem, like the plans.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from rescue.dispatch.plans import PlanError
from rescue.dispatch.policy import DispatchPolicy, WeatherLimits

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "plans" / "dispatch_policy.yaml"
_AREA_CODE = re.compile(r"\d{2}(\d{2}(\d{2}(\d{3})?)?)?M?")
_KEYS = {"detour", "area_detour", "weather_limits", "kind_preference_s", "sea_limit_km"}


def load_policy(path: str | Path | None = None, *, known_areas: Collection[str] | None = None,
                aircraft_kinds: Collection[str] = ("helicopter", "fixed_wing", "drone", "vessel",
                                                   "volunteer_vessel"),
                **overrides: Any) -> DispatchPolicy:
    """Read and validate; `overrides` (e.g. max_position_age_s from the environment) win."""
    path = Path(path) if path is not None else DEFAULT_PATH
    name = path.name
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise PlanError(f"{name}: not valid YAML: {e}") from None
    if root is None:
        return DispatchPolicy(**overrides)
    items = _mapping(root, name, "the file", _KEYS)
    kw: dict[str, Any] = {}
    if "detour" in items:
        kw["detour"] = _number(items["detour"], name, "detour", lo=1.0)
    if "area_detour" in items:
        areas = _mapping(items["area_detour"], name, "area_detour", None)
        out = {}
        for code, node in areas.items():
            if not _AREA_CODE.fullmatch(code) or (known_areas is not None
                                                   and code not in known_areas):
                raise _err(name, node, f"area_detour: unknown area code {code!r}")
            out[code] = _number(node, name, f"area_detour.{code}", lo=1.0)
        kw["area_detour"] = out
    if "weather_limits" in items:
        limits = {}
        for kind, node in _mapping(items["weather_limits"], name, "weather_limits", None).items():
            if kind not in aircraft_kinds:
                raise _err(name, node, f"weather_limits: {kind!r} is not an aircraft or "
                                       "vessel kind")
            fields = _mapping(node, name, f"weather_limits.{kind}",
                              {"max_wind_kmh", "min_visibility_km"})
            if set(fields) != {"max_wind_kmh", "min_visibility_km"}:
                raise _err(name, node, f"weather_limits.{kind}: needs max_wind_kmh and "
                                       "min_visibility_km")
            limits[kind] = WeatherLimits(
                max_wind_kmh=_number(fields["max_wind_kmh"], name, "max_wind_kmh", lo=0.0),
                min_visibility_km=_number(fields["min_visibility_km"], name,
                                          "min_visibility_km", lo=0.0))
        kw["weather_limits"] = limits
    if "kind_preference_s" in items:
        kw["kind_preference_s"] = _number(items["kind_preference_s"], name, "kind_preference_s",
                                          lo=0.0)
    if "sea_limit_km" in items:
        node = items["sea_limit_km"]
        if not (isinstance(node, ScalarNode) and node.tag.endswith(":null")):
            kw["sea_limit_km"] = _number(node, name, "sea_limit_km", lo=0.0)
    return DispatchPolicy(**{**kw, **overrides})


def _err(name: str, node: Node, message: str) -> PlanError:
    return PlanError(f"{name} line {node.start_mark.line + 1}: {message}")


def _mapping(node: Node, name: str, what: str, allowed: set[str] | None) -> dict[str, Node]:
    if not isinstance(node, MappingNode):
        raise _err(name, node, f"{what} must be a mapping")
    out: dict[str, Node] = {}
    for k, v in node.value:
        key = str(k.value)
        if allowed is not None and key not in allowed:
            raise _err(name, k, f"unknown key {key!r} in {what}")
        if key in out:
            raise _err(name, k, f"{key!r} appears twice in {what}")
        out[key] = v
    return out


def _number(node: Node, name: str, what: str, *, lo: float) -> float:
    try:
        value = float(node.value) if isinstance(node, ScalarNode) else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < lo:
        raise _err(name, node, f"{what} must be a number >= {lo:g}, got {node.value!r}")
    return value
