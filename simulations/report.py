"""After-action reports, computed from the event log alone (an exercise, or a window of live
history), so a report says what the record says and nothing the engine merely believed.

Response-time components per incident: report -> first dispatch (the first assignment),
-> first arrival (the first unit on scene), -> full response (every requirement of the
incident's response plan met by units on scene). Each is summarised as median and 90th
percentile against a target (by default, as NFPA 1225 asks of dispatch: first unit dispatched
within 60 s, 90 % of the time), overall and by lead level, category and the mode of the first
unit to arrive. Also unit utilisation, shortfalls, and for trainee runs each decision against
the dispatcher's plan.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

BUSY = frozenset({"assigned", "en_route", "on_scene", "returning"})


@dataclass(frozen=True)
class Target:
    seconds: float
    fraction: float = 0.9


DEFAULT_TARGETS = {
    "first_dispatch": Target(60.0),  # NFPA 1225: dispatched within 60 s, 90 % of the time
    "first_arrival": Target(20 * 60.0),
    "full_response": Target(60 * 60.0),
}
COMPONENTS = tuple(DEFAULT_TARGETS)


@dataclass
class Timeline:
    id: str
    title: str
    category: str
    severity: str
    level: str
    area: str
    reported: datetime
    needs: dict[str, int]
    first_dispatch: datetime | None = None
    first_arrival: datetime | None = None
    first_mode: str | None = None
    full_response: datetime | None = None
    closed: datetime | None = None
    on_scene: Counter = field(default_factory=Counter)
    entries: list[dict[str, Any]] = field(default_factory=list)
    short: dict[str, str] = field(default_factory=dict)  # capability -> last shortfall code

    def seconds(self, component: str) -> float | None:
        t = getattr(self, component)
        return None if t is None else (t - self.reported).total_seconds()


def _t(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def summarise(values: list[float], target: Target, total: int) -> dict[str, Any]:
    """Median, p90 and the share within target, over `total` incidents (one never reached
    counts as missing the target)."""
    if total == 0:
        return {"n": 0, "median_s": None, "p90_s": None, "within_target": None,
                "target_s": target.seconds, "target_fraction": target.fraction, "met": None}
    arr = np.array(values, dtype=float)
    within = float(np.sum(arr <= target.seconds)) / total
    return {"n": len(values), "missing": total - len(values),
            "median_s": round(float(np.median(arr)), 1) if len(arr) else None,
            "p90_s": round(float(np.percentile(arr, 90)), 1) if len(arr) else None,
            "within_target": round(within, 4), "target_s": target.seconds,
            "target_fraction": target.fraction, "met": within >= target.fraction}


class Builder:
    """Folds events (wire dicts, in seq order) into incident timelines and unit busy time."""

    def __init__(self, plans: Any, vocab: Any) -> None:
        self.plans = plans
        self.vocab = vocab
        self.incidents: dict[str, Timeline] = {}
        self.unit_incident: dict[str, tuple[Any, Any]] = {}  # unit -> (incident, requirement)
        self.unit_kind: dict[str, str] = {}
        self.busy_since: dict[str, datetime] = {}
        self.busy_s: dict[str, float] = defaultdict(float)
        self.decisions: list[dict[str, Any]] = []
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.exercise: Mapping[str, Any] | None = None

    def feed(self, events: Iterable[Mapping[str, Any]]) -> None:
        for ev in events:
            self.one(ev)

    def one(self, ev: Mapping[str, Any]) -> None:
        t = _t(ev["time"])
        self.first = self.first or t
        self.last = t
        kind, p = ev["type"], ev["payload"]
        if kind == "exercise.started":
            self.exercise = p
        elif kind == "incident.reported":
            inc = p["incident"]
            try:
                needs = {r.capability: r.count for r in
                         self.plans.requirements(inc["category"], inc["severity"])}
            except KeyError:
                needs = {}
            self.incidents[inc["id"]] = Timeline(inc["id"], inc["title"], inc["category"],
                                                 inc["severity"], inc["lead_level"],
                                                 inc["area"], t, needs)
            self._entry(inc["id"], t, "reported", inc["title"])
        elif kind == "incident.assignment":
            tl = self.incidents.get(p["incident"]["id"])
            if tl is not None:
                tl.first_dispatch = tl.first_dispatch or t
                self._entry(tl.id, t, "assigned", p.get("resource_id"))
        elif kind == "incident.status":
            tl = self.incidents.get(p["incident"]["id"])
            if tl is not None:
                if p.get("to") == "closed":
                    tl.closed = t
                self._entry(tl.id, t, f"status {p.get('to')}", None)
        elif kind == "exercise.decision":
            self._decision(t, p)
        elif kind.startswith("resource.") and "resource" in p:
            self._unit(kind, t, p)

    def _entry(self, iid: str, t: datetime, what: str, detail: Any) -> None:
        tl = self.incidents[iid]
        tl.entries.append({"at_s": round((t - tl.reported).total_seconds(), 1), "what": what,
                           "detail": detail})

    def _decision(self, t: datetime, p: Mapping[str, Any]) -> None:
        tl = self.incidents.get(p["incident"]["id"])
        if tl is None:
            return
        if "shortfalls" in p:
            tl.short = {cap: (v or {}).get("code", "none_available")
                        for cap, v in (p.get("shortfalls") or {}).items()}
        if p.get("mode") == "trainee":
            self.decisions.append({"incident": tl.id, "time": t.isoformat(),
                                   **{k: p.get(k) for k in ("chosen", "planned", "eta_lost_s")}})

    def _unit(self, kind: str, t: datetime, p: Mapping[str, Any]) -> None:
        r = p["resource"]
        rid = r["id"]
        self.unit_kind[rid] = r["kind"]
        if kind == "resource.assigned":
            self.unit_incident[rid] = (p.get("incident_id"), p.get("requirement"))
        status = r["status"]
        if status in BUSY and rid not in self.busy_since:
            self.busy_since[rid] = t
        elif status not in BUSY and rid in self.busy_since:
            self.busy_s[rid] += (t - self.busy_since.pop(rid)).total_seconds()
        if kind == "resource.status" and status == "on_scene" and rid in self.unit_incident:
            iid, req = self.unit_incident[rid]
            tl = self.incidents.get(iid)
            if tl is None:
                return
            if tl.first_arrival is None:
                tl.first_arrival = t
                tl.first_mode = self.vocab.mode_of(r["kind"])
            tl.on_scene[req] += 1
            self._entry(iid, t, "on scene", rid)
            if tl.full_response is None and all(tl.on_scene[c] >= n for c, n in tl.needs.items()):
                tl.full_response = t
        if kind == "resource.released":
            self.unit_incident.pop(rid, None)

    # ------------------------------------------------------------------ the report
    def report(self, targets: Mapping[str, Target] | None = None,
               window: tuple[datetime, datetime] | None = None) -> dict[str, Any]:
        targets = {**DEFAULT_TARGETS, **(targets or {})}
        start, end = window or (self.first, self.last)
        incidents = list(self.incidents.values())
        out: dict[str, Any] = {
            "window": {"from": start.isoformat() if start else None,
                       "to": end.isoformat() if end else None},
            "exercise": dict(self.exercise) if self.exercise else None,
            "targets": {k: {"seconds": v.seconds, "fraction": v.fraction}
                        for k, v in targets.items()},
            "incidents": len(incidents),
            "response": self._components(incidents, targets),
        }
        for key, by in (("by_level", "level"), ("by_category", "category"),
                        ("by_mode", "first_mode"), ("by_severity", "severity")):
            groups: dict[str, list[Timeline]] = defaultdict(list)
            for tl in incidents:
                groups[str(getattr(tl, by) or "none")].append(tl)
            out[key] = {g: {"incidents": len(v), **self._components(v, targets)}
                        for g, v in sorted(groups.items())}
        out["utilisation"] = self._utilisation(start, end)
        out["shortfalls"] = self._shortfalls(incidents)
        out["decisions"] = self.decisions
        out["timeline"] = [self._timeline(tl) for tl in incidents]
        return out

    @staticmethod
    def _components(incidents: list[Timeline], targets: Mapping[str, Target]
                    ) -> dict[str, Any]:
        res = {}
        for c in COMPONENTS:
            vals = [s for s in (tl.seconds(c) for tl in incidents) if s is not None]
            res[c] = summarise(vals, targets[c], len(incidents))
        return res

    def _utilisation(self, start: datetime | None, end: datetime | None) -> dict[str, Any]:
        if start is None or end is None or end <= start:
            return {"by_kind": {}, "busiest": []}
        span = (end - start).total_seconds()
        busy: dict[str, float] = defaultdict(float, self.busy_s)
        for rid, since in self.busy_since.items():
            busy[rid] += (end - since).total_seconds()
        by_kind: dict[str, list[float]] = defaultdict(list)
        for rid, kind in self.unit_kind.items():
            by_kind[kind].append(busy[rid] / span)
        busiest = sorted(((busy[r] / span, r) for r in self.unit_kind), reverse=True)[:15]
        return {"by_kind": {k: {"units": len(v), "mean": round(float(np.mean(v)), 4),
                                "max": round(float(np.max(v)), 4)}
                            for k, v in sorted(by_kind.items())},
                "busiest": [{"id": r, "kind": self.unit_kind[r], "fraction": round(f, 4)}
                            for f, r in busiest]}

    @staticmethod
    def _shortfalls(incidents: list[Timeline]) -> dict[str, Any]:
        by_cap: dict[str, Counter] = defaultdict(Counter)
        short = 0
        for tl in incidents:
            unmet = {c: n for c, n in tl.needs.items() if tl.on_scene[c] < n}
            if unmet:
                short += 1
            for c in unmet:
                by_cap[c][tl.short.get(c, "not_yet_arrived")] += 1
        return {"incidents_short": short, "never_reached": sum(
                    1 for tl in incidents if tl.first_arrival is None),
                "by_capability": {c: dict(v) for c, v in sorted(by_cap.items())}}

    @staticmethod
    def _timeline(tl: Timeline) -> dict[str, Any]:
        return {"id": tl.id, "title": tl.title, "category": tl.category,
                "severity": tl.severity, "level": tl.level, "area": tl.area,
                "reported": tl.reported.isoformat(),
                **{f"{c}_s": tl.seconds(c) for c in COMPONENTS},
                "closed_s": None if tl.closed is None else
                (tl.closed - tl.reported).total_seconds(),
                "first_mode": tl.first_mode, "entries": tl.entries}


def build_report(events: Iterable[Mapping[str, Any]], plans: Any, vocab: Any, *,
                 targets: Mapping[str, Target] | None = None) -> dict[str, Any]:
    b = Builder(plans, vocab)
    b.feed(events)
    return b.report(targets)


def summary_lines(report: Mapping[str, Any]) -> list[str]:
    """The few lines a terminal shows at the end of a run."""
    ex = report.get("exercise") or {}
    lines = [f"{ex.get('title') or 'report'}: {report['incidents']} incidents"
             + (f", {ex.get('units')} units" if ex.get("units") else "")]
    names = {"first_dispatch": "report -> first dispatch", "first_arrival":
             "report -> first arrival", "full_response": "report -> full response"}
    for c, name in names.items():
        s = report["response"][c]
        if not s["n"]:
            lines.append(f"  {name:<26} none")
            continue
        mark = "met" if s["met"] else "MISSED"
        lines.append(f"  {name:<26} median {_fmt(s['median_s'])}, p90 {_fmt(s['p90_s'])}; "
                     f"{s['within_target'] * 100:.0f}% within {_fmt(s['target_s'])} "
                     f"(target {s['target_fraction'] * 100:.0f}%: {mark})")
    sh = report["shortfalls"]
    lines.append(f"  incidents short of their plan: {sh['incidents_short']}; never reached: "
                 f"{sh['never_reached']}")
    util = report["utilisation"]["by_kind"]
    if util:
        lines.append("  utilisation: " + ", ".join(f"{k} {v['mean'] * 100:.0f}%"
                                                    for k, v in util.items()))
    return lines


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(round(seconds))
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"
