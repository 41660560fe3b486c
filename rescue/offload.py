"""CPU work out of the event loop: under gevent (`rescue serve`), run it in the hub's thread
pool so other greenlets keep serving while C code (Pillow) holds no GIL; elsewhere (tests,
Celery, the CLI) just call it. Long background work (the spatial index's next trees) gets a
native thread of its own, gevent or not; long work that must stay on the loop's thread pauses
cooperatively."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from resources.spatial_trees import Job

log = logging.getLogger(__name__)

T = TypeVar("T")


def _green() -> bool:
    try:
        from gevent import monkey  # type: ignore[import-untyped]
    except ImportError:
        return False
    return bool(monkey.is_module_patched("threading"))


def run_blocking(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)`, off the event loop when there is one."""
    if not _green():
        return fn(*args)
    import gevent  # type: ignore[import-untyped]

    return gevent.get_hub().threadpool.apply(fn, args)


def cooperative_pause(every_s: float = 0.005) -> Callable[[], None] | None:
    """Under gevent, a pause for long work on the event loop to call often: at most every
    `every_s` of work it sleeps briefly, so other greenlets run and the hub polls for I/O
    (`gevent.sleep(0)` does not poll: a request's socket waited 200 ms behind a move-up that
    yielded every few milliseconds that way). None elsewhere (nothing to let run)."""
    if not _green():
        return None
    import time

    import gevent  # type: ignore[import-untyped]

    last = [time.perf_counter()]

    def pause() -> None:
        if time.perf_counter() - last[0] >= every_s:
            gevent.sleep(0.0005)
            last[0] = time.perf_counter()

    return pause


def native_thread_starter() -> Callable[..., Any]:
    """`_thread.start_new_thread` as it was before gevent patched it: a real OS thread, so
    C code that releases the GIL (scipy, SQLite) runs beside the event loop."""
    try:
        from gevent.monkey import get_original  # type: ignore[import-untyped]

        return get_original("_thread", "start_new_thread")  # type: ignore[no-any-return]
    except ImportError:  # pragma: no cover - gevent is a dependency
        import _thread

        return _thread.start_new_thread


def start_native(fn: Callable[[], Any]) -> Job:
    """`fn()` on a native thread; its outcome lands in the returned Job (plain attributes,
    no lock: the reader polls `done`, which is set last)."""
    job = Job()

    def run() -> None:
        try:
            job.result = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the reader, which logs it
            job.error = e
        job.done = True

    native_thread_starter()(run, ())
    return job
