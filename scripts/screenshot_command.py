"""The README's picture of command and the scene: a house collapse in Wencheng as the county's
operator sees it. The directive board holds an order nobody accepted in time (overdue, on
top), one the team on scene accepted, and the city's order to the county awaiting its answer;
the incident panel shows the drone's latest frame and strip, photos from the team, a voice
note and the chat; the drone's frame sits on the map beside the incident.

    .venv/bin/python scripts/screenshot_command.py docs/command.png

Starts its own `rescue serve --demo` in a temporary directory; needs chromium (make system-deps).
"""

from __future__ import annotations

import io
import random
import sys
import tempfile
import time
from pathlib import Path

import requests
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import stop_process  # noqa: E402
from tests.e2e.browser import chromium, log_in  # noqa: E402
from tests.e2e.conftest import start_server  # noqa: E402
from tests.e2e.sockets import field_token  # noqa: E402
from tests.integration.conftest import team  # noqa: E402

COUNTY, CITY = "operator 330328", "operator 3303"
SITE = (27.7885, 120.0925)  # 大峃镇, Wencheng


def rubble(seed: int, size: tuple[int, int] = (1280, 960), stamp: str = "") -> bytes:
    """A made-up scene: sky, a broken wall, a heap of rubble (no photo ships with the demo)."""
    rng = random.Random(seed)
    w, h = size
    img = Image.new("RGB", size, (150, 170, 190))
    d = ImageDraw.Draw(img)
    d.rectangle([0, int(h * 0.55), w, h], fill=(95, 90, 80))
    x0 = int(w * (0.15 + 0.1 * (seed % 3)))
    d.polygon([(x0, int(h * 0.6)), (x0, int(h * 0.2)), (x0 + w // 4, int(h * 0.3)),
               (x0 + w // 3, int(h * 0.6))], fill=(170, 150, 120))
    for _ in range(900):
        cx, cy = rng.randrange(w), rng.randrange(int(h * 0.5), h)
        r = rng.randrange(4, 28)
        shade = rng.randrange(60, 170)
        d.ellipse([cx - r, cy - r // 2, cx + r, cy + r // 2], fill=(shade, shade - 10, shade - 25))
    d.rectangle([int(w * 0.62), int(h * 0.45), int(w * 0.66), int(h * 0.62)], fill=(230, 90, 30))
    if stamp:
        d.rectangle([10, 10, 330, 50], fill=(0, 0, 0))
        d.text((20, 18), stamp, fill=(255, 255, 255))
    img = img.filter(ImageFilter.SMOOTH)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def main(out: Path) -> None:
    server = start_server(Path(tempfile.mkdtemp(prefix="rescue-shot-")))
    try:
        admin, county, city = server.h("admin"), server.h(COUNTY), server.h(CITY)

        def call(method: str, path: str, body: dict | None = None, h: dict = county) -> dict:
            r = requests.request(method, server.api + path, json=body, headers=h, timeout=20)
            r.raise_for_status()
            return r.json()

        for rid, name in (("wc-blue-sky-2", "文成蓝天救援二队 (Wencheng Blue Sky Team 2)"),
                          ("wc-fire-daxu", "大峃消防中队 (Daxu Fire Squad)")):
            body = team(rid, lat=SITE[0] + 0.01, lon=SITE[1] - 0.012, name=name,
                        call_sign=rid.upper())
            requests.post(server.api + "/resources", json=body, headers=admin, timeout=20)
        inc = call("POST", "/incidents", {"title": "大峃镇民房倒塌 (house collapse, Daxu)",
                                          "category": "building_collapse", "severity": "III",
                                          "persons_at_risk": 4, "lat": SITE[0],
                                          "lon": SITE[1]})
        iid = inc["id"]
        for rid in ("wc-blue-sky-2", "wc-fire-daxu"):
            call("POST", f"/incidents/{iid}/assignments", {"resource_id": rid})
        unit = {"Authorization": f"Bearer {field_token(server.log.parent, 'wc-blue-sky-2')}"}
        for i, cap in enumerate(("东侧承重墙倒塌，两人被困 (east wall down, two trapped)",
                                 "搜救犬在西侧有反应 (dog alert, west side)")):
            requests.post(f"{server.api}/incidents/{iid}/media", headers=unit, timeout=20,
                          files={"file": (f"IMG_{i}.jpg", rubble(i), "image/jpeg")},
                          data={"caption": cap, "lat": str(SITE[0]), "lon": str(SITE[1])})
        requests.post(f"{server.api}/incidents/{iid}/media", headers=unit, timeout=20,
                      files={"file": ("note.amr", b"#!AMR\n" + b"\x3c" * 4000, "audio/amr")},
                      data={"caption": "现场语音报告 (voice report)"})
        for n in range(7):
            requests.post(f"{server.api}/incidents/{iid}/streams/drone-1/frames", timeout=20,
                          data=rubble(10 + n, (640, 480), f"DRONE-1  frame {n + 1}"),
                          headers={**unit, "Content-Type": "image/jpeg"})
        call("POST", f"/incidents/{iid}/messages", {"text": "请报告被困人员位置 (where are "
                                                    "the trapped?)"})
        requests.post(f"{server.api}/incidents/{iid}/messages", headers=unit, timeout=20,
                      json={"text": "东侧厨房下方，有呼救声 (under the kitchen, east side; "
                                    "we hear them)"})
        d1 = call("POST", "/directives", {"to": {"resources": ["wc-blue-sky-2"]},
                                          "incident": iid, "text": "先行支护东侧墙体再进入 "
                                          "(shore the east wall before entering)"})
        requests.post(f"{server.api}/directives/{d1['id']}/answer", headers=unit, timeout=20,
                      json={"state": "accepted"})
        call("POST", "/directives", {"to": {"resources": ["wc-fire-daxu"]}, "incident": iid,
                                     "deadline_s": 1, "text": "调一台吊车到现场 "
                                     "(bring a crane to the site)"})
        call("POST", "/directives", {"to": {"area": "330328"}, "incident": iid,
                                     "deadline_s": 900, "text": "组织第二梯队待命 "
                                     "(raise a second echelon on standby)"}, h=city)
        time.sleep(1.5)
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1600, "height": 900},
                                    timezone_id="Asia/Shanghai")
            log_in(page, server.base, server.tokens[COUNTY])
            page.wait_for_selector('body[data-ready="1"]', timeout=60_000)
            page.click(f'#queue li[data-id="{iid}"]')
            page.wait_for_selector("#panel figure.stream img.latest[src^='blob:']",
                                   timeout=20_000)
            page.wait_for_selector("#panel .gallery img.thumb[src^='blob:']", timeout=20_000)
            page.wait_for_selector('#directives-box li[data-state="overdue"]', timeout=20_000)
            page.evaluate(f"window.rescueConsole.map.setView([{SITE[0]}, {SITE[1]}], 12) && null")
            page.wait_for_timeout(2500)  # the advice loads and lengthens the panel
            page.eval_on_selector("#panel .media-box", "e => e.scrollIntoView()")
            page.wait_for_timeout(500)
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
        print(f"written {out}")
    finally:
        stop_process(server.proc)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/command.png"))
