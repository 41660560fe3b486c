"""Run every benchmark (bench/bench_*.py), print all rows and write bench/results/latest.md.

    python -m bench [--quick] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench.common import _fmt, print_table

COLUMNS = ("bench", "size", "metric", "value", "unit", "baseline_name", "baseline_value",
           "ratio")


def markdown(rows: list[dict], quick: bool) -> str:
    head = (f"# Benchmark results\n\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
            f"{'quick' if quick else 'full'} run, Python {platform.python_version()}, "
            f"{platform.machine()}\n\nratio = baseline / ours (higher is better for us)\n\n")
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(c)) for c in COLUMNS) + " |")
    return head + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench")
    ap.add_argument("--quick", action="store_true", help="smaller sizes, fewer samples")
    ap.add_argument("--only", nargs="*", help="run only these modules (e.g. bench_knn)")
    args = ap.parse_args(argv)
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)])
                   if m.name.startswith("bench_"))
    if args.only:
        names = [n for n in names if n in args.only or n.removeprefix("bench_") in args.only]
    rows: list[dict] = []
    failed = []
    for name in names:
        t = time.perf_counter()
        print(f"== {name}", file=sys.stderr, flush=True)
        try:
            mod = importlib.import_module(f"bench.{name}")
            rows += mod.main(quick=args.quick)
        except Exception:  # noqa: BLE001 - report and go on with the other benchmarks
            traceback.print_exc()
            failed.append(name)
        print(f"   {name} took {time.perf_counter() - t:.1f}s", file=sys.stderr, flush=True)
    print_table(rows)
    out = here / "results" / "latest.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(markdown(rows, args.quick))
    print(f"\nwritten {out}", file=sys.stderr)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
