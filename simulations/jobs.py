"""The `exercise.run` job: an exercise on the job machinery (a child process of the server
by default, a Celery worker when REDIS_URL is set), with progress as `job.progress` events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simulations.runner import execute

if TYPE_CHECKING:
    from rescue.context import RescueContext
    from rescue.jobs import Job, JobStore


def run_exercise_job(ctx: RescueContext, store: JobStore, job: Job) -> dict[str, Any]:
    report = store.reporter(job, step=0.05)
    return execute(ctx, job.params["exercise"], progress=report)
