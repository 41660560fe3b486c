"""The README's picture of the console: the Wenzhou demo as the city's operator sees it during
a night with three incidents (a fishing boat in distress off Dongtou with a helicopter and a
rescue craft on their way, a flash flood in Wencheng, a landslide in Taishun still waiting for
its first dispatch), units reporting positions, the boat incident's advice open.

    .venv/bin/python scripts/screenshot.py docs/console.png

Starts its own `rescue serve --demo` in a temporary directory; needs chromium (make system-deps).
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rescue.events import iso  # noqa: E402
from simulations.movement import bearing  # noqa: E402
from tests.conftest import stop_process  # noqa: E402
from tests.e2e.browser import chromium, log_in  # noqa: E402
from tests.e2e.conftest import start_server  # noqa: E402

CITY = "operator 3303"
WAIT_FOR_RED_S = 62  # the landslide's clock passes the 60 s threshold before the picture


def now() -> str:
    return iso(datetime.now(UTC))


def toward(a: tuple[float, float], b: tuple[float, float], f: float) -> tuple[float, float]:
    """A point a fraction f of the way from a to b (short distances: linear in degrees is
    within metres of the great circle here, and only places a marker)."""
    return a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f


def main(out: Path) -> None:
    server = start_server(Path(tempfile.mkdtemp(prefix="rescue-shot-")))
    try:
        admin = server.h("admin")

        def call(method: str, path: str, body: dict | None = None) -> dict:
            r = requests.request(method, server.api + path, json=body, headers=admin, timeout=20)
            r.raise_for_status()
            return r.json()

        units = {f["properties"]["id"]: f["properties"]
                 for f in call("GET", "/resources?limit=1000")["features"]}
        # Most units report a fix near their base; a few have not reported (drawn at home).
        for i, (rid, u) in enumerate(sorted(units.items())):
            if i % 5 == 4:
                continue
            ang = i * 2.4
            lat = u["home"]["lat"] + 0.01 * math.cos(ang)
            lon = u["home"]["lon"] + 0.01 * math.sin(ang)
            # A refused fix (a point on the wrong surface for its kind) leaves the unit at home.
            requests.post(f"{server.api}/resources/{rid}/position", headers=admin,
                          json={"lat": lat, "lon": lon, "time": now()}, timeout=20)

        boat = call("POST", "/incidents", {
            "title": "渔船遇险 (fishing boat taking water)", "category": "maritime_distress",
            "severity": "II", "lat": 27.86, "lon": 121.27, "persons_at_risk": 9})
        flood = call("POST", "/incidents", {
            "title": "山洪 (flash flood, Daxue)", "category": "flood", "severity": "III",
            "lat": 27.79, "lon": 120.09, "persons_at_risk": 14})
        for rid, req, frac, kmh in (("ecsrfs-wz-heli-1", "hoist", 0.55, 200),
                                    ("ecsrb-dt-fast", "water_rescue", 0.35, 55)):
            call("POST", f"/incidents/{boat['id']}/assignments",
                 {"resource_id": rid, "requirement": req})
            home = (units[rid]["home"]["lat"], units[rid]["home"]["lon"])
            lat, lon = toward(home, (boat["lat"], boat["lon"]), frac)
            call("POST", f"/resources/{rid}/position", {
                "lat": lat, "lon": lon, "time": now(), "speed_kmh": kmh,
                "heading": bearing(lat, lon, boat["lat"], boat["lon"])})
            call("POST", f"/resources/{rid}/status", {"status": "en_route", "time": now()})
        call("POST", f"/incidents/{flood['id']}/assignments",
             {"resource_id": "wc-bluesky", "requirement": "flood_rescue"})
        for status in ("en_route", "on_scene"):
            call("POST", "/resources/wc-bluesky/status", {"status": status, "time": now()})
        call("POST", f"/incidents/{flood['id']}/sitreps", {
            "text": "水位仍在上涨，已转移 6 人 (water still rising, 6 evacuated)",
            "persons_rescued": 6})
        call("POST", "/incidents", {
            "title": "山体滑坡 (landslide on the S230)", "category": "landslide", "severity": "I",
            "lat": 27.57, "lon": 119.72, "persons_at_risk": 5})
        time.sleep(WAIT_FOR_RED_S)

        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1600, "height": 900})
            log_in(page, server.base, server.tokens[CITY])
            page.click(f'#queue li[data-id="{boat["id"]}"]')
            page.wait_for_selector("#panel .cand", timeout=20_000)
            page.evaluate("window.rescueConsole.map.setView([27.9, 120.75], 9) && null")
            page.wait_for_timeout(1500)
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
        print(f"written {out}")
    finally:
        stop_process(server.proc)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/console.png"))
