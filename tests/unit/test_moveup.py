"""Move-up on small registries where the right answer is obvious."""

from __future__ import annotations

from rescue.dispatch.coverage import Coverage
from rescue.dispatch.coverage_targets import CoverageConfig, CoverageTarget, Place
from rescue.dispatch.moveup import suggest
from rescue.dispatch.policy_file import load_policy
from resources.vocabulary import Vocabulary
from tests.unit.test_coverage import grid
from tests.unit.test_dispatch_helpers import NOW, geography, res

RUIAN = Place("Rui'an", 27.78199, 120.6512)
LUCHENG = Place("Lucheng", 28.01911, 120.6513)  # 26 km north of Rui'an
NANJI = Place("Nanji island", 27.465, 121.075)  # no fixed link to the mainland


def coverage(points, units, air: tuple[str, ...] = ()) -> Coverage:
    t = CoverageTarget("seats", "heavy_rescue", ("land", "air"), 1200.0, 2400.0,
                       points=tuple(points))
    cfg = CoverageConfig(("3303", "3303M"), grid().cell_km, (t,), {"air": air})
    cov = Coverage(grid(), cfg, geography(), load_policy(), Vocabulary.default().kind_modes)
    cov.refresh(units, NOW)
    return cov


def team(rid: str, lat: float, lon: float, **kw):
    return res(rid, "land_team", ["heavy_rescue"], lat, lon, speed=50, ready=600,
               area="330381", **kw)


def test_the_spare_team_goes_to_the_uncovered_seat() -> None:
    # Two teams at Rui'an, none at Lucheng: one of them should go north.
    units = [team("ra-1", RUIAN.lat, RUIAN.lon), team("ra-2", RUIAN.lat + 0.01, RUIAN.lon)]
    cov = coverage([RUIAN, LUCHENG], units)
    assert cov.covered("seats").tolist() == [True, False]
    [m] = suggest(cov)
    assert m["resource_id"] == "ra-2"  # the nearer of the two: the shorter move
    assert m["post"]["name"] == "Lucheng" and m["post"]["source"] == "point"
    assert (m["restored"], m["lost"]) == (1, 0)
    assert (m["before"]["covered"], m["after"]["covered"]) == (1, 2)
    assert m["before"]["worst_eta_s"] is None and m["after"]["worst_eta_s"] <= 1200
    # the team's own drive there: ~25 km x the Lucheng detour (1.25) at 50 km/h + readiness
    assert 600 + 24 * 1.25 / 50 * 3600 < m["travel_s"] < 600 + 26 * 1.25 / 50 * 3600
    assert m["restored_cells"] == [int(cov.sites["seats"].cell[1])]


def test_no_move_uncovers_as_much_as_it_restores() -> None:
    cov = coverage([RUIAN, LUCHENG], [team("ra-1", RUIAN.lat, RUIAN.lon)])
    assert cov.covered("seats").tolist() == [True, False]
    assert suggest(cov) == []  # Lucheng for Rui'an is no gain


def test_busy_and_out_of_service_units_are_not_moved() -> None:
    units = [team("ra-1", RUIAN.lat, RUIAN.lon),
             team("ra-2", RUIAN.lat, RUIAN.lon, status="en_route"),
             team("ra-3", RUIAN.lat, RUIAN.lon, status="out_of_service")]
    assert suggest(coverage([RUIAN, LUCHENG], units)) == []


def test_a_land_team_is_never_sent_to_an_island_without_a_link() -> None:
    units = [team("ra-1", RUIAN.lat, RUIAN.lon), team("ra-2", RUIAN.lat, RUIAN.lon)]
    cov = coverage([RUIAN, NANJI], units)
    assert cov.covered("seats").tolist() == [True, False]
    assert suggest(cov) == []
    # a helicopter may go (to the island itself, or its helipad next to it)
    heli = res("heli", "helicopter", ["heavy_rescue"], 27.914, 120.851, speed=250, ready=900,
               rng=600, area="3303")
    cov = coverage([RUIAN, NANJI], [*units, heli], air=("helipads",))
    [m] = suggest(cov)
    assert m["resource_id"] == "heli" and "Nanji" in m["post"]["name"]
    assert m["lost"] == 0 and m["after"]["covered"] == 2
