"""Locked cells (imports, given helpers) are restored from the released notebook before a submission
runs, and the report says which had been edited or deleted."""

from __future__ import annotations

import copy

from helpers import load_nb, solution_path, student_path, write_nb

from autograder.locked_cells import restore_locked_cells

A = "01_data_splits"


def _cell(nb, grade_id):
    return next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)


def _solution_source(grade_id: str) -> str:
    src = "".join(_cell(load_nb(solution_path(A)), grade_id)["source"])
    return "\n".join(line for line in src.splitlines() if "### " not in line)


def test_solution_code_hidden_in_a_locked_cell_does_not_run(tmp_path, grade):
    nb = load_nb(student_path(A))
    imports = _cell(nb, "imports")
    imports["source"] = "".join(imports["source"]) + "\n" + _solution_source("split_data") + "\n"
    result = grade(write_nb(nb, tmp_path / "locked-edit.ipynb"))
    assert result.score == 0
    assert any("locked cells restored" in n and "imports" in n for n in result.notes), result.notes


def test_a_deleted_locked_cell_is_put_back(tmp_path, grade):
    nb = load_nb(solution_path(A))
    nb["cells"] = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") != "imports"]
    result = grade(write_nb(nb, tmp_path / "locked-deleted.ipynb"))
    assert result.score == result.max_score, [(c.name, c.feedback) for c in result.checks if not c.passed]
    assert any("deleted" in n and "imports" in n for n in result.notes), result.notes


def test_tags_of_a_locked_cell_are_the_release_ones(tmp_path):
    nb = load_nb(solution_path(A))
    _cell(nb, "imports")["metadata"]["tags"] = ["skip-when-grading"]
    notes = restore_locked_cells(nb, A)
    assert _cell(nb, "imports")["metadata"].get("tags", []) == []
    assert notes and "imports" in notes[0]


def test_an_untouched_submission_gets_no_note():
    for path in (solution_path(A), student_path(A)):
        nb = load_nb(path)
        before = copy.deepcopy(nb)
        assert restore_locked_cells(nb, A) == []
        assert [c["source"] for c in nb["cells"]] == [c["source"] for c in before["cells"]]


def test_without_a_release_the_report_says_so():
    nb = load_nb(solution_path(A))
    assert "not installed" in restore_locked_cells(nb, "99_missing")[0]
