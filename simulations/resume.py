"""Starting an engine from a recorded picture instead of an empty morning (a what-if fork).

The fork's first events restate the picture under the fork's own ids (every unit where it
was and in its state, every open incident with its assignments), so folding the fork's log at
its start gives the recorded picture back (tested). Then the work in progress goes on: units
under way keep going to their incident, units on scene work until it is done, units heading
home get home, and incidents short of their plan ask the dispatcher again.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import simpy

from rescue.incident_repo import incident_from_dict
from rescue.services.common import resource_event
from rescue.services.incidents import incident_event, link_of
from resources.model import Resource, resource_from_dict
from simulations.movement import Leg, route
from simulations.state import Picture

if TYPE_CHECKING:
    from simulations.engine import Engine, Sortie

def origin_of(unit_id: str, exercise: str | None) -> str:
    """The registry id behind an exercise's copy of a unit."""
    suffix = f"--{exercise}" if exercise else None
    return unit_id[: -len(suffix)] if suffix and unit_id.endswith(suffix) else unit_id


def restore(engine: Engine, pic: Picture) -> dict[str, str]:
    """Restate the picture as the fork's first events; returns recorded incident id ->
    the fork's incident id."""
    from simulations.engine import copy_id

    now = engine.now()
    ids: dict[str, str] = {}
    copies: list[Resource] = []
    for d in sorted(pic.units.values(), key=lambda u: u["id"]):
        origin = origin_of(d["id"], d.get("exercise"))
        cid = copy_id(origin, engine.exercise)
        ids[d["id"]] = cid
        engine.origin[cid] = origin
        r = resource_from_dict({**d, "exercise": None, "version": 1}, engine.vocab)
        copies.append(replace(r, id=cid, exercise=engine.exercise))
    incidents: dict[str, str] = {}
    with engine.uow() as uow:
        uow.resources.add_many(copies)
        uow.record_many([resource_event("resource.created", r, now, forked=True)
                         for r in copies])
        for d in sorted(pic.open_incidents(), key=lambda i: i["id"]):
            old = incident_from_dict(d)
            inc = replace(old, id=engine.store.ids.incident(), exercise=engine.exercise,
                          version=1, assignments=tuple(
                              replace(a, resource_id=ids.get(a.resource_id, a.resource_id))
                              for a in old.assignments))
            incidents[old.id] = inc.id
            uow.incidents.add(inc)
            for a in inc.active_assignments():
                uow.links.set(link_of(inc, a.resource_id))
            uow.record(incident_event("incident.reported", inc, now, forked_from=old.id))
        uow.commit()
    _continue(engine, pic, ids, incidents)
    return incidents


def _continue(engine: Engine, pic: Picture, ids: dict[str, str],
              incidents: dict[str, str]) -> None:
    """The work in progress at the fork's moment goes on."""
    from simulations.engine import Sortie

    for iid in incidents.values():
        inc = engine.store.incident(iid)
        working = inc.status in ("on_scene", "contained")
        if working:
            engine.start_work(iid)
        for a in inc.active_assignments():
            r = engine.store.resource(a.resource_id)
            s = Sortie(r.id, iid, a.requirement)
            engine.sorties[r.id] = s
            s.process = engine.env.process(_sortie(engine, s, r))
        if not working:
            engine.env.process(engine._respond(iid))
    for d in pic.units.values():
        r = engine.store.resource(ids[d["id"]])
        if r.status == "returning" and r.id not in engine.sorties:
            s = Sortie(r.id, "", None, phase="returning")
            engine.sorties[r.id] = s
            s.process = engine.env.process(_home(engine, s, r))


def _leg(engine: Engine, r: Resource, to: tuple[float, float]) -> Leg:
    here = (r.lat, r.lon) if r.lat is not None and r.lon is not None else (r.home.lat,
                                                                          r.home.lon)
    path = route(engine.vocab.mode_of(r.kind), here, to, engine.geography.sea)
    leg = Leg.along(path, engine.env.now, engine.env.now)
    hours = leg.km / max(r.speed_kmh, 1.0)
    return replace(leg, t1=engine.env.now + max(1.0, hours * 3600))


def _sortie(engine: Engine, s: Sortie, r: Resource) -> Generator[Any, Any, None]:
    """A unit assigned at the fork's moment: on its way, or on scene."""
    inc = engine.store.incident(s.incident_id)
    s.phase = "on_scene" if r.status == "on_scene" else "en_route"
    try:
        if s.phase == "en_route":
            yield from engine.go(s, _leg(engine, r, (inc.lat, inc.lon)),
                                 announce=r.status != "en_route")
        else:
            yield engine.env.event()  # until the work is done
    except simpy.Interrupt:
        pass
    here = engine.store.resource(r.id)
    back = (s.leg.back(engine.env.now, engine.env.now) if s.phase == "en_route"
            and s.leg is not None else _leg(engine, here, (r.home.lat, r.home.lon)))
    s.phase, s.leg = "returning", back
    yield engine.env.timeout(back.t1 - engine.env.now)
    engine.sorties.pop(s.resource_id, None)
    engine.back_in(s.resource_id, back.end)


def _home(engine: Engine, s: Sortie, r: Resource) -> Generator[Any, Any, None]:
    s.leg = _leg(engine, r, (r.home.lat, r.home.lon))
    yield engine.env.timeout(s.leg.t1 - engine.env.now)
    engine.sorties.pop(s.resource_id, None)
    engine.back_in(s.resource_id, s.leg.end)
