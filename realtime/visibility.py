"""Who sees an event (DESIGN §6): the one rule for live push, resume and `GET /events`.

An event concerns `areas` (its main area first), may name `units`, and carries a `category`
when it is incident business. A viewer is a centre (an area scope, or none for an admin), a
department desk (a scope and its categories) or a field unit; each watches the live log or one
exercise. Area codes are prefix-hierarchical (33 ⊃ 3303 ⊃ 330305 ⊃ 330305101, 330305M), so
"inside my scope" is a prefix test.

The SQL form of the same rule lives beside the event log (rescue.events.viewer_clause); a
property test holds the two equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Viewer:
    """What one client may see. `scope` None means everywhere (admin); `unit` set means a
    field unit, which sees the events naming it and nothing else."""

    scope: str | None = None
    categories: frozenset[str] | None = None
    unit: str | None = None
    exercise: str | None = None

    def sees(self, event: Mapping[str, Any]) -> bool:
        if event.get("exercise") != self.exercise:
            return False
        if self.unit is not None:
            return self.unit in (event.get("units") or ())
        areas = event.get("areas") or (event.get("area") or "",)
        if self.scope is not None and not any(a.startswith(self.scope) for a in areas):
            return False
        category = event.get("category")
        return category is None or self.categories is None or category in self.categories

    @property
    def key(self) -> str:
        """A stable name for everyone who sees exactly the same events (a Socket.IO room)."""
        who = f"unit:{self.unit}" if self.unit is not None else f"area:{self.scope or '*'}"
        cats = "*" if self.categories is None else ",".join(sorted(self.categories))
        return f"{self.exercise or 'live'}|{who}|{cats}"


def prefixes(codes: Iterable[str]) -> set[str]:
    """Every prefix of every code: the scopes under which an event with these areas is seen."""
    out: set[str] = set()
    for code in codes:
        for i in range(1, len(code) + 1):
            out.add(code[:i])
    return out
