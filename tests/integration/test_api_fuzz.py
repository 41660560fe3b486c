"""Whatever a client sends, the answer is a 2xx or a 4xx with the error shape, never a 5xx."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.conftest import team

FIELDS = ["lat", "lon", "category", "severity", "k", "weather", "status", "time", "client_id",
          "resource_id", "text", "needs", "casualties", "id", "home", "capabilities", "speed_kmh",
          "exercise", "persons_at_risk", "title", "range_km", "area", "kind", "release_all"]
WEIRD = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**30, max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
    st.sampled_from(["NaN", "IV", "I", "available", "fire", "330328", "2026-07-01T08:00:00Z"]),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(),
                                                          max_size=2),
)
BODIES = st.dictionaries(st.sampled_from(FIELDS), WEIRD, max_size=7)


@pytest.fixture(params=["sqlite"])
def db_url(request, tmp_path):  # SQLite only: the point is input handling, not the database
    return f"sqlite:///{tmp_path / 'fuzz.sqlite'}"


@pytest.fixture
def world(client, tokens):
    admin = tokens.header("admin")
    client.post("/api/v1/resources", json=team("u1"), headers=admin)
    inc = client.post("/api/v1/incidents", headers=admin, json={
        "category": "building_collapse", "severity": "IV", "lat": 27.78, "lon": 120.08}).json["id"]
    heads = [admin, tokens.header("operator", area="330328"),
             tokens.header("field", resource_id="u1"), tokens.header("trainer", area="3303")]
    return inc, heads


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES, target=st.integers(0, 8), who=st.integers(0, 3), base=st.booleans())
def test_no_body_makes_a_5xx(client, world, body, target, who, base) -> None:
    inc, heads = world
    if base:
        body = {"lat": 27.8, "lon": 120.6, "category": "fire", "severity": "IV", **body}
    method, path = [
        ("post", "/api/v1/resources"), ("post", "/api/v1/incidents"),
        ("post", "/api/v1/dispatch/suggest"), ("post", f"/api/v1/incidents/{inc}/sitreps"),
        ("post", f"/api/v1/incidents/{inc}/assignments"), ("post", "/api/v1/resources/u1/position"),
        ("post", "/api/v1/resources/u1/status"), ("patch", f"/api/v1/incidents/{inc}"),
        ("patch", "/api/v1/resources/u1"),
    ][target]
    r = getattr(client, method)(path, data=json.dumps(body, allow_nan=True),
                                headers={**heads[who], "Content-Type": "application/json"})
    assert r.status_code < 500, (path, body, r.data[:300])
    if r.status_code >= 400:
        assert set(r.json["error"]) == {"code", "message", "field"}
