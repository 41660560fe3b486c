"""Scenarios: what happens in an exercise, read from YAML with every refusal naming line and field.

A scenario is data only (no geography, no clock): the engine places generated incidents and
draws times from the seed. Times inside a scenario are offsets from `start` (`90s`, `15m`,
`2h`, `1h30m`). Built-in scenarios live in `simulations/builtin/NAME.yaml`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from importlib import resources as pkg
from typing import Any

from yaml.nodes import MappingNode, Node

from rescue.incidents import SEVERITIES
from resources.errors import ValidationError
from resources.model import parse_time, resource_from_dict
from resources.vocabulary import Vocabulary
from simulations.yamlread import (
    ScenarioError,
    choice,
    compose,
    duration,
    fail,
    integer,
    mapping,
    number,
    plain,
    scalar,
    sequence,
    text,
)

# Categories whose incidents happen on the water (generators place them at sea).
SEA_CATEGORIES = frozenset({"maritime_distress", "person_overboard", "vessel_fire"})
DEFAULT_SEVERITY_MIX = {"IV": 0.6, "III": 0.3, "II": 0.09, "I": 0.01}
# A plain day: quiet at night, busy in the afternoon (relative weights per hour, 00-23).
DIURNAL = (0.4, 0.3, 0.3, 0.3, 0.4, 0.6, 0.9, 1.2, 1.3, 1.3, 1.3, 1.3,
           1.3, 1.3, 1.4, 1.4, 1.4, 1.3, 1.2, 1.1, 1.0, 0.9, 0.7, 0.5)
DEFAULT_ON_SCENE = (20.0, 40.0, 90.0)  # minutes: least, most likely, most
NAME_RE = re.compile(r"^[a-z0-9_]{1,40}$")
# About 15 times the typhoon; small enough that any scenario of this length, JSON-escaped as
# badly as it can be (12 bytes a character), fits in an HTTP body (1 MiB): the contract's
# limit must be one the server can receive.
MAX_CHARACTERS = 80_000
AREA_RE = re.compile(r"^[0-9]{2,12}M?$")
_TOP = {"name", "title", "description", "area", "start", "duration", "seed", "decision_delay",
        "positions_every", "on_scene", "weather", "incidents", "generators",
        "resources"}


@dataclass(frozen=True)
class Weather:
    start_s: float
    end_s: float
    wind_kmh: float | None
    visibility_km: float | None
    area: str | None  # None: everywhere

    def applies(self, t: float, area_codes: tuple[str, ...]) -> bool:
        return self.start_s <= t < self.end_s and (
            self.area is None or any(c.startswith(self.area) for c in area_codes))


@dataclass(frozen=True)
class ScriptedIncident:
    at_s: float
    category: str
    severity: str
    lat: float | None
    lon: float | None
    area: str | None  # a random point in this area when lat/lon are not given
    title: str | None
    persons_at_risk: int


@dataclass(frozen=True)
class Profile:
    """How a generator's rate varies over the day: weights per hour of the scenario's clock
    (`hourly`, 24 values) or a bell around `peak_at_s` with `spread_s`; mean rate is kept."""

    kind: str  # flat | hourly | peak
    hourly: tuple[float, ...] = ()
    peak_at_s: float = 0.0
    spread_s: float = 3600.0


@dataclass(frozen=True)
class Generator:
    category: str
    area: str
    rate_per_hour: float
    severity: tuple[tuple[str, float], ...]
    profile: Profile
    start_s: float
    end_s: float
    persons_at_risk: tuple[int, int]
    box: tuple[float, float, float, float] | None = None  # lat_min, lon_min, lat_max, lon_max


@dataclass(frozen=True)
class Selector:
    """Units picked by id, or by kind / area prefix / capability (all given must match)."""

    ids: tuple[str, ...] = ()
    kind: str | None = None
    area: str | None = None
    capability: str | None = None

    def matches(self, rid: str, kind: str, area: str, capabilities: tuple[str, ...]) -> bool:
        if self.ids:
            return rid in self.ids
        return ((self.kind is None or kind == self.kind)
                and (self.area is None or area.startswith(self.area))
                and (self.capability is None or self.capability in capabilities))


@dataclass(frozen=True)
class ResourceChange:
    at_s: float
    action: str  # withdraw | restore | add
    selector: Selector | None = None
    units: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    area: str
    start: datetime
    duration_s: float
    seed: int
    description: str = ""
    decision_delay_s: float = 45.0
    positions_every_s: float = 60.0
    on_scene: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    weather: tuple[Weather, ...] = ()
    incidents: tuple[ScriptedIncident, ...] = ()
    generators: tuple[Generator, ...] = ()
    resources: tuple[ResourceChange, ...] = ()
    text: str = ""

    def on_scene_minutes(self, category: str) -> tuple[float, float, float]:
        return self.on_scene.get(category) or self.on_scene.get("default") or DEFAULT_ON_SCENE

    def weather_at(self, t: float, area_codes: tuple[str, ...]) -> dict[str, float] | None:
        """The worst wind and visibility of the windows over these areas at `t`."""
        out: dict[str, float] = {}
        for w in self.weather:
            if w.applies(t, area_codes):
                if w.wind_kmh is not None:
                    out["wind_kmh"] = max(out.get("wind_kmh", 0.0), w.wind_kmh)
                if w.visibility_km is not None:
                    out["visibility_km"] = min(out.get("visibility_km", 1e9), w.visibility_km)
        return out or None

    def scaled(self, factor: float) -> Scenario:
        """The same scenario with every generator's rate multiplied (bench and drills)."""
        return replace(self, generators=tuple(replace(g, rate_per_hour=g.rate_per_hour * factor)
                                              for g in self.generators))

    def expected_incidents(self) -> float:
        return len(self.incidents) + sum(
            g.rate_per_hour * (min(g.end_s, self.duration_s) - g.start_s) / 3600
            for g in self.generators)


