"""Schema changes keep data: a database of the previous release upgrades in place (SQLite and
PostgreSQL), and the Table objects the code queries agree with what the migrations build."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from rescue import tables
from rescue.db import head_revision, schema_revision, upgrade_schema
from rescue.events import EventQuery, SqlEventLog
from rescue.links import SqlLinkRepository
from resources import tables as resource_tables

T0 = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def engine(empty_engine):
    return empty_engine


def _old_data(conn: sa.Connection) -> None:
    """Rows as the release before migrations wrote them."""
    conn.execute(sa.text(
        "INSERT INTO resources (id, name, kind, capabilities, crew, capacity, speed_kmh, "
        "readiness_s, home_lat, home_lon, status, area, version) VALUES ('boat', 'Boat', "
        "'vessel', '[\"water_rescue\"]', 4, 2, 40, 600, 27.75, 120.76, 'assigned', '330381', 2)"))
    incident = {"id": "inc-1", "title": "collapse", "category": "building_collapse",
                "severity": "IV", "lat": 27.78, "lon": 120.08, "persons_at_risk": 3,
                "status": "responding", "surface": "land",
                "areas": [{"code": "33", "name": "Zhejiang", "level": 1, "kind": "admin"},
                          {"code": "330328", "name": "Wencheng", "level": 3, "kind": "admin"}],
                "assignments": [{"resource_id": "boat", "assigned_at": "2026-07-01T08:00:00Z",
                                 "assigned_by": "operator:3303", "requirement": None,
                                 "eta_s": None, "released_at": None, "active": True}],
                "sitreps": [], "reported_at": "2026-07-01T08:00:00Z",
                "updated_at": "2026-07-01T08:00:00Z", "exercise": None, "version": 2}
    conn.execute(sa.text(
        "INSERT INTO incidents (id, category, severity, status, area, created, version, data) "
        "VALUES ('inc-1', 'building_collapse', 'IV', 'responding', '330328', :t, 2, :d)"),
        {"t": T0, "d": json.dumps(incident)})
    conn.execute(sa.text(
        "INSERT INTO events (id, time, type, area, payload) VALUES "
        "('e1', :t, 'incident.reported', '330328', :p1), "
        "('e2', :t, 'resource.assigned', '330381', :p2)"),
        {"t": T0, "p1": json.dumps({"incident": incident}),
         "p2": json.dumps({"resource": {"id": "boat"}, "incident_id": "inc-1"})})
    conn.execute(sa.text("INSERT INTO client_messages (source, message_id, seq, time) "
                         "VALUES ('unit:boat', 'm1', 2, :t)"), {"t": T0})


def _check_upgraded(engine: sa.Engine) -> None:
    assert schema_revision(engine) == head_revision()
    with engine.connect() as conn:
        events = SqlEventLog(conn).read(EventQuery(limit=10))
        assert [e.id for e in events] == ["e1", "e2"]
        assert events[0].areas == ("330328",) and events[0].category == "building_collapse"
        assert events[0].units == ("boat",)
        assert events[1].category == "building_collapse" and events[1].units == ("boat",)
        link = SqlLinkRepository(conn).get("boat")
        assert link is not None and link.incident_id == "inc-1" and link.incident_area == "330328"
        assert conn.execute(sa.text("SELECT count(*) FROM resources")).scalar() == 1


def test_a_database_at_the_baseline_upgrades_with_its_data(engine) -> None:
    upgrade_schema(engine, "0001")
    with engine.begin() as conn:
        _old_data(conn)
    upgrade_schema(engine)
    _check_upgraded(engine)


def test_a_database_made_before_migrations_is_stamped_and_upgraded(engine) -> None:
    upgrade_schema(engine, "0001")
    with engine.begin() as conn:
        _old_data(conn)
        conn.execute(sa.text("DROP TABLE alembic_version"))  # as create_all left it
    assert schema_revision(engine) is None
    upgrade_schema(engine)
    _check_upgraded(engine)
    upgrade_schema(engine)  # idempotent
    assert schema_revision(engine) == head_revision()


def test_the_code_s_tables_match_the_migrated_schema(engine) -> None:
    upgrade_schema(engine)
    inspector = sa.inspect(engine)
    for metadata in (tables.metadata, resource_tables.metadata):
        for table in metadata.tables.values():
            db_cols = {c["name"] for c in inspector.get_columns(table.name)}
            assert db_cols == {c.name for c in table.columns}, table.name
