"""Every assignment, generically: full marks for the solution, zero for the untouched student copy,
each known mistake loses points on the checks it targets with its hint shown, references and student
notebooks in sync with the solutions, and the in-notebook self-check agreeing with the grader."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import pytest
from helpers import assert_full_marks, mistake_submission, solution_path, student_path

from autograder import compare, references, wire
from autograder.notebooks import notebook_namespace, read_notebook
from autograder.suites import ASSIGNMENTS, load_suite

ALL_MISTAKES = [(a, m) for a in ASSIGNMENTS for m in load_suite(a, hidden=True, mistakes=True).mistakes]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_gets_full_marks(assignment, grade):
    assert_full_marks(grade(solution_path(assignment)))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_student_copy_gets_zero(assignment, grade):
    result = grade(student_path(assignment))
    assert result.error is None
    assert result.score == 0
    assert len(result.checks) == len(load_suite(assignment).checks)
    for c in result.checks:
        assert c.status in ("not_implemented", "missing", "failed"), (c.name, c.status)
    assert any("is not implemented yet" in c.feedback for c in result.checks)


@pytest.mark.parametrize("assignment,mistake", ALL_MISTAKES, ids=[f"{a}:{m.exercise}:{m.name}" for a, m in ALL_MISTAKES])
def test_known_mistake_loses_points_with_hint(assignment, mistake, grade, tmp_path):
    assert mistake.targets, f"mistake {mistake.name} names no target check"
    result = grade(mistake_submission(assignment, mistake, tmp_path))
    by_name = {c.name: c for c in result.checks}
    for target in mistake.targets:
        assert target in by_name, f"unknown target {target}"
        check = by_name[target]
        assert check.score < check.points, f"{mistake.name} did not lose points on {target}"
        assert check.feedback, target
    # The hint that names this mistake (or the check's own hint for it) reaches the student.
    feedback = "\n".join(by_name[t].feedback for t in mistake.targets)
    expected = mistake.expected_feedback
    assert expected in feedback, f"hint not shown for {mistake.name}:\n{feedback}"
    # Checks of other functions are unaffected.
    others = [c for c in result.checks if c.exercise != mistake.exercise and not c.passed
              and c.exercise not in mistake.affects]
    assert not others, [(c.name, c.feedback) for c in others]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_references_match_a_fresh_recording(assignment):
    fresh = references.record(assignment, solution_path(assignment))
    for hidden in (False, True):
        with open(references.path(assignment, hidden), encoding="utf-8") as fh:
            stored = json.load(fh)
        assert stored["checks"].keys() == fresh[hidden]["checks"].keys(), "run `autograder references`"
        drift = _recording_drift(stored["checks"], fresh[hidden]["checks"])
        assert not drift, (f"references of {assignment} are out of date with the solution ({drift}): "
                           f"run `autograder references {assignment}`")
        if not hidden:
            assert stored["hidden_points"] == fresh[hidden]["hidden_points"]


def _recording_drift(stored: dict, fresh: dict, where: str = "") -> str | None:
    """Where two recordings differ by more than float noise, or None.

    Values are compared within the `op` tier, not bit for bit: BLAS kernels differ between CPUs in
    the last bits (a float64 ridge solution, 60 float32 Adam steps), and such a difference is not a
    change of the solution.
    """
    if isinstance(stored, dict) and isinstance(fresh, dict) and "ref" in stored and "mistakes" in stored:
        # A mistake is recorded only where its value differs from the reference; a mistake equal to
        # the reference up to float noise may be recorded on one CPU and not on another.
        for side, other in ((stored, fresh), (fresh, stored)):
            for name in set(side["mistakes"]) - set(other["mistakes"]):
                if compare.difference(wire.decode(side["ref"]), wire.decode(side["mistakes"][name][1]), "op"):
                    return f"{where}/mistakes: {name} recorded on one side only"
        common = set(stored["mistakes"]) & set(fresh["mistakes"])
        return _recording_drift({"ref": stored["ref"], **{k: stored["mistakes"][k] for k in common}},
                                {"ref": fresh["ref"], **{k: fresh["mistakes"][k] for k in common}}, where)
    if isinstance(stored, dict) and isinstance(fresh, dict) and stored.get("__t__") is None:
        if stored.keys() != fresh.keys():
            return f"{where}: keys {sorted(set(stored) ^ set(fresh))}"
        for k in stored:
            d = _recording_drift(stored[k], fresh[k], f"{where}/{k}")
            if d:
                return d
        return None
    if isinstance(stored, list) and isinstance(fresh, list):
        if len(stored) != len(fresh):
            return f"{where}: {len(stored)} vs {len(fresh)} entries"
        for i, (a, b) in enumerate(zip(stored, fresh)):
            d = _recording_drift(a, b, f"{where}[{i}]")
            if d:
                return d
        return None
    if stored == fresh:
        return None
    d = compare.difference(wire.decode(stored), wire.decode(fresh), "op")
    return f"{where}: {d}" if d else None


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_self_check_in_process_gives_visible_points(assignment):
    """The notebook's own check() (in-process flavour) passes the solution and says hidden points remain."""
    from autograder import check

    suite = load_suite(assignment, hidden=True)
    ns = notebook_namespace(solution_path(assignment))
    for group in suite.exercises():
        out = io.StringIO()
        with redirect_stdout(out):
            got = check(group, namespace=ns)
        assert got == suite.points(group, hidden=False), out.getvalue()
        hidden_pts = suite.points(group, hidden=True)
        if hidden_pts:
            assert f"{hidden_pts:g} more points are graded by hidden checks" in out.getvalue()
        with redirect_stdout(io.StringIO()):
            assert check(group, hidden=True, namespace=ns) == hidden_pts


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_test_cell_points_match_the_checks(assignment):
    """Each nbgrader test cell is worth exactly the points of the checks it runs."""
    suite = load_suite(assignment, hidden=True)
    nb = read_notebook(solution_path(assignment))
    seen = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution") and cell["cell_type"] == "code":
            src = "".join(cell["source"])
            groups = [g for g in suite.exercises() if f'check("{g}")' in src]
            assert len(groups) == 1, src
            seen[groups[0]] = meta["points"]
            assert f'check("{groups[0]}", hidden=True)' in src
    assert seen == {g: suite.points(g) for g in suite.exercises()}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_notebook_is_generated_from_solution(assignment):
    from autograder.generate import generate_assignments

    generate_assignments([assignment], check=True)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_hidden_checks_use_other_cases(assignment):
    suite = load_suite(assignment, hidden=True)
    for hidden in suite.select(hidden=True):
        twins = [v for v in suite.select(hidden=False) if v.run is hidden.run]
        for v in twins:
            assert not any(case in v.cases for case in hidden.cases), hidden.name
        if twins:
            assert len(hidden.cases) >= 2, f"{hidden.name}: hidden checks need at least two cases"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_written_question_reaches_the_student_copy(assignment):
    """nbgrader replaces the whole text of a manually graded answer cell, so a question written inside an
    answer cell never reaches students: each question needs its own locked cell before its answer."""
    import re

    def cells(path):
        return [("".join(c["source"]) if isinstance(c["source"], list) else c["source"], c.get("metadata", {}))
                for c in read_notebook(path)["cells"]]

    question = re.compile(r"^\*\*Q\d+\b[^*]*\*\*", re.M)
    student_text = "\n".join(src for src, _ in cells(student_path(assignment)))
    for src, meta in cells(solution_path(assignment)):
        nbg = meta.get("nbgrader", {})
        found = question.findall(src)
        assert not (nbg.get("grade") and nbg.get("solution") and found), (
            f"{assignment}: answer cell {nbg.get('grade_id')} contains {found}: nbgrader would replace it")
        for q in found:
            assert q in student_text, f"{assignment}: {q} is not in the student notebook"
