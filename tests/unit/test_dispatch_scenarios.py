"""Scenarios on the real geography with a small hand-built registry, plus the dispatcher's
validation, `suggestion` shape, jurisdiction relations and CLI table."""

from __future__ import annotations

import pytest

from geo.distance import haversine_km
from rescue.dispatch import Dispatcher, DispatchPolicy, DispatchRequest, format_table, load_plans
from rescue.dispatch.jurisdiction import Jurisdiction
from resources.errors import ValidationError
from resources.spatial import ResourceIndex
from resources.vocabulary import Vocabulary
from tests.unit.test_dispatch_helpers import NOW, geography, res

DONGTOU_EAST = (27.84, 121.45)  # ~30 km east of Dongtou, open sea
WENCHENG = (27.78, 120.08)
NANJI = (27.465, 121.065)  # Nanji island (27.46, 121.07 falls in a bay of the coarse mask)

REGISTRY = [
    # Wenchang / Wencheng county (330328) land teams
    res("wc-heavy", "land_team", ["heavy_rescue", "search_dog"], 27.787, 120.09, area="330328",
        speed=50, ready=300),
    res("wc-med", "land_team", ["medical"], 27.79, 120.10, area="330328101", speed=50),
    res("wc-vol", "volunteer_team", ["medical", "search"], 27.70, 120.05, area="330328", speed=40),
    res("ra-heavy", "land_team", ["heavy_rescue"], 27.78, 120.63, area="330381", speed=60),
    res("wz-expert", "expert_team", ["structural_expert"], 28.0, 120.67, area="3303", speed=60),
    res("wz-heavy", "land_team", ["heavy_rescue", "medical"], 28.01, 120.65, area="330302"),
    # air
    res("heli-longwan", "helicopter", ["hoist", "medevac", "search"], 27.91, 120.85, area="3303",
        speed=250, ready=900, rng=700),
    res("heli-tz", "helicopter", ["hoist", "medevac"], 28.62, 121.42, area="33", speed=240,
        ready=900, rng=600),
    res("drone-dt", "drone", ["search", "survey"], 27.84, 121.13, area="330305", speed=80,
        ready=120, rng=60),
    # sea: vessels in the water near ports
    res("v-dongtou", "vessel", ["water_rescue", "firefighting", "towing"], 27.83, 121.20,
        area="330305", speed=35, ready=600),
    res("v-wenzhou", "vessel", ["water_rescue", "medevac"], 27.88, 120.97, area="3303M",
        speed=40, ready=900),
    res("vv-fisher", "volunteer_vessel", ["water_rescue"], 27.70, 121.25, area="330326",
        speed=20, ready=300),
    # island teams
    res("dt-team", "land_team", ["heavy_rescue", "medical", "water_rescue"], 27.8357, 121.1567,
        area="330305", speed=40),
    res("nj-team", "land_team", ["medical"], 27.462, 121.07, area="330326", speed=20,
        ready=300),
]


@pytest.fixture(scope="module")
def dispatcher():
    return Dispatcher(geography(), load_plans())


@pytest.fixture(scope="module")
def index():
    return ResourceIndex.build(REGISTRY, Vocabulary.default())


def by_cap(s):
    return {r.requirement.capability: r for r in s.requirements}


def test_fishing_boat_east_of_dongtou_gets_vessels_and_helicopters(dispatcher, index):
    s = dispatcher.suggest(index, DispatchRequest(*DONGTOU_EAST, "maritime_distress", "III"),
                           now=NOW)
    assert s.location.surface == "sea"
    every = [c for r in s.requirements for c in r.candidates]
    assert every and all(c.mode in ("sea", "air") for c in every)
    assert not any(c.kind.endswith("team") for c in every)
    water = by_cap(s)["water_rescue"].candidates
    assert {c.kind for c in water} <= {"vessel", "volunteer_vessel"} and len(water) >= 2
    for c in water:
        r = next(x for x in REGISTRY if x.id == c.resource_id)
        straight = haversine_km(*DONGTOU_EAST, r.lat, r.lon)
        assert c.distance_km >= straight - 1e-6
    # the Wenzhou vessel lies west of the Dongtou islands: its route goes around them
    wz = next(c for c in water if c.resource_id == "v-wenzhou")
    assert wz.distance_km > 1.05 * haversine_km(*DONGTOU_EAST, 27.88, 120.97)
    assert {c.kind for c in by_cap(s)["hoist"].candidates} == {"helicopter"}
    assert {p.candidate.mode for p in s.plan} <= {"sea", "air"}


