"""The HTTP twins of /field: Idempotency-Key, older positions, sitreps applied once, the
per-unit rate limit, and a dead bus that never turns a committed request into a 5xx."""

from __future__ import annotations

import pytest

from rescue.app import create_app
from rescue.config import Config
from rescue.context import RescueContext
from tests.integration.conftest import team

T = "2026-07-01T07:59:00Z"


def test_position_with_an_idempotency_key_is_applied_once(client, tokens) -> None:
    h = tokens.header("admin")
    client.post("/api/v1/resources", json=team("u1"), headers=h)
    key = {"Idempotency-Key": "pos-0001", **h}
    first = client.post("/api/v1/resources/u1/position", json={"lat": 27.8, "lon": 120.1,
                                                                "time": T}, headers=key)
    again = client.post("/api/v1/resources/u1/position", json={"lat": 27.8, "lon": 120.1,
                                                                "time": T}, headers=key)
    assert first.status_code == again.status_code == 200
    assert first.json["seq"] and again.json["seq"] == first.json["seq"]
    assert again.json["duplicate"] and not first.json["duplicate"]
    older = client.post("/api/v1/resources/u1/position", headers=h,
                        json={"lat": 27.0, "lon": 120.0, "time": "2026-07-01T07:00:00Z"})
    assert older.json["ignored"] == "older" and older.json["seq"] is None
    evs = client.get("/api/v1/events?type=resource.position", headers=h).json["events"]
    assert len(evs) == 1 and evs[0]["payload"]["lat"] == 27.8
    bad = client.post("/api/v1/resources/u1/position", json={"lat": 27.8, "lon": 120.1},
                      headers={"Idempotency-Key": "x\x00", **h})
    assert bad.status_code == 400 and bad.json["error"]["field"] == "Idempotency-Key"


def test_a_sitrep_resent_with_the_same_key_is_stored_once(client, tokens) -> None:
    h = tokens.header("operator", area="330328")
    inc = client.post("/api/v1/incidents", headers=h, json={
        "category": "building_collapse", "severity": "IV", "lat": 27.78, "lon": 120.08}).json
    sent = [client.post(f"/api/v1/incidents/{inc['id']}/sitreps", headers={
        "Idempotency-Key": "sr-1", **h}, json={"text": "two trapped", "casualties": 1})
        for _ in range(3)]
    assert [r.status_code for r in sent] == [201, 201, 201]  # answered as the first time
    assert [r.json["duplicate"] for r in sent] == [False, True, True]
    assert len({r.json["sitrep_id"] for r in sent}) == 1
    assert len({r.json["seq"] for r in sent}) == 1
    got = client.get(f"/api/v1/incidents/{inc['id']}", headers=h).json
    assert len(got["sitreps"]) == 1
    bad = client.post(f"/api/v1/incidents/{inc['id']}/sitreps", headers=h,
                      data='{"text": "x\\ud800"}', content_type="application/json")
    assert bad.status_code == 400 and bad.json["error"]["field"] == "text"
    assert client.get(f"/api/v1/incidents/{inc['id']}", headers=h).status_code == 200


def test_a_flooding_unit_gets_429_with_retry_after(client, tokens) -> None:
    client.post("/api/v1/resources", json=team("u2"), headers=tokens.header("admin"))
    h = tokens.header("field", resource_id="u2")
    codes = [client.post("/api/v1/resources/u2/position", headers=h, json={
        "lat": 27.8, "lon": 120.1 + i * 1e-5, "time": f"2026-07-01T07:59:{i % 60:02d}Z"}
    ).status_code for i in range(40)]
    assert codes.count(200) >= 20 and 429 in codes
    r = client.post("/api/v1/resources/u2/position", headers=h,
                    json={"lat": 27.8, "lon": 120.1, "time": T})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert r.json["error"]["code"] == "rate_limited"


@pytest.mark.redis
def test_a_dead_bus_never_fails_a_committed_request(tmp_path) -> None:
    """The doorbell points at a Redis that is not there: the request commits and answers
    201; the followers' periodic look at the log would deliver it."""
    config = Config(data_dir=tmp_path / "var", database_url=f"sqlite:///{tmp_path / 'd.sqlite'}",
                    redis_url="redis://127.0.0.1:1/0", secret_key="test-secret-key-0123456789")
    ctx = RescueContext(config)
    try:
        client = create_app(config, context=ctx).test_client()
        h = {"Authorization": "Bearer " + ctx.tokens.issue("operator", area="330328")}
        r = client.post("/api/v1/incidents", headers=h, json={
            "category": "building_collapse", "severity": "IV", "lat": 27.78, "lon": 120.08})
        assert r.status_code == 201, r.json
        assert client.get(f"/api/v1/incidents/{r.json['id']}", headers=h).status_code == 200
    finally:
        ctx.close()


def test_an_expired_or_revoked_token_gets_401(client, tokens, ctx, clock) -> None:
    from datetime import timedelta

    h = tokens.header("operator", area="330328")
    assert client.get("/api/v1/incidents", headers=h).status_code == 200
    clock.t += timedelta(days=2)
    r = client.get("/api/v1/incidents", headers=h)
    assert r.status_code == 401 and "expired" in r.json["error"]["message"]
    mine = tokens.header("operator", area="330328")
    other = tokens.header("operator", area="330305")
    token = other["Authorization"].split()[1]
    r = client.post("/api/v1/tokens/revoke", json={"token": token}, headers=mine)
    assert r.status_code == 403  # not an admin, not its own token
    r = client.post("/api/v1/tokens/revoke", json={"token": token},
                    headers=tokens.header("admin"))
    assert r.status_code == 200 and r.json["revoked"]
    r = client.get("/api/v1/incidents", headers=other)
    assert r.status_code == 401 and "revoked" in r.json["error"]["message"]
    own = mine["Authorization"].split()[1]
    assert client.post("/api/v1/tokens/revoke", json={"token": own}, headers=mine).status_code == 200
    assert client.get("/api/v1/incidents", headers=mine).status_code == 401
    bad = client.post("/api/v1/tokens/revoke", json={"token": "forged.token"},
                      headers=tokens.header("admin"))
    assert bad.status_code == 400 and bad.json["error"]["field"] == "token"
    # a restarted server still refuses it: the revocation is in the database
    from rescue.context import RescueContext

    again = RescueContext(ctx.config, clock=clock)
    try:
        from rescue.auth import Unauthorized

        with pytest.raises(Unauthorized):
            again.tokens.verify(token)
    finally:
        again.close()
