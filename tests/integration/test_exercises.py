"""Exercises over HTTP: started as a job (a child process here, a real Celery worker when
scaled), followed, sealed from live centres, cancelled, reported; and `rescue simulate`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rescue.app import create_app
from rescue.config import Config
from rescue.context import RescueContext
from tests.conftest import stop_process
from tests.integration.test_jobs import wait_for_job

RESCUE = str(Path(sys.executable).with_name("rescue"))


def wait_state(client, h, eid: str, states: set[str], timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ex = client.get(f"/api/v1/exercises/{eid}", headers=h).json
        if ex["state"] in states:
            return ex
        time.sleep(0.2)
    raise AssertionError(f"exercise {eid} never reached {states}: {ex}")


def check_exercise_run(client, trainer, operator) -> dict:
    r = client.post("/api/v1/exercises", json={"scenario": "dongtou_person_in_water", "seed": 5},
                    headers=trainer)
    assert r.status_code == 201, r.json
    eid = r.json["id"]
    assert r.json["state"] in ("queued", "running") and r.headers["Location"].endswith(eid)
    ex = wait_state(client, trainer, eid, {"done", "failed"})
    assert ex["state"] == "done", ex
    assert ex["progress"] == 1.0 and ex["sim_time"].startswith("2026-11-21T16:05")
    assert ex["summary"]["incidents"] == 1
    # The exercise's log is read with its id; a live reader sees nothing of it.
    evs = client.get(f"/api/v1/events?exercise={eid}&limit=1000", headers=trainer).json["events"]
    assert evs and all(e["exercise"] == eid for e in evs)
    assert {"incident.reported", "exercise.decision", "resource.position"} <= {
        e["type"] for e in evs}
    live = client.get("/api/v1/events?limit=1000", headers=operator).json["events"]
    assert not any(e["exercise"] for e in live)
    assert not any(e["type"].startswith(("incident.", "exercise.")) for e in live)
    # No live unit was touched: every live unit is still available at home.
    res = client.get("/api/v1/resources?limit=1000", headers=operator).json["features"]
    assert res and all(f["properties"]["exercise"] is None for f in res)
    assert {f["properties"]["status"] for f in res} <= {"available", "out_of_service"}
    rep = client.get(f"/api/v1/exercises/{eid}/report", headers=trainer).json
    assert rep["incidents"] == 1 and rep["response"]["first_dispatch"]["median_s"] == 20.0
    page = client.get(f"/api/v1/exercises/{eid}/report.html", headers=trainer)
    assert page.status_code == 200 and b"After-action report" in page.data
    png = client.get(f"/api/v1/exercises/{eid}/report/response_times.png", headers=trainer)
    assert png.status_code == 200 and png.data[:4] == b"\x89PNG"
    return ex


def load_live_demo(ctx) -> None:
    from rescue.demo import load_demo

    load_demo(ctx)


def test_an_exercise_runs_as_a_job_and_is_sealed(ctx, client, tokens) -> None:
    load_live_demo(ctx)
    ex = check_exercise_run(client, tokens.header("trainer", area="3303"),
                            tokens.header("operator", area="3303"))
    # A centre outside the exercise's area (Dongtou) may not see the exercise, so reads
    # nothing inside it either (its own units' copies, say), whatever it asks for.
    lucheng = tokens.header("operator", area="330302")
    for path in ("/events", "/incidents", "/resources", "/directives", "/cap.atom"):
        r = client.get(f"/api/v1{path}?exercise={ex['id']}", headers=lucheng)
        assert r.status_code == 404, (path, r.status_code)
        if path != "/cap.atom":
            assert r.json["error"]["field"] == "exercise"
        city = client.get(f"/api/v1{path}?exercise={ex['id']}",
                          headers=tokens.header("operator", area="3303"))
        assert city.status_code == 200, (path, city.status_code)
    assert client.get(f"/api/v1/events?exercise={ex['id']}",
                      headers=tokens.header("admin")).json["events"]
    # Nor may it join the exercise on /centre.
    from realtime.channels import Refused
    from rescue.push import RescueBackend

    gate = RescueBackend(ctx)
    with pytest.raises(Refused) as refused:
        gate.authenticate("/centre", {"token": ctx.tokens.issue("operator", area="330302"),
                                      "exercise": ex["id"]})
    assert refused.value.code == "not_found"
    assert gate.authenticate("/centre", {"token": ctx.tokens.issue("operator", area="3303"),
                                         "exercise": ex["id"]}).viewer.exercise == ex["id"]


def test_who_may_start_follow_and_stop(ctx, client, tokens) -> None:
    operator = tokens.header("operator", area="3303")
    r = client.post("/api/v1/exercises", json={"scenario": "typhoon"}, headers=operator)
    assert r.status_code == 403
    township = tokens.header("trainer", area="330305101")
    r = client.post("/api/v1/exercises", json={"scenario": "typhoon"}, headers=township)
    assert r.status_code == 403 and "outside your scope" in r.json["error"]["message"]
    trainer = tokens.header("trainer", area="3303")
    r = client.post("/api/v1/exercises", json={"scenario": "typhoon", "seed": 1},
                    headers=trainer)
    assert r.status_code == 201
    eid = r.json["id"]
    sibling = tokens.header("operator", area="330328")  # Wencheng does not cover the city
    assert client.get(f"/api/v1/exercises/{eid}", headers=sibling).status_code == 404
    assert client.get(f"/api/v1/exercises/{eid}", headers=operator).status_code == 200
    assert client.post(f"/api/v1/exercises/{eid}/cancel", headers=operator).status_code == 403
    r = client.post(f"/api/v1/exercises/{eid}/cancel", headers=trainer)
    assert r.status_code == 200 and r.json["state"] == "cancelled"
    time.sleep(1.0)
    assert client.get(f"/api/v1/exercises/{eid}", headers=trainer).json["state"] == "cancelled"
    assert client.post(f"/api/v1/exercises/{eid}/cancel", headers=trainer).status_code == 409


@pytest.mark.parametrize("body, field", [
    ({"scenario": "name: x\narea: \"3303\"\nstart: 2026-01-01T00:00:00Z\nduration: 1h\n"
                  "generators:\n  - {category: flood, rate_per_hour: lots}\n"},
     "scenario.generators[0].rate_per_hour"),
    ({"scenario": "atlantis"}, "scenario.scenario"),
    ({"scenario": "typhoon", "speed": 0}, "speed"),
    ({"scenario": "typhoon", "mode": "chaos"}, "mode"),
    ({"scenario": "typhoon", "seed": "7"}, "seed"),
    ({"scenario": "typhoon", "extra": 1}, "extra"),
])
def test_bad_exercises_are_refused_naming_the_field(client, tokens, body, field) -> None:
    r = client.post("/api/v1/exercises", json=body, headers=tokens.header("trainer", area="3303"))
    assert r.status_code == 400, r.json
    assert r.json["error"]["field"] == field, r.json
    if field.startswith("scenario.generators"):
        assert "line 6" in r.json["error"]["message"]


def test_rescue_simulate_twice_gives_the_same_log(tmp_path: Path) -> None:
    logs = []
    for i in range(2):
        env = {**os.environ, "RESCUE_DATA_DIR": str(tmp_path / f"d{i}")}
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        out = subprocess.run([RESCUE, "simulate", "nanji_capsize", "--seed", "3", "--log",
                              str(tmp_path / f"log{i}.jsonl")], env=env, capture_output=True,
                             text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        assert "report -> first dispatch" in out.stdout and "report.html" in out.stdout
        assert "100.0%" in out.stderr  # the progress bar ran to its end
        logs.append((tmp_path / f"log{i}.jsonl").read_bytes())
    assert logs[0] == logs[1] and logs[0].count(b"\n") > 100
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\narea: \"3303\"\nstart: 2026-01-01T00:00:00Z\nduration: 1h\n"
                   "incidents:\n  - {at: 0s, category: volcano, lat: 27.8, lon: 120.6}\n")
    out = subprocess.run([RESCUE, "simulate", str(bad)], capture_output=True, text=True,
                         env={**os.environ, "RESCUE_DATA_DIR": str(tmp_path / "d3")}, timeout=120)
    assert out.returncode == 2 and "line 6, incidents[0].category" in out.stderr


@pytest.mark.redis
def test_an_exercise_on_a_real_celery_worker_and_a_worker_killed_mid_run(
        tmp_path: Path, redis_url: str) -> None:
    db = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    env = {**os.environ, "DATABASE_URL": db, "REDIS_URL": redis_url,
           "RESCUE_SECRET_KEY": "worker-test-secret-0123", "RESCUE_DATA_DIR": str(tmp_path),
           "RESCUE_EXERCISE_STALE_S": "3", "RESCUE_REPLAY_PREPARE_EVENTS": "0",
           "RESCUE_JOB_STALE_S": "3"}
    config = Config.from_env(env)
    os.environ["RESCUE_EXERCISE_STALE_S"] = "3"
    ctx = RescueContext(config)
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen([RESCUE, "worker"], env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        client = create_app(config, context=ctx).test_client()
        load_live_demo(ctx)
        trainer = {"Authorization": "Bearer " + ctx.tokens.issue("trainer", area="3303")}
        operator = {"Authorization": "Bearer " + ctx.tokens.issue("operator", area="3303")}
        done = check_exercise_run(client, trainer, operator)
        assert "rescue.run_job" in (tmp_path / "worker.log").read_text()
        # Its replay is folded ahead on the worker too (simulations.prepare).
        rp = client.post("/api/v1/replays", json={"exercise": done["id"]}, headers=trainer).json
        job = wait_for_job(client, trainer, rp["prepare_job"])
        assert job["status"] == "done" and job["result"]["sights"] == 2, job
        # A long run, its worker killed -9 mid-run: the exercise ends failed, not running.
        r = client.post("/api/v1/exercises", json={"scenario": "typhoon", "speed": 600},
                        headers=trainer)
        eid = r.json["id"]
        ex = wait_state(client, trainer, eid, {"running"})
        deadline = time.monotonic() + 60
        while ex["progress"] == 0 and time.monotonic() < deadline:
            time.sleep(0.3)
            ex = client.get(f"/api/v1/exercises/{eid}", headers=trainer).json
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        ex = wait_state(client, trainer, eid, {"failed"}, timeout=30)
        assert ex["error"]["code"] == "died"
        # And its job: no heartbeat since the kill, so failed too, not running forever.
        job = wait_for_job(client, trainer, ex["job_id"], timeout=30)
        assert job["status"] == "failed" and job["error"]["code"] == "died", job
    finally:
        os.environ.pop("RESCUE_EXERCISE_STALE_S", None)
        if worker.poll() is None:
            stop_process(worker)
        ctx.close()


def test_the_longest_scenario_the_contract_allows_fits_in_a_body(client, tokens) -> None:
    # Found by fuzzing: the published limit (1,000,000 characters) let a schema-valid body
    # exceed the server's body limit (413), and a too-long one got 413 instead of a 400.
    from rescue.api.deps import MAX_JSON_BODY

    spec = client.get("/api/v1/openapi.json").json
    longest = spec["components"]["schemas"]["ExerciseIn"]["properties"]["scenario"]["maxLength"]
    assert longest * 12 + 200 <= MAX_JSON_BODY  # 12 bytes: a JSON-escaped surrogate pair
    h = tokens.header("trainer", area="3303")
    escaped = "\\ud83d\\ude00" * longest
    r = client.post("/api/v1/exercises", data='{"scenario": "' + escaped + '"}', headers=h,
                    content_type="application/json")
    assert r.status_code == 400 and r.json["error"]["field"] == "scenario", r.json
    r = client.post("/api/v1/exercises", json={"scenario": "x" * (longest + 1)}, headers=h)
    assert r.status_code == 400 and r.json["error"]["field"] == "scenario", r.json


def test_a_run_freezes_what_outlives_each_tick_and_gives_it_back(tmp_path: Path) -> None:
    """run_exercise keeps the collector off what a tick leaves alive (gc.freeze each tick)
    and, once the run ends, returns it all to the collector with the thresholds it found."""
    import gc

    from simulations.runner import run_exercise
    from simulations.scenario import load

    ctx = RescueContext(Config(data_dir=tmp_path))
    frozen: list[int] = []
    thresholds = gc.get_threshold()
    try:
        scenario = load("dongtou_person_in_water", tuple(ctx.plans.categories), ctx.vocab)
        eng = run_exercise(ctx, scenario, "ex-gc", on_tick=lambda _: frozen.append(
            gc.get_freeze_count()))
    finally:
        ctx.close()
    assert eng.reported == 1 and len(frozen) > 3
    assert max(frozen) > frozen[0] > 0  # the units at the start, more after ticks
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == thresholds


def test_an_exercise_whose_job_process_is_killed_fails_at_once(ctx, client, tokens) -> None:
    """Embedded runner: the server sees the job's child die (kill -9 mid-run) and fails the
    exercise then, not a heartbeat period (60 s) later."""
    trainer = tokens.header("trainer", area="3303")
    eid = client.post("/api/v1/exercises", json={"scenario": "typhoon", "seed": 4},
                      headers=trainer).json["id"]
    wait_state(client, trainer, eid, {"running"})
    children = list(ctx.runner._children)
    assert len(children) == 1
    children[0].send_signal(signal.SIGKILL)
    t = time.monotonic()
    ex = wait_state(client, trainer, eid, {"failed", "done"}, timeout=20)
    assert ex["state"] == "failed" and ex["error"]["code"] == "died", ex
    assert time.monotonic() - t < 20 and "code -9" in ex["error"]["message"]
