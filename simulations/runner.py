"""Running one exercise: the registry it starts from, the engine, progress, flushing to the
database, heartbeat and cancellation. Used by the CLI, by jobs (in a child process or on a
Celery worker) and by the bench."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import simpy
import simpy.rt

from rescue.demo import demo_registry
from rescue.events import EventQuery
from resources.model import Resource, resource_from_dict
from resources.repository import ResourceFilter
from simulations.engine import Cancelled, Engine
from simulations.exercises import HEARTBEAT_S, ExerciseStore
from simulations.report import build_report
from simulations.scenario import Scenario, load
from simulations.state import Picture

if TYPE_CHECKING:
    from rescue.context import RescueContext

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]


def live_registry(ctx: RescueContext) -> list[Resource]:
    """The live registry, or the demo registry when the database has none (a fresh clone)."""
    with ctx.uow(readonly=True) as uow:
        live = [r for r in uow.resources.list(ResourceFilter()) if r.exercise is None]
    if live:
        return sorted(live, key=lambda r: r.id)
    log.info("no live units in the database: the exercise uses the demo registry")
    return [resource_from_dict(d, ctx.vocab) for d in demo_registry()]


def run_exercise(ctx: RescueContext, scenario: Scenario, exercise: str, *,
                 registry: list[Resource] | None = None,
                 on_tick: Callable[[Engine], None] | None = None,
                 speed: float | None = None, picture: Picture | None = None,
                 offset_s: float = 0.0, until_s: float | None = None,
                 mode: str = "auto") -> Engine:
    """Runs the scenario (as fast as possible, or `speed` times real time), writing to the
    database as it goes: every 2 s of wall time, or every second when watched in real time.
    A fork starts `offset_s` into the scenario from a recorded picture. With trainees in the
    loop the exercise lives in the database (they act on it) and runs in (scaled) real time."""
    units = registry if registry is not None or picture is not None else live_registry(ctx)
    flush_every = 2.0 if speed is None else 1.0
    last_flush = [time.monotonic()]

    def tick(engine: Engine) -> None:
        if on_tick is not None:
            on_tick(engine)
        if time.monotonic() - last_flush[0] >= flush_every:
            engine.store.flush(ctx.uow)
            last_flush[0] = time.monotonic()
        if speed is None:  # (minutes; a run in real time may last hours: it collects)
            gc.freeze()  # what outlived the tick: see long_lived_frozen

    store = None
    if mode == "trainees":
        from simulations.sqlstore import SqlStore

        store = SqlStore(ctx, exercise)
        speed = speed or 1.0
    env = (simpy.rt.RealtimeEnvironment(initial_time=offset_s, factor=1.0 / speed, strict=False)
           if speed is not None else simpy.Environment(initial_time=offset_s))
    engine = Engine(scenario, exercise, units or [], geography=ctx.geography,
                    dispatcher=ctx.dispatcher, vocab=ctx.vocab, tick=tick, env=env,
                    tick_every_s=None if speed is None else max(1.0, speed),
                    picture=picture, until_s=until_s, mode=mode, store=store)
    try:
        with long_lived_frozen():
            engine.run(on_started=gc.freeze)  # once its units exist: they live as long
    finally:
        engine.store.flush(ctx.uow, wait=True)
    return engine


@contextmanager
def long_lived_frozen() -> Iterator[None]:
    """A run's collector: it runs less often, and what the caller freezes (`gc.freeze`) once
    the run has started (the registry, geography, plans, the exercise's units, the process's
    modules: they outlive the run) stays out of its passes. Why: a 24-hour run allocates
    millions of objects, nearly all freed by reference counting, and each full collection
    re-scanned the long-lived ones (3.6 s of a 20 s run at 10,000 units; 0.5 s now). A run
    as fast as possible also freezes after every tick what outlived it (the events and rows
    waiting for the next flush, the moving units' places: most are soon freed by reference
    counting, which freezing does not stop), so young collections stop carrying them into
    older ones to be scanned again (1.0 s of a 19 s run at 10,000 units before; 0.15 s; the
    same peak memory); a run in real time, which may last hours, does not. Cycles among the
    frozen wait for the end of the run, when they return to the collector and the process's
    thresholds are restored."""
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def exercise_pages(ctx: RescueContext, exercise: str, limit: int = 20000
                   ) -> Iterator[list[dict[str, Any]]]:
    """An exercise's log, page by page (a server yields to its other clients between)."""
    after = 0
    while True:
        with ctx.uow(readonly=True) as uow:
            page = uow.events.read_dicts(EventQuery(after=after, exercise=exercise,
                                                    limit=limit))
        if page:
            yield page
            after = page[-1]["seq"]
        if len(page) < limit:
            return


