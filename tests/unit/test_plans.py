"""Response plans: the packaged file loads and covers the categories; bad files are rejected
with the line number and the problem."""

from __future__ import annotations

import pytest

from rescue.dispatch.plans import DEFAULT_PATH, PlanError, load_plans, parse_plans
from resources.vocabulary import Vocabulary

REQUIRED = ("maritime_distress", "person_overboard", "vessel_fire", "building_collapse", "flood",
            "typhoon_evacuation", "landslide", "mountain_rescue", "traffic_accident", "fire",
            "hazmat", "medical_evacuation", "missing_person")

GOOD = """\
scale: {I: 3, II: 2, III: 1.5, IV: 1}
categories:
  demo:
    title: Demo
    requirements:
      - {capability: hoist, count: 1, kinds: [helicopter], modes: [air]}
      - {capability: medical, count: [4, 3, 2, 0]}
"""


def test_packaged_plans_cover_every_category_and_severity():
    plans = load_plans()
    for cat in REQUIRED:
        for sev in ("I", "II", "III", "IV"):
            reqs = plans.requirements(cat, sev)
            assert reqs and all(r.count >= 1 for r in reqs)
    vocab = Vocabulary.default()
    for cat in plans.categories:
        for r in plans.requirements(cat, "I"):
            assert r.capability in vocab.capabilities


def test_severity_scales_counts_and_explicit_lists():
    plans = parse_plans(GOOD, Vocabulary.default())
    counts = {s: {r.capability: r.count for r in plans.requirements("demo", s)}
              for s in ("I", "II", "III", "IV")}
    assert counts["IV"] == {"hoist": 1}  # medical 0 at IV: not required
    assert counts["III"] == {"hoist": 2, "medical": 2}  # 1 x 1.5 rounded up
    assert counts["I"] == {"hoist": 3, "medical": 4}
    hoist = plans.requirements("demo", "I")[0]
    assert hoist.kinds == ("helicopter",) and hoist.modes == ("air",)


def test_building_collapse_needs_rescue_medical_expert_and_medevac():
    reqs = {r.capability: r for r in load_plans().requirements("building_collapse", "III")}
    assert {"heavy_rescue", "medical", "structural_expert", "medevac"} <= set(reqs)
    assert reqs["medevac"].modes == ("air",)


def _error(text: str) -> str:
    with pytest.raises(PlanError) as info:
        parse_plans(text, Vocabulary.default())
    return str(info.value)


@pytest.mark.parametrize(("bad", "good", "line", "message"), [
    ("capability: hoist,", "capability: hoistt,", 6, "unknown capability 'hoistt'"),
    ("kinds: [helicopter]", "kinds: [helicopterr]", 6, "unknown kind 'helicopterr'"),
    ("modes: [air]", "modes: [space]", 6, "unknown mode 'space'"),
    ("count: [4, 3, 2, 0]", "count: [4, 3, 2]", 7, "count list must have 4 items"),
    ("count: 1,", "count: one,", 6, "count must be an integer"),
    ("count: 1,", "count: -2,", 6, "count must be a finite number >= 0"),
    ("III: 1.5,", "III: x,", 1, "scale III must be a number"),
    ("title: Demo", "titel: Demo", 4, "unknown field 'titel'"),
    ("{capability: medical,", "{capability: hoist,", 7, "capability 'hoist' appears twice"),
])
def test_errors_name_the_line_and_the_problem(bad, good, line, message):
    text = GOOD.replace(bad, good, 1)
    assert text != GOOD
    err = _error(text)
    assert err.startswith(f"response_plans.yaml line {line}: "), err
    assert message in err


def test_invalid_yaml_and_empty_files():
    assert "line 6: not valid YAML" in _error(GOOD.replace("requirements:", "requirements: [", 1))
    assert "empty" in _error("")
    assert "missing 'categories'" in _error("scale: {I: 1, II: 1, III: 1, IV: 1}\n")


def test_load_plans_error_names_the_file(tmp_path):
    p = tmp_path / "my_plans.yaml"
    p.write_text(DEFAULT_PATH.read_text().replace("capability: hoist,", "capability: hoistt,", 1))
    with pytest.raises(PlanError, match=r"^my_plans\.yaml line \d+: unknown capability 'hoistt'"):
        load_plans(p)
