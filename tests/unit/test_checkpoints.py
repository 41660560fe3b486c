"""A replay's fold from the nearest checkpoint gives what the fold from the start of the log
gives: the picture, the cursor and the stream after it, for any slice, moment and viewer,
however the seeks before it left checkpoints behind."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from realtime.visibility import Viewer
from rescue.events import EventQuery
from simulations.checkpoints import MemoryCheckpoints, key_of
from simulations.playback import Slice
from tests.unit.test_replay_parts import T0, log, replay


def scattered(n: int, seed: int) -> list[dict]:
    """The plausible log, in three areas (one outside the slice), with recorded times a little out of seq order (two
    writers' clocks)."""
    rnd = random.Random(seed)
    out = []
    for ev in log(n, seed):
        t = T0 + timedelta(seconds=ev["seq"] * 10 + rnd.choice([0, 0, 0, -15, 12]))
        out.append({**ev, "time": t.isoformat(), "exercise": None, "units": [],
                    "areas": [rnd.choice(["330302", "330305", "330402"])]})
    return out


def reader(events: list[dict]):
    def read(q: EventQuery) -> list[dict]:
        assert q.viewer is not None
        prefix = q.area_prefix or ""
        rows = [e for e in events if q.after < e["seq"] <= (q.until or 1 << 60)
                and q.viewer.sees(e) and any(a.startswith(prefix) for a in e["areas"])]
        return rows[:q.limit]
    return read


@settings(max_examples=80, deadline=None)
@given(n=st.integers(0, 150), seed=st.integers(0, 10_000),
       bounds=st.tuples(st.integers(0, 200), st.integers(0, 200)),
       seeks=st.lists(st.tuples(st.integers(-30, 2000), st.booleans(), st.booleans()),
                      min_size=1, max_size=4),
       scope=st.sampled_from([None, "330302"]))
def test_a_fold_from_checkpoints_is_the_fold_from_the_start(n, seed, bounds, seeks,
                                                            scope) -> None:
    events = scattered(n, seed)
    seq_from, seq_to = min(bounds), max(bounds)
    r = replay(source={"area": "3303"}, exercise=None, seq_from=seq_from, seq_to=seq_to)
    # Viewers who see the same of this slice share checkpoints (simulations.checkpoints.key_of)
    alike = [Viewer(scope=s) for s in ((None, "33", "3303") if scope is None else (scope,))]
    read = reader(events)
    store = MemoryCheckpoints(every=3, per_entry=0)
    for i, (offset_s, inclusive, on_an_event) in enumerate(seeks):
        viewer = alike[i % len(alike)]
        at = T0 + timedelta(seconds=offset_s)
        if on_an_event and events:  # exactly at a recorded time: where `inclusive` tells
            at = datetime.fromisoformat(events[offset_s % len(events)]["time"])
        whole = Slice(r, viewer, read, page=15).picture(at, inclusive=inclusive)
        quick = Slice(r, viewer, read, page=15, checkpoints=store).picture(
            at, inclusive=inclusive)
        assert quick[0].to_dict() == whole[0].to_dict() and quick[1] == whole[1]
        # What each read beyond the moment (pages fall elsewhere) starts the same stream.
        stream = [e for e in read(EventQuery(after=whole[1], until=seq_to, limit=10**6,
                                             viewer=viewer, area_prefix="3303"))]
        assert quick[2] == stream[:len(quick[2])] and whole[2] == stream[:len(whole[2])]


def test_a_later_fold_starts_from_the_furthest_checkpoint_it_may_use() -> None:
    events = scattered(400, 3)
    r = replay(source={"area": "3303"}, exercise=None, seq_from=0, seq_to=405)
    reads: list[int] = []
    read = reader(events)

    def counted(q: EventQuery) -> list[dict]:
        reads.append(q.after)
        return read(q)

    store = MemoryCheckpoints(every=50, per_entry=0)
    end = T0 + timedelta(hours=2)
    Slice(r, Viewer(), counted, page=20, checkpoints=store).picture(end)
    assert reads[0] == 0 and len(reads) >= 10
    reads.clear()
    Slice(r, Viewer(), counted, page=20, checkpoints=store).picture(end)
    # from the end the first one left behind (or the last checkpoint before), not from 0
    assert len(reads) <= 4 and all(a >= 340 for a in reads), reads
    reads.clear()
    early = T0 + timedelta(seconds=1000)  # before seq ~100: the later ones may not be used
    pic, _, _ = Slice(r, Viewer(), counted, page=20, checkpoints=store).picture(early)
    assert 0 < reads[0] <= 100 and pic.seq < 100


def test_a_fold_leaps_to_a_checkpoint_another_fold_saved_meanwhile() -> None:
    """Two folds of one key at once (a viewer's seek while the replay's fold ahead runs): the
    later one leaps to what the other saved further on, and ends with the same picture."""
    events = scattered(400, 5)
    r = replay(source={"area": "3303"}, exercise=None, seq_from=0, seq_to=405)
    end = T0 + timedelta(hours=2)
    ahead = MemoryCheckpoints(every=50, per_entry=0)
    Slice(r, Viewer(), reader(events), page=20, checkpoints=ahead).picture(end)
    store = MemoryCheckpoints(every=50, per_entry=0)
    key = key_of(Viewer(), r.source)
    reads: list[int] = []

    def read(q: EventQuery) -> list[dict]:
        reads.append(q.after)
        if len(reads) == 2:  # the other fold's checkpoints land while this one reads
            store._marks[key] = dict(ahead._marks[key])
        return reader(events)(q)

    s = Slice(r, Viewer(), read, page=20, checkpoints=store, look_every_s=0.0,
              patience_s=0.05)
    pic, cursor, rest = s.picture(end)
    whole = Slice(r, Viewer(), reader(events), page=20).picture(end)
    assert s.leaps == 1 and len(reads) <= 7 and all(a >= 340 for a in reads[2:]), reads
    assert pic.to_dict() == whole[0].to_dict() and (cursor, rest) == whole[1:]


def test_a_fold_without_checkpoints_looks_for_none() -> None:
    events = scattered(200, 9)
    r = replay(source={"area": "3303"}, exercise=None, seq_from=0, seq_to=205)
    end = T0 + timedelta(hours=2)
    s = Slice(r, Viewer(), reader(events), page=20, look_every_s=0.0)
    assert s.picture(end)[0].to_dict() == Slice(r, Viewer(), reader(events), page=500
                                                ).picture(end)[0].to_dict()
    assert s.leaps == 0


def test_a_fold_behind_another_follows_it_instead_of_folding_beside_it() -> None:
    """While the other fold keeps saving checkpoints ahead, this one reads only a page after
    each leap (in case the end is in it) instead of folding the stretch again; the other's
    end, left behind, ends it."""
    events = scattered(400, 7)
    r = replay(source={"area": "3303"}, exercise=None, seq_from=0, seq_to=405)
    end = T0 + timedelta(hours=2)
    leader = MemoryCheckpoints(every=40, per_entry=0)
    Slice(r, Viewer(), reader(events), page=20, checkpoints=leader).picture(end)
    key = key_of(Viewer(), r.source)
    marks = sorted(leader._marks[key].items())  # (seq, ...) as the leader saved them
    saved, seqs = len(marks), {seq for seq, _ in marks}

    class Racing(MemoryCheckpoints):
        """The leader saves its next checkpoint whenever this fold looks."""

        def nearest(self, *args, **kwargs):
            if marks:
                seq, body = marks.pop(0)
                self._marks.setdefault(key, {})[seq] = body
            return super().nearest(*args, **kwargs)

    reads: list[int] = []

    def read(q: EventQuery) -> list[dict]:
        reads.append(q.after)
        return reader(events)(q)

    store = Racing(every=40, per_entry=0)
    s = Slice(r, Viewer(), read, page=20, checkpoints=store, look_every_s=0.0,
              patience_s=0.05)
    pic, cursor, rest = s.picture(end)
    whole = Slice(r, Viewer(), reader(events), page=20).picture(end)
    assert saved >= 5 and s.leaps == saved - 1 and not marks  # (it started from the first)
    # It read one page after each leap (the end might have been in it), nothing else.
    assert len(reads) <= s.leaps and set(reads) <= seqs, (reads, seqs)
    assert pic.to_dict() == whole[0].to_dict() and (cursor, rest) == whole[1:]


def test_viewers_who_see_the_same_share_a_key_and_others_do_not() -> None:
    county = {"area": "3303"}
    same = {key_of(Viewer(), county), key_of(Viewer(scope="33"), county),
            key_of(Viewer(scope="3303"), county)}
    assert len(same) == 1
    assert key_of(Viewer(scope="330302"), county) == key_of(Viewer(), {"area": "330302"})
    others = {key_of(Viewer(scope="330302"), county), key_of(Viewer(scope="3304"), county),
              key_of(Viewer(scope="3303", categories=frozenset({"flood"})), county),
              key_of(Viewer(scope="3303", exercise="ex-1"), county),
              key_of(Viewer(), {"incident": "inc-1", "units": ["u1"]})}
    assert len(others) == 5 and not others & same


def test_a_long_fold_tells_how_far_it_is_and_its_viewer_hears_it() -> None:
    from simulations.playback import Playback

    events = scattered(300, 5)
    r = replay(source={"area": "3303"}, exercise=None, seq_from=0, seq_to=305)
    done: list[float] = []
    at = T0 + timedelta(seconds=2500)
    Slice(r, Viewer(), reader(events), page=20).picture(at, progress=done.append)
    assert len(done) >= 5 and done == sorted(done) and done[0] >= 0 and done[-1] <= 1
    assert done[-1] > 0.7  # the fold got near the moment before its last page

    class Sink:
        said: list[tuple[str, dict]] = []

        def emit(self, event: str, data: dict) -> None:
            self.said.append((event, data))

    sink = Sink()
    tell = Playback("rp-1", Viewer(), reader(events), None, lambda: T0,  # type: ignore[arg-type]
                    progress_every_s=0)._progress(sink, r)  # type: ignore[arg-type]
    tell(0.25)
    tell(0.5)
    assert sink.said == [("replay_progress", {"replay": "rp-1", "generation": 0, "done": 0.25}),
                         ("replay_progress", {"replay": "rp-1", "generation": 0, "done": 0.5})]
    quiet = Playback("rp-1", Viewer(), reader(events), None, lambda: T0,  # type: ignore[arg-type]
                     progress_every_s=60)._progress(sink, r)  # type: ignore[arg-type]
    quiet(0.9)
    assert len(sink.said) == 2  # at most every minute: not yet
