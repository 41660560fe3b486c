"""The `exercise.run` job: an exercise on the job machinery (a child process of the server
by default, a Celery worker when REDIS_URL is set), with progress as `job.progress` events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simulations.exercises import Exercise, ExerciseStore
from simulations.runner import execute

if TYPE_CHECKING:
    from rescue.auth import Principal
    from rescue.context import RescueContext
    from rescue.jobs import Job, JobStore


def queue_run(ctx: RescueContext, principal: Principal, exercise_id: str) -> Exercise:
    """Hand a created exercise to the job machinery; returns it with its job id."""
    store = ExerciseStore(ctx.engine, ctx.clock)
    job = ctx.jobs.create("exercise.run", principal, {"exercise": exercise_id})
    store.set(exercise_id, job_id=job.id)
    ctx.runner.submit(job.id)
    return store.get(exercise_id)


def run_exercise_job(ctx: RescueContext, store: JobStore, job: Job) -> dict[str, Any]:
    report = store.reporter(job, step=0.05)
    return execute(ctx, job.params["exercise"], progress=report)
