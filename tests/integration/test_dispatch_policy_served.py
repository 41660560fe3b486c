"""The dispatch policy file reaches served suggestions: changing Wencheng's detour in
RESCUE_DISPATCH_POLICY changes the ETA of a land team for a Wencheng collapse."""

from __future__ import annotations

from pathlib import Path

import pytest

from rescue.app import create_app
from rescue.config import Config
from rescue.context import RescueContext
from rescue.dispatch.policy_file import DEFAULT_PATH
from tests.integration.conftest import Clock, team


def served_eta(tmp_path: Path, db_url: str, policy: Path) -> float:
    config = Config(data_dir=tmp_path / "var", database_url=db_url, policy_path=policy,
                    secret_key="test-secret-key-0123456789", testing=True)
    ctx = RescueContext(config, clock=Clock())
    try:
        client = create_app(config, context=ctx).test_client()
        h = {"Authorization": "Bearer " + ctx.tokens.issue("admin")}
        if client.get("/api/v1/resources/wc-team", headers=h).status_code == 404:
            r = client.post("/api/v1/resources", headers=h,
                            json=team("wc-team", lat=27.70, lon=120.02, caps=["heavy_rescue"]))
            assert r.status_code == 201, r.json
        s = client.post("/api/v1/dispatch/suggest", headers=h, json={
            "lat": 27.78, "lon": 120.08, "category": "building_collapse", "severity": "IV"}).json
        req = next(q for q in s["requirements"] if q["capability"] == "heavy_rescue")
        return next(c["eta_s"] for c in req["candidates"] if c["resource_id"] == "wc-team")
    finally:
        ctx.close()


def test_a_changed_wencheng_detour_changes_the_served_eta(tmp_path, db_url) -> None:
    steep = tmp_path / "policy.yaml"
    steep.write_text(DEFAULT_PATH.read_text().replace('"330328": 1.6', '"330328": 3.0'))
    assert '"330328": 3.0' in steep.read_text()
    default = served_eta(tmp_path, db_url, DEFAULT_PATH)
    changed = served_eta(tmp_path, db_url, steep)
    # ETA = readiness + detour x great circle / speed: the travel part scales by 3.0 / 1.6
    readiness = 600
    assert changed > default
    assert (changed - readiness) / (default - readiness) == pytest.approx(3.0 / 1.6, rel=0.02)
