"""The picture at a moment, folded from the log: every unit (where, in which state) and every
incident (its status and assignments), as the console and a fork need them.

A replay that seeks sends this instead of the events before the seek point, and a fork starts
from it; both rely on one rule: folding a snapshot and then the events after it gives the
same picture as folding every event from the start (tested).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

OPEN = ("reported", "responding", "on_scene", "contained")
# Bumped whenever `apply` changes what a picture holds: saved checkpoints of another version
# are not read (simulations.checkpoints).
VERSION = 2
# Fields a position fix carries into the unit it moves (its payload is slim, DESIGN §6).
POSITION_FIELDS = (("lat", "lat"), ("lon", "lon"), ("time", "position_time"),
                   ("version", "version"), ("status", "status"))


@dataclass
class Picture:
    units: dict[str, dict[str, Any]] = field(default_factory=dict)
    incidents: dict[str, dict[str, Any]] = field(default_factory=dict)
    seq: int = 0
    time: str | None = None

    def apply(self, ev: Mapping[str, Any]) -> None:
        kind = ev["type"]
        p = ev["payload"]
        if kind == "resource.position":
            unit = self.units.get(p["id"])
            if unit is not None:
                for src, dst in POSITION_FIELDS:
                    if src in p:
                        unit[dst] = p[src]
        elif kind == "resource.deleted":
            self.units.pop(p["resource"]["id"], None)
        elif "resource" in p and kind.startswith("resource."):
            self.units[p["resource"]["id"]] = dict(p["resource"])
        elif "incident" in p and kind.startswith("incident."):
            inc = p["incident"]
            if inc.get("status") in OPEN:
                self.incidents[inc["id"]] = dict(inc)
            else:  # closed: out of the picture (an event that reopens it carries it whole)
                self.incidents.pop(inc["id"], None)
        self.seq = ev["seq"] if ev.get("seq") is not None else self.seq
        self.time = ev.get("time", self.time)

    def fold(self, events: Iterable[Mapping[str, Any]]) -> Picture:
        for ev in events:
            self.apply(ev)
        return self

    def copy(self) -> Picture:
        return Picture(copy.deepcopy(self.units), copy.deepcopy(self.incidents), self.seq,
                       self.time)

    def size(self) -> int:
        return len(self.units) + len(self.incidents)

    def open_incidents(self) -> list[dict[str, Any]]:
        return [i for i in self.incidents.values() if i.get("status") in OPEN]

    def to_dict(self) -> dict[str, Any]:
        """The wire form (`replay.state`): the units, the open incidents, where it stands."""
        return {"seq": self.seq, "time": self.time,
                "units": sorted(self.units.values(), key=lambda u: u["id"]),
                "incidents": sorted(self.open_incidents(), key=lambda i: i["id"])}


def from_dict(d: Mapping[str, Any]) -> Picture:
    """A picture as a viewer received it (`replay.state`), to fold the next events into."""
    return Picture({u["id"]: dict(u) for u in d["units"]},
                   {i["id"]: dict(i) for i in d["incidents"]}, d["seq"], d["time"])


def fold(events: Iterable[Mapping[str, Any]]) -> Picture:
    return Picture().fold(events)