# ----------------------------------------------------------------------------- reading


def builtin_names() -> list[str]:
    return sorted(p.name[:-5] for p in pkg.files("simulations.builtin").iterdir()
                  if p.name.endswith(".yaml"))


def builtin_text(name: str) -> str:
    if name not in builtin_names():
        raise ScenarioError(None, "scenario", f"no built-in scenario {name!r}; one of: "
                            + ", ".join(builtin_names()))
    return pkg.files("simulations.builtin").joinpath(f"{name}.yaml").read_text("utf-8")


def load(name_or_text: str, categories: tuple[str, ...], vocab: Vocabulary | None = None,
         *, seed: int | None = None) -> Scenario:
    """A built-in by name, or a YAML document; `seed` overrides the file's."""
    is_name = NAME_RE.match(name_or_text.strip()) is not None and "\n" not in name_or_text
    doc = builtin_text(name_or_text.strip()) if is_name else name_or_text
    sc = parse(doc, categories, vocab or Vocabulary.default())
    return replace(sc, seed=seed) if seed is not None else sc


def parse(doc: str, categories: tuple[str, ...], vocab: Vocabulary) -> Scenario:
    if len(doc) > MAX_CHARACTERS:
        raise ScenarioError(None, "scenario", f"at most {MAX_CHARACTERS:,} characters")
    root = compose(doc)
    if root is None:
        raise ScenarioError(1, "scenario", "is empty")
    top = mapping(root, "", _TOP, required=("name", "area", "start", "duration"))
    name = text(top["name"], "name", maximum=40)
    if not NAME_RE.match(name):
        raise fail(top["name"], "name", "lower-case letters, digits and _ (at most 40)")
    area = _area(top["area"], "area")
    start_raw = scalar(top["start"], "start")
    try:
        parse_time(start_raw if isinstance(start_raw, str | datetime) else None, "start")
    except ValidationError:
        raise fail(top["start"], "start", "must be a time with its zone, such as "
                   "2026-09-14T18:00:00+08:00") from None
    # Kept in its own zone: a diurnal profile follows the local clock, not UTC.
    start = (start_raw if isinstance(start_raw, datetime)
             else datetime.fromisoformat(start_raw.strip()))
    total = duration(top["duration"], "duration", lo=60, hi=7 * 86400)
    seed = integer(top["seed"], "seed", lo=0, hi=2**32 - 1) if "seed" in top else 0

    def offset(node: Node, where: str) -> float:  # a time inside the run
        return duration(node, where, hi=total)

    sc = Scenario(
        name=name,
        title=text(top["title"], "title") if "title" in top else name.replace("_", " "),
        description=text(top["description"], "description", maximum=4000)
        if "description" in top else "",
        area=area, start=start, duration_s=total, seed=seed,
        decision_delay_s=duration(top["decision_delay"], "decision_delay", hi=3600)
        if "decision_delay" in top else 45.0,
        positions_every_s=duration(top["positions_every"], "positions_every", lo=5, hi=3600)
        if "positions_every" in top else 60.0,
        on_scene=_on_scene(top.get("on_scene"), categories),
        text=doc,
    )
    weather = tuple(_weather(n, f"weather[{i}]", offset)
                    for i, n in enumerate(_seq(top, "weather")))
    incidents = tuple(_incident(n, f"incidents[{i}]", offset, categories)
                      for i, n in enumerate(_seq(top, "incidents")))
    generators = tuple(_generator(n, f"generators[{i}]", offset, categories, area, total)
                       for i, n in enumerate(_seq(top, "generators")))
    changes = tuple(_change(n, f"resources[{i}]", offset, vocab)
                    for i, n in enumerate(_seq(top, "resources")))
    return replace(sc, weather=weather, incidents=incidents, generators=generators,
                   resources=changes)


