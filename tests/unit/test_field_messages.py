"""Field messages applied in batches on the in-memory unit of work: idempotency, ordering,
isolation of a refused message, and the areas and units the events name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache

import pytest

from geo.areas import AreaIndex
from rescue.auth import Principal
from rescue.events import EventQuery
from rescue.services import incidents as inc_svc
from rescue.services import resources as res_svc
from rescue.services.field import (
    FieldMessage,
    apply_batch,
    parse_position,
    parse_sitrep,
    parse_status,
)
from rescue.uow import InMemoryStore, InMemoryUnitOfWork
from resources.errors import ValidationError
from resources.vocabulary import Vocabulary

T0 = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
ADMIN = Principal(role="admin", name="test")


@cache
def areas() -> AreaIndex:
    return AreaIndex.from_file()


@pytest.fixture
def store() -> InMemoryStore:
    s = InMemoryStore()
    for rid, area, lat, lon in (("a", "330328", 27.79, 120.09), ("b", "330328", 27.79, 120.09),
                                ("boat", "330381", 27.78, 120.66)):
        res_svc.create_resource(InMemoryUnitOfWork(s), ADMIN, {
            "id": rid, "name": rid, "kind": "land_team", "capabilities": ["heavy_rescue"],
            "speed_kmh": 50, "readiness_s": 600, "area": area,
            "home": {"name": "b", "lat": lat, "lon": lon}}, Vocabulary.default(), areas(), T0)
    return s


def field(rid: str) -> Principal:
    return Principal(role="field", resource_id=rid)


def pos(rid: str, lat: float, t: datetime, mid: str | None = None) -> FieldMessage:
    body, mid2 = parse_position({"id": mid, "lat": lat, "lon": 120.1, "time": t.isoformat()}, T0)
    return FieldMessage(field(rid), body, rid, mid2)


def run(store: InMemoryStore, messages: list[FieldMessage]):
    with InMemoryUnitOfWork(store) as uow:
        out = apply_batch(uow, messages, T0)
        uow.commit()
    return out


def events(store: InMemoryStore, type_: str):
    return store.events.read(EventQuery(limit=1000, all_exercises=True, types_prefix=type_))


def test_a_resend_is_answered_with_the_original_seq_and_applied_once(store) -> None:
    (first,) = run(store, [pos("a", 27.8, T0, "m1")])
    assert first.ok and first.seq and not first.duplicate
    (again,) = run(store, [pos("a", 27.8, T0, "m1")])
    assert again.ok and again.duplicate and again.seq == first.seq
    assert len(events(store, "resource.position")) == 1


def test_the_same_message_twice_in_one_batch_is_applied_once(store) -> None:
    one, two = run(store, [pos("a", 27.8, T0, "m1"), pos("a", 27.8, T0, "m1")])
    assert one.seq == two.seq and two.duplicate and not one.duplicate
    assert len(events(store, "resource.position")) == 1


def test_an_older_position_is_acknowledged_and_ignored_and_so_is_its_resend(store) -> None:
    run(store, [pos("a", 27.8, T0)])
    (older,) = run(store, [pos("a", 27.0, T0 - timedelta(minutes=1), "late")])
    assert older.ok and older.ignored == "older" and older.seq is None
    (resend,) = run(store, [pos("a", 27.0, T0 - timedelta(minutes=1), "late")])
    assert resend.duplicate and resend.ignored == "older"
    assert store.resources.get("a").lat == 27.8


def test_positions_of_one_unit_in_one_batch_keep_their_order_and_versions(store) -> None:
    v0 = store.resources.get("a").version
    out = run(store, [pos("a", 27.80 + i / 100, T0 + timedelta(seconds=i)) for i in range(5)])
    assert [o.seq for o in out] == sorted(o.seq for o in out)
    stored = store.resources.get("a")
    assert stored.lat == pytest.approx(27.84) and stored.version == v0 + 5
    versions = [e.payload["version"] for e in events(store, "resource.position")]
    assert versions == list(range(v0 + 1, v0 + 6))


def test_a_refused_message_does_not_spoil_the_batch(store) -> None:
    stranger = FieldMessage(field("b"), pos("a", 27.9, T0).body, "a", "x")
    bad_status = FieldMessage(field("a"), parse_status(
        {"status": "on_scene", "time": T0.isoformat()}, T0)[0], "a", "s1")
    out = run(store, [pos("a", 27.8, T0, "p1"), stranger, bad_status, pos("b", 27.7, T0, "p2")])
    assert [o.ok for o in out] == [True, False, False, True]
    assert out[1].error.__class__.__name__ == "NotFound"
    assert out[2].error.code == "illegal_transition"
    assert store.resources.get("b").lat == 27.7


def test_parsing_names_the_field() -> None:
    for data, field_name in (({"lat": 27.8, "lon": 120.1}, "time"),
                             ({"lat": "x", "lon": 1, "time": T0.isoformat()}, "lat"),
                             ({"lat": 1, "lon": 1, "time": T0.isoformat(), "x": 1}, "x"),
                             ({"lat": 1, "lon": 1, "time": T0.isoformat(), "id": "a\ud800"}, "id"),
                             ({"lat": 1, "lon": 1, "time": T0.isoformat(), "id": "x" * 81}, "id"),
                             ({"lat": 1, "lon": 1, "time": "2099-01-01T00:00:00Z"}, "time")):
        with pytest.raises(ValidationError) as e:
            parse_position(data, T0)
        assert e.value.field == field_name, data
    with pytest.raises(ValidationError) as e:
        parse_sitrep({"incident": "i1", "text": "ok\x00"}, T0)
    assert e.value.field == "text"


def test_a_unit_on_mutual_aid_concerns_both_areas_and_its_events_name_it(store) -> None:
    wencheng = Principal(role="operator", area="330328")
    ruian = Principal(role="operator", area="330381")
    inc = inc_svc.report_incident(InMemoryUnitOfWork(store), wencheng, {
        "category": "building_collapse", "severity": "IV", "lat": 27.78, "lon": 120.08},
        areas(), ("building_collapse",), T0)
    city = Principal(role="operator", area="3303")
    inc_svc.assign_resource(InMemoryUnitOfWork(store), city, inc.id, {"resource_id": "boat"}, T0)
    (assigned,) = events(store, "resource.assigned")
    assert {"330381", inc.area} <= set(assigned.areas)
    assert assigned.category == "building_collapse" and assigned.units == ("boat",)
    (assignment,) = events(store, "incident.assignment")
    assert "330381" in assignment.areas and "boat" in assignment.units
    run(store, [pos("boat", 27.78, T0 + timedelta(seconds=5))])
    (moved,) = events(store, "resource.position")
    assert set(moved.areas) == {"330381", inc.area} and moved.category is None
    body, _ = parse_sitrep({"incident": inc.id, "text": "two trapped"}, T0)
    (sr,) = run(store, [FieldMessage(field("boat"), body, None, "sr1")])
    assert sr.ok and sr.sitrep_id
    (again,) = run(store, [FieldMessage(field("boat"), body, None, "sr1")])
    assert again.duplicate and len(events(store, "sitrep.added")) == 1
    assert ruian.covers_area("330381")