def test_house_collapse_in_wencheng(dispatcher, index):
    s = dispatcher.suggest(index, DispatchRequest(*WENCHENG, "building_collapse", "III"), now=NOW)
    caps = by_cap(s)
    assert caps["heavy_rescue"].candidates[0].resource_id == "wc-heavy"
    assert caps["heavy_rescue"].candidates[0].relation == "own_area"
    assert caps["medical"].candidates[0].resource_id == "wc-med"
    assert caps["structural_expert"].candidates[0].kind == "expert_team"
    assert caps["structural_expert"].candidates[0].relation == "mutual_aid_higher"
    assert caps["medevac"].candidates[0].kind == "helicopter"
    planned = {p.requirement: p for p in s.plan}
    assert planned["medevac"].candidate.kind == "helicopter"
    assert {"heavy_rescue", "medical", "structural_expert", "medevac"} <= set(planned)
    assert by_cap(s)["search_dog"].shortfall is None or planned.get("search_dog") is None
    assert len({p.resource_id for p in s.plan}) == len(s.plan)


def test_casualty_on_nanji_gets_no_mainland_land_team(dispatcher, index):
    geo = geography()
    assert geo.land.is_land(*NANJI)
    s = dispatcher.suggest(index, DispatchRequest(*NANJI, "traffic_accident", "II"), now=NOW)
    land = [c for r in s.requirements for c in r.candidates if c.mode == "land"]
    assert [c.resource_id for c in land] == ["nj-team"]
    heavy = by_cap(s)["heavy_rescue"]
    assert heavy.candidates == [] and heavy.shortfall["code"] == "unreachable"
    assert by_cap(s)["medevac"].candidates[0].kind == "helicopter"


@pytest.mark.parametrize("point, weather", [(NANJI, None), (NANJI, {"wind_kmh": 120}),
                                            (DONGTOU_EAST, None)])
@pytest.mark.parametrize("scan_below", [0, 10**6])
def test_units_that_cannot_come_are_counted_not_walked(point, weather, scan_below):
    """Over an index zoned by land reach, the mainland's land teams (and grounded aircraft) are
    counted for an island or sea incident, never read, by a walk or a scan: the suggestion,
    shortfall counts included, is the brute force's, and only the island's units are
    examined."""
    many = REGISTRY + [res(f"ml-{i:03d}", "land_team", ["heavy_rescue", "medical"],
                           27.9 + 0.001 * i, 120.6, area="330302") for i in range(300)]
    dispatcher = Dispatcher(geography(), load_plans(), scan_below=scan_below)
    zoned = ResourceIndex.build(many, Vocabulary.default(), zoner=geography().reach.components)
    bare = ResourceIndex.build(many, Vocabulary.default())
    req = DispatchRequest(*point, "traffic_accident", "II", weather=weather)
    fast = dispatcher.suggest(zoned, req, now=NOW)
    assert fast.to_dict() == dispatcher.suggest(bare, req, now=NOW).to_dict() == \
        dispatcher.suggest(zoned, req, now=NOW, method="brute_force").to_dict()
    heavy = by_cap(fast)["heavy_rescue"]
    assert heavy.shortfall["code"] in ("unreachable", "grounded")
    settled = sum(r.ranking.settled for r in fast.requirements)
    walked = sum(r.ranking.matched - r.ranking.settled for r in fast.requirements)
    assert settled >= 300 * 2 and walked < 30