def _seq(top: dict[str, Node], key: str) -> list[Node]:
    return sequence(top[key], key) if key in top else []


def _area(node: Node, where: str) -> str:
    v = scalar(node, where)
    v = str(v) if isinstance(v, int) else v
    if not isinstance(v, str) or not AREA_RE.match(v):
        raise fail(node, where, "must be an area code such as \"3303\" or \"330305M\"")
    return v


def _severity(node: Node, where: str) -> str:
    return choice(node, where, SEVERITIES)


def _on_scene(node: Node | None, categories: tuple[str, ...]
              ) -> dict[str, tuple[float, float, float]]:
    if node is None:
        return {}
    out = {}
    for key, v in mapping(node, "on_scene", (*categories, "default")).items():
        where = f"on_scene.{key}"
        items = sequence(v, where)
        if len(items) != 3:
            raise fail(v, where, "must be [least, most likely, most] minutes")
        lo, mode, hi = (number(x, where, lo=0, hi=7 * 1440) for x in items)
        if not lo <= mode <= hi or hi == 0:
            raise fail(v, where, "needs least <= most likely <= most, and most > 0")
        out[key] = (lo, mode, hi)
    return out


def _weather(node: Node, where: str, offset: Any) -> Weather:
    m = mapping(node, where, {"from", "to", "wind_kmh", "visibility_km", "area"},
                required=("from", "to"))
    start, end = offset(m["from"], f"{where}.from"), offset(m["to"], f"{where}.to")
    if end <= start:
        raise fail(m["to"], f"{where}.to", "must be after from")
    if "wind_kmh" not in m and "visibility_km" not in m:
        raise fail(node, where, "needs wind_kmh or visibility_km")
    return Weather(start, end,
                   number(m["wind_kmh"], f"{where}.wind_kmh", lo=0, hi=400)
                   if "wind_kmh" in m else None,
                   number(m["visibility_km"], f"{where}.visibility_km", lo=0, hi=100)
                   if "visibility_km" in m else None,
                   _area(m["area"], f"{where}.area") if "area" in m else None)


def _incident(node: Node, where: str, offset: Any, categories: tuple[str, ...]
              ) -> ScriptedIncident:
    m = mapping(node, where, {"at", "category", "severity", "lat", "lon", "area", "title",
                              "persons_at_risk"}, required=("at", "category"))
    has_point = "lat" in m or "lon" in m
    if has_point and not ("lat" in m and "lon" in m):
        raise fail(node, where, "needs both lat and lon")
    if not has_point and "area" not in m:
        raise fail(node, where, "needs lat and lon, or an area to place it in")
    return ScriptedIncident(
        at_s=offset(m["at"], f"{where}.at"),
        category=choice(m["category"], f"{where}.category", categories),
        severity=_severity(m["severity"], f"{where}.severity") if "severity" in m else "IV",
        lat=number(m["lat"], f"{where}.lat", lo=-90, hi=90) if has_point else None,
        lon=number(m["lon"], f"{where}.lon", lo=-180, hi=180) if has_point else None,
        area=_area(m["area"], f"{where}.area") if "area" in m else None,
        title=text(m["title"], f"{where}.title") if "title" in m else None,
        persons_at_risk=integer(m["persons_at_risk"], f"{where}.persons_at_risk", lo=0,
                                hi=1_000_000) if "persons_at_risk" in m else 0)


