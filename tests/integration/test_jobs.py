"""Long imports as jobs: in-process in the embedded default, a real Celery worker when scaled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rescue.app import create_app
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
