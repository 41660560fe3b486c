"""After-action reports as jobs (DESIGN §11): an exercise's, or a window of live history in an
area. Reading a day of the log and drawing the plots takes seconds, so it runs where jobs run
(a child process, or `rescue worker` on Celery) and never in a server's request; the files
land under `$RESCUE_DATA_DIR/reports/<job id>/`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from realtime.visibility import Viewer
from rescue.events import EventQuery
from simulations.playback import log_reader
from simulations.report import build_report
from simulations.reportfiles import write
from simulations.runner import exercise_events, reports_dir

if TYPE_CHECKING:
    from rescue.context import RescueContext
    from rescue.jobs import Job, JobStore

PAGE = 5000


def live_events(ctx: RescueContext, area: str, t0: datetime, t1: datetime,
                progress: Any = None) -> list[dict[str, Any]]:
    """Live events concerning an area between two moments, in recorded order."""
    from simulations.replays import ReplayStore

    seq_from, seq_to = ReplayStore(ctx.engine, ctx.clock).seq_range(None, t0, t1)
    read = log_reader(ctx)
    out: list[dict[str, Any]] = []
    seq = seq_from
    while page := read(EventQuery(after=seq, until=seq_to, limit=PAGE, area_prefix=area,
                                  viewer=Viewer())):
        out.extend(page)
        seq = page[-1]["seq"]
        if progress is not None:
            progress(0.8 * (seq - seq_from) / max(1, seq_to - seq_from),
                     f"{len(out)} events read")
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
    write(report, reports_dir(ctx, job.id))
    return {"incidents": report["incidents"], "events": len(events),
            "report": f"/api/v1/reports/{job.id}"}
