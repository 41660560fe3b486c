"""Shortfalls: why a requirement cannot be met, as a code and a readable sentence."""

from __future__ import annotations

from collections import Counter
from typing import Any

CODES = ("none_available", "out_of_range", "unreachable", "grounded", "positions_stale")
# Tie order when two reasons are equally common: the one an operator can act on first.
_PRIORITY = {"grounded": 0, "out_of_range": 1, "positions_stale": 2, "unreachable": 3}
_TEXT = {
    "grounded": "grounded by the weather",
    "out_of_range": "out of range (out and back)",
    "unreachable": "unable to reach the scene by their mode",
    "positions_stale": "without a recent position",
}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def shortfall(capability: str, count: int, feasible: int, matched: int,
              outcomes: Counter, weather: Any = None) -> dict[str, str] | None:
    """The shortfall of a requirement with `feasible` usable candidates, or None when met."""
    if feasible >= count:
        return None
    need = f"needs {count} {capability} (got {feasible})"
    bad = {k: v for k, v in outcomes.items() if k in _PRIORITY and v > 0}
    if matched == 0:
        return {"code": "none_available",
                "detail": f"{need}: no available resource with {capability} for this mode"}
    if not bad:
        return {"code": "none_available",
                "detail": f"{need}: only {_plural(feasible, 'available resource')} with {capability}"}
    code = min(bad, key=lambda c: (-bad[c], _PRIORITY[c]))
    parts = [f"{_plural(bad[c], 'unit')} {_TEXT[c]}" for c in sorted(bad, key=lambda c: (-bad[c], _PRIORITY[c]))]
    detail = f"{need}: " + "; ".join(parts)
    if code == "grounded" and weather:
        detail += f" (weather: {weather_text(weather)})"
    return {"code": code, "detail": detail}


def shared_shortfall(capability: str, count: int, filled: int) -> dict[str, str]:
    """Enough candidates on their own, but the plan needs some of them for other requirements."""
    return {"code": "none_available",
            "detail": f"needs {count} {capability}, the plan fills {filled}: the other candidates "
                      "are the only ones for other requirements of this plan"}


def weather_text(weather: Any) -> str:
    items = weather.items() if hasattr(weather, "items") else vars(weather).items()
    return ", ".join(f"{k} {v}" for k, v in items if v is not None)
