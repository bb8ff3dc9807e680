"""Grade one notebook: read it, start a student process, run its cells there, run the checks, score.

The pipeline, in :func:`grade_notebook`'s order:

1. read the notebook and tell its assignment (:mod:`autograder.notebooks`);
2. start the student process (:mod:`autograder.sandbox`) — it imports torch while the grader loads the
   checks (:mod:`autograder.suites`) and their references (:mod:`autograder.references`);
3. run the notebook's cells in it (:func:`run_cells`), within the time limits;
4. run every check against the student's functions through the proxy (:func:`autograder.checks.run_check`);
5. the score is the sum of the checks' scores (:class:`autograder.results.NotebookResult`).
"""

from __future__ import annotations

import time

from autograder import no_compile, references
from autograder.checks import run_check
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
    stub_cell_raised,
)
from autograder.results import CellError, NotebookResult, Status, died
from autograder.sandbox.limits import Limits
from autograder.sandbox.process import SandboxUnavailable, StudentDied, StudentProcess
from autograder.student import RemoteStudent
from autograder.suites import assignment_from_filename, load_suite


def grade_notebook(path: str, limits: Limits | None = None, hidden: bool = True,
                   assignment: str | None = None, zygote=None) -> NotebookResult:
    """Grade the notebook at ``path``. Never raises for anything the submission does.

    ``zygote``: a :class:`~autograder.sandbox.zygote.Zygote` to fork the student process from
    (fast when grading many notebooks); None starts a fresh Python.
    """
    limits = limits or Limits()
    started = time.monotonic()
    result = NotebookResult(path=path, assignment=assignment)
    nb = _read(path, result)
    if nb is None:
        return result
    release = release_of(result.assignment)
    result.notes += structure_notes(nb, release)
    result.notes += restore_locked_cells(nb, result.assignment, release)
    result.manual_points = manual_points(result.assignment, release)
    try:
        proc = StudentProcess(limits, zygote).start()  # imports torch while we load the checks
    except SandboxUnavailable as exc:  # DESIGN.md §1: no sandbox, no user drop, not trusted: refuse
        result.error = str(exc)
        return result
    if proc.warning:  # a weaker isolation than the sandbox: every report says so
        result.notes.append(proc.warning)
    try:
        suite = load_suite(result.assignment, hidden=hidden)
        refs = references.load(result.assignment, hidden=hidden)
        checks = [c for c in suite.checks if hidden or not c.hidden]
        _one_thread()
        if no_compile.GRADER_OPT_IN:
            no_compile.install()
        _preload(suite.preload)
        if not _ready(proc, refs, result):
            result.checks = [died(c, proc.dead_reason) for c in checks]
            return result
        run_cells(proc, cells_to_run(nb), limits, result)
        student = RemoteStudent(proc, limits.call_timeout, budget_s=limits.checks_timeout)
        result.checks = [died(c, proc.dead_reason) if proc.dead_reason else run_check(c, student, refs.of(c.name))
                         for c in checks]
        _explain_missing(nb, release, result)
    finally:
        proc.close()
        result.duration_s = round(time.monotonic() - started, 3)
    return result


def _read(path: str, result: NotebookResult) -> dict | None:
    """The notebook, with ``result.assignment`` set; None (and ``result.error``, one line) if it cannot be
    graded (docs/BAD_INPUT.md)."""
    try:
        submission = read_submission(path)
    except NotebookError as exc:
        result.error = str(exc)
        return None
    nb = submission.nb
    result.notes += submission.notes
    problem = gradable_problem(nb)
    if problem:
        result.error = problem
        return None
    declared = declared_assignment(nb)
    if result.assignment and declared and declared != result.assignment:
        result.error = (f"this is a notebook of {declared} (its metadata says so), not of {result.assignment}: "
                        f"submit the {result.assignment} notebook, or grade this one as {declared}")
        return None
    result.assignment = result.assignment or detect_assignment(nb, path)
    if result.assignment is None:
        result.error = ("cannot tell which assignment this notebook is (no regnorm metadata and an "
                        "unrecognised file name); pass --assignment")
        return None
    named = assignment_from_filename(path)
    if declared and named and named != declared:
        result.notes.append(f"the file name suggests {named}, but the notebook is {declared} (its metadata): "
                            f"graded as {declared}")
    return nb


def _explain_missing(nb: dict, release: dict | None, result: NotebookResult) -> None:
    """A check that found its function undefined says why, where the notebook shows it (cell deleted, raised)."""
    for c in result.checks:
        if c.status == Status.MISSING:
            if stub_cell_raised(nb, c.exercise, result.cell_errors):  # a whole-cell stub, still untouched
                c.status = Status.NOT_IMPLEMENTED
                c.feedback = (f"`{c.exercise}` is not implemented yet: its cell still raises NotImplementedError, so "
                              f"it defines nothing (write the code the cell asks for in place of the raise).")
                continue
            why = missing_feedback(nb, release, c.exercise, result.cell_errors)
            if why and why not in c.feedback:
                c.feedback = (c.feedback + "\n" + why) if c.feedback else why


def _ready(proc: StudentProcess, refs: references.References, result: NotebookResult) -> bool:
    """Wait for the student process; note a torch other than the references were recorded with."""
    try:
        proc.wait_ready()
    except StudentDied as exc:
        result.notes.append(f"the student process could not start: {exc}")
        proc.dead_reason = proc.dead_reason or str(exc)
        return False
    if proc.torch_version and refs.torch and proc.torch_version != refs.torch:
        result.notes.append(f"reference values were recorded with torch {refs.torch} and this grading runs torch "
                            f"{proc.torch_version}: results are compared within tolerances, but re-record them "
                            f"(`autograder references`) for the torch you grade with")
    return True


def run_cells(proc: StudentProcess, cells, limits: Limits, result: NotebookResult) -> None:
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


def _preload(modules: tuple[str, ...]) -> None:
    """Import ``modules`` in a background thread: the grader is idle while the student's process starts."""
    if modules:
        import importlib
        import threading

        threading.Thread(target=lambda: [importlib.import_module(m) for m in modules], daemon=True,
                         name="regnorm-preload").start()


def _one_thread() -> None:
    """The grader computes with one thread too (DESIGN.md §3: thread count changes float results)."""
    import torch

    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)
