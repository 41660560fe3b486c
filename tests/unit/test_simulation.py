"""The engine over the demo registry, in memory: units move, work and come back; the same
scenario and seed give the same log; the report reads the log right."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.geography import Geography
from rescue.demo import demo_registry
from rescue.dispatch.dispatcher import Dispatcher
from rescue.dispatch.plans import load_plans
from resources.model import resource_from_dict
from resources.vocabulary import Vocabulary
from simulations.arrivals import arrivals
from simulations.engine import Engine
from simulations.movement import Leg, great_circle
from simulations.report import build_report
from simulations.scenario import SEA_CATEGORIES, load, parse

VOCAB = Vocabulary.default()
PLANS = load_plans()


@cache
def geography() -> Geography:
    return Geography.load()


def registry():
    return [resource_from_dict(d, VOCAB) for d in demo_registry()]


def run(name: str, exercise: str, text: str | None = None) -> Engine:
    sc = parse(text, PLANS.categories, VOCAB) if text else load(name, PLANS.categories)
    eng = Engine(sc, exercise, registry(), geography=geography(),
                 dispatcher=Dispatcher(geography(), PLANS), vocab=VOCAB)
    eng.run()
    return eng


def log_of(eng: Engine) -> list[dict]:
    from rescue.events import EventQuery

    return [e.to_dict() for e in eng.store.data.events.read(
        EventQuery(limit=10**7, exercise=eng.exercise))]


@pytest.fixture(scope="module")
def wencheng() -> Engine:
    return run("wencheng_collapse", "ex-w1")


def test_units_are_sent_travel_work_and_come_back(wencheng) -> None:
    evs = log_of(wencheng)
    types = Counter(e["type"] for e in evs)
    assert types["incident.reported"] == 3 and types["exercise.decision"] >= 3
    assert types["resource.position"] > 100 and types["resource.released"] > 0
    assert evs[0]["type"] == "resource.created" and evs[-1]["type"] == "exercise.ended"
    assert all(e["exercise"] == "ex-w1" for e in evs)
    first = next(e for e in evs if e["type"] == "incident.assignment")
    reported = next(e for e in evs if e["type"] == "incident.reported")
    # The plan is accepted after the scenario's decision delay (60 s).
    assert first["time"] == "2026-06-18T06:21:00Z" and reported["time"] == "2026-06-18T06:20:00Z"
    # A unit's statuses follow the real transitions, in order, and it ends back at base.
    unit = first["payload"]["resource_id"]
    statuses = [e["payload"]["resource"]["status"] for e in evs
                if e["type"] in ("resource.status", "resource.assigned", "resource.released")
                and e["payload"]["resource"]["id"] == unit]
    assert statuses[:4] == ["assigned", "en_route", "on_scene", "returning"]
    # Positions move toward the incident while en route.
    inc = reported["payload"]["incident"]
    fixes = [(e["payload"]["lat"], e["payload"]["lon"]) for e in evs
             if e["type"] == "resource.position" and e["payload"]["id"] == unit]
    assert len(fixes) >= 2
    d = [abs(a - inc["lat"]) + abs(b - inc["lon"]) for a, b in fixes]
    assert min(d) < 0.01 and d[0] > d[d.index(min(d))]


def test_an_incident_closes_when_its_work_is_done(wencheng) -> None:
    closed = [e for e in log_of(wencheng) if e["type"] == "incident.status"
              and e["payload"]["to"] == "closed"]
    assert closed and all(not a["active"] for a in closed[0]["payload"]["incident"]["assignments"])


def test_same_scenario_and_seed_same_log_up_to_the_exercise_id(wencheng) -> None:
    again = run("wencheng_collapse", "ex-w2")

    def norm(eng: Engine, ex: str) -> list[str]:
        return [json.dumps(e, sort_keys=True).replace(ex, "X") for e in log_of(eng)]

    assert norm(wencheng, "ex-w1") == norm(again, "ex-w2")


def test_another_seed_another_log() -> None:
    sc = load("typhoon", PLANS.categories)
    a = arrivals(sc, geography().areas)
    b = arrivals(load("typhoon", PLANS.categories, seed=8), geography().areas)
    assert a == arrivals(sc, geography().areas) and a != b
    for x in a:
        loc = geography().areas.locate(x.lat, x.lon)
        assert loc.surface == ("sea" if x.category in SEA_CATEGORIES else "land")
    hours = Counter(int(x.at_s // 3600) for x in a if x.source == "generators[0]")
    assert sum(hours[h] for h in range(5, 12)) > sum(hours[h] for h in range(16, 24))


def test_a_diurnal_profile_follows_the_scenarios_local_clock() -> None:
    text = """\
name: day
area: "330302"
start: 2026-09-01T00:00:00+08:00
duration: 24h
seed: 4
generators:
  - {category: traffic_accident, rate_per_hour: 40, profile: diurnal}
"""
    sc = parse(text, PLANS.categories, VOCAB)
    assert sc.start.utcoffset().total_seconds() == 8 * 3600
    hours = Counter(int(a.at_s // 3600) for a in arrivals(sc, geography().areas))
    night = sum(hours[h] for h in range(1, 5))  # 01:00-05:00 in Wenzhou: weight 0.3
    afternoon = sum(hours[h] for h in range(13, 17))  # weight 1.3-1.4
    assert afternoon > 3 * night


def test_a_gale_keeps_boats_in_port_and_aircraft_grounded() -> None:
    text = """\
