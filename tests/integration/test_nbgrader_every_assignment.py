"""nbgrader round trip for every assignment: generate_assignment -> autograde -> export records, for the
solution and for the untouched student copy, the same autograded score as `autograder grade` (the written
answers graded by hand are nbgrader's extra max points, listed apart as manual_points)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys

import pytest
from helpers import REPO, load_nb, solution_path, write_nb
from test_nbgrader_course import nbgrader, submission

from autograder.suites import ASSIGNMENTS

BIN = os.path.dirname(sys.executable)


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_nbgrader_export_equals_autograder_grade(assignment, tmp_path):
    root = tmp_path / "course"
    root.mkdir()
    shutil.copy(os.path.join(REPO, "nbgrader_config.py"), root / "nbgrader_config.py")
    shutil.copytree(os.path.join(REPO, "solutions", assignment), root / "solutions" / assignment)
    nbgrader(root, "generate_assignment", assignment, "--force")
    release = load_nb(str(root / "assignments" / assignment / f"{assignment}.ipynb"))
    students = {"solved": submission(release, load_nb(solution_path(assignment))), "untouched": release}
    paths = {}
    for student, nb in students.items():
        d = root / "submitted" / student / assignment
        d.mkdir(parents=True)
        paths[student] = write_nb(nb, d / f"{assignment}.ipynb")
    nbgrader(root, "autograde", assignment, "--force")
    nbgrader(root, "export")
    with open(root / "grades.csv", newline="", encoding="utf-8") as fh:
        exported = {row["student_id"]: row for row in csv.DictReader(fh)}
    env = {k: v for k, v in os.environ.items() if k != "REGNORM_GRADING"}
    proc = subprocess.run([os.path.join(BIN, "autograder"), "grade", *paths.values(), "--format", "json"],
                          capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    ours = dict(zip(paths, json.loads(proc.stdout)["notebooks"], strict=True))
    for student, nb in ours.items():
        row = exported[student]
        assert float(row["score"]) == pytest.approx(nb["score"], abs=1e-6), (student, row, nb["score"])
        assert float(row["max_score"]) == pytest.approx(nb["max_score"] + nb["manual_points"]), (student, row)
    assert ours["solved"]["score"] == ours["solved"]["max_score"] > 0
    assert ours["untouched"]["score"] == 0
