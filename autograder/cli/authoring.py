"""Commands that build the course from its sources: ``generate``, ``references``, ``list``."""

from __future__ import annotations

import os

from autograder.cli import Exit


def cmd_references(args) -> int:
    from autograder import paths, references
    from autograder.suites import ASSIGNMENTS

    for assignment in args.assignments or ASSIGNMENTS:
        solution = os.path.join(args.solutions, assignment, f"{assignment}.ipynb") if args.solutions else \
            paths.solution_notebook(assignment)
        for path in references.write(assignment, references.record(assignment, solution)):
            print(f"wrote {os.path.relpath(path)}")
    return Exit.OK


def cmd_generate(args) -> int:
    from autograder.generate import generate_assignments

    for path in generate_assignments(args.assignments or None, check=args.check):
        print(("up to date: " if args.check else "wrote ") + os.path.relpath(path))
    return Exit.OK


def cmd_list(args) -> int:
    from autograder.locked_cells import manual_points
    from autograder.suites import ASSIGNMENTS, load_suite

    for a in ASSIGNMENTS:
        suite = load_suite(a, hidden=True)
        manual = manual_points(a)
        by_hand = f", + {manual:g} points of written answers graded by hand" if manual else ""
        print(f"{a}: {suite.points():g} points ({suite.points(hidden=False):g} visible, "
              f"{suite.points(hidden=True):g} hidden), {len(suite.checks)} checks{by_hand}")
        for g in suite.exercises():
            print(f"  {g}: {suite.points(g):g} points")
    return Exit.OK


def register(sub) -> None:
    gen = sub.add_parser("generate", help="solution notebooks from their .py sources (jupytext), then student "
                                          "notebooks from the solutions (nbgrader)")
    gen.add_argument("assignments", nargs="*")
    gen.add_argument("--check", action="store_true", help="fail if the committed notebooks are out of date")
    gen.set_defaults(func=cmd_generate)

    r = sub.add_parser("references", help="record the checks' reference values from the solution notebooks")
    r.add_argument("assignments", nargs="*")
    r.add_argument("--solutions", metavar="DIR", help="a folder of solution notebooks (default: solutions/)")
    r.set_defaults(func=cmd_references)

    ls = sub.add_parser("list", help="list assignments, checks and points")
    ls.set_defaults(func=cmd_list)
