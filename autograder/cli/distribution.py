"""Commands that distribute the course: ``student-bundle``, ``gradescope-bundle``, ``gradescope-run``."""

from __future__ import annotations

import os
import sys

from autograder.cli import Exit
from autograder.cli.options import add_limit_args, limits_from_args


def cmd_student_bundle(args) -> int:
    from autograder.bundles import build_student_bundle, find_leaks, released_assignments

    selected = args.assignments or released_assignments()
    try:
        files = build_student_bundle(args.out_dir, selected)
    except (FileExistsError, KeyError) as exc:
        print(f"autograder: {exc.args[0]}", file=sys.stderr)
        return Exit.USAGE
    print(f"wrote {len(files)} files to {args.out_dir} ({', '.join(selected)})")
    leaks = find_leaks(args.out_dir, selected)
    if leaks:
        print(f"autograder: the bundle in {args.out_dir} gives away {len(leaks)} thing(s); do not publish it:",
              file=sys.stderr)
        for leak in leaks:
            print("  " + leak, file=sys.stderr)
        return Exit.LEAK
    return Exit.OK


def cmd_gradescope_bundle(args) -> int:
    from autograder.bundles import build_gradescope_bundle

    try:
        names = build_gradescope_bundle(args.out_zip, args.assignment)
    except KeyError as exc:
        print(f"autograder: {exc.args[0]}", file=sys.stderr)
        return Exit.USAGE
    print(f"wrote {args.out_zip} ({len(names)} files)")
    return Exit.OK


def cmd_gradescope_run(args) -> int:
    from autograder.bundles import gradescope_run

    return gradescope_run(args.root, args.assignment or None, limits_from_args(args))


def register(sub) -> None:
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
