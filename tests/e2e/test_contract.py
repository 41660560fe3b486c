"""The published contract is the one the server keeps: schemathesis fuzzes every operation of
/api/v1/openapi.json against a served demo, as an admin and as a county operator, with every
check on (no 5xx, responses that match their declared schema and status codes, schema-valid
data accepted and invalid data refused; exceptions are named in the config file). Fixed
seed, bounded examples: a few minutes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

CONFIG = Path(__file__).resolve().parents[1] / "contract" / "schemathesis.toml"


@pytest.mark.parametrize("who", ["admin", "operator 330328"])
def test_the_served_api_keeps_its_published_contract(server, who) -> None:
    token = server.tokens[who]
    inc = requests.post(server.api + "/incidents", timeout=30,
                        headers={"Authorization": f"Bearer {server.tokens['operator 330328']}"},
                        json={"category": "building_collapse", "severity": "IV",
                              "lat": 27.78, "lon": 120.08}).json()
    st = Path(sys.executable).with_name("st")
    out = subprocess.run(
        [str(st), "--config-file", str(CONFIG), "run", server.api + "/openapi.json",
         "--url", server.base, "-H", f"Authorization: Bearer {token}",
         "--no-color", "--seed", "1"],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "RESCUE_ST_INCIDENT": inc["id"]})
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-2000:]
