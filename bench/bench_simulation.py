"""Training simulation speed: a 24-hour typhoon of about 1,000 incidents, as fast as
possible, over the demo registry (95 units) and over a 10,000-unit synthetic registry
clustered at Wenzhou's county seats. Whole path: engine, dispatcher, in-memory store, and the
flushes of every event and touched row to SQLite. Target (issue 9): under 20 s wall."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from bench.common import synthetic_registry
from rescue.config import Config
from rescue.context import RescueContext
from rescue.demo import demo_registry
from rescue.events import SqlEventLog
from resources.model import resource_from_dict
from simulations.runner import run_exercise
from simulations.scenario import load

TARGET_WALL_S = 20.0


def _row(size: str, metric: str, value: float, base_name: str, base: float, unit: str,
         higher_is_better: bool) -> dict:
    ratio = (value / base if higher_is_better else base / value) if value and base else None
    return {"bench": "simulate_typhoon", "size": size, "metric": metric,
            "value": round(value, 2), "unit": unit, "baseline_name": base_name,
            "baseline_value": base, "ratio": round(ratio, 2) if ratio else None}


def main(quick: bool = False) -> list[dict]:
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        ctx = RescueContext(Config(data_dir=Path(tmp)))
        try:
            typhoon = load("typhoon", tuple(ctx.plans.categories), ctx.vocab)
            factor = 1.0 if quick else 1000 / typhoon.expected_incidents()
            scenario = typhoon.scaled(factor)
            registries = {"demo 95 units": [resource_from_dict(d, ctx.vocab)
                                            for d in demo_registry()]}
            if not quick:
                registries["synthetic 10k units"] = synthetic_registry(10_000)
            for i, (name, units) in enumerate(registries.items()):
                t = time.perf_counter()
                eng = run_exercise(ctx, scenario, f"bench-{i}", registry=units)
                wall = time.perf_counter() - t
                size = f"{eng.reported} incidents, 24 h, {name}"
                print(f"   {size}: {wall:.1f} s wall, {eng.store.total_events} events",
                      file=sys.stderr)
                rows.append(_row(size, "sim_s_per_wall_s", scenario.duration_s / wall,
                                 "real time", 1.0, "x", True))
                rows.append(_row(size, "wall_s", wall, "target (issue 9)", TARGET_WALL_S,
                                 "s", False))
                rows.append(_row(size, "events_per_wall_s", eng.store.total_events / wall,
                                 "real time", round(eng.store.total_events
                                                    / scenario.duration_s, 2),
                                 "events/s", True))
                floor = _log_write_s(ctx, f"bench-{i}", Path(tmp) / f"floor-{i}.sqlite")
                rows.append(_row(size, "wall_s", wall, "writing its log alone", round(floor, 2),
                                 "s", False))
        finally:
            ctx.close()
    return rows


def _log_write_s(ctx: RescueContext, exercise: str, path: Path) -> float:
    """Seconds to append the run's events, read back from its log, to a fresh SQLite log in
    batches of 5,000: the least any run that records them must spend."""
    from rescue.db import make_engine, upgrade_schema
    from rescue.events import EventQuery

    with ctx.uow(readonly=True) as uow:
        events = uow.events.read(EventQuery(exercise=exercise, limit=10**7))
    engine = make_engine(f"sqlite:///{path}")
    upgrade_schema(engine)
    try:
        t = time.perf_counter()
        with engine.begin() as conn:
            log = SqlEventLog(conn)
            for i in range(0, len(events), 5000):
                log.append_many(events[i:i + 5000])
        return time.perf_counter() - t
    finally:
        engine.dispose()


if __name__ == "__main__":
    from bench.common import print_table

    print_table(main(quick="--quick" in sys.argv))
