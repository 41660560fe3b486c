"""The recommended plan: an assignment (each unit once), bottleneck first then sum, with the
local-first rule in its costs. Property: never worse than greedy, and optimal on small cases
(checked against an exhaustive search)."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from rescue.dispatch.planner import (
    ASSIGNMENT,
    FASTER_BY_MARGIN,
    FASTEST,
    LOCAL_FIRST,
    ONLY_OPTION,
    PoolEntry,
    entry_cost,
    greedy_assignment,
    plan_assignment,
)


def P(rid, eta, local=True, preferred=True):
    return PoolEntry(rid, eta, local, preferred)


def test_greedy_per_slot_is_worse_than_the_assignment():
    # heli-1 is the fastest hoist AND the only medevac unit: greedy gives it to hoist and leaves
    # medevac empty; the assignment sends heli-2 to hoist (a bit slower) and fills both.
    pools = [[P("heli-1", 900), P("heli-2", 1500)], [P("heli-1", 950)]]
    greedy = greedy_assignment(pools, [1, 1])
    assert greedy == [(0, "heli-1", 900)]
    plan = plan_assignment(pools, [1, 1])
    assert [(e.requirement, e.resource_id) for e in plan.entries] == [(0, "heli-2"), (1, "heli-1")]
    assert plan.unfilled == (0, 0)
    assert plan.entries[0].reason == ASSIGNMENT


def test_bottleneck_beats_greedy_even_when_both_fill_everything():
    # Greedy: A takes x (100), B takes z (5000) -> latest 5000. Optimal: A y (400), B x (300).
    pools = [[P("x", 100), P("y", 400)], [P("x", 300), P("z", 5000)]]
    greedy = greedy_assignment(pools, [1, 1])
    assert max(e for _, _, e in greedy) == 5000
    plan = plan_assignment(pools, [1, 1])
    assert plan.latest_eta_s == 400
    assert {(e.requirement, e.resource_id) for e in plan.entries} == {(0, "y"), (1, "x")}


def test_sum_is_minimised_under_the_bottleneck():
    # Latest arrival is 1000 whatever we do (slot B); among those plans take the smaller sum.
    pools = [[P("a", 100), P("b", 200)], [P("c", 1000)], [P("a", 900), P("b", 150)]]
    plan = plan_assignment(pools, [1, 1, 1])
    assert plan.latest_eta_s == 1000
    assert {(e.requirement, e.resource_id) for e in plan.entries} == {(0, "a"), (1, "c"), (2, "b")}


def test_local_first_within_margin_and_faster_by_margin_beyond():
    near_outside = [P("own", 1500), P("other", 1000, local=False)]  # 500 s faster < 600 margin
    plan = plan_assignment([near_outside], [1], local_margin_s=600)
    assert [(e.resource_id, e.reason) for e in plan.entries] == [("own", LOCAL_FIRST)]
    far_outside = [P("own", 2000), P("other", 1000, local=False)]  # 1000 s faster > margin
    plan = plan_assignment([far_outside], [1], local_margin_s=600)
    assert [(e.resource_id, e.reason) for e in plan.entries] == [("other", FASTER_BY_MARGIN)]
    plan = plan_assignment([near_outside], [1], local_margin_s=0)
    assert plan.entries[0].resource_id == "other"


def test_only_option_fastest_and_shortfall():
    plan = plan_assignment([[P("a", 10)], [P("b", 20), P("c", 30)]], [1, 1])
    reasons = {e.resource_id: e.reason for e in plan.entries}
    assert reasons == {"a": ONLY_OPTION, "b": FASTEST}
    plan = plan_assignment([[P("a", 10)], [P("a", 20)]], [2, 1])
    assert len(plan.entries) == 1 and sum(plan.unfilled) == 2
    assert plan_assignment([[], []], [1, 1]).unfilled == (1, 1)


def _exhaustive(pools, counts, margin, pref):
    """Best (filled, -latest, -sum) over every assignment: the oracle for small cases."""
    slots = [i for i, c in enumerate(counts) for _ in range(c)]
    options = [[None] + [e for e in pools[i]] for i in slots]
    best = None
    for combo in itertools.product(*options):
        ids = [e.resource_id for e in combo if e is not None]
        if len(ids) != len(set(ids)):
            continue
        costs = [entry_cost(e, margin, pref) for e in combo if e is not None]
        key = (len(costs), -max(costs, default=0), -sum(costs))
        if best is None or key > best:
            best = key
    return best


entries = st.builds(P, st.sampled_from("abcdef"), st.integers(0, 3000), st.booleans(), st.booleans())


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(entries, max_size=4, unique_by=lambda e: e.resource_id), min_size=1,
                max_size=3),
       st.lists(st.integers(1, 2), min_size=3, max_size=3))
def test_plan_is_optimal_against_exhaustive_search(pools, counts):
    counts = counts[: len(pools)]
    plan = plan_assignment(pools, counts, local_margin_s=600, kind_preference_s=300)
    ids = [e.resource_id for e in plan.entries]
    assert len(ids) == len(set(ids))
    costs = [e.cost for e in plan.entries]
    got = (len(costs), -max(costs, default=0), -sum(costs))
    assert got == _exhaustive(pools, counts, 600, 300)
    greedy = greedy_assignment(pools, counts)
    assert len(plan.entries) >= len(greedy)
