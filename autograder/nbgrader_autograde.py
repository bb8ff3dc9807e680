"""nbgrader's ``autograde`` with the sandboxed engine's scores (DESIGN.md §1: a grade that counts is
never computed in the student's process).

nbgrader's default ``Execute`` preprocessor runs the submission *and* its test cells in one kernel, so a
submission that rebinds ``check``, patches the comparison functions or hides the test cells' output
decides its own grade. ``nbgrader_config.py`` puts :class:`GradeWithEngine` in ``Execute``'s place in
``Autograde.autograde_preprocessors``. It runs after nbgrader's sanitizing pass (so locked cells are
already restored from the release by ``OverwriteCells``), grades the notebook with
:func:`autograder.engine.grade_notebook` (student code in its own limited process, checks in this one),
and writes each autograded test cell's outputs itself:

- a ``stream`` (stdout) output with the feedback of that cell's checks, visible and hidden;
- an ``execute_result`` whose ``text/plain`` is the points earned, which nbgrader reads as the cell's
  partial credit (``nbgrader.utils.determine_grade``).

Fail closed: a test cell this module cannot map to checks, or a notebook the engine could not grade,
gets an ``error`` output, which nbgrader scores 0. Nothing the student's cells printed reaches a test
cell's output.
"""

from __future__ import annotations

import os
import re
import tempfile

import nbformat
from nbgrader.preprocessors.base import NbGraderPreprocessor
from traitlets import Float, Int

from autograder.results import NotebookResult

CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([A-Za-z_][A-Za-z0-9_.]*)["']""")


def test_cell_exercises(source: str) -> list[str]:
    """The exercises a test cell's source checks (``check("split_data")`` → ``["split_data"]``), in order."""
    seen: list[str] = []
    for name in CHECK_CALL.findall(source):
        if name not in seen:
            seen.append(name)
    return seen


def _is_autograded_test_cell(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _error_output(reason: str):
    return nbformat.v4.new_output("error", ename="GradingError", evalue=reason,
                                  traceback=[f"GradingError: {reason}"])


def cell_outputs(result: NotebookResult, exercises: list[str]) -> list:
    """The outputs that stand for one test cell: the feedback text and the points earned."""
    if result.error:
        return [_error_output(f"the notebook could not be graded: {result.error}")]
    checks = [c for c in result.checks if c.exercise in exercises]
    if not exercises or not checks:
        return [_error_output("this test cell runs no check the grader knows; it earns no points")]
    lines = []
    for c in checks:
        mark = "PASS" if c.passed else "FAIL"
        lines.append(f"[{mark}] {c.name}{' (hidden)' if c.hidden else ''}: {c.title} ({c.score:g}/{c.points:g})")
        if c.feedback and not c.passed:
            lines.extend("    " + line for line in c.feedback.splitlines())
    lines.extend(f"note: {n}" for n in result.notes)
    earned = round(sum(c.score for c in checks), 4)
    return [nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines) + "\n"),
            nbformat.v4.new_output("execute_result", data={"text/plain": f"{earned:g}"}, execution_count=None)]


class GradeWithEngine(NbGraderPreprocessor):
    """Replaces nbgrader's ``Execute`` at autograde: the sandboxed engine decides every test cell's points."""

    cell_timeout = Float(60.0, help="seconds per notebook cell in the student process").tag(config=True)
    notebook_timeout = Float(600.0, help="seconds for the whole notebook in the student process").tag(config=True)
    memory_mb = Int(3072, help="memory cap of the student process (MiB of RLIMIT_DATA)").tag(config=True)

    def preprocess(self, nb, resources):
        from autograder.engine import grade_notebook
        from autograder.sandbox.limits import Limits

        limits = Limits(cell_timeout=self.cell_timeout, notebook_timeout=self.notebook_timeout,
                        memory_mb=self.memory_mb)
        with tempfile.TemporaryDirectory(prefix="regnorm-nbgrader-") as tmp:
            name = os.path.basename(resources.get("metadata", {}).get("name", "") or "submission") + ".ipynb"
            path = os.path.join(tmp, name)
            nbformat.write(nb, path)
            result = grade_notebook(path, limits=limits, hidden=True)
        if result.error:
            self.log.error("regnorm: %s could not be graded: %s", name, result.error)
        for cell in nb.cells:
            if cell.get("cell_type") == "code":
                cell.outputs = []
                cell.execution_count = None
            if _is_autograded_test_cell(cell):
                cell.outputs = cell_outputs(result, test_cell_exercises(cell.source))
        return nb, resources
