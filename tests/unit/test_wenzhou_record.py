"""The record of Wenzhou, as corrected against independent references (issue 7 §3): each
corrected place is pinned, so a rebuild of the data or an edit of the sources cannot quietly
undo it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from importlib import resources as pkg

import pytest

from geo.geography import Geography
from rescue.incidents import AreaRef, Incident

T0 = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


@cache
def geo() -> Geography:
    return Geography.load()


@cache
def registry() -> dict[str, dict]:
    data = json.loads(pkg.files("rescue.demo").joinpath("registry.json").read_text("utf-8"))
    return {r["id"]: r for r in data["resources"]}


@cache
def layer(name: str) -> dict[str, dict]:
    return {f["properties"]["id"]: f for f in geo().layers.get(name)["features"]}


def townships(county: str) -> dict[str, str]:
    """name -> code of the townships of a county."""
    return {a.name: a.code for a in geo().areas.children(county)
            if a.kind == "admin" and a.level == 4}


def latlon(feature: dict) -> tuple[float, float]:
    lon, lat = feature["geometry"]["coordinates"]
    return lat, lon


def test_dongtou_has_lingkun_since_2015_and_kunpeng_since_2020() -> None:
    dongtou = townships("330305")
    assert {"灵昆街道", "昆鹏街道"} <= set(dongtou)
    assert "灵昆街道" not in townships("330303")
    for name in ("灵昆街道", "昆鹏街道"):
        a = geo().areas.get(dongtou[name])
        loc = geo().areas.locate(a.seat_lat, a.seat_lon)
        assert loc.chain[-1].code == a.code and loc.surface == "land", name


def test_yongjia_oubei_merged_and_dawuoyan_spelt_right() -> None:
    yongjia = townships("330324")
    assert "瓯北街道" in yongjia and not {"江北街道", "东瓯街道"} & set(yongjia)
    assert "大箬岩镇" in yongjia and "大若岩镇" not in yongjia


def test_yueqing_and_taishun_are_complete() -> None:
    assert {"磐石镇", "蒲岐镇"} <= set(townships("330382"))
    taishun = townships("330329")
    assert {"凤垟乡", "雪溪乡"} <= set(taishun) and len(taishun) == 19


def test_every_township_seat_lies_in_its_own_county() -> None:
    for county in ("330305", "330324", "330382", "330329"):
        for name, code in townships(county).items():
            a = geo().areas.get(code)
            chain = [x.code for x in geo().areas.locate(a.seat_lat, a.seat_lon).chain]
            assert county in chain, (name, chain)


def test_the_damen_seat_is_on_damen_island() -> None:
    damen = geo().areas.get(townships("330305")["大门镇"])
    loc = geo().areas.locate(damen.seat_lat, damen.seat_lon)
    assert loc.surface == "land" and loc.chain[-1].code == damen.code


@pytest.mark.parametrize("point", ["sb-dongtou", "sb-luxi", "sb-damen"])
def test_berths_are_at_the_waters_edge_and_agree_with_the_boats_based_there(point) -> None:
    lat, lon = latlon(layer("standby_points")[point])
    assert geo().land.distance_to_coast_km(lat, lon) <= 0.1, point
    based = {"sb-dongtou": ["ecsrb-dt-large", "ecsrb-dt-medium", "ecsrb-dt-fast"],
             "sb-luxi": ["vv-lx-1"], "sb-damen": ["vv-dm-1"]}[point]
    from geo.distance import haversine_km

    for rid in based:
        home = registry()[rid]["home"]
        assert haversine_km(lat, lon, home["lat"], home["lon"]) <= 0.1, (point, rid)


def test_layer_names_and_places_agree_with_the_registry() -> None:
    from geo.distance import haversine_km

    longwan = layer("helipads")["hp-longwan"]["properties"]
    assert "No.1" in longwan["name_en"] and "No.2" not in longwan["name_en"]
    wmu = latlon(layer("hospitals")["h-wmu1"])
    assert haversine_km(*wmu, registry()["wz-emt-wmu1"]["home"]["lat"],
                        registry()["wz-emt-wmu1"]["home"]["lon"]) <= 0.3
    assert haversine_km(*wmu, *latlon(layer("helipads")["hp-wmu1"])) <= 0.3
    aojiang = layer("ports")["fish-aojiang"]["properties"]
    assert aojiang["area"].startswith("330326")  # Pingyang's bank, not Longgang's
    assert all(f["properties"]["surface"] == "land" for f in layer("airports").values())


def test_the_registry_names_its_aircraft_and_craft_as_they_are() -> None:
    r = registry()
    for rid in ("wz-airmed-heli-1", "wz-airmed-heli-2"):
        assert "Jinhuitong" in r[rid]["agency"]
        assert any(t in r[rid]["name"] for t in ("AW119", "AW109"))
    first = r["ecsrfs-wz-heli-1"]
    assert "S-76D" in first["name"] and "heavy" not in first["name"]
    assert first["speed_kmh"] == pytest.approx(280, abs=15) and first["capacity"] == 12
    medium = r["ecsrfs-wz-heli-2"]
    assert not (first["speed_kmh"] > medium["speed_kmh"]
                and first["range_km"] > medium["range_km"] and "heavy" in first["name"])
    for rid in ("ecsrb-dt-fast", "ecsrb-nj-fast"):
        assert r[rid]["speed_kmh"] == pytest.approx(30 * 1.852, abs=3)  # about 30 kn


def _incident(severity: str, surface: str) -> Incident:
    chain = (AreaRef("33", "浙江省", 1), AreaRef("3303", "温州市", 2),
             AreaRef("330305", "洞头区", 3))
    sea = AreaRef("3303M", "温州海域", 3, "maritime")
    return Incident(id="i", title="t", category="maritime_distress", severity=severity,
                    lat=27.84, lon=121.46, persons_at_risk=3, status="reported",
                    areas=chain + ((AreaRef("330305M", "洞头区海域", 4, "maritime"),)
                                   if surface == "sea" else ()),
                    surface=surface, maritime=sea, reported_at=T0, updated_at=T0)


def test_grade_one_is_led_nationally_with_the_province_acting() -> None:
    from rescue.incident_repo import incident_to_dict

    d = incident_to_dict(_incident("I", "land"))
    assert d["lead_level"] == "national" and d["lead_area"] == "33"
    assert d["led_for"] == "state_council"


def test_at_sea_the_city_maritime_sub_centre_leads_at_least() -> None:
    sea_iv = _incident("IV", "sea")
    assert sea_iv.lead_level == "city" and sea_iv.lead_area == "3303M"
    assert _incident("III", "sea").lead_area == "3303M"
    assert _incident("II", "sea").lead_area == "33"
    land_iv = _incident("IV", "land")
    assert land_iv.lead_level == "county" and land_iv.lead_area == "330305"
