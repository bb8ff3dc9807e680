"""Gradescope's ``results.json`` (see FORMATS.md): one test per check."""

from __future__ import annotations

import json

from autograder.results import GradingRun


def render_gradescope(run: GradingRun) -> str:
    tests = []
    outputs = []
    for nb in run.notebooks:
        if nb.error:
            outputs.append(f"{nb.path}: grading failed: {nb.error}")
            continue
        for c in nb.checks:
            text = c.title
            if c.feedback:
                text += "\n" + c.feedback
            tests.append({
                "name": f"{nb.assignment}: {c.name}" + (" (hidden)" if c.hidden else ""),
                "number": str(len(tests) + 1),
                "score": c.score,
                "max_score": c.points,
                "status": "passed" if c.passed else "failed",
                "output": text,
                "tags": [nb.assignment or "", c.exercise],
                "visibility": "after_published" if c.hidden else "visible",
            })
        for note in nb.notes:
            outputs.append(f"{nb.path}: {note}")
        for e in nb.cell_errors:
            outputs.append(f"{nb.path}: cell #{e.index} raised {e.error_type}: {e.message}")
    result = {
        "score": run.score,
        "execution_time": round(sum(n.duration_s for n in run.notebooks)),
        "output": "\n".join(outputs) or f"Graded {len(run.notebooks)} notebook(s).",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    return json.dumps(result, indent=2) + "\n"
