"""Behaviour pin: grading the solutions, the untouched student copies and the example gives exactly the
pinned scores, statuses and check names (re-pin deliberately with ``python tools/pin_reports.py``)."""

from __future__ import annotations

import json
import os

import pytest

from tools.pin_reports import PIN, REPO, summarize

with open(PIN, encoding="utf-8") as _fh:
    PINNED = json.load(_fh)


@pytest.mark.parametrize("key", sorted(PINNED))
def test_report_is_as_pinned(key, grade):
    result = grade(os.path.join(REPO, key + ".ipynb"))
    assert summarize(result) == PINNED[key], f"the report of {key} changed; if deliberate: python tools/pin_reports.py"
