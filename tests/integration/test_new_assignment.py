# ruff: noqa: E501 - the jupytext cell headers are one line each
"""Adding an assignment takes three hand-written files — the solution source, checks.py, mistakes.py —
and the commands of docs/AUTHORING.md: a throwaway assignment is built in a copy of the grader and graded."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap

import pytest
from helpers import REPO

A = "99_tiny"

SOLUTION = textwrap.dedent('''\
    # ---
    # jupyter:
    #   jupytext:
    #     notebook_metadata_filter: regnorm
    #     text_representation:
    #       extension: .py
    #       format_name: percent
    #       format_version: '1.3'
    #   kernelspec:
    #     display_name: Python 3
    #     language: python
    #     name: python3
    #   regnorm:
    #     assignment: 99_tiny
    # ---

    # %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
    # # 99 · Tiny
    # Write `scale(x, factor=2.0)`, which returns $\\text{factor} \\cdot x$ as a new tensor.

    # %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
    import torch

    from autograder import check

    # %% nbgrader={"grade": false, "grade_id": "scale", "locked": false, "schema_version": 3, "solution": true, "task": false}
    def scale(x, factor=2.0):
        """Inputs: x, a tensor; factor, a float. Returns factor * x (a new tensor; x is unchanged)."""
        ### BEGIN SOLUTION
        out = factor * x
        ### END SOLUTION
        return out

    # %% nbgrader={"grade": true, "grade_id": "check_scale", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
    points = check("scale")
    ### BEGIN HIDDEN TESTS
    points += check("scale", hidden=True)
    ### END HIDDEN TESTS
    points
''')

CHECKS = textwrap.dedent('''\
    """Visible checks of the throwaway assignment 99."""

    import torch

    from autograder.checks import Suite

    suite = Suite(__name__)


    @suite.check("scale", points=1, title="default factor, x unchanged", cases=[{"n": 3, "seed": 0}])
    def default(ctx, n, seed):
        x = torch.randn(n, generator=ctx.gen(seed))
        out = ctx.call_unchanged("scale", x)
        ctx.expect_reference(out, "scale(x)")


    @suite.check("scale", points=1, title="a non-default factor", cases=[{"n": 4, "seed": 1, "factor": -0.5}],
                 hint="multiply by the factor argument, not by 2")
    def factor(ctx, n, seed, factor):
        x = torch.randn(n, generator=ctx.gen(seed))
        ctx.expect_equal(ctx.call("scale", x, factor=factor), factor * x, "scale(x, factor)", tier="op")


    suite.hidden(factor, points=1, cases=[{"n": 2, "seed": 7, "factor": 3.0}, {"n": 5, "seed": 8, "factor": 0.25}])
''')

MISTAKES = textwrap.dedent('''\
    """Known mistakes of the throwaway assignment 99."""

    from autograder.suites.s99_tiny.checks import suite


    @suite.mistake("scale", name="ignores_factor", hint="the factor argument was ignored (always 2)",
                   targets=("scale.factor",))
    def scale(x, factor=2.0):
        return 2 * x
''')


def run(root: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "REGNORM_GRADING")}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    proc = subprocess.run([sys.executable, "-m", "autograder", *args], cwd=root, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.mark.slow
def test_a_new_assignment_from_three_files():
    # Not under /tmp: the sandbox mounts its own /tmp over it, which would hide a grader copy there.
    base = tempfile.mkdtemp(prefix="regnorm-new-assignment-", dir="/var/tmp" if os.path.isdir("/var/tmp") else None)
    try:
        _build_and_grade(os.path.join(base, "course"))
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _build_and_grade(root: str) -> None:
    shutil.copytree(os.path.join(REPO, "autograder"), os.path.join(root, "autograder"),
                    ignore=shutil.ignore_patterns("__pycache__", "s[0-9][0-9]_*"))
    shutil.copy(os.path.join(REPO, "nbgrader_config.py"), root)
    os.makedirs(os.path.join(root, "solutions", A))
    suite = os.path.join(root, "autograder", "suites", f"s{A}")
    os.makedirs(suite)
    for path, text in ((os.path.join(root, "solutions", A, f"{A}.py"), SOLUTION),
                       (os.path.join(suite, "checks.py"), CHECKS), (os.path.join(suite, "mistakes.py"), MISTAKES)):
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)

    run(root, "generate", A)        # solution .ipynb (jupytext), then the student copy (nbgrader)
    run(root, "references", A)      # reference values from the solution
    assert os.path.exists(os.path.join(suite, "references", "hidden.json"))
    run(root, "generate", "--check", A)

    def grade(notebook: str) -> dict:
        report = os.path.join(root, "report.json")
        run(root, "grade", notebook, "--format", "json", "--output", report)
        with open(report, encoding="utf-8") as fh:
            return json.load(fh)["notebooks"][0]

    solution = grade(os.path.join(root, "solutions", A, f"{A}.ipynb"))
    assert solution["error"] is None and solution["score"] == solution["max_score"] == 3
    student = grade(os.path.join(root, "assignments", A, f"{A}.ipynb"))
    assert student["score"] == 0 and {c["status"] for c in student["checks"]} == {"not_implemented"}
