"""Machine-readable report for scripts (schema: ``regnorm-report/2``)."""

from __future__ import annotations

import json

from autograder.results import GradingRun


def run_to_dict(run: GradingRun) -> dict:
    return {
        "schema": "regnorm-report/2",
        "score": run.score,
        "max_score": run.max_score,
        "graded": all(not n.error for n in run.notebooks),
        "notebooks": [n.to_dict() for n in run.notebooks],
    }


def render_json(run: GradingRun) -> str:
    return json.dumps(run_to_dict(run), indent=2) + "\n"
