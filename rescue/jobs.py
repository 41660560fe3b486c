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

import collections
import contextlib
import logging
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from rescue import tables
from rescue.auth import Forbidden, Principal
from rescue.db import writing
from rescue.events import Event, iso
from resources.errors import Conflict, NotFound, ResourceError

if TYPE_CHECKING:
    from rescue.context import RescueContext

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
ACTIVE = ("queued", "running")


class JobCancelled(Exception):
    """Raised in a job's progress report once someone cancelled it: the handler stops there."""


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
        job = self._row(job_id)
        if job.status == "running" and self.ctx.clock() - job.updated > self._stale_after():
            # Its process stopped beating (a worker killed -9, a lost machine): failed, not
            # running forever.
            fail_orphaned(self.ctx, job_id, "the process running the job stopped (no "
                          f"heartbeat since {iso(job.updated)})", only_if=("running",))
            job = self._row(job_id)
        return job

    def _stale_after(self) -> timedelta:
        return timedelta(seconds=self.ctx.config.job_stale_s)

    def _row(self, job_id: str) -> Job:
        t = tables.jobs
        cols = [c for c in t.c if c.name != "input"]
        with self.ctx.engine.connect() as conn:
            row = conn.execute(select(*cols).where(t.c.id == job_id)).mappings().first()
        if row is None:
            raise NotFound(f"no job {job_id!r}", field="id")
        return Job(**{k: row[k] for k in Job.__dataclass_fields__})

    def cancel(self, principal: Principal, job_id: str) -> Job:
        """Stop a queued or running job: its handler stops at its next progress report
        (what it wrote before stays; an import writes nothing until its last step). An
        exercise is cancelled as an exercise (its run job follows)."""
        job = self.readable(principal, job_id)
        if principal.role != "admin" and job.owner != principal.label:
            raise Forbidden("only who started the job (or an admin) cancels it")
        if job.kind == "exercise.run":
            raise Conflict("an exercise's run is cancelled as the exercise: POST "
                           f"/api/v1/exercises/{job.params.get('exercise')}/cancel",
                           field="id", code="exercise")
        if not self._set(job_id, only_if=ACTIVE, status="cancelled", message="cancelled"):
            raise Conflict(f"job {job_id} is {self.get(job_id).status}", field="id",
                           code="finished")
        self._event(job, "job.finished", status="cancelled")
        return self.get(job_id)

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

    def _set(self, job_id: str, only_if: tuple[str, ...] | None = None, **values: Any) -> bool:
        """Write the row (only while its status is one of `only_if`); whether it was."""
        t = tables.jobs
        where = t.c.id == job_id
        if only_if is not None:
            where = where & t.c.status.in_(only_if)
        with writing(self.ctx.engine) as conn:
            return bool(conn.execute(update(t).where(where)
                                     .values(updated=self.ctx.clock(), **values)).rowcount)

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
            if not self._set(job.id, only_if=("running",), progress=fraction,
                             message=message[:400]):
                raise JobCancelled(job.id)
            if fraction - last[0] >= step or fraction >= 1.0:
                last[0] = fraction
                self._event(job, "job.progress", progress=round(fraction, 3), message=message)

        return report


def run_job(ctx: RescueContext, job_id: str) -> Job:
    """Runs a queued job to its end; errors are recorded on the job, never lost."""
    store = JobStore(ctx)
    job = store.get(job_id)
    if not store._set(job_id, only_if=ACTIVE, status="running", message="started"):
        return job  # done, failed or cancelled meanwhile
    from rescue.plugins import job_handlers

    handler = _HANDLERS.get(job.kind) or job_handlers().get(job.kind)
    beating = threading.Event()
    threading.Thread(target=_heartbeat, args=(store, job_id, beating), daemon=True,
                     name=f"heartbeat-{job_id}").start()
    try:
        if handler is None:
            raise ValueError(f"unknown job kind {job.kind!r}")
        result = handler(ctx, store, job)
    except JobCancelled:
        log.info("job %s cancelled", job_id)
        return store.get(job_id)
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
    finally:
        beating.set()
    # Done even if a cancel came after its last report: what it did stands.
    store._set(job_id, status="done", progress=1.0, result=result, message="done")
    store._event(job, "job.finished", status="done", result=result)
    return store.get(job_id)


def _heartbeat(store: JobStore, job_id: str, stop: threading.Event) -> None:
    """Touch the running job's row often enough that readers know its process lives (six
    beats in the time after which a silent job counts as dead)."""
    every = store._stale_after().total_seconds() / 6
    while not stop.wait(every):
        try:
            if not store._set(job_id, only_if=("running",)):
                return
        except Exception:  # noqa: BLE001 - a missed beat; the next one tries again
            log.warning("job %s: heartbeat not written", job_id, exc_info=True)


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
    its own GIL), watched by a thread that relays its rings and reaps it. At most
    `config.job_processes` at once (a burst of requests, each starting a job, does not start a
    burst of Python processes); the others wait their turn, queued."""

    def __init__(self, ctx: RescueContext) -> None:
        self.ctx = ctx
        self.limit = max(1, ctx.config.job_processes)
        self._children: set[subprocess.Popen] = set()
        self._waiting: collections.deque[str] = collections.deque()
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, job_id: str) -> None:
        with self._lock:
            if self._closed:
                return  # (left queued: the next start runs it, `resume_queued`)
            if len(self._children) >= self.limit:
                self._waiting.append(job_id)
                return
            self._start(job_id)

    def _start(self, job_id: str) -> None:
        """A child for the job (the lock held)."""
        env = {**os.environ, **self.ctx.config.to_env(), "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen([sys.executable, "-m", "rescue.entry", "job", "run", job_id],
                                env=env, stdout=subprocess.PIPE, stderr=None, text=True)
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
            if self._waiting and not self._closed:
                self._start(self._waiting.popleft())
        if code != 0:
            fail_orphaned(self.ctx, job_id, f"the job process exited with code {code}")

    def running(self) -> int:
        with self._lock:
            return len(self._children)

    def resume_queued(self) -> int:
        """Hand the jobs left queued by an earlier run of this server (stopped before their
        turn came) to the runner again; how many. Only where this server is the one runner
        (the embedded default: a Celery queue keeps its own)."""
        t = tables.jobs
        with self.ctx.engine.connect() as conn:
            ids = conn.execute(select(t.c.id).where(t.c.status == "queued")
                               .order_by(t.c.created)).scalars().all()
        for job_id in ids:
            self.submit(job_id)
        return len(ids)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            children = list(self._children)
        for proc in children:
            proc.terminate()
        for proc in children:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def fail_orphaned(ctx: RescueContext, job_id: str, why: str,
                  only_if: tuple[str, ...] = ACTIVE) -> None:
    """A job whose process died while it was queued or running is marked failed, not left
    running forever."""
    store = JobStore(ctx)
    try:
        job = store._row(job_id)
    except NotFound:
        return
    err = {"code": "died", "message": why, "field": None}
    if store._set(job_id, only_if=only_if, status="failed", error=err, message=why[:400]):
        store._event(job, "job.finished", status="failed", error=err)
        from rescue.plugins import job_died

        job_died(ctx, job, why)  # what the job was running (an exercise) fails with it


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

    def resume_queued(self) -> int:
        """Nothing to hand again: the broker's queue keeps the jobs no worker took yet."""
        return 0

    def close(self) -> None:
        self.celery.close()
