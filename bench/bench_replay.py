"""Replay throughput: a recorded 24-hour typhoon (about 1,000 incidents over the demo
registry) replayed as fast as possible from a real `rescue serve` to a Socket.IO client
joined with the replay id, beside a plain loop reading the same events from the log (pages of
1,000, as GET /events would) in the same run. Target (issue 9): at least 0.5x the plain read.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

from bench.served import start_rescue
from realtime.field_client import ordered_client
from rescue.auth import Principal
from rescue.config import Config
from rescue.context import RescueContext
from rescue.demo import demo_registry
from rescue.events import EventQuery
from resources.model import resource_from_dict
from simulations.exercises import ExerciseStore
from simulations.runner import run_exercise
from simulations.scenario import load

TARGET_RATIO = 0.5
EXERCISE = "ex-bench-replay"


def record(data_dir: Path, quick: bool) -> int:
    """Run the typhoon into the data dir's database; returns its number of events."""
    ctx = RescueContext(Config(data_dir=data_dir))
    try:
        typhoon = load("typhoon", tuple(ctx.plans.categories), ctx.vocab)
        scenario = typhoon if quick else typhoon.scaled(1000 / typhoon.expected_incidents())
        ExerciseStore(ctx.engine, ctx.clock).create(Principal(role="admin", name="bench"),
                                                    scenario, exercise_id=EXERCISE,
                                                    state="done")
        units = [resource_from_dict(d, ctx.vocab) for d in demo_registry()]
        return run_exercise(ctx, scenario, EXERCISE, registry=units).store.total_events
    finally:
        ctx.close()


def plain_read(data_dir: Path) -> tuple[int, float]:
    ctx = RescueContext(Config(data_dir=data_dir))
    try:
        t = time.perf_counter()
        n, after = 0, 0
        while True:
            with ctx.uow(readonly=True) as uow:
                page = uow.events.read_dicts(EventQuery(after=after, exercise=EXERCISE,
                                                        limit=1000))
            n += len(page)
            if len(page) < 1000:
                return n, time.perf_counter() - t
            after = page[-1]["seq"]
    finally:
        ctx.close()


def replayed(url: str, token: str) -> tuple[int, float]:
    h = {"Authorization": f"Bearer {token}"}
    rp = requests.post(url + "/api/v1/replays", json={"exercise": EXERCISE, "speed": None},
                       headers=h, timeout=60).json()
    got: dict[str, Any] = {"n": 0, "picture": threading.Event(), "ended": threading.Event()}

    def on_events(msg: dict[str, Any]) -> None:
        got["n"] += len(msg["events"])

    def on_replay(msg: dict[str, Any]) -> None:
        if "picture" in msg:
            got["picture"].set()
        if msg["replay"]["state"] == "ended":
            got["ended"].set()

    sio = ordered_client(reconnection=False)
    sio.on("events", on_events, namespace="/centre")
    sio.on("replay", on_replay, namespace="/centre")
    sio.connect(url, namespaces=["/centre"], transports=["websocket"],
                auth={"token": token, "exercise": rp["id"]}, wait_timeout=30)
    try:
        assert got["picture"].wait(60), "no picture"
        t = time.perf_counter()
        requests.post(f"{url}/api/v1/replays/{rp['id']}/resume", headers=h, timeout=60)
        assert got["ended"].wait(600), "the replay did not end"
        return got["n"], time.perf_counter() - t
    finally:
        sio.disconnect()


def main(quick: bool = False) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="rescue-bench-replay-") as tmp:
        data_dir = Path(tmp)
        events = record(data_dir, quick)
        print(f"   recorded {events} events", file=sys.stderr)
        n_plain, s_plain = plain_read(data_dir)
        server = start_rescue(data_dir=data_dir)
        try:
            n_replay, s_replay = replayed(server.url, server.tokens["admin"])
        finally:
            server.stop()
    plain, replay = n_plain / s_plain, n_replay / s_replay
    print(f"   plain read {n_plain} in {s_plain:.2f} s; replay {n_replay} in {s_replay:.2f} s",
          file=sys.stderr)
    size = f"{events} events, 24 h typhoon, demo registry"
    return [{"bench": "replay", "size": size, "metric": "events_per_s (as fast as possible)",
             "value": round(replay), "unit": "events/s",
             "baseline_name": "plain log read (pages of 1,000)", "baseline_value": round(plain),
             "ratio": round(replay / plain, 2)},
            {"bench": "replay", "size": size, "metric": "complete", "value": n_replay,
             "unit": "events", "baseline_name": "in the log", "baseline_value": n_plain,
             "ratio": round(n_replay / n_plain, 3)}]


if __name__ == "__main__":
    from bench.common import print_table

    print_table(main(quick="--quick" in sys.argv))
