"""What the console reads about its operator (`GET /api/v1/me`) and how the page is served."""

from __future__ import annotations

import pytest

from rescue.config import Config, ConfigError


def test_me_says_who_and_what_the_console_needs(client, tokens) -> None:
    r = client.get("/api/v1/me", headers=tokens.header("operator", area="330328",
                                                          name="文成县应急指挥中心"))
    assert r.status_code == 200, r.json
    me = r.json
    assert (me["role"], me["area"], me["level"]) == ("operator", "330328", 3)
    assert me["area_name"] == "文成县" and me["area_name_en"]
    assert me["settings"]["dispatch_red_s"] == 60
    assert me["settings"]["dispatch_amber_s"] < me["settings"]["dispatch_red_s"]
    assert me["settings"]["tile_url"] is None  # the default: the app's own land and sea
    v = me["vocabulary"]
    assert "flood" in v["categories"] and v["severities"] == ["I", "II", "III", "IV"]
    assert v["kinds"]["helicopter"] == "air" and "en_route" in v["statuses"]


def test_a_desk_is_offered_its_own_categories_only(client, tokens) -> None:
    h = tokens.header("operator", area="3303", categories=["medical_evacuation"])
    assert client.get("/api/v1/me", headers=h).json["vocabulary"]["categories"] == [
        "medical_evacuation"]


def test_me_needs_a_token(client) -> None:
    r = client.get("/api/v1/me")
    assert r.status_code == 401 and r.json["error"]["code"]


def test_console_page_and_vendor_whitelist(client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and b'name="token"' in page.data
    assert client.get("/console/app.js").status_code == 200
    assert client.get("/vendor/leaflet/dist/leaflet.js").status_code == 200
    for path in ("/vendor/leaflet/package.json", "/vendor/../pyproject.toml",
                 "/vendor/leaflet/dist/../../../package.json", "/vendor/ws/index.js"):
        assert client.get(path).status_code == 404, path


def test_console_settings_are_checked(tmp_path) -> None:
    with pytest.raises(ConfigError, match="RESCUE_TILE_URL"):
        Config.from_env({"RESCUE_DATA_DIR": str(tmp_path), "RESCUE_TILE_URL": "javascript:x"})
    with pytest.raises(ConfigError, match="AMBER"):
        Config.from_env({"RESCUE_DATA_DIR": str(tmp_path), "RESCUE_DISPATCH_AMBER_S": "90"})
    cfg = Config.from_env({"RESCUE_DATA_DIR": str(tmp_path),
                           "RESCUE_TILE_URL": "/tiles/{z}/{x}/{y}.png"})
    assert cfg.tile_url == "/tiles/{z}/{x}/{y}.png"
