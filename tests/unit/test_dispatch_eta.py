"""The ETA model on small fakes of the geography: per-mode formulas and infeasibility codes."""

from __future__ import annotations

import math

import pytest

from geo.distance import haversine_km
from rescue.dispatch.eta import EtaModel
from rescue.dispatch.policy import DispatchPolicy
from rescue.dispatch.sources import ListSource
from tests.unit.test_dispatch_helpers import NOW, fake_geography, location, res

P = (27.9, 120.7)  # incident on the fake mainland


def evaluate(resources, loc=None, policy=None, weather=None, point=P, geo=None):
    geo = geo or fake_geography()
    src = ListSource(resources)
    pol = policy or DispatchPolicy()
    b = src.everything(*point, "medevac", now=NOW, max_age_s=pol.max_position_age_s,
                       exercise=None)
    model = EtaModel(*point, loc or location(), geo, pol, weather)
    ev = model.evaluate(b)
    from rescue.dispatch.eta import OUTCOMES

    return {i: (e, k, OUTCOMES[c]) for i, e, k, c in zip(b.ids, ev.eta_s, ev.km, ev.code, strict=True)}, model


def test_air_eta_range_and_weather():
    d = haversine_km(*P, 28.0, 120.7)
    rs = [res("h1", "helicopter", ["medevac"], 28.0, 120.7, speed=200, ready=600, rng=4 * d),
          res("h2", "helicopter", ["medevac"], 28.0, 120.7, speed=200, ready=600, rng=1.9 * d)]
    out, _ = evaluate(rs)
    assert out["h1"][0] == pytest.approx(d / 200 * 3600 + 600)
    assert out["h1"][1] == pytest.approx(d) and out["h1"][2] == "current_position"
    assert out["h2"][2] == "out_of_range" and math.isinf(out["h2"][0])
    out, _ = evaluate(rs, weather={"wind_kmh": 90})
    assert out["h1"][2] == "grounded"
    out, _ = evaluate(rs, weather={"wind_kmh": 20, "visibility_km": 0.5})
    assert out["h1"][2] == "grounded"
    out, _ = evaluate(rs, weather={"wind_kmh": 20, "visibility_km": 10})
    assert out["h1"][2] == "current_position"


def test_land_detour_per_area_and_unreachable_across_water():
    rs = [res("t1", "land_team", ["medevac"], 27.8, 120.6, speed=60, ready=300),
          res("island", "land_team", ["medevac"], 27.8, 121.2, speed=60)]
    d = haversine_km(*P, 27.8, 120.6)
    out, _ = evaluate(rs)
    assert out["t1"][1] == pytest.approx(1.35 * d)
    assert out["t1"][0] == pytest.approx(1.35 * d / 60 * 3600 + 300)
    assert out["island"][2] == "unreachable"
    out, _ = evaluate(rs, policy=DispatchPolicy(area_detour={"330302": 1.8}))
    assert out["t1"][1] == pytest.approx(1.8 * d)
    out, _ = evaluate(rs, loc=location("sea"), point=(27.9, 121.5))
    assert out["t1"][2] == "unreachable"  # an incident at sea
    with pytest.raises(ValueError):
        DispatchPolicy(detour=0.9)


def test_sea_routes_only_for_sea_or_shore_incidents_and_lazily():
    rs = [res("v1", "vessel", ["medevac"], 27.9, 121.0, speed=36, ready=900),
          res("inland", "vessel", ["medevac"], 27.9, 120.4, speed=36)]
    geo = fake_geography()
    out, model = evaluate(rs, geo=geo)
    assert out["v1"][2] == "unreachable" and geo.sea.fields == 0  # inland incident: no search
    out, model = evaluate(rs, loc=location("land", shore=True), geo=geo)
    d = haversine_km(*P, 27.9, 121.0)
    assert out["v1"][1] == pytest.approx(1.3 * d)
    assert out["v1"][0] == pytest.approx(1.3 * d / 36 * 3600 + 900)
    assert out["inland"][2] == "unreachable"
    assert model.sea_fields_built == 1
    _, model = evaluate([rs[0]], loc=location("sea"), geo=geo)
    assert model.sea_fields_built == 1


