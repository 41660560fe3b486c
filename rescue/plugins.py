"""Extensions found through the `rescue.plugins` entry-point group (DESIGN §2).

`simulations` adds its HTTP routes, CLI commands and job kinds this way (the way Flask finds
`flask.commands`), so `rescue` never imports it. A plugin is any object (usually a module)
with some of: `add_commands(subparsers) -> {name: fn(config, args) -> int}`,
`register_routes(blueprint, contract)`, `job_handlers() -> {kind: fn(ctx, store, job)}`,
`open_stream(ctx, principal, name) -> realtime.channels.Stream | None` (what a `/centre`
client joining `exercise=name` is served instead of the log, e.g. a replay),
`incident_clock(ctx, incident_id) -> datetime | None` (the clock an incident's actions run on,
when it is not the wall clock: an exercise played by trainees),
`exercise_clock(ctx, exercise_id) -> datetime | None` (the same, for the whole exercise).
"""

from __future__ import annotations

import logging
from functools import cache
from importlib.metadata import entry_points
from typing import Any

log = logging.getLogger(__name__)

GROUP = "rescue.plugins"


@cache
def load_plugins() -> tuple[Any, ...]:
    """The installed plugins, by name; loaded once per process on first use."""
    found = []
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        found.append(ep.load())
        log.debug("plugin %s loaded from %s", ep.name, ep.value)
    return tuple(found)


def job_handlers() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in load_plugins():
        if hasattr(p, "job_handlers"):
            out.update(p.job_handlers())
    return out


def open_stream(ctx: Any, principal: Any, name: str) -> Any | None:
    """The stream a plugin serves under this name (a replay id), or None."""
    for p in load_plugins():
        opener = getattr(p, "open_stream", None)
        if opener is not None:
            stream = opener(ctx, principal, name)
            if stream is not None:
                return stream
    return None


def job_died(ctx: Any, job: Any, why: str) -> None:
    """A job's process died (the runner saw it go): the plugin owning its kind fails what
    the job was running."""
    for p in load_plugins():
        hook = getattr(p, "job_died", None)
        if hook is not None:
            hook(ctx, job, why)


def check_exercise(ctx: Any, principal: Any, exercise_id: str) -> None:
    """Refuse (NotFound) an exercise or replay the principal may not see, by the plugin that
    keeps them; with none installed there is nothing inside one to read."""
    for p in load_plugins():
        check = getattr(p, "check_exercise", None)
        if check is not None:
            check(ctx, principal, exercise_id)


def incident_clock(ctx: Any, incident_id: str) -> Any | None:
    """The moment an action on this incident happens at, if a plugin owns its clock."""
    return _plugin_clock("incident_clock", ctx, incident_id)


def exercise_clock(ctx: Any, exercise_id: str) -> Any | None:
    """The moment an action inside this exercise happens at, if a plugin owns its clock."""
    return _plugin_clock("exercise_clock", ctx, exercise_id)


def _plugin_clock(hook: str, ctx: Any, key: str) -> Any | None:
    for p in load_plugins():
        clock = getattr(p, hook, None)
        if clock is not None:
            at = clock(ctx, key)
            if at is not None:
                return at
    return None
