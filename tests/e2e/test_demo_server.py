"""The demo as a newcomer meets it: `rescue serve --demo`, then plain HTTP."""

from __future__ import annotations

import requests

KINDS = {"land_team", "volunteer_team", "expert_team", "helicopter", "drone", "vessel",
         "volunteer_vessel"}


def token_label(server, prefix: str) -> str:
    return next(k for k in server.tokens if k.startswith(prefix))


def test_health_and_demo_tokens_are_printed(server) -> None:
    r = requests.get(server.api + "/health", timeout=5)
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert "admin" in server.tokens
    assert any(k.startswith("operator 330328") for k in server.tokens)
    assert "rescue serving on http://127.0.0.1" in server.log.read_text()


def test_every_kind_of_the_programme_is_listed_as_geojson(server) -> None:
    fc = requests.get(server.api + "/resources", headers=server.h("admin"), timeout=10).json()
    assert fc["type"] == "FeatureCollection"
    kinds = {f["properties"]["kind"] for f in fc["features"]}
    assert kinds >= KINDS
    tiers = [f["properties"]["tier"] for f in fc["features"]
             if f["properties"]["kind"] in ("land_team", "volunteer_team", "expert_team")]
    for tier, n in (("backbone", 5), ("professional", 15), ("comprehensive", 1),
                    ("volunteer", 24), ("expert", 1)):
        assert tiers.count(tier) == n, tier


def test_locate_the_acceptance_points(server) -> None:
    h = server.h("admin")
    wc = requests.get(server.api + "/locate", params={"lat": 27.78, "lon": 120.08}, headers=h,
                      timeout=5).json()
    codes = [a["code"] for a in wc["areas"]]
    assert codes[:3] == ["33", "3303", "330328"] and len(codes) == 4
    dt = requests.get(server.api + "/locate", params={"lat": 27.836, "lon": 121.157}, headers=h,
                      timeout=5).json()
    assert "330305" in [a["code"] for a in dt["areas"]] and dt["surface"] == "land"
    sea = requests.get(server.api + "/locate", params={"lat": 27.836, "lon": 121.46}, headers=h,
                       timeout=5).json()
    assert sea["surface"] == "sea" and sea["maritime"]["code"] == "3303M"


def test_scope_and_bad_input_never_5xx(server) -> None:
    dongtou = server.h(token_label(server, "operator 330305"))
    wencheng = server.h(token_label(server, "operator 330328"))
    fc = requests.get(server.api + "/resources", headers=wencheng, timeout=5).json()
    rid = fc["features"][0]["properties"]["id"]
    assert requests.get(f"{server.api}/resources/{rid}", headers=dongtou,
                        timeout=5).status_code == 404
    bad = [
        ("post", "/resources", {"name": "x", "lat": "NaN"}),
        ("post", f"/resources/{rid}/position", '{"lat": Infinity, "lon": 0}'),
        ("post", f"/resources/{rid}/position", '{"lat": 1e999, "lon": 0}'),
        ("post", "/incidents", "{broken json"),
        ("post", "/incidents", {"category": "fire", "severity": "VII", "lat": 27.7, "lon": 120.6}),
        ("post", "/dispatch/suggest", {"lat": 90, "lon": 0, "category": "fire", "severity": "IV"}),
        ("get", "/incidents/nope/suggestions?k=1000000000", None),
        ("get", "/locate?lat=1e400&lon=x", None),
        ("get", "/events?after=-1", None),
        ("patch", f"/resources/{rid}", {"speed_kmh": None, "capabilities": "hoist"}),
    ]
    for method, path, body in bad:
        kw = {"data": body, "headers": {**wencheng, "Content-Type": "application/json"}} \
            if isinstance(body, str) else {"json": body, "headers": wencheng}
        r = requests.request(method, server.api + path, timeout=10, **kw)
        assert 400 <= r.status_code < 500, (path, r.status_code, r.text)
        assert "error" in r.json()


def test_layers_are_served(server) -> None:
    h = server.h("admin")
    names = [x["name"] for x in requests.get(server.api + "/layers", headers=h,
                                             timeout=5).json()["layers"]]
    assert {"airports", "ports", "standby_points", "hospitals"} <= set(names)
    airports = requests.get(server.api + "/layers/airports", headers=h, timeout=5).json()
    assert any("Longwan" in str(f["properties"]) for f in airports["features"])
