"""One contract for checkpoint stores (memory, SQLite, PostgreSQL): the furthest checkpoint a
fold may start from, and pictures read back as they were saved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from rescue import tables
from simulations.checkpoints import Mark, MemoryCheckpoints, SqlCheckpoints
from simulations.state import Picture
from tests.integration.backends import OnPostgres, OnSqlite

T0 = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


def pic(seq: int, note: str = "") -> Picture:
    return Picture(units={"u1": {"id": "u1", "lat": 27.5 + seq / 1000, "note": note,
                                 "name": "渔船 \u00e9"}},
                   incidents={"i1": {"id": "i1", "status": "responding",
                                     "assignments": [{"resource_id": "u1"}]}},
                   seq=seq, time=(T0 + timedelta(seconds=seq)).isoformat())


class Contract:
    @pytest.fixture
    def store(self):
        raise NotImplementedError

    def test_the_furthest_usable_checkpoint_is_found(self, store) -> None:
        for seq in (10, 20, 30):
            store.save("k", Mark(pic(seq), seq, T0 + timedelta(seconds=seq)))
        store.save("other", Mark(pic(90), 90, T0))

        def nearest(at_s: int, seq_from: int = 0, seq_to: int = 100, inclusive: bool = False
                    ) -> int | None:
            m = store.nearest("k", seq_from=seq_from, seq_to=seq_to,
                              at=T0 + timedelta(seconds=at_s), inclusive=inclusive)
            return None if m is None else m.seq

        assert nearest(25) == 20
        assert nearest(20) == 10 and nearest(20, inclusive=True) == 20
        assert nearest(5) is None
        assert nearest(0, seq_from=30) == 30  # before the slice: folded whatever the time
        assert nearest(500, seq_to=25) == 20  # past the slice's end: not its events
        assert store.nearest("none", seq_from=0, seq_to=100, at=T0 + timedelta(days=1),
                             inclusive=True) is None
        # A fold looking for one ahead of itself (`beyond` its own place): only further on.
        late = T0 + timedelta(days=1)
        assert store.nearest("k", seq_from=0, seq_to=100, at=late, inclusive=False,
                             beyond=20).seq == 30
        assert store.nearest("k", seq_from=0, seq_to=100, at=late, inclusive=False,
                             beyond=30) is None

    def test_a_picture_reads_back_as_saved_and_the_first_save_stays(self, store) -> None:
        store.save("k", Mark(pic(40, "first"), 40, T0))
        store.save("k", Mark(pic(40, "second"), 40, T0))
        m = store.nearest("k", seq_from=50, seq_to=50, at=T0, inclusive=False)
        assert m is not None and m.seq == 40 and m.max_time == T0
        assert m.picture.to_dict() == pic(40, "first").to_dict()
        assert m.picture.units == pic(40, "first").units


    def test_past_its_bound_a_key_keeps_checkpoints_spread_over_its_history(
            self, keep_eight) -> None:
        saved = list(range(10, 410, 10))  # 40 checkpoints, a bound of 8
        for seq in saved:
            keep_eight.save("k", Mark(pic(seq), seq, T0 + timedelta(seconds=seq)))
        keep_eight.save("other", Mark(pic(5), 5, T0))
        kept = set()
        for at_s in range(0, 420, 5):
            m = keep_eight.nearest("k", seq_from=0, seq_to=1000,
                                   at=T0 + timedelta(seconds=at_s), inclusive=True)
            if m is not None:
                kept.add(m.seq)
                assert m.picture.to_dict() == pic(m.seq).to_dict()
        kept_ = sorted(kept)
        assert len(kept_) == 8 and kept_[0] == 10 and kept_[-1] == 400  # both ends
        gaps = [b - a for a, b in zip(kept_, kept_[1:], strict=False)]
        assert max(gaps) <= 2 * (400 - 10) / 7  # spread evenly, not piled at one end
        m = keep_eight.nearest("other", seq_from=100, seq_to=100, at=T0, inclusive=False)
        assert m is not None and m.seq == 5  # each key its own bound


class TestInMemory(Contract):
    @pytest.fixture
    def keep_eight(self):
        return MemoryCheckpoints(keep=8)

    @pytest.fixture
    def store(self):
        return MemoryCheckpoints()


class SqlStore(Contract):
    @pytest.fixture
    def store(self, engine):
        return SqlCheckpoints(engine, lambda: T0)

    @pytest.fixture
    def keep_eight(self, engine):
        return SqlCheckpoints(engine, lambda: T0, keep=8)

    def test_a_damaged_checkpoint_is_dropped_and_the_one_before_used(self, store) -> None:
        for seq in (10, 20):
            store.save("k", Mark(pic(seq), seq, T0))
        t = tables.picture_checkpoints
        with store.engine.begin() as conn:
            conn.execute(update(t).where(t.c.seq == 20).values(body=b"\x00not zlib"))
        m = store.nearest("k", seq_from=50, seq_to=50, at=T0, inclusive=False)
        assert m is not None and m.seq == 10 and m.picture.to_dict() == pic(10).to_dict()
        with store.engine.connect() as conn:
            assert conn.execute(select(t.c.seq).where(t.c.key == "k")).scalars().all() == [10]


class TestOnSqlite(SqlStore, OnSqlite):
    pass


class TestOnPostgres(SqlStore, OnPostgres):
    pass
