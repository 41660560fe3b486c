"""One visibility rule: the SQL form used for backlogs and GET /events selects exactly the
events that realtime.visibility.Viewer.sees accepts (live push), on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime

import pytest

from realtime.visibility import Viewer
from rescue.db import upgrade_schema
from rescue.events import Event, EventQuery, SqlEventLog

T0 = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
AREAS = ["33", "3303", "3303M", "330305", "330305M", "330305001", "330328", "330328101",
         "330302", "330381", "3304", ""]
UNITS = ["boat", "heli", "a_b", "axb", "b%c", "team-1"]
CATEGORIES = [None, "building_collapse", "medical_evacuation", "maritime_distress"]


def population(n: int = 400) -> list[Event]:
    rng = random.Random(11)
    out = []
    for _ in range(n):
        areas = tuple(rng.sample(AREAS, rng.randint(1, 3)))
        out.append(Event(type=rng.choice(["incident.reported", "resource.position"]),
                         area=areas[0], areas=areas[1:], payload={}, time=T0,
                         category=rng.choice(CATEGORIES),
                         units=tuple(rng.sample(UNITS, rng.randint(0, 2))),
                         exercise=rng.choice([None, None, "ex1", "ex_2"])))
    return out


def viewers() -> list[Viewer]:
    out = []
    for scope, cats, ex in itertools.product(
            [None, "33", "3303", "3303M", "330305", "330305M", "330328101", "330302", "3"],
            [None, frozenset(), frozenset({"building_collapse"}),
             frozenset({"medical_evacuation", "maritime_distress"})],
            [None, "ex1", "ex_2", "exx2"]):
        out.append(Viewer(scope=scope, categories=cats, exercise=ex))
    out += [Viewer(unit=u, exercise=ex) for u in UNITS + ["a", "b"] for ex in (None, "ex1")]
    return out


@pytest.fixture
def engine(empty_engine):
    upgrade_schema(empty_engine)
    return empty_engine


def test_sql_and_python_agree_for_every_viewer(engine) -> None:
    with engine.begin() as conn:
        stored = SqlEventLog(conn).append_many(population())
    dicts = [e.to_dict() for e in stored]
    with engine.connect() as conn:
        log = SqlEventLog(conn)
        for v in viewers():
            got = [e.seq for e in log.read(EventQuery(limit=10_000, viewer=v))]
            want = [d["seq"] for d in dicts if v.sees(d)]
            assert got == want, v


def test_append_many_keeps_order_and_round_trips(engine) -> None:
    events = population(50)
    with engine.begin() as conn:
        stored = SqlEventLog(conn).append_many(events)
    assert [e.seq for e in stored] == sorted(e.seq for e in stored)
    with engine.connect() as conn:
        back = SqlEventLog(conn).read(EventQuery(limit=100, all_exercises=True))
        dicts = SqlEventLog(conn).read_dicts(EventQuery(limit=100, all_exercises=True))
    assert back == stored
    assert dicts == [e.to_dict() for e in stored]


def test_a_stored_lone_surrogate_is_read_back_as_a_replacement_character(engine) -> None:
    """What an older release could store (a JSON escape) never makes a reader fail."""
    import sqlalchemy as sa

    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO events (id, time, type, area, payload, areas, units) "
                             "VALUES ('old', :t, 'sitrep.added', '330328', :p, ' 330328 ', '')"),
                     {"t": T0, "p": '{"sitrep": {"text": "x\\ud800y"}}'})
    with engine.connect() as conn:
        (ev,) = SqlEventLog(conn).read(EventQuery(limit=10))
        (d,) = SqlEventLog(conn).read_dicts(EventQuery(limit=10))
    assert ev.payload["sitrep"]["text"] == "x\ufffdy" == d["payload"]["sitrep"]["text"]
