"""Grade one notebook: run it in a student process, then judge it with the assignment's checks."""

from __future__ import annotations

import functools
import json
import os
import time

from autograder import checks as checks_mod
from autograder.notebooks import NotebookError, cells_to_run, detect_assignment, notebook_namespace, read_notebook
from autograder.results import CellError, CheckResult, NotebookResult
from autograder.sandbox.limits import Limits
from autograder.sandbox.process import StudentDied, StudentProcess
from autograder.student import RemoteStudent
from autograder.suites import golden_path, load_goldens, load_suite


def _run_cells(proc: StudentProcess, cells, limits: Limits, result: NotebookResult) -> None:
    """Execute the notebook's cells in order; errors are recorded and execution goes on."""
    budget_end = time.monotonic() + limits.notebook_timeout
    for cell in cells:
        remaining = budget_end - time.monotonic()
        if remaining <= 0:
            result.notes.append(f"the notebook time limit ({limits.notebook_timeout:.0f} s) was reached; "
                                f"cells from #{cell.index} on were not run")
            return
        timeout = min(limits.cell_timeout, remaining)
        try:
            reply = proc.run_cell(cell.index, cell.source, timeout)
        except StudentDied as exc:
            result.cell_errors.append(CellError(cell.index, "ProcessDied", f"the student process {exc}"))
            result.notes.append(f"cell #{cell.index}: the student process {exc}; later checks cannot run")
            return
        if reply.get("timed_out"):
            result.notes.append(f"cell #{cell.index} was interrupted after {timeout:.0f} s (time limit)")
        if not reply.get("ok"):
            err = reply.get("error") or {}
            result.cell_errors.append(CellError(cell.index, str(err.get("type", "Error")),
                                                str(err.get("message", ""))[:500], str(err.get("traceback", ""))))


def _one_thread() -> None:
    """The grader computes with one thread too (DESIGN.md §3: thread count changes float results)."""
    import torch

    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)


def died_result(check: checks_mod.Check, reason: str) -> CheckResult:
    return CheckResult(check.name, check.group, check.title, check.points, 0.0, "died", check.hidden,
                       f"the student process {reason}; this check could not run.")


def grade_notebook(path: str, limits: Limits | None = None, hidden: bool = True,
                   assignment: str | None = None, zygote=None) -> NotebookResult:
    """Grade the notebook at ``path``. Never raises for anything the submission does.

    ``zygote``: a :class:`~autograder.sandbox.zygote.Zygote` to fork the student process from
    (fast when grading many notebooks); None starts a fresh Python.
    """
    limits = limits or Limits()
    started = time.monotonic()
    result = NotebookResult(path=path, assignment=assignment)
    try:
        nb = read_notebook(path)
    except NotebookError as exc:
        result.error = str(exc)
        result.assignment = assignment
        return result
    result.assignment = assignment or detect_assignment(nb, path)
    if result.assignment is None:
        result.error = ("cannot tell which assignment this notebook is (no regnorm metadata and an "
                        "unrecognised file name); pass --assignment")
        return result

    proc = StudentProcess(limits, zygote).start()  # starts importing torch while we load the checks
    if proc.warning:
        result.notes.append(proc.warning)
    try:
        suite = load_suite(result.assignment, hidden=hidden)
        _one_thread()
        goldens = load_goldens(result.assignment, hidden=False)
        if hidden:
            goldens.update(load_goldens(result.assignment, hidden=True))
        selected = [c for c in suite.checks if hidden or not c.hidden]
        try:
            proc.wait_ready()
        except StudentDied as exc:
            result.notes.append(f"the student process could not start: {exc}")
            result.checks = [died_result(c, str(exc)) for c in selected]
            return result
        recorded_with = load_goldens(result.assignment, hidden=False, key="torch")
        if proc.torch_version and proc.torch_version != recorded_with:
            result.notes.append(f"reference values were recorded with torch {recorded_with} and this grading "
                                f"runs torch {proc.torch_version}: results are compared within tolerances, but "
                                f"re-record them (`autograder goldens`) for the torch you grade with")
        _run_cells(proc, cells_to_run(nb), limits, result)
        student = RemoteStudent(proc, limits.call_timeout)
        for check in selected:
            if proc.dead_reason:
                result.checks.append(died_result(check, proc.dead_reason))
                continue
            result.checks.append(checks_mod.run_check(check, student, goldens.get(check.name)))
    finally:
        proc.close()
        result.duration_s = round(time.monotonic() - started, 3)
    return result


def record_goldens(assignment: str, solution_path: str, limits: Limits | None = None) -> dict[bool, dict]:
    """Run the solution notebook and record every check's reference (and mistake) values.

    Returns ``{False: visible_goldens, True: hidden_goldens}``; raises if the solution fails.
    """
    import torch

    suite = load_suite(assignment, hidden=True, mistakes=True)
    nb = read_notebook(solution_path)
    out: dict[bool, dict] = {False: {}, True: {}}
    limits = limits or Limits()
    with StudentProcess(limits) as proc:
        proc.wait_ready()
        probe = NotebookResult(solution_path, assignment)
        _run_cells(proc, cells_to_run(nb), limits, probe)
        if probe.cell_errors:
            first = probe.cell_errors[0]
            raise RuntimeError(f"the solution notebook failed in cell #{first.index}: {first.message}")
        student = RemoteStudent(proc, limits.call_timeout)

        # Each mistake runs in a fresh namespace of the solution (trusted instructor code, run here)
        # with the mistake swapped in, so the notebook's other functions stay as the solution has them.
        for check in suite.checks:
            out[check.hidden][check.name] = checks_mod.record_check(
                check, student, suite.mistakes_for(check.group), functools.partial(notebook_namespace, solution_path))
    meta = {"assignment": assignment, "torch": torch.__version__,
            "generated_by": "autograder goldens (from the solution notebook)"}
    hidden_points: dict[str, float] = {}
    for check in suite.select(hidden=True):
        hidden_points[check.group] = hidden_points.get(check.group, 0.0) + check.points
    return {False: {**meta, "hidden_points": hidden_points, "checks": out[False]},
            True: {**meta, "checks": out[True]}}


def write_goldens(assignment: str, recorded: dict[bool, dict]) -> list[str]:
    paths = []
    for hidden, data in recorded.items():
        path = golden_path(assignment, hidden)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
            fh.write("\n")
        os.replace(tmp, path)
        paths.append(path)
    return paths