def exercise_events(ctx: RescueContext, exercise: str) -> list[dict[str, Any]]:
    return [ev for page in exercise_pages(ctx, exercise) for ev in page]


def reports_dir(ctx: RescueContext, name: str) -> Path:
    """Where the report files of an exercise (or of a report job) are written."""
    return Path(ctx.config.data_dir) / "reports" / name


def execute(ctx: RescueContext, exercise_id: str, progress: Progress | None = None
            ) -> dict[str, Any]:
    """Run a queued exercise to its end (the job handler and `rescue simulate`)."""
    store = ExerciseStore(ctx.engine, ctx.clock)
    ex = store.get(exercise_id)
    if ex.state == "running":  # delivered again after the worker running it died
        store.set(ex.id, state="failed", message="the worker running it stopped",
                  error={"code": "died", "message": "the worker running it stopped",
                         "field": None})
        return {"exercise": ex.id, "state": "failed"}
    if not store.set(ex.id, only_if=frozenset({"queued"}), state="running",
                     message="running"):
        return {"exercise": ex.id, "state": store.state(ex.id)}
    scenario = load(ex.scenario_text, tuple(ctx.plans.categories), ctx.vocab,
                    seed=ex.seed).scaled(ex.scale)
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_S):
            store.set(ex.id, only_if=frozenset({"running"}))

    threading.Thread(target=beat, daemon=True, name=f"heartbeat-{ex.id}").start()

    def on_tick(engine: Engine) -> None:
        if store.state(ex.id) == "cancelled":
            raise Cancelled(ex.id)
        fraction = engine.fraction()
        message = (f"{engine.now().isoformat()[:16]} simulated: {engine.reported} incidents, "
                   f"{engine.store.total_events} events")
        store.set(ex.id, only_if=frozenset({"running"}), progress=fraction,
                  sim_time=engine.now(), message=message[:400],
                  # where its clock stands (what trainees' actions are stamped with)
                  clock_wall=ctx.clock(), clock_sim=engine.now())
        if progress is not None:
            progress(fraction, message)

    start: dict[str, Any] = {}
    if ex.fork:
        from simulations.forks import fork_start

        start["picture"], start["offset_s"], start["until_s"] = fork_start(ctx, ex)
    try:
        engine = run_exercise(ctx, scenario, ex.id, on_tick=on_tick, speed=ex.speed,
                              mode=ex.mode, **start)
    except Cancelled:
        return {"exercise": ex.id, "state": "cancelled"}
    except Exception as e:
        store.set(ex.id, state="failed", message=str(e)[:400],
                  error={"code": "internal", "message": f"{type(e).__name__}: {e}",
                         "field": None})
        raise
    finally:
        stop.set()
    report = build_report(exercise_events(ctx, ex.id), ctx.plans, ctx.vocab)
    from simulations.reportfiles import write

    write(report, reports_dir(ctx, ex.id))
    summary = {"incidents": report["incidents"], "response": report["response"],
               "shortfalls": {k: v for k, v in report["shortfalls"].items()
                              if k != "by_capability"},
               "events": engine.store.total_events}
    store.set(ex.id, state="done", progress=1.0, sim_time=engine.now(), summary=summary,
              message=f"done: {engine.reported} incidents, {engine.store.total_events} events")
    return {"exercise": ex.id, "state": "done", "incidents": engine.reported,
            "events": engine.store.total_events}
