"""Fuzz: malformed submissions (hypothesis strategies of benchmarks/fuzz_grader.py) thrown at the reader
and the grader. Every case ends in a report or a one-line :class:`NotebookError` reason for that file;
never an uncaught exception, never a hang. A few hundred cases here; ``python benchmarks/fuzz_grader.py``
runs 10,000."""

from __future__ import annotations

import copy
import importlib.util
import os
import tempfile
from unittest import mock

from helpers import REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograder import engine
from autograder.locked_cells import manual_points, release_of, restore_locked_cells
from autograder.notebooks import (
    NotebookError,
    cells_to_run,
    declared_assignment,
    detect_assignment,
    gradable_problem,
    missing_feedback,
    read_submission,
    structure_notes,
)
from autograder.suites import ASSIGNMENTS

_spec = importlib.util.spec_from_file_location("fuzz_grader", os.path.join(REPO, "benchmarks", "fuzz_grader.py"))
fuzz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz)

SETTINGS = dict(deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
FOLDER = tempfile.mkdtemp(prefix="regnorm-fuzz-test-")


def _write(ext: str, data: bytes) -> str:
    path = os.path.join(FOLDER, "05_dropout-case" + ext)
    with open(path, "wb") as fh:
        fh.write(data)
    return path


@settings(max_examples=250, **SETTINGS)
@given(case=fuzz.submissions(), assignment=st.sampled_from(ASSIGNMENTS))
def test_reader_detection_and_cell_selection(case, assignment):
    path = _write(*case)
    try:
        submission = read_submission(path)
    except NotebookError as exc:
        reason = str(exc)
        assert reason.strip() and "\n" not in reason.strip() and len(reason) < 400, reason
        return
    nb = submission.nb
    assert all(isinstance(n, str) for n in submission.notes)
    problem = gradable_problem(nb)
    assert problem is None or isinstance(problem, str)
    detected = detect_assignment(nb, path)
    assert detected in ASSIGNMENTS  # the file name tells it when the metadata does not
    assert declared_assignment(nb) in (None, *ASSIGNMENTS)
    for cell in cells_to_run(nb):
        assert isinstance(cell.source, str) and cell.source.strip()
    release = release_of(assignment)
    assert all(isinstance(n, str) for n in structure_notes(nb, release))
    restored = copy.deepcopy(nb)
    assert all(isinstance(n, str) for n in restore_locked_cells(restored, assignment, release))
    cells_to_run(restored)
    manual_points(assignment, release)
    missing_feedback(restored, release, "dropout_forward", [])


@settings(max_examples=60, **SETTINGS)
@given(case=fuzz.submissions())
def test_grading_pipeline_with_a_stand_in_student_process(case):
    with mock.patch.object(engine, "StudentProcess", fuzz.StandIn):
        problem = fuzz.run_case(*case, FOLDER, case_timeout=30, grade=engine.grade_notebook)
    assert problem is None, problem


@settings(max_examples=6, **SETTINGS)
@given(case=fuzz.submissions())
def test_real_grade_notebook(case):
    """A few cases through the real pipeline: a sandboxed student process forked from the shared zygote."""
    from helpers import FAST_LIMITS

    from autograder.sandbox.zygote import shared_zygote

    def grade(path):
        return engine.grade_notebook(path, FAST_LIMITS, zygote=shared_zygote())

    problem = fuzz.run_case(*case, FOLDER, case_timeout=120, grade=grade)
    assert problem is None, problem
