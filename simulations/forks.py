"""What-if forks (DESIGN §11): a new exercise whose state is the recorded picture at a
replay's moment, continued by the automatic dispatcher.

A fork of an exercise goes on with the same scenario (its later incidents, weather and
resource changes) from that moment to its end; a fork of live history runs a quiet scenario
over the replay's area, so trainees or the dispatcher work the incidents that were open.
The exercise row keeps the replay and the moment; the picture is folded again from the log
when the fork runs (the log below that moment never changes).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from realtime.visibility import Viewer
from rescue.auth import Forbidden, Principal
from rescue.events import iso
from simulations.checkpoints import SqlCheckpoints
from simulations.exercises import Exercise, ExerciseStore
from simulations.jobs import queue_run
from simulations.playback import Slice, log_reader
from simulations.replays import Replay, ReplayStore
from simulations.scenario import load
from simulations.state import Picture

if TYPE_CHECKING:
    from rescue.context import RescueContext

LIVE_FORK = timedelta(hours=6)


def _live_scenario(area: str, at: datetime, duration_s: int) -> str:
    return (f"name: what_if\ntitle: What if (from {iso(at)})\narea: \"{area}\"\n"
            f"start: {iso(at)}\nduration: {duration_s}s\nseed: 1\n")


def fork(ctx: RescueContext, principal: Principal, r: Replay, *, mode: str = "auto",
         speed: float | None = None, duration_s: int | None = None) -> Exercise:
    """Create and queue the fork at the replay's moment."""
    if not principal.covers_area(r.area):
        raise Forbidden(f"the replay's area {r.area} is outside your scope")
    at = r.position(ctx.clock())
    exercises = ExerciseStore(ctx.engine, ctx.clock)
    categories = tuple(ctx.plans.categories)
    if r.exercise is not None:
        src = exercises.get(r.exercise)
        scenario = load(src.scenario_text, categories, ctx.vocab, seed=src.seed)
        scale = src.scale
        offset = (at - scenario.start).total_seconds()
        until = offset + duration_s if duration_s else max(scenario.duration_s, offset + 60)
    else:
        span = duration_s or int(LIVE_FORK.total_seconds())
        scenario = load(_live_scenario(r.area, at, span), categories, ctx.vocab)
        scale, offset, until = 1.0, 0.0, float(span)
    point = {"replay": r.id, "time": iso(at), "offset_s": offset, "until_s": until}
    ex = exercises.create(principal, scenario, mode=mode, speed=speed, scale=scale,
                          parent=r.exercise or r.id, fork=point)
    return queue_run(ctx, principal, ex.id)


def picture_at(ctx: RescueContext, replay: Replay, at: datetime) -> Picture:
    """The whole recorded picture of the replay's slice at `at` (not one viewer's share)."""
    slice_ = Slice(replay, Viewer(exercise=replay.exercise), log_reader(ctx),
                   checkpoints=SqlCheckpoints(ctx.engine, ctx.clock))
    return slice_.picture(at, inclusive=True)[0]


def fork_start(ctx: RescueContext, ex: Exercise) -> tuple[Picture, float, float]:
    """What a queued fork starts from: the picture, its offset in the scenario, its end."""
    point = ex.fork
    replay = ReplayStore(ctx.engine, ctx.clock).get(point["replay"])
    at = datetime.fromisoformat(point["time"])
    return picture_at(ctx, replay, at), float(point["offset_s"]), float(point["until_s"])
