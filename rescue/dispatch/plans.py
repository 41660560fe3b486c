"""Response plans: incident category x severity -> requirements (capability, count, kinds, modes).

Plans are data (rescue/plans/response_plans.yaml), validated on load against the registry's
vocabulary. Errors name the file and the line (from PyYAML's composed node marks) so that the
person editing the file finds the problem at once, e.g.
``response_plans.yaml line 42: unknown capability 'hoistt'``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

SEVERITIES = ("I", "II", "III", "IV")
MODES = ("air", "sea", "land")
DEFAULT_PATH = Path(__file__).resolve().parents[1] / "plans" / "response_plans.yaml"


class PlanError(ValueError):
    """An invalid plan file; the message starts with ``<file> line <n>:``."""


@dataclass(frozen=True)
class Requirement:
    """One line of a response plan at a given severity."""

    capability: str
    count: int
    kinds: tuple[str, ...] | None = None  # preferred kinds (soft, plan only)
    modes: tuple[str, ...] | None = None  # allowed travel modes (hard filter)

    def to_dict(self) -> dict[str, Any]:
        return {"capability": self.capability, "count": self.count,
                "kinds": list(self.kinds) if self.kinds else None,
                "modes": list(self.modes) if self.modes else None}


@dataclass(frozen=True)
class ResponsePlans:
    """All categories; `requirements(category, severity)` is what the dispatcher asks."""

    plans: Mapping[str, Mapping[str, tuple[Requirement, ...]]]
    titles: Mapping[str, str]

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(sorted(self.plans))

    def requirements(self, category: str, severity: str) -> tuple[Requirement, ...]:
        """Requirements with a count > 0; KeyError for an unknown category or severity."""
        return self.plans[category][severity]


# ------------------------------------------------------------------------------------ loading

def load_plans(path: str | Path | None = None, vocabulary: Any = None) -> ResponsePlans:
    """Load and validate a plan file (default: the packaged one).

    `vocabulary` needs `capabilities` and `kinds` collections; default: the registry's
    `resources.model.Vocabulary`.
    """
    path = Path(path) if path is not None else DEFAULT_PATH
    text = path.read_text(encoding="utf-8")
    return parse_plans(text, vocabulary, name=path.name)


def compose_yaml(text: str, name: str) -> Any:
    """The YAML node tree of `text` (lines kept for error messages); a PlanError naming the
    file and line when it is not YAML."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PlanError(f"{name}{line}: not valid YAML: {problem}") from exc


def parse_plans(text: str, vocabulary: Any = None, *, name: str = "response_plans.yaml") -> ResponsePlans:
    """Validate plan YAML `text`; `name` prefixes error messages."""
    vocab = vocabulary if vocabulary is not None else default_vocabulary()
    root = compose_yaml(text, name)
    return _Parser(name, frozenset(vocab.capabilities), frozenset(vocab.kinds)).root(root)


def default_vocabulary() -> Any:
    """The registry's default vocabulary (imported lazily: no work at import)."""
    from resources.model import Vocabulary

    default = getattr(Vocabulary, "default", None)
    return default() if callable(default) else Vocabulary()