def _generator(node: Node, where: str, offset: Any, categories: tuple[str, ...], area: str,
               total: float) -> Generator:
    m = mapping(node, where, {"category", "area", "rate_per_hour", "severity", "profile", "from",
                              "to", "persons_at_risk", "box"},
                required=("category", "rate_per_hour"))
    start = offset(m["from"], f"{where}.from") if "from" in m else 0.0
    end = offset(m["to"], f"{where}.to") if "to" in m else total
    if end <= start:
        raise fail(m.get("to", node), f"{where}.to", "must be after from")
    mix = DEFAULT_SEVERITY_MIX
    if "severity" in m:
        sm = mapping(m["severity"], f"{where}.severity", SEVERITIES)
        mix = {k: number(v, f"{where}.severity.{k}", lo=0, hi=1e6) for k, v in sm.items()}
        if sum(mix.values()) <= 0:
            raise fail(m["severity"], f"{where}.severity", "weights must not all be 0")
    persons = (0, 0)
    if "persons_at_risk" in m:
        items = sequence(m["persons_at_risk"], f"{where}.persons_at_risk")
        if len(items) != 2:
            raise fail(m["persons_at_risk"], f"{where}.persons_at_risk", "must be [least, most]")
        lo, hi = (integer(x, f"{where}.persons_at_risk", lo=0, hi=100_000) for x in items)
        if hi < lo:
            raise fail(m["persons_at_risk"], f"{where}.persons_at_risk", "needs least <= most")
        persons = (lo, hi)
    box = None
    if "box" in m:
        items = sequence(m["box"], f"{where}.box")
        if len(items) != 4:
            raise fail(m["box"], f"{where}.box", "must be [lat_min, lon_min, lat_max, lon_max]")
        la0, lo0, la1, lo1 = (number(x, f"{where}.box", lo=-180, hi=180) for x in items)
        if not (-90 <= la0 < la1 <= 90 and lo0 < lo1):
            raise fail(m["box"], f"{where}.box", "needs lat_min < lat_max and lon_min < lon_max")
        box = (la0, lo0, la1, lo1)
    total_mix = sum(mix.values())
    return Generator(
        category=choice(m["category"], f"{where}.category", categories),
        area=_area(m["area"], f"{where}.area") if "area" in m else area,
        rate_per_hour=number(m["rate_per_hour"], f"{where}.rate_per_hour", lo=0, hi=10_000),
        severity=tuple((k, v / total_mix) for k, v in sorted(mix.items())),
        profile=_profile(m.get("profile"), f"{where}.profile", offset),
        start_s=start, end_s=end, persons_at_risk=persons, box=box)


def _profile(node: Node | None, where: str, offset: Any) -> Profile:
    if node is None:
        return Profile("flat")
    if not isinstance(node, MappingNode):
        v = scalar(node, where)
        if v == "flat":
            return Profile("flat")
        if v == "diurnal":
            return Profile("hourly", DIURNAL)
        items = sequence(node, where)
        if len(items) != 24:
            raise fail(node, where, "flat, diurnal, 24 hourly weights or {peak_at, spread}")
        weights = tuple(number(x, where, lo=0, hi=1e6) for x in items)
        if not any(weights):
            raise fail(node, where, "weights must not all be 0")
        return Profile("hourly", weights)
    m = mapping(node, where, {"peak_at", "spread"}, required=("peak_at",))
    return Profile("peak", peak_at_s=offset(m["peak_at"], f"{where}.peak_at"),
                   spread_s=duration(m["spread"], f"{where}.spread", lo=60, hi=7 * 86400)
                   if "spread" in m else 3600.0)


def _change(node: Node, where: str, offset: Any, vocab: Vocabulary) -> ResourceChange:
    m = mapping(node, where, {"at", "withdraw", "restore", "add"}, required=("at",))
    actions = [a for a in ("withdraw", "restore", "add") if a in m]
    if len(actions) != 1:
        raise fail(node, where, "needs exactly one of withdraw, restore, add")
    action = actions[0]
    at = offset(m["at"], f"{where}.at")
    here = f"{where}.{action}"
    if action == "add":
        units = []
        for i, n in enumerate(sequence(m["add"], here)):
            data = plain(n, f"{here}[{i}]")
            if not isinstance(data, dict):
                raise fail(n, f"{here}[{i}]", "must be a resource (id, name, kind, ...)")
            try:
                resource_from_dict(data, vocab)
            except ValidationError as e:
                raise fail(n, f"{here}[{i}].{e.field}", e.message) from None
            units.append(data)
        return ResourceChange(at, action, units=tuple(units))
    return ResourceChange(at, action, selector=_selector(m[action], here, vocab))


def _selector(node: Node, where: str, vocab: Vocabulary) -> Selector:
    if isinstance(node, MappingNode):
        m = mapping(node, where, {"kind", "area", "capability"})
        if not m:
            raise fail(node, where, "name a kind, an area or a capability")
        return Selector(kind=choice(m["kind"], f"{where}.kind", vocab.kinds)
                        if "kind" in m else None,
                        area=_area(m["area"], f"{where}.area") if "area" in m else None,
                        capability=text(m["capability"], f"{where}.capability")
                        if "capability" in m else None)
    ids = tuple(text(n, where, maximum=64) for n in sequence(node, where))
    if not ids:
        raise fail(node, where, "list at least one unit id")
    return Selector(ids=ids)


__all__ = ["Scenario", "ScenarioError", "load", "parse", "builtin_names", "SEA_CATEGORIES"]
