"""The `replay.prepare` job: a replay's fold done ahead, where jobs run (a child process of the
server, or `rescue worker` on Celery when REDIS_URL is set), so that its viewers' first seeks
start from a checkpoint instead of the log's start (simulations.checkpoints).

A viewer's picture at a moment is the fold of every event it may see up to that moment; a seek
folds from the nearest checkpoint saved under the same sight and slice. Without one, the first
seek to the end of a day-long typhoon folds 69,000 events (~2 s), and a live area's first
replay folds all of its live history. Right after `POST /replays` (a replay is created paused,
so its class has not joined yet) this job folds the whole slice once for the sights most
likely to watch it: its maker's, and the whole slice's (what a what-if fork starts from),
leaving checkpoints along it. Short slices are not worth a job (`worth_preparing`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from realtime.visibility import Viewer
from rescue import tables
from rescue.services.common import viewer_of
from simulations.checkpoints import SqlCheckpoints, key_of
from simulations.playback import Slice, log_reader
from simulations.replays import Replay, ReplayStore

if TYPE_CHECKING:
    from rescue.auth import Principal
    from rescue.context import RescueContext
    from rescue.jobs import Job, JobStore


def sight_to_dict(v: Viewer) -> dict[str, Any]:
    return {"scope": v.scope, "unit": v.unit, "exercise": v.exercise,
            "categories": sorted(v.categories) if v.categories is not None else None}


def sight_from_dict(d: dict[str, Any]) -> Viewer:
    cats = d.get("categories")
    return Viewer(scope=d.get("scope"), unit=d.get("unit"), exercise=d.get("exercise"),
                  categories=frozenset(cats) if cats is not None else None)


def sights(principal: Principal, r: Replay) -> list[Viewer]:
    """Whose folds to prepare: the maker's sight, and the whole slice's; one when they fold
    the same events (the same checkpoint key)."""
    out: dict[str, Viewer] = {}
    for v in (viewer_of(principal, r.exercise), Viewer(exercise=r.exercise)):
        out.setdefault(key_of(v, r.source), v)
    return list(out.values())


def worth_preparing(ctx: RescueContext, r: Replay, min_events: int) -> bool:
    """Whether a fold to the slice's end may read `min_events` or more: the events of its
    exercise (or the live log) up to its last seq, bounded from above by seqs, not counted."""
    if r.exercise is None:
        return r.seq_to >= min_events
    t = tables.events
    with ctx.engine.connect() as conn:
        first = conn.execute(select(func.min(t.c.seq)).where(t.c.exercise == r.exercise)
                             ).scalar()
    return first is not None and r.seq_to - int(first) + 1 >= min_events


def queue_prepare(ctx: RescueContext, principal: Principal, r: Replay) -> Replay:
    """Hand the replay's fold to the job machinery when it may read
    `config.replay_prepare_events` events or more (a fold of 20,000 takes ~0.6 s: not worth
    a job); returns the replay with the job's id (`prepare_job`), or as it was."""
    if not worth_preparing(ctx, r, ctx.config.replay_prepare_events):
        return r
    job = ctx.jobs.create("replay.prepare", principal, {
        "replay": r.id, "sights": [sight_to_dict(v) for v in sights(principal, r)]})
    ReplayStore(ctx.engine, ctx.clock).set_prepare_job(r.id, job.id)
    ctx.runner.submit(job.id)
    return replace(r, prepare_job=job.id)


def prepare_replay_job(ctx: RescueContext, store: JobStore, job: Job) -> dict[str, Any]:
    report = store.reporter(job, step=0.1)
    r = ReplayStore(ctx.engine, ctx.clock).get(job.params["replay"])
    viewers = [sight_from_dict(d) for d in job.params["sights"]]
    entries = fold_ahead(ctx, r, viewers, report)
    return {"replay": r.id, "sights": len(viewers), "picture_entries": entries}


def fold_ahead(ctx: RescueContext, r: Replay, viewers: list[Viewer],
               report: Callable[[float, str], None] | None = None) -> int:
    """Fold the slice to its end once per sight, saving checkpoints along the way; progress
    by recorded time, sight after sight. Returns the entries of the pictures at the end."""
    checkpoints = SqlCheckpoints(ctx.engine, ctx.clock)
    read = log_reader(ctx)
    entries = 0
    for i, v in enumerate(viewers):
        def progress(done: float, i: int = i) -> None:
            if report is not None:
                report((i + done) / len(viewers),
                       f"folding the slice as sight {i + 1} of {len(viewers)} sees it")

        pic, _, _ = Slice(r, v, read, checkpoints=checkpoints).picture(
            r.time_to, inclusive=True, progress=progress)
        entries += pic.size()
    return entries
