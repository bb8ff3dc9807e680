"""Instructor commands (batch grading, Gradescope bundle, student bundle), registered on the main CLI.

See docs/INSTRUCTORS.md for the workflow.
"""

from __future__ import annotations

import os
import sys

from autograder.cli_args import add_grading_args, add_limit_args, limits_from_args

EXIT_OK, EXIT_LEAK, EXIT_USAGE, EXIT_NOT_GRADED = 0, 1, 2, 3


def cmd_grade_batch(args) -> int:
    from autograder import batch

    if not os.path.isdir(args.directory):
        print(f"autograder: {args.directory} is not a folder", file=sys.stderr)
        return EXIT_USAGE
    layout, jobs = batch.discover(args.directory)
    if args.assignment:
        jobs = [batch.Job(j.student, args.assignment, j.notebook) for j in jobs]
    try:
        jobs = batch.shard(jobs, args.shard)
    except ValueError as exc:
        print(f"autograder: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not jobs:
        print(f"autograder: no notebooks found in {args.directory}", file=sys.stderr)
        return EXIT_NOT_GRADED
    print(f"grading {len(jobs)} notebook(s) ({layout} layout) with {args.jobs} worker(s)", file=sys.stderr)
    rows = batch.grade_batch(jobs, args.jobs, limits_from_args(args), hidden=not args.no_hidden,
                             fork_server=not args.no_fork_server)
    if args.output:
        batch.write_rows(rows, args.output)
        print(f"wrote {args.output}", file=sys.stderr)
    sys.stdout.write(batch.summary(rows))
    return EXIT_NOT_GRADED if any(r.error for r in rows) else EXIT_OK


def cmd_merge_scores(args) -> int:
    from autograder import batch

    n = batch.merge(args.files, args.output)
    print(f"wrote {args.output} ({n} rows)")
    return EXIT_OK


def cmd_check_report(args) -> int:
    """Exit 0 iff every check of GROUP passed in a ``--format json`` report (one CI step per group)."""
    import json

    try:
        with open(args.report, encoding="utf-8") as fh:
            report = json.load(fh)
        notebooks = report["notebooks"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"no grading report ({exc}); see the grading step's log")
        return 1
    checks = []
    for nb in notebooks:
        if nb.get("error"):
            print(f"{nb.get('path')}: could not be graded: {nb['error']}")
        if args.assignment and nb.get("assignment") != args.assignment:
            continue
        checks += [c for c in nb.get("checks", []) if c.get("group") == args.group]
    if not checks:
        print(f"no checks of {args.group!r} in {args.report}")
        return 1
    score, points = sum(c["score"] for c in checks), sum(c["points"] for c in checks)
    print(f"{args.group}: {score:g}/{points:g} points")
    for c in checks:
        mark = {"passed": "PASS", "partial": "PART"}.get(c["status"], "FAIL")
        print(f"  [{mark}] {c['title']} ({c['score']:g}/{c['points']:g})" + (" [hidden]" if c.get("hidden") else ""))
        for line in (c.get("feedback") or "").splitlines():
            print("      " + line)
    return 0 if all(c["status"] == "passed" for c in checks) else 1


def cmd_student_bundle(args) -> int:
    from autograder.bundles import build_student_bundle, find_leaks, released_assignments

    selected = args.assignments or released_assignments()
    try:
        files = build_student_bundle(args.out_dir, selected)
    except (FileExistsError, KeyError) as exc:
        print(f"autograder: {exc.args[0]}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {len(files)} files to {args.out_dir} ({', '.join(selected)})")
    leaks = find_leaks(args.out_dir, selected)
    if leaks:
        print(f"autograder: the bundle in {args.out_dir} gives away {len(leaks)} thing(s); do not publish it:",
              file=sys.stderr)
        for leak in leaks:
            print("  " + leak, file=sys.stderr)
        return EXIT_LEAK
    return EXIT_OK


def cmd_gradescope_bundle(args) -> int:
    from autograder.bundles import build_gradescope_bundle

    try:
        names = build_gradescope_bundle(args.out_zip, args.assignment)
    except KeyError as exc:
        print(f"autograder: {exc.args[0]}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {args.out_zip} ({len(names)} files)")
    return EXIT_OK


def cmd_gradescope_run(args) -> int:
    from autograder.bundles import gradescope_run

    return gradescope_run(args.root, args.assignment or None, limits_from_args(args))


def register_instructor_commands(sub) -> None:
    """Add the instructor subcommands to ``autograder``'s subparsers."""
    b = sub.add_parser("grade-batch", help="grade a folder of submissions in parallel (flat or nbgrader layout)")
    b.add_argument("directory", metavar="DIR", help="a folder of notebooks, or an nbgrader course / submitted/ folder")
    b.add_argument("--jobs", "-j", type=int, default=max(1, (os.cpu_count() or 2) // 2), metavar="N",
                   help="parallel workers (default: half the CPUs)")
    b.add_argument("--output", "-o", metavar="FILE", help="scores file: .csv (default) or .json")
    b.add_argument("--assignment", help="grade every notebook as this assignment")
    b.add_argument("--shard", metavar="K/N", help="grade only submissions K, K+N, ... (K from 0) of the sorted list")
    add_grading_args(b)
    b.set_defaults(func=cmd_grade_batch)

    m = sub.add_parser("merge-scores", help="join the score files of several shards")
    m.add_argument("files", nargs="+", metavar="FILE")
    m.add_argument("--output", "-o", required=True, metavar="FILE")
    m.set_defaults(func=cmd_merge_scores)

    c = sub.add_parser("check-report", help="exit 0 iff every check of GROUP passed in a JSON report (CI steps)")
    c.add_argument("report", metavar="REPORT.json", help="written by `autograder grade --format json --output`")
    c.add_argument("group", metavar="GROUP", help="a group of checks, e.g. split_data (`autograder list`)")
    c.add_argument("--assignment", help="only this assignment's notebooks")
    c.set_defaults(func=cmd_check_report)

    s = sub.add_parser("student-bundle", help="write what students receive (notebooks + visible self-check)")
    s.add_argument("out_dir", metavar="OUT_DIR")
    s.add_argument("--assignments", nargs="+", metavar="NN_name",
                   help="the assignments to release (default: every one with a notebook in assignments/)")
    s.set_defaults(func=cmd_student_bundle)

    g = sub.add_parser("gradescope-bundle", help="write the Gradescope autograder zip")
    g.add_argument("out_zip", metavar="OUT.zip")
    g.add_argument("--assignment", help="grade uploads as this assignment (one Gradescope assignment each)")
    g.set_defaults(func=cmd_gradescope_bundle)

    r = sub.add_parser("gradescope-run", help="(inside Gradescope) grade ROOT/submission into ROOT/results/results.json")
    r.add_argument("--root", default=os.environ.get("GRADESCOPE_ROOT", "/autograder"))
    r.add_argument("--assignment")
    add_limit_args(r)
    r.set_defaults(func=cmd_gradescope_run)