def test_a_countys_own_units_are_walked_apart():
    """Hundreds of city-owned teams sit around a Lucheng incident, the county's own team 4 km
    away: the plan pool must find any own unit within the local-first margin, and walking the
    county's own units apart finds it without reading every city team within ETA + margin.
    The suggestion equals the one-walk and brute-force answers."""
    from rescue.context import CountyGrouper

    here = (28.0, 120.66)
    many = [res(f"city-{i:03d}", "land_team", ["medical"], here[0] + 0.0001 * (i % 40),
                here[1] + 0.0001 * (i // 40), area="3303", speed=50, ready=600)
            for i in range(400)]
    many += [res(f"far-{i:03d}", "land_team", ["medical"], here[0] + 0.05 + 0.001 * i,
                 here[1], area="3303", speed=50, ready=600) for i in range(400)]
    many.append(res("lucheng-med", "land_team", ["medical"], here[0] + 0.036, here[1],
                    area="330302", speed=50, ready=600))
    dispatcher = Dispatcher(geography(), load_plans(), scan_below=0)  # walks, never a scan
    grouped = ResourceIndex.build(many, Vocabulary.default(), grouper=CountyGrouper(geography))
    bare = ResourceIndex.build(many, Vocabulary.default())
    req = DispatchRequest(*here, "building_collapse", "IV")
    fast = dispatcher.suggest(grouped, req, now=NOW)
    one = dispatcher.suggest(bare, req, now=NOW)
    assert fast.to_dict() == one.to_dict() == \
        dispatcher.suggest(bare, req, now=NOW, method="brute_force").to_dict()
    assert "lucheng-med" in [p.resource_id for p in fast.plan]
    read = sum(r.ranking.matched for r in fast.requirements)
    assert read < sum(r.ranking.matched for r in one.requirements) / 2
    # A scan knows the county's own units too (their plan cost carries no margin): same plan
    scanning = Dispatcher(geography(), load_plans(), scan_below=10**6)
    for index in (grouped, bare):
        scanned = scanning.suggest(index, req, now=NOW)
        assert scanned.to_dict() == fast.to_dict()
        assert [r.ranking.pool for r in scanned.requirements] == \
            [r.ranking.pool for r in fast.requirements]


def test_few_units_are_ranked_by_one_scan():
    """Below `scan_below` matching units a requirement is ranked by one scan; the suggestion
    is the walks' own. The scan counts every matching unit but works out the ETA (a sea route
    too) of only those that could enter a list (the nearest by optimistic ETA, in doubling
    chunks)."""
    many = REGISTRY + [res(f"ml-{i:03d}", "land_team", ["heavy_rescue", "medical"],
                           27.9 + 0.001 * i, 120.6, area="330302") for i in range(300)]
    index = ResourceIndex.build(many, Vocabulary.default())
    scanning = Dispatcher(geography(), load_plans(), scan_below=1000)
    walking = Dispatcher(geography(), load_plans(), scan_below=0)
    for point, category in ((WENCHENG, "building_collapse"), (DONGTOU_EAST, "vessel_fire")):
        req = DispatchRequest(*point, category, "II")
        got = scanning.suggest(index, req, now=NOW)
        walked = walking.suggest(index, req, now=NOW)
        brute = walking.suggest(index, req, now=NOW, method="brute_force")
        assert got.to_dict() == walked.to_dict() == brute.to_dict()
        for r, b in zip(got.requirements, brute.requirements, strict=True):
            assert r.ranking.matched == b.ranking.matched  # every unit counted
            if b.ranking.matched > 100:  # ... far fewer classified
                assert r.ranking.matched - r.ranking.skipped < b.ranking.matched / 4
    heavy = by_cap(walking.suggest(index, DispatchRequest(*WENCHENG, "building_collapse", "II"),
                                   now=NOW))["heavy_rescue"]
    assert heavy.ranking.batches > 1  # what the scan saved


def test_dongtou_linked_islands_are_reachable_by_its_land_team(dispatcher, index):
    geo = geography()
    a, b = (27.8357, 121.1567), (27.83, 121.10)  # Dongtou main island and a bridged island
    assert geo.reach.component(*a) == geo.reach.component(*b) is not None
    s = dispatcher.suggest(index, DispatchRequest(*b, "traffic_accident", "IV"), now=NOW)
    assert "dt-team" in [c.resource_id for c in by_cap(s)["heavy_rescue"].candidates]


def test_grounded_weather_and_shortfall_codes(dispatcher, index):
    req = DispatchRequest(*DONGTOU_EAST, "maritime_distress", "III",
                          weather={"wind_kmh": 110, "visibility_km": 0.8})
    s = dispatcher.suggest(index, req, now=NOW)
    hoist = by_cap(s)["hoist"]
    assert hoist.candidates == []
    assert hoist.shortfall["code"] == "grounded" and "wind_kmh 110" in hoist.shortfall["detail"]
    stale = Dispatcher(geography(), load_plans(), DispatchPolicy(stale_fallback=False))
    old = [res("old-heli", "helicopter", ["medevac"], 27.9, 120.8, age_s=7200)]
    s = stale.suggest(ResourceIndex.build(old, Vocabulary.default()),
                      DispatchRequest(*WENCHENG, "medical_evacuation", "IV"), now=NOW)
    assert s.requirements[0].shortfall["code"] == "positions_stale"
    s = dispatcher.suggest(ResourceIndex.build(old, Vocabulary.default()),
                           DispatchRequest(*WENCHENG, "medical_evacuation", "IV"), now=NOW)
    assert s.requirements[0].candidates[0].reason == "position_stale_home_base"
    far = [res("short-heli", "helicopter", ["medevac"], 28.9, 121.6, rng=100)]
    s = dispatcher.suggest(ResourceIndex.build(far, Vocabulary.default()),
                           DispatchRequest(*WENCHENG, "medical_evacuation", "IV"), now=NOW)
    assert s.requirements[0].shortfall["code"] == "out_of_range"
    s = dispatcher.suggest(ResourceIndex.build([], Vocabulary.default()),
                           DispatchRequest(*WENCHENG, "medical_evacuation", "IV"), now=NOW)
    assert s.requirements[0].shortfall["code"] == "none_available"


def test_a_gale_keeps_volunteer_boats_in_port_and_a_storm_every_boat(dispatcher, index):
    def water(wind):
        req = DispatchRequest(*DONGTOU_EAST, "maritime_distress", "III",
                              weather={"wind_kmh": wind, "visibility_km": 5})
        return by_cap(dispatcher.suggest(index, req, now=NOW))["water_rescue"]

    assert "vv-fisher" in [c.resource_id for c in water(40).candidates]
    gale = water(70)
    kinds = {c.kind for c in gale.candidates}
    assert "volunteer_vessel" not in kinds and "vessel" in kinds
    storm = water(100)
    assert storm.candidates == [] and storm.shortfall["code"] == "grounded"


def test_could_serve_agrees_with_the_suggestion_unit_by_unit(dispatcher, index):
    """`could_serve` (a waiting incident's check of a unit that came free) says of each unit
    what the suggestion's ranking says: feasible units are ranked, the others are not."""
    cases = [(DONGTOU_EAST, "maritime_distress", {"wind_kmh": 70, "visibility_km": 5}),
             (DONGTOU_EAST, "maritime_distress", None), (WENCHENG, "building_collapse", None),
             (NANJI, "medical_evacuation", None)]
    seen = set()
    for point, category, weather in cases:
        req = DispatchRequest(*point, category, "I", weather=weather)
        s = dispatcher.suggest(index, req, now=NOW, k=50)
        ranked = {c.resource_id for r in s.requirements for c in r.candidates}
        caps = {r.requirement.capability for r in s.requirements}
        for unit in REGISTRY:
            if caps & set(unit.capabilities):
                ok = dispatcher.could_serve(unit, req, now=NOW)
                assert ok == (unit.id in ranked), (point, weather, unit.id)
                seen.add(ok)
    assert seen == {True, False}


def test_suggestion_shape(dispatcher, index):
    s = dispatcher.suggest(index, DispatchRequest(*WENCHENG, "building_collapse", "II",
                                                  incident_id="inc-1"), now=NOW, k=3)
    d = s.to_dict()
    assert d["incident"] == "inc-1"
    for r in d["requirements"]:
        assert {"capability", "count", "candidates", "shortfall"} <= set(r)
        assert len(r["candidates"]) <= 3
        for c in r["candidates"]:
            assert set(c) == {"resource_id", "kind", "mode", "eta_s", "distance_km", "relation",
                              "reason"}
            assert isinstance(c["eta_s"], int) and c["mode"] in ("air", "sea", "land")
        assert r["shortfall"] is None or set(r["shortfall"]) == {"code", "detail"}
    for p in d["plan"]:
        assert {"requirement", "resource_id", "eta_s"} <= set(p)
    etas = [c["eta_s"] for c in d["requirements"][0]["candidates"]]
    assert etas == sorted(etas)
    text = format_table(s)
    assert "heavy_rescue" in text and "wc-heavy" in text and "plan" in text


@pytest.mark.parametrize(("kwargs", "k", "field"), [
    ({"category": "alien_invasion"}, 5, "category"),
    ({"severity": "V"}, 5, "severity"),
    ({}, 0, "k"),
    ({}, 51, "k"),
    ({"lat": 95.0}, 5, "lat"),
])
def test_validation_errors_name_the_field(dispatcher, index, kwargs, k, field):
    base = {"lat": WENCHENG[0], "lon": WENCHENG[1], "category": "fire", "severity": "III"}
    with pytest.raises(ValidationError) as info:
        dispatcher.suggest(index, DispatchRequest(**{**base, **kwargs}), now=NOW, k=k)
    assert info.value.field == field


def test_jurisdiction_relations_on_real_areas():
    geo = geography()
    j = Jurisdiction(geo.areas, geo.areas.locate(*WENCHENG))
    assert j.relation("330328") == "own_area"
    assert j.relation("330328101") == "own_area"
    assert j.relation("330381") == "neighbouring_area"  # Rui'an touches Wencheng
    assert j.relation("3303") == "mutual_aid_higher" and j.relation("33") == "mutual_aid_higher"
    assert j.relation("330305") == "mutual_aid_other"  # Dongtou: not adjacent
    sea = Jurisdiction(geo.areas, geo.areas.locate(*DONGTOU_EAST))
    assert sea.relation("330305") == "own_area" and sea.relation("3303M") == "mutual_aid_higher"
