"""Long imports as jobs: in-process in the embedded default, a real Celery worker when scaled;
cancelled; failed when their process dies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from rescue.app import create_app
from rescue.auth import Principal
from rescue.config import Config
from rescue.context import RescueContext
from tests.conftest import stop_process
from tests.integration.conftest import team


def feature_collection(n: int, bad_row: int | None = None) -> bytes:
    feats = []
    for i in range(n):
        t = team(f"bulk-{i:04d}", lat=27.5 + (i % 50) * 0.01, lon=120.3 + (i // 50) * 0.01)
        if i + 1 == bad_row:
            t["readiness_s"] = -1
        props = {k: v for k, v in t.items() if k not in ("lat", "lon")}
        feats.append({"type": "Feature", "properties": props,
                      "geometry": {"type": "Point", "coordinates": [t["lon"], t["lat"]]}})
    return json.dumps({"type": "FeatureCollection", "features": feats}).encode()


def wait_for_job(client, h, job_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}", headers=h).json
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def submit(client, h, data: bytes):
    return client.post("/api/v1/resources/import?format=geojson&async=true", data=data,
                       headers=h, content_type="application/geo+json")


def check_import_job(client, h) -> None:
    r = submit(client, h, feature_collection(300))
    assert r.status_code == 202, r.json
    job = wait_for_job(client, h, r.json["job"]["id"])
    assert job["status"] == "done", job
    assert job["result"]["created"] == 300 and job["progress"] == 1.0
    fc = client.get("/api/v1/resources?limit=1000", headers=h).json
    assert len(fc["features"]) == 300
    evs = client.get("/api/v1/events?type=job.&limit=1000", headers=h).json["events"]
    progress = [e["payload"]["progress"] for e in evs if e["type"] == "job.progress"]
    assert len(progress) >= 5 and progress == sorted(progress) and progress[-1] == 1.0
    assert evs[-1]["type"] == "job.finished"

    bad = submit(client, h, feature_collection(50, bad_row=17))
    job = wait_for_job(client, h, bad.json["job"]["id"])
    assert job["status"] == "failed"
    assert job["error"]["field"].startswith("row 17") and "readiness_s" in job["error"]["field"]
    assert len(client.get("/api/v1/resources?limit=1000", headers=h).json["features"]) == 300


def test_import_job_in_process(client, tokens) -> None:
    check_import_job(client, tokens.header("operator", area="3303"))


def test_other_scope_cannot_read_a_job(client, tokens) -> None:
    h = tokens.header("operator", area="330328")
    job = submit(client, h, feature_collection(3)).json["job"]
    other = tokens.header("operator", area="330305")
    assert client.get(f"/api/v1/jobs/{job['id']}", headers=other).status_code == 404


def _stepper(release: threading.Event):
    """A job kind for these tests: reports progress every 10 ms until `release` is set."""
    def handler(ctx, store, job):
        report = store.reporter(job, step=0.5)
        i = 0
        while not release.is_set():
            report(min(0.99, i / 1000), f"step {i}")
            i += 1
            time.sleep(0.01)
        return {"steps": i}
    return handler


def test_a_job_is_cancelled_at_its_next_step(ctx, client, tokens, monkeypatch) -> None:
    from rescue import jobs

    release = threading.Event()
    monkeypatch.setitem(jobs._HANDLERS, "test.steps", _stepper(release))
    owner = Principal(role="operator", area="3303", name="owner")
    h = {"Authorization": "Bearer " + ctx.tokens.issue("operator", area="3303", name="owner")}
    # Queued, cancelled before it starts: it never runs.
    queued = ctx.jobs.create("test.steps", owner, {})
    r = client.post(f"/api/v1/jobs/{queued.id}/cancel", headers=h)
    assert r.status_code == 200 and r.json["status"] == "cancelled", r.json
    assert jobs.run_job(ctx, queued.id).status == "cancelled"
    # Running: it stops at its next progress report, and says so.
    job = ctx.jobs.create("test.steps", owner, {})
    done: list = []
    runner = threading.Thread(target=lambda: done.append(jobs.run_job(ctx, job.id)))
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while ctx.jobs.get(job.id).status != "running" and time.monotonic() < deadline:
            time.sleep(0.01)
        same_area = tokens.header("operator", area="3303")  # may read it, not stop it
        assert client.post(f"/api/v1/jobs/{job.id}/cancel", headers=same_area).status_code == 403
        assert client.post(f"/api/v1/jobs/{job.id}/cancel", headers=h,
                           json={"x": 1}).json["error"]["field"] == "x"
        r = client.post(f"/api/v1/jobs/{job.id}/cancel", headers=h)
        assert r.status_code == 200 and r.json["status"] == "cancelled"
        runner.join(10)
        assert not runner.is_alive() and done[0].status == "cancelled"
    finally:
        release.set()
        runner.join(10)
    again = client.post(f"/api/v1/jobs/{job.id}/cancel", headers=h)
    assert again.status_code == 409 and again.json["error"]["field"] == "id"
    evs = client.get("/api/v1/events?type=job.finished&limit=100", headers=h).json["events"]
    assert [e["payload"]["status"] for e in evs if e["payload"]["job_id"] == job.id] == [
        "cancelled"]
    # An exercise's run is cancelled as the exercise.
    run = ctx.jobs.create("exercise.run", owner, {"exercise": "ex-1"})
    r = client.post(f"/api/v1/jobs/{run.id}/cancel", headers=h)
    assert r.status_code == 409 and "/exercises/ex-1/cancel" in r.json["error"]["message"]
    assert client.post("/api/v1/jobs/job-nope/cancel", headers=h).status_code == 404


def test_a_running_job_without_a_heartbeat_is_failed(ctx, client, clock, monkeypatch) -> None:
    """Its worker died (kill -9): once silent for RESCUE_JOB_STALE_S, readers see it failed;
    while its process lives, the heartbeat keeps it running however long a step takes."""
    from dataclasses import replace

    from rescue import jobs

    ctx.config = replace(ctx.config, job_stale_s=1.2)  # a beat every 0.2 s
    owner = Principal(role="operator", area="3303", name="owner")
    h = {"Authorization": "Bearer " + ctx.tokens.issue("operator", area="3303", name="owner")}
    release = threading.Event()

    def one_long_step(ctx_, store, job):
        release.wait(10)
        return {}

    monkeypatch.setitem(jobs._HANDLERS, "test.long", one_long_step)
    job = ctx.jobs.create("test.long", owner, {})
    runner = threading.Thread(target=jobs.run_job, args=(ctx, job.id))
    runner.start()
    try:
        time.sleep(0.3)
        clock.t += timedelta(seconds=30)  # long past the stale window ...
        time.sleep(0.5)  # ... but beats came since
        assert client.get(f"/api/v1/jobs/{job.id}", headers=h).json["status"] == "running"
    finally:
        release.set()
        runner.join(10)
    assert ctx.jobs.get(job.id).status == "done"
    dead = ctx.jobs.create("test.long", owner, {})
    ctx.jobs._set(dead.id, status="running")  # as a worker killed -9 leaves it
    assert client.get(f"/api/v1/jobs/{dead.id}", headers=h).json["status"] == "running"
    clock.t += timedelta(seconds=2)
    got = client.get(f"/api/v1/jobs/{dead.id}", headers=h).json
    assert got["status"] == "failed" and got["error"]["code"] == "died", got


def test_child_processes_are_bounded_and_queued_jobs_resume(ctx, client, tokens) -> None:
    """The embedded runner starts at most `job_processes` children at once (a burst of
    requests does not start a burst of processes): the others wait queued, then run. A job
    left queued when its server stopped runs when the next one starts (`resume_queued`)."""
    from dataclasses import replace

    from rescue.jobs import SubprocessRunner

    ctx.config = replace(ctx.config, job_processes=1)
    ctx.runner.close()
    ctx.runner = SubprocessRunner(ctx)
    h = tokens.header("operator", area="3303")
    ids = [submit(client, h, feature_collection(200 + i)).json["job"]["id"] for i in range(3)]
    most = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        states = [client.get(f"/api/v1/jobs/{j}", headers=h).json["status"] for j in ids]
        most = max(most, states.count("running"), ctx.runner.running())
        if all(st in ("done", "failed") for st in states):
            break
        time.sleep(0.05)
    assert states == ["done"] * 3 and most == 1, (states, most)
    # Left queued (its server stopped first): run at the next start.
    owner = Principal(role="operator", area="3303", name="later")
    left = ctx.jobs.create("resources.import", owner, {"format": "geojson", "role": "operator",
                                                       "area": "3303"},
                           feature_collection(5))
    ctx.runner.close()
    ctx.runner = SubprocessRunner(ctx)
    assert ctx.runner.resume_queued() == 1
    assert wait_for_job(client, h, left.id)["status"] == "done"


@pytest.mark.redis
def test_import_job_on_a_real_celery_worker(tmp_path: Path, redis_url: str) -> None:
    db = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    env = {**os.environ, "DATABASE_URL": db, "REDIS_URL": redis_url,
           "RESCUE_SECRET_KEY": "worker-test-secret-0123", "RESCUE_DATA_DIR": str(tmp_path)}
    config = Config.from_env(env)
    ctx = RescueContext(config)
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen([str(Path(sys.executable).with_name("rescue")), "worker"], env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        client = create_app(config, context=ctx).test_client()
        h = {"Authorization": "Bearer " + ctx.tokens.issue("operator", area="3303")}
        assert client.get("/api/v1/health").json["pubsub"] == "RedisBus"
        check_import_job(client, h)
        assert "rescue.run_job" in (tmp_path / "worker.log").read_text()
    finally:
        stop_process(worker)
        ctx.close()


def test_a_job_process_runs_with_the_servers_collector_policy(tmp_path) -> None:
    """`rescue job run` (a job's child process) freezes what it set up and makes young
    passes rare, as the server does: a replay's fold there spent a quarter of its time in
    the collector's young passes."""
    code = """if True:
        import gc, sys
        import rescue.jobs
        def run(ctx, job_id):
            print(gc.get_threshold(), gc.get_freeze_count() > 0)
            return 0
        rescue.jobs.run_job_in_child = run
        from rescue.cli import main
        sys.exit(main(["job", "run", "some-job"]))
    """
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "RESCUE_DATA_DIR": str(tmp_path)}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "(30000, 50, 100) True"