def test_stale_positions_fall_back_home_or_are_infeasible():
    rs = [res("old", "helicopter", ["medevac"], 28.2, 120.7, home=(27.95, 120.7), age_s=3600),
          res("never", "helicopter", ["medevac"], 28.2, 120.7, home=(27.95, 120.7), age_s=None),
          res("fresh", "helicopter", ["medevac"], 28.2, 120.7, age_s=100)]
    out, _ = evaluate(rs)
    assert out["old"][2] == "position_stale_home_base"
    assert out["old"][1] == pytest.approx(haversine_km(*P, 27.95, 120.7))
    assert out["never"][2] == "home_base" and out["fresh"][2] == "current_position"
    out, _ = evaluate(rs, policy=DispatchPolicy(stale_fallback=False))
    assert out["old"][2] == "positions_stale" and out["never"][2] == "home_base"
    out, _ = evaluate(rs, policy=DispatchPolicy(max_position_age_s=7200))
    assert out["old"][2] == "current_position"


SEA_INCIDENTS = [(27.6, 121.5), (27.85, 121.3), (27.45, 121.0), (27.99, 121.19), (28.3, 121.7)]


def _sea_case(incident, seed: int, spread: tuple[float, float], n: int):
    """A sea incident's model, the whole graph's field, and n vessels scattered around it
    (some on land) with their straight-line km, nearest first in `order`."""
    import numpy as np

    from tests.unit.test_dispatch_helpers import geography

    geo = geography()
    model = EtaModel(*incident, location("sea"), geo, DispatchPolicy())
    rng = np.random.default_rng(int(incident[0] * seed))
    lats = incident[0] + rng.normal(0, spread[0], n)
    lons = incident[1] + rng.normal(0, spread[1], n)
    d = haversine_km(*incident, lats, lons)
    return model, geo.sea.field_from(*incident), lats, lons, d, np.argsort(d)


@pytest.mark.parametrize("incident", SEA_INCIDENTS)
def test_bounded_sea_search_gives_the_full_fields_answers(incident):
    """The sea search bounded to what the asked vessels need (widening as farther ones are
    asked) answers exactly as one search of the whole graph, near and far, around islands,
    at the shore and inland (unreachable)."""
    import numpy as np

    model, full, lats, lons, d, order = _sea_case(incident, 1000, (0.25, 0.3), 600)
    limits = []
    for chunk in np.array_split(order, [8, 24, 56, 120, 300]):  # nearest first, as the walk asks
        got = model.sea_km(lats[chunk], lons[chunk], d[chunk])
        np.testing.assert_array_equal(got, full.km_to(lats[chunk], lons[chunk]))
        limits.append(model.sea.limit)
    assert np.isfinite(limits[0]) and limits == sorted(limits)
    assert np.isinf(model.sea_km(np.array([28.0]), np.array([120.65]), np.array([60.0])))


