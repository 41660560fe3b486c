"""The simulation engine: SimPy processes driving the real service layer and dispatcher.

`env.now` is seconds since the scenario start and the clock handed to every service call is
`start + env.now`; randomness comes from the scenario seed alone (one stream per purpose) and
ids from the exercise id and counters, so one scenario and seed always write the same log.

Processes: the incident stream (reports each arrival), one responder per incident (after the
decision delay, accepts the dispatcher's plan; retries what stayed unfilled), one sortie per
assigned unit (readiness, travel along its route, on scene until the work is done, back to
base), the position reporter (one batch of fixes per tick for every moving unit), scenario
resource changes, and a progress tick that may flush, report and cancel.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import simpy

from rescue.auth import Principal
from rescue.dispatch.dispatcher import DispatchRequest
from rescue.events import Event
from rescue.incidents import SEVERITIES
from rescue.services.common import resource_event
from rescue.services.field import (
    FieldMessage,
    Fix,
    Position,
    Status,
    apply_batch,
    apply_fixes,
)
from rescue.services.incidents import (
    assign_resource,
    incident_event,
    report_incident,
    update_incident,
)
from resources.errors import ResourceError
from resources.model import Resource, resource_from_dict
from resources.vocabulary import Vocabulary
from simulations.arrivals import Arrival, arrivals
from simulations.movement import Leg, route
from simulations.scenario import Scenario, Selector
from simulations.state import Picture
from simulations.store import MemoryStore
from simulations.trainees import Trainees

log = logging.getLogger(__name__)

SIMULATION = Principal(role="admin", name="simulation")
MAX_ID = 64


class Cancelled(Exception):
    """The exercise was cancelled while it ran."""


def copy_id(rid: str, exercise: str) -> str:
    """A unit's id inside an exercise (ids are at most 64 characters)."""
    cid = f"{rid}--{exercise}"
    if len(cid) <= MAX_ID:
        return cid
    import hashlib

    short = hashlib.sha1(rid.encode()).hexdigest()[:8]
    return f"{rid[:MAX_ID - len(exercise) - 11]}-{short}--{exercise}"


@dataclass
class Sortie:
    resource_id: str
    incident_id: str
    requirement: str | None
    phase: str = "assigned"  # assigned | en_route | on_scene | returning
    leg: Leg | None = None
    process: Any = None


