"""After-action reports as jobs (DESIGN §11): an exercise's, or a window of live history in an
area. Reading a day of the log and drawing the plots takes seconds, so it runs where jobs run
(a child process, or `rescue worker` on Celery) and never in a server's request; the files
land under `$RESCUE_DATA_DIR/reports/<job id>/`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from realtime.visibility import Viewer
from rescue.events import EventQuery
from simulations.playback import Slice
from simulations.replays import Replay
from simulations.report import build_report
from simulations.reportfiles import write
from simulations.runner import exercise_events

if TYPE_CHECKING:
    from rescue.context import RescueContext
    from rescue.jobs import Job, JobStore

PAGE = 5000


def report_dir(ctx: RescueContext, job_id: str) -> Path:
    return Path(ctx.config.data_dir) / "reports" / job_id


def live_events(ctx: RescueContext, area: str, t0: datetime, t1: datetime,
                progress: Any = None) -> list[dict[str, Any]]:
    """Live events concerning an area between two moments, in recorded order."""
    from simulations.replays import ReplayStore

    seq_from, seq_to = ReplayStore(ctx.engine, ctx.clock)._seq_range(None, t0, t1)

    def read(q: EventQuery) -> list[dict[str, Any]]:
        with ctx.uow(readonly=True) as uow:
            return uow.events.read_dicts(q)

    window = Replay(id="report", owner="", source={"area": area}, exercise=None, area=area,
                    seq_from=seq_from, seq_to=seq_to, time_from=t0, time_to=t1,
                    state="paused", speed=None, anchor_wall=t0, anchor_time=t0, generation=0,
                    reached_time=None, created=t0, updated=t0)
    slice_ = Slice(window, Viewer(), read, page=PAGE)
    out: list[dict[str, Any]] = []
    seq = seq_from
    while seq < seq_to:
        events, seq = slice_.after(seq)
        out.extend(events)
        if progress is not None and seq_to > seq_from:
            progress(0.8 * (seq - seq_from) / (seq_to - seq_from), f"{len(out)} events read")
    return out


def build_report_job(ctx: RescueContext, store: JobStore, job: Job) -> dict[str, Any]:
    progress = store.reporter(job, step=0.1)
    p = job.params
    if p.get("exercise"):
        events = exercise_events(ctx, p["exercise"])
    else:
        events = live_events(ctx, p["area"], datetime.fromisoformat(p["from"]),
                             datetime.fromisoformat(p["to"]), progress)
    progress(0.85, f"{len(events)} events read; building the report")
    report = build_report(events, ctx.plans, ctx.vocab)
    report["window"] = {k: p.get(k) for k in ("exercise", "area", "from", "to")}
    progress(0.9, "drawing the plots")
    write(report, report_dir(ctx, job.id))
    return {"incidents": report["incidents"], "events": len(events),
            "report": f"/api/v1/reports/{job.id}"}
