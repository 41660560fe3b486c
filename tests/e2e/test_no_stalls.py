"""Background work leaves the server answering: while a large import runs (in a child
process in the embedded default), /health answers and a socket client gets a new incident.
(Before, the import ran on the server's event loop and held every request for minutes.) And
while the first GET /coverage builds its grid."""

from __future__ import annotations

import threading
import time

import requests

from tests.e2e.sockets import Listener, import_units, units_geojson


def test_the_server_answers_while_an_import_runs(server) -> None:
    admin = {"Authorization": f"Bearer {server.tokens['admin']}"}
    body = units_geojson(15_000, "stall")
    watcher = Listener(server.base, server.tokens["operator 330302"]).connect()
    answers: list[tuple[float, float]] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            t = time.monotonic()
            assert requests.get(server.api + "/health", timeout=60).status_code == 200
            answers.append((t, time.monotonic() - t))
            time.sleep(0.05)

    poller = threading.Thread(target=poll)
    poller.start()
    r = import_units(server.api, server.tokens["admin"], body, background=True)
    assert r.status_code == 202, r.text
    job_id = r.json()["job"]["id"]
    started = time.monotonic()
    time.sleep(2)
    inc = requests.post(server.api + "/incidents", headers=admin, timeout=30, json={
        "category": "medical_evacuation", "severity": "IV", "lat": 28.0157, "lon": 120.6556})
    watcher.wait_for(lambda e: e["type"] == "incident.reported"
                     and e["payload"]["incident"]["id"] == inc.json()["id"], timeout=10)
    while True:
        job = requests.get(f"{server.api}/jobs/{job_id}", headers=admin, timeout=30).json()
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.2)
    finished = time.monotonic()
    stop.set()
    poller.join()
    watcher.disconnect()
    assert job["status"] == "done", job
    during = [d for t, d in answers if started <= t <= finished]
    assert len(during) >= 10, "the server did not answer while the import ran"
    assert max(during) < 2.0, f"/health waited {max(during):.2f} s"


def test_the_server_answers_while_it_builds_coverage(server) -> None:
    """The first GET /coverage builds the grid (~1.5 s); its GEOS and PROJ work held the
    loop for up to a second, and a pause by gevent.sleep(0) let no socket be read."""
    admin = {"Authorization": f"Bearer {server.tokens['admin']}"}
    answers: list[float] = []
    got: dict = {}

    def first() -> None:
        got["r"] = requests.get(server.api + "/coverage", headers=admin, timeout=120)

    building = threading.Thread(target=first)
    building.start()
    while building.is_alive():
        t = time.monotonic()
        assert requests.get(server.api + "/health", timeout=60).status_code == 200
        answers.append(time.monotonic() - t)
        time.sleep(0.01)
    assert got["r"].status_code == 200 and got["r"].json()["features"]
    assert len(answers) >= 10, "the server did not answer while it built coverage"
    assert max(answers) < 0.5, f"/health waited {max(answers):.2f} s"
