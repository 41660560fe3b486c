"""What simulations adds to rescue (entry point `rescue.plugins`, DESIGN §2): the
`simulate` and `report` commands, the `exercise.run`, `report.build` and `replay.prepare`
job kinds, the exercise and replay routes,
and the replay streams on `/centre`."""

from __future__ import annotations

from typing import Any

from simulations.cli import add_commands


def job_handlers() -> dict[str, Any]:
    from simulations.jobs import run_exercise_job
    from simulations.prepare import prepare_replay_job
    from simulations.reportjobs import build_report_job

    return {"exercise.run": run_exercise_job, "report.build": build_report_job,
            "replay.prepare": prepare_replay_job}


def register_routes(bp: Any, contract: Any) -> None:
    from simulations.api import register
    from simulations.replay_api import register as register_replays
    from simulations.report_api import register as register_reports

    register(bp, contract)
    register_replays(bp, contract)
    register_reports(bp, contract)


def open_stream(ctx: Any, principal: Any, name: str) -> Any | None:
    """A `/centre` client joining a replay id is served the replay (simulations.playback)."""
    from simulations.replays import PREFIX

    if not name.startswith(PREFIX):
        return None
    from rescue.services.common import viewer_of
    from simulations.checkpoints import SqlCheckpoints
    from simulations.playback import Playback, log_reader
    from simulations.replays import ClockCache, ReplayStore

    store = ReplayStore(ctx.engine, ctx.clock)
    r = store.readable(principal, name)
    clocks = ctx.extensions.get("replay_clocks")
    if clocks is None:
        clocks = ctx.extensions["replay_clocks"] = ClockCache(store)
    return Playback(r.id, viewer_of(principal, r.exercise), log_reader(ctx), clocks, ctx.clock,
                    checkpoints=SqlCheckpoints(ctx.engine, ctx.clock))


def job_died(ctx: Any, job: Any, why: str) -> None:
    """An exercise's run whose process died fails at once (not a heartbeat period later)."""
    if job.kind != "exercise.run":
        return
    from simulations.exercises import ACTIVE, ExerciseStore

    err = {"code": "died", "message": why, "field": None}
    ExerciseStore(ctx.engine, ctx.clock).set(job.params["exercise"], only_if=ACTIVE,
                                              state="failed", error=err, message=why[:400])


def check_exercise(ctx: Any, principal: Any, name: str) -> None:
    """An exercise (or replay) id a reader passes must be one it may see (NotFound, as the
    exercise's own routes answer): an operator below an exercise's area reads none of it.
    A field unit's reading is bounded by its unit already (events naming it)."""
    from resources.errors import NotFound
    from simulations.exercises import ExerciseStore
    from simulations.replays import PREFIX, ReplayStore

    if principal.role == "field":
        return
    store = ReplayStore if name.startswith(PREFIX) else ExerciseStore
    try:
        store(ctx.engine, ctx.clock).readable(principal, name)
    except NotFound as e:  # named as the reader asked for it
        raise NotFound(str(e), field="exercise") from None


def incident_clock(ctx: Any, incident_id: str) -> Any | None:
    """An exercise's incident, while trainees play it: its clock (cached for a second)."""
    from simulations.store import exercise_of

    eid = exercise_of(incident_id)
    return exercise_clock(ctx, eid) if eid is not None else None


def exercise_clock(ctx: Any, exercise_id: str) -> Any | None:
    """An exercise's clock now (its simulated time), cached for a second; None when there is
    no such exercise."""
    from datetime import timedelta

    from resources.errors import NotFound
    from simulations.exercises import ExerciseStore

    wall = ctx.clock()
    cache = ctx.extensions.setdefault("exercise_clocks", {})
    hit = cache.get(exercise_id)
    if hit is None or not timedelta(0) <= wall - hit[0] < timedelta(seconds=1):
        try:
            hit = (wall, ExerciseStore(ctx.engine, ctx.clock).get(exercise_id))
        except NotFound:
            hit = (wall, None)
        cache[exercise_id] = hit
    return hit[1].now(wall) if hit[1] is not None else None


__all__ = ["add_commands", "check_exercise", "exercise_clock", "job_died", "incident_clock", "job_handlers", "open_stream", "register_routes"]
