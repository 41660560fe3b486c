"""What simulations adds to rescue (entry point `rescue.plugins`, DESIGN §2): the
`simulate` and `report` commands, the `exercise.run` job kind, and the exercise routes."""

from __future__ import annotations

from typing import Any

from simulations.cli import add_commands


def job_handlers() -> dict[str, Any]:
    from simulations.jobs import run_exercise_job

    return {"exercise.run": run_exercise_job}


def register_routes(bp: Any, contract: Any) -> None:
    from simulations.api import register

    register(bp, contract)


__all__ = ["add_commands", "job_handlers", "register_routes"]
