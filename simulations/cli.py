"""`rescue simulate` and `rescue report`: exercises from the command line, no server needed."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from rescue.auth import Principal
from rescue.config import Config
from simulations.scenario import ScenarioError, builtin_names, load

CLI = Principal(role="admin", name="command line")


def add_commands(sub: Any) -> dict[str, Any]:
    s = sub.add_parser("simulate", help="run a training scenario as fast as possible and "
                       "print its after-action summary")
    s.add_argument("scenario", help="a built-in name (" + ", ".join(builtin_names())
                   + ") or a YAML file")
    s.add_argument("--seed", type=int, help="override the scenario's seed")
    s.add_argument("--scale", type=float, help="multiply every generator's rate")
    s.add_argument("--exercise", help="the exercise id (default: a new one)")
    s.add_argument("--log", type=Path, help="also write the exercise's event log as JSON lines, "
                   "exercise id and seq left out (two runs of one seed give the same file)")
    s.add_argument("--out", type=Path, help="report folder (default: DATA_DIR/reports/ID)")
    r = sub.add_parser("report", help="after-action report of an exercise: summary and files")
    r.add_argument("exercise")
    r.add_argument("--out", type=Path)
    return {"simulate": cmd_simulate, "report": cmd_report}


def _bar(fraction: float, message: str) -> None:
    width = 30
    done = int(width * min(max(fraction, 0.0), 1.0))
    sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] {fraction * 100:5.1f}%  "
                     f"{message[:70]:<70}")
    sys.stderr.flush()


def cmd_simulate(config: Config, args: argparse.Namespace) -> int:
    from rescue.context import RescueContext
    from rescue.gcpolicy import settle_long_lived
    from simulations.exercises import ExerciseStore
    from simulations.runner import execute

    ctx = RescueContext(config)
    settle_long_lived()
    try:
        path = Path(args.scenario)
        source = path.read_text(encoding="utf-8") if path.suffix in (".yaml", ".yml") \
            else args.scenario
        try:
            scenario = load(source, tuple(ctx.plans.categories), ctx.vocab, seed=args.seed)
        except ScenarioError as e:
            print(f"scenario refused: {e}", file=sys.stderr)
            return 2
        store = ExerciseStore(ctx.engine, ctx.clock)
        scale = 1.0 if args.scale is None else args.scale
        if not 0 < scale <= 100:
            print("--scale must be above 0 and at most 100", file=sys.stderr)
            return 2
        ex = store.create(CLI, scenario, scale=scale, exercise_id=args.exercise)
        print(f"exercise {ex.id}: {scenario.title}, seed {scenario.seed}, "
              f"~{scenario.scaled(scale).expected_incidents():.0f} incidents over "
              f"{scenario.duration_s / 3600:g} h", file=sys.stderr)
        t0 = time.monotonic()
        result = execute(ctx, ex.id, progress=_bar)
        _bar(1.0, f"done in {time.monotonic() - t0:.1f} s wall")
        sys.stderr.write("\n")
        if result["state"] != "done":
            print(f"exercise {ex.id} {result['state']}", file=sys.stderr)
            return 1
        if args.log:
            _write_log(ctx, ex.id, args.log)
        return _print_report(ctx, ex.id, args.out)
    finally:
        ctx.close()


def _write_log(ctx: Any, exercise: str, path: Path) -> None:
    from simulations.runner import exercise_events

    with path.open("w", encoding="utf-8") as f:
        for ev in exercise_events(ctx, exercise):
            f.write(normalised_line(ev, exercise) + "\n")


def normalised_line(ev: dict[str, Any], exercise: str) -> str:
    """An event as JSON without its seq and with the exercise id replaced: what two runs of
    one scenario and seed must agree on."""
    ev = {k: v for k, v in ev.items() if k != "seq"}
    return json.dumps(ev, sort_keys=True, ensure_ascii=False).replace(exercise, "{exercise}")


def cmd_report(config: Config, args: argparse.Namespace) -> int:
    from rescue.context import RescueContext
    from rescue.gcpolicy import settle_long_lived

    ctx = RescueContext(config)
    settle_long_lived()
    try:
        return _print_report(ctx, args.exercise, args.out)
    finally:
        ctx.close()


def _print_report(ctx: Any, exercise: str, out: Path | None) -> int:
    from simulations.exercises import ExerciseStore
    from simulations.report import build_report, summary_lines
    from simulations.reportfiles import write
    from simulations.runner import exercise_events, reports_dir

    ExerciseStore(ctx.engine, ctx.clock).get(exercise)  # NotFound: exit 1 with the message
    report = build_report(exercise_events(ctx, exercise), ctx.plans, ctx.vocab)
    paths = write(report, out or reports_dir(ctx, exercise))
    print("\n".join(summary_lines(report)))
    print(f"exercise {exercise}; report files:")
    for p in paths:
        print(f"  {p}")
    return 0
