"""The live-push parts without sockets: visibility, coalescing, the follower's ordering, the
router's batching, joining and eviction, and the per-unit rate limit."""

from __future__ import annotations

import threading

from realtime.coalesce import coalesce_positions
from realtime.follower import LogFollower
from realtime.ratelimit import RateLimiter
from realtime.router import Router
from realtime.visibility import Viewer, prefixes


def ev(seq: int, areas=("330328",), type_="incident.reported", category=None, units=(),
       exercise=None, t="2026-07-01T08:00:00Z", unit_id=None) -> dict:
    payload = {"id": unit_id} if unit_id else {}
    return {"seq": seq, "id": f"e{seq}", "time": t, "type": type_, "area": areas[0],
            "areas": list(areas), "category": category, "units": list(units),
            "exercise": exercise, "payload": payload}


def test_visibility_by_scope_category_unit_and_exercise() -> None:
    e = ev(1, areas=("330328101", "330381"), category="building_collapse", units=("boat",))
    assert Viewer(scope="330328").sees(e) and Viewer(scope="330381").sees(e)
    assert Viewer(scope="3303").sees(e) and Viewer(scope=None).sees(e)
    assert not Viewer(scope="330302").sees(e)
    assert Viewer(scope="3303", categories=frozenset({"building_collapse"})).sees(e)
    assert not Viewer(scope="3303", categories=frozenset({"medical_evacuation"})).sees(e)
    assert Viewer(unit="boat").sees(e) and not Viewer(unit="heli").sees(e)
    assert not Viewer(scope="3303", exercise="ex1").sees(e)
    uncategorised = ev(2, type_="resource.position")
    assert Viewer(scope="3303", categories=frozenset({"medical_evacuation"})).sees(uncategorised)
    assert {"3", "33", "3303", "330328"} <= prefixes(["330328"])


def test_coalescing_keeps_the_latest_position_per_unit_within_the_interval() -> None:
    batch = [ev(1, type_="resource.position", unit_id="a", t="2026-07-01T08:00:00Z"),
             ev(2, type_="resource.position", unit_id="b", t="2026-07-01T08:00:00Z"),
             ev(3, type_="incident.reported"),
             ev(4, type_="resource.position", unit_id="a", t="2026-07-01T08:00:00.5Z"),
             ev(5, type_="resource.position", unit_id="a", t="2026-07-01T08:00:05Z")]
    out = [e["seq"] for e in coalesce_positions(batch, 1.0)]
    assert out == [2, 3, 4, 5]  # 1 superseded by 4 (0.5 s later); 5 is 4.5 s after 4
    assert [e["seq"] for e in coalesce_positions(batch, 0)] == [1, 2, 3, 4, 5]


def test_follower_delivers_in_seq_order_from_memory_and_from_the_log() -> None:
    log = [ev(i) for i in range(1, 11)]
    reads = []

    def read_after(after: int, limit: int) -> list[dict]:
        reads.append(after)
        return [e for e in log if e["seq"] > after][:limit]

    got: list[int] = []
    f = LogFollower(read_after, start_seq=0, page=4)
    f.subscribe(lambda batch: got.extend(e["seq"] for e in batch))
    f.offer(log[:3])  # local commits continue the cursor: no read-back needed for them
    f.drain(check_log=False)
    assert got == [1, 2, 3] and reads == []
    f.offer([log[6]])  # 4..6 committed elsewhere: a gap, so the log is read
    f.drain()
    assert got == list(range(1, 11)) and reads


def test_router_batches_per_view_and_joins_exactly_at_the_live_edge() -> None:
    sent: list[tuple[str, dict]] = []
    rooms: dict[str, set[str]] = {}
    r = Router(lambda event, room, ns, data: sent.append((room, data)),
               queue_len=lambda sid, ns: 0, on_evict=lambda *a: None, start_seq=10)
    enter = lambda sid, room, ns: rooms.setdefault(room, set()).add(sid)  # noqa: E731
    wencheng, lucheng = Viewer(scope="330328"), Viewer(scope="330302")
    assert not r.join("s1", "/centre", wencheng, 9, enter)  # behind: read the log first
    assert r.join("s1", "/centre", wencheng, 10, enter)
    assert r.join("s2", "/centre", wencheng, 10, enter)
    assert r.join("s3", "/centre", lucheng, 10, enter)
    r.route([ev(11), ev(12, areas=("330302",)), ev(13)])
    r.flush()
    by_room = {room: data for room, data in sent}
    assert [e["seq"] for e in by_room[f"v:{wencheng.key}"]["events"]] == [11, 13]
    assert [e["seq"] for e in by_room[f"v:{lucheng.key}"]["events"]] == [12]
    assert all(d["last_seq"] == 13 for _, d in sent)
    assert len(sent) == 2 and len(rooms[f"v:{wencheng.key}"]) == 2  # one frame per view


def test_a_slow_client_is_handed_back_at_its_last_complete_seq() -> None:
    queues = {"fast": 0, "slow": 500}
    evicted: list[tuple] = []
    sent: list[dict] = []
    r = Router(lambda event, room, ns, data: sent.append(data),
               queue_len=lambda sid, ns: queues[sid],
               on_evict=lambda sid, ns, seq, room: evicted.append((sid, seq)), start_seq=5)
    for sid in queues:
        assert r.join(sid, "/centre", Viewer(scope="33"), 5, lambda *a: None)
    r.route([ev(6)])
    r.flush()
    assert evicted == [("slow", 5)] and r.is_live("fast", "/centre")
    assert not r.is_live("slow", "/centre") and sent[0]["last_seq"] == 6


def test_rate_limit_is_per_unit() -> None:
    now = [0.0]
    lim = RateLimiter(rate=2, burst=3, clock=lambda: now[0])
    assert [lim.check("a") for _ in range(3)] == [0, 0, 0]
    wait = lim.check("a")
    assert 0 < wait <= 0.5
    assert lim.check("b") == 0  # another unit is not slowed
    now[0] += 0.5
    assert lim.check("a") == 0


def test_router_is_safe_under_concurrent_route_and_join() -> None:
    r = Router(lambda *a: None, queue_len=lambda sid, ns: 0, on_evict=lambda *a: None)
    stop = threading.Event()

    def routing() -> None:
        seq = 0
        while not stop.is_set():
            seq += 1
            r.route([ev(seq)])
            r.flush()

    t = threading.Thread(target=routing)
    t.start()
    joined = 0
    for i in range(200):
        while not r.join(f"s{i}", "/centre", Viewer(scope="3303"), r.flushed_seq,
                         lambda *a: None):
            pass
        joined += 1
    stop.set()
    t.join()
    assert joined == 200 and r.clients("/centre") == 200


def test_a_view_created_between_routing_and_flushing_gets_what_was_routed() -> None:
    """A client joining at the flushed seq must still get events routed before its view
    existed (found by a resume test: the last event before a reconnect went missing)."""
    sent: list[dict] = []
    r = Router(lambda event, room, ns, data: sent.append(data), queue_len=lambda sid, ns: 0,
               on_evict=lambda *a: None, start_seq=5)
    r.route([ev(6), ev(7, areas=("330302",))])  # nobody in Wencheng is listening yet
    assert r.join("s1", "/centre", Viewer(scope="330328"), 5, lambda *a: None)
    r.flush()
    assert [e["seq"] for e in sent[0]["events"]] == [6] and sent[0]["last_seq"] == 7
