"""One contract for directive repositories (memory, SQLite, PostgreSQL), and the domain's
rules for answers, lateness and closing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from realtime.visibility import Viewer
from rescue.directive_repo import InMemoryDirectiveRepository, SqlDirectiveRepository
from rescue.directives import Directive, Recipient
from tests.integration.backends import OnPostgres, OnSqlite

T0 = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


def make(did: str, seq: int, *units: str, area: str | None = None,
         areas: tuple[str, ...] = ("330328", "3303"), exercise: str | None = None,
         category: str | None = None, deadline_s: int = 120) -> Directive:
    recipients = (tuple(Recipient("unit", u) for u in units) if units
                  else (Recipient("area", area or "330328"),))
    return Directive(id=did, text="clear the east side", issuer={"area": "3303"},
                     recipients=recipients, issued=T0,
                     deadline=T0 + timedelta(seconds=deadline_s), areas=areas, units=units,
                     category=category, exercise=exercise, seq=seq)


def test_answers_move_forward_only_and_close_when_all_are_finished() -> None:
    d = make("d", 1, "u1", "u2")
    d1 = d.answer("unit:u1", "accepted", T0, None, "field:u1")
    assert d1 is not None and d1.recipient("unit:u1").state == "accepted"
    assert d1.answer("unit:u1", "received", T0, None, "field:u1") is None  # behind: ignored
    assert d1.answer("unit:u1", "accepted", T0, None, "field:u1") is None  # said already
    late = T0 + timedelta(seconds=121)
    assert d1.state(T0) == "open" and d1.state(late) == "overdue"
    assert [r.key for r in d1.late(late)] == ["unit:u2"]
    d2 = d1.answer("unit:u2", "unable", late, "engine fault", "field:u2")
    assert d2 is not None and d2.state(late) == "open"  # u1 still at work
    d3 = d2.answer("unit:u1", "done", late, None, "field:u1")
    assert d3 is not None and d3.state(late) == "closed"
    assert d3.answer("unit:u2", "done", late, None, "field:u2") is None  # unable is final
    assert Directive.from_dict(d3.to_dict()) == d3


class DirectiveRepoContract:
    def test_add_get_save_by_seq(self, repo, commit) -> None:
        d = make("d1", 10, "u1")
        repo.add(d)
        commit()
        assert repo.get("d1") == d and repo.by_seq(10) == d and repo.get("nope") is None
        later = replace(d, overdue_seq=11)
        repo.save(later)
        commit()
        assert repo.get("d1", for_update=True) == later

    def test_query_is_scoped_and_filtered_by_state(self, repo, commit) -> None:
        repo.add(make("wc", 1, "u1"))
        repo.add(make("lc", 2, "u9", areas=("330302", "3303")))
        repo.add(make("sea", 3, "u2", category="maritime_sar"))
        repo.add(make("ex", 4, "u1", exercise="ex-1"))
        done = make("done", 5, "u1")
        repo.add(done.answer("unit:u1", "done", T0, None, "x") or done)
        commit()
        late = T0 + timedelta(seconds=200)

        def ids(viewer: Viewer, state: str | None = None, now: datetime = T0) -> list[str]:
            return [d.id for d in repo.query(viewer, now, state)]

        assert ids(Viewer(scope="330328")) == ["wc", "sea"]
        assert ids(Viewer(scope="3303")) == ["wc", "lc", "sea"]
        assert ids(Viewer(scope="330302")) == ["lc"]
        assert ids(Viewer(scope="33", categories=frozenset({"fire"}))) == ["wc", "lc"]
        assert ids(Viewer(unit="u1")) == ["wc"]
        assert ids(Viewer(unit="u1", exercise="ex-1")) == ["ex"]
        assert ids(Viewer(scope="3303"), "closed") == ["done"]
        assert ids(Viewer(scope="3303"), "overdue") == []
        assert ids(Viewer(scope="3303"), "overdue", late) == ["wc", "lc", "sea"]
        assert ids(Viewer(scope="3303"), "open", late) == []
        assert [d.id for d in repo.query(Viewer(), T0, incident="nope")] == []

    def test_addressed_to_and_due(self, repo, commit) -> None:
        repo.add(make("a", 1, "u1", "u2"))
        repo.add(make("b", 2, area="330328"))
        repo.add(make("c", 3, "u1", exercise="ex-1", deadline_s=10))
        repo.add(replace(make("d", 4, "u3", deadline_s=10), overdue_seq=5))
        commit()
        assert [d.id for d in repo.addressed_to("unit:u1", None)] == ["a"]
        assert [d.id for d in repo.addressed_to("unit:u1", "ex-1")] == ["c"]
        assert [d.id for d in repo.addressed_to("area:330328", None)] == ["b"]
        assert [d.id for d in repo.addressed_to("area:3303", None)] == []
        # Live ones past their deadline, every exercise one (its clock is its own); never
        # one already announced.
        assert sorted(d.id for d in repo.due(T0)) == ["c"]
        assert sorted(d.id for d in repo.due(T0 + timedelta(seconds=121))) == ["a", "b", "c"]


class TestInMemoryDirectives(DirectiveRepoContract):
    @pytest.fixture
    def repo(self):
        return InMemoryDirectiveRepository()

    @pytest.fixture
    def commit(self):
        return lambda: None


class TestSqliteDirectives(OnSqlite, DirectiveRepoContract):
    @pytest.fixture
    def repo(self, conn):
        return SqlDirectiveRepository(conn)


class TestPostgresDirectives(OnPostgres, DirectiveRepoContract):
    @pytest.fixture
    def repo(self, conn):
        return SqlDirectiveRepository(conn)
