"""Scaled mode (DESIGN §3): two server processes share PostgreSQL and Redis."""

from __future__ import annotations

import threading

import pytest
import requests

from rescue.db import drop_schema, make_engine
from tests.conftest import stop_process
from tests.e2e.conftest import start_server

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture(scope="module")
def pair(tmp_path_factory, pg_url, redis_url):
    engine = make_engine(pg_url)
    drop_schema(engine)
    engine.dispose()
    env = {"DATABASE_URL": pg_url, "REDIS_URL": redis_url,
           "RESCUE_SECRET_KEY": "shared-secret-for-both-servers"}
    a = start_server(tmp_path_factory.mktemp("a"), env)
    b = start_server(tmp_path_factory.mktemp("b"), env)
    yield a, b
    for s in (a, b):
        stop_process(s.proc)


def test_both_use_the_shared_services(pair) -> None:
    for s in pair:
        health = requests.get(s.api + "/health", timeout=5).json()
        assert health["database"] == "postgresql" and health["pubsub"] == "RedisBus"
    a, b = pair
    assert a.tokens["admin"] == b.tokens["admin"]  # same secret: tokens work on either


def test_a_change_on_one_server_is_suggested_by_the_other(pair) -> None:
    a, b = pair
    h = a.h("admin")
    unit = {"id": "xproc-1", "name": "Cross-process team", "kind": "land_team",
            "capabilities": ["heavy_rescue", "hazmat"], "speed_kmh": 60, "readiness_s": 60,
            "home": {"name": "Daxue", "lat": 27.781, "lon": 120.081}, "lat": 27.781,
            "lon": 120.081, "area": "330328"}
    assert requests.post(a.api + "/resources", json=unit, headers=h, timeout=10).status_code == 201
    body = {"lat": 27.78, "lon": 120.08, "category": "building_collapse", "severity": "IV"}
    s = requests.post(b.api + "/dispatch/suggest", json=body, headers=h, timeout=30).json()
    heavy = next(q for q in s["requirements"] if q["capability"] == "heavy_rescue")
    assert heavy["candidates"][0]["resource_id"] == "xproc-1"
    seen = requests.get(b.api + "/events", params={"type": "resource.created", "limit": 1000},
                        headers=h, timeout=10).json()["events"]
    assert any(e["payload"]["resource"]["id"] == "xproc-1" for e in seen)


def test_twenty_concurrent_assignments_across_processes_one_success(pair) -> None:
    a, b = pair
    h = a.h("admin")
    unit = {"id": "contested", "name": "Contested boat", "kind": "vessel",
            "capabilities": ["water_rescue"], "speed_kmh": 40, "readiness_s": 600,
            "range_km": 500, "home": {"name": "Dongtou", "lat": 27.84, "lon": 121.16},
            "area": "330305"}
    assert requests.post(a.api + "/resources", json=unit, headers=h, timeout=10).status_code == 201
    incidents = []
    for i in range(4):
        r = requests.post((a if i % 2 else b).api + "/incidents", headers=h, timeout=10, json={
            "category": "maritime_distress", "severity": "III", "lat": 27.84, "lon": 121.46,
            "title": f"boat {i}"})
        assert r.status_code == 201, r.text
        incidents.append(r.json()["id"])
    codes: list[int] = []
    barrier = threading.Barrier(20)

    def go(i: int) -> None:
        server = (a, b)[i % 2]
        barrier.wait()
        r = requests.post(f"{server.api}/incidents/{incidents[i % 4]}/assignments",
                          json={"resource_id": "contested"}, headers=h, timeout=30)
        codes.append(r.status_code)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [201] + [409] * 19
