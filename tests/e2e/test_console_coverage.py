"""The coverage layer in a real headless Chromium against a real `rescue serve --demo`: the
Wenzhou city operator turns it on and sees cells drawn for the first target (hoist by air over
the sea); a hoist helicopter going out of service redraws it without a reload, with cells
lost and a move-up listed."""

from __future__ import annotations

import requests

CITY = "operator 3303"

CELLS = """() => {
    const c = window.rescueConsole.coverage, target = c.target;
    const all = c.cells.getLayers();
    const covered = all.filter((l) => l.feature.properties[target].covered).length;
    const canvas = c.renderer._container, g = canvas.getContext("2d");
    const px = g.getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < px.length; i += 64) if (px[i] > 0) painted++;
    return {target, cells: all.length, covered, painted,
            moves: document.querySelectorAll("#coverage-moveup li[data-lat]").length,
            summary: document.querySelector("#coverage-summary").textContent};
}"""


def test_the_coverage_layer_draws_cells_and_follows_the_units(server, pages) -> None:
    page = pages(CITY)
    page.click("#coverage-toggle")
    page.wait_for_selector('body[data-coverage="1"]', timeout=60_000)
    first = page.evaluate(CELLS)
    assert first["target"] == "hoist_sea"
    assert first["cells"] > 1000 and first["painted"] > 100
    assert first["covered"] == first["cells"] and first["moves"] == 0
    assert page.is_visible("#coverage-target")

    r = requests.post(server.api + "/resources/ecsrfs-wz-heli-1/status",
                      json={"status": "out_of_service"}, headers=server.h(CITY), timeout=10)
    assert r.status_code == 200, r.text
    page.wait_for_selector('body[data-coverage="2"]', timeout=30_000)
    after = page.evaluate(CELLS)
    assert after["cells"] == first["cells"] and after["covered"] < first["covered"]
    assert after["moves"] >= 1
    assert str(after["covered"]) in after["summary"]
    assert not page.errors

    page.click("#coverage-toggle")  # off: the cells go
    assert page.evaluate("() => window.rescueConsole.map.hasLayer("
                         "window.rescueConsole.coverage.cells)") is False
