"""What probing found (issue 7), each now a 4xx naming the field, and the store still readable
by everyone afterwards. Run on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tests.integration.conftest import team

WENCHENG = {"category": "building_collapse", "severity": "IV", "lat": 27.78, "lon": 120.08}


def raw(client, method: str, path: str, body: str, headers: dict, ctype="application/json"):
    return client.open(path, method=method, data=body.encode("utf-8", "surrogatepass"),
                       content_type=ctype, headers=headers)


def readable_by_everyone(client, tokens) -> None:
    for h in (tokens.header("admin"), tokens.header("operator", area="330328"),
              tokens.header("operator", area="3303", categories=["building_collapse"])):
        assert client.get("/api/v1/incidents", headers=h).status_code == 200
        assert client.get("/api/v1/events?limit=1000", headers=h).status_code == 200
        assert client.get("/api/v1/resources", headers=h).status_code == 200


@pytest.mark.parametrize("text", ["x\\ud800", "x\\udfff y", "a\\u0000b", "bell\\u0007"])
def test_bad_characters_in_a_sitrep_or_title_are_refused(client, tokens, text) -> None:
    h = tokens.header("operator", area="330328")
    inc = client.post("/api/v1/incidents", json=WENCHENG, headers=h).json
    r = raw(client, "POST", f"/api/v1/incidents/{inc['id']}/sitreps", f'{{"text": "{text}"}}', h)
    assert r.status_code == 400 and r.json["error"]["field"] == "text", r.json
    body = json.dumps(WENCHENG)[:-1] + f', "title": "{text}"}}'
    r = raw(client, "POST", "/api/v1/incidents", body, h)
    assert r.status_code == 400 and r.json["error"]["field"] == "title", r.json
    r = raw(client, "POST", "/api/v1/resources", json.dumps(team("t1"))[:-1]
            + f', "agency": "{text}"}}', tokens.header("admin"))
    assert r.status_code == 400 and r.json["error"]["field"] == "agency", r.json
    readable_by_everyone(client, tokens)


def test_a_nul_in_a_resource_name_is_refused_on_every_database(client, tokens) -> None:
    r = raw(client, "POST", "/api/v1/resources",
            json.dumps({**team("n1"), "name": "PLACEHOLDER"}).replace("PLACEHOLDER", "a\\u0000b"),
            tokens.header("admin"))
    assert r.status_code == 400 and r.json["error"]["field"] == "name"


def test_deep_nesting_and_huge_numbers_are_400(client, tokens) -> None:
    h = tokens.header("admin")
    deep = '{"title": ' + "[" * 1000 + "]" * 1000 + "}"
    r = raw(client, "POST", "/api/v1/incidents", deep, h)
    assert r.status_code == 400, r.json
    for value, field in (("1e308", "crew"), (str(2**70), "crew"), ("NaN", "speed_kmh"),
                         ("Infinity", "readiness_s")):
        body = json.dumps(team("big"))
        body = body.replace(f'"{field}": ' + json.dumps(team("big")[field]), f'"{field}": {value}')
        r = raw(client, "POST", "/api/v1/resources", body, h)
        assert r.status_code == 400 and r.json["error"]["field"] == field, (value, r.json)
    readable_by_everyone(client, tokens)


@pytest.mark.parametrize("bad_id", ["a\nb", "a/b", "../../etc/passwd", "x" * 41, "", " "])
def test_incident_ids_are_validated_like_resource_ids(client, tokens, bad_id) -> None:
    h = tokens.header("operator", area="330328")
    r = client.post("/api/v1/incidents", json={**WENCHENG, "id": bad_id}, headers=h)
    assert r.status_code == 400 and r.json["error"]["field"] == "id", r.json
    assert client.post("/api/v1/incidents", json={**WENCHENG, "id": "inc-good_1"},
                       headers=h).status_code == 201
    assert client.get("/api/v1/incidents/inc-good_1", headers=h).status_code == 200


def test_lists_and_texts_are_bounded_and_the_bound_is_said(client, tokens) -> None:
    h = tokens.header("operator", area="330328")
    inc = client.post("/api/v1/incidents", json=WENCHENG, headers=h).json
    r = client.post(f"/api/v1/incidents/{inc['id']}/sitreps", headers=h,
                    json={"text": "x", "needs": ["water"] * 51})
    assert r.status_code == 400 and r.json["error"]["field"] == "needs"
    assert "50" in r.json["error"]["message"]
    r = client.post(f"/api/v1/incidents/{inc['id']}/sitreps", headers=h,
                    json={"text": "x" * 4001})
    assert r.status_code == 400 and "4000" in r.json["error"]["message"]
    r = raw(client, "POST", f"/api/v1/incidents/{inc['id']}/sitreps",
            json.dumps({"text": "x", "needs": ["n" * 1000] * 10_000}), h)
    assert r.status_code == 413 and "bytes" in r.json["error"]["message"]
    assert len(client.get(f"/api/v1/incidents/{inc['id']}", headers=h).json["sitreps"]) == 0


def test_only_json_is_taken_as_json(client, tokens) -> None:
    h = tokens.header("operator", area="330328")
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        r = raw(client, "POST", "/api/v1/incidents", json.dumps(WENCHENG), h, ctype=ctype)
        assert r.status_code == 415 and r.json["error"]["field"] == "Content-Type"
    r = raw(client, "POST", "/api/v1/incidents", json.dumps(WENCHENG), h,
            ctype="application/json; charset=utf-8")
    assert r.status_code == 201


def test_405_says_what_is_allowed(client, tokens) -> None:
    r = client.put("/api/v1/incidents", headers=tokens.header("admin"))
    assert r.status_code == 405
    assert set(r.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_query_and_path_parameters_are_checked_too(client, tokens) -> None:
    h = tokens.header("admin")
    for url, field in (("/api/v1/resources?area=33%00", "area"),
                       ("/api/v1/events?type=%00", "type"),
                       ("/api/v1/incidents?category=%07x", "category")):
        r = client.get(url, headers=h)
        assert r.status_code == 400 and r.json["error"]["field"] == field, (url, r.json)
    # a path naming what cannot exist matches no route: 404, and never reaches the database
    for url in ("/api/v1/resources/a%00b", "/api/v1/incidents/x%0Ay", "/api/v1/areas/33%00"):
        r = client.get(url, headers=h)
        assert r.status_code == 404 and r.json["error"]["code"] == "not_found", (url, r.json)


def test_a_record_poisoned_by_an_older_release_is_served_not_a_500(client, tokens, ctx) -> None:
    """Older releases stored a lone surrogate as a JSON escape; readers now serve U+FFFD."""
    h = tokens.header("operator", area="330328")
    inc = client.post("/api/v1/incidents", json=WENCHENG, headers=h).json
    with ctx.engine.begin() as conn:
        data = conn.execute(sa.text("SELECT data FROM incidents WHERE id = :i"),
                            {"i": inc["id"]}).scalar()
        data = data if isinstance(data, dict) else json.loads(data)
        data["title"] = "PLACEHOLDER"
        poisoned = json.dumps(data).replace("PLACEHOLDER", "x\\ud800")
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("UPDATE incidents SET data = CAST(:d AS json) WHERE id = :i"),
                         {"d": poisoned, "i": inc["id"]})
        else:
            conn.execute(sa.text("UPDATE incidents SET data = :d WHERE id = :i"),
                         {"d": poisoned, "i": inc["id"]})
    got = client.get(f"/api/v1/incidents/{inc['id']}", headers=h)
    assert got.status_code == 200 and got.json["title"] == "x\ufffd"
    readable_by_everyone(client, tokens)
