"""Service handlers on the in-memory unit of work: rules, events, scope. No I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

import pytest

from geo.areas import AreaIndex
from rescue.auth import Forbidden, Principal
from rescue.events import EventQuery
from rescue.services import incidents as inc_svc
from rescue.services import resources as res_svc
from rescue.uow import InMemoryStore, InMemoryUnitOfWork
from resources.errors import Conflict, ValidationError
from resources.vocabulary import Vocabulary

T0 = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
ADMIN = Principal(role="admin", name="test")
WENCHENG = Principal(role="operator", area="330328")
DONGTOU = Principal(role="operator", area="330305")
CATEGORIES = ("building_collapse", "maritime_distress")


@cache
def areas() -> AreaIndex:
    return AreaIndex.from_file()


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


def uow(store: InMemoryStore) -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork(store)


def unit(rid: str, area: str = "330328", **kw) -> dict:
    return {"id": rid, "name": rid, "kind": "land_team", "capabilities": ["heavy_rescue"],
            "speed_kmh": 50, "readiness_s": 600, "area": area,
            "home": {"name": "b", "lat": 27.79, "lon": 120.09}, "lat": 27.79, "lon": 120.09, **kw}


def add(store, rid: str, **kw):
    return res_svc.create_resource(uow(store), ADMIN, unit(rid, **kw), Vocabulary.default(),
                                   areas(), T0)


def report(store, principal=WENCHENG, **kw):
    data = {"category": "building_collapse", "severity": "IV", "lat": 27.78, "lon": 120.08, **kw}
    return inc_svc.report_incident(uow(store), principal, data, areas(), CATEGORIES, T0)


def types(store) -> list[str]:
    return [e.type for e in store.events.read(EventQuery(limit=1000, all_exercises=True))]


def test_create_records_an_event_with_the_resource(store) -> None:
    r = add(store, "a")
    (ev,) = store.events.read(EventQuery())
    assert ev.type == "resource.created" and ev.area == "330328"
    assert ev.payload["resource"]["id"] == r.id


def test_operator_cannot_create_outside_scope(store) -> None:
    with pytest.raises(Forbidden):
        res_svc.create_resource(uow(store), DONGTOU, unit("x"), Vocabulary.default(), areas(), T0)
    assert types(store) == []


def test_unknown_area_is_rejected(store) -> None:
    with pytest.raises(ValidationError) as e:
        add(store, "x", area="999999")
    assert e.value.field == "area"


def test_import_validates_everything_before_writing(store) -> None:
    rows = [unit("i1"), unit("i2", speed_kmh=0), unit("i3")]
    with pytest.raises(ValidationError) as e:
        res_svc.import_resources(uow(store), ADMIN, rows, Vocabulary.default(), areas(), T0)
    assert e.value.field == "row 2: speed_kmh"
    assert store.resources.count() == 0 and types(store) == []
    with pytest.raises(ValidationError) as e:
        res_svc.import_resources(uow(store), ADMIN, [unit("d"), unit("d")], Vocabulary.default(),
                                 areas(), T0)
    assert e.value.field == "row 2: id"


def test_report_resolves_chain_and_scope(store) -> None:
    inc = report(store)
    assert [a.code for a in inc.areas][:3] == ["33", "3303", "330328"]
    assert inc.lead_level == "county" and inc.lead_area == "330328"
    with pytest.raises(Forbidden):
        report(store, principal=DONGTOU)


def test_escalation_event_names_old_and_new_lead(store) -> None:
    inc = report(store)
    out = inc_svc.update_incident(uow(store), WENCHENG, inc.id, {"severity": "III"}, T0)
    assert out.lead_level == "city" and out.lead_area == "3303"
    ev = store.events.read(EventQuery(types_prefix="incident.escalated"))[0]
    assert ev.payload["previous_lead_area"] == "330328" and ev.payload["lead_area"] == "3303"


def test_assignment_conflicts_and_closing(store) -> None:
    add(store, "a")
    one, two = report(store), report(store)
    inc_svc.assign_resource(uow(store), WENCHENG, one.id, {"resource_id": "a"}, T0)
    with pytest.raises(Conflict):
        inc_svc.assign_resource(uow(store), WENCHENG, two.id, {"resource_id": "a"}, T0)
    with pytest.raises(Conflict):
        inc_svc.update_incident(uow(store), WENCHENG, one.id, {"status": "closed"}, T0)
    closed = inc_svc.update_incident(uow(store), WENCHENG, one.id,
                                     {"status": "closed", "release_all": True}, T0)
    assert closed.status == "closed" and not closed.active_assignments()
    assert store.resources.get("a").status == "available"
    with pytest.raises(Conflict):
        inc_svc.assign_resource(uow(store), WENCHENG, one.id, {"resource_id": "a"}, T0)
    assert "resource.released" in types(store)


def test_county_cannot_assign_a_city_unit_directly(store) -> None:
    add(store, "city-heli", area="3303")
    inc = report(store)
    with pytest.raises(Forbidden):
        inc_svc.assign_resource(uow(store), WENCHENG, inc.id, {"resource_id": "city-heli"}, T0)
    city = Principal(role="operator", area="3303")
    out = inc_svc.assign_resource(uow(store), city, inc.id, {"resource_id": "city-heli"}, T0)
    assert out.active_assignments()[0].resource_id == "city-heli"


def test_trainer_acts_on_exercises_only(store) -> None:
    trainer = Principal(role="trainer", area="3303")
    with pytest.raises(Forbidden):
        report(store, principal=trainer)
    ex = report(store, principal=trainer, exercise="drill-1")
    assert ex.exercise == "drill-1"
    (ev,) = store.events.read(EventQuery(exercise="drill-1"))
    assert ev.exercise == "drill-1"
    assert store.events.read(EventQuery()) == []
