"""Commands that grade a class: ``grade-batch`` (parallel, shardable) and ``merge-scores`` (join shards)."""

from __future__ import annotations

import dataclasses
import os
import sys

from autograder.cli import Exit
from autograder.cli.options import add_grading_args, limits_from_args


def cmd_grade_batch(args) -> int:
    from autograder import batch

    if not os.path.isdir(args.directory):
        print(f"autograder: {args.directory} is not a folder", file=sys.stderr)
        return Exit.USAGE
    layout, jobs = batch.discover(args.directory)
    if args.assignment:
        jobs = [dataclasses.replace(j, assignment=args.assignment) for j in jobs]
    found = len(jobs)
    try:
        jobs = batch.shard(jobs, args.shard)
    except ValueError as exc:
        print(f"autograder: {exc}", file=sys.stderr)
        return Exit.USAGE
    if not found:
        print(f"autograder: no notebooks found in {args.directory}", file=sys.stderr)
        return Exit.NOT_GRADED
    if not jobs:  # more shards than notebooks: this shard's part is empty, and that is not an error
        print(f"shard {args.shard} has none of the {found} notebook(s) in {args.directory}", file=sys.stderr)
        if args.output:
            batch.write_rows([], args.output)
        return Exit.OK
    feedback_dir = None
    if args.output and not args.no_feedback:
        feedback_dir = os.path.join(os.path.dirname(os.path.abspath(args.output)), batch.FEEDBACK_DIR)
    print(f"grading {len(jobs)} notebook(s) ({layout} layout) with {args.jobs} worker(s)", file=sys.stderr)
    rows = batch.sort_rows(batch.grade_batch(jobs, args.jobs, limits_from_args(args), hidden=not args.no_hidden,
                                             fork_server=not args.no_fork_server, feedback_dir=feedback_dir,
                                             hidden_feedback=not args.no_hidden_feedback))
    if args.output:
        batch.write_rows(rows, args.output)
        print(f"wrote {args.output}" + (f" and feedback files in {feedback_dir}" if feedback_dir else ""),
              file=sys.stderr)
    sys.stdout.write(batch.summary(rows))
    return Exit.NOT_GRADED if any(r.error for r in rows) else Exit.OK


def cmd_merge_scores(args) -> int:
    from autograder import batch

    n = batch.merge(args.files, args.output)
    print(f"wrote {args.output} ({n} rows; feedback files in "
          f"{os.path.join(os.path.dirname(args.output) or '.', batch.FEEDBACK_DIR)})")
    return Exit.OK


def register(sub) -> None:
    b = sub.add_parser("grade-batch", help="grade a folder of submissions in parallel (flat or nbgrader layout)")
    b.add_argument("directory", metavar="DIR", help="a folder of notebooks, or an nbgrader course / submitted/ folder")
    b.add_argument("--jobs", "-j", type=int, default=max(1, (os.cpu_count() or 2) // 2), metavar="N",
                   help="parallel workers (default: half the CPUs)")
    b.add_argument("--output", "-o", metavar="FILE",
                   help="scores file: .csv (default) or .json; feedback/<student>/<assignment>.md are written beside it")
    b.add_argument("--no-feedback", action="store_true", help="write the scores file only, no feedback files")
    b.add_argument("--no-hidden-feedback", action="store_true",
                   help="feedback files give hidden checks' points and status but not their feedback")
    b.add_argument("--assignment", help="grade every notebook as this assignment")
    b.add_argument("--shard", metavar="K/N", help="grade only submissions K, K+N, ... (K from 0) of the sorted list")
    add_grading_args(b)
    b.set_defaults(func=cmd_grade_batch)

    m = sub.add_parser("merge-scores", help="join the score files of several shards (and copy their feedback files)")
    m.add_argument("files", nargs="+", metavar="FILE")
    m.add_argument("--output", "-o", required=True, metavar="FILE")
    m.set_defaults(func=cmd_merge_scores)
