"""Null submissions score 0 on every check of their exercise (DESIGN.md §7, issue 8).

For every exercise of every assignment (new suites are picked up automatically), null versions are
generated from the solution's own signature and output structure (tools/mutation.py):

- ``do_nothing``: returns None (for an in-place exercise: changes nothing);
- ``zeros`` / ``constant`` / ``empty``: the solution's output structure with every tensor replaced by
  zeros, a constant (0.5), or an empty slice (and every list emptied), every number by 0 / 1;
- ``identity``: the input returned unchanged (each output tensor replaced by the input of its shape).

A class exercise gets a class with the same constructor that builds nothing and whose methods
return the nulled first tensor argument. Each null is swapped into an in-process namespace of the
solution notebook and graded with the exercise's checks (visible and hidden).
"""

from __future__ import annotations

import pytest

from autograder.suites import ASSIGNMENTS
from tools import mutation

CASES = [(a, kind) for a in ASSIGNMENTS for kind in mutation.NULL_KINDS]


@pytest.fixture(scope="module")
def states():
    return {}


@pytest.mark.parametrize("assignment,kind", CASES, ids=[f"{a}:{k}" for a, k in CASES])
def test_null_submission_scores_zero_on_every_check(assignment, kind, states):
    if assignment not in states:
        states[assignment] = mutation.State(assignment)
    state = states[assignment]
    assert state.exercises, f"{assignment}: no exercise found in the solution notebook"
    earned = []
    for ex in state.exercises:
        ns = mutation.build_namespace(assignment, state.nb)
        ns[ex.name] = mutation.null_submission(ns, ex.name, kind)
        checks = [c for c in state.suite.checks if c.exercise == ex.name]
        for r in mutation.grade_namespace(ns, checks, state.references, stop_early=False):
            if r.score > 0:
                earned.append(f"{ex.name} ({kind}) earned {r.score:g}/{r.points:g} on {r.name}")
    assert not earned, "\n".join(earned)