@pytest.mark.parametrize("incident", SEA_INCIDENTS)
def test_sea_searches_kept_across_requests_answer_as_a_fresh_whole_search(incident):
    """Requests for one incident share its sea search (seasearch.SeaSearches): whatever order
    and subsets of vessels the requests ask, near or far, moved or at base, every answer equals
    a fresh search of the whole graph, and a repeated request runs no search at all."""
    import numpy as np

    from rescue.dispatch.seasearch import SeaSearches
    from tests.unit.test_dispatch_helpers import geography

    geo = geography()
    searches = SeaSearches()
    full = geo.sea.field_from(*incident)
    rng = np.random.default_rng(int(incident[1] * 1000))
    lats = incident[0] + rng.normal(0, 0.3, 300)
    lons = incident[1] + rng.normal(0, 0.3, 300)
    for step in range(6):
        model = EtaModel(*incident, location("sea"), geo, DispatchPolicy(),
                         sea_searches=searches)
        ask = rng.choice(300, size=40 + 40 * step, replace=False)
        if step == 3:  # some vessels reported new positions
            lats[ask[:10]] += 0.01
        d = haversine_km(*incident, lats[ask], lons[ask])
        np.testing.assert_array_equal(model.sea_km(lats[ask], lons[ask], d),
                                      full.km_to(lats[ask], lons[ask]))
    again = EtaModel(*incident, location("sea"), geo, DispatchPolicy(), sea_searches=searches)
    d = haversine_km(*incident, lats[ask], lons[ask])
    np.testing.assert_array_equal(again.sea_km(lats[ask], lons[ask], d),
                                  full.km_to(lats[ask], lons[ask]))
    assert again.sea_fields_built == 0


@pytest.mark.parametrize("incident", SEA_INCIDENTS)
def test_sea_search_grows_only_as_far_as_the_asked_vessels_need(incident):
    """The search stops within a growth step of the farthest asked vessel's approach (not at
    a guess from the straight line), and a later ask for farther vessels takes the same search
    on from there: no node is settled twice."""
    import numpy as np

    from rescue.dispatch.seasearch import GROWTH, GROWTH_KM

    model, full, lats, lons, d, order = _sea_case(incident, 77, (0.2, 0.2), 200)
    settled = 0
    for chunk in (order[:10], order[10:60], order[60:]):
        model.sea_km(lats[chunk], lons[chunk], d[chunk])
        _, approach, joined = full.km_and_approach(lats[chunk], lons[chunk])
        need = approach[joined & np.isfinite(approach)]
        reach = max(float(need.max()), float(d[chunk].max()))
        assert need.max() <= model.sea.limit <= reach * GROWTH + GROWTH_KM
        search = model.sea._growing.search
        assert search.settled == np.count_nonzero(search.dist[:-1] <= model.sea.limit)
        assert search.settled > settled
        settled = search.settled


def test_one_sea_search_asked_from_threads_at_once_answers_each_exactly():
    """Threads asking one incident's remembered search at once (its compiled search runs
    without the GIL) each get the whole field's answers (without SeaSearch's lock, each of 3
    runs of this test went wrong)."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    from rescue.dispatch.seasearch import SeaSearches
    from tests.unit.test_dispatch_helpers import geography

    incident = SEA_INCIDENTS[1]
    _, full, lats, lons, d, order = _sea_case(incident, 5, (0.4, 0.4), 800)
    geo = geography()
    parts = np.array_split(order, 16)  # near and far asked at once
    for _ in range(4):
        searches = SeaSearches()

        def ask(part: np.ndarray, searches: SeaSearches = searches) -> np.ndarray:
            model = EtaModel(*incident, location("sea"), geo, DispatchPolicy(),
                             sea_searches=searches)
            return model.sea_km(lats[part], lons[part], d[part])

        with ThreadPoolExecutor(8) as pool:
            got = list(pool.map(ask, parts))
        for part, km in zip(parts, got, strict=True):
            np.testing.assert_array_equal(km, full.km_to(lats[part], lons[part]))


def test_bounded_sea_search_respects_the_policy_limit():
    import numpy as np

    from tests.unit.test_dispatch_helpers import geography

    geo = geography()
    model = EtaModel(27.6, 121.5, location("sea"), geo, DispatchPolicy(sea_limit_km=40.0))
    capped = geo.sea.field_from(27.6, 121.5, limit_km=40.0)
    lats, lons = np.array([27.62, 27.7, 27.9, 28.2]), np.array([121.45, 121.3, 121.2, 121.0])
    d = haversine_km(27.6, 121.5, lats, lons)
    np.testing.assert_array_equal(model.sea_km(lats, lons, d), capped.km_to(lats, lons))
