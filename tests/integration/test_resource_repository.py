"""Contract suite of ResourceRepository: one behaviour, run against every implementation
(in memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from resources.errors import Conflict, NotFound
from resources.model import Home, Resource
from resources.repository import InMemoryResourceRepository, ResourceFilter, ResourceRepository
from resources.sql import SqlResourceRepository
from resources.tables import metadata

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def make(id: str, **kw) -> Resource:
    base = dict(
        id=id, name=f"Unit {id}", call_sign=id.upper(), kind="land_team", tier="backbone",
        agency="Fire", capabilities=("heavy_rescue",), crew=12, capacity=0, speed_kmh=60.0,
        readiness_s=600.0, range_km=None, home=Home("Lucheng station", 28.0, 120.65),
        lat=None, lon=None, position_time=None, status="available", area="330302",
    )
    base.update(kw)
    return Resource(**base)


class Backend:
    """How a test gets a repository inside its own committed transaction."""

    @contextmanager
    def transaction(self) -> Iterator[ResourceRepository]:
        raise NotImplementedError


class MemoryBackend(Backend):
    def __init__(self) -> None:
        self.repo = InMemoryResourceRepository()

    @contextmanager
    def transaction(self) -> Iterator[ResourceRepository]:
        yield self.repo


class SqlBackend(Backend):
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @contextmanager
    def transaction(self) -> Iterator[ResourceRepository]:
        with self.engine.begin() as conn:
            yield SqlResourceRepository(conn)


class ResourceRepositoryContract:
    @pytest.fixture
    def backend(self) -> Iterator[Backend]:
        raise NotImplementedError

    @pytest.fixture
    def repo(self, backend: Backend) -> Iterator[ResourceRepository]:
        with backend.transaction() as repo:
            yield repo

    # ------------------------------------------------------------- basic storage

    def test_add_get_round_trip(self, repo: ResourceRepository) -> None:
        r = make("a1", capabilities=("hoist", "medevac"), kind="helicopter", range_km=600.0,
                 lat=27.9, lon=120.8, position_time=T0 + timedelta(microseconds=5),
                 status_time=T0, tier=None, call_sign=None)
        stored = repo.add(r)
        assert stored == r and stored.version == 1
        got = repo.get("a1")
        assert got == r
        assert got.position_time.tzinfo is not None and got.position_time.utcoffset() == timedelta(0)
        assert repo.get("nope") is None
        with pytest.raises(NotFound):
            repo.get_or_raise("nope")

    def test_add_duplicate_is_conflict_and_leaves_store_usable(self, repo) -> None:
        repo.add(make("a1"))
        with pytest.raises(Conflict):
            repo.add(make("a1", name="other"))
        repo.add(make("a2"))
        assert [r.id for r in repo.list()] == ["a1", "a2"]
        assert repo.get("a1").name == "Unit a1"

    def test_update_bumps_version_and_rejects_stale(self, repo) -> None:
        v1 = repo.add(make("a1"))
        v2 = repo.update(replace(v1, name="Renamed", lat=28.1, lon=120.7, position_time=T0))
        assert v2.version == 2 and v2.name == "Renamed" and v2.lat == 28.1
        assert repo.get("a1") == v2
        with pytest.raises(Conflict):
            repo.update(replace(v1, name="stale"))
        with pytest.raises(NotFound):
            repo.update(make("ghost"))
        assert repo.get("a1").name == "Renamed"

    def test_delete(self, repo) -> None:
        repo.add(make("a1"))
        repo.delete("a1")
        assert repo.get("a1") is None
        with pytest.raises(NotFound):
            repo.delete("a1")

    # ------------------------------------------------------------- filters

    def _fleet(self, repo) -> None:
        repo.add(make("t1", capabilities=("search", "search_dog"), area="330302"))
        repo.add(make("t2", capabilities=("search_dog",), area="330305001", status="assigned"))
        repo.add(make("h1", kind="helicopter", range_km=600.0, capabilities=("hoist", "medevac"),
                      area="3303", home=Home("Longwan", 27.912, 120.852)))
        repo.add(make("v1", kind="vessel", capabilities=("towing", "water_rescue"),
                      area="330305M", home=Home("Dongtou", 27.84, 121.16),
                      lat=27.5, lon=121.5, position_time=T0))
        repo.add(make("x1", area="3304", home=Home("Jiaxing", 30.75, 120.75)))
        repo.add(make("e1", area="330302", exercise="ex-1"))

    def test_filter_kinds_statuses_capabilities(self, repo) -> None:
        self._fleet(repo)
        ids = lambda f: [r.id for r in repo.list(f)]  # noqa: E731
        assert ids(ResourceFilter()) == ["h1", "t1", "t2", "v1", "x1"]
        assert ids(ResourceFilter(kinds=frozenset({"helicopter", "vessel"}))) == ["h1", "v1"]
        assert ids(ResourceFilter(statuses=frozenset({"assigned"}))) == ["t2"]
        # "search" must not match inside "search_dog"
        assert ids(ResourceFilter(capabilities=frozenset({"search"}))) == ["t1"]
        assert ids(ResourceFilter(capabilities=frozenset({"search_dog"}))) == ["t1", "t2"]
        assert ids(ResourceFilter(capabilities=frozenset({"hoist", "medevac"}))) == ["h1"]
        assert ids(ResourceFilter(capabilities=frozenset({"hoist", "towing"}))) == []
        assert repo.count(ResourceFilter(capabilities=frozenset({"search_dog"}))) == 2
        assert repo.count() == 5

    def test_filter_area_prefix_is_hierarchical(self, repo) -> None:
        self._fleet(repo)
        ids = lambda p: [r.id for r in repo.list(ResourceFilter(area_prefix=p))]  # noqa: E731
        assert ids("33") == ["h1", "t1", "t2", "v1", "x1"]
        assert ids("3303") == ["h1", "t1", "t2", "v1"]
        assert ids("330305") == ["t2", "v1"]
        assert ids("330305M") == ["v1"]
        assert ids("330305001") == ["t2"]
        assert ids("3304") == ["x1"]
        assert ids("3_") == []  # LIKE wildcards are taken literally

    def test_filter_exercise_scopes_apart(self, repo) -> None:
        self._fleet(repo)
        assert [r.id for r in repo.list(ResourceFilter(exercise="ex-1"))] == ["e1"]
        assert "e1" not in [r.id for r in repo.list()]
        assert repo.count(ResourceFilter(exercise="ex-2")) == 0

    def test_filter_bbox_and_near_use_effective_position(self, repo) -> None:
        self._fleet(repo)
        # v1's position (27.5, 121.5) is inside, its home (27.84, 121.16) is not
        box = ResourceFilter(bbox=(121.4, 27.4, 121.6, 27.6))
        assert [r.id for r in repo.list(box)] == ["v1"]
        near = ResourceFilter(near=(28.0, 120.65, 60.0))
        assert [r.id for r in repo.list(near)] == ["t1", "t2", "h1"]  # equal km -> by id
        far = ResourceFilter(near=(28.0, 120.65, 400.0))
        assert [r.id for r in repo.list(far)] == ["t1", "t2", "h1", "v1", "x1"]
        assert repo.count(far) == 5
        paged = ResourceFilter(near=(28.0, 120.65, 400.0), limit=2, offset=2)
        assert [r.id for r in repo.list(paged)] == ["h1", "v1"]

    def test_limit_offset(self, repo) -> None:
        self._fleet(repo)
        assert [r.id for r in repo.list(ResourceFilter(limit=2))] == ["h1", "t1"]
        assert [r.id for r in repo.list(ResourceFilter(limit=2, offset=3))] == ["v1", "x1"]
        assert repo.list(ResourceFilter(limit=0)) == []

    # ------------------------------------------------------------- compare and set

    def test_compare_and_set_status(self, repo) -> None:
        repo.add(make("a1"))
        won = repo.compare_and_set_status("a1", {"available"}, "assigned", time=T0)
        assert won is not None and won.status == "assigned" and won.version == 2
        assert won.status_time == T0
        assert repo.compare_and_set_status("a1", {"available"}, "assigned", time=T0) is None
        assert repo.get("a1") == won
        nxt = repo.compare_and_set_status("a1", {"assigned", "en_route"}, "en_route")
        assert nxt.status == "en_route" and nxt.version == 3 and nxt.status_time == T0
        with pytest.raises(NotFound):
            repo.compare_and_set_status("ghost", {"available"}, "assigned")

    def test_twenty_racing_assignments_give_one_success(self, backend: Backend) -> None:
        with backend.transaction() as repo:
            repo.add(make("race"))
        n = 20
        barrier = threading.Barrier(n)
        results: list[object] = []
        lock = threading.Lock()

        def worker(i: int) -> None:
            barrier.wait()
            try:
                with backend.transaction() as repo:
                    out = repo.compare_and_set_status("race", {"available"}, "assigned",
                                                      time=T0 + timedelta(seconds=i))
            except Exception as exc:  # noqa: BLE001 - recorded and asserted below
                out = exc
            with lock:
                results.append(out)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(results) == n
        errors = [r for r in results if isinstance(r, Exception)]
        assert errors == []
        wins = [r for r in results if r is not None]
        assert len(wins) == 1
        with backend.transaction() as repo:
            final = repo.get("race")
        assert final.status == "assigned" and final.version == 2
        assert final == wins[0]


class TestInMemoryRepository(ResourceRepositoryContract):
    @pytest.fixture
    def backend(self) -> Iterator[Backend]:
        yield MemoryBackend()


class TestSqliteRepository(ResourceRepositoryContract):
    @pytest.fixture
    def backend(self, sqlite_url: str) -> Iterator[Backend]:
        engine = sa.create_engine(sqlite_url, poolclass=NullPool, connect_args={"timeout": 30})
        metadata.create_all(engine)
        yield SqlBackend(engine)
        engine.dispose()

    def test_rolled_back_transaction_leaves_nothing(self, backend: SqlBackend) -> None:
        with pytest.raises(RuntimeError), backend.transaction() as repo:
            repo.add(make("a1"))
            raise RuntimeError("abort")
        with backend.transaction() as repo:
            assert repo.get("a1") is None


class TestPostgresRepository(ResourceRepositoryContract):
    @pytest.fixture
    def backend(self, pg_url: str) -> Iterator[Backend]:
        # pg_url is one database for the session: each test gets its own schema.
        schema = f"res_{uuid.uuid4().hex[:12]}"
        base = sa.create_engine(pg_url, poolclass=NullPool)
        with base.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        engine = base.execution_options(schema_translate_map={None: schema})
        metadata.create_all(engine)
        yield SqlBackend(engine)
        with base.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        base.dispose()
