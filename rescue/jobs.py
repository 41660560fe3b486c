"""Background jobs: long work that shows progress and survives the request that started it.

A job row holds its input, status, progress and result, so a Celery worker on another machine
can run it and any server can answer `GET /jobs/{id}`. Progress milestones are also events
(`job.progress`, `job.finished`), so the centre that started an import sees it move live.
The embedded default runs the very same `run_job` in a child process (`rescue job run ID`),
so that a long import never holds the server's event loop: the child commits to the same
database and tells the server how far the log has grown on its stdout, which the server turns
into doorbell rings.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from rescue import tables
from rescue.auth import Principal
from rescue.db import writing
from rescue.events import Event, iso
from resources.errors import NotFound, ResourceError

if TYPE_CHECKING:
    from rescue.context import RescueContext

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Job:
    id: str
    kind: str
    status: str
    progress: float
    message: str | None
    owner: str
    area: str | None
    params: dict[str, Any]
    result: Any
    error: Any
    created: datetime
    updated: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "status": self.status,
                "progress": round(self.progress, 4), "message": self.message,
                "owner": self.owner, "area": self.area, "params": self.params,
                "result": self.result, "error": self.error, "created": iso(self.created),
                "updated": iso(self.updated)}


class JobStore:
    def __init__(self, ctx: RescueContext) -> None:
        self.ctx = ctx

    def create(self, kind: str, principal: Principal, params: dict[str, Any],
               data: bytes | None = None) -> Job:
        now = self.ctx.clock()
        jid = "job-" + uuid.uuid4().hex[:12]
        with writing(self.ctx.engine) as conn:
            conn.execute(insert(tables.jobs).values(
                id=jid, kind=kind, status="queued", progress=0.0, message="queued",
                owner=principal.label, area=principal.area, params=params, input=data,
                created=now, updated=now))
        return self.get(jid)

    def get(self, job_id: str) -> Job:
        t = tables.jobs
        cols = [c for c in t.c if c.name != "input"]
        with self.ctx.engine.connect() as conn:
            row = conn.execute(select(*cols).where(t.c.id == job_id)).mappings().first()
        if row is None:
            raise NotFound(f"no job {job_id!r}", field="id")
        return Job(**{k: row[k] for k in Job.__dataclass_fields__})

    def readable(self, principal: Principal, job_id: str) -> Job:
        job = self.get(job_id)
        if principal.role != "admin" and job.owner != principal.label and not (
                job.area and principal.covers_area(job.area)):
            raise NotFound(f"no job {job_id!r} in your scope", field="id")
        return job

    def input(self, job_id: str) -> bytes | None:
        with self.ctx.engine.connect() as conn:
            return conn.execute(select(tables.jobs.c.input)
                                .where(tables.jobs.c.id == job_id)).scalar()

    def _set(self, job_id: str, **values: Any) -> None:
        with writing(self.ctx.engine) as conn:
            conn.execute(update(tables.jobs).where(tables.jobs.c.id == job_id)
                         .values(updated=self.ctx.clock(), **values))

    def _event(self, job: Job, type_: str, **payload: Any) -> None:
        with self.ctx.uow() as uow:
            uow.record(Event(type=type_, area=job.area or "", time=self.ctx.clock(),
                             payload={"job_id": job.id, "kind": job.kind, **payload}))
            uow.commit()

    def reporter(self, job: Job, step: float = 0.1) -> Progress:
        """Writes every call to the row; emits an event at each `step` of progress."""
        last = [-1.0]

        def report(fraction: float, message: str) -> None:
            fraction = min(max(fraction, 0.0), 1.0)
            self._set(job.id, progress=fraction, message=message[:400])
            if fraction - last[0] >= step or fraction >= 1.0:
                last[0] = fraction
                self._event(job, "job.progress", progress=round(fraction, 3), message=message)

        return report


def run_job(ctx: RescueContext, job_id: str) -> Job:
    """Runs a queued job to its end; errors are recorded on the job, never lost."""
    store = JobStore(ctx)
    job = store.get(job_id)
    if job.status not in ("queued", "running"):
        return job
    store._set(job_id, status="running", message="started")
    from rescue.plugins import job_handlers

    handler = _HANDLERS.get(job.kind) or job_handlers().get(job.kind)
    try:
        if handler is None:
            raise ValueError(f"unknown job kind {job.kind!r}")
        result = handler(ctx, store, job)
    except ResourceError as e:
        message = str(getattr(e, "message", str(e)))
        err = {"code": getattr(e, "code", "error"), "message": message,
               "field": getattr(e, "field", None)}
        store._set(job_id, status="failed", error=err, message=message[:400])
        store._event(job, "job.finished", status="failed", error=err)
        return store.get(job_id)
    except Exception as e:
        log.exception("job %s failed", job_id)
        message = f"{type(e).__name__}: {e}"
        err = {"code": "internal", "message": message, "field": None}
        store._set(job_id, status="failed", error=err, message=message[:400])
        store._event(job, "job.finished", status="failed", error=err)
        return store.get(job_id)
    store._set(job_id, status="done", progress=1.0, result=result, message="done")
    store._event(job, "job.finished", status="done", result=result)
    return store.get(job_id)


def _import_resources(ctx: RescueContext, store: JobStore, job: Job) -> dict[str, Any]:
    from rescue.services.resources import import_resources
    from resources import io as rio

    report = store.reporter(job)
    data = store.input(job.id) or b""
    report(0.02, f"reading {len(data)} bytes of {job.params['format']}")
    rows = rio.read_rows(data, job.params["format"])
    report(0.1, f"read {len(rows)} rows; validating")
    principal = Principal(role=job.params["role"], area=job.params.get("area"),
                          name=job.owner)

    def progress(fraction: float, message: str) -> None:
        report(0.1 + 0.9 * fraction, message)

    return import_resources(ctx.uow(), principal, rows, ctx.vocab, ctx.geography.areas,
                            ctx.clock(), progress=progress)


_HANDLERS: dict[str, Callable[[RescueContext, JobStore, Job], Any]] = {
    "resources.import": _import_resources,
}


class SubprocessRunner:
    """The embedded default: each job runs in a child process of the server (its own core,
    its own GIL), watched by a thread that relays its rings and reaps it."""

    def __init__(self, ctx: RescueContext) -> None:
        self.ctx = ctx
        self._children: set[subprocess.Popen] = set()
        self._lock = threading.Lock()

    def submit(self, job_id: str) -> None:
        env = {**os.environ, **self.ctx.config.to_env(), "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen([sys.executable, "-m", "rescue.entry", "job", "run", job_id],
                                env=env, stdout=subprocess.PIPE, stderr=None, text=True)
        with self._lock:
            self._children.add(proc)
        threading.Thread(target=self._watch, args=(job_id, proc), daemon=True,
                         name=f"job-{job_id}").start()

    def _watch(self, job_id: str, proc: subprocess.Popen) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("seq "):
                with contextlib.suppress(ValueError):
                    self.ctx.doorbell.ring(int(line[4:]))
        code = proc.wait()
        with self._lock:
            self._children.discard(proc)
        if code != 0:
            fail_orphaned(self.ctx, job_id, f"the job process exited with code {code}")

    def close(self) -> None:
        with self._lock:
            children = list(self._children)
        for proc in children:
            proc.terminate()
        for proc in children:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def fail_orphaned(ctx: RescueContext, job_id: str, why: str) -> None:
    """A job whose process died while it was queued or running is marked failed, not left
    running forever."""
    store = JobStore(ctx)
    try:
        job = store.get(job_id)
    except NotFound:
        return
    if job.status in ("queued", "running"):
        err = {"code": "died", "message": why, "field": None}
        store._set(job_id, status="failed", error=err, message=why[:400])
        store._event(job, "job.finished", status="failed", error=err)


def run_job_in_child(ctx: RescueContext, job_id: str) -> int:
    """`rescue job run ID`: run one job, printing "seq N" after each commit for the parent."""
    ctx.add_commit_listener(lambda evs: print(f"seq {evs[-1]['seq']}", flush=True))
    job = run_job(ctx, job_id)
    return 0 if job.status in ("done", "failed") else 1


class CeleryRunner:
    """Scaled mode: a `rescue worker` (Celery, broker = Redis) picks the job up."""

    def __init__(self, redis_url: str) -> None:
        from rescue.worker import make_celery_client

        self.celery = make_celery_client(redis_url)

    def submit(self, job_id: str) -> None:
        self.celery.send_task("rescue.run_job", args=[job_id])

    def close(self) -> None:
        self.celery.close()
