"""Replay throughput: a recorded 24-hour typhoon (about 1,000 incidents over the demo
registry) replayed as fast as possible from a real `rescue serve` to a Socket.IO client
joined with the replay id, beside a plain loop reading the same events from the log (pages of
1,000, as GET /events would) in the same run. Target (issue 9): at least 0.5x the plain read.

And seeks: the picture at moments drawn across the exercise, folded from the nearest saved
checkpoint (simulations.checkpoints; the seeks before it left them), beside the same
pictures folded from the start of the log, and the first fold (which saves them) beside a
fold that saves none; and a new viewer's first seek after its replay was folded ahead
(simulations.prepare) beside the same seek folded from the start.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

from bench.served import start_rescue
from realtime.field_client import ordered_client
from realtime.visibility import Viewer
from rescue.auth import Principal
from rescue.config import Config
from rescue.context import RescueContext
from rescue.demo import demo_registry
from rescue.events import EventQuery
from rescue.services.common import viewer_of
from resources.model import resource_from_dict
from simulations.checkpoints import SqlCheckpoints
from simulations.exercises import ExerciseStore
from simulations.playback import Slice, log_reader
from simulations.prepare import fold_ahead, sights
from simulations.replays import ReplayStore
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


def seeks(data_dir: Path, n: int) -> list[dict]:
    """Seek figures (module docstring), in this process, on the recorded exercise."""
    ctx = RescueContext(Config(data_dir=data_dir))
    try:
        store = ReplayStore(ctx.engine, ctx.clock)
        first, last = store.bounds(EXERCISE)
        assert first is not None and last is not None
        r = store.create(Principal(role="admin", name="bench"), {"exercise": EXERCISE},
                         EXERCISE, "33", first, last, None)
        viewer, read = Viewer(exercise=EXERCISE), log_reader(ctx)
        saved = SqlCheckpoints(ctx.engine, ctx.clock)

        def fold(at, checkpoints=None) -> float:  # noqa: ANN001
            t = time.perf_counter()
            Slice(r, viewer, read, checkpoints=checkpoints).picture(at)
            return time.perf_counter() - t

        plain_first, saving_first = fold(last), fold(last, saved)
        rnd = random.Random(7)
        moments = [first + (last - first) * rnd.random() for _ in range(n)]
        ours = [fold(at, saved) for at in moments]
        base = [fold(at) for at in moments]
        # A city trainer's replay, folded ahead as the replay.prepare job does (here in this
        # process), then the trainer's first seek, to the end, beside a fold from the start.
        trainer = Principal(role="trainer", area="3303", name="bench")
        r2 = store.create(trainer, {"exercise": EXERCISE}, EXERCISE, "33", first, last, None)
        own = viewer_of(trainer, EXERCISE)
        t = time.perf_counter()
        fold_ahead(ctx, r2, sights(trainer, r2))
        ahead_s = time.perf_counter() - t

        def first_seek(checkpoints=None) -> float:  # noqa: ANN001
            t = time.perf_counter()
            Slice(r2, own, read, checkpoints=checkpoints).picture(last)
            return time.perf_counter() - t

        prepared, unprepared = first_seek(saved), first_seek()
        # Two viewers of one sight (a provincial class) seek to the end 0.5 s apart, served
        # by one process: the second leaps along the first's checkpoints as they come,
        # beside the same two folds each folding alone (both times: until both have it).
        province = Principal(role="operator", area="33", name="bench")
        together = _two_viewers(ctx, store, province, first, last, saved, leap=True)
        alone = _two_viewers(ctx, store, province, first, last, saved, leap=False)
    finally:
        ctx.close()
    print(f"   folded ahead (2 sights, one already saved) in {ahead_s:.2f} s", file=sys.stderr)
    size = f"{n} moments of the recorded typhoon"
    p50, b50 = statistics.median(ours), statistics.median(base)
    return [{"bench": "replay", "size": size, "metric": "seek: picture p50 (ms)",
             "value": round(p50 * 1000, 1), "unit": "ms",
             "baseline_name": "folded from the log's start", "baseline_value":
             round(b50 * 1000, 1), "ratio": round(b50 / p50, 1)},
            {"bench": "replay", "size": size, "metric": "seek: picture worst (ms)",
             "value": round(max(ours) * 1000, 1), "unit": "ms",
             "baseline_name": "folded from the log's start", "baseline_value":
             round(max(base) * 1000, 1), "ratio": round(max(base) / max(ours), 1)},
            {"bench": "replay", "size": "the picture at the exercise's end, first time",
             "metric": "fold saving checkpoints (ms)", "value": round(saving_first * 1000),
             "unit": "ms", "baseline_name": "a fold saving none", "baseline_value":
             round(plain_first * 1000), "ratio": round(plain_first / saving_first, 2)},
            {"bench": "replay", "size": "a new sight's first seek, to the exercise's end",
             "metric": f"after the replay.prepare job ({ahead_s:.1f} s, in the background)",
             "value": round(prepared * 1000, 1), "unit": "ms",
             "baseline_name": "folded from the log's start", "baseline_value":
             round(unprepared * 1000), "ratio": round(unprepared / prepared, 1)},
            {"bench": "replay", "size": "two viewers of a new sight seeking to the end 0.5 s "
             "apart, one server process", "metric": "until both have the picture (ms)",
             "value": round(together * 1000), "unit": "ms",
             "baseline_name": "each folding alone", "baseline_value": round(alone * 1000),
             "ratio": round(alone / together, 2)}]


def _two_viewers(ctx: RescueContext, store: ReplayStore, who: Principal, first: Any,
                 last: Any, saved: SqlCheckpoints, leap: bool) -> float:
    """Seconds until two viewers of `who`'s sight of a new replay, the second 0.5 s after
    the first, both have the picture at its end; the second leaping along the first's
    checkpoints or not. Threads of one process: the server's greenlets share its GIL too."""
    from sqlalchemy import delete

    from rescue import tables
    from simulations.checkpoints import key_of

    r = store.create(who, {"exercise": EXERCISE}, EXERCISE, "33", first, last, None)
    read, sight = log_reader(ctx), viewer_of(who, EXERCISE)
    with ctx.engine.begin() as conn:  # nothing saved for this sight before
        conn.execute(delete(tables.picture_checkpoints)
                     .where(tables.picture_checkpoints.c.key == key_of(sight, r.source)))
    done: dict[str, float] = {}

    def fold(name: str, look: float) -> None:
        s = Slice(r, sight, read, checkpoints=saved, look_every_s=look)
        s.picture(last)
        done[name] = time.perf_counter() - t
        done[name + " leaps"] = s.leaps

    t = time.perf_counter()
    a = threading.Thread(target=fold, args=("first", 0.5))
    a.start()
    time.sleep(0.5)
    fold("second", 0.5 if leap else float("inf"))
    a.join()
    print(f"   two viewers ({'leaping' if leap else 'each alone'}): {done}", file=sys.stderr)
    return time.perf_counter() - t


def main(quick: bool = False) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="rescue-bench-replay-") as tmp:
        data_dir = Path(tmp)
        events = record(data_dir, quick)
        print(f"   recorded {events} events", file=sys.stderr)
        n_plain, s_plain = plain_read(data_dir)
        seek_rows = seeks(data_dir, 5 if quick else 20)
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
             "ratio": round(n_replay / n_plain, 3)}] + seek_rows


if __name__ == "__main__":
    from bench.common import print_table

    print_table(main(quick="--quick" in sys.argv))
