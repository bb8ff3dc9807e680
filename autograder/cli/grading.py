"""Commands that grade one submission: ``grade`` and ``check-report`` (a class: :mod:`autograder.cli.batch`)."""

from __future__ import annotations

import sys

from autograder.cli import Exit
from autograder.cli.options import add_grading_args, limits_from_args
from autograder.results import Status, mark


def cmd_grade(args) -> int:
    from autograder import no_compile
    from autograder.engine import grade_notebook
    from autograder.notebooks import find_submissions
    from autograder.references import HiddenChecksUnavailable
    from autograder.reports import RENDERERS, write_atomic
    from autograder.results import GradingRun, NotebookResult

    found = find_submissions(args.paths)
    no_compile.GRADER_OPT_IN = True  # this process only grades: no torch.compile (autograder.no_compile)
    run = GradingRun()
    grader_failed = False
    limits = limits_from_args(args)
    zygote = None
    if sum(f.error is None for f in found) > 1 and not args.no_fork_server:
        from autograder.sandbox.zygote import shared_zygote

        zygote = shared_zygote()  # import torch once, fork one student process per notebook
    for entry in found:
        if entry.error:  # a folder with nothing to grade: one line in the report, the others are graded
            run.notebooks.append(NotebookResult(entry.path, args.assignment, error=entry.error))
            continue
        try:
            result = grade_notebook(entry.path, limits, hidden=not args.no_hidden, assignment=args.assignment,
                                    zygote=zygote)
        except HiddenChecksUnavailable as exc:  # a student bundle: not a bug, say what to do
            result = NotebookResult(entry.path, args.assignment, error=f"{exc}; grade with --no-hidden for the "
                                                                       f"visible checks only")
        except Exception as exc:  # noqa: BLE001 - a grader bug costs this notebook only, never the others
            result = NotebookResult(entry.path, args.assignment, error=f"grader error (a bug, please report it): "
                                                                       f"{type(exc).__name__}: {exc}"[:500])
            grader_failed = True
        if result.error:  # one line in every report format
            result.error = " ".join(result.error.split())
        run.notebooks.append(result)
    text = RENDERERS[args.format](run)
    if args.output:
        write_atomic(args.output, text)
        if args.format != "table":
            sys.stdout.write(RENDERERS["table"](run))
    else:
        sys.stdout.write(text)
    if grader_failed:
        return Exit.INTERNAL
    if run.failed_to_grade:
        return Exit.NOT_GRADED
    if args.fail_under is not None and run.score < args.fail_under:
        return Exit.NOT_PASSED
    return Exit.OK


def cmd_check_report(args) -> int:
    """Exit 0 iff every check of GROUP passed in a ``--format json`` report (one CI step per group)."""
    import json

    try:
        with open(args.report, encoding="utf-8") as fh:
            report = json.load(fh)
        notebooks = report["notebooks"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"no grading report ({exc}); see the grading step's log")
        return Exit.NOT_PASSED
    checks = []
    for nb in notebooks:
        if nb.get("error"):
            print(f"{nb.get('path')}: could not be graded: {nb['error']}")
        if args.assignment and nb.get("assignment") != args.assignment:
            continue
        checks += [c for c in nb.get("checks", []) if c.get("exercise") == args.exercise]
    if not checks:
        print(f"no checks of {args.exercise!r} in {args.report}")
        return Exit.NOT_PASSED
    score, points = sum(c["score"] for c in checks), sum(c["points"] for c in checks)
    print(f"{args.exercise}: {score:g}/{points:g} points")
    for c in checks:
        print(f"  [{mark(c['status'])}] {c['title']} ({c['score']:g}/{c['points']:g})" + (" [hidden]" if c.get("hidden") else ""))
        for line in (c.get("feedback") or "").splitlines():
            print("      " + line)
    return Exit.OK if all(c["status"] == Status.PASSED for c in checks) else Exit.NOT_PASSED


def cmd_selfcheck(args) -> int:
    """Run a submission's cells here and print its visible checks (docs/STUDENTS-PY.md)."""
    from autograder.selfcheck import run_file

    return run_file(args.path, args.exercises or None, cell_timeout=args.cell_timeout, verbose=args.verbose)


def register(sub) -> None:
    g = sub.add_parser("grade", help="grade notebooks or .py percent-format scripts (files or folders of them)")
    g.add_argument("paths", nargs="+", metavar="PATH")
    from autograder.reports import RENDERERS

    g.add_argument("--format", choices=tuple(RENDERERS), default="table")
    g.add_argument("--output", "-o", metavar="FILE", help="write the report here (atomically)")
    g.add_argument("--assignment", help="grade as this assignment (default: from metadata / file name)")
    g.add_argument("--fail-under", type=float, metavar="POINTS", help="exit 1 if the total is below POINTS")
    add_grading_args(g)
    g.set_defaults(func=cmd_grade)

    s = sub.add_parser("selfcheck", help="a notebook's or .py script's self-check in a terminal (visible checks)")
    from autograder.selfcheck import add_arguments

    add_arguments(s)
    s.set_defaults(func=cmd_selfcheck)

    c = sub.add_parser("check-report", help="exit 0 iff every check of GROUP passed in a JSON report (CI steps)")
    c.add_argument("report", metavar="REPORT.json", help="written by `autograder grade --format json --output`")
    c.add_argument("exercise", metavar="EXERCISE", help="an exercise (its checks), e.g. split_data (`autograder list`)")
    c.add_argument("--assignment", help="only this assignment's notebooks")
    c.set_defaults(func=cmd_check_report)

