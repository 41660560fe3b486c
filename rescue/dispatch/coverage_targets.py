"""Coverage targets as data (rescue/plans/coverage.yaml by default): what "covered" means.

Why a file: "a hoist helicopter within 30 minutes of any point of the sea" is an operational
standard a centre sets and revises, not code. Validated at start like the response plans:
every error names the file, the line and the field (``coverage.yaml line 12: targets[1].modes:
unknown mode 'rail'``); unknown capabilities, modes, areas and post layers are refused.

A target: a capability, the travel modes that may serve it, a maximum ETA and where it applies:
`over: land` or `over: sea` (every cell of the region on that surface; `coast_km` keeps sea
cells within that distance of the coast), or `points:` (named places, e.g. county seats);
`area` narrows either to one area code and what lies below it. `horizon_min` (default twice the
maximum) is how far ETAs are worked out: beyond it a cell reports no ETA at all.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import Node, ScalarNode, SequenceNode

from rescue.dispatch.plans import MODES, _Parser, compose_yaml, default_vocabulary

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "plans" / "coverage.yaml"
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
AREA_RE = re.compile(r"^\d{2}(\d{2}(\d{2}(\d{3})?)?)?M?$")
# Cell properties of GET /coverage that sit beside the per-target entries.
RESERVED_NAMES = frozenset({"cell", "surface", "area", "lat", "lon"})
MIN_CELL_KM, MAX_CELL_KM = 0.5, 50.0
MAX_ETA_MIN = 24 * 60.0


@dataclass(frozen=True)
class Place:
    """A named point a target must reach (a county seat, a pier)."""

    name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class CoverageTarget:
    """One standard: `capability` by one of `modes` within `max_eta_s` wherever it applies."""

    name: str
    capability: str
    modes: tuple[str, ...]
    max_eta_s: float
    horizon_s: float
    over: str | None = None  # "land" | "sea"; None for points
    coast_km: float | None = None
    points: tuple[Place, ...] = ()
    area: str | None = None
    title: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title or self.name,
                "capability": self.capability, "modes": list(self.modes),
                "max_eta_s": int(self.max_eta_s), "horizon_s": int(self.horizon_s),
                "over": self.over, "coast_km": self.coast_km, "area": self.area,
                "points": [{"name": p.name, "lat": p.lat, "lon": p.lon} for p in self.points]}


@dataclass(frozen=True)
class CoverageConfig:
    """The region's grid (`areas`, `cell_km`), the targets, and the map layers whose places
    may serve as move-up posts per travel mode."""

    areas: tuple[str, ...]
    cell_km: float
    targets: tuple[CoverageTarget, ...]
    posts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.targets)

    def target(self, name: str) -> CoverageTarget | None:
        return next((t for t in self.targets if t.name == name), None)


def load_coverage(path: str | Path | None = None, vocabulary: Any = None, *,
                  known_areas: Collection[str] | None = None,
                  layers: Collection[str] | None = None,
                  inside: Callable[[tuple[str, ...], float, float], bool] | None = None
                  ) -> CoverageConfig:
    """Read and validate a coverage file (default: the packaged one). `known_areas`, `layers`
    (names) and, with `inside(grid areas, lat, lon)`, that every point lies in the grid's
    areas are checked when given."""
    path = Path(path) if path is not None else DEFAULT_PATH
    return parse_coverage(path.read_text(encoding="utf-8"), vocabulary, name=path.name,
                          known_areas=known_areas, layers=layers, inside=inside)


def parse_coverage(text: str, vocabulary: Any = None, *, name: str = "coverage.yaml",
                   known_areas: Collection[str] | None = None,
                   layers: Collection[str] | None = None,
                   inside: Callable[[tuple[str, ...], float, float], bool] | None = None
                   ) -> CoverageConfig:
    vocab = vocabulary if vocabulary is not None else default_vocabulary()
    root = compose_yaml(text, name)
    p = _TargetParser(name, frozenset(vocab.capabilities), frozenset(vocab.kinds))
    p.inside = inside
    return p.config(root, known_areas, layers)


class _TargetParser(_Parser):
    """The plans' node helpers (line-numbered errors), plus numbers with bounds and places."""

    inside: Callable[[tuple[str, ...], float, float], bool] | None = None
    areas: tuple[str, ...] = ()

    def bounded(self, node: Node, what: str, lo: float, hi: float, *,
                open_lo: bool = False) -> float:
        v = float(self.number(node, what, integer=False)) if not _negative(node) else -1.0
        if not (lo < v <= hi if open_lo else lo <= v <= hi):
            raise self.fail(node, f"{what} must be a number {'>' if open_lo else '>='} {lo:g} "
                                  f"and <= {hi:g}, got {_scalar(node)}")
        return v

    def area(self, node: Node, what: str, known: Collection[str] | None) -> str:
        code = node.value if isinstance(node, ScalarNode) else None
        if not isinstance(code, str) or not AREA_RE.match(code) or (
                known is not None and code not in known):
            raise self.fail(node, f"{what}: unknown area code {_scalar(node)}")
        return code

    def config(self, root: Node | None, known: Collection[str] | None,
               layers: Collection[str] | None) -> CoverageConfig:
        if root is None:
            raise self.fail(None, "the file is empty")
        top = self.mapping(root, "the coverage file", ("grid", "posts", "targets"))
        for needed in ("grid", "targets"):
            if needed not in top:
                raise self.fail(root, f"missing '{needed}'")
        grid = self.mapping(top["grid"][1], "grid", ("areas", "cell_km"))
        if "areas" not in grid or "cell_km" not in grid:
            raise self.fail(top["grid"][1], "grid needs 'areas' and 'cell_km'")
        areas_node = grid["areas"][1]
        if not isinstance(areas_node, SequenceNode) or not areas_node.value:
            raise self.fail(areas_node, "grid.areas must be a non-empty list of area codes")
        areas = self.areas = tuple(self.area(n, f"grid.areas[{i}]", known)
                                   for i, n in enumerate(areas_node.value))
        cell_km = self.bounded(grid["cell_km"][1], "grid.cell_km", MIN_CELL_KM, MAX_CELL_KM)
        posts: dict[str, tuple[str, ...]] = {}
        if "posts" in top:
            for mode, (_key, node) in self.mapping(top["posts"][1], "posts", MODES).items():
                names = self.names(node, f"posts.{mode}", tuple(layers) if layers is not None
                                   else _AnyName())
                posts[mode] = names
        targets_node = top["targets"][1]
        if not isinstance(targets_node, SequenceNode) or not targets_node.value:
            raise self.fail(targets_node, "targets must be a non-empty list")
        targets: list[CoverageTarget] = []
        for i, node in enumerate(targets_node.value):
            t = self.target(node, f"targets[{i}]", known)
            if any(o.name == t.name for o in targets):
                raise self.fail(node, f"targets[{i}].name: '{t.name}' is used twice")
            targets.append(t)
        return CoverageConfig(areas, cell_km, tuple(targets), posts)

    def target(self, node: Node, what: str, known: Collection[str] | None) -> CoverageTarget:
        f = self.mapping(node, what, ("name", "title", "capability", "modes", "max_eta_min",
                                      "horizon_min", "over", "coast_km", "points", "area"))
        for needed in ("name", "capability", "modes", "max_eta_min"):
            if needed not in f:
                raise self.fail(node, f"{what}: missing '{needed}'")
        name = self.string(f["name"][1], f"{what}.name")
        if not NAME_RE.match(name) or name in RESERVED_NAMES:
            raise self.fail(f["name"][1], f"{what}.name: '{name}' must be lower-case letters, "
                            "digits and _ (up to 48), not one of " + ", ".join(
                                sorted(RESERVED_NAMES)))
        cap = self.string(f["capability"][1], f"{what}.capability")
        if cap not in self.capabilities:
            raise self.fail(f["capability"][1], f"{what}.capability: unknown capability '{cap}'")
        modes = self.names(f["modes"][1], f"{what}.modes", MODES)
        max_min = self.bounded(f["max_eta_min"][1], f"{what}.max_eta_min", 0.0, MAX_ETA_MIN,
                               open_lo=True)
        horizon = (self.bounded(f["horizon_min"][1], f"{what}.horizon_min", max_min,
                                2 * MAX_ETA_MIN) if "horizon_min" in f else 2 * max_min)
        if ("over" in f) == ("points" in f):
            raise self.fail(node, f"{what}: give either 'over' (land or sea) or 'points'")
        over = None
        if "over" in f:
            over = self.string(f["over"][1], f"{what}.over")
            if over not in ("land", "sea"):
                raise self.fail(f["over"][1], f"{what}.over: must be land or sea, got '{over}'")
        coast = None
        if "coast_km" in f:
            if over != "sea":
                raise self.fail(f["coast_km"][0], f"{what}.coast_km: only with 'over: sea'")
            coast = self.bounded(f["coast_km"][1], f"{what}.coast_km", 0.0, 1000.0,
                                 open_lo=True)
        points = self.places(f["points"][1], f"{what}.points") if "points" in f else ()
        area = self.area(f["area"][1], f"{what}.area", known) if "area" in f else None
        title = self.string(f["title"][1], f"{what}.title") if "title" in f else ""
        return CoverageTarget(name, cap, modes, max_min * 60.0, horizon * 60.0, over, coast,
                              points, area, title)

    def places(self, node: Node, what: str) -> tuple[Place, ...]:
        if not isinstance(node, SequenceNode) or not node.value:
            raise self.fail(node, f"{what} must be a non-empty list")
        out: list[Place] = []
        for i, item in enumerate(node.value):
            f = self.mapping(item, f"{what}[{i}]", ("name", "lat", "lon"))
            if set(f) != {"name", "lat", "lon"}:
                raise self.fail(item, f"{what}[{i}]: needs name, lat and lon")
            lat = self.coordinate(f["lat"][1], f"{what}[{i}].lat", 90.0)
            lon = self.coordinate(f["lon"][1], f"{what}[{i}].lon", 180.0)
            if self.inside is not None and not self.inside(self.areas, lat, lon):
                raise self.fail(item, f"{what}[{i}]: ({lat}, {lon}) lies outside the grid's "
                                      f"areas ({', '.join(self.areas)})")
            out.append(Place(self.string(f["name"][1], f"{what}[{i}].name"), lat, lon))
        return tuple(out)

    def coordinate(self, node: Node, what: str, limit: float) -> float:
        try:
            v = float(yaml.safe_load(node.value)) if isinstance(node, ScalarNode) and \
                node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float") else math.nan
        except (TypeError, ValueError):
            v = math.nan
        if not math.isfinite(v) or abs(v) > limit:
            raise self.fail(node, f"{what} must be a number within ±{limit:g}, got "
                                  f"{_scalar(node)}")
        return v


class _AnyName(tuple):
    """Layer names when no list is known: any name passes `names`' membership test."""

    def __contains__(self, item: object) -> bool:
        return True


def _negative(node: Node) -> bool:
    """A negative number (the plans' `number` refuses those with a message about >= 0)."""
    return isinstance(node, ScalarNode) and node.value.strip().startswith("-") and \
        node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


def _scalar(node: Node) -> str:
    return repr(node.value) if isinstance(node, ScalarNode) else "a list or mapping"
