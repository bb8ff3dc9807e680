"""The in-notebook self-check: ``check("split_data")`` in a visible cell after each stub.

The same checks the grader runs, reached in-process through :class:`~autograder.student.LocalStudent`
on the kernel's own namespace. It prints a short report and returns the points earned as a float,
which is what nbgrader reads as the partial credit of an autograded test cell.

In a student bundle only visible checks exist; ``check(..., hidden=True)`` (in the hidden-test part
of the instructor's test cells) runs the hidden ones during nbgrader's autograde.
"""

from __future__ import annotations

import os
import sys

from autograder import references
from autograder.checks import run_check
from autograder.results import mark
from autograder.student import LocalStudent
from autograder.suites import ASSIGNMENTS, load_suite


class Score(float):
    """Points earned; prints as a plain number (nbgrader parses it as partial credit)."""


def _find_assignment(exercise: str, namespace: dict) -> tuple[str, object]:
    hint = namespace.get("REGNORM_ASSIGNMENT")
    candidates = [hint] if hint in ASSIGNMENTS else list(ASSIGNMENTS)
    for assignment in candidates:
        suite = load_suite(assignment, hidden=False)
        if exercise in suite.exercises():
            return assignment, suite
    raise KeyError(f"no checks named {exercise!r}")


def check(exercise: str, hidden: bool = False, *, namespace: dict | None = None, quiet: bool = False) -> Score:
    """Run the visible (or, with ``hidden=True``, the hidden) checks of ``exercise``.

    Inputs:
    - exercise: the stub's name, e.g. ``"split_data"``.
    - hidden: run the hidden checks instead (instructor/nbgrader environments only).
    - namespace: where the student's functions live; default: the caller's globals.
    Returns the points earned (a float).
    """
    if os.environ.get("REGNORM_GRADING") == "1":
        # Inside `autograder grade` the grader runs every check itself, out of process.
        return Score(0.0)
    ns = namespace if namespace is not None else sys._getframe(1).f_globals
    assignment, suite = _find_assignment(exercise, ns)
    if hidden:
        suite = load_suite(assignment, hidden=True)
    refs = references.load(assignment, hidden=hidden)
    student = LocalStudent(ns)
    results = [run_check(c, student, refs.of(c.name)) for c in suite.select(exercise, hidden=hidden)]
    earned = round(sum(r.score for r in results), 4)
    if not quiet:
        print(render(exercise, results, hidden, refs.hidden_points.get(exercise, 0.0)))
    return Score(earned)


def render(exercise: str, results, hidden: bool, hidden_points: float) -> str:
    kind = "hidden" if hidden else "visible"
    earned = sum(r.score for r in results)
    total = sum(r.points for r in results)
    lines = [f"{exercise}: {kind} checks {earned:g}/{total:g} points"]
    for r in results:
        lines.append(f"  [{mark(r.status)}] {r.title} ({r.score:g}/{r.points:g})")
        if r.feedback:
            lines.extend("      " + line for line in r.feedback.splitlines())
    if not hidden:
        all_passed = all(r.passed for r in results)
        more = f"{hidden_points:g} more points are graded by hidden checks" if hidden_points else \
            "there are no hidden checks for this part"
        lead = "visible checks passed" if all_passed else "some visible checks failed"
        lines.append(f"  -> {lead}; {more}.")
    return "\n".join(lines)
