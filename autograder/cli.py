"""Command line: ``autograder grade``, ``goldens``, ``generate``, ``list``.

Exit status of ``grade`` (documented in the README):

- 0: every notebook was graded (whatever the score);
- 1: grading ran but the total is below ``--fail-under``;
- 2: bad command line;
- 3: at least one notebook could not be graded (not a notebook, unknown assignment);
- 4: the grader itself failed (a bug: please report it).
"""

from __future__ import annotations

import argparse
import os
import sys

from autograder.cli_args import add_grading_args, limits_from_args

EXIT_OK, EXIT_BELOW, EXIT_USAGE, EXIT_NOT_GRADED, EXIT_INTERNAL = 0, 1, 2, 3, 4
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def find_notebooks(paths: list[str]) -> list[str]:
    """Expand folders to the notebooks inside them (sorted, checkpoints skipped)."""
    found: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found += [os.path.join(root, f) for f in sorted(files) if f.endswith(".ipynb")]
        else:
            found.append(p)
    return found


def cmd_grade(args) -> int:
    from autograder.engine import grade_notebook
    from autograder.reports import RENDERERS, write_atomic
    from autograder.results import GradingRun

    notebooks = find_notebooks(args.paths)
    if not notebooks:
        print("autograder: no notebooks found in " + ", ".join(args.paths), file=sys.stderr)
        return EXIT_NOT_GRADED
    run = GradingRun()
    limits = limits_from_args(args)
    zygote = None
    if len(notebooks) > 1 and not args.no_fork_server:
        from autograder.sandbox.zygote import shared_zygote

        zygote = shared_zygote()  # import torch once, fork one student process per notebook
    for path in notebooks:
        if not os.path.exists(path):
            from autograder.results import NotebookResult

            run.notebooks.append(NotebookResult(path, args.assignment, error="no such file"))
            continue
        run.notebooks.append(grade_notebook(path, limits, hidden=not args.no_hidden, assignment=args.assignment,
                                            zygote=zygote))
    text = RENDERERS[args.format](run)
    if args.output:
        write_atomic(args.output, text)
        if args.format != "table":
            sys.stdout.write(RENDERERS["table"](run))
    else:
        sys.stdout.write(text)
    if run.failed_to_grade:
        return EXIT_NOT_GRADED
    if args.fail_under is not None and run.score < args.fail_under:
        return EXIT_BELOW
    return EXIT_OK


def cmd_goldens(args) -> int:
    from autograder.engine import record_goldens, write_goldens
    from autograder.suites import ASSIGNMENTS

    for assignment in args.assignments or ASSIGNMENTS:
        solution = os.path.join(args.solutions, assignment, f"{assignment}.ipynb")
        recorded = record_goldens(assignment, solution)
        for path in write_goldens(assignment, recorded):
            print(f"wrote {os.path.relpath(path)}")
    return EXIT_OK


def cmd_generate(args) -> int:
    from autograder.generate import generate_assignments

    for path in generate_assignments(args.assignments or None, check=args.check):
        print(("up to date: " if args.check else "wrote ") + os.path.relpath(path))
    return EXIT_OK


def cmd_list(args) -> int:
    from autograder.suites import ASSIGNMENTS, load_suite

    for a in ASSIGNMENTS:
        suite = load_suite(a, hidden=True)
        print(f"{a}: {suite.points():g} points ({suite.points(hidden=False):g} visible, "
              f"{suite.points(hidden=True):g} hidden), {len(suite.checks)} checks")
        for g in suite.groups():
            print(f"  {g}: {suite.points(g):g} points")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograder", description="regnorm-lab's grader")
    sub = parser.add_subparsers(dest="command", required=True)

    g = sub.add_parser("grade", help="grade notebooks (a file or a folder of them)")
    g.add_argument("paths", nargs="+", metavar="PATH")
    g.add_argument("--format", choices=("table", "json", "gradescope", "junit"), default="table")
    g.add_argument("--output", "-o", metavar="FILE", help="write the report here (atomically)")
    g.add_argument("--assignment", help="grade as this assignment (default: from metadata / file name)")
    g.add_argument("--fail-under", type=float, metavar="POINTS", help="exit 1 if the total is below POINTS")
    add_grading_args(g)
    g.set_defaults(func=cmd_grade)

    gl = sub.add_parser("goldens", help="record reference values from the solution notebooks")
    gl.add_argument("assignments", nargs="*")
    gl.add_argument("--solutions", default=os.path.join(REPO_ROOT, "solutions"))
    gl.set_defaults(func=cmd_goldens)

    gen = sub.add_parser("generate", help="solution notebooks from their .py sources (jupytext), then student "
                                            "notebooks from the solutions (nbgrader)")
    gen.add_argument("assignments", nargs="*")
    gen.add_argument("--check", action="store_true", help="fail if the committed notebooks are out of date")
    gen.set_defaults(func=cmd_generate)

    ls = sub.add_parser("list", help="list assignments, checks and points")
    ls.set_defaults(func=cmd_list)

    from autograder.instructor_cli import register_instructor_commands

    register_instructor_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001
        import traceback

        traceback.print_exc()
        print(f"autograder: internal error: {exc}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
