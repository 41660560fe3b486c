"""The coverage targets file: the packaged one loads against the real areas and layers; bad
files are refused with the file, the line and the field."""

from __future__ import annotations

import pytest
import shapely

from geo.areas import AreaIndex
from geo.layers import LayerStore
from rescue.dispatch.coverage_targets import DEFAULT_PATH, load_coverage, parse_coverage
from rescue.dispatch.plans import PlanError
from resources.vocabulary import Vocabulary

GOOD = """\
grid: {areas: ["3303", 3303M], cell_km: 2}
posts: {air: [helipads]}
targets:
  - name: hoist_sea
    capability: hoist
    modes: [air]
    max_eta_min: 30
    over: sea
    coast_km: 40
  - name: seats
    title: Heavy rescue at the seats
    capability: heavy_rescue
    modes: [land, air]
    max_eta_min: 20.5
    horizon_min: 60
    area: "330328"
    points:
      - {name: Wencheng, lat: 27.79, lon: 120.087}
"""


def test_packaged_targets_load_against_the_real_areas_and_layers() -> None:
    codes = {a.code for a in AreaIndex.from_file(land=None)}
    cfg = load_coverage(DEFAULT_PATH, Vocabulary.default(), known_areas=codes,
                        layers=LayerStore.load().names())
    assert cfg.areas == ("3303", "3303M") and cfg.cell_km == 2.5
    hoist = cfg.target("hoist_sea")
    assert hoist is not None and hoist.modes == ("air",) and hoist.over == "sea"
    seats = cfg.target("heavy_rescue_seats")
    assert seats is not None and len(seats.points) == 12 and seats.max_eta_s == 1200
    assert seats.horizon_s == 2400  # twice the maximum by default
    assert cfg.posts["sea"] == ("standby_points", "ports")


def test_a_good_file_is_read_as_written() -> None:
    cfg = parse_coverage(GOOD, Vocabulary.default())
    assert cfg.names == ("hoist_sea", "seats") and cfg.cell_km == 2.0
    a, b = cfg.targets
    assert (a.capability, a.modes, a.max_eta_s, a.coast_km) == ("hoist", ("air",), 1800, 40)
    assert b.points[0].name == "Wencheng" and b.points[0].lat == 27.79
    assert (b.max_eta_s, b.horizon_s, b.area, b.title) == (1230, 3600, "330328",
                                                           "Heavy rescue at the seats")
    assert b.to_dict()["modes"] == ["land", "air"]


def _with(line: str, new: str) -> str:
    assert line in GOOD
    return GOOD.replace(line, new)


@pytest.mark.parametrize("text,line,words", [
    (_with("capability: hoist", "capability: hoistt"), 5, "targets[0].capability: unknown "
                                                          "capability 'hoistt'"),
    (_with("modes: [air]", "modes: [air, rail]"), 6, "unknown targets[0].mode 'rail'"),
    (_with("modes: [air]", "modes: []"), 6, "targets[0].modes must be a non-empty list"),
    (_with("max_eta_min: 30", "max_eta_min: -5"), 7, "targets[0].max_eta_min"),
    (_with("max_eta_min: 30", "max_eta_min: soon"), 7, "max_eta_min"),
    (_with("over: sea\n", "over: air\n"), 8, "must be land or sea"),
    (_with("    over: sea\n", ""), 4, "either 'over'"),
    (_with("coast_km: 40", "coast_km: 0"), 9, "targets[0].coast_km"),
    (_with("name: seats", "name: area"), 10, "targets[1].name"),
    (_with("name: seats", "name: hoist_sea"), 10, "used twice"),
    (_with("horizon_min: 60", "horizon_min: 10"), 15, "targets[1].horizon_min"),
    (_with('area: "330328"', 'area: "99x"'), 16, "targets[1].area: unknown area code"),
    (_with("lat: 27.79", "lat: 97.79"), 18, "targets[1].points[0].lat"),
    (_with("{name: Wencheng, lat: 27.79, lon: 120.087}", "{name: Wencheng, lat: 27.79}"), 18,
     "needs name, lat and lon"),
    (_with("cell_km: 2}", "cell_km: 0.01}"), 1, "grid.cell_km"),
    (_with("posts: {air: [helipads]}", "posts: {rail: [helipads]}"), 2, "unknown field 'rail'"),
    (_with("    capability: hoist\n", "    capability: hoist\n    speed: 3\n"), 6,
     "unknown field 'speed'"),
    ("targets: []\n", 1, "missing 'grid'"),
    ("grid: [1\n", 2, "not valid YAML"),
])
def test_bad_files_name_the_line_and_the_field(tmp_path, text, line, words) -> None:
    f = tmp_path / "coverage.yaml"
    f.write_text(text)
    with pytest.raises(PlanError) as e:
        load_coverage(f, Vocabulary.default())
    assert f"coverage.yaml line {line}:" in str(e.value), str(e.value)
    assert words in str(e.value), str(e.value)


def test_areas_and_layers_are_checked_when_known() -> None:
    with pytest.raises(PlanError, match="line 1: grid.areas.0.: unknown area code"):
        parse_coverage(GOOD, Vocabulary.default(), known_areas={"3303M", "330328"})
    with pytest.raises(PlanError, match="line 2: unknown posts.air 'helipads'"):
        parse_coverage(GOOD, Vocabulary.default(), layers=["ports"])


def test_points_outside_the_grid_are_refused_when_areas_can_say() -> None:
    areas = AreaIndex.from_file(land=None)

    def inside(codes, lat, lon) -> bool:
        return any(shapely.intersects_xy(areas.geometry(c), lon, lat) for c in codes)

    text = GOOD.replace("lat: 27.79, lon: 120.087", "lat: 30.25, lon: 120.16")  # Hangzhou
    with pytest.raises(PlanError, match=r"line 18: targets\[1\].points\[0\]: .* outside the "
                                        r"grid's areas \(3303, 3303M\)"):
        parse_coverage(text, Vocabulary.default(), inside=inside)
    assert parse_coverage(GOOD, Vocabulary.default(), inside=inside).names
