"""Trainees in the loop: an exercise whose incidents wait for operators who joined it; their
assignment sets the unit off in the simulation, on the exercise's own clock, and is scored
against the dispatcher's plan."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.test_exercises import wait_state

SCENARIO = """\
name: drill
title: Person in the water off Dongtou (trainees)
area: "330305"
start: 2026-11-21T21:05:00+08:00
duration: 30m
incidents:
  - {at: 1m, category: person_overboard, severity: III, lat: 27.83, lon: 121.25,
     title: Crewman overboard, persons_at_risk: 1}
"""
START = datetime(2026, 11, 21, 13, 5, tzinfo=UTC)


@pytest.fixture
def wall(clock):
    """The test's clock follows the wall clock: the exercise runs in real time elsewhere."""
    def now():
        clock.t = datetime.now(UTC)
        return clock.t
    now()
    return now


def wait_for(fn, timeout: float = 60, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"no {what} in {timeout} s")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_trainees_decide_and_are_scored(ctx, client, tokens, wall) -> None:
    trainer = tokens.header("trainer", area="3303")
    operator = tokens.header("operator", area="330305", name="Dongtou duty officer")
    elsewhere = tokens.header("operator", area="330302")
    r = client.post("/api/v1/exercises", json={"scenario": SCENARIO, "mode": "trainees",
                                               "speed": 60}, headers=trainer)
    assert r.status_code == 201, r.json
    eid = r.json["id"]
    assert r.json["mode"] == "trainees" and r.json["join"]["console"] == f"/?exercise={eid}"

    def incidents():
        wall()
        fc = client.get(f"/api/v1/incidents?exercise={eid}", headers=operator).json
        return fc["features"]

    inc = wait_for(incidents, what="incident")[0]["properties"]
    iid = inc["id"]
    time.sleep(2)
    wall()
    # Nobody has assigned anything: the incident waits for the trainees.
    assert client.get(f"/api/v1/incidents/{iid}", headers=operator).json["assignments"] == []
    advice = client.get(f"/api/v1/incidents/{iid}/suggestions?k=10", headers=operator).json
    plan = advice["plan"]
    assert plan, advice
    need = plan[0]["requirement"]
    ranked = next(r for r in advice["requirements"] if r["capability"] == need)["candidates"]
    # Not the planned unit: the next best by ETA (it leaves within the half hour).
    worst = min((c for c in ranked if c["resource_id"] != plan[0]["resource_id"]),
                key=lambda c: c["eta_s"])
    body = {"resource_id": worst["resource_id"], "requirement": need, "eta_s": worst["eta_s"]}
    # Not joined: refused; another county: not even visible.
    r = client.post(f"/api/v1/incidents/{iid}/assignments", json=body, headers=operator)
    assert r.status_code == 403 and "join" in r.json["error"]["message"]
    assert client.post(f"/api/v1/incidents/{iid}/assignments", json=body,
                       headers=elsewhere).status_code == 404
    assert client.post(f"/api/v1/exercises/{eid}/join", headers=elsewhere).status_code == 404
    joined = client.post(f"/api/v1/exercises/{eid}/join", headers=operator)
    assert joined.status_code == 200 and len(joined.json["trainees"]) == 1
    wall()
    r = client.post(f"/api/v1/incidents/{iid}/assignments", json=body, headers=operator)
    assert r.status_code in (200, 201), r.json

    def events():
        wall()
        return client.get(f"/api/v1/events?exercise={eid}&limit=1000",
                          headers=trainer).json["events"]

    def scored():
        return [e for e in events() if e["type"] == "exercise.decision"
                and e["payload"]["mode"] == "trainee"]

    decision = wait_for(scored, what="scored decision")[0]["payload"]
    assert decision["chosen"]["resource_id"] == worst["resource_id"]
    assert decision["planned"]["resource_id"] == plan[0]["resource_id"]
    assert decision["eta_lost_s"] > 0
    # The chosen unit sets off in the simulation.
    wait_for(lambda: any(e["type"] == "resource.status" and e["payload"]["resource"]["id"]
                         == worst["resource_id"] and e["payload"]["resource"]["status"]
                         == "en_route" for e in events()), what="en_route")
    # The trainee's assignment is stamped on the exercise's clock, not the wall's.
    assigned = next(e for e in events() if e["type"] == "resource.assigned")
    at = datetime.fromisoformat(assigned["time"])
    assert START < at < START + timedelta(minutes=30), at
    done = wait_state(client, trainer, eid, {"done", "failed"}, timeout=90)
    assert done["state"] == "done", done
    report = client.get(f"/api/v1/exercises/{eid}/report", headers=trainer).json
    assert [d["chosen"]["resource_id"] for d in report["decisions"]] == [worst["resource_id"]]
    # Automatic exercises take no trainees.
    auto = client.post("/api/v1/exercises", json={"scenario": SCENARIO}, headers=trainer).json
    assert client.post(f"/api/v1/exercises/{auto['id']}/join",
                       headers=operator).status_code == 409
