"""IndexFeed: a private index fed from its own commits (a simulation's) ends where one fed
event by event from the payloads alone does, whatever the mix of events in a commit."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from rescue.context import IndexFeed
from rescue.services.common import position_event, resource_event
from resources.model import Home, Resource
from resources.spatial import IndexFilter
from resources.vocabulary import Vocabulary

VOCAB = Vocabulary.default()
T0 = datetime(2026, 7, 1, 8, tzinfo=UTC)


def unit(i: int) -> Resource:
    return Resource(f"u{i}", f"unit {i}", None, "land_team", None, None, ("search",), 4, 0,
                    40.0, 300.0, None, Home("base", 27.5 + i / 100, 120.5), None, None, None,
                    "available", "330302")


def test_a_commits_moves_are_indexed_as_its_events_one_by_one() -> None:
    units = [unit(i) for i in range(30)]
    batched, single = IndexFeed(VOCAB), IndexFeed(VOCAB)
    created = [resource_event("resource.created", r, T0) for r in units]
    current = {r.id: r for r in units}
    for feed in (batched, single):
        feed.apply_events(created, current.get)
    events = []
    for k in range(3):  # u0..u9 move each round; u3 twice in the last; u5 goes on a job
        for r in units[:10]:
            moved = replace(current[r.id], lat=27.0 + k / 10 + r.home.lat / 100, lon=120.3,
                            position_time=T0 + timedelta(minutes=k),
                            version=current[r.id].version + 1)
            current[r.id] = moved
            events.append(position_event(moved, T0))
        if k == 2:
            busy = replace(current["u5"], status="assigned", version=current["u5"].version + 1)
            current["u5"] = busy
            events.append(resource_event("resource.status", busy, T0))
            again = replace(current["u3"], lat=26.9, version=current["u3"].version + 1,
                            position_time=T0 + timedelta(minutes=9))
            current["u3"] = again
            events.append(position_event(again, T0))
    events.append(position_event(replace(unit(99), lat=27.0, lon=120.0, position_time=T0), T0))
    batched.apply_events(events, current.get)  # one commit
    for ev in events:  # as a log follower would, from the payloads alone
        single.apply_events([ev])
    assert [batched.index.get(r.id) for r in units] == [single.index.get(r.id) for r in units]
    assert [batched.index.get(r.id) for r in units] == [current[r.id] for r in units]
    assert batched.index.get("u99") is None
    got = [[h.resource.id for h in f.index.nearest(27.2, 120.3, 8, where=IndexFilter(), now=T0)]
           for f in (batched, single)]
    assert got[0] == got[1]
