"""Dispatch policy: the tunable numbers of the ETA model and of the plan, in one frozen object.

Why one object: the dispatcher, the brute-force oracle and the benchmarks must evaluate the very
same model, so every knob lives here and is passed explicitly (no module-level settings).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class WeatherLimits:
    """Flying limits of one aircraft kind: grounded above `max_wind_kmh` or below `min_visibility_km`."""

    max_wind_kmh: float
    min_visibility_km: float


def _default_limits() -> Mapping[str, WeatherLimits]:
    # Conservative public-service figures: rescue helicopters (hoist work) ~ 35 kn wind and
    # 1.5 km visibility; fixed wing ~ 45 kn / 3 km (SAR search needs sight); small drones
    # ~ 10 m/s wind and 1 km visibility (visual line of sight).
    return MappingProxyType({
        "helicopter": WeatherLimits(max_wind_kmh=65.0, min_visibility_km=1.5),
        "fixed_wing": WeatherLimits(max_wind_kmh=83.0, min_visibility_km=3.0),
        "drone": WeatherLimits(max_wind_kmh=36.0, min_visibility_km=1.0),
        # Boats: volunteer fishing boats stay in port from a gale (Beaufort 8, ~62 km/h); the
        # professional rescue vessels sail up to a storm (Beaufort 10, ~89 km/h).
        "volunteer_vessel": WeatherLimits(max_wind_kmh=62.0, min_visibility_km=0.5),
        "vessel": WeatherLimits(max_wind_kmh=89.0, min_visibility_km=0.2),
    })


@dataclass(frozen=True)
class DispatchPolicy:
    """Knobs of the ETA model (§5) and of the recommended plan.

    - `detour`: land route length / great-circle distance where no road network is loaded;
      `area_detour` overrides it per area code (the most specific area of the incident's chain
      that has an entry wins). Every factor must be >= 1: the ranking's lower bound relies on it.
    - `max_position_age_s`: older positions fall back to the home base (the index applies it).
    - `local_margin_s`: the plan prefers own-area resources unless another is faster by more
      than this. `kind_preference_s`: extra cost of a kind outside a requirement's preferred
      kinds, in the plan only (the candidate lists stay ranked by ETA alone).
    - `stale_fallback`: when False a resource with a stale position is infeasible
      (`positions_stale`) instead of being placed at its home base.
    - `sea_limit_km`: bound given to the sea shortest-path search; vessels farther than this
      by water are `unreachable` under the model (None = search the whole graph).
    """

    detour: float = 1.35
    area_detour: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    weather_limits: Mapping[str, WeatherLimits] = field(default_factory=_default_limits)
    max_position_age_s: float = 1800.0
    stale_fallback: bool = True
    local_margin_s: float = 600.0
    kind_preference_s: float = 300.0
    sea_limit_km: float | None = None

    def __post_init__(self) -> None:
        if self.detour < 1.0 or any(v < 1.0 for v in self.area_detour.values()):
            raise ValueError("detour factors must be >= 1 (the ranking's lower bound needs it)")
        if self.local_margin_s < 0 or self.kind_preference_s < 0:
            raise ValueError("plan margins must be >= 0")
        if self.max_position_age_s <= 0:
            raise ValueError("max_position_age_s must be > 0")

    def grounded_kinds(self, wind_kmh: float | None, visibility_km: float | None
                       ) -> frozenset[str]:
        """The kinds this weather keeps on the ground or in port."""
        return frozenset(
            kind for kind, lim in self.weather_limits.items()
            if (wind_kmh is not None and wind_kmh > lim.max_wind_kmh)
            or (visibility_km is not None and visibility_km < lim.min_visibility_km))

    def detour_for(self, area_codes: tuple[str, ...]) -> float:
        """The detour factor for an incident whose area chain is `area_codes` (root first)."""
        for code in reversed(area_codes):
            factor = self.area_detour.get(code)
            if factor is not None:
                return float(factor)
        return float(self.detour)