class Engine:
    def __init__(self, scenario: Scenario, exercise: str, registry: list[Resource], *,
                 geography: Any, dispatcher: Any, vocab: Vocabulary,
                 env: simpy.Environment | None = None,
                 tick: Callable[[Engine], None] | None = None,
                 tick_every_s: float | None = None, picture: Picture | None = None,
                 until_s: float | None = None, mode: str = "auto",
                 store: Any = None) -> None:
        self.sc = scenario
        self.exercise = exercise
        self.env = env or simpy.Environment()
        self.geography = geography
        self.dispatcher = dispatcher
        self.vocab = vocab
        # Automatic runs keep the exercise in memory; with trainees in the loop it lives in the
        # shared database (simulations.sqlstore), where their assignments land.
        self.store = store if store is not None else MemoryStore(exercise, vocab, geography)
        self.mode = mode
        self.trainees = Trainees(self) if mode == "trainees" else None
        self.tick = tick
        self.tick_every_s = tick_every_s or max(60.0, scenario.duration_s / 200)
        seeds = np.random.SeedSequence(scenario.seed).spawn(4)
        self.rng_scene = np.random.default_rng(seeds[1])
        self.sorties: dict[str, Sortie] = {}
        self.origin: dict[str, str] = {}  # copy id -> registry id
        self.withdraw_on_return: set[str] = set()
        self.working: set[str] = set()  # incidents whose on-scene work has started
        # Incidents left short: since when, and which capabilities they lack.
        # Incidents left short: since when, what they lack (capability -> the travel modes
        # the plan allows for it, None: any) and whether the weather is what stops them.
        self.waiting: dict[str, tuple[float, dict[str, Any], bool]] = {}
        self.attempts: dict[str, int] = {}
        # A fork starts at its moment (env's initial time) from a recorded picture: what the
        # scenario held before that moment is in the picture already.
        self.picture = picture
        self.offset = float(self.env.now)
        self.until = until_s if until_s is not None else scenario.duration_s
        self.arrivals: list[Arrival] = [a for a in arrivals(scenario, geography.areas)
                                        if picture is None or a.at_s > self.offset]
        self.reported = 0
        self._registry = registry
        self._start = scenario.start.astimezone(UTC)
        self._ended = False

    # ---------------------------------------------------------------- clock and helpers
    def now(self) -> datetime:
        """The service layer's clock, in UTC like the live one (the scenario's own zone only
        shapes its diurnal profile)."""
        return self._start + timedelta(seconds=self.env.now)

    def uow(self):  # noqa: ANN201 - a UnitOfWork
        return self.store.uow()

    def record(self, event: Event) -> None:
        with self.uow() as uow:
            uow.record(event)
            uow.commit()

    def field(self, messages: list[FieldMessage]) -> None:
        if not messages:
            return
        with self.uow() as uow:
            outcomes = apply_batch(uow, messages, self.now())
            uow.commit()
        for o in outcomes:
            if not o.ok:
                log.warning("simulation field message refused: %s", o.error)

    def status(self, rid: str, status: str, note: str | None = None,
               at: tuple[float, float] | None = None) -> None:
        now = self.now()
        msgs = []
        if at is not None:
            msgs.append(FieldMessage(SIMULATION, Position(at[0], at[1], now, 0.0), rid))
        msgs.append(FieldMessage(SIMULATION, Status(status, now, note), rid))
        self.field(msgs)

    # ---------------------------------------------------------------- the run
    def start(self) -> None:
        """The exercise's unit copies, all at home (or as the fork's picture has them), then
        the processes."""
        now = self.now()
        if self.picture is None:
            copies = [self._copy(r) for r in self._registry]
            with self.uow() as uow:
                uow.resources.add_many(copies)
                uow.record_many([resource_event("resource.created", r, now) for r in copies])
                uow.commit()
            units = len(copies)
        else:
            from simulations.resume import restore

            restore(self, self.picture)
            units = len(self.picture.units)
        self.record(Event(type="exercise.started", area=self.sc.area, time=now,
                          exercise=self.exercise,
                          payload={"scenario": self.sc.name, "title": self.sc.title,
                                   "seed": self.sc.seed, "units": units,
                                   "duration_s": self.sc.duration_s,
                                   "from_s": self.offset, "until_s": self.until,
                                   "expected_incidents": round(self.sc.expected_incidents())}))
        self.env.process(self._incidents())
        self.env.process(self._reporter())
        for change in self.sc.resources:
            if change.at_s > self.offset or self.picture is None:
                self.env.process(self._change(change))
        for t in sorted({t for w in self.sc.weather for t in (w.start_s, w.end_s)}):
            if t > self.offset:
                self.env.process(self._weather_change(t))
        if self.tick is not None:
            self.env.process(self._ticker())
        if self.trainees is not None:
            self.env.process(self.trainees.watch())

    def _copy(self, r: Resource) -> Resource:
        """The exercise's copy of a unit: at home, available unless it is out of service."""
        cid = copy_id(r.id, self.exercise)
        self.origin[cid] = r.id
        return replace(r, id=cid, exercise=self.exercise, version=1,
                       status="out_of_service" if r.status == "out_of_service" else "available",
                       lat=None, lon=None, position_time=None, status_time=self.now())

    def run(self, on_started: Callable[[], None] | None = None) -> None:
        self.start()
        if on_started is not None:
            on_started()
        self.env.run(until=self.until)
        self.finish()

    def fraction(self) -> float:
        """How far the run is, 0..1."""
        span = self.until - self.offset
        return 1.0 if span <= 0 else min(1.0, (self.env.now - self.offset) / span)

    def finish(self) -> None:
        if self._ended:
            return
        self._ended = True
        self.record(Event(type="exercise.ended", area=self.sc.area, time=self.now(),
                          exercise=self.exercise,
                          payload={"incidents": self.reported,
                                   "events": self.store.total_events + 1}))

    def _ticker(self) -> Any:
        while True:
            yield self.env.timeout(self.tick_every_s)
            assert self.tick is not None
            self.tick(self)

    # ---------------------------------------------------------------- incidents
    def _incidents(self) -> Any:
        for a in self.arrivals:
            if a.at_s > self.env.now:
                yield self.env.timeout(a.at_s - self.env.now)
            iid = self.report(a)
            if iid is not None:
                self.env.process(self._respond(iid))

    def report(self, a: Arrival) -> str | None:
        data: dict[str, Any] = {"category": a.category, "severity": a.severity, "lat": a.lat,
                                "lon": a.lon, "persons_at_risk": a.persons_at_risk,
                                "exercise": self.exercise}
        if a.title:
            data["title"] = a.title
        weather = self.sc.weather_at(self.env.now, a.areas)
        if weather:
            data["weather"] = weather
        try:
            inc = report_incident(self.uow(), SIMULATION, data, self.geography.areas,
                                  tuple(self.dispatcher.plans.categories), self.now(),
                                  new_id=self.store.ids.incident)
        except ResourceError as e:
            log.warning("scenario %s: %s refused: %s", self.sc.name, a.source, e)
            return None
        self.reported += 1
        return inc.id

    def _respond(self, iid: str) -> Any:
        if self.trainees is not None:
            self.trainees.advise(iid)  # the plan they are scored against; they decide
            return
        yield self.env.timeout(self.sc.decision_delay_s)
        self.decide(iid)

    def wake(self, unit: Resource | None = None, budget: int = 6, weather: bool = False
             ) -> None:
        """Something came free (a unit back at base, the weather easing): the waiting
        incidents that lack what it brings ask again, most severe and oldest first, until
        the unit is taken."""
        mode = self.vocab.mode_of(unit.kind) if unit is not None else None

        def asks(missing: dict[str, Any], grounded: bool) -> bool:
            """Grounded and the weather eased, or it lacks what the unit brings."""
            return (weather and grounded) or unit is not None and any(
                c in missing and (missing[c] is None or mode in missing[c])
                for c in unit.capabilities)

        # Only those that would ask are sorted (most wait for something else).
        order = sorted((i for i, (_, missing, grounded) in self.waiting.items()
                        if asks(missing, grounded)),
                       key=lambda i: (SEVERITIES.index(self.store.incident(i).severity),
                                      self.waiting[i][0]))
        for iid in order:
            if budget <= 0:
                return
            if (weather and self.waiting[iid][2]) or (
                    unit is not None and self._could_come(unit, iid)):
                budget -= 1
                self.decide(iid)
                if unit is not None and self.store.resource(unit.id).status != "available":
                    return

    def _could_come(self, unit: Resource, iid: str) -> bool:
        """The unit could reach the incident now (the weather there, the sea, its range):
        otherwise asking again would change nothing (most asks of a typhoon's waiting
        incidents were those: helicopters grounded, land teams for a boat at sea)."""
        return self.dispatcher.could_serve(unit, self._request(iid), now=self.now(),
                                           vocabulary=self.vocab)

    def _request(self, iid: str) -> DispatchRequest:
        """What the dispatcher is asked for this incident now (the weather where it is)."""
        inc = self.store.incident(iid)
        weather = self.sc.weather_at(self.env.now, tuple(a.code for a in inc.areas))
        return DispatchRequest(inc.lat, inc.lon, inc.category, inc.severity, weather=weather,
                               exercise=self.exercise, incident_id=iid)

    def decide(self, iid: str) -> bool:
        """Accept the dispatcher's plan for what the incident still lacks; True when the
        response plan is filled (or the incident no longer needs units). An incident left
        short waits for a unit to come free."""
        inc = self.store.incident(iid)
        if inc.status in ("closed", "contained") or iid in self.working:
            self.waiting.pop(iid, None)
            return True
        attempt = self.attempts[iid] = self.attempts.get(iid, 0) + 1
        req = self._request(iid)
        weather = req.weather
        s = self.dispatcher.suggest(self.store.index, req, now=self.now(), k=3)
        need = {r.requirement.capability: r.requirement.count for r in s.requirements}
        have = Counter(a.requirement for a in inc.active_assignments())
        sent = []
        for item in s.plan:
            if have[item.requirement] >= need.get(item.requirement, 0):
                continue
            try:
                assign_resource(self.uow(), SIMULATION, iid,
                                {"resource_id": item.resource_id, "requirement": item.requirement,
                                 "eta_s": item.eta_s}, self.now())
            except ResourceError as e:
                log.info("simulation: %s not assigned to %s: %s", item.resource_id, iid, e)
                continue
            have[item.requirement] += 1
            sent.append(item.to_dict())
            self.dispatch(item.resource_id, iid, item.requirement, item.eta_s)
        short = {r.requirement.capability: r.shortfall for r in s.requirements
                 if have[r.requirement.capability] < r.requirement.count}
        inc = self.store.incident(iid)
        self.record(incident_event("exercise.decision", inc, self.now(), attempt=attempt,
                                   mode="auto", plan=[p.to_dict() for p in s.plan], sent=sent,
                                   shortfalls=short, weather=weather))
        if short:
            since = self.waiting[iid][0] if iid in self.waiting else self.env.now
            grounded = any((v or {}).get("code") == "grounded" for v in short.values())
            lacking = {r.requirement.capability: r.requirement.modes for r in s.requirements
                       if r.requirement.capability in short}
            self.waiting[iid] = (since, lacking, grounded)
        else:
            self.waiting.pop(iid, None)
        return not short

    # ---------------------------------------------------------------- units
    def dispatch(self, rid: str, iid: str, requirement: str | None, eta_s: int) -> None:
        sortie = Sortie(rid, iid, requirement)
        self.sorties[rid] = sortie
        sortie.process = self.env.process(self._sortie(sortie, eta_s))

    def _sortie(self, s: Sortie, eta_s: float) -> Any:
        r = self.store.resource(s.resource_id)
        inc = self.store.incident(s.incident_id)
        ready = min(float(r.readiness_s), float(eta_s))
        travel = max(float(eta_s) - ready, 1.0)
        try:
            yield self.env.timeout(ready)
            here = (r.lat, r.lon) if r.lat is not None and r.lon is not None else (
                r.home.lat, r.home.lon)
            mode = self.vocab.mode_of(r.kind)
            path = route(mode, here, (inc.lat, inc.lon), self.geography.sea)
            yield from self.go(s, Leg.along(path, self.env.now, self.env.now + travel))
        except simpy.Interrupt:
            pass
        if s.phase == "assigned" or s.leg is None:  # released before it left
            self.sorties.pop(s.resource_id, None)
            self.back_in(s.resource_id, None)
            return
        back = s.leg.back(self.env.now, self.env.now)
        s.phase, s.leg = "returning", back
        yield self.env.timeout(back.t1 - self.env.now)
        self.sorties.pop(s.resource_id, None)
        self.back_in(s.resource_id, back.end)

    def go(self, s: Sortie, leg: Leg, announce: bool = True) -> Any:
        """Travel the leg to the incident, arrive, and stay until the work is done (an
        interrupt ends the wait)."""
        inc = self.store.incident(s.incident_id)
        s.leg, s.phase = leg, "en_route"
        if announce:
            self.status(s.resource_id, "en_route")
        yield self.env.timeout(leg.t1 - self.env.now)
        s.phase = "on_scene"
        self.status(s.resource_id, "on_scene", at=(inc.lat, inc.lon))
        self.arrived(s.incident_id)
        yield self.env.event()

    def back_in(self, rid: str, at: tuple[float, float] | None) -> None:
        if rid in self.withdraw_on_return:
            self.withdraw_on_return.discard(rid)
            self.status(rid, "out_of_service", "withdrawn (scenario)", at=at)
            return
        if self.store.resource(rid).status != "available":
            self.status(rid, "available", at=at)
        elif at is not None:
            self.field([FieldMessage(SIMULATION, Position(at[0], at[1], self.now(), 0.0), rid)])
        self.wake(self.store.resource(rid))

    def arrived(self, iid: str) -> None:
        if iid in self.working:
            return
        update_incident(self.uow(), SIMULATION, iid, {"status": "on_scene"}, self.now())
        self.start_work(iid)

    def start_work(self, iid: str) -> None:
        """On-scene work begins: it lasts a time drawn for the incident's category."""
        self.working.add(iid)
        lo, mode, hi = self.sc.on_scene_minutes(self.store.incident(iid).category)
        minutes = float(self.rng_scene.triangular(lo, mode, hi)) if hi > lo else hi
        self.env.process(self._work(iid, round(minutes * 60, 1)))

    def _work(self, iid: str, seconds: float) -> Any:
        yield self.env.timeout(seconds)
        update_incident(self.uow(), SIMULATION, iid, {"status": "closed", "release_all": True},
                        self.now())
        for s in [s for s in self.sorties.values() if s.incident_id == iid]:
            if s.phase != "returning" and s.process is not None and s.process.is_alive:
                s.process.interrupt("work done")

    def _reporter(self) -> Any:
        """Every unit under way reports where it is, all at one moment (one transaction)."""
        every = self.sc.positions_every_s
        while True:
            yield self.env.timeout(every)
            now, t = self.now(), self.env.now
            fixes = []
            for s in self.sorties.values():
                leg = s.leg
                if s.phase in ("en_route", "returning") and leg is not None and t < leg.t1:
                    lat, lon, heading = leg.at_tick(t, every)
                    fixes.append(Fix(s.resource_id, lat, lon, leg.speed_kmh, heading))
            if fixes:
                with self.uow() as uow:
                    apply_fixes(uow, SIMULATION, fixes, now, now)
                    uow.commit()

    # ---------------------------------------------------------------- scenario changes
    def _weather_change(self, t: float) -> Any:
        yield self.env.timeout(t - self.env.now)
        self.wake(None, budget=len(self.waiting), weather=True)

    def _selected(self, sel: Selector) -> list[Resource]:
        out = []
        for r in self.store.units():
            rid = self.origin.get(r.id, r.id)
            if sel.matches(rid, r.kind, r.area, r.capabilities):
                out.append(r)
        return sorted(out, key=lambda r: r.id)

    def _change(self, change: Any) -> Any:
        yield self.env.timeout(max(0.0, change.at_s - self.env.now))
        if change.action == "add":
            self.add_units(change.units)
            return
        assert change.selector is not None
        for r in self._selected(change.selector):
            if change.action == "withdraw":
                if r.status == "available":
                    self.status(r.id, "out_of_service", "withdrawn (scenario)")
                elif r.status != "out_of_service":
                    self.withdraw_on_return.add(r.id)
            elif r.status == "out_of_service":
                self.status(r.id, "available", "restored (scenario)")
                self.wake(r)
            else:
                self.withdraw_on_return.discard(r.id)

    def add_units(self, units: tuple[dict[str, Any], ...]) -> None:
        now = self.now()
        made = [self._copy(resource_from_dict(data, self.vocab)) for data in units]
        with self.uow() as uow:
            uow.resources.add_many(made)
            uow.record_many([resource_event("resource.created", r, now, note="arrived (scenario)")
                             for r in made])
            uow.commit()
        for r in made:
            self.wake(r)
