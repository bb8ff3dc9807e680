"""Solution sources: every solution notebook is generated from its jupytext script, and drift is caught."""

from __future__ import annotations

import os
import shutil

import pytest
from helpers import REPO

from autograder.generate import OutOfDate, solution_source, sync_solution
from autograder.notebooks import detect_assignment, read_notebook
from autograder.suites import ASSIGNMENTS


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_notebook_is_generated_from_its_script(assignment):
    assert os.path.exists(solution_source(assignment)), "solutions/NN_name/NN_name.py is the source"
    path = sync_solution(assignment, check=True)
    assert detect_assignment(read_notebook(path), "x.ipynb") == assignment  # metadata.regnorm survives


def test_drift_is_reported(tmp_path):
    assignment = ASSIGNMENTS[0]
    folder = tmp_path / "solutions" / assignment
    shutil.copytree(os.path.join(REPO, "solutions", assignment), folder)
    source = folder / f"{assignment}.py"
    source.write_text(source.read_text(encoding="utf-8") + "\n# %%\nprint('new cell')\n", encoding="utf-8")
    with pytest.raises(OutOfDate, match=f"autograder generate {assignment}"):
        sync_solution(assignment, check=True, root=str(tmp_path))
    sync_solution(assignment, root=str(tmp_path))
    assert sync_solution(assignment, check=True, root=str(tmp_path))
