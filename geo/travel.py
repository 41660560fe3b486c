"""Travel-time (ETA) models per mode: pure, vectorised, numpy broadcasting.

Why so plain: the dispatcher's ranking must be exact under these models, and its pruning relies
on them being monotone in distance (a straight-line lower bound on km gives a lower bound on
ETA). Each ETA is readiness (added once) + distance / speed. Unreachable (inf km) or a unit that
cannot move (speed <= 0) gives an infinite ETA. Scalars in, float out; arrays in, array out.
"""

from __future__ import annotations

import numpy as np

MODE_OF_KIND: dict[str, str] = {
    "land_team": "land",
    "volunteer_team": "land",
    "expert_team": "land",
    "helicopter": "air",
    "fixed_wing": "air",
    "drone": "air",
    "vessel": "sea",
    "volunteer_vessel": "sea",
}

# Road distance / great-circle distance where no road network is loaded: typical circuity of
# regional road networks is 1.2-1.4; the hilly Wenzhou coast sits at the high end.
DEFAULT_DETOUR = 1.4


def _out(v):
    return float(v) if np.ndim(v) == 0 else v


def _eta(km, speed_kmh, readiness_s):
    km = np.asarray(km, dtype=float)
    speed = np.asarray(speed_kmh, dtype=float)
    ready = np.asarray(readiness_s, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        moving = np.where(speed > 0, km / np.where(speed > 0, speed, 1.0) * 3600.0, np.inf)
    moving = np.where(km == 0, 0.0, moving)  # already there: only readiness counts
    return _out(ready + moving)


def air_eta_s(km, speed_kmh, readiness_s):
    """Great-circle km / cruise speed + readiness, seconds."""
    return _eta(km, speed_kmh, readiness_s)


def air_in_range(km, range_km):
    """Out and back within range: 2 * km <= range_km. A missing range (None / nan) is unlimited."""
    rng = np.asarray(np.nan if range_km is None else range_km, dtype=float)  # None -> nan
    km = np.asarray(km, dtype=float)
    ok = np.where(np.isnan(rng), np.isfinite(km), 2.0 * km <= rng)
    return bool(ok) if ok.ndim == 0 else ok


def land_eta_s(km, speed_kmh, readiness_s, detour=DEFAULT_DETOUR):
    """Great-circle km x detour factor / speed + readiness, seconds (no road network)."""
    return _eta(np.asarray(km, dtype=float) * np.asarray(detour, dtype=float), speed_kmh,
                readiness_s)


def sea_eta_s(route_km, speed_kmh, readiness_s):
    """Sea-route km (geo.seagraph) / speed + readiness, seconds; inf where no sea route."""
    return _eta(route_km, speed_kmh, readiness_s)


def eta_s(mode: str, km, speed_kmh, readiness_s, detour=DEFAULT_DETOUR):
    """ETA for a mode name ("air", "sea", "land"); km is great-circle for air/land, route for sea."""
    if mode == "air":
        return air_eta_s(km, speed_kmh, readiness_s)
    if mode == "land":
        return land_eta_s(km, speed_kmh, readiness_s, detour)
    if mode == "sea":
        return sea_eta_s(km, speed_kmh, readiness_s)
    raise ValueError(f"unknown mode {mode!r}")


def speed_classes(speed_kmh, readiness_s) -> tuple[np.ndarray, np.ndarray]:
    """The (speed, readiness) pairs of some units that no other pair beats at every distance
    (faster *and* readier), readiness ascending: min over them of readiness + km / speed is
    the least ETA any of those units can have at km. Why not (max speed, min readiness): in a
    real registry the fastest units are rarely the readiest, and that mixed pair bounds every
    unit far below its true ETA (the dispatcher's walk then reads thousands of units more).
    Units that cannot move (speed <= 0) never arrive and bound nothing."""
    sp = np.asarray(speed_kmh, dtype=float)
    rd = np.asarray(readiness_s, dtype=float)
    ok = sp > 0
    pairs = np.unique(np.column_stack([rd[ok], -sp[ok]]), axis=0)  # readiness up, speed down
    keep, best = [], 0.0
    for r, neg in pairs.tolist():
        if -neg > best:
            keep.append((-neg, r))
            best = -neg
    out = np.array(keep, dtype=float).reshape(-1, 2)
    return out[:, 0], out[:, 1]


def least_eta_s(km: float, classes: tuple[np.ndarray, np.ndarray], factor: float = 1.0) -> float:
    """The least ETA (s) at `km` (x a detour factor) over `speed_classes`; inf when empty."""
    speeds, ready = classes
    if not len(speeds):
        return float("inf")
    return float(np.min(ready + km * factor / speeds * 3600.0))
