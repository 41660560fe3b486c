"""The Celery worker (`rescue worker`): long jobs in scaled mode, broker = Redis.

Tasks run inside the Flask app context of the worker's own app (Flask's Celery pattern), so
they use the same services, database and event bus (Redis) as the servers: a job's progress
events reach every centre through any server.
"""

from __future__ import annotations

import logging

from celery import Celery, Task

from rescue.config import Config
from rescue.gcpolicy import settle_long_lived

log = logging.getLogger(__name__)


def make_celery_client(redis_url: str) -> Celery:
    """Enough Celery to send tasks (servers); no app context needed."""
    return Celery("rescue", broker=redis_url, set_as_current=False)


def make_celery(config: Config) -> Celery:
    """The worker's Celery app. Its Flask app (database engine, checkpointer and bus threads)
    is built lazily in each pool process, never in the parent before it forks: a fork taken
    while another thread holds a lock (SQLite's, a logging handler's) leaves the child
    waiting on it forever, and a job received by such a child never ran."""
    from flask import Flask

    from rescue.app import create_app

    built: dict[str, Flask] = {}

    def flask_app() -> Flask:
        if "app" not in built:
            built["app"] = create_app(config)
            settle_long_lived()
        return built["app"]

    class AppContextTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with flask_app().app_context():
                return self.run(*args, **kwargs)

    celery = Celery("rescue", broker=config.redis_url, task_cls=AppContextTask,
                    set_as_current=True)
    # A job (an exercise watched at real speed) may run for hours; with late acks Redis would
    # hand a still-running task to another worker once this timeout passed. A worker that
    # dies is found by the job's own bookkeeping (an exercise's heartbeat), not by redelivery.
    celery.conf.update(task_acks_late=True, worker_prefetch_multiplier=1,
                       task_ignore_result=True, broker_connection_retry_on_startup=True,
                       broker_transport_options={"visibility_timeout": 8 * 86400})

    @celery.task(name="rescue.run_job")
    def run_job_task(job_id: str) -> str:
        from rescue.jobs import run_job

        job = run_job(flask_app().extensions["rescue"], job_id)
        log.info("job %s: %s", job_id, job.status)
        return job.status

    return celery
