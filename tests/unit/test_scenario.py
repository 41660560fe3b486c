"""Scenario files: the built-ins load, and every refusal names its line and field."""

from __future__ import annotations

import pytest

from rescue.dispatch.plans import load_plans
from resources.vocabulary import Vocabulary
from simulations.scenario import ScenarioError, builtin_names, load, parse

CATS = tuple(load_plans().categories)
GOOD = """\
name: drill
area: "330305"
start: 2026-09-01T08:00:00+08:00
duration: 2h
seed: 3
incidents:
  - {at: 10m, category: person_overboard, severity: III, lat: 27.83, lon: 121.25}
generators:
  - category: flood
    rate_per_hour: 2
    profile: {peak_at: 1h, spread: 30m}
weather:
  - {from: 0s, to: 1h, wind_kmh: 80}
resources:
  - {at: 30m, withdraw: {kind: volunteer_vessel}}
"""


def test_the_five_built_ins_load() -> None:
    assert set(builtin_names()) >= {"typhoon", "wencheng_collapse", "nanji_capsize",
                                    "dongtou_person_in_water", "taishun_mountain_search"}
    for name in builtin_names():
        sc = load(name, CATS)
        assert sc.name == name and sc.duration_s > 0 and sc.start.tzinfo is not None
    typhoon = load("typhoon", CATS)
    assert typhoon.expected_incidents() > 40  # dozens within hours
    assert any(w.wind_kmh and w.wind_kmh > 100 for w in typhoon.weather)
    assert load("typhoon", CATS, seed=99).seed == 99


def test_a_good_file_reads_into_times_and_windows() -> None:
    sc = parse(GOOD, CATS, Vocabulary.default())
    assert sc.duration_s == 7200 and sc.incidents[0].at_s == 600
    assert sc.generators[0].profile.peak_at_s == 3600
    assert sc.weather_at(100, ("33", "3303")) == {"wind_kmh": 80.0}
    assert sc.weather_at(4000, ("33",)) is None
    assert sc.resources[0].selector is not None and sc.resources[0].selector.kind == \
        "volunteer_vessel"
    assert sc.scaled(3).generators[0].rate_per_hour == 6


@pytest.mark.parametrize("change, line, field, words", [
    (("seed: 3", "seed: three"), 5, "seed", "whole number"),
    (("duration: 2h", "duration: two hours"), 4, "duration", "duration such as"),
    (("start: 2026-09-01T08:00:00+08:00", "start: tomorrow"), 3, "start", "zone"),
    (("rate_per_hour: 2", "rate_per_hour: -1"), 10, "generators[0].rate_per_hour", "between"),
    (("category: flood", "category: flod"), 9, "generators[0].category", "one of"),
    (("severity: III", "severity: V"), 7, "incidents[0].severity", "one of"),
    (("lat: 27.83, ", ""), 7, "incidents[0]", "both lat and lon"),
    (("{at: 10m,", "{at: 3h,"), 7, "incidents[0].at", "between"),
    (("wind_kmh: 80}", "wind_kmh: 80, gust: 3}"), 13, "weather[0].gust", "unknown field"),
    (("to: 1h,", "to: 0s,"), 13, "weather[0].to", "after from"),
    (("{kind: volunteer_vessel}", "{kind: submarine}"), 15, "resources[0].withdraw.kind",
     "one of"),
    (("area: \"330305\"", "area: Dongtou"), 2, "area", "area code"),
])
def test_bad_files_are_refused_naming_line_and_field(change, line, field, words) -> None:
    old, new = change
    assert old in GOOD
    with pytest.raises(ScenarioError) as e:
        parse(GOOD.replace(old, new, 1), CATS, Vocabulary.default())
    assert (e.value.line, e.value.field) == (line, field), str(e.value)
    assert words in e.value.message and f"line {line}" in str(e.value)


def test_not_yaml_empty_and_unknown_names() -> None:
    with pytest.raises(ScenarioError, match="line 2"):
        parse("name: x\n  bad: [1\n", CATS, Vocabulary.default())
    with pytest.raises(ScenarioError, match="is empty"):
        parse("", CATS, Vocabulary.default())
    with pytest.raises(ScenarioError, match="no built-in scenario"):
        load("atlantis", CATS)
    with pytest.raises(ScenarioError) as e:
        parse(GOOD + "speed: 3\n", CATS, Vocabulary.default())
    assert e.value.field == "speed" and e.value.line == 16


def test_an_added_unit_is_checked_like_a_registry_row() -> None:
    doc = GOOD + "  - at: 1h\n    add:\n      - {id: extra-1, name: Extra, kind: tank}\n"
    with pytest.raises(ScenarioError) as e:
        parse(doc, CATS, Vocabulary.default())
    assert e.value.field.startswith("resources[1].add[0]") and e.value.line == 18


@pytest.mark.parametrize("extra, field, words", [
    ('title: "a\\0b"\n', "title", "U+0000"),
    ('title: "a\\ud800b"\n', "title", "surrogate"),
    ('description: "line\\x07bell"\n', "description", "U+0007"),
])
def test_yaml_escapes_cannot_write_what_json_refuses(extra, field, words) -> None:
    with pytest.raises(ScenarioError) as e:
        parse(GOOD + extra, CATS, Vocabulary.default())
    assert e.value.field == field and words in e.value.message and e.value.line == 16


def test_hostile_nesting_and_aliases_are_refused_not_crashed() -> None:
    with pytest.raises(ScenarioError, match="nested too deeply"):
        parse("name: x\nd: " + "[" * 5000 + "]" * 5000 + "\n", CATS, Vocabulary.default())
    bomb = ("  - at: 1h\n    add:\n      - &a [x, x, x, x, x, x, x, x, x]\n"
            "      - &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            "      - [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n")
    with pytest.raises(ScenarioError) as e:
        parse(GOOD + bomb, CATS, Vocabulary.default())
    assert e.value.field == "resources[1].add[0]" and "must be a resource" in e.value.message