class _Parser:
    def __init__(self, name: str, capabilities: frozenset[str], kinds: frozenset[str]) -> None:
        self.name = name
        self.capabilities = capabilities
        self.kinds = kinds

    def fail(self, node: Node | None, message: str) -> PlanError:
        line = f" line {node.start_mark.line + 1}" if node is not None else ""
        return PlanError(f"{self.name}{line}: {message}")

    # -- node helpers
    def mapping(self, node: Node, what: str, allowed: Iterable[str]) -> dict[str, tuple[Node, Node]]:
        if not isinstance(node, MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        allowed = tuple(allowed)
        out: dict[str, tuple[Node, Node]] = {}
        for key, value in node.value:
            k = self.string(key, f"a key of {what}")
            if allowed and k not in allowed:
                raise self.fail(key, f"unknown field '{k}' in {what} (expected one of {', '.join(allowed)})")
            if k in out:
                raise self.fail(key, f"duplicate key '{k}' in {what}")
            out[k] = (key, value)
        return out

    def string(self, node: Node, what: str) -> str:
        if not isinstance(node, ScalarNode) or node.tag != "tag:yaml.org,2002:str" or not node.value:
            raise self.fail(node, f"{what} must be a non-empty string")
        return node.value

    def number(self, node: Node, what: str, *, integer: bool) -> float:
        tags = ("tag:yaml.org,2002:int",) if integer else ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
        if not isinstance(node, ScalarNode) or node.tag not in tags:
            raise self.fail(node, f"{what} must be {'an integer' if integer else 'a number'}, got {_show(node)}")
        value = yaml.safe_load(node.value)
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
            raise self.fail(node, f"{what} must be a finite number >= 0, got {node.value}")
        return value

    def names(self, node: Node, what: str, allowed: frozenset[str] | tuple[str, ...]) -> tuple[str, ...]:
        if not isinstance(node, SequenceNode) or not node.value:
            raise self.fail(node, f"{what} must be a non-empty list")
        out: list[str] = []
        for item in node.value:
            v = self.string(item, f"an item of {what}")
            if v not in allowed:
                raise self.fail(item, f"unknown {what[:-1] if what.endswith('s') else what} '{v}'")
            if v in out:
                raise self.fail(item, f"'{v}' listed twice in {what}")
            out.append(v)
        return tuple(out)

    # -- structure
    def scale(self, node: Node) -> dict[str, float]:
        fields = self.mapping(node, "scale", SEVERITIES)
        missing = [s for s in SEVERITIES if s not in fields]
        if missing:
            raise self.fail(node, f"scale lacks severity {', '.join(missing)}")
        return {s: self.number(fields[s][1], f"scale {s}", integer=False) for s in SEVERITIES}

    def root(self, node: Node | None) -> ResponsePlans:
        if node is None:
            raise self.fail(None, "the file is empty")
        top = self.mapping(node, "the plan file", ("scale", "categories"))
        if "categories" not in top:
            raise self.fail(node, "missing 'categories'")
        scale = self.scale(top["scale"][1]) if "scale" in top else {s: 1.0 for s in SEVERITIES}
        cats = self.mapping(top["categories"][1], "categories", ())
        if not cats:
            raise self.fail(top["categories"][1], "no categories")
        plans: dict[str, dict[str, tuple[Requirement, ...]]] = {}
        titles: dict[str, str] = {}
        for cat, (key, body) in cats.items():
            fields = self.mapping(body, f"category '{cat}'", ("title", "scale", "requirements"))
            titles[cat] = self.string(fields["title"][1], "title") if "title" in fields else cat
            cat_scale = self.scale(fields["scale"][1]) if "scale" in fields else scale
            if "requirements" not in fields:
                raise self.fail(key, f"category '{cat}' has no requirements")
            plans[cat] = self.requirements(fields["requirements"][1], cat, cat_scale)
        return ResponsePlans(plans=plans, titles=titles)

    def requirements(self, node: Node, cat: str, scale: dict[str, float]) -> dict[str, tuple[Requirement, ...]]:
        if not isinstance(node, SequenceNode) or not node.value:
            raise self.fail(node, f"requirements of '{cat}' must be a non-empty list")
        per_sev: dict[str, list[Requirement]] = {s: [] for s in SEVERITIES}
        seen: set[str] = set()
        for item in node.value:
            f = self.mapping(item, "a requirement", ("capability", "count", "kinds", "modes"))
            for needed in ("capability", "count"):
                if needed not in f:
                    raise self.fail(item, f"requirement lacks '{needed}'")
            cap_node = f["capability"][1]
            cap = self.string(cap_node, "capability")
            if cap not in self.capabilities:
                raise self.fail(cap_node, f"unknown capability '{cap}'")
            if cap in seen:
                raise self.fail(cap_node, f"capability '{cap}' appears twice in '{cat}'")
            seen.add(cap)
            kinds = self.names(f["kinds"][1], "kinds", self.kinds) if "kinds" in f else None
            modes = self.names(f["modes"][1], "modes", MODES) if "modes" in f else None
            counts = self.counts(f["count"][1], scale)
            for sev, n in counts.items():
                if n > 0:
                    per_sev[sev].append(Requirement(cap, n, kinds, modes))
        for sev in SEVERITIES:
            if not per_sev[sev]:
                raise self.fail(node, f"category '{cat}' requires nothing at severity {sev}")
        return {s: tuple(v) for s, v in per_sev.items()}

    def counts(self, node: Node, scale: dict[str, float]) -> dict[str, int]:
        if isinstance(node, SequenceNode):
            if len(node.value) != len(SEVERITIES):
                raise self.fail(node, f"count list must have {len(SEVERITIES)} items (I, II, III, IV)")
            values = [int(self.number(v, "count", integer=True)) for v in node.value]
            if not any(values):
                raise self.fail(node, "count is 0 at every severity")
            return dict(zip(SEVERITIES, values, strict=True))
        base = int(self.number(node, "count", integer=True))
        if base < 1:
            raise self.fail(node, "count must be >= 1")
        return {s: max(1, math.ceil(base * scale[s] - 1e-9)) for s in SEVERITIES}


def _show(node: Node) -> str:
    if isinstance(node, ScalarNode):
        return repr(node.value)
    return "a list" if isinstance(node, SequenceNode) else "a mapping"
