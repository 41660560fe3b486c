"""Scale-out (DESIGN §3, §6): two `rescue serve` processes and a Celery worker share the log
(PostgreSQL) and the doorbell (Redis). An event committed through one server reaches clients
of the other; one committed by a Celery task reaches every client; after kill -9 of a server,
its clients resume on the other with complete, unique sequences, and every acknowledged field
message is in the log exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from realtime.field_client import FieldUnit
from rescue.db import drop_schema, make_engine
from tests.conftest import stop_process
from tests.e2e.conftest import start_server
from tests.e2e.sockets import (
    Listener,
    assert_same_view,
    field_token,
    head,
    http_events,
    import_units,
    units_geojson,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
SECRET = "shared-secret-for-the-scaled-realtime-test"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, pg_url, redis_url):
    engine = make_engine(pg_url)
    drop_schema(engine)
    engine.dispose()
    env = {"DATABASE_URL": pg_url, "REDIS_URL": redis_url, "RESCUE_SECRET_KEY": SECRET}
    a = start_server(tmp_path_factory.mktemp("a"), env)
    b = start_server(tmp_path_factory.mktemp("b"), env)
    wdir = tmp_path_factory.mktemp("worker")
    worker = subprocess.Popen([str(Path(sys.executable).with_name("rescue")), "worker"],
                              env={**os.environ, **env, "RESCUE_DATA_DIR": str(wdir)},
                              stdout=(wdir / "worker.log").open("w"), stderr=subprocess.STDOUT)
    yield a, b, env
    stop_process(worker)
    for s in (a, b):
        if s.proc.poll() is None:
            stop_process(s.proc)


def test_an_event_committed_through_one_server_reaches_clients_of_the_other(cluster) -> None:
    a, b, _ = cluster
    admin = a.tokens["admin"]
    start = head(b.api, admin)
    on_b = Listener(b.base, b.tokens["operator 330328"], last_seq=start).connect()
    r = requests.post(a.api + "/incidents", headers={"Authorization": f"Bearer {admin}"},
                      json={"category": "building_collapse", "severity": "IV", "lat": 27.78,
                            "lon": 120.08}, timeout=10)
    assert r.status_code == 201
    got = on_b.wait_for(lambda e: e["type"] == "incident.reported"
                        and e["payload"]["incident"]["id"] == r.json()["id"], timeout=10)
    assert got["seq"] > start
    on_b.disconnect()


def test_events_committed_by_a_celery_task_reach_every_client(cluster) -> None:
    a, b, _ = cluster
    admin = a.tokens["admin"]
    start = head(a.api, admin)
    clients = [Listener(s.base, s.tokens["operator 3303"], last_seq=start).connect()
               for s in (a, b)]
    r = import_units(a.api, a.tokens["operator 3303"], units_geojson(50, "celery"),
                     background=True)
    assert r.status_code == 202, r.text
    job = r.json()["job"]["id"]
    for c in clients:
        c.wait_for(lambda e: e["type"] == "job.finished" and e["payload"]["job_id"] == job,
                   timeout=60)
        created = [e for e in c.events if e["type"] == "resource.created"
                   and e["payload"]["resource"]["id"].startswith("celery-")]
        assert len(created) == 50
        c.disconnect()


def test_kill_9_of_a_server_loses_and_repeats_nothing(cluster, tmp_path) -> None:
    a, b, env = cluster
    admin = a.tokens["admin"]
    start = head(a.api, admin)
    names = ["operator 3303", "operator 330305", "admin"]
    centres = [Listener(a.base, a.tokens[n], last_seq=start).connect() for n in names]
    units = {u: FieldUnit(a.base, field_token(tmp_path, u, env)) for u in ("vv-dt-1", "vv-dt-2")}
    t0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    stop = threading.Event()

    def drive(unit: FieldUnit, offset: float) -> None:
        i = 0
        while not stop.is_set() and i < 400:
            unit.position(27.82 + i * 1e-4, 121.15 + offset, at=t0 + timedelta(seconds=i))
            i += 1
            if not unit.connected:
                try:
                    unit.connect()
                except Exception:  # noqa: BLE001 - the server is down: keep queueing
                    time.sleep(0.2)
                    continue
            if not unit.flush():
                unit.close()
            time.sleep(0.01)

    for u in units.values():
        u.connect()
    threads = [threading.Thread(target=drive, args=(u, i * 0.01))
               for i, u in enumerate(units.values())]
    for t in threads:
        t.start()
    time.sleep(1.5)
    os.kill(a.proc.pid, signal.SIGKILL)  # mid-stream
    a.proc.wait()
    for u in units.values():  # the units' links move to the surviving server
        u.url = b.base
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join()
    for u in units.values():
        if not u.connected:
            u.connect()
        assert u.flush() and not u.outbox.items
        u.close()
    for c in centres:  # the clients resume on B with what they had
        c.connect(b.base)
    end = head(b.api, admin)
    log_positions = [e for e in http_events(b.api, admin, after=start, type="resource.position")]
    for name, c in zip(names, centres, strict=True):
        assert c.wait_seq(end)
        assert_same_view([e for e in c.events if e["seq"] > start],
                         http_events(b.api, b.tokens[name], after=start), name)
        c.disconnect()
    for rid, u in units.items():
        mine = [e for e in log_positions if e["payload"]["id"] == rid]
        times = [e["payload"]["time"] for e in mine]
        assert len(times) == len(set(times)), f"{rid}: a position applied twice"
        assert len(u.acks) >= 10
        acked_seqs = {s for s in u.acks.values() if s is not None}
        assert acked_seqs <= {e["seq"] for e in mine}, f"{rid}: an acknowledged position is lost"
