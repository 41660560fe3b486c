"""Trainees in the loop (DESIGN §11): incidents wait for an assignment made in the console, and
each choice is scored against the dispatcher's plan.

When an incident is reported the dispatcher's plan is recorded (an `exercise.decision` with
mode "plan") but not carried out. The engine then reads the exercise's log for what the
trainees did: a unit they assigned sets off (and travels, works, returns like any other); a
unit they released turns back. Every assignment is recorded as an `exercise.decision` with
mode "trainee": the unit chosen and the planned one for the same need, and the ETA lost,
i.e. how much later the chosen unit arrives than the planned one would have, counting the
time taken to decide beyond the automatic decision delay.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rescue.dispatch.dispatcher import DispatchRequest
from rescue.services.incidents import incident_event
from simulations.movement import Leg, route

if TYPE_CHECKING:
    from simulations.engine import Engine


@dataclass
class Advice:
    reported_s: float
    plan: list[dict[str, Any]]  # the dispatcher's plan items, in its order
    etas: dict[str, int]  # every ranked candidate's ETA, by unit
    used: set[str] = field(default_factory=set)  # plan units already compared with a choice


class Trainees:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.advice: dict[str, Advice] = {}
        # How often the log is read for their actions: a second of wall time.
        self.every_s = 1.0

    def advise(self, iid: str) -> None:
        """Record the dispatcher's plan for a new incident; trainees decide."""
        e = self.engine
        inc = e.store.incident(iid)
        weather = e.sc.weather_at(e.env.now, tuple(a.code for a in inc.areas))
        req = DispatchRequest(inc.lat, inc.lon, inc.category, inc.severity, weather=weather,
                              exercise=e.exercise, incident_id=iid)
        s = e.dispatcher.suggest(e.store.index, req, now=e.now(), k=10)
        plan = [p.to_dict() for p in s.plan]
        etas = {c.resource_id: c.eta_s for r in s.requirements for c in r.candidates}
        self.advice[iid] = Advice(e.env.now, plan, etas)
        short = {r.requirement.capability: r.shortfall for r in s.requirements if r.shortfall}
        e.record(incident_event("exercise.decision", inc, e.now(), mode="plan", plan=plan,
                                sent=[], shortfalls=short, weather=weather))

    def watch(self) -> Generator[Any, Any, None]:
        e = self.engine
        while True:
            yield e.env.timeout(self.every_s * self._speed())
            for ev in e.store.others():
                self.did(ev)

    def _speed(self) -> float:
        factor = getattr(self.engine.env, "factor", None)
        return 1.0 / factor if factor else 60.0  # as fast as possible (tests): every minute

    def did(self, ev: dict[str, Any]) -> None:
        """One thing a trainee did, as the log has it."""
        e = self.engine
        p = ev["payload"]
        if ev["type"] == "resource.assigned" and p.get("incident_id") in self.advice:
            rid, iid = p["resource"]["id"], p["incident_id"]
            eta = self._eta(iid, rid)
            self.score(iid, rid, p.get("requirement"), eta)
            e.dispatch(rid, iid, p.get("requirement"), eta)
        elif ev["type"] == "incident.release":
            sortie = e.sorties.get(p.get("resource_id", ""))
            if sortie is not None and sortie.process is not None and sortie.process.is_alive:
                sortie.process.interrupt("released by a trainee")

    def _eta(self, iid: str, rid: str) -> int:
        """The ETA the trainee saw (sent with the assignment), else the dispatcher's ranking's,
        else the unit's own pace along its route."""
        e = self.engine
        inc = e.store.incident(iid)
        given = next((a.eta_s for a in inc.assignments if a.resource_id == rid
                      and a.eta_s is not None), None)
        if given is not None:
            return int(given)
        advice = self.advice[iid]
        if rid in advice.etas:
            return advice.etas[rid]
        r = e.store.resource(rid)
        here = (r.lat, r.lon) if r.lat is not None and r.lon is not None else (
            r.home.lat, r.home.lon)
        leg = Leg.along(route(e.vocab.mode_of(r.kind), here, (inc.lat, inc.lon), e.geography.sea),
                        0, 0)
        return int(r.readiness_s + leg.km / max(r.speed_kmh, 1.0) * 3600)

    def score(self, iid: str, rid: str, requirement: str | None, eta: int) -> None:
        e = self.engine
        advice = self.advice[iid]
        decided_after = round(e.env.now - advice.reported_s, 1)
        planned = next((p for p in advice.plan if p["resource_id"] not in advice.used
                        and (requirement is None or p["requirement"] == requirement)), None)
        lost = None
        if planned is not None:
            advice.used.add(planned["resource_id"])
            lost = round(decided_after + eta - (e.sc.decision_delay_s + planned["eta_s"]), 1)
        chosen = {"resource_id": rid, "requirement": requirement, "eta_s": eta,
                  "decided_after_s": decided_after}
        e.record(incident_event("exercise.decision", e.store.incident(iid), e.now(),
                                mode="trainee", chosen=chosen, planned=planned,
                                eta_lost_s=lost))
