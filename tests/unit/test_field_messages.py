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
    Fix,
    Position,
    apply_batch,
    apply_fixes,
    parse_position,
    parse_sitrep,
    parse_status,
)
from rescue.uow import InMemoryStore, InMemoryUnitOfWork
from resources.errors import NotFound, ValidationError
from resources.vocabulary import Vocabulary

T0 = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
ADMIN = Principal(role="admin", name="test")


@cache
def areas() -> AreaIndex:
    return AreaIndex.from_file()


@pytest.fixture
def store() -> InMemoryStore:
    return fresh_store()


def fresh_store() -> InMemoryStore:
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


def test_fixes_change_and_record_what_the_same_position_messages_do() -> None:
    """A simulation's tick of fixes (`apply_fixes`) against `apply_batch` of the same fixes as
    Position messages: same units after, same events (ids and the unit of work's seqs apart),
    a fix older than the stored position ignored by both."""
    t1 = T0 + timedelta(minutes=1)
    fixes = [Fix("a", 27.81, 120.1, 40.0, 90.0), Fix("boat", 27.7, 120.7, None, None),
             Fix("b", 27.85, 120.12, 12.5, None)]
    stores = [fresh_store(), fresh_store()]
    for s in stores:  # b reported later than the tick: its fix is older
        run(s, [FieldMessage(ADMIN, Position(27.9, 120.2, t1 + timedelta(seconds=5)), "b")])
    with InMemoryUnitOfWork(stores[0]) as uow:
        made = apply_fixes(uow, ADMIN, fixes, t1, t1)
        uow.commit()
    run_at = [FieldMessage(ADMIN, Position(f.lat, f.lon, t1, f.speed_kmh, f.heading),
                           f.resource_id) for f in fixes]
    with InMemoryUnitOfWork(stores[1]) as uow:
        outcomes = apply_batch(uow, run_at, t1)
        uow.commit()
    assert [o.ignored for o in outcomes] == [None, None, "older"] and len(made) == 2

    def seen(s: InMemoryStore) -> tuple[list, list]:
        evs = [{k: v for k, v in e.to_dict().items() if k != "id"}
               for e in events(s, "resource.position")]
        units = [s.resources.get(r) for r in ("a", "b", "boat")]
        return evs, units

    assert seen(stores[0]) == seen(stores[1])
    assert [e.seq for e in made] == [e["seq"] for e in seen(stores[0])[0][-2:]]


def test_a_refused_fix_writes_nothing_of_its_tick(store) -> None:
    county = Principal(role="operator", name="wencheng", area="330328")
    before = [store.resources.get(r) for r in ("a", "boat")]
    with pytest.raises(NotFound, match="boat"), InMemoryUnitOfWork(store) as uow:
        apply_fixes(uow, county, [Fix("a", 27.8, 120.1), Fix("boat", 27.7, 120.7)], T0, T0)
        uow.commit()
    assert [store.resources.get(r) for r in ("a", "boat")] == before
    assert events(store, "resource.position") == []


@pytest.mark.parametrize("lat, lon, field_, why", [
    (float("nan"), 120.1, "lat", "finite"), (91.0, 120.1, "lat", "within"),
    (27.8, -180.5, "lon", "within"), (27.8, float("inf"), "lon", "finite"),
    ("27.8", 120.1, "lat", "number"), (True, 120.1, "lat", "number"),
    (1e308, 1e308, "lat", "within")])
def test_a_bad_fix_is_refused_naming_its_field_and_nothing_is_written(
        store, lat, lon, field_, why) -> None:
    """The tick's places are checked together; a bad one is named as a message's would be."""
    from resources.errors import ValidationError

    with pytest.raises(ValidationError, match=why) as err, InMemoryUnitOfWork(store) as uow:
        apply_fixes(uow, ADMIN, [Fix("a", 27.8, 120.1), Fix("b", lat, lon)], T0, T0)
    assert err.value.field == field_ and events(store, "resource.position") == []


def test_whole_numbers_are_places_too(store) -> None:
    with InMemoryUnitOfWork(store) as uow:
        (e,) = apply_fixes(uow, ADMIN, [Fix("a", 28, 120)], T0, T0)
    assert (e.payload["lat"], e.payload["lon"]) == (28.0, 120.0)


def test_a_field_token_moves_its_own_unit_only_whatever_came_before(store) -> None:
    """Scope is checked once per area (or, for a field token, per unit) in a tick: a unit of
    the same area as an allowed one still needs its own right."""
    with InMemoryUnitOfWork(store) as uow:
        assert len(apply_fixes(uow, field("a"), [Fix("a", 27.8, 120.1)], T0, T0)) == 1
        uow.commit()
    with pytest.raises(NotFound), InMemoryUnitOfWork(store) as uow:  # b: same area as a
        apply_fixes(uow, field("a"), [Fix("a", 27.81, 120.1), Fix("b", 27.8, 120.1)],
                    T0 + timedelta(seconds=1), T0)
    county = Principal(role="operator", name="wencheng", area="330328")
    with InMemoryUnitOfWork(store) as uow:  # a and b: one area, checked once, both moved
        made = apply_fixes(uow, county, [Fix("a", 27.82, 120.1), Fix("b", 27.82, 120.1)],
                           T0 + timedelta(seconds=2), T0)
    assert [e.payload["id"] for e in made] == ["a", "b"]
