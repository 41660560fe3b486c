"""The cycle collector's policy for the processes that hold much and work long: the server, a
Celery worker's pool process, a job's child process, `rescue simulate` and `rescue report`."""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 30_000
OLDER_THRESHOLDS = (50, 100)


def settle_long_lived() -> None:
    """Once the process is set up: keep what it holds now (registry, geography, plans,
    modules: they live as long as the process) out of the collector's passes, and let the
    young passes run ~40x less often. Why: almost all of our garbage is freed by reference
    counting. In the server, full passes over a thousand connections' objects took 60-130 ms
    each, every second or so, and were the tail of live delivery; in a job, a replay's fold
    (pages of event dicts) spent a quarter of its time in young passes (the typhoon's fold to
    its end: 1.34-1.45 s, 0.28-0.41 s of it collecting, against 1.01-1.04 s and no pass)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
