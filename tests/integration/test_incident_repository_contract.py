"""One contract for incident repositories: memory, SQLite, PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from rescue.incident_repo import (
    IncidentFilter,
    InMemoryIncidentRepository,
    SqlIncidentRepository,
    incident_from_dict,
    incident_to_dict,
)
from rescue.incidents import AreaRef, Assignment, Incident, Sitrep
from resources.errors import Conflict
from tests.integration.backends import OnPostgres, OnSqlite

T0 = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


def make(iid: str, area: str = "330328101", category: str = "building_collapse",
         exercise: str | None = None, t: datetime = T0) -> Incident:
    return Incident(
        id=iid, title="房屋倒塌", category=category, severity="III", lat=27.78, lon=120.08,
        persons_at_risk=4, status="reported",
        areas=(AreaRef("33", "浙江省", 1), AreaRef("3303", "温州市", 2),
               AreaRef("330328", "文成县", 3), AreaRef(area, "大峃镇", 4)),
        surface="land", reported_at=t, updated_at=t, exercise=exercise,
        assignments=(Assignment("r1", T0, "operator:3303", "heavy_rescue", 900),),
        sitreps=(Sitrep("s1", T0, "operator:3303", "two trapped", 1, 0, ("crane",)),),
    )


def test_json_round_trip() -> None:
    inc = make("a")
    assert incident_from_dict(incident_to_dict(inc)) == inc
    assert incident_to_dict(inc)["lead_level"] == "city"
    assert incident_to_dict(inc)["lead_area"] == "3303"


class IncidentRepoContract:
    def test_add_get_save_with_version_check(self, repo, commit) -> None:
        inc = make("i1")
        repo.add(inc)
        commit()
        assert repo.get("i1") == inc
        newer = replace(inc, status="responding", version=2)
        repo.save(newer, expected_version=1)
        commit()
        assert repo.get("i1").status == "responding"
        with pytest.raises(Conflict):
            repo.save(replace(newer, version=3), expected_version=1)

    def test_list_filters_by_scope_status_and_exercise(self, repo, commit) -> None:
        repo.add(make("i1", t=T0))
        repo.add(make("i2", area="330305101", category="maritime_distress",
                      t=T0 + timedelta(minutes=1)))
        repo.add(make("i3", exercise="ex1"))
        commit()
        assert [i.id for i in repo.list(IncidentFilter())] == ["i2", "i1"]
        assert [i.id for i in repo.list(IncidentFilter(area_prefix="330305"))] == ["i2"]
        assert [i.id for i in repo.list(IncidentFilter(exercise="ex1"))] == ["i3"]
        assert repo.list(IncidentFilter(statuses=frozenset({"closed"}))) == []
        assert [i.id for i in repo.list(IncidentFilter(category="maritime_distress"))] == ["i2"]

    def test_get_missing_is_none(self, repo, commit) -> None:
        assert repo.get("nope") is None


class TestInMemoryIncidents(IncidentRepoContract):
    @pytest.fixture
    def repo(self):
        return InMemoryIncidentRepository()

    @pytest.fixture
    def commit(self):
        return lambda: None


class TestSqliteIncidents(OnSqlite, IncidentRepoContract):
    @pytest.fixture
    def repo(self, conn):
        return SqlIncidentRepository(conn)


class TestPostgresIncidents(OnPostgres, IncidentRepoContract):
    @pytest.fixture
    def repo(self, conn):
        return SqlIncidentRepository(conn)
