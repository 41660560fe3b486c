"""JSON columns' text (rescue.db.json_text): orjson where it can, json where orjson refuses,
and whatever was accepted reads back as it was written."""

from __future__ import annotations

import json

import pytest

from rescue.db import json_text
from rescue.events import load_payload


@pytest.mark.parametrize("value", [
    {"a": 1, "b": [1.5, None, True], "c": {"d": "温州 ✓"}},
    {"big": 2**70},  # beyond orjson's 64-bit integers
    {"lone": "x\ud800y"},  # a lone surrogate (refused at the edge; stored if it got in)
    {1: "non-string key"},
])
def test_json_text_reads_back_as_json_would(value) -> None:
    text = json_text(value)
    assert json.loads(text) == json.loads(json.dumps(value))


def test_a_stored_lone_surrogate_reads_back_replaced() -> None:
    assert load_payload(json_text({"lone": "x\ud800y"})) == {"lone": "x\ufffdy"}
