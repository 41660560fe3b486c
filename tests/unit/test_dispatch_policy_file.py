"""The dispatch policy file: defaults, per-area detours in use, and errors with their line."""

from __future__ import annotations

import pytest

from geo.areas import AreaIndex
from geo.geography import Geography
from rescue.dispatch.dispatcher import Dispatcher, DispatchRequest
from rescue.dispatch.plans import PlanError, load_plans
from rescue.dispatch.policy_file import DEFAULT_PATH, load_policy
from resources.spatial import ResourceIndex
from resources.vocabulary import Vocabulary
from tests.unit.test_dispatch_helpers import NOW, res


def test_packaged_policy_loads_and_names_only_real_areas() -> None:
    codes = {a.code for a in AreaIndex.from_file(land=None)}
    p = load_policy(known_areas=codes)
    assert p.detour == 1.35 and p.area_detour["330328"] == 1.6
    assert p.weather_limits["helicopter"].max_wind_kmh == 65
    assert load_policy(max_position_age_s=60).max_position_age_s == 60


def test_a_county_detour_changes_the_land_eta() -> None:
    unit = res("t", "land_team", ["heavy_rescue"], 27.80, 120.10, area="330328")
    ix = ResourceIndex.build([unit], Vocabulary.default())

    def eta(policy) -> int:
        s = Dispatcher(Geography.load(), load_plans(), policy).suggest(
            ix, DispatchRequest(27.78, 120.08, "building_collapse", "IV"), now=NOW)
        q = next(r for r in s.requirements if r.requirement.capability == "heavy_rescue")
        return q.candidates[0].eta_s, q.candidates[0].distance_km

    base_eta, base_km = eta(load_policy(DEFAULT_PATH, area_detour={}))
    wencheng_eta, wencheng_km = eta(load_policy())
    assert wencheng_km == pytest.approx(base_km / 1.35 * 1.6, rel=1e-6)
    assert wencheng_eta > base_eta


@pytest.mark.parametrize("text,line,words", [
    ("detour: 0.9\n", 1, "detour"),
    ("area_detour:\n  '330328': 1.6\n  'x12': 1.2\n", 3, "unknown area code"),
    ("weather_limits:\n  helicopter: {max_wind_kmh: 65}\n", 2, "min_visibility_km"),
    ("weather_limits:\n  land_team: {max_wind_kmh: 1, min_visibility_km: 1}\n", 2, "aircraft"),
    ("detour: 1.2\nspeed: 3\n", 2, "unknown key 'speed'"),
    ("sea_limit_km: far\n", 1, "sea_limit_km"),
])
def test_bad_policy_files_name_line_and_problem(tmp_path, text, line, words) -> None:
    f = tmp_path / "policy.yaml"
    f.write_text(text)
    with pytest.raises(PlanError) as e:
        load_policy(f)
    assert f"policy.yaml line {line}:" in str(e.value) and words in str(e.value)
