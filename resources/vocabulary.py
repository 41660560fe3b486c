"""The controlled vocabulary of the registry: resource kinds, capabilities and statuses.

Kinds and capabilities are data, not code: a deployment extends them by configuration
(`Vocabulary.extended` / `Vocabulary.from_config`). Each kind has a travel mode (air, sea,
land) because the dispatcher's ETA model and the range rule depend on it. Capabilities are
limited to 64 so that a resource's capability set fits one uint64 bitmask in the spatial index.

Default capabilities (what a requirement of a response plan can ask for):

    hoist              winch a person up into a hovering helicopter
    medevac            carry a patient with medical care on board
    water_rescue       swift-water / surface rescue of persons in the water
    diving             underwater search and recovery
    heavy_rescue       collapsed structures: cutting, lifting, shoring
    search_dog         trained dogs for buried or missing persons
    structural_expert  engineers assessing damaged buildings, bridges, dams
    firefighting       ground firefighting
    hazmat             hazardous materials detection and containment
    medical            first aid / field medical team (no transport)
    search             systematic area search (land or sea)
    survey             aerial or remote survey and imaging (drones, aircraft)
    towing             towing disabled vessels
    evacuation         moving many people out of a threatened area
    flood_rescue       boats and teams for inundated streets and fields
    rope_rescue        high-angle and cliff rescue
    communications     field communications relay (radio, satellite)
    firefighting_air   aerial water or retardant drops
    night_ops          equipped and certified to operate at night
    transport          carrying supplies or personnel
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from geo.travel import MODE_OF_KIND
from resources.errors import ValidationError

MODES = ("air", "sea", "land")

# Kind -> travel mode: geo's table (the ETA models are defined per mode there).
DEFAULT_KINDS: dict[str, str] = dict(MODE_OF_KIND)

CAPABILITY_DESCRIPTIONS: dict[str, str] = {
    "hoist": "winch a person up into a hovering helicopter",
    "medevac": "carry a patient with medical care on board",
    "water_rescue": "swift-water / surface rescue of persons in the water",
    "diving": "underwater search and recovery",
    "heavy_rescue": "collapsed structures: cutting, lifting, shoring",
    "search_dog": "trained dogs for buried or missing persons",
    "structural_expert": "engineers assessing damaged buildings, bridges, dams",
    "firefighting": "ground firefighting",
    "hazmat": "hazardous materials detection and containment",
    "medical": "first aid / field medical team (no transport)",
    "search": "systematic area search (land or sea)",
    "survey": "aerial or remote survey and imaging",
    "towing": "towing disabled vessels",
    "evacuation": "moving many people out of a threatened area",
    "flood_rescue": "boats and teams for inundated streets and fields",
    "rope_rescue": "high-angle and cliff rescue",
    "communications": "field communications relay (radio, satellite)",
    "firefighting_air": "aerial water or retardant drops",
    "night_ops": "equipped and certified to operate at night",
    "transport": "carrying supplies or personnel",
}

STATUSES: tuple[str, ...] = (
    "available", "assigned", "en_route", "on_scene", "returning", "out_of_service",
)

MAX_CAPABILITIES = 64
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def _check_name(what: str, name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValidationError(what, f"{name!r} is not a valid name (lowercase, digits, _)")
    return name


@dataclass(frozen=True)
class Vocabulary:
    """Kinds (with their travel mode), capabilities and statuses a registry accepts."""

    kind_modes: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_KINDS), hash=False)
    capabilities: tuple[str, ...] = tuple(CAPABILITY_DESCRIPTIONS)
    statuses: tuple[str, ...] = STATUSES

    def __post_init__(self) -> None:
        for k, mode in self.kind_modes.items():
            _check_name("kinds", k)
            if mode not in MODES:
                raise ValidationError("kinds", f"mode of {k!r} must be one of {MODES}")
        for c in self.capabilities:
            _check_name("capabilities", c)
        if len(set(self.capabilities)) != len(self.capabilities):
            raise ValidationError("capabilities", "duplicate capability")
        if len(self.capabilities) > MAX_CAPABILITIES:
            raise ValidationError("capabilities", f"at most {MAX_CAPABILITIES} capabilities")
        object.__setattr__(self, "kind_modes", dict(self.kind_modes))
        object.__setattr__(self, "_kind_code", {k: i for i, k in enumerate(self.kind_modes)})
        object.__setattr__(self, "_cap_bit", {c: i for i, c in enumerate(self.capabilities)})
        object.__setattr__(self, "_status_code", {s: i for i, s in enumerate(self.statuses)})

    @classmethod
    def default(cls) -> Vocabulary:
        return cls()

    @classmethod
    def from_config(cls, config: Mapping[str, object] | None) -> Vocabulary:
        """The default vocabulary extended by a config mapping (e.g. parsed YAML):
        ``{"kinds": {"hovercraft": "sea"}, "capabilities": ["ice_rescue"]}``."""
        if not config:
            return cls.default()
        unknown = set(config) - {"kinds", "capabilities"}
        if unknown:
            raise ValidationError(sorted(unknown)[0], "unknown vocabulary setting")
        return cls.default().extended(
            kinds=config.get("kinds") or {},  # type: ignore[arg-type]
            capabilities=config.get("capabilities") or (),  # type: ignore[arg-type]
        )

    def extended(
        self,
        *,
        kinds: Mapping[str, str] | Iterable[str] = (),
        capabilities: Iterable[str] = (),
    ) -> Vocabulary:
        """A new vocabulary with more kinds and capabilities (existing codes keep their place).

        `kinds` maps name -> travel mode ("air", "sea", "land"); a plain list of names means
        land kinds.
        """
        modes = dict(self.kind_modes)
        items = kinds.items() if isinstance(kinds, Mapping) else ((k, "land") for k in kinds)
        for k, mode in items:
            modes.setdefault(k, mode)
        caps = list(self.capabilities)
        for c in capabilities:
            if c not in caps:
                caps.append(c)
        return replace(self, kind_modes=modes, capabilities=tuple(caps))

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self.kind_modes)

    @property
    def air_kinds(self) -> frozenset[str]:
        return frozenset(k for k, m in self.kind_modes.items() if m == "air")

    def mode_of(self, kind: str) -> str:
        return self.kind_modes[kind]

    def kind_code(self, kind: str) -> int:
        return self._kind_code[kind]  # type: ignore[attr-defined]

    def status_code(self, status: str) -> int:
        return self._status_code[status]  # type: ignore[attr-defined]

    def capability_bit(self, capability: str) -> int:
        return self._cap_bit[capability]  # type: ignore[attr-defined]

    def capability_mask(self, capabilities: Iterable[str]) -> int:
        """Bitmask of a capability set (unknown names raise KeyError)."""
        mask = 0
        for c in capabilities:
            mask |= 1 << self._cap_bit[c]  # type: ignore[attr-defined]
        return mask
