"""Resource model: strict validation naming the field, PATCH, JSON shape, vocabulary."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from resources.errors import Conflict, ValidationError
from resources.model import Resource, resource_from_dict, resource_to_dict
from resources.vocabulary import CAPABILITY_DESCRIPTIONS, Vocabulary

VOCAB = Vocabulary.default()


def heli(**kw) -> dict:
    d = {"name": "Rescue 1", "kind": "helicopter", "speed_kmh": 250, "readiness_s": 900,
         "range_km": 600, "home": {"name": "Longwan", "lat": 27.912, "lon": 120.852},
         "area": "3303", "capabilities": ["medevac", "hoist"]}
    d.update(kw)
    return d


def field_of(data: dict, existing: Resource | None = None) -> str:
    with pytest.raises(ValidationError) as e:
        resource_from_dict(data, VOCAB, existing=existing)
    assert e.value.field and e.value.field in str(e.value)
    return e.value.field


def test_valid_resource_and_shape() -> None:
    r = resource_from_dict(heli(lat=28, lon=121, position_time="2024-05-01T16:00:00+08:00",
                                crew=4.0), VOCAB)
    assert r.capabilities == ("hoist", "medevac") and r.crew == 4 and r.status == "available"
    assert r.position_time == datetime(2024, 5, 1, 8, tzinfo=UTC) and r.version == 1
    d = resource_to_dict(r)
    assert list(d)[:17] == ["id", "name", "call_sign", "kind", "tier", "agency", "capabilities",
                            "crew", "capacity", "speed_kmh", "readiness_s", "range_km", "home",
                            "lat", "lon", "position_time", "status"]
    assert d["position_time"] == "2024-05-01T08:00:00Z" and d["exercise"] is None
    assert resource_from_dict(d, VOCAB) == r


def test_generated_id_is_short_url_safe_and_stable() -> None:
    a, b = resource_from_dict(heli(), VOCAB), resource_from_dict(heli(), VOCAB)
    assert a.id == b.id and len(a.id) <= 16 and a.id.isalnum()
    assert resource_from_dict(heli(name="Rescue 2"), VOCAB).id != a.id
    assert resource_from_dict(heli(id="my-unit_1"), VOCAB).id == "my-unit_1"


@pytest.mark.parametrize("patch, field", [
    ({"home": {"lat": 91, "lon": 120}}, "home.lat"),
    ({"home": {"lat": 28, "lon": float("nan")}}, "home.lon"),
    ({"home": {"lat": "28", "lon": 120}}, "home.lat"),
    ({"home": {"lat": 28, "lon": 120, "alt": 3}}, "home.alt"),
    ({"home": None}, "home"),
    ({"lat": 28}, "lon"),
    ({"lat": 28, "lon": 200}, "lon"),
    ({"speed_kmh": "fast"}, "speed_kmh"),
    ({"speed_kmh": 0}, "speed_kmh"),
    ({"speed_kmh": True}, "speed_kmh"),
    ({"readiness_s": -1}, "readiness_s"),
    ({"range_km": None}, "range_km"),
    ({"range_km": 0}, "range_km"),
    ({"crew": True}, "crew"),
    ({"crew": -1}, "crew"),
    ({"crew": 2.5}, "crew"),
    ({"capacity": "3"}, "capacity"),
    ({"capabilities": ["hoist", "medevac", "teleport"]}, "capabilities[2]"),
    ({"capabilities": ["hoist", 3]}, "capabilities[1]"),
    ({"capabilities": ["hoist", "hoist"]}, "capabilities[1]"),
    ({"capabilities": "hoist"}, "capabilities"),
    ({"kind": "submarine"}, "kind"),
    ({"kind": None}, "kind"),
    ({"status": "sleeping"}, "status"),
    ({"area": "Wenzhou"}, "area"),
    ({"area": "33030"}, "area"),
    ({"name": ""}, "name"),
    ({"name": 5}, "name"),
    ({"colour": "red"}, "colour"),
    ({"id": "has space"}, "id"),
    ({"position_time": "2024-05-01T08:00:00", "lat": 1, "lon": 2}, "position_time"),
    ({"position_time": "yesterday", "lat": 1, "lon": 2}, "position_time"),
    ({"position_time": "2024-05-01T08:00:00Z"}, "position_time"),
    ({"exercise": "a b"}, "exercise"),
])
def test_bad_input_names_the_field(patch: dict, field: str) -> None:
    assert field_of(heli(**patch)) == field


def test_range_optional_for_surface_units_and_sea_sector_area() -> None:
    r = resource_from_dict(heli(kind="vessel", range_km=None, area="330305M",
                                capabilities=["water_rescue"]), VOCAB)
    assert r.range_km is None and r.area == "330305M"
    assert resource_from_dict(heli(area="330305001"), VOCAB).area == "330305001"


def test_patch_is_partial_and_guards_identity_and_version() -> None:
    r = resource_from_dict(heli(id="h1", exercise="ex1"), VOCAB)
    p = resource_from_dict({"home": {"lat": 28.0}, "speed_kmh": 260}, VOCAB, existing=r)
    assert p.home.lat == 28.0 and p.home.lon == r.home.lon and p.home.name == "Longwan"
    assert p.speed_kmh == 260 and p.capabilities == r.capabilities and p.id == "h1"
    assert field_of({"id": "other"}, r) == "id"
    assert field_of({"exercise": None}, r) == "exercise"
    assert field_of({"speed_kmh": None}, r) == "speed_kmh"
    assert field_of({"range_km": None}, r) == "range_km"
    assert field_of({"home": None}, r) == "home"
    with pytest.raises(Conflict):
        resource_from_dict({"name": "x", "version": 7}, VOCAB, existing=r)
    assert resource_from_dict({"version": 1, "name": "x"}, VOCAB, existing=r).name == "x"


def test_vocabulary_is_extensible_by_configuration() -> None:
    assert {"hoist", "medevac", "water_rescue", "diving", "heavy_rescue", "search_dog",
            "structural_expert", "firefighting", "hazmat"} <= set(VOCAB.capabilities)
    assert set(VOCAB.capabilities) == set(CAPABILITY_DESCRIPTIONS)
    v = VOCAB.extended(kinds={"hovercraft": "sea", "gyrocopter": "air"},
                       capabilities=["ice_rescue"])
    assert v.capability_bit("hoist") == VOCAB.capability_bit("hoist")
    assert v.mode_of("hovercraft") == "sea" and "gyrocopter" in v.air_kinds
    r = resource_from_dict(heli(kind="gyrocopter", capabilities=["ice_rescue"]), v)
    assert r.capabilities == ("ice_rescue",)
    with pytest.raises(ValidationError):
        resource_from_dict(heli(kind="gyrocopter"), VOCAB)
    cfg = Vocabulary.from_config({"kinds": {"airboat": "sea"}, "capabilities": ["ice_rescue"]})
    assert "airboat" in cfg.kinds and "ice_rescue" in cfg.capabilities
    with pytest.raises(ValidationError):
        Vocabulary.from_config({"colours": ["red"]})
    with pytest.raises(ValidationError):
        VOCAB.extended(capabilities=[f"c{i}" for i in range(60)])
    with pytest.raises(ValidationError):
        VOCAB.extended(kinds={"boat": "underwater"})


def test_with_position_is_replace_field_by_field() -> None:
    """with_position builds the Resource by position: a field added to Resource without it
    there would shift the others; this holds the two equal for every field."""
    from dataclasses import FrozenInstanceError, fields, replace
    from datetime import UTC, datetime

    from resources.model import Home, Resource, with_position

    values = {f.name: f"v-{f.name}" for f in fields(Resource)}
    values["home"] = Home("h", 1.0, 2.0)
    r = Resource(**values)
    t = datetime(2026, 7, 1, tzinfo=UTC)
    moved = with_position(r, 3.0, 4.0, t, 9)
    assert moved == replace(r, lat=3.0, lon=4.0, position_time=t, version=9)
    assert type(moved) is Resource and hash(moved) == hash(replace(moved))
    with pytest.raises(FrozenInstanceError):
        moved.lat = 5.0  # type: ignore[misc]
