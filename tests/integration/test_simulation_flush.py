"""A simulation's flush (simulations/flushing.py) on SQLite and PostgreSQL: what the engine
held in memory reads back from the database exactly, floats to the last bit, and a flush
handed to the writer thread lands before the next one."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from rescue.config import Config
from rescue.context import RescueContext
from rescue.events import Event, EventQuery
from resources.fields import scrub
from resources.model import Home, Resource
from simulations.flushing import prepare, write
from simulations.store import MemoryStore

T0 = datetime(2026, 7, 1, 8, tzinfo=UTC)
EX = "ex-00000000f1"


def unit(i: int, rng: random.Random) -> Resource:
    return Resource(f"u{i}--{EX}", f"unit {i}", None, "land_team", None, None,
                    ("heavy_rescue", "medical"), 6, 0, rng.uniform(20, 80),
                    rng.uniform(60, 900), None, Home("base", rng.uniform(27, 28.5),
                                                     rng.uniform(120, 121.5)),
                    rng.uniform(27, 28.5), rng.uniform(120, 121.5),
                    T0 + timedelta(microseconds=rng.randrange(10**9)), "available", "330328",
                    EX, version=rng.randrange(1, 99), status_time=T0)


def test_a_flush_reads_back_exactly(db_url, tmp_path) -> None:
    ctx = RescueContext(Config(data_dir=tmp_path, database_url=db_url))
    try:
        rng = random.Random(7)
        units = [unit(i, rng) for i in range(1200)]
        events = [Event(type="resource.position", area="330328", exercise=EX,
                        time=T0 + timedelta(seconds=i // 100),
                        payload={"id": u.id, "lat": u.lat, "lon": u.lon, "note": "温州 \x7f"},
                        units=(u.id,), areas=("3303",))
                  for i, u in enumerate(units * 5)]
        # Payloads go into the JSON array as objects: whatever they hold reads back as it
        # was, and one orjson refuses (a lone surrogate, read back replaced as every reader
        # of the log does) sends its chunk by executemany.
        odd = [{}, {"x": [0.1 + 0.2, -0.0, 1e-07, 1.7976931348623157e308, 5e-324, 2**63 - 1,
                          None, True, ""], "nested": {"k": {"deeper": ["\"quoted\"", "\\"]}},
                    "tab\tkey": "line\nbreak \u2028 😀"},
               {"lone": "\ud800 surrogate"}]
        events[3000:3000] = [Event(type="exercise.note", area="3303", exercise=EX, time=T0,
                                   payload=p) for p in odd]
        uow = ctx.uow()
        flush = prepare(events, units, [], {}, {u.id for u in units}, ctx.engine.dialect)
        assert (flush.bound_events is not None) == db_url.startswith("sqlite")
        write(uow, flush)
        # A second flush replaces the rows it touches.
        moved = [replace(u, lat=u.lat + 1e-7, version=u.version + 1) for u in units[:10]]
        more = [replace(e, id=f"{i:032x}") for i, e in enumerate(events[:2])]
        write(ctx.uow(), prepare(more, moved, [], {}, {u.id for u in moved},
                                 ctx.engine.dialect))
        with ctx.uow(readonly=True) as r:
            got = r.resources.get_many([u.id for u in units])
            back = r.events.read(EventQuery(exercise=EX, limit=10_000))
        assert [got[u.id] for u in units] == moved + units[10:]
        assert [(e.id, e.time, e.payload, e.areas, e.units) for e in back] == \
            [(e.id, e.time, scrub(dict(e.payload)), e.areas, e.units) for e in events + more]
        assert [e.seq for e in back] == list(range(back[0].seq, back[0].seq + len(back)))
        if db_url.startswith("sqlite"):  # the very text the ordinary insert stores
            from rescue.db import json_text

            with ctx.engine.connect() as conn:
                texts = [r[0] for r in conn.exec_driver_sql(
                    "SELECT payload FROM events WHERE exercise = ? ORDER BY seq", (EX,))]
            assert texts == [json_text(dict(e.payload)) for e in events + more]
    finally:
        ctx.close()


def test_flushes_land_in_order_through_the_writer_thread(db_url, tmp_path) -> None:
    ctx = RescueContext(Config(data_dir=tmp_path, database_url=db_url))
    try:
        store = MemoryStore(EX, ctx.vocab)
        rng = random.Random(3)
        for batch in range(4):
            with store.uow() as uow:
                uow.record_many([Event(type="exercise.note", area="3303", exercise=EX,
                                       time=T0, payload={"batch": batch, "i": i})
                                 for i in range(rng.randrange(1, 3000))])
                uow.commit()
            store.flush(ctx.uow, wait=batch == 3)
        with ctx.uow(readonly=True) as r:
            back = r.events.read(EventQuery(exercise=EX, limit=20_000))
        assert len(back) == store.total_events
        assert [(e.payload["batch"], e.payload["i"]) for e in back] == sorted(
            (e.payload["batch"], e.payload["i"]) for e in back)
        assert store.data.events.read(EventQuery(exercise=EX, limit=10)) == []  # forgotten
    finally:
        ctx.close()


def test_rows_json_cannot_carry_go_by_executemany(tmp_path) -> None:
    from sqlalchemy import create_engine

    from rescue.db import sqlite_delete_json, sqlite_insert_json

    engine = create_engine(f"sqlite:///{tmp_path}/t.db")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (k TEXT, x REAL, n INTEGER)")
        rows = [("a", 1.5, 1), ("温州", 0.1 + 0.2, None), (b"\x00blob", -0.0, 2**62)]
        sqlite_insert_json(conn, "t", ("k", "x", "n"), rows[:1])
        sqlite_insert_json(conn, "t", ("k", "x", "n"), rows[1:])  # orjson refuses bytes
        sqlite_delete_json(conn, "t", "k", ["a"])
        got = conn.exec_driver_sql("SELECT k, x, n FROM t ORDER BY rowid").fetchall()
    assert [tuple(r) for r in got] == rows[1:]
