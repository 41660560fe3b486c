"""The console in headless Chromium: frames per second and main-thread time per second with
1,000 and 10,000 units moving at one update per second each (clustered at the demo's bases,
delivered in 50 ms batches through the console's own event path). Baseline in the same run and
the same page: Leaflet circle markers on a canvas renderer, one setLatLng per update.

Runs `rescue serve --demo` and Debian's chromium (never playwright's own download)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from bench.served import start_rescue

HERE = Path(__file__).resolve().parent
SECONDS = 10


def _busy(cdp: Any) -> float:
    """Main-thread task time so far (s), from Chromium's own counters."""
    metrics = cdp.send("Performance.getMetrics")["metrics"]
    return next(m["value"] for m in metrics if m["name"] == "TaskDuration")


def _run(page: Any, cdp: Any, fn: str, n: int, seconds: int) -> dict[str, float]:
    before = _busy(cdp)
    t0 = page.evaluate("performance.now()")
    out = page.evaluate(f"([n, s]) => window.consoleBench.{fn}(n, s)", [n, seconds])
    wall = (page.evaluate("performance.now()") - t0) / 1000
    out["main_thread_ms_per_s"] = (_busy(cdp) - before) / wall * 1000
    return out


def main(quick: bool = False) -> list[dict[str, Any]]:
    from tests.e2e.browser import chromium, log_in

    seconds = 4 if quick else SECONDS
    sizes = (1_000, 10_000)
    server = start_rescue()
    rows: list[dict[str, Any]] = []
    try:
        token = server.tokens["operator 3303"]
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            log_in(page, server.url, token)
            page.add_script_tag(path=str(HERE / "console_feed.js"))
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            for n in sizes:
                base = _run(page, cdp, "baseline", n, seconds)
                ours = _run(page, cdp, "ours", n, seconds)
                page.evaluate("window.consoleBench.clear()")
                print(f"console {n} units: ours {ours} | baseline {base}", file=sys.stderr)
                rows.append({"bench": "console", "size": f"{n} units, 1 update/s each",
                             "metric": "frames per second", "value": round(ours["fps"], 1),
                             "unit": "fps", "baseline_name": "Leaflet circleMarker, setLatLng",
                             "baseline_value": round(base["fps"], 1),
                             "ratio": round(ours["fps"] / max(base["fps"], 0.1), 2)})
                rows.append({"bench": "console", "size": f"{n} units, 1 update/s each",
                             "metric": "main-thread time per second", "unit": "ms/s",
                             "value": round(ours["main_thread_ms_per_s"]),
                             "baseline_name": "Leaflet circleMarker, setLatLng",
                             "baseline_value": round(base["main_thread_ms_per_s"]),
                             "ratio": round(base["main_thread_ms_per_s"]
                                            / max(ours["main_thread_ms_per_s"], 1), 2)})
                rows.append({"bench": "console", "size": f"{n} units, 1 update/s each",
                             "metric": "unit layer redraws per second (one per 50 ms batch)",
                             "unit": "/s", "value": round(ours["drawsPerS"], 1)})
                rows.append({"bench": "console", "size": f"{n} units, 1 update/s each",
                             "metric": "apply + draw per redraw", "unit": "ms",
                             "value": round(ours["drawMsPerFrame"], 2)})
    finally:
        server.stop()
    return rows


if __name__ == "__main__":
    from bench.common import print_table

    print_table(main(quick="--quick" in sys.argv))
