"""CPU work out of the event loop: under gevent (`rescue serve`), run it in the hub's thread
pool so other greenlets keep serving while C code (Pillow) holds no GIL; elsewhere (tests,
Celery, the CLI) just call it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

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
