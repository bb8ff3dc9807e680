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
    results, hidden_points = _results(exercise, hidden, ns)
    earned = round(sum(r.score for r in results), 4)
    if not quiet:
        print(render(exercise, results, hidden, hidden_points))
    return Score(earned)


def _results(exercise: str, hidden: bool, ns: dict) -> tuple[list, float]:
    """The results of ``exercise``'s visible (or hidden) checks on ``ns``, and its hidden points."""
    assignment, suite = _find_assignment(exercise, ns)
    if hidden:
        suite = load_suite(assignment, hidden=True)
    refs = references.load(assignment, hidden=hidden)
    student = LocalStudent(ns)
    results = [run_check(c, student, refs.of(c.name)) for c in suite.select(exercise, hidden=hidden)]
    return results, refs.hidden_points.get(exercise, 0.0)


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


# ---------------------------------------------------------------------------------- from a terminal
def run_file(path: str, exercises: list[str] | None = None, cell_timeout: float = 300.0, verbose: bool = False,
             out=None) -> int:
    """``autograder selfcheck NN_name.py`` (or ``.ipynb``): the self-check from a terminal.

    Runs the cells the grader runs (not the ``skip-when-grading`` training and plot cells, not the test
    cells) in this process, in the file's folder, like a kernel would; a cell that raises is reported in
    one line and the next one runs. Then runs the visible checks of every exercise (or ``exercises``)
    on what the cells defined and prints what the notebook's self-check cells print. Returns an exit
    status: 0 every visible check passed, 1 some did not, 3 the file cannot be read.
    """
    import contextlib
    import io

    from autograder.notebooks import NotebookError, cells_to_run, detect_assignment, read_submission
    from autograder.student import _alarm

    out = out or sys.stdout
    try:
        submission = read_submission(path)
    except NotebookError as exc:
        print(f"{path}: cannot self-check: {exc}", file=out)
        return 3
    assignment = detect_assignment(submission.nb, path)
    if assignment is None:
        print(f"{path}: cannot tell which assignment this is (no regnorm metadata and an unrecognised file name); "
              f"name the file NN_name.py, e.g. 05_dropout.py", file=out)
        return 3
    suite = load_suite(assignment, hidden=False)
    wanted = exercises or suite.exercises()
    unknown = [e for e in wanted if e not in suite.exercises()]
    if unknown:
        print(f"{path}: no exercise {', '.join(unknown)} in {assignment}; known: {', '.join(suite.exercises())}",
              file=out)
        return 2
    for note in submission.notes:
        print(f"note: {note}", file=out)
    ns: dict = {"__name__": "__main__", "__file__": os.path.abspath(path), "REGNORM_ASSIGNMENT": assignment}
    cwd = os.getcwd()
    folder = os.path.dirname(os.path.abspath(path))
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)  # the file's own helper modules import as in a kernel started there
    try:
        os.chdir(folder)
        for cell in cells_to_run(submission.nb):
            sink = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
            try:
                with sink, _alarm(cell_timeout):
                    exec(compile(cell.source, f"<cell {cell.index}>", "exec"), ns)
            except BaseException as exc:  # noqa: BLE001 - the student's cell: report it and go on, like the grader
                if isinstance(exc, KeyboardInterrupt):
                    raise
                first = str(exc).splitlines()[0] if str(exc) else ""
                print(f"cell #{cell.index} raised {type(exc).__name__}: {first}"[:300], file=out)
        earned = total = 0.0
        passed = True
        for exercise in wanted:
            results, hidden_points = _results(exercise, False, ns)
            print(render(exercise, results, False, hidden_points) + "\n", file=out)
            earned += sum(r.score for r in results)
            total += sum(r.points for r in results)
            passed = passed and all(r.passed for r in results)
    finally:
        os.chdir(cwd)
        if added and folder in sys.path:
            sys.path.remove(folder)
    from autograder import paths

    grade_here = os.path.exists(paths.references_file(assignment, hidden=True))  # the course repository, not a bundle
    print(f"{assignment}: visible checks {earned:g}/{total:g} points (hidden checks run when you hand it in"
          + (f"; `autograder grade {os.path.basename(path)}` shows the grade you would get)" if grade_here else ")"),
          file=out)
    return 0 if passed else 1


def main(argv: list[str] | None = None) -> int:
    """``python -m autograder.selfcheck PATH [EXERCISE...]``: :func:`run_file` (also ``autograder selfcheck``).
    Exit statuses as the README's table (0, 1 a visible check did not pass, 2 usage, 3 unreadable file);
    plain numbers, because a student bundle has no :mod:`autograder.cli`."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m autograder.selfcheck",
                                     description="a notebook's or .py script's self-check in a terminal (visible checks)")
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run_file(args.path, args.exercises or None, cell_timeout=args.cell_timeout, verbose=args.verbose)


def add_arguments(parser) -> None:
    parser.add_argument("path", metavar="PATH", help="NN_name.py (jupytext percent format) or NN_name.ipynb")
    parser.add_argument("exercises", nargs="*", metavar="EXERCISE", help="only these exercises (default: all)")
    parser.add_argument("--cell-timeout", type=float, default=300.0, metavar="S",
                        help="seconds per cell (default 300)")
    parser.add_argument("--verbose", "-v", action="store_true", help="show what the cells print")


if __name__ == "__main__":
    sys.exit(main())