name: gale
area: "330305"
start: 2026-09-01T08:00:00+08:00
duration: 3h
incidents:
  - {at: 0s, category: person_overboard, severity: III, lat: 27.83, lon: 121.25}
  - {at: 2h, category: person_overboard, severity: III, lat: 27.84, lon: 121.26}
weather:
  - {from: 0s, to: 1h, wind_kmh: 95, visibility_km: 1}
"""
    eng = run("gale", "ex-g", text)
    evs = log_of(eng)
    decisions = [e for e in evs if e["type"] == "exercise.decision"]
    first = decisions[0]["payload"]
    assert first["sent"] == [] and any(v and v["code"] == "grounded"
                                       for v in first["shortfalls"].values())
    # When the wind drops at 1 h the waiting incident is served without a new report.
    later = [d for d in decisions if d["payload"]["incident"]["id"].endswith("i1")
             and d["payload"]["sent"]]
    assert later and later[0]["time"] == "2026-09-01T01:00:00Z"


def test_withdrawn_units_are_not_sent_and_added_ones_are() -> None:
    text = """\
name: changes
area: "3303"
start: 2026-09-01T08:00:00+08:00
duration: 2h
incidents:
  - {at: 30m, category: person_overboard, severity: IV, lat: 27.83, lon: 121.25}
resources:
  - {at: 0s, withdraw: {kind: vessel}}
  - {at: 0s, withdraw: {kind: volunteer_vessel}}
  - at: 10m
    add:
      - {id: loaned-boat, name: Loaned boat, kind: vessel, capabilities: [water_rescue],
         crew: 4, capacity: 10, speed_kmh: 40, readiness_s: 60, area: "330305",
         home: {name: Dongtou pier, lat: 27.836, lon: 121.19}}
"""
    eng = run("changes", "ex-c", text)
    sent = [s["resource_id"] for e in log_of(eng) if e["type"] == "exercise.decision"
            for s in e["payload"]["sent"]]
    kinds = {eng.store.resource(r).kind for r in sent}
    assert "loaned-boat--ex-c" in sent and "volunteer_vessel" not in kinds
    assert all(not r.startswith("loaned") or r == "loaned-boat--ex-c" for r in sent)
    withdrawn = {e["payload"]["resource"]["id"] for e in log_of(eng)
                 if e["type"] == "resource.status"
                 and e["payload"]["resource"]["status"] == "out_of_service"}
    boats = [r for r in eng.store.units() if r.kind in ("vessel", "volunteer_vessel")
             and not r.id.startswith("loaned")]
    assert len(withdrawn) > 5 and withdrawn <= {r.id for r in boats}
    assert {r.status for r in boats} == {"out_of_service"}


def test_report_components_from_a_log(wencheng) -> None:
    rep = build_report(log_of(wencheng), PLANS, VOCAB)
    assert rep["incidents"] == 3
    fd = rep["response"]["first_dispatch"]
    assert fd["median_s"] == 60.0 and fd["target_s"] == 60 and fd["within_target"] == 1.0
    tl = {t["id"]: t for t in rep["timeline"]}
    first = tl["ex-w1-i1"]
    assert first["first_dispatch_s"] == 60 and first["first_arrival_s"] > 60
    assert set(rep["by_level"]) <= {"county", "city", "province", "national"}
    assert rep["utilisation"]["by_kind"]["land_team"]["mean"] > 0


def test_legs_interpolate_and_turn_back() -> None:
    leg = Leg.along([(27.9, 120.6), (27.9, 120.7)], 100, 200)
    assert leg.at(100)[:2] == (27.9, 120.6) and leg.at(200)[:2] == (27.9, 120.7)
    assert abs(leg.at(150)[1] - 120.65) < 1e-6 and leg.at(150)[2] == pytest.approx(90, abs=1)
    back = leg.back(150, 150)
    assert back.t1 == 200 and back.end == (27.9, 120.6)
    # Three segments (one of length zero), 30 km each way: each moment on its own segment,
    # heading that segment's way.
    dog = Leg.along([(27.9, 120.6), (27.9, 120.7), (27.9, 120.7), (28.0, 120.7)], 0, 3000)
    assert dog.at(1000)[2] == pytest.approx(90, abs=1) and dog.at(2500)[2] == pytest.approx(0)
    assert dog.at(dog.t1 / 2 + 1e-9)[1] == pytest.approx(120.7, abs=1e-3)
    assert dog.at(-5)[:2] == (27.9, 120.6) and dog.at(9999)[:2] == (28.0, 120.7)
    arc = great_circle((27.9, 120.6), (30.0, 122.0), 8)
    assert arc[0] == pytest.approx((27.9, 120.6)) and arc[-1] == pytest.approx((30.0, 122.0))


@given(st.lists(st.tuples(st.floats(27, 28.5), st.floats(120, 121.5)), min_size=1,
                max_size=6), st.floats(0, 5000), st.floats(0, 9000), st.floats(-100, 9000),
       st.sampled_from([60.0, 7.3, 150.0]), st.integers(0, 3))
def test_a_reporters_ticks_are_where_at_puts_them(coords, t0, span, first, every, repeat
                                                  ) -> None:
    """`at_tick` (a leg's ticks worked out at once) equals `at` to the bit, on its grid and
    off it; a zero-length or repeated segment and a leg of no time included."""
    coords = coords + coords[-1:] * repeat
    leg = Leg.along(coords, t0, t0 + span)
    t = first
    while t < leg.t1 + every:
        assert leg.at_tick(t, every) == leg.at(t)
        t += every
    assert leg.at_tick(first + every / 3, every) == leg.at(first + every / 3)
